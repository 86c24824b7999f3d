"""`litreview dedup IN.csv OUT.csv`: output layout, encodings, and every bad-file error."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from litreview.cli import main
from litreview.dedup_cli import bibliographic_authors, read_bibliographic_csv

EXPORT = Path(__file__).parent / "data" / "dedup" / "export.csv"
LATIN_TEXT = (
    "ID,title,author,year,journal\n"
    '1,Étude de la santé des enfants à Montréal,"Müller, Jürgen and Doe, J.",2019,Revue française\n'
    '2,Étude de la santé des enfants à Montréal.,"Müller, J.",2019,Rev Fr\n'
    '3,Another study entirely about something else,"Núñez, A.",2019,Revue française\n'
)


def run_dedup(*arguments: str | Path) -> int:
    return main(["dedup", *(str(argument) for argument in arguments)])


def read_output(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_happy_path_writes_one_row_per_record(tmp_path: Path, capsys) -> None:
    output = tmp_path / "out.csv"
    pairs = tmp_path / "pairs.csv"
    assert run_dedup(EXPORT, output, "--pairs", pairs) == 0
    header = output.read_text(encoding="utf-8").splitlines()[0]
    assert header == "id,file,cluster_id,kept,reason,score"
    rows = read_output(output)
    assert [row["id"] for row in rows] == [
        "a1",
        "a2",
        "a3",
        "b1",
        "b2",
        "b3",
        "c1",
        "c2",
        "d1",
        "d2",
    ]
    by_id = {row["id"]: row for row in rows}
    # same DOI (URL vs bare), and a typo'd title a year later
    assert {by_id[i]["cluster_id"] for i in ("a1", "a2", "a3")} == {"a1"}
    assert by_id["a1"]["kept"] == "true" and by_id["a1"]["reason"] == "kept"
    assert by_id["a2"] == {**by_id["a2"], "kept": "false", "reason": "exact:doi", "score": "1.0000"}
    assert by_id["a3"]["reason"].startswith("fuzzy:title+author+year")
    # erratum, conference abstract and a yearly column with its own DOI each stand alone
    for record_id in ("b1", "b2", "b3", "d1", "d2"):
        assert by_id[record_id] == {
            "id": record_id,
            "file": str(EXPORT),
            "cluster_id": record_id,
            "kept": "true",
            "reason": "unique",
            "score": "",
        }
    assert by_id["c2"]["cluster_id"] == "c1"
    assert "10 records, 3 duplicates, 7 kept" in capsys.readouterr().out
    assert pairs.read_text(encoding="utf-8").splitlines()[0] == (
        "group_id,kept_record,merged_record,matched_record,rule,score"
    )


def test_latin1_file_is_detected(tmp_path: Path) -> None:
    source = tmp_path / "latin.csv"
    source.write_bytes(LATIN_TEXT.encode("latin-1"))
    records, encoding = read_bibliographic_csv(source)
    assert records["title"].iloc[0] == "Étude de la santé des enfants à Montréal"
    assert records["authors"].iloc[0] == "Müller J; Doe J"
    assert encoding != "utf-8"
    output = tmp_path / "out.csv"
    assert run_dedup(source, output) == 0
    assert [row["cluster_id"] for row in read_output(output)] == ["1", "1", "3"]


def test_encoding_can_be_given(tmp_path: Path) -> None:
    source = tmp_path / "latin.csv"
    source.write_bytes(LATIN_TEXT.encode("latin-1"))
    records, encoding = read_bibliographic_csv(source, encoding="latin-1")
    assert encoding == "iso8859-1"
    assert records["journal"].iloc[0] == "Revue française"
    assert run_dedup(source, tmp_path / "out.csv", "--encoding", "latin-1") == 0


def test_column_names_are_case_insensitive_and_booktitle_fills_journal(tmp_path: Path) -> None:
    source = tmp_path / "export.tsv"
    source.write_text(
        "Record_ID\tTITLE\tAuthor\tBookTitle\tDOI\nx1\tA title\tSmith, J.\tCHI 2016\t\n",
        encoding="utf-8",
    )
    records, _ = read_bibliographic_csv(source, delimiter="\t")
    assert records.to_dict("records") == [
        {
            "record_id": "x1",
            "title": "A title",
            "authors": "Smith J",
            "doi": None,
            "first_author": "Smith J",
            "journal": "CHI 2016",
        }
    ]


def test_author_layouts_become_surname_initials() -> None:
    assert bibliographic_authors("Deng, Chaoqun and Ravichandran, T.") == "Deng C; Ravichandran T"
    assert bibliographic_authors("Huang C. Y.Hsiao J. K.Lu Y. Z.") == "Huang C Y; Hsiao J K; Lu Y Z"
    assert bibliographic_authors("McKenna, R., Jr.") == "McKenna R"
    assert bibliographic_authors(None) is None


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"title,year\nA,2001\n", "has no id column"),
        (b"ID,title\n1,A\n2,B\n1,C\n", "row 4, column 'ID': id '1' is already used on row 2"),
        (b"ID,title\n1,A\n,B\n", "row 3, column 'ID': has no id"),
        (b"ID,year,notes\n1,2001,x\n", "has no column to compare records by"),
        (b'ID,title\n1,"unclosed\n', "row 2: cannot be parsed as CSV"),
        (b"ID,title\n1,A\n2,B,extra\n", "row 3: has 3 fields but the header has 2"),
        (b"ID,id,title\n1,2,A\n", "columns 'ID', 'id' all mean 'record_id'"),
        (b"", "is empty"),
        (b"PK\x03\x04binary", "is a spreadsheet or archive"),
        (b"\x00\x01\x02\xff\xfe\x00", "could not be detected"),
    ],
)
def test_bad_files_fail_naming_the_file(
    tmp_path: Path, capsys, content: bytes, expected: str
) -> None:
    source = tmp_path / "bad.csv"
    source.write_bytes(content)
    assert run_dedup(source, tmp_path / "out.csv") == 1
    error = capsys.readouterr().err
    assert str(source) in error
    assert expected in error
    assert not (tmp_path / "out.csv").exists()


def test_undecodable_bytes_name_line_and_position(tmp_path: Path, capsys) -> None:
    source = tmp_path / "latin.csv"
    source.write_bytes(LATIN_TEXT.encode("latin-1"))
    assert run_dedup(source, tmp_path / "out.csv", "--encoding", "utf-8") == 1
    error = capsys.readouterr().err
    assert f"{source}: cannot be decoded as utf-8: byte 0xc9 at line 2, character 3" in error
    assert "--encoding" in error


def test_unknown_encoding_and_missing_file_fail_clearly(tmp_path: Path, capsys) -> None:
    assert run_dedup(EXPORT, tmp_path / "out.csv", "--encoding", "klingon") == 1
    assert "unknown text encoding 'klingon'" in capsys.readouterr().err
    missing = tmp_path / "missing.csv"
    assert run_dedup(missing, tmp_path / "out.csv") == 1
    assert f"{missing}: cannot be read" in capsys.readouterr().err


def test_output_may_not_overwrite_the_input(tmp_path: Path, capsys) -> None:
    source = tmp_path / "export.csv"
    shutil.copy(EXPORT, source)
    assert run_dedup(source, source) == 1
    assert "is an input file" in capsys.readouterr().err
    assert source.read_bytes() == EXPORT.read_bytes()


def test_several_exports_in_several_formats_are_deduplicated_together(tmp_path: Path, capsys):
    """The same PubMed records exported as nbib, EndNote RIS and a Scopus CSV: each record
    of one file finds its copies in the others; every output row names its file."""
    data = Path(__file__).parent / "data" / "importers"
    inputs = [data / "pubmed_export.nbib", data / "endnote_pubmed.ris", data / "zotero.json"]
    output = tmp_path / "out.csv"
    assert run_dedup(*inputs, output) == 0
    rows = read_output(output)
    assert {row["file"] for row in rows} == {str(path) for path in inputs}
    assert all(row["id"].split(":")[0] in {p.name for p in inputs} for row in rows)
    by_cluster: dict[str, set[str]] = {}
    for row in rows:
        by_cluster.setdefault(row["cluster_id"], set()).add(Path(row["file"]).suffix)
    # the eight PubMed records: one cluster each across nbib and RIS (and the CSL-JSON copy)
    assert sum(1 for files in by_cluster.values() if {".nbib", ".ris"} <= files) == 8
    telomere = next(r for r in rows if r["id"] == "zotero.json:1")
    assert telomere["kept"] == "false"
    assert "records" in capsys.readouterr().out
