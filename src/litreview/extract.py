"""Extraction: the reviewers' per-study sheets, validated, then normalised into three tables.

Reviewers fill a studies sheet (one row per included study) and, for studies with several
arms, an arms sheet; doses and timings are copied as the paper words them. This stage checks
every cell against the config's vocabularies and the screening outcome (each problem is an
`InputFileError` naming file, row and column), then reads the doses and timings with
`litreview.units` into `studies.tsv`, `doses.tsv` and `timings.tsv` (see
notes/issue5.md for the columns) and writes a validation report saying how much of the
included set the sheets cover, which per-kg values rest on a reference body weight, and which
doses or timings could not be read.

Arms and the study row: for doses and for timings separately, when any arm of a study states
one, the arms give that study's values (a study-row value is then listed as replaced in the
report); otherwise the study row gives them, with no arm. An arm's species and weight override
the study's for its own doses.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pandas as pd

from litreview import io
from litreview.errors import ConfigError, InputFileError, ValidationError
from litreview.screen import RecordIndex
from litreview.sheets import ROW_COLUMN, check_columns, read_sheet
from litreview.units import (
    Dose,
    MissingReferenceWeightError,
    Timing,
    UnitConversionError,
    UnitParseError,
    check_timing_bins,
    parse_dose,
    parse_timing,
    timing_bin,
    to_cells_per_kg,
)

__all__ = [
    "ARM_COLUMNS",
    "DOSES_COLUMNS",
    "REGISTRY_PATTERNS",
    "STUDIES_COLUMNS",
    "STUDY_COLUMNS",
    "TIMINGS_COLUMNS",
    "Extraction",
    "ExtractionCoverageError",
    "ExtractionSettings",
    "NormalisedExtraction",
    "normalise",
    "read_extraction",
    "validation_report",
    "write_outputs",
]

# --- the sheets ----------------------------------------------------------------------------

STUDY_COLUMNS: tuple[str, ...] = (
    "study",
    "label",
    "category",
    "disease",
    "disease_text",
    "species",
    "weight_kg",
    "cell_type",
    "tissue_source",
    "tissue_text",
    "origin",
    "modification",
    "modification_aim",
    "dose_as_reported",
    "timing_as_reported",
    "artery",
    "labelling",
    "mechanisms",
    "outcome",
    "adverse_events",
    "design",
    "n",
    "registry_id",
    "clinical_source",
    "note",
)
STUDY_REQUIRED: tuple[str, ...] = ("study", "category", "disease", "species")
ARM_COLUMNS: tuple[str, ...] = (
    "study",
    "arm",
    "species",
    "weight_kg",
    "cell_type",
    "dose_as_reported",
    "timing_as_reported",
    "note",
)
ARM_REQUIRED: tuple[str, ...] = ("study", "arm")
STUDIES_SHEET = "studies"  # preferred sheet names when a workbook holds several sheets
ARMS_SHEET = "arms"

# Controlled columns: each names its vocabulary in config `extraction.vocabularies`.
SINGLE_VALUED = ("disease", "species", "tissue_source", "origin", "modification", "clinical_source")
MULTI_VALUED = ("mechanisms",)
REQUIRED_VOCABULARIES = (
    "disease",
    "species",
    "tissue_source",
    "origin",
    "modification",
    "mechanisms",
)
DEFAULT_VOCABULARIES: dict[str, tuple[str, ...]] = {"clinical_source": ("autologous", "allogeneic")}
UNMODIFIED = "none"  # the modification code meaning "not modified"

# Trial registries a registry_id may come from: name -> pattern of a whole identifier.
REGISTRY_PATTERNS: dict[str, re.Pattern[str]] = {
    "ClinicalTrials.gov": re.compile(r"NCT\d{8}", re.IGNORECASE),
    "ISRCTN": re.compile(r"ISRCTN\d{8}", re.IGNORECASE),
    "ChiCTR": re.compile(r"ChiCTR(?:-[A-Z]{2,4}-)?\d{8,10}", re.IGNORECASE),
    "UMIN-CTR": re.compile(r"UMIN\d{9}", re.IGNORECASE),
    "jRCT": re.compile(r"jRCT(?:[a-z]\d{9}|\d{10})", re.IGNORECASE),
    "EudraCT": re.compile(r"(?:EudraCT[\s:]*)?\d{4}-\d{6}-\d{2}", re.IGNORECASE),
}
_REGISTRY_EXAMPLES = (
    "NCT01234567, ISRCTN12345678, ChiCTR2000012345, UMIN000012345, jRCTb030190207, 2004-000446-20"
)

# --- the outputs ---------------------------------------------------------------------------

STUDIES_COLUMNS: tuple[str, ...] = (
    "record_id",
    "label",
    "category",
    "disease",
    "disease_text",
    "species",
    "weight_kg",
    "cell_type",
    "tissue_source",
    "tissue_text",
    "origin",
    "modification",
    "modification_aim",
    "artery",
    "labelling",
    "mechanisms",
    "outcome",
    "adverse_events",
    "design",
    "n",
    "registry_id",
    "clinical_source",
    "note",
    "origin_group",
    "modified",
    "timing_hours_min",
    "timing_bin",
    "dose_cells_per_kg_min",
    "dose_cells_per_kg_max",
)
DOSES_COLUMNS: tuple[str, ...] = (
    "record_id",
    "arm",
    "species",
    "text",
    "value",
    "unit",
    "cells",
    "cells_per_kg",
    "per_kg_estimated",
    "per_kg_basis",
    "is_range_end",
)
TIMINGS_COLUMNS: tuple[str, ...] = ("record_id", "arm", "text", "hours", "anchor", "event", "bin")
READINGS_COLUMNS: tuple[str, ...] = (
    "record_id",
    "label",
    "arm",
    "file",
    "row",
    "column",
    "text",
    "status",
    "values",
    "unit_assumed",
)
_FLOAT_COLUMNS = {
    "weight_kg",
    "timing_hours_min",
    "dose_cells_per_kg_min",
    "dose_cells_per_kg_max",
    "value",
    "cells",
    "cells_per_kg",
    "hours",
}
_INTEGER_COLUMNS = {"n", "row", "values", "unit_assumed"}
_BOOLEAN_COLUMNS = {"modified", "per_kg_estimated"}

_SETTINGS_KEYS = (
    "studies",
    "arms",
    "vocabularies",
    "reference_weights_kg",
    "timing_bins",
    "dose_unit_label",
    "require_complete",
)


class ExtractionCoverageError(InputFileError, ValidationError):
    """Included studies have no row in the studies sheet (and `require_complete` is true)."""


# --- settings ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExtractionSettings:
    """Config section `extraction:`, validated.

    `vocabularies` maps each controlled column to its codes; `reference_weights_kg` maps a
    species to the body weight total cell counts are divided by when a study gives none;
    `timing_bins` are `units.check_timing_bins` bins; with `require_complete` false, included
    studies missing from the sheets are reported instead of stopping the run.
    """

    vocabularies: Mapping[str, tuple[str, ...]]
    reference_weights_kg: Mapping[str, float]
    timing_bins: tuple[Mapping[str, Any], ...] = ()
    require_complete: bool = True
    studies: str | None = None
    arms: str | None = None
    dose_unit_label: str | None = None

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> ExtractionSettings:
        """Validate the `extraction:` section; ConfigError names the key and what to fix."""
        if not isinstance(section, Mapping):
            raise ConfigError(f"extraction must be a mapping of settings, got {section!r}")
        unknown = sorted(str(key) for key in section if key not in _SETTINGS_KEYS)
        if unknown:
            raise ConfigError(
                f"extraction has unknown key(s) {', '.join(unknown)}: allowed keys are "
                f"{', '.join(_SETTINGS_KEYS)}"
            )
        for key in ("vocabularies", "reference_weights_kg", "timing_bins"):
            if section.get(key) is None:
                raise ConfigError(f"extraction.{key} is missing")
        bins = section["timing_bins"]
        check_timing_bins(bins)
        require_complete = section.get("require_complete", True)
        if not isinstance(require_complete, bool):
            raise ConfigError(
                f"extraction.require_complete is {require_complete!r}: write true or false"
            )
        for key in ("studies", "arms", "dose_unit_label"):
            value = section.get(key)
            if value is not None and not isinstance(value, str):
                raise ConfigError(f"extraction.{key} is {value!r}: it must be text")
        return cls(
            vocabularies=_checked_vocabularies(section["vocabularies"]),
            reference_weights_kg=_checked_weights(section["reference_weights_kg"]),
            timing_bins=tuple(dict(entry) for entry in bins),
            require_complete=require_complete,
            studies=section.get("studies"),
            arms=section.get("arms"),
            dose_unit_label=section.get("dose_unit_label"),
        )


def _checked_vocabularies(vocabularies: object) -> dict[str, tuple[str, ...]]:
    if not isinstance(vocabularies, Mapping):
        raise ConfigError(
            f"extraction.vocabularies must map a column to its codes, got {vocabularies!r}"
        )
    allowed = (*REQUIRED_VOCABULARIES, *DEFAULT_VOCABULARIES)
    unknown = sorted(str(key) for key in vocabularies if key not in allowed)
    if unknown:
        raise ConfigError(
            f"extraction.vocabularies has unknown column(s) {', '.join(unknown)}: controlled "
            f"columns are {', '.join(allowed)}"
        )
    missing = [name for name in REQUIRED_VOCABULARIES if name not in vocabularies]
    if missing:
        raise ConfigError(f"extraction.vocabularies needs a list for {', '.join(missing)}")
    checked: dict[str, tuple[str, ...]] = {}
    for name in allowed:
        codes = vocabularies.get(name, DEFAULT_VOCABULARIES.get(name))
        where = f"extraction.vocabularies.{name}"
        if isinstance(codes, str | bytes) or not isinstance(codes, Sequence) or not codes:
            raise ConfigError(f"{where} must be a non-empty list of codes, got {codes!r}")
        seen: set[str] = set()
        for code in codes:
            if not isinstance(code, str) or not code.strip() or code != code.strip():
                raise ConfigError(
                    f"{where}: {code!r} is not a code (non-empty text, no spaces around)"
                )
            if ";" in code:
                raise ConfigError(f"{where}: {code!r} holds ';', which separates codes in a cell")
            if code.casefold() in seen:
                raise ConfigError(
                    f"{where}: {code!r} is listed twice (codes match case-insensitively)"
                )
            seen.add(code.casefold())
        checked[name] = tuple(codes)
    if UNMODIFIED not in checked["modification"]:
        raise ConfigError(
            f"extraction.vocabularies.modification must contain {UNMODIFIED!r}: it marks "
            "unmodified cells (the `modified` column)"
        )
    return checked


def _checked_weights(weights: object) -> dict[str, float]:
    if not isinstance(weights, Mapping):
        raise ConfigError(
            f"extraction.reference_weights_kg must map a species to kg, got {weights!r}"
        )
    checked: dict[str, float] = {}
    for species, weight in weights.items():
        where = f"extraction.reference_weights_kg.{species}"
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            raise ConfigError(f"{where} is {weight!r}: give a number of kg")
        if not math.isfinite(weight) or weight <= 0:
            raise ConfigError(f"{where} is {weight!r}: it must be a positive number of kg")
        checked[str(species)] = float(weight)
    return checked


# --- reading and validating ----------------------------------------------------------------


@dataclass(frozen=True)
class Extraction:
    """The validated sheet rows, keyed by resolved record_id.

    `studies` holds `record_id`, `_row` and every STUDY_COLUMNS column (controlled values in
    their config spelling, mechanisms "; "-joined, empty = <NA>); `arms` likewise with
    ARM_COLUMNS. `included` lists every included record (record_id, title, category) and
    `missing` those of them with no studies row.
    """

    studies: pd.DataFrame
    arms: pd.DataFrame
    studies_path: Path
    arms_path: Path | None
    included: pd.DataFrame
    missing: pd.DataFrame
    require_complete: bool = True


@dataclass(frozen=True)
class _SheetRow:
    """One sheet row with its file and line, so every problem can name where it is."""

    path: Path
    row: int
    values: Mapping[str, object]

    def text(self, column: str) -> str | None:
        value = self.values.get(column)
        if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
            return None
        text = str(value).strip()
        return text or None

    def required(self, column: str) -> str:
        text = self.text(column)
        if text is None:
            self.fail(column, "empty required cell", f"fill in {column}")
        return text  # type: ignore[return-value]

    def fail(self, column: str | None, problem: str, hint: str | None = None) -> NoReturn:
        raise InputFileError(self.path, problem, row=self.row, column=column, hint=hint)


def read_extraction(
    studies_path: str | Path,
    arms_path: str | Path | None,
    *,
    settings: ExtractionSettings,
    screened: pd.DataFrame,
    categories: Sequence[str],
    merged_into: Mapping[str, str] | None = None,
) -> Extraction:
    """Read and validate the studies sheet (and the arms sheet, if any) against screening.

    Study keys resolve as in screening sheets (record_id, a merged record's id, PMID or DOI).
    Raises InputFileError at the first bad cell; included studies with no row raise
    ExtractionCoverageError when `settings.require_complete`, else they are kept in `missing`.
    """
    studies_path = Path(studies_path)
    _check_screened(screened)
    index = RecordIndex.build(screened, merged_into or {})
    records = {str(record["record_id"]): record for record in screened.to_dict("records")}

    sheet = read_sheet(studies_path, preferred_sheet=STUDIES_SHEET)
    check_columns(studies_path, sheet, required=STUDY_REQUIRED, allowed=STUDY_COLUMNS)
    studies: list[dict[str, object]] = []
    first_rows: dict[str, tuple[int, str]] = {}
    for values in sheet.to_dict("records"):
        row = _SheetRow(studies_path, int(values[ROW_COLUMN]), values)
        study = _study_row(row, settings, categories, index, records)
        record_id = str(study["record_id"])
        if record_id in first_rows:
            line, key = first_rows[record_id]
            row.fail(
                "study",
                f"study {row.text('study')!r} is record {record_id}, which already has a row "
                f"(row {line}, {key!r})",
                "keep one row per study; put its arms in the arms sheet",
            )
        first_rows[record_id] = (row.row, str(row.text("study")))
        studies.append(study)

    arms: list[dict[str, object]] = []
    if arms_path is not None:
        arms_path = Path(arms_path)
        sheet = read_sheet(arms_path, preferred_sheet=ARMS_SHEET)
        check_columns(arms_path, sheet, required=ARM_REQUIRED, allowed=ARM_COLUMNS)
        seen_arms: dict[tuple[str, str], int] = {}
        for values in sheet.to_dict("records"):
            row = _SheetRow(arms_path, int(values[ROW_COLUMN]), values)
            arm = _arm_row(row, settings, index, first_rows, studies_path)
            key = (str(arm["record_id"]), str(arm["arm"]).casefold())
            if key in seen_arms:
                row.fail(
                    "arm",
                    f"arm {arm['arm']!r} of record {arm['record_id']} is already in row "
                    f"{seen_arms[key]}",
                    "give each arm of a study its own name",
                )
            seen_arms[key] = row.row
            arms.append(arm)

    included = _included(screened)
    extracted = set(first_rows)
    missing = included[~included["record_id"].isin(extracted)].reset_index(drop=True)
    if len(missing) and settings.require_complete:
        listing = "; ".join(
            f"{record_id} ({_title(title)})"
            for record_id, title in zip(missing["record_id"], missing["title"], strict=True)
        )
        raise ExtractionCoverageError(
            studies_path,
            f"{len(missing)} of {len(included)} included studies have no row: {listing}",
            hint="add one row per included study (study = its record_id), or set "
            "extraction.require_complete: false to list them in the validation report and go on",
        )
    return Extraction(
        studies=_frame(studies, ("record_id", ROW_COLUMN, *STUDY_COLUMNS), raw=True),
        arms=_frame(arms, ("record_id", ROW_COLUMN, *ARM_COLUMNS), raw=True),
        studies_path=studies_path,
        arms_path=None if arms_path is None else Path(arms_path),
        included=included,
        missing=missing,
        require_complete=settings.require_complete,
    )


def _check_screened(screened: pd.DataFrame) -> None:
    missing = [
        name for name in ("record_id", "title", "status", "category") if name not in screened
    ]
    if missing:
        raise ValidationError(
            f"the screened table lacks column(s) {', '.join(missing)}: pass "
            "results/screening/screened.tsv as written by the screening stage"
        )


def _included(screened: pd.DataFrame) -> pd.DataFrame:
    rows = [
        {
            "record_id": str(record["record_id"]),
            "title": _missing_to_none(record.get("title")),
            "category": _missing_to_none(record.get("category")),
        }
        for record in screened.to_dict("records")
        if _missing_to_none(record.get("status")) == "included"
    ]
    rows.sort(key=lambda record: record["record_id"])
    return _frame(rows, ("record_id", "title", "category"))


def _resolve(row: _SheetRow, index: RecordIndex, records: Mapping[str, Mapping]) -> str:
    key = row.required("study")
    record_id = index.resolve(key)
    if record_id is None or record_id not in records:
        row.fail(
            "study",
            f"{key!r} names no record of the screened set",
            "use a record_id from results/screening/screened.tsv, a PMID or a DOI",
        )
    return record_id  # type: ignore[return-value]


def _study_row(
    row: _SheetRow,
    settings: ExtractionSettings,
    categories: Sequence[str],
    index: RecordIndex,
    records: Mapping[str, Mapping],
) -> dict[str, object]:
    for column in STUDY_REQUIRED:
        row.required(column)
    category = row.required("category")
    if category not in categories:
        row.fail(
            "category",
            f"unknown category {category!r}",
            f"use one of {', '.join(categories)} (config screening.categories)",
        )
    record_id = _resolve(row, index, records)
    record = records[record_id]
    status = _missing_to_none(record.get("status"))
    title = _title(record.get("title"))
    if status != "included":
        row.fail(
            "study",
            f"record {record_id} ({title}) is {status}, not included: only included studies are "
            "extracted",
            "remove this row, or include the record in the screening sheets",
        )
    screened_category = _missing_to_none(record.get("category"))
    if category != screened_category:
        row.fail(
            "category",
            f"category {category!r} differs from the screened category {screened_category!r} "
            f"of record {record_id}",
            "make them agree: change this cell or the category in the screening sheet",
        )
    study: dict[str, object] = {"record_id": record_id, ROW_COLUMN: row.row}
    for column in STUDY_COLUMNS:
        study[column] = row.text(column)
    for column in SINGLE_VALUED:
        study[column] = _controlled(row, column, settings.vocabularies[column])
    study["mechanisms"] = _mechanisms(row, settings.vocabularies["mechanisms"])
    study["weight_kg"] = _positive_number(row, "weight_kg")
    study["n"] = _positive_integer(row, "n")
    study["registry_id"] = _registry_ids(row)
    return study


def _arm_row(
    row: _SheetRow,
    settings: ExtractionSettings,
    index: RecordIndex,
    studies: Mapping[str, tuple[int, str]],
    studies_path: Path,
) -> dict[str, object]:
    for column in ARM_REQUIRED:
        row.required(column)
    key = row.required("study")
    record_id = index.resolve(key)
    if record_id is None:
        row.fail(
            "study",
            f"{key!r} names no record of the screened set",
            "use the study's key from the studies sheet (record_id, PMID or DOI)",
        )
    if record_id not in studies:
        row.fail(
            "study",
            f"study {key!r} (record {record_id}) has no row in the studies sheet {studies_path}",
            "add the study's row to the studies sheet, or fix the key",
        )
    arm: dict[str, object] = {"record_id": record_id, ROW_COLUMN: row.row}
    for column in ARM_COLUMNS:
        arm[column] = row.text(column)
    arm["species"] = _controlled(row, "species", settings.vocabularies["species"])
    arm["weight_kg"] = _positive_number(row, "weight_kg")
    return arm


def _lookup(vocabulary: Sequence[str], value: str) -> str | None:
    """The config spelling of `value` (codes match case-insensitively), or None."""
    wanted = value.casefold()
    return next((code for code in vocabulary if code.casefold() == wanted), None)


def _controlled(row: _SheetRow, column: str, vocabulary: Sequence[str]) -> str | None:
    value = row.text(column)
    if value is None:
        return None
    code = _lookup(vocabulary, value)
    if code is None:
        row.fail(
            column,
            f"{value!r} is not in the {column} vocabulary",
            f"use one of: {', '.join(vocabulary)} (config extraction.vocabularies.{column})",
        )
    return code


def _mechanisms(row: _SheetRow, vocabulary: Sequence[str]) -> str | None:
    value = row.text("mechanisms")
    if value is None:
        return None
    codes: list[str] = []
    for part in value.split(";"):
        part = part.strip()
        if not part:
            continue
        code = _lookup(vocabulary, part)
        if code is None:
            row.fail(
                "mechanisms",
                f"unknown mechanism {part!r} in {value!r}",
                f"separate codes with ';' and use: {', '.join(vocabulary)} "
                "(config extraction.vocabularies.mechanisms)",
            )
        if code not in codes:
            codes.append(code)
    return "; ".join(codes) or None


def _positive_number(row: _SheetRow, column: str) -> str | None:
    value = row.text(column)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number <= 0:
        row.fail(
            column,
            f"{value!r} is not a positive number",
            "write the weight in kg with a decimal point, e.g. 0.3 (leave it empty if unknown)",
        )
    return value


def _positive_integer(row: _SheetRow, column: str) -> str | None:
    value = row.text(column)
    if value is None:
        return None
    if not re.fullmatch(r"\d+", value) or int(value) == 0:
        row.fail(
            column,
            f"{value!r} is not a positive whole number",
            "write the number of participants, e.g. 12 (details go in note)",
        )
    return str(int(value))


def _registry_ids(row: _SheetRow) -> str | None:
    value = row.text("registry_id")
    if value is None:
        return None
    identifiers = [part.strip() for part in value.split(";") if part.strip()]
    for identifier in identifiers:
        if not any(pattern.fullmatch(identifier) for pattern in REGISTRY_PATTERNS.values()):
            row.fail(
                "registry_id",
                f"{identifier!r} is not a trial registry identifier",
                f"write one like {_REGISTRY_EXAMPLES} ({', '.join(REGISTRY_PATTERNS)}); "
                "separate several with ';'",
            )
    return "; ".join(identifiers)


# --- normalising ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NormalisedExtraction:
    """The three output tables, plus `readings`: one row per sheet cell a dose or timing was
    (or could have been) read from, with its status (read, empty, no value, replaced by arms)."""

    studies: pd.DataFrame
    doses: pd.DataFrame
    timings: pd.DataFrame
    readings: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(READINGS_COLUMNS))
    )


@dataclass(frozen=True)
class _Source:
    """A sheet row doses or timings are read from: the study row (arm None) or an arm row."""

    row: _SheetRow
    arm: str | None
    species: str | None
    weight_kg: float | None
    weight_basis: str | None  # "study weight" / "arm weight"


def normalise(extraction: Extraction, settings: ExtractionSettings) -> NormalisedExtraction:
    """Parse every dose and timing and derive the study columns; order is by record_id, arm
    (study row first), then position in the cell, so reruns give identical tables."""
    arms_by_study: dict[str, list[Mapping[str, object]]] = {}
    for arm in extraction.arms.to_dict("records"):
        arms_by_study.setdefault(str(arm["record_id"]), []).append(arm)
    study_rows: list[dict[str, object]] = []
    dose_rows: list[dict[str, object]] = []
    timing_rows: list[dict[str, object]] = []
    readings: list[dict[str, object]] = []
    studies = sorted(extraction.studies.to_dict("records"), key=lambda study: study["record_id"])
    for study in studies:
        record_id = str(study["record_id"])
        arms = sorted(arms_by_study.get(record_id, []), key=lambda arm: str(arm["arm"]))
        study_source = _study_source(extraction.studies_path, study)
        arm_sources = [_arm_source(extraction.arms_path, arm, study_source) for arm in arms]
        label = _missing_to_none(study.get("label"))
        doses: list[dict[str, object]] = []
        timings: list[dict[str, object]] = []
        for column in ("dose_as_reported", "timing_as_reported"):
            for source, status in _sources(study_source, arm_sources, column):
                text = source.row.text(column)
                reading = {
                    "record_id": record_id,
                    "label": label,
                    "arm": source.arm,
                    "file": str(source.row.path),
                    "row": source.row.row,
                    "column": column,
                    "text": text,
                    "status": status,
                    "values": 0,
                    "unit_assumed": 0,
                }
                readings.append(reading)
                if status != "read":
                    continue
                if column == "dose_as_reported":
                    values = _parse(source.row, column, parse_dose)
                    new = [_dose_row(record_id, source, value, settings) for value in values]
                    doses.extend(new)
                    reading["unit_assumed"] = sum(not value.unit_stated for value in values)
                else:
                    times = _parse(source.row, column, parse_timing)
                    new = [_timing_row(record_id, source, value, settings) for value in times]
                    timings.extend(new)
                reading["values"] = len(new)
                if not new:
                    reading["status"] = "no value"
        dose_rows.extend(doses)
        timing_rows.extend(timings)
        study_rows.append(_normalised_study(study, doses, timings, settings))
    return NormalisedExtraction(
        studies=_frame(study_rows, STUDIES_COLUMNS),
        doses=_frame(dose_rows, DOSES_COLUMNS),
        timings=_frame(timing_rows, TIMINGS_COLUMNS),
        readings=_frame(readings, READINGS_COLUMNS),
    )


def _study_source(path: Path, study: Mapping[str, object]) -> _Source:
    row = _SheetRow(path, int(study[ROW_COLUMN]), study)  # type: ignore[arg-type]
    weight = row.text("weight_kg")
    return _Source(
        row=row,
        arm=None,
        species=row.text("species"),
        weight_kg=None if weight is None else float(weight),
        weight_basis=None if weight is None else "study weight",
    )


def _arm_source(path: Path | None, arm: Mapping[str, object], study: _Source) -> _Source:
    if path is None:
        raise ValueError("an Extraction with arms must carry the arms sheet's path")
    row = _SheetRow(path, int(arm[ROW_COLUMN]), arm)  # type: ignore[arg-type]
    weight = row.text("weight_kg")
    if weight is None:
        weight_kg, basis = study.weight_kg, study.weight_basis
    else:
        weight_kg, basis = float(weight), "arm weight"
    return _Source(
        row=row,
        arm=row.text("arm"),
        species=row.text("species") or study.species,
        weight_kg=weight_kg,
        weight_basis=basis,
    )


def _sources(study: _Source, arms: Sequence[_Source], column: str) -> list[tuple[_Source, str]]:
    """Where a study's doses (or timings) come from, each with its reading status.

    When any arm states the column, the arms do (an arm leaving it empty is listed as empty,
    a filled study cell as replaced); otherwise the study row does.
    """
    if any(arm.row.text(column) is not None for arm in arms):
        sources = []
        if study.row.text(column) is not None:
            sources.append((study, "replaced by arms"))
        for arm in arms:
            sources.append((arm, "read" if arm.row.text(column) is not None else "empty"))
        return sources
    return [(study, "read" if study.row.text(column) is not None else "empty")]


def _parse(row: _SheetRow, column: str, parser: Any) -> list:
    """Run a units parser on a cell; its UnitParseError becomes an error naming the cell."""
    text = row.text(column)
    try:
        return parser(text)
    except UnitParseError as error:
        row.fail(column, f"cannot read {text!r}: {error.problem}", error.hint)


def _reference_weight(species: str | None, settings: ExtractionSettings) -> float | None:
    if species is None:
        return None
    weights = {name.casefold(): weight for name, weight in settings.reference_weights_kg.items()}
    return weights.get(species.strip().casefold())


def _dose_row(
    record_id: str, source: _Source, dose: Dose, settings: ExtractionSettings
) -> dict[str, object]:
    cells_per_kg: float | None = None
    estimated: bool | None = None
    basis: str | None = None
    if dose.unit in ("cells", "cells/kg"):
        try:
            cells_per_kg, estimated, _ = to_cells_per_kg(
                dose,
                weight_kg=source.weight_kg,
                species=source.species,
                reference_weights=settings.reference_weights_kg,
            )
        except MissingReferenceWeightError as error:
            source.row.fail(
                "species",
                str(error),
                "add the species to extraction.reference_weights_kg, or fill in weight_kg",
            )
        except UnitConversionError as error:
            source.row.fail("weight_kg", str(error))
        if dose.unit == "cells/kg":
            basis = "reported per kg"
        elif not estimated:
            basis = f"{source.weight_basis} {_number(source.weight_kg)} kg"
        else:
            reference = _reference_weight(source.species, settings)
            basis = f"reference weight {source.species} {_number(reference)} kg"
    return {
        "record_id": record_id,
        "arm": source.arm,
        "species": source.species,
        "text": source.row.text("dose_as_reported"),
        "value": dose.value,
        "unit": dose.unit,
        "cells": dose.value if dose.unit == "cells" else None,
        "cells_per_kg": cells_per_kg,
        "per_kg_estimated": estimated,
        "per_kg_basis": basis,
        "is_range_end": dose.range_role,
    }


def _timing_row(
    record_id: str, source: _Source, timing: Timing, settings: ExtractionSettings
) -> dict[str, object]:
    return {
        "record_id": record_id,
        "arm": source.arm,
        "text": source.row.text("timing_as_reported"),
        "hours": timing.hours,
        "anchor": timing.anchor,
        "event": timing.event,
        "bin": timing_bin(timing.hours, settings.timing_bins),
    }


def _normalised_study(
    study: Mapping[str, object],
    doses: Sequence[Mapping[str, object]],
    timings: Sequence[Mapping[str, object]],
    settings: ExtractionSettings,
) -> dict[str, object]:
    row = {column: _missing_to_none(study.get(column)) for column in STUDIES_COLUMNS}
    row["record_id"] = study["record_id"]
    row["weight_kg"] = None if row["weight_kg"] is None else float(row["weight_kg"])  # type: ignore[arg-type]
    row["n"] = None if row["n"] is None else int(row["n"])  # type: ignore[call-overload]
    origin = row["origin"]
    if origin == "human":
        row["origin_group"] = "human"
    elif isinstance(origin, str) and origin.startswith("animal_"):
        row["origin_group"] = "animal"
    else:
        row["origin_group"] = None
    modification = row["modification"]
    row["modified"] = None if modification is None else modification != UNMODIFIED
    hours = [float(timing["hours"]) for timing in timings]  # type: ignore[arg-type]
    earliest = min(hours) if hours else None
    row["timing_hours_min"] = earliest
    row["timing_bin"] = None if earliest is None else timing_bin(earliest, settings.timing_bins)
    per_kg = [float(dose["cells_per_kg"]) for dose in doses if dose["cells_per_kg"] is not None]  # type: ignore[arg-type]
    row["dose_cells_per_kg_min"] = min(per_kg) if per_kg else None
    row["dose_cells_per_kg_max"] = max(per_kg) if per_kg else None
    return row


# --- report and output ---------------------------------------------------------------------


def validation_report(extraction: Extraction, normalised: NormalisedExtraction) -> str:
    """The coverage report (Markdown): what the sheets hold, which included studies they lack,
    which per-kg values are estimates, and which doses or timings were empty or unreadable."""
    included, missing = extraction.included, extraction.missing
    doses, readings = normalised.doses, normalised.readings
    covered = len(included) - len(missing)
    lines = ["# Extraction validation report", ""]
    lines.append(f"- Studies sheet: `{extraction.studies_path}` ({len(extraction.studies)} rows)")
    if extraction.arms_path is None:
        lines.append("- Arms sheet: none")
    else:
        lines.append(f"- Arms sheet: `{extraction.arms_path}` ({len(extraction.arms)} rows)")
    per_kg = doses["cells_per_kg"].notna()
    estimated = doses["per_kg_estimated"].fillna(False).astype(bool)
    lines += [
        "",
        "## Counts",
        "",
        "| what | n |",
        "| --- | ---: |",
        f"| studies extracted | {len(normalised.studies)} |",
        f"| arms | {len(extraction.arms)} |",
        f"| dose values | {len(doses)} |",
        f"| dose values in cells/kg (reported or computed) | {int(per_kg.sum())} |",
        f"| of which estimated with a reference body weight | {int(estimated.sum())} |",
        f"| dose values with no cells/kg (particles, mass, per m2: kept as reported) | "
        f"{int((~per_kg).sum())} |",
        f"| timing values | {len(normalised.timings)} |",
        "",
        "| category | included | extracted |",
        "| --- | ---: | ---: |",
    ]
    extracted_by_category = normalised.studies["category"].value_counts()
    included_by_category = included["category"].value_counts()
    for category in sorted(
        set(extracted_by_category.index) | set(included_by_category.index), key=str
    ):
        lines.append(
            f"| {category} | {int(included_by_category.get(category, 0))} | "
            f"{int(extracted_by_category.get(category, 0))} |"
        )
    lines += ["", "## Coverage", ""]
    if len(included):
        lines.append(
            f"{covered} of {len(included)} included studies ({100 * covered / len(included):.0f}%) "
            "have a row in the studies sheet."
        )
    else:
        lines.append("No study is included yet.")
    if len(missing):
        lines += [
            "",
            f"Included studies with no extraction row ({len(missing)}; "
            "extraction.require_complete is false, so the run went on):",
            "",
        ]
        for record_id, title in zip(missing["record_id"], missing["title"], strict=True):
            lines.append(f"- `{record_id}`: {_title(title)}")
    present = included[~included["record_id"].isin(set(missing["record_id"]))]
    if len(present):
        lines += ["", f"Included studies with an extraction row ({len(present)}):", ""]
        for record_id, title in zip(present["record_id"], present["title"], strict=True):
            lines.append(f"- `{record_id}`: {_title(title)}")
    lines += ["", "## Per-kg doses estimated with a reference body weight", ""]
    if estimated.any():
        lines.append(
            f"{int(estimated.sum())} total cell counts were divided by the reference body weight "
            "of their species (config extraction.reference_weights_kg):"
        )
        lines.append("")
        for basis, count in sorted(doses.loc[estimated, "per_kg_basis"].value_counts().items()):
            lines.append(f"- {basis}: {count}")
    else:
        lines.append("None.")
    lines += ["", "## Doses and timings not read", ""]
    sections = [
        ("dose_as_reported", "empty", "Empty dose cells"),
        ("dose_as_reported", "no value", "Dose text with no dose value in it"),
        ("dose_as_reported", "replaced by arms", "Study-row doses replaced by the arms' doses"),
        ("timing_as_reported", "empty", "Empty timing cells"),
        ("timing_as_reported", "no value", "Timing text with no timing in it"),
        ("timing_as_reported", "replaced by arms", "Study-row timings replaced by the arms'"),
    ]
    for column, status, heading in sections:
        chosen = readings[(readings["column"] == column) & (readings["status"] == status)]
        lines += [f"### {heading} ({len(chosen)})", ""]
        lines += [_reading_line(reading) for reading in chosen.to_dict("records")] or ["None."]
        lines.append("")
    assumed = readings[readings["unit_assumed"] > 0]
    lines += [f"### Dose counts with no unit written, read as cells ({len(assumed)})", ""]
    lines += [_reading_line(reading) for reading in assumed.to_dict("records")] or ["None."]
    lines.append("")
    return "\n".join(lines)


def _reading_line(reading: Mapping[str, object]) -> str:
    who = f"`{reading['record_id']}`"
    if _missing_to_none(reading.get("label")) is not None:
        who += f" ({reading['label']})"
    if _missing_to_none(reading.get("arm")) is not None:
        who += f", arm {reading['arm']!r}"
    where = f"{reading['file']}, row {reading['row']}"
    text = _missing_to_none(reading.get("text"))
    return f"- {who}: {where}" + ("" if text is None else f": {text!r}")


def write_outputs(
    normalised: NormalisedExtraction,
    report: str,
    *,
    studies_path: str | Path,
    doses_path: str | Path,
    timings_path: str | Path,
    report_path: str | Path,
) -> None:
    """Write studies.tsv, doses.tsv, timings.tsv and validation.md, each atomically."""
    io.write_table(studies_path, normalised.studies)
    io.write_table(doses_path, normalised.doses)
    io.write_table(timings_path, normalised.timings)
    io.write_text(report_path, report if report.endswith("\n") else report + "\n")


# --- small helpers -------------------------------------------------------------------------


def _missing_to_none(value: object) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def _title(title: object) -> str:
    text = _missing_to_none(title)
    return "no title" if text is None else repr(str(text))


def _number(value: float | None) -> str:
    return "?" if value is None else f"{value:g}"


def _frame(
    rows: Sequence[Mapping[str, object]], columns: Sequence[str], *, raw: bool = False
) -> pd.DataFrame:
    """Rows as a table with explicit nullable dtypes (the same on pandas 2 and 3); `raw`
    keeps every column but `_row` as text, as the sheet had it."""
    data = {}
    for column in columns:
        values = [_missing_to_none(row.get(column)) for row in rows]
        if raw and column != ROW_COLUMN:
            dtype = "string"
            values = [None if value is None else str(value) for value in values]
        elif column in _FLOAT_COLUMNS:
            dtype = "Float64"
        elif column in _INTEGER_COLUMNS or column == ROW_COLUMN:
            dtype = "Int64"
        elif column in _BOOLEAN_COLUMNS:
            dtype = "boolean"
        else:
            dtype = "string"
            values = [None if value is None else str(value) for value in values]
        data[column] = pd.array(values, dtype=dtype)
    return pd.DataFrame(data, columns=list(columns))
