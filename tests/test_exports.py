"""Exports round-trip through rispy and bibtexparser (write, read back, same records), and
spreadsheet exports never hold a live formula."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from litreview.exports import (
    EXPORT_COLUMNS,
    read_bibtex,
    read_ris,
    to_bibtex,
    to_ris,
    write_exports,
)

RECORDS = pd.DataFrame(
    [
        {
            "record_id": "pubmed:17898702",
            "pmid": "17898702",
            "doi": "10.1038/sj.clpt.6100386",
            "pmcid": "PMC123456",
            "title": "Autologous therapy delays progression: a {braced} trial with ü and α",
            "authors": "Lee PH; Kim JW; Bang OY",
            "year": "2008",
            "journal": "Clin Pharmacol Ther",
            "volume": "83",
            "issue": "5",
            "pages": "723-30",
            "abstract": "Background. Results: 50% fewer events.",
            "keywords": "stem cells; trial",
            "publication_types": "Journal Article; Randomized Controlled Trial",
        },
        {
            "record_id": "other:recon-1",
            "pmid": None,
            "doi": None,
            "pmcid": None,
            "title": '=HYPERLINK("http://x","click")',
            "authors": None,
            "year": "2019",
            "journal": None,
            "volume": None,
            "issue": None,
            "pages": "e12",
            "abstract": None,
            "keywords": None,
            "publication_types": None,
        },
    ],
    columns=list(EXPORT_COLUMNS),
)
BRACES = {"title": "Autologous therapy delays progression: a (braced) trial with ü and α"}


def _same(read: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert read.fillna("").to_dict("records") == expected.fillna("").to_dict("records")


def test_ris_round_trip() -> None:
    _same(read_ris(to_ris(RECORDS)), RECORDS)


def test_bibtex_round_trip() -> None:
    expected = RECORDS.copy()
    expected.loc[0, "title"] = BRACES["title"]  # braces are BibTeX syntax: written as ()
    _same(read_bibtex(to_bibtex(RECORDS)), expected)


def test_bibtex_keys_are_unique_and_plain() -> None:
    twice = pd.concat([RECORDS, RECORDS], ignore_index=True)
    text = to_bibtex(twice)
    assert "@article{pubmed_17898702," in text and "@article{pubmed_17898702_2," in text


def test_the_first_review_s_sets_round_trip(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[1]
    deduplicated = pd.read_csv(
        repo / "tests" / "data" / "exports_deduplicated.tsv", sep="\t", dtype=str
    )
    written = write_exports({"all": deduplicated}, tmp_path, ["ris", "bibtex", "csv", "xlsx"])
    assert sorted(p.name for p in written) == ["all.bib", "all.csv", "all.ris", "all.xlsx"]
    expected = deduplicated[[c for c in EXPORT_COLUMNS if c in deduplicated.columns]]
    expected = expected.reindex(columns=list(EXPORT_COLUMNS))
    _same(read_ris((tmp_path / "all.ris").read_text()), expected)
    back = read_bibtex((tmp_path / "all.bib").read_text())
    assert back["record_id"].tolist() == expected["record_id"].tolist()
    assert back["doi"].fillna("").tolist() == expected["doi"].fillna("").tolist()


@pytest.mark.parametrize("extension", ["csv", "xlsx"])
def test_spreadsheet_exports_hold_no_live_formula(tmp_path: Path, extension: str) -> None:
    write_exports({"set": RECORDS}, tmp_path, [extension])
    path = tmp_path / f"set.{extension}"
    if extension == "csv":
        titles = pd.read_csv(path, dtype=str)["title"].tolist()
        assert titles[1] == '\'=HYPERLINK("http://x","click")'
    else:
        sheet = load_workbook(path)["records"]
        cell = sheet.cell(row=3, column=list(EXPORT_COLUMNS).index("title") + 1)
        assert cell.data_type == "s"
        assert cell.value.startswith("=HYPERLINK")
