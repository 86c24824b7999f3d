"""Identification: search records + other-source records, with validation of the sheet."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from litreview.errors import InputFileError
from litreview.identify import IDENTIFIED_COLUMNS, identify, normalise_doi, read_other_sources
from litreview.records import RECORD_COLUMNS

HEADER = "source_id\tmethod\tfound_via\tpmid\tdoi\ttitle\tauthors\tyear\tnote\n"


def _search_records() -> pd.DataFrame:
    rows = [
        {
            "pmid": "24807059",
            "doi": "10.1371/journal.pone.0093735",
            "title": "Efficacy",
            "year": 2014,
        },
        {"pmid": "24390934", "doi": "10.1007/s12015-013-9492-x", "title": "The size", "year": 2014},
    ]
    table = pd.DataFrame([{**dict.fromkeys(RECORD_COLUMNS, pd.NA), **row} for row in rows])
    return table


def _sheet(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "other_sources.tsv"
    path.write_text(header + body, encoding="utf-8")
    return path


def test_normalise_doi_variants() -> None:
    assert normalise_doi("https://doi.org/10.1371/JOURNAL.pone.0093735.") == (
        "10.1371/journal.pone.0093735"
    )
    assert normalise_doi("doi: 10.1007/S12015-013-9492-X") == "10.1007/s12015-013-9492-x"
    assert normalise_doi("not a doi") is None
    assert normalise_doi(pd.NA) is None


def test_other_sources_resolve_by_pmid_and_doi_and_keep_sheet_fields(tmp_path: Path) -> None:
    sheet_path = _sheet(
        tmp_path,
        "ref-1\tcitation_searching\treference list of PMID 24807059\t24390934\t\t\t\t\t\n"
        "ref-2\tcitation_searching\treference list of PMID 24807059\t\t"
        "https://doi.org/10.1371/journal.pone.0093735\t\t\t\t\n"
        "ref-3\tother\thand search\t\t\tA paper nobody indexed\tLu D\t2001\t\n"
        "ref-4\tcitation_searching\treference list\t99999999\t\t\t\t\t\n",
    )
    sheet = read_other_sources(sheet_path)
    result = identify(_search_records(), sheet, sheet_path=sheet_path)
    table = result.identified.set_index("record_id")
    assert list(result.identified.columns) == list(IDENTIFIED_COLUMNS)
    assert len(table) == 6
    assert table.loc["pubmed:24807059", "source_type"] == "database"
    assert table.loc["other:ref-1", "resolved_by"] == "pmid"
    assert table.loc["other:ref-1", "title"] == "The size"
    assert table.loc["other:ref-2", "resolved_by"] == "doi"
    assert table.loc["other:ref-2", "pmid"] == "24807059"
    assert table.loc["other:ref-3", "title"] == "A paper nobody indexed"
    assert table.loc["other:ref-3", "first_author"] == "Lu"
    assert table.loc["other:ref-3", "year"] == 2001
    assert pd.isna(table.loc["other:ref-3", "resolved_by"])
    assert result.unresolved["source_id"].tolist() == ["ref-4"]
    assert result.unresolved["kept_as"].tolist() == ["identifiers only"]


@pytest.mark.parametrize(
    ("body", "header", "message"),
    [
        ("a\tcitation_searching\tx\t\t\t\t\t\t\n", HEADER, r"row 2: the row names no record"),
        ("a\tsnowball\tx\t1\t\t\t\t\t\n", HEADER, r"row 2, column 'method': unknown method"),
        ("a\tother\tx\tPMID1\t\t\t\t\t\n", HEADER, r"row 2, column 'pmid'"),
        ("a\tother\tx\t\tnot-a-doi\t\t\t\t\n", HEADER, r"row 2, column 'doi'"),
        ("a\tother\tx\t\t\tT\t\t20xx\t\n", HEADER, r"row 2, column 'year'"),
        (
            "a\tother\tx\t1\t\t\t\t\t\na\tother\tx\t2\t\t\t\t\t\n",
            HEADER,
            r"row 3, column 'source_id'",
        ),
        ("a\tother\t\t1\t\t\t\t\t\n", HEADER, r"row 2, column 'found_via': empty required"),
        (
            "a\tother\tx\t1\n",
            "source_id\tmethod\tfound_via\tpmids\n",
            r"unknown column\(s\) 'pmids'",
        ),
        ("a\tother\n", "source_id\tmethod\n", r"missing column\(s\) 'found_via'"),
    ],
)
def test_sheet_errors_name_file_row_and_column(
    tmp_path: Path, body: str, header: str, message: str
) -> None:
    path = _sheet(tmp_path, body, header)
    with pytest.raises(InputFileError, match=message) as caught:
        read_other_sources(path)
    assert str(path) in str(caught.value)


def test_a_missing_bibliographic_file_is_named(tmp_path: Path) -> None:
    path = _sheet(
        tmp_path,
        "emb\tdatabase\tEmbase export\texport.ris\n",
        "source_id\tmethod\tfound_via\tfile\n",
    )
    with pytest.raises(InputFileError, match=r"column 'file'.*export\.ris"):
        read_other_sources(path)


@pytest.mark.parametrize("name", ["/etc/passwd", "../../../../../../etc/passwd", "../outside.ris"])
def test_a_bibliographic_file_outside_the_review_folder_is_refused_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    review = tmp_path / "review"
    review.mkdir()
    (tmp_path / "outside.ris").write_text("TY  - JOUR\nTI  - secret\nER  - \n", encoding="utf-8")
    monkeypatch.chdir(review)
    path = _sheet(
        review, f"x\tdatabase\tEmbase export\t{name}\n", "source_id\tmethod\tfound_via\tfile\n"
    )
    with pytest.raises(
        InputFileError, match=r"row 2, column 'file'.*lies outside the review folder"
    ) as caught:
        read_other_sources(path)
    assert "root:" not in str(caught.value) and "secret" not in str(caught.value)


def test_file_rows_import_every_record_with_the_rows_method(tmp_path: Path) -> None:
    (tmp_path / "export.ris").write_text("placeholder", encoding="utf-8")
    path = _sheet(
        tmp_path,
        "emb\tdatabase\tEmbase export 2025-04\texport.ris\tris\n",
        "source_id\tmethod\tfound_via\tfile\tformat\n",
    )
    imported = pd.DataFrame(
        [
            {**dict.fromkeys(RECORD_COLUMNS, pd.NA), "title": "One", "entry_type": "article"},
            {**dict.fromkeys(RECORD_COLUMNS, pd.NA), "title": "Two", "entry_type": "conference"},
        ]
    )
    calls = []

    def read_file(file_path: Path, file_format: str) -> pd.DataFrame:
        calls.append((file_path, file_format))
        return imported

    result = identify(
        _search_records(), read_other_sources(path), sheet_path=path, read_file=read_file
    )
    other = result.identified[result.identified["source_id"] == "emb"]
    assert calls == [(tmp_path / "export.ris", "ris")]
    assert other["record_id"].tolist() == ["emb:1", "emb:2"]
    assert other["source_type"].tolist() == ["database", "database"]
    assert other["entry_type"].tolist() == ["article", "conference"]


def test_each_file_is_reported_with_its_detected_format_and_records(tmp_path: Path) -> None:
    from litreview.importers import read_bibliographic_file

    data = Path(__file__).parent / "data" / "importers"
    for name in ("wos.ris", "ovid_medline_embase.txt", "pubmed_export.nbib"):
        (tmp_path / name).write_bytes((data / name).read_bytes())
    path = _sheet(
        tmp_path,
        "wos\tdatabase\tWeb of Science\twos.ris\t\n"
        "ovid\tdatabase\tOvid\tovid_medline_embase.txt\t\n"
        "pm\tdatabase\tPubMed export\tpubmed_export.nbib\tnbib\n",
        "source_id\tmethod\tfound_via\tfile\tformat\n",
    )
    result = identify(
        _search_records(), read_other_sources(path), sheet_path=path,
        read_file=read_bibliographic_file,
    )  # fmt: skip
    files = result.files.set_index("source_id")
    assert files["format"].to_dict() == {"wos": "ris", "ovid": "ovid_tagged", "pm": "nbib"}
    assert files["format_given"].to_dict() == {"wos": False, "ovid": False, "pm": True}
    assert files["records"].to_dict() == {"wos": 3, "ovid": 2, "pm": 8}
    assert (result.identified["source_id"] == "ovid").sum() == 2


def test_the_committed_other_sources_sheet_is_valid() -> None:
    sheet = read_other_sources(Path(__file__).parents[1] / "config" / "other_sources.tsv")
    assert len(sheet) > 0
    assert sheet["pmid"].isna().all()  # rows with a confirmed PMID are in the snapshot instead
    assert sheet["found_via"].str.contains("RECONSTRUCTED").all()


def test_the_dedup_summary_counts_each_source_and_file_and_lists_the_thresholds(
    tmp_path: Path,
) -> None:
    from litreview import io
    from litreview.importers import read_bibliographic_file
    from litreview.stages import deduplicate_records

    data = Path(__file__).parent / "data" / "importers"
    for name in ("pubmed_export.nbib", "endnote_pubmed.ris"):
        (tmp_path / name).write_bytes((data / name).read_bytes())
    path = _sheet(
        tmp_path,
        "pm\tdatabase\tPubMed export\tpubmed_export.nbib\t\n"
        "en\tdatabase\tEndNote library\tendnote_pubmed.ris\t\n",
        "source_id\tmethod\tfound_via\tfile\tformat\n",
    )
    result = identify(
        _search_records(), read_other_sources(path), sheet_path=path,
        read_file=read_bibliographic_file,
    )  # fmt: skip
    io.write_table(tmp_path / "identified.tsv", result.identified)
    io.write_table(tmp_path / "files.tsv", result.files)
    out = tmp_path / "out"
    deduplicate_records(
        tmp_path / "identified.tsv", {"year_tolerance": 2}, out / "dedup.tsv", out / "dup.tsv",
        out / "clusters.tsv", out / "summary.md", origin="test", files_path=tmp_path / "files.tsv",
    )  # fmt: skip
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "| pubmed_export.nbib | nbib | 8 | " in summary
    assert "| endnote_pubmed.ris | ris | 8 | 8 | 0 |" in summary  # every copy of the nbib's
    assert "| EndNote library | 8 | 8 | 0 |" in summary
    assert "| year_tolerance | 2 |" in summary
    assert "| exact:" in summary
