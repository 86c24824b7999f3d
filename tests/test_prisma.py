"""PRISMA 2020 counts: the identities, the R package's template table, the layout and drawing."""

from __future__ import annotations

import html
import re
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from litreview.errors import InputFileError, ValidationError
from litreview.io import read_table, write_table
from litreview.prisma import (
    EXTRA_ROWS,
    LIST_FIELDS,
    NUMBER_FIELDS,
    PAD_X,
    PAD_Y,
    PHASE_LABEL_PAD,
    REPORTED_ONLY_FIELDS,
    TEMPLATE_COLUMNS,
    Diagram,
    PrismaCounts,
    check,
    draw,
    from_template_table,
    layout,
    read_template_csv,
    require_consistent,
    template_table,
    text_width,
    to_template_table,
    write_template_csv,
)

TEMPLATE_CSV = Path(__file__).parent.parent / "src/litreview/data/PRISMA2020_template.csv"

BASIC = PrismaCounts(
    database_results=150,
    database_specific_results=[("PubMed", 150)],
    duplicates=20,
    excluded_automatic=5,
    records_screened=125,
    records_excluded=90,
    dbr_sought_reports=35,
    dbr_notretrieved_reports=3,
    dbr_assessed=32,
    dbr_excluded=[("Wrong population", 10), ("Wrong outcome", 7), ("Not a trial", 5)],
    included_from_databases=10,
    citations_results=4,
    other_results=[("public reconstruction", 2)],
    other_sought_reports=6,
    other_notretrieved_reports=1,
    other_assessed=5,
    other_excluded=[("Wrong population", 2)],
    included_from_other=3,
    new_studies=13,
    new_reports=13,
    total_studies=13,
    total_reports=13,
)

_REASONS = [
    (f"Reason {i}: a rather long description of why this report was excluded", 1_000 + i)
    for i in range(12)
]
# Everything at once: previous studies, registers, awaiting boxes, 12 long reasons, big numbers.
BIG = PrismaCounts(
    previous_studies=40,
    previous_reports=52,
    database_results=2_345_678,
    database_specific_results=[
        ("PubMed", 2_000_000),
        ("Embase (via Ovid) including conference abstracts", 345_678),
    ],
    register_results=1_000,
    register_specific_results=[("ClinicalTrials.gov", 1_000)],
    duplicates=345_678,
    excluded_automatic=1_000_000,
    excluded_other=1,
    records_screened=1_000_999,
    records_excluded=900_000,
    awaiting_screening=999,
    dbr_sought_reports=100_000,
    dbr_notretrieved_reports=10_000,
    dbr_assessed=90_000,
    dbr_excluded=_REASONS,
    awaiting_assessment=90_000 - sum(n for _, n in _REASONS) - 5_000,
    included_from_databases=5_000,
    website_results=7,
    organisation_results=3,
    citations_results=120,
    other_sought_reports=130,
    other_notretrieved_reports=10,
    other_assessed=120,
    other_excluded=[("Duplicate of a database record found by hand", 100)],
    other_awaiting_assessment=4,
    included_from_other=16,
    new_studies=4_000,
    new_reports=5_016,
    total_studies=4_040,
    total_reports=5_068,
)


# --------------------------------------------------------------------------------------------
# check()
# --------------------------------------------------------------------------------------------


def test_consistent_counts_pass() -> None:
    assert check(BASIC) == []
    assert check(BIG) == []
    assert check(PrismaCounts()) == []
    require_consistent(BIG)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"database_results": 151},
            "database_results (151) != sum(database_specific_results) (150) = 150",
        ),
        (
            {"register_specific_results": [("ClinicalTrials.gov", 2)]},
            "register_results (0) != sum(register_specific_results) (2) = 2",
        ),
        (
            {"duplicates": 21},
            "records_screened (125) != database_results (150) + register_results (0) "
            "- duplicates (21) - excluded_automatic (5) - excluded_other (0) = 124",
        ),
        (
            {"records_excluded": 89},
            "records_screened (125) != records_excluded (89) + dbr_sought_reports (35) "
            "+ awaiting_screening (0) = 124",
        ),
        (
            {"dbr_notretrieved_reports": 4},
            "dbr_assessed (32) != dbr_sought_reports (35) - dbr_notretrieved_reports (4) = 31",
        ),
        (
            {"dbr_excluded": [("Wrong population", 11), ("Wrong outcome", 7), ("Not a trial", 5)]},
            "dbr_assessed (32) != sum(dbr_excluded) (23) + included_from_databases (10) "
            "+ awaiting_assessment (0) = 33",
        ),
        (
            {"citations_results": 5},
            "other_sought_reports (6) != website_results (0) + organisation_results (0) "
            "+ citations_results (5) + sum(other_results) (2) - other_records_excluded (0) = 7",
        ),
        (
            {"other_notretrieved_reports": 0},
            "other_assessed (5) != other_sought_reports (6) - other_notretrieved_reports (0) = 6",
        ),
        (
            {"other_awaiting_assessment": 1},
            "other_assessed (5) != sum(other_excluded) (2) + included_from_other (3) "
            "+ other_awaiting_assessment (1) = 6",
        ),
        (
            {"included_from_other": 4},
            "new_reports (13) != included_from_databases (10) + included_from_other (4) = 14",
        ),
        (
            {"previous_studies": 2, "previous_reports": 2},
            "total_studies (13) != new_studies (13) + previous_studies (2) = 15",
        ),
        (
            {"total_reports": 14},
            "total_reports (14) != new_reports (13) + previous_reports (0) = 13",
        ),
        (
            {"new_studies": 14, "total_studies": 14},
            "new_studies (14) > new_reports (13): every study has at least one report",
        ),
        (
            {"new_studies": 0, "total_studies": 0},
            "new_studies (0) is 0 but new_reports (13) > 0: every report belongs to a study",
        ),
        (
            {"previous_studies": 3, "total_studies": 16},
            "previous_studies (3) > previous_reports (0): every study has at least one report",
        ),
    ],
)
def test_each_violated_identity_is_reported_naming_the_box(changes: dict, expected: str) -> None:
    violations = check(replace(BASIC, **changes))
    assert expected in violations
    with pytest.raises(ValidationError) as raised:
        require_consistent(replace(BASIC, **changes))
    assert expected in str(raised.value)


def test_every_violation_is_listed_at_once() -> None:
    counts = replace(BASIC, duplicates=21, other_notretrieved_reports=0, total_reports=99)
    violations = check(counts)
    boxes = [violation.split(" ")[0] for violation in violations]
    assert boxes.count("records_screened") == 1
    assert {"other_assessed", "total_reports"} <= set(boxes)
    with pytest.raises(ValidationError) as raised:
        require_consistent(counts)
    assert all(violation in str(raised.value) for violation in violations)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"duplicates": -1}, "duplicates (-1) is negative"),
        ({"records_screened": "125"}, "records_screened ('125') is not a whole number"),
        ({"records_screened": 125.0}, "records_screened (125.0) is not a whole number"),
        ({"new_studies": True}, "new_studies (True) is not a whole number"),
        (
            {"dbr_excluded": [("Wrong population", -1)]},
            "dbr_excluded 'Wrong population' (-1) is negative",
        ),
        (
            {"other_excluded": [("Wrong population", 1), ("Wrong population", 1)]},
            "other_excluded lists 'Wrong population' twice: merge the two counts",
        ),
        ({"other_results": [(" ", 2)]}, "other_results entry (' ', 2) has no label"),
        ({"dbr_excluded": "Wrong population, 3"}, "is not a list of (label, n) pairs"),
    ],
)
def test_bad_values_are_reported(changes: dict, expected: str) -> None:
    violations = check(replace(BASIC, **changes))
    assert any(expected in violation for violation in violations), violations


# --------------------------------------------------------------------------------------------
# Property: flows tallied from per-record outcomes add up; any box off by one is named
# --------------------------------------------------------------------------------------------

_DATABASES = ("PubMed", "Embase")
_OTHER_METHODS = ("websites", "organisations", "citations", "public reconstruction", "hand search")
_DB_OUTCOMES = (
    "duplicate",
    "automatic",
    "removed_other",
    "screen_excluded",
    "awaiting_screening",
    "not_retrieved",
    "excluded",
    "awaiting_assessment",
    "included",
)
_OTHER_OUTCOMES = ("not_retrieved", "excluded", "awaiting_assessment", "included")
_EXCLUSION_REASONS = ("Wrong population", "Wrong intervention", "Not a trial", "No outcome data")

_record = st.tuples(
    st.sampled_from((*_DATABASES, "register", *_OTHER_METHODS)),
    st.sampled_from(_DB_OUTCOMES),
    st.sampled_from(_OTHER_OUTCOMES),
    st.sampled_from(_EXCLUSION_REASONS),
    st.integers(0, 12),  # the study an included report belongs to
)


def _tally(
    records: list[tuple[str, str, str, str, int]],
    previous: tuple[int, int],
    itemise_registers: bool,
) -> PrismaCounts:
    """An independent oracle: count per-record outcomes into the PRISMA boxes."""
    identified: Counter[str] = Counter()
    db: Counter[str] = Counter()
    other: Counter[str] = Counter()
    db_reasons: Counter[str] = Counter()
    other_reasons: Counter[str] = Counter()
    studies: set[int] = set()
    for source, db_outcome, other_outcome, reason, study in records:
        identified[source] += 1
        from_databases = source in (*_DATABASES, "register")
        outcome = db_outcome if from_databases else other_outcome
        (db if from_databases else other)[outcome] += 1
        if outcome == "excluded":
            (db_reasons if from_databases else other_reasons)[reason] += 1
        if outcome == "included":
            studies.add(study)
    previous_studies, extra_previous_reports = previous
    database_results = sum(identified[name] for name in _DATABASES)
    removed = db["duplicate"] + db["automatic"] + db["removed_other"]
    screened = database_results + identified["register"] - removed
    sought = screened - db["screen_excluded"] - db["awaiting_screening"]
    other_sought = sum(identified[name] for name in _OTHER_METHODS)
    new_reports = db["included"] + other["included"]
    previous_reports = previous_studies + extra_previous_reports if previous_studies else 0
    return PrismaCounts(
        previous_studies=previous_studies,
        previous_reports=previous_reports,
        database_results=database_results,
        database_specific_results=[(name, identified[name]) for name in _DATABASES],
        register_results=identified["register"],
        register_specific_results=(
            [("ClinicalTrials.gov", identified["register"])] if itemise_registers else []
        ),
        website_results=identified["websites"],
        organisation_results=identified["organisations"],
        citations_results=identified["citations"],
        other_results=[
            (name, identified[name]) for name in ("public reconstruction", "hand search")
        ],
        duplicates=db["duplicate"],
        excluded_automatic=db["automatic"],
        excluded_other=db["removed_other"],
        records_screened=screened,
        records_excluded=db["screen_excluded"],
        awaiting_screening=db["awaiting_screening"],
        dbr_sought_reports=sought,
        dbr_notretrieved_reports=db["not_retrieved"],
        dbr_assessed=sought - db["not_retrieved"],
        dbr_excluded=sorted(db_reasons.items()),
        awaiting_assessment=db["awaiting_assessment"],
        included_from_databases=db["included"],
        other_sought_reports=other_sought,
        other_notretrieved_reports=other["not_retrieved"],
        other_assessed=other_sought - other["not_retrieved"],
        other_excluded=sorted(other_reasons.items()),
        other_awaiting_assessment=other["awaiting_assessment"],
        included_from_other=other["included"],
        new_studies=len(studies),
        new_reports=new_reports,
        total_studies=len(studies) + previous_studies,
        total_reports=new_reports + previous_reports,
    )


def _names(field_name: str, violations: list[str]) -> bool:
    pattern = re.compile(rf"\b{re.escape(field_name)}\b")
    return any(pattern.search(violation) for violation in violations)


@settings(max_examples=100, deadline=None)
@given(
    records=st.lists(_record, max_size=60),
    previous=st.tuples(st.integers(0, 20), st.integers(0, 5)),
    itemise_registers=st.booleans(),
)
def test_tallied_flows_add_up_and_any_box_off_by_one_is_named(
    records: list[tuple[str, str, str, str, int]],
    previous: tuple[int, int],
    itemise_registers: bool,
) -> None:
    counts = _tally(records, previous, itemise_registers)
    assert check(counts) == []
    for name in NUMBER_FIELDS:
        if name in REPORTED_ONLY_FIELDS:  # beside the flow, in none of its sums
            continue
        perturbed = replace(counts, **{name: getattr(counts, name) + 1})
        assert _names(name, check(perturbed)), name
    for name in LIST_FIELDS:
        entries = getattr(counts, name)
        for index, (label, value) in enumerate(entries):
            bumped = [*entries[:index], (label, value + 1), *entries[index + 1 :]]
            assert _names(name, check(replace(counts, **{name: bumped}))), (name, label)


# --------------------------------------------------------------------------------------------
# The R package's template table
# --------------------------------------------------------------------------------------------


def test_packaged_template_is_read_whole() -> None:
    template = template_table()
    assert tuple(template.columns) == TEMPLATE_COLUMNS
    shared = pd.read_csv(TEMPLATE_CSV, dtype="string", keep_default_na=False)
    assert template["data"].fillna("NA").tolist() == shared["data"].tolist()
    assert len(template) == 34  # rows, header aside


def test_table_keeps_the_template_rows_in_order_then_our_extras() -> None:
    table = to_template_table(BASIC)
    template = template_table()
    assert tuple(table.columns) == TEMPLATE_COLUMNS
    assert table["data"].iloc[: len(template)].fillna("-").tolist() == (
        template["data"].fillna("-").tolist()
    )
    extras = table["data"].iloc[len(template) :].tolist()
    assert extras == [data_name for data_name, _, _ in EXTRA_ROWS.values()]
    n = dict(zip(table["data"].fillna("-"), table["n"], strict=True))
    assert n["database_results"] == "150"
    assert n["database_specific_results"] == "PubMed, 150"
    assert n["register_specific_results"] == "0"  # none: the R package cannot parse NA here
    assert n["dbr_excluded"] == "Wrong population, 10; Wrong outcome, 7; Not a trial, 5"
    assert n["other_results"] == "public reconstruction, 2"
    assert n["dbr_eligible_reports"] == "10"
    assert n["total_studies_ma"] == "0"  # no number of ours: the template's value stays
    # Text columns other than n are the template's, untouched.
    pd.testing.assert_frame_equal(
        table.iloc[: len(template)].drop(columns="n"), template.drop(columns="n")
    )


def test_extra_row_names_are_invisible_to_the_r_packages_grep() -> None:
    # The R package finds rows with grep(name, data[, 1]); none of its names may match ours.
    r_patterns = [name for name in template_table()["data"].dropna()]
    for data_name, _, _ in EXTRA_ROWS.values():
        assert not [pattern for pattern in r_patterns if pattern in data_name], data_name


@pytest.mark.parametrize("counts", [BASIC, BIG, PrismaCounts()], ids=["basic", "big", "empty"])
def test_round_trip_through_the_template_table(counts: PrismaCounts, tmp_path: Path) -> None:
    if counts is BIG:
        counts = replace(  # ':' is fine, but the template format cannot hold ',' in labels
            counts, other_excluded=[("Duplicate of a database record", 100)]
        )
    assert from_template_table(to_template_table(counts)) == counts
    csv_path = tmp_path / "prisma.csv"
    write_template_csv(counts, csv_path)
    assert read_template_csv(csv_path) == counts
    tsv_path = tmp_path / "prisma.tsv"
    write_table(tsv_path, to_template_table(counts))
    assert from_template_table(read_table(tsv_path), source=tsv_path) == counts


def test_csv_for_r_writes_missing_as_na_and_quotes_lists(tmp_path: Path) -> None:
    path = tmp_path / "prisma.csv"
    write_template_csv(BASIC, path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(TEMPLATE_COLUMNS)
    assert lines[1].startswith("NA,node4,prevstud,")
    assert any(
        line.startswith("dbr_excluded,node14,box9,")
        and line.endswith('"Wrong population, 10; Wrong outcome, 7; Not a trial, 5"')
        for line in lines
    )
    assert [p.name for p in tmp_path.iterdir()] == ["prisma.csv"]  # no temp file left


def test_labels_the_template_cannot_hold_are_refused() -> None:
    counts = replace(BASIC, dbr_excluded=[("Wrong population, adults", 22)])
    with pytest.raises(ValidationError, match="contains ',' or ';'"):
        to_template_table(counts)


def test_inconsistent_counts_make_no_table() -> None:
    with pytest.raises(ValidationError, match="records_screened"):
        to_template_table(replace(BASIC, records_screened=124))


def test_template_placeholders_mean_no_list() -> None:
    table = to_template_table(BASIC)
    rows = table["data"] == "database_specific_results"
    table.loc[rows, "n"] = "Database 1, xxx; Database 2, xxx; Database 3, xxx"
    assert from_template_table(table).database_specific_results == []


@pytest.mark.parametrize(
    ("row", "value", "expected"),
    [
        ("duplicates", "twenty", r"row 14, column 'n': 'twenty' is not a whole number"),
        ("duplicates", pd.NA, r"row 14, column 'n': empty \(write 0 if there were none\)"),
        ("dbr_excluded", "Wrong population, 1x", r"row 24, column 'n': '1x' is not a whole"),
        ("dbr_excluded", "Wrong population", r"row 24.*'Wrong population' is not 'Label, n'"),
        ("dbr_excluded", "22", r"row 24.*'22' is a bare count where a list is expected"),
    ],
)
def test_unreadable_cells_are_reported_with_row_and_column(
    row: str, value: object, expected: str
) -> None:
    table = to_template_table(BASIC)
    table.loc[table["data"] == row, "n"] = value
    with pytest.raises(InputFileError, match=expected) as raised:
        from_template_table(table, source="prisma.csv")
    assert str(raised.value).startswith("prisma.csv, row ")


def test_a_plain_r_template_lacks_our_rows_and_says_which() -> None:
    table = to_template_table(BASIC).iloc[: len(template_table())]
    with pytest.raises(InputFileError, match="missing row\\(s\\) other_results, dbr_eligible"):
        from_template_table(table, source="PRISMA.csv")


def test_repeated_rows_are_refused() -> None:
    table = to_template_table(BASIC)
    table = pd.concat([table, table.iloc[[4]]], ignore_index=True)
    with pytest.raises(
        InputFileError,
        match=r"row 44, column 'data': row 'database_results' appears twice \(first at row 6\)",
    ):
        from_template_table(table, source="prisma.csv")


# --------------------------------------------------------------------------------------------
# Layout (pure geometry) and drawing
# --------------------------------------------------------------------------------------------

_EPS = 1e-6


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    """Open rectangles (x0, y0, x1, y1) share interior points."""
    return a[0] < b[2] - _EPS and b[0] < a[2] - _EPS and a[1] < b[3] - _EPS and b[1] < a[3] - _EPS


def _assert_legible(diagram: Diagram) -> None:
    boxes = diagram.boxes
    for index, box in enumerate(boxes):
        rect = (box.x, box.y, box.right, box.bottom)
        assert box.x >= 0 and box.right <= diagram.width and box.bottom <= diagram.height
        for other in boxes[index + 1 :]:
            assert not _overlap(rect, (other.x, other.y, other.right, other.bottom)), (
                box.name,
                other.name,
            )
        if box.style == "phase":
            label = text_width(box.lines[0], box.font_size)
            assert label + 2 * PHASE_LABEL_PAD <= box.height + _EPS, box.name
            continue
        for line, offset in zip(box.lines, box.line_y, strict=True):
            assert text_width(line, box.font_size) <= box.width - 2 * PAD_X + _EPS, line
            assert PAD_Y <= offset <= box.height - PAD_Y, (box.name, line)
    for connector in diagram.connectors:
        for (x0, y0), (x1, y1) in zip(connector.points, connector.points[1:], strict=False):
            assert x0 == x1 or y0 == y1, connector  # only horizontal and vertical runs
            segment = (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
            for box in boxes:
                inside = (box.x, box.y, box.right, box.bottom)
                # A zero-width segment "overlaps" only if it runs through the open interior.
                widened = (
                    segment[0] - _EPS,
                    segment[1] - _EPS,
                    segment[2] + _EPS,
                    segment[3] + _EPS,
                )
                shrunk = (inside[0] + 1e-3, inside[1] + 1e-3, inside[2] - 1e-3, inside[3] - 1e-3)
                assert not _overlap(widened, shrunk), (connector, box.name)


@pytest.mark.parametrize("counts", [BASIC, BIG, PrismaCounts()], ids=["basic", "big", "empty"])
def test_layout_has_no_overlaps_and_text_fits(counts: PrismaCounts) -> None:
    diagram = layout(counts, title="A title " * 30, origin_note="Snapshot: RECONSTRUCTED " * 20)
    _assert_legible(diagram)
    names = {box.name for box in diagram.boxes}
    assert ("previous" in names) == (counts.previous_studies > 0)
    assert ("total_studies" in names) == (counts.previous_studies > 0)
    assert ("db_awaiting_screening" in names) == (counts.awaiting_screening > 0)
    assert ("db_awaiting_assessment" in names) == (counts.awaiting_assessment > 0)
    assert ("other_awaiting_assessment" in names) == (counts.other_awaiting_assessment > 0)
    phases = [box for box in diagram.boxes if box.style == "phase"]
    assert [box.lines[0] for box in phases] == ["Identification", "Screening", "Included"]


def test_a_long_reason_list_pushes_later_rows_down() -> None:
    diagram = layout(BIG)
    excluded = diagram.box("db_excluded_reports")
    assert len(excluded.lines) > 12  # twelve reasons, wrapped
    assert diagram.box("new_studies").y > diagram.box("db_awaiting_assessment").bottom
    # Unbreakable counts: "(n = 1,234)" never splits across lines.
    assert all(re.search(r"\(n$|^= |^\d", line) is None for line in excluded.lines)


def _svg_text(svg: bytes) -> str:
    return "\n".join(
        html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg.decode())
    )


def test_draw_writes_identical_svg_and_a_png_with_every_number(tmp_path: Path) -> None:
    note = "Snapshot: RECONSTRUCTED, not an NCBI response"
    # 7 records found by citation searching were excluded on title and abstract: not sought
    counts = replace(BIG, citations_results=BIG.citations_results + 7, other_records_excluded=7)
    draw(counts, tmp_path / "a.svg", tmp_path / "a.png", title="Flow", origin_note=note)
    draw(counts, tmp_path / "b.svg", tmp_path / "b.png", title="Flow", origin_note=note)
    svg = (tmp_path / "a.svg").read_bytes()
    assert svg == (tmp_path / "b.svg").read_bytes()
    assert (tmp_path / "a.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "a.png").stat().st_size > 10_000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "a.svg", "b.png", "b.svg"]
    text = _svg_text(svg)
    assert note in text
    assert "Identification of new studies via other methods" in text
    # Per-column included counts are bookkeeping, not boxes; new_reports shows their sum.
    shown = [
        name
        for name in NUMBER_FIELDS
        if not name.startswith("included_from_") and name not in REPORTED_ONLY_FIELDS
    ]
    for name in shown:
        assert f"(n = {getattr(counts, name):,})" in text, name
    for name in LIST_FIELDS:
        for label, value in getattr(counts, name):
            assert f"(n = {value:,})" in text, (name, label)
    assert "Reports excluded (n = 12,066):" in text
    assert "Records excluded on title and\nabstract (n = 7)" in text


def test_a_new_review_identifies_studies_and_an_update_new_studies(tmp_path: Path) -> None:
    first = replace(BIG, previous_studies=0, previous_reports=0)
    first = replace(first, total_studies=first.new_studies, total_reports=first.new_reports)
    draw(first, tmp_path / "a.svg", tmp_path / "a.png")
    text = _svg_text((tmp_path / "a.svg").read_bytes())
    assert "Identification of studies via databases and registers" in text
    assert "new studies" not in text
    draw(BIG, tmp_path / "b.svg", tmp_path / "b.png")
    assert "Identification of new studies via other methods" in _svg_text(
        (tmp_path / "b.svg").read_bytes()
    )


def test_draw_refuses_counts_that_do_not_add_up(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="dbr_assessed"):
        draw(replace(BASIC, dbr_assessed=31), tmp_path / "a.svg", tmp_path / "a.png")
    assert list(tmp_path.iterdir()) == []
