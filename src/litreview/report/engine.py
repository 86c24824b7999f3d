"""The declared report computed: each table from the extraction tables, and every number as a
named metric (`metrics.tsv`: metric, value, unit, n, detail).

Metric names come from the declaration:
    counts   <t>.total; <t>.<code>.n / .percent; <t>.<code>.<code>.n / .percent
    summary  <t>.<stat>; <t>.<group>.<stat>; <t>.above.<threshold>
    bins     <t>.<bin>.n (by pick), <t>.<bin>.any (any value), <t>.other.n,
             <t>.not_reported.n, <t>.order (text: bins with studies, most first)
    listing  <t>.rows
    tally    <t>.studies (naming any code), <t>.<code>.n
Missing codes count as "not_reported", so the parts of every percent add up to 100.
Everything is a pure function of the inputs.
"""

from __future__ import annotations

import functools
import math
import operator
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from litreview.extract.form import Form
from litreview.report.spec import ReportSpec, StudySet, Table

__all__ = ["NOT_REPORTED", "Metrics", "ReportData", "compute"]

NOT_REPORTED = "not_reported"
OTHER = "other"


@dataclass
class Metrics:
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, name: str, value: Any, unit: str, n: int, detail: str) -> None:
        self.rows.append({"metric": name, "value": value, "unit": unit, "n": n, "detail": detail})

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "metric": pd.array([r["metric"] for r in self.rows], dtype="string"),
                "value": pd.array([_metric_value(r["value"]) for r in self.rows], dtype="string"),
                "unit": pd.array([r["unit"] for r in self.rows], dtype="string"),
                "n": pd.array([r["n"] for r in self.rows], dtype="Int64"),
                "detail": pd.array([r["detail"] for r in self.rows], dtype="string"),
            }
        )


def _metric_value(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "NA"
    if isinstance(value, str):
        return value
    return format(float(value), ".10g")


@dataclass(frozen=True)
class ReportData:
    form: Form
    studies: pd.DataFrame
    values: Mapping[str, pd.DataFrame]


@dataclass(frozen=True)
class Computed:
    tables: dict[str, pd.DataFrame]
    extra_tables: dict[str, pd.DataFrame]
    metrics: Metrics
    points: dict[str, list[tuple[str, float, bool]]]  # summary -> (group, value, estimated)


def compute(spec: ReportSpec, data: ReportData) -> Computed:
    metrics = Metrics()
    tables: dict[str, pd.DataFrame] = {}
    extra: dict[str, pd.DataFrame] = {}
    points: dict[str, list[tuple[str, float, bool]]] = {}
    for table in spec.tables:
        studies = _select(spec, data, table.sets)
        what = _set_text(table)
        if table.kind == "counts":
            tables[table.name] = _counts(table, data, studies, metrics, what)
        elif table.kind == "summary":
            tables[table.name], points[table.name] = _summary(table, data, studies, metrics, what)
        elif table.kind == "bins":
            tables[table.name] = _bins(table, data, studies, metrics, what)
        elif table.kind == "listing":
            tables[table.name] = _listing(table, data, studies, metrics, what)
        else:
            tables[table.name], matrix = _tally(table, data, studies, metrics, what)
            if matrix is not None:
                extra[f"{table.name}_matrix"] = matrix
    return Computed(tables, extra, metrics, points)


# --- sets ----------------------------------------------------------------------------------


def _select(spec: ReportSpec, data: ReportData, names: Sequence[str]) -> pd.DataFrame:
    mask = pd.Series(True, index=data.studies.index)
    for name in names:
        mask &= _set_mask(spec, data, spec.sets[name])
    return data.studies[mask]


def _set_mask(spec: ReportSpec, data: ReportData, study_set: StudySet) -> pd.Series:
    studies = data.studies
    mask = pd.Series(True, index=studies.index)
    if study_set.within:
        mask &= _set_mask(spec, data, spec.sets[study_set.within])
    for name, condition in study_set.where.items():
        column = studies[name].astype("string")
        if isinstance(condition, Mapping) and "missing" in condition:
            test = column.isna() if condition["missing"] else column.notna()
        elif isinstance(condition, Mapping) and "not" in condition:
            excluded = (
                condition["not"] if isinstance(condition["not"], list) else [condition["not"]]
            )
            test = ~column.isin([_text(v) for v in excluded]).fillna(False).astype(bool)
        else:
            wanted = condition.get("in") if isinstance(condition, Mapping) else condition
            wanted = wanted if isinstance(wanted, list) else [wanted]
            test = column.isin([_text(v) for v in wanted]).fillna(False).astype(bool)
        mask &= test.astype(bool)
    return mask


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


def _set_text(table: Table) -> str:
    return "all studies" if not table.sets else "studies of " + " and ".join(table.sets)


# --- counts --------------------------------------------------------------------------------


def _codes(data: ReportData, name: str, observed: Sequence[str], show_empty: bool) -> list[str]:
    declared = list(data.form.codes_of(name))
    counts = pd.Series(list(observed)).value_counts() if observed else pd.Series(dtype=int)
    present = [code for code in counts.index if code != NOT_REPORTED]
    if declared:
        order = {code: index for index, code in enumerate(declared)}
        present.sort(key=lambda code: (-int(counts[code]), order.get(code, len(order)), code))
    else:
        present.sort(key=lambda code: (-int(counts[code]), code))
    if show_empty:
        present += [code for code in declared if code not in present]
    if NOT_REPORTED in counts.index:
        present.append(NOT_REPORTED)
    return present


def _values_of(studies: pd.DataFrame, name: str) -> list[str]:
    return [NOT_REPORTED if pd.isna(v) else _text(v) for v in studies[name]]


def _percent(part: int, whole: int) -> float | None:
    return None if whole == 0 else 100 * part / whole


def _counts(
    table: Table, data: ReportData, studies: pd.DataFrame, metrics: Metrics, what: str
) -> pd.DataFrame:
    by = table.options["by"]
    show_empty = bool(table.options.get("show_empty", False))
    total = len(studies)
    metrics.add(f"{table.name}.total", total, "studies", total, what)
    rows = []
    first = _values_of(studies, by[0])
    labels = [data.form.labels_of(name) for name in by]
    within = table.options.get("percent_within") == by[0]
    for code in _codes(data, by[0], first, show_empty):
        n = first.count(code)
        percent = _percent(n, total)
        metrics.add(f"{table.name}.{code}.n", n, "studies", total, f"{what}: {by[0]} {code}")
        metrics.add(
            f"{table.name}.{code}.percent", percent, "percent", total, f"{n} of {total} {what}"
        )
        rows.append(_count_row(by, labels, (code,), n, total, percent))
        if len(by) == 2:
            inner = studies[[value == code for value in first]]
            second = _values_of(inner, by[1])
            denominator = len(inner) if within else total
            for sub in _codes(data, by[1], second, show_empty):
                m = second.count(sub)
                share = _percent(m, denominator)
                metrics.add(
                    f"{table.name}.{code}.{sub}.n",
                    m,
                    "studies",
                    denominator,
                    f"{what}: {by[0]} {code}, {by[1]} {sub}",
                )
                metrics.add(
                    f"{table.name}.{code}.{sub}.percent",
                    share,
                    "percent",
                    denominator,
                    f"{m} of {denominator} {what}" + (f" with {by[0]} {code}" if within else ""),
                )
                rows.append(_count_row(by, labels, (code, sub), m, denominator, share))
    return pd.DataFrame(
        rows,
        columns=[
            "level",
            *functools.reduce(operator.iadd, ([n, f"{n}_label"] for n in by), []),
            "n",
            "denominator",
            "percent",
        ],
    )


def _count_row(by, labels, codes, n, denominator, percent) -> dict[str, Any]:
    row: dict[str, Any] = {"level": by[len(codes) - 1]}
    for index, name in enumerate(by):
        code = codes[index] if index < len(codes) else None
        row[name] = code
        row[f"{name}_label"] = None if code is None else _label(labels[index], code)
    row |= {
        "n": n,
        "denominator": denominator,
        "percent": None if percent is None else round(percent, 1),
    }
    return row


def _label(labels: Mapping[str, str], code: str) -> str:
    """The declared label of a code; a code without one is shown with spaces for "_"."""
    if code == NOT_REPORTED:
        return "not reported"
    label = labels.get(code, code)
    return label.replace("_", " ") if label == code else label


# --- summaries -----------------------------------------------------------------------------


def _quantity_values(
    table: Table, data: ReportData, studies: pd.DataFrame
) -> tuple[list[tuple[str, str, float, bool]], str]:
    """(record_id, group, value, estimated) for the summary's value, and the unit shown."""
    name = table.options["value"]
    spec = next((f for f in data.form.fields if f.name == name), None)
    by = table.options.get("by")
    ids = set(studies["record_id"])
    group_of = (
        {} if by is None else dict(zip(studies["record_id"], _values_of(studies, by), strict=True))
    )
    if spec is None or spec.quantity is None:
        unit = table.options.get("unit", "")
        rows = [
            (rid, group_of.get(rid, ""), float(v), False)
            for rid, v in zip(studies["record_id"], studies[name], strict=True)
            if not pd.isna(v)
        ]
        return rows, unit
    quantity = spec.quantity
    values = data.values[spec.name]
    values = values[values["record_id"].isin(ids)]
    measure = table.options.get("measure", "amount")
    system = data.form.vocabulary.system
    if quantity.measures != "amount":
        column, source_unit = "value", quantity.unit
    elif measure == "per_weight":
        column, source_unit = "per_weight", quantity.per_weight_unit
    else:
        column, source_unit = ("total" if measure == "total" else "amount"), quantity.unit
    unit = table.options.get("unit", source_unit)
    rows = []
    for record in values.to_dict("records"):
        if quantity.measures == "amount" and unit != source_unit and pd.isna(record[column]):
            # a unit of another dimension ("particles" for a count): read the value as reported
            if record["unit"] != unit:
                continue
            value = float(record["value"])
        elif pd.isna(record[column]):
            continue
        else:
            value = system.convert(float(record[column]), source_unit, unit)
            if value is None:
                continue
        group = group_of.get(record["record_id"], "")
        if (
            by is not None
            and quantity.reference_by == by
            and not pd.isna(record.get("group", pd.NA))
        ):
            group = str(record["group"])
        estimated = (
            bool(record.get("per_weight_estimated"))
            if measure == "per_weight" and not pd.isna(record.get("per_weight_estimated", pd.NA))
            else False
        )
        rows.append((record["record_id"], group, value, estimated))
    return rows, unit


def _summary(table, data, studies, metrics, what):
    rows, unit = _quantity_values(table, data, studies)
    if table.options.get("exclude_zero"):
        rows = [row for row in rows if row[2] != 0]
    stats = list(table.options.get("stats", ["studies", "values", "min", "median", "max"]))
    display = table.options.get("display") or {}
    scale = float(display.get("scale", 1))
    shown = display.get("unit", unit)
    digits = int(display.get("digits", 3))
    by = table.options.get("by")
    groups = [("", rows)]
    if by is not None:
        order = _codes(data, by, [g for _, g, _, _ in rows], False)
        groups += [(code, [r for r in rows if r[1] == code]) for code in order]
    out = []
    for group, members in groups:
        prefix = f"{table.name}." + (f"{group}." if group else "")
        numbers = [value for _, _, value, _ in members]
        n_studies = len({rid for rid, _, _, _ in members})
        scope = what + (f", {by} {group}" if group else "")
        described = f"{len(numbers)} {'value' if len(numbers) == 1 else 'values'} from {n_studies} {'study' if n_studies == 1 else 'studies'} ({scope})"
        computed = {
            "studies": n_studies,
            "values": len(numbers),
            "min": min(numbers) if numbers else None,
            "median": statistics.median(numbers) if numbers else None,
            "max": max(numbers) if numbers else None,
            "mean": statistics.fmean(numbers) if numbers else None,
            "sum": math.fsum(numbers) if numbers else None,
        }
        for stat in stats:
            if stat in ("studies", "values"):
                metrics.add(prefix + stat, computed[stat], stat, n_studies, scope)
            else:
                detail = f"{stat} of {described}" if numbers else f"no values: {scope}"
                metrics.add(prefix + stat, computed[stat], unit, n_studies, detail)
        row = {"group": group or "all", "studies": n_studies, "values": len(numbers)}
        row["estimated_values"] = sum(1 for *_, estimated in members if estimated)
        for stat in stats:
            if stat in ("studies", "values"):
                continue
            value = computed[stat]
            row[f"{stat} ({shown})"] = (
                None if value is None else _significant(value / scale, digits)
            )
        out.append(row)
    for threshold in table.options.get("thresholds") or []:
        limit = float(threshold["value"])
        above = {rid for rid, _, value, _ in rows if value > limit}
        everyone = {rid for rid, _, _, _ in rows}
        metrics.add(
            f"{table.name}.above.{threshold.get('name', 'threshold')}",
            len(above) if everyone else None,
            "studies",
            len(everyone),
            f"{len(above)} of {len(everyone)} studies with a value above {limit:g} {unit}",
        )
    points = [(group, value / scale, estimated) for _, group, value, estimated in rows]
    return pd.DataFrame(out), points


def _significant(value: float, digits: int) -> float:
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


# --- bins ----------------------------------------------------------------------------------


def _bins(table, data, studies, metrics, what):
    spec = data.form.field(table.options["value"])
    unit = spec.quantity.unit if spec.quantity else ""
    bins = table.options["bin_bounds"]  # parsed and checked when the config loaded
    values = data.values[spec.name]
    by_study: dict[str, list[float]] = {}
    for record in values[values["record_id"].isin(set(studies["record_id"]))].to_dict("records"):
        if not pd.isna(record["value"]):
            by_study.setdefault(record["record_id"], []).append(float(record["value"]))

    def bin_of(value: float) -> str:
        return next((label for label, low, high in bins if low <= value < high), OTHER)

    pick = table.options.get("pick", "earliest")
    picked: dict[str, int] = {label: 0 for label, _, _ in bins} | {OTHER: 0, NOT_REPORTED: 0}
    anywhere: dict[str, int] = dict(picked)
    for record_id in studies["record_id"]:
        numbers = by_study.get(record_id, [])
        if not numbers:
            picked[NOT_REPORTED] += 1
            anywhere[NOT_REPORTED] += 1
            continue
        chosen = {bin_of(min(numbers))} if pick == "earliest" else {bin_of(v) for v in numbers}
        for label in chosen:
            picked[label] += 1
        for label in {bin_of(v) for v in numbers}:
            anywhere[label] += 1
    total = len(studies)
    rows = []
    for label, low, high in [*bins, (OTHER, None, None), (NOT_REPORTED, None, None)]:
        metrics.add(
            f"{table.name}.{label}.n",
            picked[label],
            "studies",
            total,
            f"{what} ({pick} value) in {label!r}",
        )
        metrics.add(
            f"{table.name}.{label}.any",
            anywhere[label],
            "studies",
            total,
            f"{what} with any value in {label!r}",
        )
        rows.append(
            {
                "bin": "not reported" if label == NOT_REPORTED else label,
                f"from ({unit})": None if low is None or math.isinf(low) else low,
                f"to ({unit})": None if high is None or math.isinf(high) else high,
                "studies": picked[label],
                "studies_any_value": anywhere[label],
            }
        )
    ranked = sorted(
        ((label, picked[label], i) for i, (label, _, _) in enumerate(bins) if picked[label]),
        key=lambda item: (-item[1], item[2]),
    )
    metrics.add(
        f"{table.name}.order",
        "; ".join(label for label, _, _ in ranked),
        "bins",
        total,
        f"bins by number of {what}, most first",
    )
    return pd.DataFrame(rows)


# --- listings and tallies ------------------------------------------------------------------


def _listing(table, data, studies, metrics, what):
    """The chosen columns, a quantity's as-reported text beside its normalised range (in the
    declared display scale; "(est.)" when a per-weight value rests on a reference weight)."""
    columns = table.options["columns"]
    display = table.options.get("display") or {}
    rows = []
    ordered = studies.sort_values(
        by=list(table.options.get("sort") or ["record_id"]),
        kind="stable",
        na_position="last",
        key=lambda column: column.str.casefold() if column.dtype == "string" else column,
    )
    for record in ordered.to_dict("records"):
        row = {}
        for name in columns:
            spec = next((f for f in data.form.fields if f.name == name), None)
            value = record.get(name)
            row[name] = None if pd.isna(value) else _shown(data, name, value)
            if spec is not None and spec.quantity is not None:
                row[name] = None if pd.isna(value) else value
                shown = display.get(name) or {}
                scale = float(shown.get("scale", 1))
                unit = shown.get("unit", spec.quantity.per_weight_unit or spec.quantity.unit)
                low, high = _study_range(data, spec, record)
                text = _range_text(
                    None if low is None else low / scale, None if high is None else high / scale
                )
                if text is not None and _estimated(data, spec.name, record["record_id"]):
                    text += " (est.)"
                row[f"{name} ({unit})"] = text
        rows.append(row)
    metrics.add(f"{table.name}.rows", len(rows), "studies", len(studies), what)
    return pd.DataFrame(rows, columns=list(rows[0]) if rows else columns, dtype=object)


def _estimated(data: ReportData, name: str, record_id: str) -> bool:
    values = data.values.get(name)
    if values is None or "per_weight_estimated" not in values:
        return False
    mine = values[values["record_id"] == record_id]["per_weight_estimated"]
    return bool(mine.fillna(False).astype(bool).any())


def _shown(data: ReportData, name: str, value: Any) -> Any:
    labels = data.form.labels_of(name)
    return labels.get(str(value), value) if labels else value


def _study_range(data: ReportData, spec, record) -> tuple[float | None, float | None]:
    quantity = spec.quantity
    prefix = f"{spec.name}_per_{quantity.per_weight}" if quantity.per_weight else spec.name
    low, high = record.get(f"{prefix}_min"), record.get(f"{prefix}_max")
    return (None if pd.isna(low) else float(low), None if pd.isna(high) else float(high))


def _range_text(low: float | None, high: float | None) -> str | None:
    if low is None:
        return None
    if low == high:
        return _plain(low)
    return f"{_plain(low)}–{_plain(high)}"


def _plain(value: float) -> str:
    """Three significant digits, never in e-notation: 0.364, 36.4, 7140000."""
    rounded = _significant(value, 3)
    if rounded == 0 or not math.isfinite(rounded):
        return f"{rounded:g}"
    decimals = max(0, 2 - math.floor(math.log10(abs(rounded))))
    text = f"{rounded:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _tally(table, data, studies, metrics, what):
    name = table.options["field"]
    codes = list(data.form.codes_of(name))
    label_field = data.form.label_field
    per_study = []
    for record in studies.to_dict("records"):
        value = record.get(name)
        chosen = (
            []
            if pd.isna(value)
            else [part.strip() for part in str(value).split(";") if part.strip()]
        )
        key = (
            record.get(label_field)
            if label_field and not pd.isna(record.get(label_field))
            else record["record_id"]
        )
        per_study.append((str(key), chosen))
    naming = sum(1 for _, chosen in per_study if chosen)
    metrics.add(
        f"{table.name}.studies", naming, "studies", len(studies), f"{what} naming a {name} code"
    )
    rows = []
    for code in codes:
        holders = [key for key, chosen in per_study if code in chosen]
        metrics.add(
            f"{table.name}.{code}.n", len(holders), "studies", naming, f"{what} naming {code}"
        )
        if holders:
            rows.append(
                {
                    "code": code,
                    "label": data.form.labels_of(name).get(code, code),
                    "studies": len(holders),
                    "study_labels": "; ".join(sorted(holders)),
                }
            )
    rows.sort(key=lambda row: -row["studies"])
    matrix = None
    if table.options.get("matrix"):
        matrix = pd.DataFrame(
            [
                {"study": key, **{code: int(code in chosen) for code in codes}}
                for key, chosen in sorted(per_study)
                if chosen
            ],
            columns=["study", *codes],
        )
    return pd.DataFrame(rows, columns=["code", "label", "studies", "study_labels"]), matrix
