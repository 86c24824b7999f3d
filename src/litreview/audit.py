"""The audit: every regenerated number beside the one the review published, each difference
explained, and the published numbers checked against each other.

A reproduction is only as good as its account of where it disagrees. Config `audit.targets`
maps a value of `published.yaml` (a dotted path; list items by index, "dose_per_kg_1e5.0") onto
a metric of `results/tables/metrics.tsv`, with a `scale` that brings the metric into the
published unit (1e-5 for "1e5 units/kg") and an absolute `tolerance` (0.5 for a percent printed
without decimals). Each target ends `match`, `differs` or `not computable`, with a sentence
saying why where the data tell: the sheets hold fewer studies than the review included, the
published percent disagrees with its own counts, the metric rests on n studies, the unit is
inferred. `audit.consistency` checks the published numbers alone: a percent against its
numerator and denominator ("57 of 71 is 80.3%, published 82%"), parts against a total
("71 + 4 + 12 = 87").

Metrics are read generically: the audit knows no metric name, only the conventions of
metrics.tsv (a `unit` of "%" or "percent" marks a percent, "studies"/"count"/"trials" a
count). Only `coverage_from_studies` uses two names of the contract, `included_total` and
`category.<code>`, to find the published totals the sheets are measured against.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from litreview import io
from litreview.config import read_yaml
from litreview.errors import ConfigError, InputFileError, ValidationError

__all__ = [
    "AUDIT_COLUMNS",
    "CHECK_COLUMNS",
    "COMPARE_MODES",
    "CONSISTENCY_KINDS",
    "METRIC_COLUMNS",
    "AuditResult",
    "AuditSettings",
    "AuditTarget",
    "CategoryGap",
    "Coverage",
    "PercentCheck",
    "SumCheck",
    "audit",
    "coverage_from_studies",
    "load_published",
    "lookup",
    "read_metrics",
    "render_markdown",
    "require_no_differences",
    "write_audit",
]

AUDIT_COLUMNS = (
    "id",
    "published_path",
    "published",
    "metric",
    "regenerated",
    "difference",
    "status",
    "explanation",
)
CHECK_COLUMNS = ("id", "kind", "paths", "computed", "published", "status", "sentence", "note")
METRIC_COLUMNS = ("metric", "value", "unit", "n", "detail")

MATCH, DIFFERS, NOT_COMPUTABLE = "match", "differs", "not computable"
CONSISTENT, INCONSISTENT = "consistent", "inconsistent"
CONSISTENCY_KINDS = ("percent", "sum")
COMPARE_MODES = ("exact", "set", "leading")
"""How a published list meets a listed metric: equal lists; the same items in any order; or
the published items are the first ones of the regenerated list (a "most common" top three)."""

PERCENT_UNITS = frozenset({"%", "percent", "pct"})
COUNT_UNITS = frozenset(
    {"studies", "study", "count", "counts", "n", "trials", "articles", "records", "patients"}
)
_EPSILON = 1e-9


# --- published.yaml -----------------------------------------------------------------------


def load_published(path: str | Path) -> dict[str, Any]:
    """The review's published numbers: a YAML mapping, read once and looked up by path."""
    source = Path(path)
    if not source.is_file():
        raise InputFileError(
            source, "file not found", hint="give config audit.published the review's numbers"
        )
    # read strictly: a key given twice, a tab, text that is not UTF-8 is one clear error
    return read_yaml(source, what="published numbers")


def lookup(published: Mapping[str, Any], dotted_path: str) -> Any:
    """The value at "a.b.0.c": mapping keys by name, list items by 0-based index."""
    parts = dotted_path.split(".")
    if not dotted_path or any(part == "" for part in parts):
        raise ConfigError(f"published path {dotted_path!r} is empty or has an empty part")
    node: Any = published
    for depth, part in enumerate(parts):
        where = ".".join(parts[:depth]) or "the top level"
        if isinstance(node, Mapping):
            keys = {str(key): key for key in node}
            if part not in keys:
                available = ", ".join(sorted(keys)) or "none"
                raise ConfigError(
                    f"published path {dotted_path!r}: no key {part!r} under {where}; "
                    f"keys there: {available}"
                )
            node = node[keys[part]]
        elif isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ConfigError(
                    f"published path {dotted_path!r}: {part!r} is not an item of the list under "
                    f"{where}, which has {len(node)} item(s): use an index 0 to {len(node) - 1}"
                )
            node = node[int(part)]
        else:
            raise ConfigError(
                f"published path {dotted_path!r}: {where} is the value {node!r}, not a section; "
                f"it has no {part!r}"
            )
    return node


# --- settings -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditTarget:
    """One published value and the metric that should regenerate it."""

    id: str
    published: str
    metric: tuple[str, ...]
    """One metric name, or several whose values are added (two tissue codes the review merged)."""
    scale: float = 1.0
    tolerance: float = 0.0
    note: str | None = None
    compare: str = "exact"
    signed: bool = False
    """True when the published value may be negative (an effect, a change); counts may not."""

    @property
    def metric_label(self) -> str:
        return " + ".join(self.metric)


@dataclass(frozen=True)
class PercentCheck:
    """numerator / denominator x 100 should be the stated percent, within `tolerance`."""

    id: str
    numerator: str | float
    denominator: str | float
    percent: str | float
    tolerance: float = 0.5
    note: str | None = None
    kind: str = "percent"

    def paths(self) -> tuple[str | float, ...]:
        return (self.numerator, self.denominator, self.percent)


@dataclass(frozen=True)
class SumCheck:
    """The parts should add up to the total, within `tolerance`. A path or a literal number."""

    id: str
    parts: tuple[str | float, ...]
    total: str | float
    tolerance: float = 0.0
    note: str | None = None
    kind: str = "sum"

    def paths(self) -> tuple[str | float, ...]:
        return (*self.parts, self.total)


ConsistencyCheck = PercentCheck | SumCheck

_SECTION_KEYS = ("published", "targets", "consistency", "strict", "coverage")
_TARGET_KEYS = ("id", "published", "metric", "scale", "tolerance", "note", "compare", "signed")
_CHECK_KEYS = {
    "percent": ("id", "kind", "numerator", "denominator", "percent", "tolerance", "note"),
    "sum": ("id", "kind", "parts", "total", "tolerance", "note"),
}
_CHECK_REQUIRED = {"percent": ("numerator", "denominator", "percent"), "sum": ("parts", "total")}


@dataclass(frozen=True)
class AuditSettings:
    """Config section `audit:` (targets, consistency checks, strict); `published` (the path of
    published.yaml) is the workflow's business and is accepted but not kept here."""

    targets: tuple[AuditTarget, ...] = ()
    consistency: tuple[ConsistencyCheck, ...] = ()
    strict: bool = False

    @classmethod
    def from_config(cls, section: Mapping[str, Any] | None) -> AuditSettings:
        """Settings from config `audit:`; a misspelt key, a missing key or an unknown kind
        fails at once, naming the entry."""
        if section is None:
            return cls()
        if not isinstance(section, Mapping):
            raise ConfigError(f"audit: expected a mapping, got {section!r}")
        unknown = sorted(set(map(str, section)) - set(_SECTION_KEYS))
        if unknown:
            raise ConfigError(
                f"audit: unknown key(s) {', '.join(unknown)}; known: {', '.join(_SECTION_KEYS)}"
            )
        strict = section.get("strict", False)
        if not isinstance(strict, bool):
            raise ConfigError(f"audit.strict: expected true or false, got {strict!r}")
        targets = tuple(
            _target_from_config(entry, number)
            for number, entry in enumerate(_entries(section, "targets"), start=1)
        )
        checks = tuple(
            _check_from_config(entry, number)
            for number, entry in enumerate(_entries(section, "consistency"), start=1)
        )
        seen: dict[str, str] = {}
        for kind, item in [("targets", t) for t in targets] + [("consistency", c) for c in checks]:
            if item.id in seen:
                raise ConfigError(
                    f"audit.{kind}: id {item.id!r} is used twice (also in audit.{seen[item.id]}): "
                    "ids name the rows of the audit and must be unique"
                )
            seen[item.id] = kind
        return cls(targets=targets, consistency=checks, strict=strict)


def _entries(section: Mapping[str, Any], key: str) -> list[Any]:
    entries = section.get(key)
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise ConfigError(f"audit.{key}: expected a list of entries, got {entries!r}")
    return entries


def _entry_name(section: str, number: int, entry: Any) -> str:
    name = f"audit.{section} entry {number}"
    if isinstance(entry, Mapping) and isinstance(entry.get("id"), str):
        name += f" ({entry['id']})"
    return name


def _checked_keys(
    entry: Any, name: str, known: Sequence[str], required: Sequence[str]
) -> Mapping[str, Any]:
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{name}: expected a mapping with keys {', '.join(required)}")
    unknown = sorted(set(map(str, entry)) - set(known))
    if unknown:
        raise ConfigError(f"{name}: unknown key(s) {', '.join(unknown)}; known: {', '.join(known)}")
    missing = [key for key in required if entry.get(key) is None]
    if missing:
        raise ConfigError(f"{name}: missing key(s) {', '.join(missing)}")
    return entry


def _text(entry: Mapping[str, Any], key: str, name: str) -> str:
    value = entry[key]
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{name}: {key} must be a non-empty text, got {value!r}")
    return value.strip()


def _optional_note(entry: Mapping[str, Any], name: str) -> str | None:
    note = entry.get("note")
    if note is not None and not isinstance(note, str):
        raise ConfigError(f"{name}: note must be text, got {note!r}")
    return note.strip() if note else None


def _number(value: Any, what: str) -> float:
    """A config number; YAML 1.1 reads "1e-5" (no dot) as text, so numeric text is accepted."""
    number = _as_number(value)
    if number is None:
        raise ConfigError(f"{what}: expected a number, got {value!r}")
    return number


def _path(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip() or "" in value.strip().split("."):
        raise ConfigError(f"{what}: expected a dotted path like 'counts.total', got {value!r}")
    return value.strip()


def _path_or_number(value: Any, what: str) -> str | float:
    """A dotted path into published.yaml, or a literal number (a total of 100 percent)."""
    number = _as_number(value)
    if number is not None:
        return number
    return _path(value, what)


def _target_from_config(entry: Any, number: int) -> AuditTarget:
    name = _entry_name("targets", number, entry)
    entry = _checked_keys(entry, name, _TARGET_KEYS, ("id", "published", "metric"))
    metric = entry["metric"]
    names = [metric] if isinstance(metric, str) else metric
    if not isinstance(names, list) or not names:
        raise ConfigError(f"{name}: metric must be a metric name or a list of them, got {metric!r}")
    for item in names:
        if not isinstance(item, str) or not item.strip():
            raise ConfigError(f"{name}: metric names must be non-empty text, got {item!r}")
    scale = _number(entry.get("scale", 1.0), f"{name}: scale")
    if scale == 0:
        raise ConfigError(f"{name}: scale is 0, which would erase every value")
    tolerance = _number(entry.get("tolerance", 0.0), f"{name}: tolerance")
    if tolerance < 0:
        raise ConfigError(f"{name}: tolerance must be 0 or more, got {tolerance!r}")
    compare = entry.get("compare", "exact")
    if compare not in COMPARE_MODES:
        raise ConfigError(f"{name}: compare is {compare!r}; use one of {', '.join(COMPARE_MODES)}")
    return AuditTarget(
        id=_text(entry, "id", name),
        published=_path(entry["published"], f"{name}: published"),
        metric=tuple(item.strip() for item in names),
        scale=scale,
        tolerance=tolerance,
        note=_optional_note(entry, name),
        compare=compare,
        signed=_flag(entry, "signed", name),
    )


def _flag(entry: Mapping[str, Any], key: str, name: str) -> bool:
    value = entry.get(key, False)
    if not isinstance(value, bool):
        raise ConfigError(f"{name}: {key} must be true or false, got {value!r}")
    return value


def _check_from_config(entry: Any, number: int) -> ConsistencyCheck:
    name = _entry_name("consistency", number, entry)
    if not isinstance(entry, Mapping) or entry.get("kind") is None:
        raise ConfigError(f"{name}: missing key kind (one of {', '.join(CONSISTENCY_KINDS)})")
    kind = entry["kind"]
    if kind not in CONSISTENCY_KINDS:
        raise ConfigError(
            f"{name}: unknown kind {kind!r}; use one of {', '.join(CONSISTENCY_KINDS)}"
        )
    entry = _checked_keys(entry, name, _CHECK_KEYS[kind], ("id", *_CHECK_REQUIRED[kind]))
    identifier = _text(entry, "id", name)
    note = _optional_note(entry, name)
    default_tolerance = 0.5 if kind == "percent" else 0.0
    tolerance = _number(entry.get("tolerance", default_tolerance), f"{name}: tolerance")
    if tolerance < 0:
        raise ConfigError(f"{name}: tolerance must be 0 or more, got {tolerance!r}")
    if kind == "percent":
        return PercentCheck(
            id=identifier,
            numerator=_path_or_number(entry["numerator"], f"{name}: numerator"),
            denominator=_path_or_number(entry["denominator"], f"{name}: denominator"),
            percent=_path_or_number(entry["percent"], f"{name}: percent"),
            tolerance=tolerance,
            note=note,
        )
    parts = entry["parts"]
    if not isinstance(parts, list) or not parts:
        raise ConfigError(f"{name}: parts must be a non-empty list of paths, got {parts!r}")
    return SumCheck(
        id=identifier,
        parts=tuple(_path_or_number(part, f"{name}: parts") for part in parts),
        total=_path_or_number(entry["total"], f"{name}: total"),
        tolerance=tolerance,
        note=note,
    )


# --- metrics.tsv --------------------------------------------------------------------------


def read_metrics(path: str | Path) -> pd.DataFrame:
    """metrics.tsv as written by the regenerate step: one row per metric; `value` kept as text
    (NA where the metric could not be computed, its `detail` saying why), `n` as Int64."""
    source = Path(path)
    if not source.is_file():
        raise InputFileError(source, "file not found", hint="run the regenerate step first")
    table = io.read_table(source)
    missing = [column for column in ("metric", "value") if column not in table.columns]
    if missing:
        raise InputFileError(
            source,
            f"missing column(s) {', '.join(missing)}; found {', '.join(map(str, table.columns))}",
            hint=f"metrics.tsv needs {', '.join(METRIC_COLUMNS)}",
        )
    for column in METRIC_COLUMNS:
        if column not in table.columns:
            table[column] = pd.Series(pd.NA, index=table.index, dtype="string")
    # The regenerate step writes "NA" for a metric it could not compute.
    not_computed = table["value"].astype("string").str.strip().str.upper().isin(["NA", "NAN"])
    table["value"] = table["value"].astype("string").mask(not_computed.fillna(False))
    seen: dict[str, int] = {}
    counts: list[Any] = []
    for index, record in enumerate(table.to_dict("records")):
        row = index + 2
        metric = record["metric"]
        if _is_missing(metric) or not str(metric).strip():
            raise InputFileError(source, "empty metric name", row=row, column="metric")
        if metric in seen:
            raise InputFileError(
                source,
                f"metric {metric!r} appears twice (first on row {seen[metric]})",
                row=row,
                column="metric",
                hint="each metric must have one value",
            )
        seen[metric] = row
        n = record["n"]
        if _is_missing(n):
            counts.append(pd.NA)
        elif str(n).strip().isdigit():
            counts.append(int(str(n).strip()))
        else:
            raise InputFileError(
                source, f"n is {n!r}, not a whole number of studies", row=row, column="n"
            )
    result = table[list(METRIC_COLUMNS)].copy()
    result["n"] = pd.array(counts, dtype="Int64")
    return result


# --- coverage -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryGap:
    """A category with fewer studies in the sheets than the review published."""

    category: str
    in_sheets: int
    published: int


@dataclass(frozen=True)
class Coverage:
    """How much of the published review the extraction sheets hold, and where the search came
    from: every audit line is read against these."""

    included_in_sheets: int | None
    included_published: int | None
    missing_categories: tuple[CategoryGap, ...] = ()
    origin: str | None = None

    @property
    def percent(self) -> float | None:
        if self.included_in_sheets is None or not self.included_published:
            return None
        return 100.0 * self.included_in_sheets / self.included_published

    @property
    def complete(self) -> bool | None:
        if self.included_in_sheets is None or self.included_published is None:
            return None
        return self.included_in_sheets >= self.included_published

    def sentence(self) -> str:
        """ "the sheets hold 72 of the 87 published included studies (83%)" """
        if self.included_in_sheets is None:
            return "the number of studies in the sheets is not known"
        if self.included_published is None:
            return (
                f"the sheets hold {self.included_in_sheets} included studies; "
                "the published total is not known"
            )
        text = (
            f"the sheets hold {self.included_in_sheets} of the {self.included_published} "
            "published included studies"
        )
        if self.percent is not None:
            text += f" ({self.percent:.0f}%)"
        return text


def coverage_from_studies(
    studies: pd.DataFrame,
    published: Mapping[str, Any],
    settings: AuditSettings,
    *,
    origin: str | None,
    total_metric: str | None = "included_total",
    group_metric: str | None = "category.{code}",
    field: str = "category",
) -> Coverage:
    """Coverage of results/extraction/studies.tsv against the published totals: the published
    total is the value of the target whose metric is `total_metric`; per-category totals come
    from targets on `category.<code>` metrics, compared with the sheets' `category` column."""
    included_published: int | None = None
    gaps: list[CategoryGap] = []
    by_category = (
        studies[field].dropna().astype(str).value_counts().to_dict()
        if field in studies.columns
        else {}
    )
    prefix, _, suffix = (group_metric or "\0{code}\0").partition("{code}")
    for target in settings.targets:
        if len(target.metric) != 1:
            continue
        metric = target.metric[0]
        is_group = (
            group_metric is not None
            and metric.startswith(prefix)
            and metric.endswith(suffix)
            and len(metric) > len(prefix) + len(suffix)
        )
        if metric != total_metric and not is_group:
            continue
        value = _as_number(_published_value(published, target))
        if value is None:
            continue
        if metric == total_metric:
            included_published = round(value)
            continue
        code = metric[len(prefix) : len(metric) - len(suffix)]
        in_sheets = int(by_category.get(code, 0))
        if in_sheets < value:
            gaps.append(CategoryGap(code, in_sheets, round(value)))
    return Coverage(
        included_in_sheets=len(studies),
        included_published=included_published,
        missing_categories=tuple(gaps),
        origin=origin,
    )


# --- the audit ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditResult:
    """`targets`: one row per target (AUDIT_COLUMNS; values as display text, NA where none);
    `checks`: one row per consistency check (CHECK_COLUMNS)."""

    targets: pd.DataFrame
    checks: pd.DataFrame
    coverage: Coverage | None
    notes: tuple[str, ...] = field(default=())

    def status_counts(self) -> dict[str, int]:
        counts = self.targets["status"].value_counts().to_dict()
        return {status: int(counts.get(status, 0)) for status in (MATCH, DIFFERS, NOT_COMPUTABLE)}

    @property
    def differences(self) -> pd.DataFrame:
        return self.targets[self.targets["status"] == DIFFERS]


@dataclass(frozen=True)
class _CheckOutcome:
    check: ConsistencyCheck
    computed: float | None
    published: float | None
    consistent: bool
    sentence: str
    statement: str
    """The sentence without the verdict: "57 of 71 is 80.3%, published 82%"."""


@dataclass(frozen=True)
class _Metric:
    name: str
    value: float | str | None
    unit: str | None
    n: int | None
    detail: str | None


def audit(
    published: Mapping[str, Any],
    metrics: pd.DataFrame,
    settings: AuditSettings,
    *,
    coverage: Coverage | None,
) -> AuditResult:
    """Compare every target, run every consistency check; a target or check whose published
    path does not exist is a ConfigError naming it."""
    by_name = _metrics_by_name(metrics)
    outcomes = [_run_check(published, check) for check in settings.consistency]
    rows = [
        _audit_target(published, target, by_name, outcomes, coverage) for target in settings.targets
    ]
    targets = pd.DataFrame(rows, columns=list(AUDIT_COLUMNS)).astype("string")
    checks = pd.DataFrame(
        [
            {
                "id": outcome.check.id,
                "kind": outcome.check.kind,
                "paths": _check_paths(outcome.check),
                "computed": _format_optional(outcome.computed),
                "published": _format_optional(outcome.published),
                "status": CONSISTENT if outcome.consistent else INCONSISTENT,
                "sentence": outcome.sentence,
                "note": outcome.check.note,
            }
            for outcome in outcomes
        ],
        columns=list(CHECK_COLUMNS),
    ).astype("string")
    return AuditResult(targets=targets, checks=checks, coverage=coverage, notes=_notes(coverage))


def _metrics_by_name(metrics: pd.DataFrame) -> dict[str, _Metric]:
    missing = [column for column in ("metric", "value") if column not in metrics.columns]
    if missing:
        raise ValidationError(f"metrics table lacks column(s) {', '.join(missing)}")
    by_name: dict[str, _Metric] = {}
    for record in metrics.to_dict("records"):
        name = str(record["metric"])
        value = record["value"]
        number = _as_number(value)
        text = None if _is_missing(value) or number is not None else str(value).strip() or None
        by_name[name] = _Metric(
            name=name,
            value=number if number is not None else text,
            unit=_optional_text(record.get("unit")),
            n=None if _is_missing(record.get("n")) else int(record["n"]),
            detail=_optional_text(record.get("detail")),
        )
    return by_name


def _published_value(published: Mapping[str, Any], target: AuditTarget) -> Any:
    try:
        return lookup(published, target.published)
    except ConfigError as error:
        raise ConfigError(f"audit target {target.id!r}: {error}") from None


def _audit_target(
    published: Mapping[str, Any],
    target: AuditTarget,
    metrics: Mapping[str, _Metric],
    outcomes: Sequence[_CheckOutcome],
    coverage: Coverage | None,
) -> dict[str, Any]:
    raw = _published_value(published, target)
    row: dict[str, Any] = {
        "id": target.id,
        "published_path": target.published,
        "published": _format_value(raw),
        "metric": target.metric_label,
        "regenerated": None,
        "difference": None,
        "status": NOT_COMPUTABLE,
        "explanation": None,
    }
    notes = [f"note: {target.note}"] if target.note else []
    found = [metrics.get(name) for name in target.metric]
    absent = [name for name, metric in zip(target.metric, found, strict=True) if metric is None]
    if absent:
        row["explanation"] = _join([f"metric {name} not produced" for name in absent], notes)
        return row
    present = [metric for metric in found if metric is not None]
    empty = [metric for metric in present if metric.value is None]
    if empty:
        reasons = [metric.detail or f"metric {metric.name} has no value" for metric in empty]
        row["explanation"] = _join(reasons, notes)
        return row
    if isinstance(raw, Mapping):
        row["explanation"] = _join(
            [
                f"the published path is a section ({', '.join(map(str, raw))}), not a value: "
                "point the target at one of its keys"
            ],
            notes,
        )
        return row
    published_number = _as_number(raw)
    if published_number is not None:
        return _numeric_row(row, target, published_number, present, outcomes, coverage, notes)
    return _text_row(row, target, raw, present, notes)


def _numeric_row(
    row: dict[str, Any],
    target: AuditTarget,
    published: float,
    metrics: Sequence[_Metric],
    outcomes: Sequence[_CheckOutcome],
    coverage: Coverage | None,
    notes: list[str],
) -> dict[str, Any]:
    numbers = [metric.value for metric in metrics if isinstance(metric.value, float)]
    if len(numbers) != len(metrics):
        texts = [metric for metric in metrics if not isinstance(metric.value, float)]
        row["explanation"] = _join(
            [f"metric {metric.name} is {metric.value!r}, not a number" for metric in texts], notes
        )
        return row
    value = math.fsum(numbers) * target.scale
    regenerated = _round_sensibly(value, published)
    difference = _round_difference(regenerated, published)
    row["regenerated"] = _format_number(regenerated)
    row["difference"] = _format_number(difference)
    if abs(difference) <= target.tolerance + _EPSILON:
        row["status"] = MATCH
        row["explanation"] = _join([], notes)
        return row
    row["status"] = DIFFERS
    kind = _kind(metrics, published, regenerated)
    reasons = _numeric_reasons(target, kind, published, regenerated, metrics, outcomes, coverage)
    row["explanation"] = _join(reasons, notes)
    return row


def _kind(metrics: Sequence[_Metric], published: float, regenerated: float) -> str:
    """percent, count or quantity: from the metric's unit, else from its name and values."""
    units = {(metric.unit or "").strip().lower() for metric in metrics}
    if units & PERCENT_UNITS or any("percent" in metric.name for metric in metrics):
        return "percent"
    if units & COUNT_UNITS:
        return "count"
    if units == {""} and float(published).is_integer() and float(regenerated).is_integer():
        return "count"
    return "quantity"


def _numeric_reasons(
    target: AuditTarget,
    kind: str,
    published: float,
    regenerated: float,
    metrics: Sequence[_Metric],
    outcomes: Sequence[_CheckOutcome],
    coverage: Coverage | None,
) -> list[str]:
    reasons: list[str] = []
    partial = coverage is not None and coverage.complete is False
    gaps = _gaps_of(metrics, coverage)
    if kind == "percent":
        for outcome in outcomes:
            if not isinstance(outcome.check, PercentCheck) or outcome.check.percent != (
                target.published
            ):
                continue
            if not outcome.consistent:
                reasons.append(
                    f"the published figure disagrees with its own counts: {outcome.statement} "
                    f"(consistency check {outcome.check.id})"
                )
            if (
                outcome.computed is not None
                and abs(regenerated - outcome.computed) <= target.tolerance + _EPSILON
            ):
                reasons.append(
                    f"the regenerated {_format_number(regenerated)}% agrees with the published "
                    f"counts ({outcome.computed:.1f}%)"
                )
    if kind == "count" and partial and regenerated < published:
        assert coverage is not None
        reasons.append(f"{coverage.sentence()}: counts cannot reach the published total")
    elif kind == "count" and regenerated > published:
        reasons.append(
            "more than published: the sheets count studies the review did not (check their "
            "category and disease codes, and any study the review left out)"
        )
    elif partial:
        assert coverage is not None
        reasons.append(f"{coverage.sentence()}: the regenerated value rests on part of the review")
    for gap in gaps:
        reasons.append(
            f"the sheets hold {gap.in_sheets} of the {gap.published} published "
            f"{gap.category} studies"
        )
    if not reasons:
        reasons.append(
            "the data do not say why: compare the studies behind the metric with the review's"
        )
    n_values = [metric.n for metric in metrics if metric.n is not None]
    if n_values and kind != "count":
        reasons.append(f"regenerated from {sum(n_values)} studies")
    if target.scale != 1:
        unit = next((metric.unit for metric in metrics if metric.unit), None)
        reasons.append(
            f"metric in {unit or 'its own unit'} multiplied by {_format_number(target.scale)} "
            "to the published unit"
        )
    return reasons


def _gaps_of(metrics: Sequence[_Metric], coverage: Coverage | None) -> list[CategoryGap]:
    """The category gaps a metric's name mentions (category.X, disease.X.Y...)."""
    if coverage is None:
        return []
    parts = {part for metric in metrics for part in metric.name.split(".")}
    return [gap for gap in coverage.missing_categories if gap.category in parts]


def _text_row(
    row: dict[str, Any],
    target: AuditTarget,
    raw: Any,
    metrics: Sequence[_Metric],
    notes: list[str],
) -> dict[str, Any]:
    if len(metrics) != 1:
        row["explanation"] = _join(
            ["a published list or text can be compared with one metric only, not a sum"], notes
        )
        return row
    metric = metrics[0]
    if not isinstance(metric.value, str):
        shown = "a list" if isinstance(raw, list) else "text"
        row["explanation"] = _join(
            [
                f"the published value is {shown} ({_format_value(raw)}) and metric {metric.name} "
                "is a number: point the target at one item (path.0) or at a metric that lists "
                "items"
            ],
            notes,
        )
        return row
    row["regenerated"] = metric.value
    if isinstance(raw, list):
        wanted = [_normal_item(item) for item in raw]
        got = [_normal_item(item) for item in metric.value.split(";") if item.strip()]
        equal, reason = _compare_lists(wanted, got, target.compare)
    else:
        equal = _normal_item(raw) == _normal_item(metric.value)
        reason = "the texts differ"
    row["status"] = MATCH if equal else DIFFERS
    row["explanation"] = _join([] if equal else [reason], notes)
    return row


def _compare_lists(wanted: list[str], got: list[str], mode: str) -> tuple[bool, str]:
    missing = [item for item in wanted if item not in got]
    extra = [item for item in got if item not in wanted]
    parts = []
    if missing:
        parts.append(f"published but not regenerated: {', '.join(missing)}")
    if extra and mode != "leading":
        parts.append(f"regenerated but not published: {', '.join(extra)}")
    if mode == "set":
        return set(wanted) == set(got), "; ".join(parts)
    if mode == "leading":
        equal = got[: len(wanted)] == wanted
        if not equal and not missing:
            parts.append(f"the regenerated list begins {', '.join(got[: len(wanted)])}")
        return equal, "; ".join(parts)
    equal = got == wanted
    if not equal and not parts:
        parts.append("the same items in a different order")
    return equal, "; ".join(parts)


def _normal_item(item: Any) -> str:
    number = _as_number(item)
    if number is not None:
        return _format_number(number)
    return " ".join(str(item).split()).casefold()


# --- consistency checks -------------------------------------------------------------------


def _resolve(published: Mapping[str, Any], check: ConsistencyCheck, ref: str | float) -> float:
    if isinstance(ref, float):
        return ref
    try:
        value = lookup(published, ref)
    except ConfigError as error:
        raise ConfigError(f"audit consistency check {check.id!r}: {error}") from None
    number = _as_number(value)
    if number is None:
        raise ConfigError(
            f"audit consistency check {check.id!r}: published {ref!r} is {value!r}, not a number"
        )
    return number


def _run_check(published: Mapping[str, Any], check: ConsistencyCheck) -> _CheckOutcome:
    if isinstance(check, PercentCheck):
        numerator = _resolve(published, check, check.numerator)
        denominator = _resolve(published, check, check.denominator)
        stated = _resolve(published, check, check.percent)
        if denominator == 0:
            statement = (
                f"{_format_number(numerator)} of 0 has no percent, "
                f"published {_format_number(stated)}%"
            )
            return _CheckOutcome(check, None, stated, False, statement, statement)
        computed = 100.0 * numerator / denominator
        gap = computed - stated
        consistent = abs(gap) <= check.tolerance + _EPSILON
        statement = (
            f"{_format_number(numerator)} of {_format_number(denominator)} is {computed:.1f}%, "
            f"published {_format_number(stated)}%"
        )
        verdict = (
            ""
            if consistent
            else f" ({abs(gap):.1f} points apart; tolerance {_format_number(check.tolerance)})"
        )
        return _CheckOutcome(
            check, round(computed, 1), stated, consistent, statement + verdict, statement
        )
    parts = [_resolve(published, check, part) for part in check.parts]
    total = _resolve(published, check, check.total)
    computed = _round_difference(math.fsum(parts), 0.0)
    consistent = abs(computed - total) <= check.tolerance + _EPSILON
    said = "expected" if isinstance(check.total, float) else "published total"
    statement = (
        f"{' + '.join(_format_number(part) for part in parts)} = {_format_number(computed)}, "
        f"{said} {_format_number(total)}"
    )
    verdict = "" if consistent else f" ({_format_number(_round_difference(computed, total))} apart)"
    return _CheckOutcome(check, computed, total, consistent, statement + verdict, statement)


def _check_paths(check: ConsistencyCheck) -> str:
    def shown(ref: str | float) -> str:
        return ref if isinstance(ref, str) else _format_number(ref)

    if isinstance(check, PercentCheck):
        return f"{shown(check.numerator)} / {shown(check.denominator)} vs {shown(check.percent)}"
    return f"{' + '.join(shown(part) for part in check.parts)} vs {shown(check.total)}"


# --- strictness ---------------------------------------------------------------------------


def require_no_differences(result: AuditResult) -> None:
    """audit.strict: a regenerated number that differs from the published one fails the run."""
    differs = result.differences
    if differs.empty:
        return
    lines = [
        f"- {row['id']} ({row['published_path']}): published {row['published']}, regenerated "
        f"{row['regenerated']} ({row['metric']}): {row['explanation']}"
        for row in differs.to_dict("records")
    ]
    raise ValidationError(
        f"audit.strict is true and {len(lines)} regenerated number(s) differ from the "
        "published ones:\n"
        + "\n".join(lines)
        + "\nFix the extraction sheets, or set audit.strict: false to report without failing."
    )


# --- output -------------------------------------------------------------------------------


def _notes(coverage: Coverage | None) -> tuple[str, ...]:
    """What every reader of the audit needs; a target's own note is in its explanation."""
    notes = [
        "`regenerated` is the metric times the target's scale, rounded to 4 significant "
        "digits but one decimal finer than the published figure; `difference` is regenerated "
        "minus published; a target matches when the difference is within its tolerance.",
        "A published count can only be reached when the sheets hold every study the review "
        "included; a minimum, maximum or median moves with every study missing.",
    ]
    if coverage is not None and coverage.missing_categories:
        gaps = ", ".join(
            f"{gap.category} ({gap.in_sheets} of {gap.published})"
            for gap in coverage.missing_categories
        )
        notes.append(f"Categories with fewer studies in the sheets than published: {gaps}.")
    return tuple(notes)


def _markdown_cell(value: Any) -> str:
    if _is_missing(value):
        return ""
    return " ".join(str(value).split()).replace("|", "\\|")


def _markdown_table(table: pd.DataFrame) -> list[str]:
    header = "| " + " | ".join(table.columns) + " |"
    rule = "| " + " | ".join("---" for _ in table.columns) + " |"
    body = [
        "| " + " | ".join(_markdown_cell(value) for value in record) + " |"
        for record in table.itertuples(index=False, name=None)
    ]
    return [header, rule, *body]


def render_markdown(result: AuditResult, *, title: str | None = None) -> str:
    """audit.md: title, snapshot origin (verbatim), coverage, summary, targets, checks, notes."""
    coverage = result.coverage
    counts = result.status_counts()
    lines = [f"# {title or 'Audit: regenerated numbers against the published review'}", ""]
    origin = coverage.origin if coverage is not None else None
    lines += [f"Snapshot origin: {origin or 'not recorded'}", ""]
    lines += [
        "## Coverage",
        "",
        (coverage.sentence() if coverage is not None else "Coverage is not known") + ".",
        "",
    ]
    if coverage is not None:
        lines += [
            f"- {gap.category}: {gap.in_sheets} of {gap.published} in the sheets"
            for gap in coverage.missing_categories
        ]
        if coverage.missing_categories:
            lines.append("")
    lines += [
        "## Summary",
        "",
        f"- targets: {len(result.targets)}",
        *[f"- {status}: {count}" for status, count in counts.items()],
    ]
    if not result.checks.empty:
        inconsistent = int((result.checks["status"] == INCONSISTENT).sum())
        lines.append(
            f"- consistency checks of the published numbers: {len(result.checks)}, "
            f"{inconsistent} inconsistent"
        )
    lines += ["", "## Targets", ""]
    lines += _markdown_table(result.targets) if not result.targets.empty else ["No targets."]
    lines += ["", "## Consistency of the published numbers", ""]
    if result.checks.empty:
        lines.append("No consistency checks configured.")
    else:
        for row in result.checks.to_dict("records"):
            note = "" if _is_missing(row["note"]) else f" (note: {row['note']})"
            lines.append(f"- {row['id']} ({row['status']}): {row['sentence']}{note}")
    lines += ["", "## Notes", "", *[f"- {note}" for note in result.notes], ""]
    return "\n".join(lines)


def write_audit(
    result: AuditResult, csv_path: str | Path, md_path: str | Path, *, title: str | None = None
) -> None:
    """audit.csv (one row per target) and audit.md (the readable report), both atomically."""
    io.write_table(csv_path, result.targets)
    io.write_text(md_path, render_markdown(result, title=title))


# --- numbers ------------------------------------------------------------------------------


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


def _optional_text(value: Any) -> str | None:
    if _is_missing(value):
        return None
    text = str(value).strip()
    return text or None


def _as_number(value: Any) -> float | None:
    """A finite number from a number or numeric text ("3.0e11", which YAML 1.1 leaves as text);
    None for anything else (bools, lists, words, NA)."""
    if isinstance(value, bool) or _is_missing(value):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip().replace("_", ""))
        except ValueError:
            return None
    else:
        try:
            number = float(value)  # numpy scalars
        except (TypeError, ValueError):
            return None
    return number if math.isfinite(number) else None


def _decimals(value: float) -> int:
    """Decimal places in the shortest repr of `value` (0 for whole numbers)."""
    text = repr(float(value))
    if "e" in text:
        mantissa, exponent = text.split("e")
        places = len(mantissa.split(".")[1]) if "." in mantissa else 0
        return max(0, places - int(exponent))
    return 0 if text.endswith(".0") else len(text.split(".")[1])


def _round_sensibly(value: float, published: float) -> float:
    """4 significant digits, never fewer than the whole part, and one decimal more than the
    published figure, so a rounding can neither hide a difference nor invent one:
    80.2817 -> 80.28, 0.363636 -> 0.3636, 1333.33 vs 1333 -> 1333.3, 3640000.4 -> 3640000.4."""
    if value == 0:
        return 0.0
    places = max(0, 3 - math.floor(math.log10(abs(value))), _decimals(published) + 1)
    return round(value, places)


def _round_difference(regenerated: float, published: float) -> float:
    """The difference without float noise: 80.28 - 82 is -1.72, not -1.7199999999999989."""
    places = max(_decimals(regenerated), _decimals(published))
    return round(regenerated - published, places) + 0.0  # + 0.0 turns -0.0 into 0.0


def _format_number(value: float) -> str:
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def _format_optional(value: float | None) -> str | None:
    return None if value is None else _format_number(value)


def _format_value(value: Any) -> str | None:
    """A published value as one cell: numbers plain, lists "; "-joined, sections as key lists."""
    if _is_missing(value):
        return None
    number = _as_number(value)
    if number is not None:
        return _format_number(number)
    if isinstance(value, list):
        return "; ".join(_format_value(item) or "" for item in value)
    if isinstance(value, Mapping):
        return "{" + ", ".join(map(str, value)) + "}"
    return str(value)


def _join(reasons: Sequence[str], notes: Sequence[str]) -> str | None:
    parts = [*reasons, *notes]
    return "; ".join(parts) if parts else None
