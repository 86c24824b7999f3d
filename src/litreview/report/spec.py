"""The report a review declares (`report:` in config): sets, tables and figures, checked.

sets:     name -> {where: {field: value | [values] | {in: [...]} | {not: value or [...]}
                  | {missing: true/false}}, within: another set}
tables:   a list; each has name, kind, title, caption, set (a set name, a list of set
          names that all apply, or absent for every study) and what its kind needs:
  counts   by: [field] or [field, field]; percent_within: the first by-field (percents
           within each of its groups) or absent (percents of the set); show_empty: list
           codes with no study
  summary  value: a quantity or number field; measure: amount / per_weight / total (for
           amounts); unit: the unit to express values in; by: a field; stats: studies,
           values, min, median, max, mean, sum; thresholds: [{name, value}];
           display: {scale, unit, digits}; exclude_zero: leave zeros out (a log axis)
  bins     value: a time (or any quantity); pick: earliest / every; bins: [{label, from,
           to}] half-open [from, to), bounds like "12 h" (or numbers in the unit)
  listing  columns: fields (a quantity shows its as-reported text and its normalised
           value); sort: fields
  tally    field: a codes field; matrix: true adds the study x code table
figures:  a list; each has name, table, plot (bar, stacked_percent_bar, strip,
          binned_bar), title, x_label, y_label, caption, log (strip), reference_lines
          [{value, label}] (strip)
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from litreview.errors import ConfigError
from litreview.extract.form import Form
from litreview.quantities.units import parse_offset

__all__ = ["KINDS", "PLOTS", "Figure", "ReportSpec", "StudySet", "Table", "report_from_config"]

KINDS = ("counts", "summary", "bins", "listing", "tally")
PLOTS = {
    "bar": ("counts",),
    "stacked_percent_bar": ("counts",),
    "strip": ("summary",),
    "binned_bar": ("bins",),
}
STATS = ("studies", "values", "min", "median", "max", "mean", "sum")
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_TABLE_KEYS = {
    "counts": {"by", "percent_within", "show_empty"},
    "summary": {"value", "measure", "unit", "by", "stats", "thresholds", "display", "exclude_zero"},
    "bins": {"value", "pick", "bins", "display"},
    "listing": {"columns", "sort", "display"},
    "tally": {"field", "matrix"},
}
_COMMON_KEYS = {"name", "kind", "title", "caption", "set"}


@dataclass(frozen=True)
class StudySet:
    name: str
    where: Mapping[str, Any]
    within: str | None = None


@dataclass(frozen=True)
class Table:
    name: str
    kind: str
    title: str
    sets: tuple[str, ...] = ()
    caption: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Figure:
    name: str
    table: str
    plot: str
    title: str
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ReportSpec:
    sets: Mapping[str, StudySet]
    tables: tuple[Table, ...]
    figures: tuple[Figure, ...]

    def table(self, name: str) -> Table:
        return next(table for table in self.tables if table.name == name)


def report_from_config(section: Mapping[str, Any] | None, form: Form) -> ReportSpec:
    """Check `report:` against the extraction form; ConfigError names the key."""
    section = section or {}
    unknown = sorted(set(section) - {"sets", "tables", "figures"})
    if unknown:
        raise ConfigError(
            f"report has unknown key(s) {', '.join(unknown)}: use sets, tables, figures"
        )
    fields = set(form.names())
    sets: dict[str, StudySet] = {}
    for name, entry in (section.get("sets") or {}).items():
        where = f"report.sets.{name}"
        if not isinstance(entry, Mapping) or not isinstance(entry.get("where", {}), Mapping):
            raise ConfigError(f"{where} must be {{where: {{field: value}}}}")
        extra = sorted(set(entry) - {"where", "within", "description"})
        if extra:
            raise ConfigError(f"{where} has unknown key(s) {', '.join(extra)}: use where, within")
        for field_name, condition in (entry.get("where") or {}).items():
            if field_name not in fields:
                raise ConfigError(f"{where}.where: {field_name!r} is not a field of the form")
            _check_condition(condition, form, field_name, f"{where}.where.{field_name}")
        within = entry.get("within")
        if within is not None and within not in (section.get("sets") or {}):
            raise ConfigError(f"{where}.within: {within!r} is not a declared set")
        sets[str(name)] = StudySet(str(name), dict(entry.get("where") or {}), within)
    tables: list[Table] = []
    for number, entry in enumerate(section.get("tables") or [], 1):
        tables.append(_table(entry, f"report.tables[{number}]", form, sets))
    names = [table.name for table in tables]
    for name in names:
        if names.count(name) > 1:
            raise ConfigError(f"report.tables: the name {name!r} is used twice")
    figures: list[Figure] = []
    for number, entry in enumerate(section.get("figures") or [], 1):
        where = f"report.figures[{number}]"
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{where} must be a mapping with name, table, plot, title")
        name = _name(entry.get("name"), f"{where}.name")
        table = entry.get("table")
        if table not in names:
            raise ConfigError(f"{where} ({name}).table: {table!r} is not a declared table")
        plot = entry.get("plot")
        kind = next(t.kind for t in tables if t.name == table)
        if plot not in PLOTS or kind not in PLOTS[plot]:
            fitting = [p for p, kinds in PLOTS.items() if kind in kinds]
            raise ConfigError(
                f"{where} ({name}).plot is {plot!r}: a {kind} table is drawn as "
                f"{', '.join(fitting) or 'no figure'}"
            )
        extra = sorted(
            set(entry)
            - {
                "name",
                "table",
                "plot",
                "title",
                "caption",
                "x_label",
                "y_label",
                "log",
                "reference_lines",
                "width",
                "height",
            }
        )
        if extra:
            raise ConfigError(f"{where} ({name}) has unknown key(s) {', '.join(extra)}")
        for line_number, line in enumerate(entry.get("reference_lines") or [], 1):
            if not isinstance(line, Mapping) or not isinstance(line.get("value"), int | float):
                raise ConfigError(f"{where}.reference_lines[{line_number}] needs a numeric value")
        figures.append(Figure(name, str(table), plot, str(entry.get("title") or name), dict(entry)))
    fig_names = [figure.name for figure in figures]
    for name in fig_names:
        if fig_names.count(name) > 1:
            raise ConfigError(f"report.figures: the name {name!r} is used twice")
    return ReportSpec(sets=sets, tables=tuple(tables), figures=tuple(figures))


def _name(value: object, where: str) -> str:
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise ConfigError(f"{where} is {value!r}: a name of letters, digits, _ . -")
    return value


def _check_condition(condition: object, form: Form, field_name: str, where: str) -> None:
    values: list[object] = []
    if isinstance(condition, Mapping):
        extra = sorted(set(condition) - {"in", "not", "missing"})
        if extra or len(condition) != 1:
            raise ConfigError(f"{where}: use one of in, not, missing (got {sorted(condition)})")
        if "missing" in condition:
            if not isinstance(condition["missing"], bool):
                raise ConfigError(f"{where}.missing must be true or false")
            return
        inner = condition.get("in", condition.get("not"))
        values = list(inner) if isinstance(inner, list) else [inner]
    elif isinstance(condition, list):
        values = list(condition)
    else:
        values = [condition]
    codes = form.codes_of(field_name)
    if codes:
        for value in values:
            if str(value) not in codes and not isinstance(value, bool):
                raise ConfigError(
                    f"{where}: {value!r} is not a code of {field_name} ({', '.join(codes)})"
                )


def _table(entry: object, where: str, form: Form, sets: Mapping[str, StudySet]) -> Table:
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where} must be a mapping with name and kind")
    name = _name(entry.get("name"), f"{where}.name")
    where = f"{where} ({name})"
    kind = entry.get("kind")
    if kind not in KINDS:
        raise ConfigError(f"{where}.kind is {kind!r}: use one of {', '.join(KINDS)}")
    extra = sorted(set(entry) - _COMMON_KEYS - _TABLE_KEYS[kind])
    if extra:
        raise ConfigError(
            f"{where} has unknown key(s) {', '.join(extra)}: a {kind} table takes "
            f"{', '.join(sorted(_COMMON_KEYS | _TABLE_KEYS[kind]))}"
        )
    raw_sets = entry.get("set")
    chosen = (
        () if raw_sets is None else tuple([raw_sets] if isinstance(raw_sets, str) else raw_sets)
    )
    for set_name in chosen:
        if set_name not in sets:
            raise ConfigError(f"{where}.set: {set_name!r} is not a declared set (report.sets)")
    fields = set(form.names())
    options = {key: value for key, value in entry.items() if key not in _COMMON_KEYS}

    def need_field(key: str, value: object, types: Sequence[str] | None = None) -> None:
        if value not in fields:
            raise ConfigError(f"{where}.{key}: {value!r} is not a field of the form")
        if types is not None and form.type_of(value) not in types:
            raise ConfigError(f"{where}.{key}: {value!r} is not a {' or '.join(types)} field")

    if kind == "counts":
        by = entry.get("by")
        by = [by] if isinstance(by, str) else by
        if not isinstance(by, list) or not 1 <= len(by) <= 2:
            raise ConfigError(f"{where}.by must list one or two fields")
        for value in by:
            need_field("by", value)
        within = entry.get("percent_within")
        if within is not None and within != by[0]:
            raise ConfigError(f"{where}.percent_within must be the first by-field ({by[0]})")
        options["by"] = by
    elif kind in ("summary", "bins"):
        need_field("value", entry.get("value"), ("quantity", "number", "integer"))
        spec = next((f for f in form.fields if f.name == entry["value"]), None)
        quantity = None if spec is None else spec.quantity
        if kind == "summary":
            measure = entry.get("measure", "amount")
            if measure not in ("amount", "per_weight", "total"):
                raise ConfigError(
                    f"{where}.measure is {measure!r}: use amount, per_weight or total"
                )
            if measure == "per_weight" and (quantity is None or not quantity.per_weight):
                raise ConfigError(f"{where}.measure: {entry['value']} has no per_weight declared")
            for stat in entry.get("stats", STATS):
                if stat not in STATS:
                    raise ConfigError(f"{where}.stats: {stat!r} is not one of {', '.join(STATS)}")
            if entry.get("by") is not None:
                need_field("by", entry["by"])
            if "unit" in entry and quantity is not None:
                target = quantity.per_weight_unit if measure == "per_weight" else quantity.unit
                convertible = form.vocabulary.system.factor(target, entry["unit"]) is not None
                if not convertible and entry["unit"] not in quantity.accept:
                    raise ConfigError(
                        f"{where}.unit {entry['unit']!r} does not convert from {target} and is "
                        f"not an accepted unit of {entry['value']}"
                    )
            for number, threshold in enumerate(entry.get("thresholds") or [], 1):
                if not isinstance(threshold, Mapping) or not isinstance(
                    threshold.get("value"), int | float
                ):
                    raise ConfigError(
                        f"{where}.thresholds[{number}] needs name and a numeric value"
                    )
        else:
            if entry.get("pick", "earliest") not in ("earliest", "every"):
                raise ConfigError(f"{where}.pick must be earliest or every")
            bins = entry.get("bins")
            if not isinstance(bins, list) or not bins:
                raise ConfigError(f"{where}.bins must list {{label, from, to}}")
            options["bin_bounds"] = _bin_bounds(bins, form, spec, where)
    elif kind == "listing":
        columns = entry.get("columns")
        if not isinstance(columns, list) or not columns:
            raise ConfigError(f"{where}.columns must list fields")
        for value in [*columns, *(entry.get("sort") or [])]:
            if value != "record_id":
                need_field("columns", value)
    elif kind == "tally":
        need_field("field", entry.get("field"), ("codes",))
    return Table(
        name=name,
        kind=kind,
        title=str(entry.get("title") or name),
        sets=chosen,
        caption=entry.get("caption"),
        options=options,
    )


def _bin_bounds(
    bins: list[Any], form: Form, spec: Any, where: str
) -> list[tuple[str, float, float]]:
    """(label, low, high) of each bin in the value's unit, checked: labels unique, each bin
    from < to, the bins in order and not overlapping (a value falls in one bin at most)."""
    import math

    unit = spec.quantity.unit if spec is not None and spec.quantity else ""
    system = form.vocabulary.system
    bounds: list[tuple[str, float, float]] = []
    for number, item in enumerate(bins, 1):
        here = f"{where}.bins[{number}]"
        if not isinstance(item, Mapping) or not str(item.get("label") or "").strip():
            raise ConfigError(f"{here} needs a label (and from and/or to)")
        pair = []
        for key in ("from", "to"):
            bound = item.get(key)
            if bound is None:
                pair.append(-math.inf if key == "from" else math.inf)
            elif isinstance(bound, bool):
                raise ConfigError(f"{here}.{key} is {bound!r}: give a number or a time")
            elif isinstance(bound, int | float):
                pair.append(float(bound))
            else:
                hours = parse_offset(str(bound), system, where=f"{here}.{key}")
                pair.append(system.convert(hours, "h", unit) if unit else hours)
        label = str(item["label"])
        if not pair[0] < pair[1]:
            raise ConfigError(
                f"{here} ({label!r}): from {item.get('from')!r} is not below to {item.get('to')!r}"
            )
        if any(label == earlier for earlier, _, _ in bounds):
            raise ConfigError(f"{here}: the label {label!r} is used twice")
        if bounds and pair[0] < bounds[-1][2]:
            raise ConfigError(
                f"{here} ({label!r}) starts at {item.get('from')!r}, before the bin above it ends "
                f"({bounds[-1][0]!r}): list the bins in order, without overlaps"
            )
        bounds.append((label, pair[0], pair[1]))
    return bounds
