"""Extraction stage: sheet validation (every error names file, row, column), normalisation of
doses and timings, coverage of the included set, the report, and byte-identical outputs.

Base data (tests/data/extract/): six included studies drawn from the public reconstruction
(two rat stroke studies with arms, a mouse study, an EV study, two clinical studies), one
excluded and one awaiting record in screened.tsv.
"""

from __future__ import annotations

import copy
import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from litreview import io
from litreview.errors import ConfigError, InputFileError, ValidationError
from litreview.extract import (
    DOSES_COLUMNS,
    STUDIES_COLUMNS,
    TIMINGS_COLUMNS,
    Extraction,
    ExtractionCoverageError,
    ExtractionSettings,
    NormalisedExtraction,
    normalise,
    read_extraction,
    validation_report,
    write_outputs,
)

DATA = Path(__file__).parent / "data" / "extract"
CATEGORIES = ["clinical_stem_cell", "preclinical_exosome", "preclinical_stem_cell"]
CONFIG: dict[str, Any] = {
    "studies": "config/extraction/studies.csv",
    "arms": "config/extraction/arms.csv",
    "vocabularies": {
        "disease": [
            "ischemic_stroke",
            "traumatic_brain_injury",
            "intracerebral_hemorrhage",
            "multiple_system_atrophy",
            "other",
        ],
        "species": ["mouse", "rat", "dog", "human"],
        "tissue_source": ["bone_marrow", "umbilical_cord", "peripheral_blood", "other"],
        "origin": [
            "human",
            "animal_allogeneic",
            "animal_autologous",
            "animal_syngeneic",
            "autologous",
            "allogeneic",
        ],
        "modification": ["none", "preconditioned", "genetically_modified", "purified"],
        "mechanisms": [
            "neurogenesis",
            "angiogenesis",
            "anti_inflammation",
            "immunomodulation",
            "neuroprotection",
            "other",
        ],
    },
    # no dog: a total cell count in a dog study without weight must fail, naming the row
    "reference_weights_kg": {"mouse": 0.025, "rat": 0.275, "human": 70},
    "timing_bins": [
        {"label": "0-1 h", "min_hours": 0, "max_hours": 1},
        {"label": "1-6 h", "min_hours": 1, "max_hours": 7},
        {"label": "day 1", "min_hours": 7, "max_hours": 36},
        {"label": "day 2-3", "min_hours": 36, "max_hours": 84},
        {"label": "day 4-7", "min_hours": 84, "max_hours": 180},
        {"label": "day 8-14", "min_hours": 180, "max_hours": 348},
    ],
    "dose_unit_label": "1e5 cells/kg",
}
# rows of the base sheets (header = row 1)
YAVAGAL, FUKUDA, WONG, DABROWSKA, LIN, CHUNG = range(2, 8)


@pytest.fixture
def settings() -> ExtractionSettings:
    return ExtractionSettings.from_config(CONFIG)


@pytest.fixture
def screened() -> pd.DataFrame:
    return io.read_table(DATA / "screened.tsv")


def load(name: str) -> list[dict[str, str]]:
    with open(DATA / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def save(path: Path, rows: list[dict[str, str]], columns: list[str] | None = None) -> Path:
    columns = columns or list(rows[0])
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def read(
    studies: Path | str,
    arms: Path | str | None,
    settings: ExtractionSettings,
    screened: pd.DataFrame,
    **options: Any,
) -> Extraction:
    return read_extraction(
        studies, arms, settings=settings, screened=screened, categories=CATEGORIES, **options
    )


def run(tmp_path: Path, settings: ExtractionSettings, screened: pd.DataFrame, **edits: Any):
    """Write edited copies of the base sheets, read and normalise them."""
    studies, arms = load("studies.csv"), load("arms.csv")
    if "studies" in edits:
        edits["studies"](studies)
    if "arms" in edits:
        edits["arms"](arms)
    studies_path = save(tmp_path / "studies.csv", studies)
    arms_path = save(tmp_path / "arms.csv", arms)
    extraction = read(studies_path, arms_path, settings, screened)
    return extraction, normalise(extraction, settings)


def doses_of(normalised: NormalisedExtraction, record_id: str) -> pd.DataFrame:
    return normalised.doses[normalised.doses["record_id"] == record_id].reset_index(drop=True)


def study(normalised: NormalisedExtraction, record_id: str) -> dict[str, Any]:
    rows = normalised.studies[normalised.studies["record_id"] == record_id]
    assert len(rows) == 1
    return rows.iloc[0].to_dict()


# --- settings --------------------------------------------------------------------------------


def test_settings_from_config_keeps_the_section(settings: ExtractionSettings) -> None:
    assert settings.vocabularies["species"] == ("mouse", "rat", "dog", "human")
    assert settings.vocabularies["clinical_source"] == ("autologous", "allogeneic")  # default
    assert settings.reference_weights_kg["rat"] == 0.275
    assert [entry["label"] for entry in settings.timing_bins][:2] == ["0-1 h", "1-6 h"]
    assert settings.require_complete is True
    assert settings.studies == "config/extraction/studies.csv"
    assert settings.dose_unit_label == "1e5 cells/kg"


def _without(key: str) -> dict[str, Any]:
    config = copy.deepcopy(CONFIG)
    del config[key]
    return config


def _with(path: tuple[str, ...], value: object) -> dict[str, Any]:
    config = copy.deepcopy(CONFIG)
    node = config
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return config


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        (_with(("timing_binz",), []), "unknown key(s) timing_binz"),
        (_without("vocabularies"), "extraction.vocabularies is missing"),
        (_with(("vocabularies", "species"), []), "vocabularies.species must be a non-empty list"),
        (_with(("vocabularies", "colour"), ["red"]), "unknown column(s) colour"),
        (_with(("vocabularies", "origin"), ["human", "Human"]), "'Human' is listed twice"),
        (_with(("vocabularies", "mechanisms"), ["a;b"]), "holds ';'"),
        (_with(("vocabularies", "modification"), ["preconditioned"]), "must contain 'none'"),
        (_with(("reference_weights_kg", "rat"), 0), "reference_weights_kg.rat is 0"),
        (_with(("reference_weights_kg", "rat"), "0.3"), "give a number of kg"),
        (
            _with(("timing_bins",), [{"label": "a", "min_hours": 5, "max_hours": 1}]),
            "must be below max_hours",
        ),
        (_with(("require_complete",), "no"), "write true or false"),
    ],
)
def test_settings_errors_name_the_key(config: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ConfigError) as raised:
        ExtractionSettings.from_config(config)
    assert fragment in str(raised.value)


# --- the base sheets -------------------------------------------------------------------------


@pytest.fixture
def base(settings: ExtractionSettings, screened: pd.DataFrame):
    extraction = read(DATA / "studies.csv", DATA / "arms.csv", settings, screened)
    return extraction, normalise(extraction, settings)


def test_tables_have_the_contract_columns_in_order(base) -> None:
    _, normalised = base
    assert tuple(normalised.studies.columns) == STUDIES_COLUMNS
    assert tuple(normalised.doses.columns) == DOSES_COLUMNS
    assert tuple(normalised.timings.columns) == TIMINGS_COLUMNS
    assert list(normalised.studies["record_id"]) == sorted(normalised.studies["record_id"])


def test_keys_resolve_to_record_ids(base) -> None:
    extraction, _ = base
    by_label = dict(zip(extraction.studies["label"], extraction.studies["record_id"], strict=True))
    assert by_label["Yavagal2014"] == "pubmed:24807059"  # written as a PMID
    assert by_label["FukudaND"] == "other:recon-stroke-FukudaND"  # written as a DOI
    assert set(extraction.arms["record_id"]) == {"pubmed:24807059", "other:recon-stroke-FukudaND"}


def test_controlled_values_take_the_config_spelling(base) -> None:
    _, normalised = base
    assert study(normalised, "pubmed:37602422")["mechanisms"] == "anti_inflammation"
    fukuda = study(normalised, "other:recon-stroke-FukudaND")
    assert fukuda["mechanisms"] == "anti_inflammation; immunomodulation"


def test_arms_override_the_study_dose(base) -> None:
    _, normalised = base
    fukuda = doses_of(normalised, "other:recon-stroke-FukudaND")
    # the study row's "1x10^4 or 1x10^6 cells" is replaced by the two arms, not added to them
    assert list(fukuda["arm"]) == ["high", "low"]
    assert list(fukuda["cells"]) == [1e6, 1e4]
    assert list(fukuda["text"]) == ["1x10^6 cells", "1x10^4 cells"]
    readings = normalised.readings
    replaced = readings[readings["status"] == "replaced by arms"]
    assert list(replaced["record_id"]) == ["other:recon-stroke-FukudaND"]
    assert list(replaced["column"]) == ["dose_as_reported"]


def test_study_dose_stays_when_arms_only_split_timings(base) -> None:
    _, normalised = base
    yavagal = doses_of(normalised, "pubmed:24807059")
    assert len(yavagal) == 1 and pd.isna(yavagal.loc[0, "arm"])
    timings = normalised.timings[normalised.timings["record_id"] == "pubmed:24807059"]
    assert list(timings["arm"]) == ["1 h", "24 h"]
    assert list(timings["hours"]) == [1.0, 24.0]
    assert list(timings["bin"]) == ["1-6 h", "day 1"]
    row = study(normalised, "pubmed:24807059")
    assert row["timing_hours_min"] == 1.0 and row["timing_bin"] == "1-6 h"


def test_cells_per_kg_with_reference_weight_is_flagged_estimated(base) -> None:
    _, normalised = base
    fukuda = doses_of(normalised, "other:recon-stroke-FukudaND")
    # FACTS.md: 1e6 cells in a 0.275 kg rat = 36.4 x 10^5 /kg; 1e4 cells = 0.36 x 10^5 /kg
    assert fukuda.loc[0, "cells_per_kg"] == pytest.approx(3.636e6, rel=1e-3)
    assert fukuda.loc[1, "cells_per_kg"] == pytest.approx(3.636e4, rel=1e-3)
    assert list(fukuda["per_kg_estimated"]) == [True, True]
    assert set(fukuda["per_kg_basis"]) == {"reference weight rat 0.275 kg"}
    row = study(normalised, "other:recon-stroke-FukudaND")
    assert row["dose_cells_per_kg_min"] == pytest.approx(36363.64, rel=1e-6)
    assert row["dose_cells_per_kg_max"] == pytest.approx(3636363.64, rel=1e-6)


def test_cells_per_kg_with_study_and_arm_weight(
    tmp_path: Path, settings: ExtractionSettings, screened: pd.DataFrame
) -> None:
    def weigh_study(rows: list[dict[str, str]]) -> None:
        rows[FUKUDA - 2]["weight_kg"] = "0.3"

    def weigh_high_arm(rows: list[dict[str, str]]) -> None:
        rows[3]["weight_kg"] = "0.25"  # arms.csv row 5: Fukuda "high"

    _, normalised = run(tmp_path, settings, screened, studies=weigh_study, arms=weigh_high_arm)
    fukuda = doses_of(normalised, "other:recon-stroke-FukudaND")
    assert list(fukuda["arm"]) == ["high", "low"]
    assert list(fukuda["cells_per_kg"]) == [4e6, pytest.approx(1e4 / 0.3)]
    assert list(fukuda["per_kg_estimated"]) == [False, False]
    assert list(fukuda["per_kg_basis"]) == ["arm weight 0.25 kg", "study weight 0.3 kg"]
    assert study(normalised, "other:recon-stroke-FukudaND")["weight_kg"] == 0.3


def test_particles_are_kept_without_per_kg(base) -> None:
    _, normalised = base
    exosome = doses_of(normalised, "pubmed:31722731")
    assert exosome.loc[0, "unit"] == "particles"
    assert exosome.loc[0, "value"] == 1.3e9
    for column in ("cells", "cells_per_kg", "per_kg_estimated", "per_kg_basis"):
        assert pd.isna(exosome.loc[0, column]), column
    row = study(normalised, "pubmed:31722731")
    assert pd.isna(row["dose_cells_per_kg_min"]) and pd.isna(row["dose_cells_per_kg_max"])


def test_clinical_doses_per_patient_use_the_human_reference_weight(base) -> None:
    _, normalised = base
    lin = doses_of(normalised, "pubmed:39568005")
    assert lin.loc[0, "cells"] == 3e7
    assert lin.loc[0, "cells_per_kg"] == pytest.approx(3e7 / 70)
    assert lin.loc[0, "per_kg_estimated"]
    assert lin.loc[0, "per_kg_basis"] == "reference weight human 70 kg"
    chung = doses_of(normalised, "other:recon-clinical-Chung2021")
    assert list(chung["cells_per_kg"]) == [3e5, 6e5, 9e5]
    assert set(chung["per_kg_basis"]) == {"reported per kg"}
    assert not chung["per_kg_estimated"].any()


def test_derived_study_columns(base) -> None:
    _, normalised = base
    wong = study(normalised, "pubmed:37602422")
    assert (wong["origin_group"], wong["modified"]) == ("animal", True)
    assert (wong["timing_hours_min"], wong["timing_bin"]) == (3.0, "1-6 h")
    fukuda = study(normalised, "other:recon-stroke-FukudaND")
    assert (fukuda["origin_group"], fukuda["modified"]) == ("human", False)
    lin = study(normalised, "pubmed:39568005")
    assert pd.isna(lin["origin_group"])  # clinical autologous: neither human nor animal donor
    assert (lin["timing_hours_min"], lin["timing_bin"]) == (336.0, "day 8-14")
    assert (lin["n"], lin["registry_id"]) == (28, "ISRCTN15677760")
    yavagal = study(normalised, "pubmed:24807059")
    assert pd.isna(yavagal["origin_group"])  # origin not filled in
    chung = study(normalised, "other:recon-clinical-Chung2021")
    assert pd.isna(chung["timing_hours_min"]) and pd.isna(chung["timing_bin"])


def test_timing_outside_every_bin_is_other_and_missing_modification_is_na(
    tmp_path: Path, settings: ExtractionSettings, screened: pd.DataFrame
) -> None:
    def edit(rows: list[dict[str, str]]) -> None:
        rows[WONG - 2]["timing_as_reported"] = "4 weeks after stroke"
        rows[WONG - 2]["modification"] = ""

    _, normalised = run(tmp_path, settings, screened, studies=edit)
    wong = study(normalised, "pubmed:37602422")
    assert (wong["timing_hours_min"], wong["timing_bin"]) == (672.0, "other")
    assert pd.isna(wong["modified"])


# --- errors: every one names file, row and column ----------------------------------------------


def _set(row: int, column: str, value: str) -> Callable[[list[dict[str, str]]], None]:
    def edit(rows: list[dict[str, str]]) -> None:
        rows[row - 2][column] = value

    return edit


def _append(**values: str) -> Callable[[list[dict[str, str]]], None]:
    def edit(rows: list[dict[str, str]]) -> None:
        rows.append({column: values.get(column, "") for column in rows[0]})

    return edit


def _rename(old: str, new: str) -> Callable[[list[dict[str, str]]], None]:
    def edit(rows: list[dict[str, str]]) -> None:
        for index, row in enumerate(rows):
            rows[index] = {(new if key == old else key): value for key, value in row.items()}

    return edit


def _drop(column: str) -> Callable[[list[dict[str, str]]], None]:
    def edit(rows: list[dict[str, str]]) -> None:
        for row in rows:
            del row[column]

    return edit


STUDY_ERRORS = [
    ("missing column", _drop("disease"), 1, None, ["missing column(s) 'disease'"]),
    ("unknown column", _rename("labelling", "labeling"), 1, "labeling", ["unknown column(s)"]),
    ("empty required", _set(WONG, "disease", ""), WONG, "disease", ["empty required cell"]),
    (
        "species vocabulary",
        _set(WONG, "species", "hamster"),
        WONG,
        "species",
        ["'hamster' is not in the species vocabulary", "mouse, rat, dog, human"],
    ),
    (
        "tissue vocabulary",
        _set(DABROWSKA, "tissue_source", "bone marrow"),
        DABROWSKA,
        "tissue_source",
        ["'bone marrow'", "bone_marrow, umbilical_cord"],
    ),
    (
        "unknown mechanism",
        _set(FUKUDA, "mechanisms", "anti_inflammation; neurogenesiss"),
        FUKUDA,
        "mechanisms",
        ["unknown mechanism 'neurogenesiss'", "neurogenesis, angiogenesis"],
    ),
    ("weight zero", _set(WONG, "weight_kg", "0"), WONG, "weight_kg", ["'0' is not a positive"]),
    ("weight comma", _set(WONG, "weight_kg", "0,3"), WONG, "weight_kg", ["decimal point"]),
    ("n decimal", _set(LIN, "n", "28.5"), LIN, "n", ["'28.5' is not a positive whole number"]),
    ("n zero", _set(LIN, "n", "0"), LIN, "n", ["'0' is not a positive whole number"]),
    (
        "registry",
        _set(LIN, "registry_id", "NCT0308057"),
        LIN,
        "registry_id",
        ["'NCT0308057' is not a trial registry identifier", "NCT01234567"],
    ),
    (
        "unknown category",
        _set(WONG, "category", "preclinical"),
        WONG,
        "category",
        ["unknown category 'preclinical'", "preclinical_stem_cell"],
    ),
    (
        "category differs from screening",
        _set(WONG, "category", "preclinical_exosome"),
        WONG,
        "category",
        ["'preclinical_exosome' differs from the screened category 'preclinical_stem_cell'"],
    ),
    (
        "same study twice",
        _append(
            study="pubmed:24807059",
            category="preclinical_stem_cell",
            disease="ischemic_stroke",
            species="rat",
        ),
        8,
        "study",
        ["record pubmed:24807059, which already has a row (row 2, '24807059')"],
    ),
    (
        "unknown study key",
        _set(WONG, "study", "pubmed:11111111"),
        WONG,
        "study",
        ["'pubmed:11111111' names no record"],
    ),
    (
        "excluded record",
        _append(study="24390934", category="preclinical_stem_cell", disease="other", species="rat"),
        8,
        "study",
        ["record pubmed:24390934", "is excluded_full_text, not included"],
    ),
    (
        "awaiting record",
        _append(
            study="pubmed:22731389",
            category="preclinical_stem_cell",
            disease="ischemic_stroke",
            species="rat",
        ),
        8,
        "study",
        ["is awaiting_full_text, not included"],
    ),
    (
        "unreadable dose",
        _set(WONG, "dose_as_reported", "9.1 x 10? cells"),
        WONG,
        "dose_as_reported",
        ["cannot read '9.1 x 10? cells'", "superscript", "write the power of ten"],
    ),
    (
        "unreadable timing",
        _set(DABROWSKA, "timing_as_reported", "2 days later"),
        DABROWSKA,
        "timing_as_reported",
        ["cannot read '2 days later'", "counts from an earlier step"],
    ),
    (
        "no reference weight",
        _set(WONG, "species", "dog"),
        WONG,
        "species",
        ["no reference body weight for species 'dog'", "extraction.reference_weights_kg"],
    ),
]


@pytest.mark.parametrize(
    ("edit", "row", "column", "fragments"),
    [case[1:] for case in STUDY_ERRORS],
    ids=[case[0] for case in STUDY_ERRORS],
)
def test_studies_sheet_errors(
    tmp_path: Path,
    settings: ExtractionSettings,
    screened: pd.DataFrame,
    edit: Callable,
    row: int,
    column: str | None,
    fragments: list[str],
) -> None:
    with pytest.raises(InputFileError) as raised:
        run(tmp_path, settings, screened, studies=edit)
    error = raised.value
    assert error.path == tmp_path / "studies.csv"
    assert (error.row, error.column) == (row, column)
    for fragment in fragments:
        assert fragment in str(error)


ARM_ERRORS = [
    ("missing column", _drop("arm"), 1, None, ["missing column(s) 'arm'"]),
    ("unknown column", _rename("note", "notes"), 1, "notes", ["unknown column(s) 'notes'"]),
    ("empty arm", _set(4, "arm", ""), 4, "arm", ["empty required cell"]),
    (
        "study without studies row",
        _append(study="24390934", arm="large cells"),
        6,
        "study",
        ["(record pubmed:24390934) has no row in the studies sheet"],
    ),
    ("unknown key", _set(4, "study", "10.1000/nothing"), 4, "study", ["names no record"]),
    (
        "duplicate arm",
        _append(study="other:recon-stroke-FukudaND", arm="High"),
        6,
        "arm",
        ["arm 'High' of record other:recon-stroke-FukudaND is already in row 5"],
    ),
    ("arm species", _set(4, "species", "hamster"), 4, "species", ["species vocabulary"]),
    ("arm weight", _set(5, "weight_kg", "-0.3"), 5, "weight_kg", ["'-0.3' is not a positive"]),
    (
        "arm dose",
        _set(5, "dose_as_reported", "2 x 10^6 cells/mL"),
        5,
        "dose_as_reported",
        ["a concentration, not a dose"],
    ),
]


@pytest.mark.parametrize(
    ("edit", "row", "column", "fragments"),
    [case[1:] for case in ARM_ERRORS],
    ids=[case[0] for case in ARM_ERRORS],
)
def test_arms_sheet_errors(
    tmp_path: Path,
    settings: ExtractionSettings,
    screened: pd.DataFrame,
    edit: Callable,
    row: int,
    column: str | None,
    fragments: list[str],
) -> None:
    with pytest.raises(InputFileError) as raised:
        run(tmp_path, settings, screened, arms=edit)
    error = raised.value
    assert error.path == tmp_path / "arms.csv"
    assert (error.row, error.column) == (row, column)
    for fragment in fragments:
        assert fragment in str(error)


def test_merged_record_ids_resolve_to_the_kept_record(
    tmp_path: Path, settings: ExtractionSettings, screened: pd.DataFrame
) -> None:
    studies = load("studies.csv")
    studies[WONG - 2]["study"] = "embase:L2023456789"
    path = save(tmp_path / "studies.csv", studies)
    with pytest.raises(InputFileError):
        read(path, DATA / "arms.csv", settings, screened)
    extraction = read(
        path,
        DATA / "arms.csv",
        settings,
        screened,
        merged_into={"embase:L2023456789": "pubmed:37602422"},
    )
    assert "pubmed:37602422" in set(extraction.studies["record_id"])


def test_registry_identifiers_of_other_registries(
    tmp_path: Path, settings: ExtractionSettings, screened: pd.DataFrame
) -> None:
    identifiers = "ChiCTR-TRC-12002505; UMIN000012345; jRCTb030190207; 2004-000446-20; NCT03080571"
    _, normalised = run(tmp_path, settings, screened, studies=_set(LIN, "registry_id", identifiers))
    assert study(normalised, "pubmed:39568005")["registry_id"] == identifiers


# --- coverage --------------------------------------------------------------------------------


@pytest.fixture
def screened_with_a_missing_study(screened: pd.DataFrame) -> pd.DataFrame:
    extra = pd.DataFrame(
        {
            "record_id": ["pubmed:23477395"],
            "pmid": ["23477395"],
            "doi": ["10.2217/rme.13.2"],
            "title": ["Cell labeling and tracking in subacute ischemic stroke patients"],
            "year": ["2013"],
            "status": ["included"],
            "category": ["clinical_stem_cell"],
        },
        dtype="string",
    )
    return pd.concat([screened, extra], ignore_index=True)


def test_missing_included_study_stops_the_run_when_required(
    settings: ExtractionSettings, screened_with_a_missing_study: pd.DataFrame
) -> None:
    with pytest.raises(ExtractionCoverageError) as raised:
        read(DATA / "studies.csv", DATA / "arms.csv", settings, screened_with_a_missing_study)
    error = raised.value
    assert isinstance(error, InputFileError) and isinstance(error, ValidationError)
    assert error.path == DATA / "studies.csv"
    message = str(error)
    assert "1 of 7 included studies have no row" in message
    assert "pubmed:23477395 ('Cell labeling and tracking in subacute" in message
    assert "require_complete: false" in message


def test_missing_included_study_is_reported_when_not_required(
    screened_with_a_missing_study: pd.DataFrame,
) -> None:
    settings = ExtractionSettings.from_config({**CONFIG, "require_complete": False})
    extraction = read(
        DATA / "studies.csv", DATA / "arms.csv", settings, screened_with_a_missing_study
    )
    assert list(extraction.missing["record_id"]) == ["pubmed:23477395"]
    normalised = normalise(extraction, settings)
    report = validation_report(extraction, normalised)
    assert "6 of 7 included studies (86%) have a row in the studies sheet." in report
    assert (
        "- `pubmed:23477395`: 'Cell labeling and tracking in subacute ischemic stroke patients'"
        in report
    )
    assert "| clinical_stem_cell | 3 | 2 |" in report
    assert "Included studies with an extraction row (6):" in report
    assert "- `pubmed:39568005`: 'Intracarotid transplantation of autologous CD34+" in report


# --- report ------------------------------------------------------------------------------------


def test_report_counts_estimates_and_lists_unread_cells(
    tmp_path: Path, settings: ExtractionSettings, screened: pd.DataFrame
) -> None:
    def edit(rows: list[dict[str, str]]) -> None:
        rows[WONG - 2]["dose_as_reported"] = "dose not stated"
        rows[DABROWSKA - 2]["dose_as_reported"] = ""
        rows[LIN - 2]["dose_as_reported"] = "3 x 10^7"

    extraction, normalised = run(tmp_path, settings, screened, studies=edit)
    report = validation_report(extraction, normalised)
    assert "6 of 6 included studies (100%)" in report
    # Fukuda 2 arms + Yavagal 1 (rat) + Lin 1 (human): 4 estimated
    assert "| of which estimated with a reference body weight | 4 |" in report
    assert "- reference weight rat 0.275 kg: 3" in report
    assert "- reference weight human 70 kg: 1" in report
    studies_csv = tmp_path / "studies.csv"
    assert "### Empty dose cells (1)" in report
    assert f"- `pubmed:31722731` (Dabrowska2019): {studies_csv}, row {DABROWSKA}" in report
    assert "### Dose text with no dose value in it (1)" in report
    assert f"(Wong2023): {studies_csv}, row {WONG}: 'dose not stated'" in report
    assert "### Empty timing cells (1)" in report  # Chung2021
    assert "### Study-row doses replaced by the arms' doses (1)" in report
    assert "### Dose counts with no unit written, read as cells (1)" in report
    assert f"(Lin2024): {studies_csv}, row {LIN}: '3 x 10^7'" in report
    assert doses_of(normalised, "pubmed:37602422").empty


# --- XLSX --------------------------------------------------------------------------------------


def _workbook(path: Path, sheets: dict[str, list[dict[str, str]]]) -> Path:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        columns = list(rows[0])
        sheet.append(columns)
        for row in rows:
            values: list[object] = []
            for column in columns:
                value = row[column] or None
                if value is not None and column == "n":
                    value = int(value)  # numbers typed as numbers, as in Excel
                elif value is not None and column == "weight_kg":
                    value = float(value)
                values.append(value)
            sheet.append(values)
    workbook.save(path)
    return path


def test_xlsx_workbook_with_both_sheets_reads_like_csv(
    tmp_path: Path, settings: ExtractionSettings, screened: pd.DataFrame
) -> None:
    studies = load("studies.csv")
    studies[FUKUDA - 2]["weight_kg"] = "0.275"  # a number cell in the workbook
    _, from_csv = run(tmp_path, settings, screened, studies=_set(FUKUDA, "weight_kg", "0.275"))
    path = _workbook(tmp_path / "extraction.xlsx", {"studies": studies, "arms": load("arms.csv")})
    extraction = read(path, path, settings, screened)
    from_xlsx = normalise(extraction, settings)
    for name in ("studies", "doses", "timings"):
        pd.testing.assert_frame_equal(getattr(from_xlsx, name), getattr(from_csv, name))
    assert study(from_xlsx, "pubmed:39568005")["n"] == 28
    assert set(doses_of(from_xlsx, "other:recon-stroke-FukudaND")["per_kg_basis"]) == {
        "study weight 0.275 kg"
    }


def test_xlsx_errors_name_the_spreadsheet_row(
    tmp_path: Path, settings: ExtractionSettings, screened: pd.DataFrame
) -> None:
    studies = load("studies.csv")
    studies[WONG - 2]["species"] = "hamster"
    path = _workbook(tmp_path / "studies.xlsx", {"studies": studies})
    with pytest.raises(InputFileError) as raised:
        read(path, None, settings, screened)
    assert (raised.value.path, raised.value.row, raised.value.column) == (path, WONG, "species")


# --- output ------------------------------------------------------------------------------------


def _write(directory: Path, extraction: Extraction, normalised: NormalisedExtraction) -> None:
    write_outputs(
        normalised,
        validation_report(extraction, normalised),
        studies_path=directory / "studies.tsv",
        doses_path=directory / "doses.tsv",
        timings_path=directory / "timings.tsv",
        report_path=directory / "validation.md",
    )


def test_outputs_are_byte_identical_whatever_the_sheet_order(
    tmp_path: Path, settings: ExtractionSettings, screened: pd.DataFrame, base
) -> None:
    _write(tmp_path / "first", *base)
    extraction = read(DATA / "studies.csv", DATA / "arms.csv", settings, screened)
    _write(tmp_path / "again", extraction, normalise(extraction, settings))
    shuffled = tmp_path / "shuffled"
    shuffled.mkdir()
    extraction, normalised = run(
        shuffled, settings, screened, studies=list.reverse, arms=list.reverse
    )
    _write(shuffled, extraction, normalised)
    for name in ("studies.tsv", "doses.tsv", "timings.tsv", "validation.md"):
        first = (tmp_path / "first" / name).read_bytes()
        assert first == (tmp_path / "again" / name).read_bytes(), name
        if name != "validation.md":  # the report names files and rows, which moved
            assert first == (shuffled / name).read_bytes(), name
    assert not list((tmp_path / "first").glob(".*"))  # no temp files left behind


def test_written_tables_read_back(tmp_path: Path, base) -> None:
    _write(tmp_path, *base)
    studies = io.read_table(tmp_path / "studies.tsv")
    doses = io.read_table(tmp_path / "doses.tsv")
    timings = io.read_table(tmp_path / "timings.tsv")
    assert len(studies) == 6 and len(doses) == 9 and len(timings) == 6
    wong = studies[studies["record_id"] == "pubmed:37602422"].iloc[0]
    assert (wong["modified"], wong["origin_group"], wong["timing_bin"]) == (
        "True",
        "animal",
        "1-6 h",
    )
    assert float(wong["dose_cells_per_kg_max"]) == 3640000.0
    lin = studies[studies["record_id"] == "pubmed:39568005"].iloc[0]
    assert lin["n"] == "28" and pd.isna(lin["origin_group"])
    particles = doses[doses["unit"] == "particles"].iloc[0]
    assert pd.isna(particles["cells_per_kg"]) and pd.isna(particles["per_kg_estimated"])
    assert (
        (tmp_path / "validation.md")
        .read_text(encoding="utf-8")
        .startswith("# Extraction validation report\n")
    )
