"""The declared extraction form: config errors name the key; sheet errors name file, row,
column, the value and what is allowed; arms inherit; the blank workbook."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from litreview.errors import ConfigError, InputFileError
from litreview.extract.form import form_from_config
from litreview.extract.outputs import validation_report, write_form_workbook
from litreview.extract.sheets import (
    ExtractionCoverageError,
    included_records,
    normalise,
    read_extraction,
)

CATEGORIES = {"trial": "Trials", "cohort": "Cohorts"}


def section(**changes: object) -> dict:
    base = {
        "units": {"tablets": {"words": ["tablet*"]}},
        "events": {"incision": {"words": ["incision"], "offset": "0 min"}},
        "fields": [
            {"name": "label", "type": "text"},
            {
                "name": "category",
                "type": "code",
                "vocabulary": "screening.categories",
                "required": True,
            },
            {
                "name": "arm_type",
                "type": "code",
                "vocabulary": {"active": "Active drug", "placebo": "Placebo"},
                "groups": {"arm_group": {"treated": ["active"], "control": ["placebo"]}},
            },
            {
                "name": "population",
                "type": "code",
                "vocabulary": ["adult", "child"],
                "level": "both",
            },
            {"name": "weight_kg", "type": "number", "min_exclusive": 0, "level": "both"},
            {"name": "n", "type": "integer", "min": 1},
            {"name": "blinded", "type": "boolean"},
            {"name": "started", "type": "date"},
            {"name": "outcomes", "type": "codes", "vocabulary": ["pain", "infection"]},
            {"name": "registry", "type": "identifier", "patterns": {"NCT": r"NCT\d{8}"}},
            {
                "name": "dose",
                "type": "quantity",
                "column": "dose_as_reported",
                "level": "both",
                "measures": "amount",
                "unit": "mg",
                "per_weight": "kg",
                "weight": "weight_kg",
                "reference_by": "population",
                "reference_weights_kg": {"adult": 70},
            },
            {"name": "timing", "type": "quantity", "measures": "time_from_event", "unit": "min"},
        ],
        "derived": [{"name": "n_twice", "sum": ["n", "n"]}],
    }
    if "fields" in changes and "derived" not in changes:
        base["derived"] = []
    base.update(changes)
    return base


FORM = form_from_config(section(), screening_categories=CATEGORIES)
SCREENED = pd.DataFrame(
    {
        "record_id": pd.array(["pubmed:1", "pubmed:2", "pubmed:3"], dtype="string"),
        "pmid": pd.array(["1", "2", "3"], dtype="string"),
        "doi": pd.array([None, None, None], dtype="string"),
        "title": pd.array(["One", "Two", "=cmd|' /C calc'!A0"], dtype="string"),
        "status": pd.array(["included", "included", "excluded_title_abstract"], dtype="string"),
        "category": pd.array(["trial", "cohort", None], dtype="string"),
    }
)
HEADER = "study,label,category,arm_type,population,weight_kg,n,blinded,started,outcomes,registry,dose_as_reported,timing\n"


def write(tmp_path: Path, rows: str, name: str = "studies.csv", header: str = HEADER) -> Path:
    path = tmp_path / name
    path.write_text(header + rows, encoding="utf-8")
    return path


GOOD = (
    "1,One2020,trial,active,adult,80,120,yes,2020-03,pain; infection,NCT01234567,2 g,30 min before incision\n"
    "2,Two2021,cohort,placebo,child,,40,no,2021,,,20 mg/kg,\n"
)


def read(path: Path, arms: Path | None = None, **options: object):
    return read_extraction(FORM, path, arms, screened=SCREENED, **options)


def test_a_good_sheet_is_read_typed_and_normalised(tmp_path: Path) -> None:
    extraction = read(write(tmp_path, GOOD))
    normalised = normalise(FORM, extraction)
    studies = normalised.studies.set_index("record_id")
    assert studies.loc["pubmed:1", "blinded"] == True  # noqa: E712 (a nullable boolean)
    assert studies.loc["pubmed:1", "started"] == "2020-03"
    assert studies.loc["pubmed:1", "outcomes"] == "pain; infection"
    assert studies.loc["pubmed:1", "arm_group"] == "treated"
    assert studies.loc["pubmed:1", "n_twice"] == 240
    assert studies.loc["pubmed:1", "dose_per_kg_max"] == 25.0
    assert studies.loc["pubmed:2", "dose_per_kg_min"] == 20.0
    assert studies.loc["pubmed:1", "timing_min"] == -30.0
    dose = normalised.values["dose"]
    assert dose["text"].tolist() == ["2 g", "20 mg/kg"]
    report = validation_report(FORM, extraction, normalised)
    assert "2 of 2 included studies (100%)" in report


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        ("1,A,trial,active,adult,80,120,maybe,,,,,\n", "blinded", "'maybe' is not yes or no"),
        ("1,A,trial,drug,adult,80,120,,,,,,\n", "arm_type", "'drug' is not a code of arm_type"),
        ("1,A,trial,active,adult,-3,120,,,,,,\n", "weight_kg", "'-3' is out of range"),
        ("1,A,trial,active,adult,heavy,120,,,,,,\n", "weight_kg", "'heavy' is not a number"),
        ("1,A,trial,active,adult,80,0,,,,,,\n", "n", "'0' is out of range"),
        ("1,A,trial,active,adult,80,1.5,,,,,,\n", "n", "'1.5' is not a whole number"),
        ("1,A,trial,active,adult,80,1,,2020-13-01,,,,\n", "started", "is not a date"),
        ("1,A,trial,active,adult,80,1,,,pain; itch,,,\n", "outcomes", "'itch' in 'pain; itch'"),
        ("1,A,trial,active,adult,80,1,,,,NCT123,,\n", "registry", "'NCT123' is not an identifier"),
        ("1,A,cohort,active,adult,80,1,,,,,,\n", "category", "differs from the screened category"),
        ("1,A,,active,adult,80,1,,,,,,\n", "category", "empty required cell"),
        ('1,A,trial,active,adult,80,1,,,,,"1,5e6 tablets",\n', "dose_as_reported", "ambiguous"),
        (
            "1,A,trial,active,adult,80,1,,,,,500 mg/h,\n",
            "dose_as_reported",
            "rate with no duration",
        ),
        ("3,A,trial,active,adult,80,1,,,,,,\n", "study", "not included"),
        ("99,A,trial,active,adult,80,1,,,,,,\n", "study", "names no record"),
    ],
)
def test_every_bad_cell_names_file_row_column_value_and_what_is_allowed(
    tmp_path: Path, row: str, column: str, message: str
) -> None:
    path = write(tmp_path, row)
    with pytest.raises(InputFileError, match=message) as caught:
        normalise(FORM, read(path, require_complete=False))
    assert caught.value.row == 2
    assert caught.value.column == column
    assert str(path) in str(caught.value)


def test_a_total_dose_with_no_reference_weight_names_the_group_column(tmp_path: Path) -> None:
    path = write(tmp_path, "2,Two,cohort,placebo,child,,40,,,,,2 g,\n")
    with pytest.raises(InputFileError, match="reference weight for population 'child'") as caught:
        normalise(FORM, read(path, require_complete=False))
    assert caught.value.column == "population"


def test_unknown_and_missing_columns_are_named(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="colour"):
        read(write(tmp_path, "1,A,trial\n", header="study,label,category,colour\n"))
    with pytest.raises(InputFileError, match="category"):
        read(write(tmp_path, "1,A\n", header="study,label\n"))


def test_missing_included_studies_stop_the_run_or_are_listed(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.splitlines(keepends=True)[0])
    with pytest.raises(ExtractionCoverageError, match="1 of 2 included studies have no row"):
        read(path)
    extraction = read(path, require_complete=False)
    assert extraction.missing["record_id"].tolist() == ["pubmed:2"]


def test_arms_inherit_the_study_row_and_replace_its_quantities(tmp_path: Path) -> None:
    studies = write(tmp_path, GOOD)
    arms = write(
        tmp_path,
        "1,low,,1 g,\n1,high,child,2 g,\n",
        name="arms.csv",
        header="study,arm,population,dose_as_reported,weight_kg\n",
    )
    arms.write_text(
        "study,arm,population,dose_as_reported,weight_kg\n1,low,,1 g,\n1,high,child,2 g,40\n"
    )
    normalised = normalise(FORM, read(studies, arms))
    dose = normalised.values["dose"]
    first = dose[dose["record_id"] == "pubmed:1"]
    assert first["arm"].tolist() == ["high", "low"]
    assert first["per_weight"].tolist() == [50.0, 12.5]  # 2 g / 40 kg (arm); 1 g / 80 kg (study)
    assert first["per_weight_basis"].tolist() == ["arm weight 40 kg", "study weight 80 kg"]
    readings = normalised.readings
    replaced = readings[(readings["field"] == "dose") & (readings["status"] == "replaced by arms")]
    assert replaced["record_id"].tolist() == ["pubmed:1"]


def test_an_arm_of_a_study_without_a_row_is_an_error(tmp_path: Path) -> None:
    studies = write(tmp_path, GOOD)
    arms = tmp_path / "arms.csv"
    arms.write_text("study,arm,dose_as_reported\n2,a,1 g\n2,a,2 g\n")
    with pytest.raises(InputFileError, match="arm 'a' of record pubmed:2 is already in row 2"):
        read(studies, arms)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"fields": []}, r"extraction\.fields must list"),
        ({"fields": [{"name": "x", "type": "colour"}]}, r"fields\[1\] \(x\)\.type is 'colour'"),
        ({"fields": [{"name": "x", "type": "text", "vocabulary": ["a"]}]}, "only code and codes"),
        ({"fields": [{"name": "x", "type": "code", "vocabulary": ["a", "A"]}]}, "listed twice"),
        ({"fields": [{"name": "x", "type": "code"}]}, "must list codes"),
        ({"fields": [{"name": "x", "type": "text", "colour": 1}]}, "unknown key"),
        ({"fields": [{"name": "x", "type": "text", "level": "ward"}]}, "level is 'ward'"),
        ({"fields": [{"name": "x", "type": "text"}, {"name": "x", "type": "text"}]}, "used twice"),
        ({"fields": [{"name": "study", "type": "text"}]}, "key column"),
        (
            {
                "fields": [
                    {
                        "name": "x",
                        "type": "code",
                        "vocabulary": ["a"],
                        "groups": {"g": {"h": ["b"]}},
                    }
                ]
            },
            "'b' matches no code of x",
        ),
        (
            {
                "fields": [
                    {
                        "name": "d",
                        "type": "quantity",
                        "measures": "amount",
                        "unit": "mg",
                        "per_weight": "kg",
                        "weight": "w",
                    }
                ]
            },
            r"weight: 'w' is not a number field",
        ),
        ({"fields": [{"name": "x", "type": "identifier", "patterns": {"a": "("}}]}, r"patterns\.a"),
        (
            {"derived": [{"name": "s", "sum": ["label", "n"]}]},
            "'label' is not an integer or number field",
        ),
        ({"derived": [{"name": "s", "sum": ["dose", "n"]}]}, "'n' is not an integer or number"),
    ],
)
def test_form_errors_name_the_key(changes: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        form_from_config(section(**changes), screening_categories=CATEGORIES)


def test_the_blank_workbook(tmp_path: Path) -> None:
    path = tmp_path / "form.xlsx"
    write_form_workbook(path, FORM, included_records(SCREENED))
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["studies", "arms", "fields", "lists"]
    studies = workbook["studies"]
    assert [c.value for c in studies[1]][:4] == ["study", "label", "category", "arm_type"]
    assert [[c.value for c in row][:3] for row in studies.iter_rows(min_row=2)] == [
        ["pubmed:1", None, "trial"],
        ["pubmed:2", None, "cohort"],
    ]
    formulas = [v.formula1 for v in studies.data_validations.dataValidation]
    assert len(formulas) == 3  # category, arm_type, population
    assert [c.value for c in workbook["arms"][1]] == [
        "study",
        "arm",
        "population",
        "weight_kg",
        "dose_as_reported",
    ]
    fields = {row[1].value: row for row in workbook["fields"].iter_rows(min_row=2)}
    assert fields["dose"][5].value == "an amount as reported (normalised to mg and mg/kg)"
    assert fields["outcomes"][5].value == "codes of pain, infection, separated by ';'"


def test_the_blank_workbook_never_holds_a_live_formula(tmp_path: Path) -> None:
    screened = SCREENED.assign(
        status=pd.array(["included"] * 3, dtype="string"),
        category=pd.array(["trial", "cohort", '=HYPERLINK("x")'], dtype="string"),
    )
    form = form_from_config(
        section(
            fields=[{"name": "category", "type": "code", "vocabulary": "screening.categories"}]
        ),
        screening_categories={"trial": "t", "cohort": "c", '=HYPERLINK("x")': "bad"},
    )
    path = tmp_path / "form.xlsx"
    write_form_workbook(path, form, included_records(screened))
    cells = [row[1] for row in load_workbook(path)["studies"].iter_rows(min_row=2)]
    assert [cell.data_type for cell in cells] == ["s", "s", "s"]


def test_a_derived_sum_of_two_amounts(tmp_path: Path) -> None:
    fields = [
        {"name": "bolus", "type": "quantity", "measures": "amount", "unit": "mg"},
        {"name": "infusion", "type": "quantity", "measures": "amount", "unit": "g"},
    ]
    form = form_from_config(
        section(fields=fields, derived=[{"name": "total_mg", "sum": ["bolus", "infusion"]}]),
        screening_categories=CATEGORIES,
    )
    path = write(tmp_path, "1,500 mg,1 g/h for 2 h\n2,500 mg,\n", header="study,bolus,infusion\n")
    normalised = normalise(form, read_extraction(form, path, None, screened=SCREENED))
    totals = normalised.studies["total_mg"].tolist()
    assert totals[0] == 2500.0
    assert pd.isna(totals[1])
    volume = {"name": "volume", "type": "quantity", "measures": "amount", "unit": "mL"}
    with pytest.raises(ConfigError, match="'volume' is in mL, which does not add to mg"):
        form_from_config(
            section(
                fields=[fields[0], volume], derived=[{"name": "t", "sum": ["bolus", "volume"]}]
            ),
            screening_categories=CATEGORIES,
        )
