"""Screening: automatic criteria, sheet validation, conflicts, statuses, overrules, queue."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook

from litreview.errors import ConfigError, InputFileError
from litreview.screen import (
    Criteria,
    RecordIndex,
    ScreeningSettings,
    SheetDecision,
    TypeRule,
    automatic_failures,
    build_queue,
    read_decisions,
    resolve_stage,
    screen,
)
from litreview.sheets import read_sheet, write_queue_xlsx

REASONS = {
    "not_english": "Not in English",
    "publication_type": "Review, comment or notice",
    "outside_dates": "Outside the search window",
    "not_intra_arterial": "No intra-arterial route",
    "wrong_population": "Not a CNS disease",
}
SCREENING = {
    "reasons": REASONS,
    "automatic": {
        "language": {"allowed": ["eng"], "reason": "not_english"},
        "publication_types": {"exclude": ["Review", "Comment"], "reason": "publication_type"},
        "dates": {"from": "2000-01-01", "to": "2025-04-30", "reason": "outside_dates"},
        "keywords": [
            {
                "name": "route",
                "reason": "not_intra_arterial",
                "any": ["intra-arterial", "intracarotid", "internal carotid arter*"],
            }
        ],
    },
    "conflicts": {"title_abstract": "any_include", "full_text": "arbiter"},
    "arbiter": "TH",
    "categories": [
        {"name": "clinical", "publication_types": ["Clinical Trial"], "any": ["patients"]},
        {"name": "exosome", "any": ["exosom*", "extracellular vesicle*"]},
        {"name": "preclinical", "default": True},
    ],
}
SETTINGS = ScreeningSettings.from_config(SCREENING)


def _record(record_id: str, **fields: object) -> dict[str, object]:
    base = {
        "record_id": record_id,
        "source_type": "database",
        "method": "database",
        "pmid": record_id.split(":")[-1],
        "doi": None,
        "title": "Intra-arterial stem cells after stroke in rats",
        "abstract": None,
        "mesh": None,
        "keywords": None,
        "languages": "eng",
        "publication_types": "Journal Article",
        "publication_date": "2015-03",
        "year": 2015,
        "authors": "Doe J",
        "journal": "Stroke",
    }
    return {**base, **fields}


# --- automatic criteria -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, []),
        ({"languages": "jpn"}, [("language", "not_english")]),
        ({"languages": "eng; jpn"}, []),
        ({"languages": None}, []),  # unknown language: people decide
        (
            {"publication_types": "Journal Article; Review"},
            [("publication_type", "publication_type")],
        ),
        ({"is_erratum": True}, []),  # errata are not in this config's excluded types
        ({"publication_date": "1999-12-31"}, [("dates", "outside_dates")]),
        ({"publication_date": "2025-05"}, [("dates", "outside_dates")]),
        ({"publication_date": "2025-04"}, []),
        ({"publication_date": None, "year": 2026}, [("dates", "outside_dates")]),
        ({"publication_date": None, "year": None}, []),
        ({"title": "Intravenous stem cells after stroke"}, [("route", "not_intra_arterial")]),
        ({"title": "Stem cells", "abstract": "via the internal carotid artery"}, []),
        ({"title": "Stem cells", "mesh": "Injections, Intra-Arterial"}, []),
        ({"title": None}, []),  # no text at all: cannot judge
    ],
)
def test_automatic_criteria(fields: dict, expected: list) -> None:
    assert automatic_failures(_record("pubmed:1", **fields), SETTINGS.criteria) == expected


def test_errata_and_retraction_notices_are_excluded_when_their_type_is() -> None:
    criteria = Criteria(
        type_rules=(
            TypeRule(("published erratum", "retraction of publication"), "publication_type"),
        )
    )
    assert automatic_failures(_record("pubmed:1", is_erratum=True), criteria)
    assert automatic_failures(_record("pubmed:1", is_retraction_notice="True"), criteria)


def test_several_publication_type_rules_each_with_its_reason() -> None:
    reasons = {"review": "Review", "erratum": "Erratum", "abstract": "Conference abstract"}
    criteria = Criteria.from_config(
        {
            "publication_types": [
                {"exclude": ["Review", "Systematic Review"], "reason": "review"},
                {"exclude": ["Published Erratum"], "reason": "erratum"},
                {"exclude": ["Congress"], "reason": "abstract"},
            ]
        },
        reasons,
    )
    assert automatic_failures(_record("pubmed:1", publication_types="Review"), criteria) == [
        ("publication_type", "review")
    ]
    assert automatic_failures(_record("pubmed:2", publication_types="Congress"), criteria) == [
        ("publication_type", "abstract")
    ]
    assert automatic_failures(_record("pubmed:3", is_erratum=True), criteria) == [
        ("publication_type", "erratum")
    ]


def test_keyword_rules_that_exclude_when_a_pattern_is_present() -> None:
    reasons = {"animal": "Animal study", "children": "Children"}
    criteria = Criteria.from_config(
        {
            "keywords": [
                {
                    "name": "children",
                    "reason": "children",
                    "none": ["paediatric", "child*"],
                    "fields": ["title"],
                },
                {
                    "name": "animal_study",
                    "reason": "animal",
                    "when": [
                        {"fields": ["mesh"], "present": ["Animals"]},
                        {"fields": ["mesh"], "absent": ["Humans"]},
                    ],
                },
            ]
        },
        reasons,
    )
    child = _record("pubmed:1", title="Outcomes in children after surgery")
    assert automatic_failures(child, criteria) == [("children", "children")]
    animals = _record("pubmed:2", title="A trial", mesh="Animals; Rats")
    assert automatic_failures(animals, criteria) == [("animal_study", "animal")]
    both = _record("pubmed:3", title="A trial", mesh="Animals; Humans")
    assert automatic_failures(both, criteria) == []
    no_mesh = _record("pubmed:4", title="A trial")
    assert automatic_failures(no_mesh, criteria) == []  # not judged: people decide


def test_a_rule_needs_patterns_and_each_condition_one_kind() -> None:
    with pytest.raises(ConfigError, match=r"keywords\[r\]: give any, none or when"):
        Criteria.from_config({"keywords": [{"name": "r", "reason": "x"}]}, {"x": "X"})
    with pytest.raises(ConfigError, match=r"when\[1\]: give present or absent"):
        Criteria.from_config(
            {
                "keywords": [
                    {"name": "r", "reason": "x", "when": [{"present": ["a"], "absent": ["b"]}]}
                ]
            },
            {"x": "X"},
        )


def test_a_criterion_reason_missing_from_the_list_is_a_config_error() -> None:
    broken = {**SCREENING, "automatic": {"language": {"allowed": ["eng"], "reason": "foreign"}}}
    with pytest.raises(ConfigError, match=r"'foreign' is not in screening\.reasons"):
        ScreeningSettings.from_config(broken)


# --- sheets --------------------------------------------------------------------------------

RECORDS = pd.DataFrame(
    [
        _record("pubmed:101", doi="10.1000/xyz1"),
        _record("pubmed:102", title="Intravenous cells"),
        _record("pubmed:103", publication_types="Review"),
        _record("pubmed:104", title="Intra-arterial exosomes in stroke"),
        _record("other:ref-1", source_type="other", method="citation_searching", pmid=None),
    ]
)
INDEX = RecordIndex.build(RECORDS, {"other:dup-9": "pubmed:101"})
HEADER = "record,stage,decision,reason,reviewer,date,note\n"


def _decisions(tmp_path: Path, body: str, header: str = HEADER, name: str = "s.csv"):
    path = tmp_path / name
    path.write_text(header + body, encoding="utf-8")
    return read_decisions(
        [path], INDEX, reasons=SETTINGS.reasons, categories=["clinical", "preclinical"]
    )


def test_keys_resolve_by_record_id_merged_id_pmid_and_doi(tmp_path: Path) -> None:
    decisions = _decisions(
        tmp_path,
        "pubmed:101,title_abstract,include,,A,2025-01-02,\n"
        "102,title_abstract,exclude,not_intra_arterial,A,,\n"
        "https://doi.org/10.1000/XYZ1,full_text,include,,A,,\n"
        "other:dup-9,full_text,include,,B,,\n",
    )
    assert [d.record_id for d in decisions] == [
        "pubmed:101",
        "pubmed:102",
        "pubmed:101",
        "pubmed:101",
    ]
    assert decisions[0].row == 2 and decisions[3].row == 5


@pytest.mark.parametrize(
    ("body", "header", "message"),
    [
        (
            "101,title_abstract,include,A\n",
            "record,stage,decision,reviewr\n",
            r"row 1.*missing column\(s\) 'reviewer'",
        ),
        (
            "101,title_abstract,include,A,x\n",
            "record,stage,decision,reviewer,colour\n",
            r"unknown column\(s\) 'colour'",
        ),
        (
            "101,title_abstract,yes,,A,,\n",
            HEADER,
            r"row 2, column 'decision': unknown decision 'yes'",
        ),
        ("101,screening,include,,A,,\n", HEADER, r"row 2, column 'stage': unknown stage"),
        (
            "101,title_abstract,exclude,,A,,\n",
            HEADER,
            r"row 2, column 'reason': an exclusion needs a reason",
        ),
        (
            "101,title_abstract,exclude,boring,A,,\n",
            HEADER,
            r"row 2, column 'reason': unknown reason 'boring'",
        ),
        ("101,title_abstract,include,,A,31/12/2024,\n", HEADER, r"row 2, column 'date'"),
        ("101,title_abstract,include,,,,\n", HEADER, r"row 2, column 'reviewer': empty required"),
        (
            "101,title_abstract,include,,A,,\n101,title_abstract,exclude,wrong_population,A,,\n",
            HEADER,
            r"row 3, column 'decision': reviewer 'A' decided record pubmed:101 at title_abstract twice",
        ),
        (
            "999,title_abstract,include,,A,,\n101,title_abstract,include,,A,,\n10.9999/zz,full_text,include,,A,,\n",
            HEADER,
            r"2 decision\(s\) name no known record: .*row 2: '999'.*row 4: '10.9999/zz'",
        ),
    ],
)
def test_sheet_errors_name_file_row_and_column(
    tmp_path: Path, body: str, header: str, message: str
) -> None:
    with pytest.raises(InputFileError, match=message) as caught:
        _decisions(tmp_path, body, header)
    assert "s.csv" in str(caught.value)


def test_the_queue_saved_back_with_rows_undecided_is_read(tmp_path: Path) -> None:
    """The queue workbook pasted back with some rows still blank: those rows are undecided."""
    body = "101,title_abstract,,,,,\n102,title_abstract,include,,A,,\n"
    decisions = _decisions(tmp_path, body)
    assert [d.record_id for d in decisions] == ["pubmed:102"]
    with pytest.raises(
        InputFileError, match=r"row 2, column 'decision': a reason with no decision"
    ):
        _decisions(tmp_path, "101,title_abstract,,wrong_population,A,,\n")


def test_unknown_category_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match=r"column 'category': unknown category 'vet'"):
        _decisions(
            tmp_path,
            "101,full_text,include,,vet,A\n",
            "record,stage,decision,reason,category,reviewer\n",
        )


def _workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return path


def test_xlsx_sheets_are_read_with_their_row_numbers(tmp_path: Path) -> None:
    path = _workbook(
        tmp_path / "r.xlsx",
        {
            "notes": [["anything"]],
            "screening": [
                ["record", "stage", "decision", "reason", "reviewer", "date"],
                [101, "title_abstract", "include", None, "A", None],
                [None, None, None, None, None, None],
                [102, "title_abstract", "exclude", "not_intra_arterial", "A", None],
            ],
        },
    )
    decisions = read_decisions([path], INDEX, reasons=REASONS, categories=[])
    assert [(d.record_id, d.row) for d in decisions] == [("pubmed:101", 2), ("pubmed:102", 4)]


def test_xlsx_with_several_sheets_and_none_named_screening_is_an_error(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "r.xlsx", {"A": [["record"]], "B": [["record"]]})
    with pytest.raises(InputFileError, match=r"r\.xlsx: the workbook has several sheets \(A, B\)"):
        read_sheet(path)


def test_xlsx_formulas_are_errors_naming_the_cell(tmp_path: Path) -> None:
    path = _workbook(
        tmp_path / "r.xlsx",
        {
            "screening": [
                ["record", "stage", "decision", "reviewer"],
                [101, "title_abstract", '=IF(1,"include","exclude")', "A"],
            ]
        },
    )
    with pytest.raises(InputFileError, match=r"row 2, column 'decision': cell C2 holds a formula"):
        read_sheet(path)


# --- conflicts and statuses ------------------------------------------------------------------


def _entry(reviewer: str, decision: str, reason: str | None = None, stage: str = "title_abstract"):
    return SheetDecision("pubmed:101", stage, decision, reason, None, reviewer, None, None, "s", 2)


@pytest.mark.parametrize(
    ("rule", "entries", "expected"),
    [
        ("any_include", [("A", "include"), ("B", "exclude")], "include"),
        ("any_include", [("A", "maybe"), ("B", "exclude")], "maybe"),
        ("majority", [("A", "include"), ("B", "exclude"), ("C", "exclude")], "exclude"),
        ("majority", [("A", "include"), ("B", "exclude")], None),
        ("arbiter", [("A", "include"), ("B", "exclude"), ("TH", "exclude")], "exclude"),
        ("arbiter", [("A", "include"), ("B", "exclude")], None),
        ("unanimous", [("A", "include"), ("B", "exclude")], None),
        ("unanimous", [("A", "include"), ("B", "include")], "include"),
    ],
)
def test_conflict_rules(rule: str, entries: list, expected: str | None) -> None:
    resolved = resolve_stage(
        [
            _entry(name, decision, "wrong_population" if decision == "exclude" else None)
            for name, decision in entries
        ],
        rule,
        "TH",
    )
    assert resolved.decision == expected
    if len({decision for _, decision in entries}) > 1:
        assert resolved.conflict is not None


def test_agreeing_excludes_take_the_most_common_reason() -> None:
    resolved = resolve_stage(
        [_entry("A", "exclude", "x"), _entry("B", "exclude", "y"), _entry("C", "exclude", "y")],
        "unanimous",
        None,
    )
    assert (resolved.decision, resolved.reason, resolved.conflict) == ("exclude", "y", None)


def test_statuses_overrules_and_categories(tmp_path: Path) -> None:
    decisions = _decisions(
        tmp_path,
        "101,title_abstract,include,,A,,\n"
        "101,full_text,include,,A,,\n"
        "102,title_abstract,include,,A,,\n"  # overrules the route criterion
        "104,title_abstract,include,,A,,\n"
        "104,title_abstract,exclude,wrong_population,B,,\n"
        "104,full_text,exclude,not_retrieved,TH,,\n"
        "other:ref-1,full_text,include,,A,,\n",
    )
    result = screen(RECORDS, decisions, SETTINGS)
    screened = result.screened.set_index("record_id")
    assert screened.loc["pubmed:101", "status"] == "included"
    assert screened.loc["pubmed:101", "category"] == "preclinical"
    assert screened.loc["pubmed:102", "status"] == "awaiting_full_text"
    assert bool(screened.loc["pubmed:102", "overruled"]) is True
    assert screened.loc["pubmed:103", "status"] == "excluded_automatic"
    assert screened.loc["pubmed:103", "reason_text"] == "Review, comment or notice"
    assert screened.loc["pubmed:104", "status"] == "not_retrieved"
    assert screened.loc["pubmed:104", "suggested_category"] == "exosome"
    assert screened.loc["other:ref-1", "status"] == "included"
    assert result.overrules["record_id"].tolist() == ["pubmed:102"]
    assert result.conflicts[["record_id", "resolved_as"]].values.tolist() == [
        ["pubmed:104", "include"]
    ]


def test_a_reviewer_excluding_what_a_criterion_excludes_is_no_overrule(tmp_path: Path) -> None:
    decisions = _decisions(tmp_path, "103,title_abstract,exclude,wrong_population,A,,\n")
    result = screen(RECORDS, decisions, SETTINGS)
    row = result.screened.set_index("record_id").loc["pubmed:103"]
    assert row["auto_decision"] == "exclude"
    assert (row["status"], row["reason"]) == ("excluded_title_abstract", "wrong_population")
    assert bool(row["overruled"]) is False
    assert result.overrules.empty


def test_unresolved_conflicts_stay_in_the_queue_with_their_description(tmp_path: Path) -> None:
    decisions = _decisions(
        tmp_path,
        "101,full_text,include,,A,,\n101,full_text,exclude,wrong_population,B,,\n",
    )
    result = screen(RECORDS, decisions, SETTINGS)
    row = result.screened.set_index("record_id").loc["pubmed:101"]
    assert row["status"] == "awaiting_full_text"
    assert row["conflict"] == "full_text: A: include, B: exclude"
    queue = build_queue(result.screened, RECORDS)
    assert (
        queue.set_index("record").loc["pubmed:101", "note"] == "full_text: A: include, B: exclude"
    )


# --- the queue -------------------------------------------------------------------------------


def test_queue_ranks_records_like_the_included_ones_first(tmp_path: Path) -> None:
    records = pd.DataFrame(
        [
            _record("pubmed:1", title="Intra-arterial mesenchymal stem cells in rat stroke"),
            _record("pubmed:2", title="Intra-arterial chemotherapy for retinoblastoma"),
            _record(
                "pubmed:3", title="Intra-arterial mesenchymal stem cells improve stroke recovery"
            ),
            _record("pubmed:4", title="Intra-arterial thrombolysis registry"),
        ]
    )
    decisions = [
        SheetDecision("pubmed:1", "full_text", "include", None, None, "A", None, None, "s", 2)
    ]
    result = screen(records, decisions, SETTINGS)
    queue = build_queue(result.screened, records)
    assert queue["record"].tolist()[0] == "pubmed:3"
    assert queue["rank"].tolist() == [1, 2, 3]
    assert list(queue.columns[:8]) == [
        "record",
        "stage",
        "decision",
        "reason",
        "category",
        "reviewer",
        "date",
        "note",
    ]
    assert queue["score"].is_monotonic_decreasing


def test_queue_xlsx_has_dropdowns_and_pastes_back_as_a_sheet(tmp_path: Path) -> None:
    records = RECORDS
    result = screen(records, [], SETTINGS)
    queue = build_queue(result.screened, records)
    path = tmp_path / "queue.xlsx"
    write_queue_xlsx(
        path,
        queue,
        stages=("title_abstract", "full_text"),
        decisions=("include", "exclude", "maybe"),
        reasons=tuple(REASONS),
        categories=("clinical", "exosome", "preclinical"),
    )
    workbook = load_workbook(path)
    sheet = workbook["screening"]
    # OOXML stores a validation's formula without its "=" (Excel shows it with one)
    formulas = sorted(v.formula1 for v in sheet.data_validations.dataValidation)
    assert formulas == [
        "lists!$A$2:$A$3",
        "lists!$B$2:$B$4",
        "lists!$C$2:$C$6",
        "lists!$D$2:$D$4",
    ]
    assert all(v.showErrorMessage for v in sheet.data_validations.dataValidation)
    assert sheet.freeze_panes == "B2"
    assert workbook["lists"].sheet_state == "hidden"
    # A reviewer fills the first row in and the workbook is read back as a screening sheet.
    sheet["C2"] = "include"
    sheet["F2"] = "TH"
    sheet.delete_rows(3, sheet.max_row)
    workbook.save(path)
    decisions = read_decisions([path], INDEX, reasons=REASONS, categories=["clinical"])
    assert [(d.decision, d.reviewer) for d in decisions] == [("include", "TH")]


def test_an_include_has_no_reason_not_the_text_none(tmp_path: Path) -> None:
    from litreview.screen import resolve_stage

    decisions = _decisions(tmp_path, "101,full_text,include,,A,,\n101,full_text,include,,B,,\n")
    resolved = resolve_stage(decisions, rule="any_include", arbiter=None)
    assert resolved.decision == "include"
    assert resolved.reason is None
