"""The reviewers' extraction sheets, validated against the declared form, then normalised.

Reviewers fill a studies sheet (one row per included study: the key column, then the form's
study-level fields) and, for studies with several arms, an arms sheet (the key, the arm name,
then the arm-level fields). Every cell is checked against its field (an `InputFileError`
names file, row, column, the value and what is allowed) and against the screening outcome.

Arms and the study row: for each quantity separately, when any arm of a study states it, the
arms give that study's values (a study-row value is then listed as replaced in the report);
otherwise the study row gives them, with no arm. An arm's weight and reference group
override the study's for its own amounts.

Outputs: `studies` (one row per study: record_id, every field, every derived field, and per
quantity `<name>_min` / `<name>_max` in its unit, `<name>_per_<w>_min/max` when per weight),
and one table per quantity (`values[name]`), one row per value read, the as-reported text
beside the normalised number.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

import pandas as pd

from litreview.errors import InputFileError, ValidationError
from litreview.extract.form import Field, Form
from litreview.quantities.parse import UnitParseError, parse_dose, parse_timing
from litreview.quantities.spec import ConversionError
from litreview.screen import RecordIndex
from litreview.sheets import ROW_COLUMN, check_columns, read_sheet

__all__ = [
    "AMOUNT_COLUMNS",
    "READINGS_COLUMNS",
    "TIME_COLUMNS",
    "VALUE_DTYPES",
    "Extraction",
    "ExtractionCoverageError",
    "Normalised",
    "included_records",
    "normalise",
    "read_extraction",
]

STUDIES_SHEET = "studies"
ARMS_SHEET = "arms"
AMOUNT_COLUMNS = (
    "record_id",
    "arm",
    "text",
    "value",
    "unit",
    "unit_stated",
    "repeats",
    "range_role",
    "amount",
    "total",
    "per_weight",
    "per_weight_estimated",
    "per_weight_basis",
    "group",
)
TIME_COLUMNS = ("record_id", "arm", "text", "hours", "value", "anchor", "event", "range_role")
READINGS_COLUMNS = (
    "record_id",
    "label",
    "arm",
    "field",
    "file",
    "row",
    "column",
    "text",
    "status",
    "values",
    "unit_assumed",
)
_TRUE = {"yes", "y", "true", "1"}
_FALSE = {"no", "n", "false", "0"}


class ExtractionCoverageError(InputFileError, ValidationError):
    """Included studies have no row in the studies sheet (and `require_complete` is true)."""


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

    def fail(self, column: str | None, problem: str, hint: str | None = None) -> NoReturn:
        raise InputFileError(self.path, problem, row=self.row, column=column, hint=hint)


@dataclass(frozen=True)
class Extraction:
    """The validated rows: `studies` and `arms` as lists of dicts (field name -> typed value,
    with record_id and the _SheetRow under "_source"), the included records and the missing."""

    studies: list[dict[str, Any]]
    arms: list[dict[str, Any]]
    studies_path: Path
    arms_path: Path | None
    included: pd.DataFrame
    missing: pd.DataFrame


def read_extraction(
    form: Form,
    studies_path: str | Path,
    arms_path: str | Path | None,
    *,
    screened: pd.DataFrame | None,
    merged_into: Mapping[str, str] | None = None,
    require_complete: bool = True,
) -> Extraction:
    """Read and validate the sheets; the first bad cell raises InputFileError naming it.

    ``screened=None`` is the check the workflow makes when it loads, before any screening:
    every column and cell is read as the extract rule will read it, each key standing for
    itself (whether it names an included record is checked by the rule)."""
    studies_path = Path(studies_path)
    if screened is None:
        index, records = _KeysAsRecords(), _RecordsByKey()
        screened = pd.DataFrame(columns=["record_id", "title", "status"], dtype="string")
    else:
        missing_columns = [c for c in ("record_id", "title", "status") if c not in screened]
        if missing_columns:
            raise ValidationError(
                f"the screened table lacks column(s) {', '.join(missing_columns)}: pass "
                "results/screening/screened.tsv as written by the screening stage"
            )
        index = RecordIndex.build(screened, merged_into or {})
        records = {str(record["record_id"]): record for record in screened.to_dict("records")}
    at_load = isinstance(records, _RecordsByKey)
    sheet = read_sheet(studies_path, preferred_sheet=STUDIES_SHEET)
    study_fields = form.at("study")
    check_columns(
        studies_path,
        sheet,
        required=(form.key, *(f.column for f in study_fields if f.required)),
        allowed=(form.key, *(f.column for f in study_fields)),
    )
    studies: list[dict[str, Any]] = []
    first_rows: dict[str, tuple[int, str]] = {}
    for values in sheet.to_dict("records"):
        row = _SheetRow(studies_path, int(values[ROW_COLUMN]), values)
        key = _required(row, form.key)
        record_id = _resolve(row, form.key, key, index, records)
        record = records[record_id]
        status = _missing(record.get("status"))
        if status != "included" and not at_load:
            row.fail(
                form.key,
                f"record {record_id} ({_title(record.get('title'))}) is {status}, not included: "
                "only included studies are extracted",
                "remove this row, or include the record in the screening sheets",
            )
        if record_id in first_rows:
            line, other = first_rows[record_id]
            row.fail(
                form.key,
                f"study {key!r} is record {record_id}, which already has a row "
                f"(row {line}, {other!r})",
                "keep one row per study; put its arms in the arms sheet",
            )
        first_rows[record_id] = (row.row, key)
        study = {"record_id": record_id, "_source": row}
        for spec in study_fields:
            study[spec.name] = _value(row, spec, record, at_load=at_load)
        studies.append(study)

    arms: list[dict[str, Any]] = []
    if arms_path is not None:
        arms_path = Path(arms_path)
        sheet = read_sheet(arms_path, preferred_sheet=ARMS_SHEET)
        arm_fields = form.at("arm")
        check_columns(
            arms_path,
            sheet,
            required=(form.key, form.arm_key),
            allowed=(form.key, form.arm_key, *(f.column for f in arm_fields)),
        )
        seen: dict[tuple[str, str], int] = {}
        for values in sheet.to_dict("records"):
            row = _SheetRow(arms_path, int(values[ROW_COLUMN]), values)
            key = _required(row, form.key)
            record_id = index.resolve(key)
            if (record_id is None or record_id not in first_rows) and not at_load:
                row.fail(
                    form.key,
                    f"study {key!r} has no row in the studies sheet {studies_path}",
                    "add the study's row to the studies sheet, or fix the key",
                )
            name = _required(row, form.arm_key)
            if (record_id, name.casefold()) in seen:
                row.fail(
                    form.arm_key,
                    f"arm {name!r} of record {record_id} is already in row "
                    f"{seen[(record_id, name.casefold())]}",
                    "give each arm of a study its own name",
                )
            seen[(record_id, name.casefold())] = row.row
            arm = {"record_id": record_id, "arm": name, "_source": row}
            for spec in arm_fields:
                arm[spec.name] = _value(
                    row, spec, records[record_id], inherited=True, at_load=at_load
                )
            arms.append(arm)

    included = included_records(screened)
    missing = included[~included["record_id"].isin(set(first_rows))].reset_index(drop=True)
    if len(missing) and require_complete:
        listing = "; ".join(
            f"{record_id} ({_title(title)})"
            for record_id, title in zip(missing["record_id"], missing["title"], strict=True)
        )
        raise ExtractionCoverageError(
            studies_path,
            f"{len(missing)} of {len(included)} included studies have no row: {listing}",
            hint=f"add one row per included study ({form.key} = its record_id; the blank "
            "workbook results/extraction/form.xlsx lists them), or set "
            "extraction.require_complete: false to list them in the validation report and go on",
        )
    return Extraction(
        studies=studies,
        arms=arms,
        studies_path=studies_path,
        arms_path=None if arms_path is None else Path(arms_path),
        included=included,
        missing=missing,
    )


class _KeysAsRecords:
    """At load, before screening: each key of the sheets names a record of its own."""

    def resolve(self, key: str) -> str:
        text = key.strip().lower()
        for prefix in ("pubmed:", "pmid:"):
            text = text.removeprefix(prefix).strip()
        return text


class _RecordsByKey(dict):
    """At load: the stand-in record of a key (its id only)."""

    def __missing__(self, record_id: str) -> dict[str, Any]:
        return {"record_id": record_id}

    def __contains__(self, record_id: object) -> bool:
        return True


def check_sheets(form: Form, studies_path: str | Path, arms_path: str | Path | None) -> None:
    """What the workflow checks when it loads: every column and cell of the extraction sheets,
    quantities included, read as the extract rule will read them."""
    normalise(form, read_extraction(form, studies_path, arms_path, screened=None))


def _required(row: _SheetRow, column: str) -> str:
    text = row.text(column)
    if text is None:
        row.fail(column, "empty required cell", f"fill in {column}")
    return text


def _resolve(
    row: _SheetRow, column: str, key: str, index: RecordIndex, records: Mapping[str, Any]
) -> str:
    record_id = index.resolve(key)
    if record_id is None or record_id not in records:
        row.fail(
            column,
            f"{key!r} names no record of the screened set",
            "use a record_id from results/screening/screened.tsv, a PMID or a DOI",
        )
    return record_id


def included_records(screened: pd.DataFrame) -> pd.DataFrame:
    """The included records (record_id, title, category), by record_id."""
    rows = [
        {
            "record_id": str(record["record_id"]),
            "title": _missing(record.get("title")),
            "category": _missing(record.get("category")),
        }
        for record in screened.to_dict("records")
        if _missing(record.get("status")) == "included"
    ]
    rows.sort(key=lambda record: record["record_id"])
    return pd.DataFrame(
        {
            name: pd.array([row[name] for row in rows], dtype="string")
            for name in ("record_id", "title", "category")
        }
    )


# --- one cell ------------------------------------------------------------------------------


def _value(
    row: _SheetRow,
    spec: Field,
    record: Mapping[str, Any],
    *,
    inherited: bool = False,
    at_load: bool = False,
) -> Any:
    """The typed value of one cell, or a failure naming the cell, the value and what is allowed.

    `inherited`: an empty cell takes the study row's value (an arm's), so it may be empty.
    `at_load`: no screened record to compare a screening category with (checked later)."""
    text = row.text(spec.column)
    if text is None:
        if spec.required and not (inherited and spec.on("study")):
            row.fail(spec.column, "empty required cell", f"fill in {spec.column}: {spec.allowed()}")
        return None
    if spec.type == "code":
        code = _lookup(spec.codes, text)
        if code is None:
            row.fail(spec.column, f"{text!r} is not a code of {spec.name}", f"use {spec.allowed()}")
        if spec.from_screening and not at_load:
            screened = _missing(record.get("category"))
            if code != screened:
                row.fail(
                    spec.column,
                    f"{spec.name} {code!r} differs from the screened category {screened!r} of "
                    f"record {record['record_id']}",
                    "make them agree: change this cell or the category in the screening sheet",
                )
        return code
    if spec.type == "codes":
        codes: list[str] = []
        for part in text.split(spec.separator):
            part = part.strip()
            if not part:
                continue
            code = _lookup(spec.codes, part)
            if code is None:
                row.fail(
                    spec.column,
                    f"{part!r} in {text!r} is not a code of {spec.name}",
                    f"use {spec.allowed()}",
                )
            if code not in codes:
                codes.append(code)
        return "; ".join(codes) or None
    if spec.type == "integer":
        if not re.fullmatch(r"[+-]?\d+", text):
            row.fail(spec.column, f"{text!r} is not a whole number", f"write {spec.allowed()}")
        return _in_bounds(row, spec, int(text), text)
    if spec.type == "number":
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            row.fail(
                spec.column,
                f"{text!r} is not a number",
                f"write {spec.allowed()} with a decimal point (leave it empty if unknown)",
            )
        return _in_bounds(row, spec, number, text)
    if spec.type == "boolean":
        lowered = text.casefold()
        if lowered not in _TRUE | _FALSE:
            row.fail(spec.column, f"{text!r} is not yes or no", "write yes or no")
        return lowered in _TRUE
    if spec.type == "date":
        return _date(row, spec, text)
    if spec.type == "identifier":
        parts = [part.strip() for part in text.split(spec.separator) if part.strip()]
        for part in parts:
            if not any(pattern.fullmatch(part) for pattern in spec.patterns.values()):
                examples = ", ".join(spec.patterns)
                row.fail(
                    spec.column,
                    f"{part!r} is not an identifier of {spec.name} ({examples})",
                    f"write {spec.allowed()}",
                )
        return "; ".join(parts)
    return text  # text and quantity: quantities are read in normalise()


def _in_bounds(row: _SheetRow, spec: Field, number: float, text: str) -> float:
    if (
        (spec.min_exclusive is not None and not number > spec.min_exclusive)
        or (spec.minimum is not None and number < spec.minimum)
        or (spec.maximum is not None and number > spec.maximum)
    ):
        row.fail(spec.column, f"{text!r} is out of range", f"write {spec.allowed()}")
    return number


def _date(row: _SheetRow, spec: Field, text: str) -> str:
    padded = {10: text, 7: f"{text}-01", 4: f"{text}-01-01"}.get(len(text))
    if padded is not None and re.fullmatch(r"\d{4}(?:-\d{2}(?:-\d{2})?)?", text):
        try:
            dt.date.fromisoformat(padded)
        except ValueError:
            pass
        else:
            return text
    row.fail(spec.column, f"{text!r} is not a date", f"write {spec.allowed()}")


def _lookup(codes: Sequence[str], value: str) -> str | None:
    wanted = value.casefold()
    return next((code for code in codes if code.casefold() == wanted), None)


# --- normalising ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Normalised:
    """`studies` (one row per study), `values` (one table per quantity field), `readings`
    (one row per cell a quantity was or could have been read from, with its status)."""

    studies: pd.DataFrame
    values: Mapping[str, pd.DataFrame]
    readings: pd.DataFrame
    columns: Mapping[str, str] = field(default_factory=dict)  # studies column -> dtype


@dataclass(frozen=True)
class _Source:
    row: _SheetRow
    arm: str | None
    values: Mapping[str, Any]


def normalise(form: Form, extraction: Extraction) -> Normalised:
    """Read every quantity and derive the study columns; rows ordered by record_id, arm (study
    row first), then position in the cell, so reruns give identical tables."""
    arms_by_study: dict[str, list[dict[str, Any]]] = {}
    for arm in extraction.arms:
        arms_by_study.setdefault(arm["record_id"], []).append(arm)
    quantity_rows: dict[str, list[dict[str, Any]]] = {spec.name: [] for spec in form.quantities()}
    readings: list[dict[str, Any]] = []
    study_rows: list[dict[str, Any]] = []
    for study in sorted(extraction.studies, key=lambda item: item["record_id"]):
        record_id = study["record_id"]
        arms = sorted(arms_by_study.get(record_id, []), key=lambda arm: arm["arm"])
        study_source = _Source(study["_source"], None, study)
        arm_sources = [
            _Source(arm["_source"], arm["arm"], {**study, **_filled(arm)}) for arm in arms
        ]
        label = study.get(form.label_field) if form.label_field else None
        row = {"record_id": record_id}
        for spec in form.fields:
            if spec.on("study"):
                row[spec.name] = study.get(spec.name)
        for spec in form.quantities():
            values = []
            for source, status in _sources(study_source, arm_sources, spec):
                reading = {
                    "record_id": record_id,
                    "label": label,
                    "arm": source.arm,
                    "field": spec.name,
                    "file": str(source.row.path),
                    "row": source.row.row,
                    "column": spec.column,
                    "text": source.row.text(spec.column),
                    "status": status,
                    "values": 0,
                    "unit_assumed": 0,
                }
                readings.append(reading)
                if status != "read":
                    continue
                new = _read_quantity(form, spec, source)
                reading["values"] = len(new)
                reading["unit_assumed"] = sum(1 for item in new if item.get("unit_stated") is False)
                if not new:
                    reading["status"] = "no value"
                values.extend(new)
            quantity_rows[spec.name].extend(values)
            row.update(_study_summary(spec, values))
            row[f"_{spec.name}_values"] = values
        for derived in form.derived:
            if derived.sum_of:
                row[derived.name] = _sum(form, derived.sum_of, study, row)
            else:
                row[derived.name] = derived.group_of(study.get(derived.source))
        study_rows.append(row)
    return Normalised(
        studies=_studies_frame(form, study_rows),
        values={
            spec.name: _frame(
                quantity_rows[spec.name],
                AMOUNT_COLUMNS if spec.quantity.measures == "amount" else TIME_COLUMNS,
            )
            for spec in form.quantities()
        },
        readings=_frame(readings, READINGS_COLUMNS),
    )


def _filled(arm: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in arm.items() if value is not None}


def _sources(study: _Source, arms: Sequence[_Source], spec: Field) -> list[tuple[_Source, str]]:
    if spec.on("arm") and any(arm.row.text(spec.column) is not None for arm in arms):
        sources = []
        if spec.on("study") and study.row.text(spec.column) is not None:
            sources.append((study, "replaced by arms"))
        for arm in arms:
            sources.append((arm, "read" if arm.row.text(spec.column) is not None else "empty"))
        return sources
    if not spec.on("study"):
        return []
    return [(study, "read" if study.row.text(spec.column) is not None else "empty")]


def _read_quantity(form: Form, spec: Field, source: _Source) -> list[dict[str, Any]]:
    quantity = spec.quantity
    text = source.row.text(spec.column)
    lexicon = quantity.lexicon()
    try:
        if quantity.measures == "amount":
            parsed = parse_dose(text, lexicon)
        else:
            parsed = parse_timing(text, lexicon)
    except UnitParseError as error:
        source.row.fail(spec.column, f"cannot read {text!r}: {error.problem}", error.hint)
    base = {"record_id": source.values["record_id"], "arm": source.arm, "text": text}
    if quantity.measures != "amount":
        rows = []
        for timing in parsed:
            value = quantity.time(timing)
            rows.append(
                base
                | {
                    "hours": timing.hours,
                    "value": value.value,
                    "anchor": timing.anchor,
                    "event": value.event,
                    "range_role": timing.range_role,
                }
            )
        return rows
    weight = source.values.get(quantity.weight) if quantity.weight else None
    weight_basis = None
    if weight is not None:
        weight_basis = (
            "arm weight"
            if source.arm is not None and source.row.text(form.field(quantity.weight).column)
            else "study weight"
        )
    group = source.values.get(quantity.reference_by) if quantity.reference_by else None
    rows = []
    for dose in parsed:
        try:
            value = quantity.amount(dose, weight_kg=weight, weight_basis=weight_basis, group=group)
        except ConversionError as error:
            source.row.fail(quantity.reference_by or spec.column, error.problem, error.hint)
        total = value.amount
        if total is not None and dose.repeats:
            total = float(Decimal(repr(total)) * dose.repeats)
        rows.append(
            base
            | {
                "value": dose.value,
                "unit": dose.unit,
                "unit_stated": dose.unit_stated,
                "repeats": dose.repeats,
                "range_role": dose.range_role,
                "amount": value.amount,
                "total": total,
                "per_weight": value.per_weight,
                "per_weight_estimated": value.estimated,
                "per_weight_basis": value.basis,
                "group": group,
            }
        )
    return rows


def _sum(form: Form, parts: Sequence[str], study: Mapping[str, Any], row: Mapping[str, Any]) -> Any:
    """A derived sum: of number fields, or of amount quantities each holding one value read on
    the study row (in the first part's unit); None when a part is missing or has several."""
    specs = [form.field(name) for name in parts]
    if specs[0].quantity is None:
        values = [study.get(name) for name in parts]
        return None if any(value is None for value in values) else sum(values)
    unit = specs[0].quantity.unit
    system = specs[0].quantity.vocabulary.system
    total = Decimal(0)
    for spec in specs:
        values = [v for v in row[f"_{spec.name}_values"] if v["arm"] is None]
        if len(values) != 1 or values[0].get("total") is None:
            return None
        converted = system.convert(float(values[0]["total"]), spec.quantity.unit, unit)
        total += Decimal(repr(converted))
    return float(total)


def _study_summary(spec: Field, values: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    quantity = spec.quantity
    column = "amount" if quantity.measures == "amount" else "value"
    numbers = [float(item[column]) for item in values if item.get(column) is not None]
    summary = {
        f"{spec.name}_min": min(numbers) if numbers else None,
        f"{spec.name}_max": max(numbers) if numbers else None,
    }
    if quantity.per_weight:
        per = [float(item["per_weight"]) for item in values if item.get("per_weight") is not None]
        summary[f"{spec.name}_per_{quantity.per_weight}_min"] = min(per) if per else None
        summary[f"{spec.name}_per_{quantity.per_weight}_max"] = max(per) if per else None
    return summary


# --- tables --------------------------------------------------------------------------------

_FLOAT = {"value", "amount", "total", "per_weight", "hours"}
_INT = {"repeats", "row", "values", "unit_assumed"}
_BOOL = {"unit_stated", "per_weight_estimated"}
#: The dtypes of the quantity tables' typed columns, for reading them back.
VALUE_DTYPES = (
    {c: "Float64" for c in _FLOAT} | {c: "Int64" for c in _INT} | {c: "boolean" for c in _BOOL}
)


def _dtype_of(spec_type: str) -> str:
    return {"integer": "Int64", "number": "Float64", "boolean": "boolean"}.get(spec_type, "string")


def _studies_frame(form: Form, rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    dtypes: dict[str, str] = {"record_id": "string"}
    for spec in form.fields:
        if spec.on("study") and spec.type != "quantity":
            dtypes[spec.name] = _dtype_of(spec.type)
        elif spec.on("study"):
            dtypes[spec.name] = "string"
    for derived in form.derived:
        dtypes[derived.name] = "Float64" if derived.sum_of else "string"
    for spec in form.quantities():
        for suffix in ("min", "max"):
            dtypes[f"{spec.name}_{suffix}"] = "Float64"
        if spec.quantity.per_weight:
            for suffix in ("min", "max"):
                dtypes[f"{spec.name}_per_{spec.quantity.per_weight}_{suffix}"] = "Float64"
    data = {}
    for column, dtype in dtypes.items():
        values = [_missing(row.get(column)) for row in rows]
        if dtype == "string":
            values = [None if value is None else str(value) for value in values]
        data[column] = pd.array(values, dtype=dtype)
    return pd.DataFrame(data, columns=list(dtypes))


def _frame(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    data = {}
    for column in columns:
        values = [_missing(row.get(column)) for row in rows]
        if column in _FLOAT:
            dtype = "Float64"
        elif column in _INT:
            dtype = "Int64"
        elif column in _BOOL:
            dtype = "boolean"
        else:
            dtype = "string"
            values = [None if value is None else str(value) for value in values]
        data[column] = pd.array(values, dtype=dtype)
    return pd.DataFrame(data, columns=list(columns))


def _missing(value: object) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def _title(title: object) -> str:
    text = _missing(title)
    return "no title" if text is None else repr(str(text))
