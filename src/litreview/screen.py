"""Screening: automatic criteria from record metadata, then the reviewers' decisions.

Automatic criteria only *suggest* exclusions; a reviewer's decision on a record always wins,
and every such overrule is listed. Records nobody has decided go to the queue.

Final status of a record (one of STATUSES):
- ``included`` / ``excluded_full_text`` / ``not_retrieved``: a full-text decision;
- ``excluded_title_abstract``: a title/abstract exclusion (and no full-text decision);
- ``excluded_automatic``: an automatic criterion excluded it and no reviewer decided otherwise;
- ``awaiting_full_text``: passed title/abstract (include or maybe), no full-text decision yet;
- ``awaiting_title_abstract``: nobody has decided it (or reviewers disagree, unresolved).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from litreview.config import date_span
from litreview.errors import ConfigError, InputFileError
from litreview.identify import normalise_doi
from litreview.io import table_records
from litreview.patterns import compile_patterns, first_match
from litreview.sheets import ROW_COLUMN, check_columns, read_sheet

STAGES = ("title_abstract", "full_text")
DECISIONS = ("include", "exclude", "maybe")
NOT_RETRIEVED = "not_retrieved"
STATUSES = (
    "included",
    "excluded_full_text",
    "not_retrieved",
    "excluded_title_abstract",
    "excluded_automatic",
    "awaiting_full_text",
    "awaiting_title_abstract",
)
CONFLICT_RULES = ("any_include", "majority", "arbiter", "unanimous")

SHEET_REQUIRED = ("record", "stage", "decision", "reviewer")
SHEET_COLUMNS = ("record", "stage", "decision", "reason", "category", "reviewer", "date", "note")
# Context columns of the queue: a reviewer may paste queue rows into a sheet as they are.
QUEUE_CONTEXT = (
    "rank",
    "new",
    "score",
    "source",
    "pmid",
    "doi",
    "title",
    "authors",
    "year",
    "journal",
    "auto_decision",
    "auto_reason",
    "abstract",
)
TEXT_FIELDS = ("title", "abstract", "mesh", "keywords")


# --- automatic criteria --------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    """Part of a rule: one of `patterns` is present (or, `absent`, none is) in `fields`."""

    fields: tuple[str, ...]
    patterns: tuple[str, ...]
    absent: bool = False

    def holds(self, record: Mapping[str, Any]) -> bool | None:
        """True or False; None when the record has none of the fields filled (not judged)."""
        texts = [record.get(name) for name in self.fields]
        texts = [str(text) for text in texts if text is not None and not pd.isna(text)]
        if not texts:
            return None
        # one search over the fields joined: a newline keeps every word boundary
        present = compile_patterns(self.patterns).search("\n".join(texts)) is not None
        return present != self.absent


@dataclass(frozen=True)
class KeywordRule:
    """Excludes a record with `reason` when every condition holds. `any: [...]` is one
    condition "absent", `none: [...]` one condition "present"; `when` lists several."""

    name: str
    reason: str
    conditions: tuple[Condition, ...]

    @property
    def patterns(self) -> tuple[str, ...]:
        return tuple(p for condition in self.conditions for p in condition.patterns)

    def excludes(self, record: Mapping[str, Any]) -> bool:
        results = [condition.holds(record) for condition in self.conditions]
        return bool(results) and all(result is True for result in results)


def _keyword_rule(rule: Mapping[str, Any], reason: str) -> KeywordRule:
    where = f"screening.automatic.keywords[{rule['name']}]"
    fields = tuple(rule.get("fields") or TEXT_FIELDS)
    conditions: list[Condition] = []
    if rule.get("any"):
        conditions.append(Condition(fields, tuple(rule["any"]), absent=True))
    if rule.get("none"):
        conditions.append(Condition(fields, tuple(rule["none"]), absent=False))
    for number, entry in enumerate(rule.get("when") or [], 1):
        present, absent = entry.get("present"), entry.get("absent")
        if bool(present) == bool(absent):
            raise ConfigError(f"{where}.when[{number}]: give present or absent (one of them)")
        conditions.append(
            Condition(
                tuple(entry.get("fields") or TEXT_FIELDS),
                tuple(present or absent),
                absent=bool(absent),
            )
        )
    if not conditions:
        raise ConfigError(f"{where}: give any, none or when (the patterns the rule looks for)")
    for condition in conditions:
        compile_patterns(condition.patterns)  # fail now on a bad pattern
    return KeywordRule(name=rule["name"], reason=reason, conditions=tuple(conditions))


@dataclass(frozen=True)
class TypeRule:
    """Publication types excluded with one reason."""

    types: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class Criteria:
    """The automatic criteria of a review, from config `screening.automatic`."""

    languages: tuple[str, ...] = ()
    language_reason: str | None = None
    type_rules: tuple[TypeRule, ...] = ()
    date_from: str | None = None
    date_to: str | None = None
    date_reason: str | None = None
    keyword_rules: tuple[KeywordRule, ...] = ()

    @property
    def excluded_publication_types(self) -> tuple[str, ...]:
        return tuple(t for rule in self.type_rules for t in rule.types)

    @classmethod
    def from_config(cls, automatic: Mapping[str, Any], reasons: Mapping[str, str]) -> Criteria:
        def reason_of(section: str, value: str | None) -> str | None:
            if value is not None and value not in reasons:
                raise ConfigError(
                    f"screening.automatic.{section}.reason {value!r} is not in screening.reasons "
                    f"({', '.join(reasons)})"
                )
            return value

        language = automatic.get("language") or {}
        types = automatic.get("publication_types") or []
        if isinstance(types, Mapping):
            types = [types] if types.get("exclude") else []
        type_rules = tuple(
            TypeRule(
                types=tuple(value.lower() for value in entry.get("exclude") or ()),
                reason=reason_of(f"publication_types[{number}]", entry.get("reason"))
                or "publication_type",
            )
            for number, entry in enumerate(types, 1)
        )
        dates = automatic.get("dates") or {}
        rules = tuple(
            _keyword_rule(
                rule, reason_of(f"keywords[{rule['name']}]", rule["reason"]) or rule["reason"]
            )
            for rule in automatic.get("keywords") or []
        )
        return cls(
            languages=tuple(code.lower() for code in language.get("allowed") or ()),
            language_reason=reason_of("language", language.get("reason")),
            type_rules=type_rules,
            date_from=dates.get("from"),
            date_to=dates.get("to"),
            date_reason=reason_of("dates", dates.get("reason")),
            keyword_rules=rules,
        )


def _split(value: object) -> list[str]:
    if value is None or pd.isna(value):
        return []
    return [part.strip() for part in str(value).split(";") if part.strip()]


def _is_true(value: object) -> bool:
    return value is not None and not pd.isna(value) and str(value).lower() in {"true", "1"}


def automatic_failures(record: Mapping[str, Any], criteria: Criteria) -> list[tuple[str, str]]:
    """(criterion, reason) for every automatic criterion the record fails, in config order.

    A criterion that cannot be judged (no language, no date, no text) is not failed: the record
    goes to people rather than out of the review.
    """
    failures: list[tuple[str, str]] = []
    languages = [language.lower() for language in _split(record.get("languages"))]
    if criteria.languages and languages and not set(languages) & set(criteria.languages):
        failures.append(("language", criteria.language_reason or "language"))
    types = {value.lower() for value in _split(record.get("publication_types"))}
    if _is_true(record.get("is_erratum")):
        types.add("published erratum")
    if _is_true(record.get("is_retraction_notice")):
        types.add("retraction of publication")
    for rule in criteria.type_rules:
        if types & set(rule.types):
            failures.append(("publication_type", rule.reason))
    date = record.get("publication_date")
    if date is None or pd.isna(date):
        year = record.get("year")
        date = None if year is None or pd.isna(year) else str(int(year))
    windowed = criteria.date_from is not None or criteria.date_to is not None
    if (
        date is not None
        and windowed
        and _outside_window(str(date), criteria.date_from, criteria.date_to)
    ):
        failures.append(("dates", criteria.date_reason or "dates"))
    for rule in criteria.keyword_rules:
        if rule.excludes(record):
            failures.append((rule.name, rule.reason))
    return failures


def _outside_window(date: str, start: str | None, end: str | None) -> bool:
    """Whether a record's date (year, month or day precision) lies wholly outside the window,
    compared as calendar spans: a record of "2020" is inside a window starting 2020-06-01. A
    date that is not ISO (none should reach here) falls back to its year."""
    try:
        first, last = date_span(date)
    except ValueError:
        year = re.match(r"\d{4}", date)
        if year is None:
            return False
        first, last = date_span(year.group(0))
    before = start is not None and last < date_span(start)[0]
    after = end is not None and first > date_span(end)[1]
    return before or after


# --- reviewers' sheets ---------------------------------------------------------------------


@dataclass(frozen=True)
class SheetDecision:
    record_id: str
    stage: str
    decision: str
    reason: str | None
    category: str | None
    reviewer: str
    date: str | None
    note: str | None
    file: str
    row: int


@dataclass
class RecordIndex:
    """Maps every key a reviewer may use (record id, merged record id, PMID, DOI) to a record."""

    keys: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, screened: pd.DataFrame, merged_into: Mapping[str, str]) -> RecordIndex:
        index = cls()
        for record in table_records(screened):
            record_id = record["record_id"]
            index.keys[record_id.lower()] = record_id
            if record.get("pmid") is not None and not pd.isna(record.get("pmid")):
                index.keys.setdefault(f"pmid:{record['pmid']}", record_id)
            doi = normalise_doi(record.get("doi"))
            if doi:
                index.keys.setdefault(f"doi:{doi}", record_id)
        for merged, kept in merged_into.items():
            index.keys.setdefault(merged.lower(), kept)
        return index

    def resolve(self, key: str) -> str | None:
        text = key.strip()
        if text.isdigit():
            return self.keys.get(f"pmid:{text}")
        lowered = text.lower()
        if lowered.startswith("pmid:"):
            return self.keys.get(f"pmid:{lowered[5:].strip()}")
        doi = normalise_doi(text)
        if doi and doi.startswith("10."):
            return self.keys.get(f"doi:{doi}")
        return self.keys.get(lowered)


def reviewers_in(paths: Sequence[str | Path]) -> set[str]:
    """The reviewers the screening sheets name (sheets that do not exist yet are skipped)."""
    reviewers: set[str] = set()
    for path in map(Path, paths):
        if path.is_file():
            sheet = read_sheet(path)
            if "reviewer" in sheet:
                reviewers |= {str(name) for name in sheet["reviewer"].dropna()}
    return reviewers


class _EveryKey:
    """At load, before the records exist: each record key of the sheets stands for itself."""

    def resolve(self, key: str) -> str:
        return key.strip().lower()


def read_decisions(
    paths: Sequence[str | Path],
    index: RecordIndex | None,
    *,
    reasons: Mapping[str, str],
    categories: Sequence[str],
    earlier_pmids: frozenset[str] | set[str] = frozenset(),
    orphans: list[dict[str, Any]] | None = None,
) -> list[SheetDecision]:
    """Every decision row of every sheet, validated. Unknown record keys are collected and
    reported together (one error listing them all), as are other problems row by row.

    A key that is a PMID of an earlier snapshot (`earlier_pmids`) names a record that left the
    search (PubMed deleted it, or it no longer matches): the sheets are the reviewers' history,
    so the row is kept out of the screening and appended to `orphans`, not an error.

    ``index=None`` is the check the workflow makes when it loads: every row is validated as
    the screen rule will validate it, each record key standing for itself (which record it
    names is resolved by the rule)."""
    resolver = _EveryKey() if index is None else index
    decisions: list[SheetDecision] = []
    unknown: list[str] = []
    seen: dict[tuple[str, str, str], SheetDecision] = {}
    for path in map(Path, paths):
        sheet = read_sheet(path)
        check_columns(path, sheet, required=SHEET_REQUIRED, allowed=SHEET_COLUMNS + QUEUE_CONTEXT)
        for row in table_records(sheet):
            line = int(row[ROW_COLUMN])

            def value(column: str, _row: dict = row) -> str | None:
                cell = _row.get(column)
                return None if cell is None or pd.isna(cell) else str(cell)

            if value("decision") is None:
                # an undecided row (the queue workbook saved back part-filled) is no decision,
                # unless it says something a decision would
                for column in ("reason", "category"):
                    if value(column) is not None:
                        raise InputFileError(
                            path,
                            f"a {column} with no decision",
                            row=line,
                            column="decision",
                            hint="fill in the decision (include, exclude, maybe), or clear the row",
                        )
                continue
            for column in SHEET_REQUIRED:
                if value(column) is None:
                    raise InputFileError(path, "empty required cell", row=line, column=column)
            stage = value("stage").lower()  # type: ignore[union-attr]
            decision = value("decision").lower()  # type: ignore[union-attr]
            if stage not in STAGES:
                raise InputFileError(
                    path,
                    f"unknown stage {value('stage')!r}",
                    row=line,
                    column="stage",
                    hint=f"use {' or '.join(STAGES)}",
                )
            if decision not in DECISIONS:
                raise InputFileError(
                    path,
                    f"unknown decision {value('decision')!r}",
                    row=line,
                    column="decision",
                    hint=f"use {', '.join(DECISIONS)}",
                )
            reason = value("reason")
            if decision == "exclude" and reason is None:
                raise InputFileError(
                    path,
                    "an exclusion needs a reason",
                    row=line,
                    column="reason",
                    hint=f"one of {', '.join(reasons)}",
                )
            if reason is not None and reason not in reasons:
                raise InputFileError(
                    path,
                    f"unknown reason {reason!r}",
                    row=line,
                    column="reason",
                    hint=f"use one of {', '.join(reasons)} (config screening.reasons)",
                )
            category = value("category")
            if category is not None and category not in categories:
                raise InputFileError(
                    path,
                    f"unknown category {category!r}",
                    row=line,
                    column="category",
                    hint=f"use one of {', '.join(categories)}",
                )
            date = value("date")
            if date is not None:
                try:
                    dt.date.fromisoformat(date[:10])
                except ValueError as error:
                    raise InputFileError(
                        path,
                        f"{date!r} is not a date",
                        row=line,
                        column="date",
                        hint="write dates as YYYY-MM-DD",
                    ) from error
            record_id = resolver.resolve(value("record"))  # type: ignore[arg-type]
            key = str(value("record")).strip()
            pmid = key.lower().removeprefix("pmid:").removeprefix("pubmed:").strip()
            if record_id is None and pmid in earlier_pmids:
                if orphans is not None:
                    orphans.append(
                        {
                            "record": key,
                            "pmid": pmid,
                            "stage": stage,
                            "decision": decision,
                            "reviewer": value("reviewer"),
                            "file": str(path),
                            "row": line,
                        }
                    )
                continue
            if record_id is None:
                unknown.append(f"{path}, row {line}: {value('record')!r}")
                continue
            entry = SheetDecision(
                record_id=record_id,
                stage=stage,
                decision=decision,
                reason=reason,
                category=category,
                reviewer=value("reviewer"),  # type: ignore[arg-type]
                date=date,
                note=value("note"),
                file=str(path),
                row=line,
            )
            key = (record_id, stage, entry.reviewer)
            previous = seen.get(key)
            if previous is not None and (previous.decision, previous.reason) != (
                entry.decision,
                entry.reason,
            ):
                raise InputFileError(
                    path,
                    f"reviewer {entry.reviewer!r} decided record {record_id} at {stage} twice, "
                    f"differently: {previous.decision} ({previous.file}, row {previous.row}) and "
                    f"{entry.decision}",
                    row=line,
                    column="decision",
                    hint="keep one row per reviewer, record and stage",
                )
            seen[key] = entry
            decisions.append(entry)
    if unknown:
        listing = "; ".join(unknown)
        raise InputFileError(
            Path(paths[0]) if len(paths) == 1 else Path(", ".join(map(str, paths))),
            f"{len(unknown)} decision(s) name no known record: {listing}",
            hint="use a record_id from results/screening/screened.tsv, a PMID or a DOI",
        )
    return decisions


# --- conflicts -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Resolved:
    decision: str | None  # None: unresolved conflict
    reason: str | None
    reviewers: str
    conflict: str | None  # description of the disagreement, if there was one


def resolve_stage(decisions: Sequence[SheetDecision], rule: str, arbiter: str | None) -> Resolved:
    """One decision from several reviewers' rows for one record at one stage."""
    if rule not in CONFLICT_RULES:
        raise ConfigError(f"unknown conflict rule {rule!r}: use one of {', '.join(CONFLICT_RULES)}")
    by_reviewer = {entry.reviewer: entry for entry in decisions}
    reviewers = "; ".join(sorted(by_reviewer))
    votes = Counter(entry.decision for entry in by_reviewer.values())

    def reason_for(decision: str) -> str | None:
        if arbiter in by_reviewer and by_reviewer[arbiter].decision == decision:
            return by_reviewer[arbiter].reason
        counted = Counter(
            entry.reason
            for entry in by_reviewer.values()
            if entry.decision == decision and entry.reason is not None
        )
        if not counted:
            return None  # a missing reason stays missing, never the text "None"
        best = max(counted.values())
        return sorted(str(reason) for reason, n in counted.items() if n == best)[0]

    if len(votes) == 1:
        decision = next(iter(votes))
        return Resolved(decision, reason_for(decision), reviewers, None)
    conflict = ", ".join(f"{name}: {entry.decision}" for name, entry in sorted(by_reviewer.items()))
    decision: str | None = None
    if rule == "any_include" and (votes["include"] or votes["maybe"]):
        decision = "include" if votes["include"] else "maybe"
    elif rule == "majority":
        (top, top_n), *rest = votes.most_common()
        if not rest or rest[0][1] < top_n:
            decision = top
    elif rule == "arbiter" and arbiter in by_reviewer:
        decision = by_reviewer[arbiter].decision
    if decision is None:
        return Resolved(None, None, reviewers, conflict)
    return Resolved(decision, reason_for(decision), reviewers, conflict)


# --- categories ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Category:
    name: str
    label: str
    patterns: tuple[str, ...] = ()
    publication_types: tuple[str, ...] = ()
    fields: tuple[str, ...] = TEXT_FIELDS
    default: bool = False


def categories_from_config(entries: Sequence[Mapping[str, Any]]) -> tuple[Category, ...]:
    return tuple(
        Category(
            name=entry["name"],
            label=entry.get("label") or entry["name"],
            patterns=tuple(entry.get("any") or ()),
            publication_types=tuple(
                value.lower() for value in entry.get("publication_types") or ()
            ),
            fields=tuple(entry.get("fields") or TEXT_FIELDS),
            default=bool(entry.get("default", False)),
        )
        for entry in entries
    )


def suggest_category(record: Mapping[str, Any], categories: Sequence[Category]) -> str | None:
    """The first category whose publication types or patterns the record matches, else the
    default one. A suggestion only: the sheet's `category` fixes it."""
    types = {value.lower() for value in _split(record.get("publication_types"))}
    for category in categories:
        if category.publication_types and types & set(category.publication_types):
            return category.name
        if category.patterns:
            texts = [record.get(name) for name in category.fields]
            texts = [str(text) for text in texts if text is not None and not pd.isna(text)]
            if first_match(compile_patterns(category.patterns), texts):
                return category.name
    defaults = [category.name for category in categories if category.default]
    return defaults[0] if defaults else None


# --- the outcome ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ScreeningSettings:
    reasons: Mapping[str, str]
    criteria: Criteria
    categories: tuple[Category, ...]
    conflict_rules: Mapping[str, str]
    arbiter: str | None = None

    @classmethod
    def from_config(cls, screening: Mapping[str, Any]) -> ScreeningSettings:
        reasons = dict(screening["reasons"])
        if NOT_RETRIEVED not in reasons:
            reasons[NOT_RETRIEVED] = "Full text not retrieved"
        return cls(
            reasons=reasons,
            criteria=Criteria.from_config(screening.get("automatic") or {}, reasons),
            categories=categories_from_config(screening.get("categories") or []),
            conflict_rules=dict(screening.get("conflicts") or {}),
            arbiter=screening.get("arbiter"),
        )


@dataclass(frozen=True)
class ScreeningResult:
    screened: pd.DataFrame
    overrules: pd.DataFrame
    conflicts: pd.DataFrame


SCREENED_COLUMNS = (
    "record_id",
    "source_type",
    "method",
    "pmid",
    "doi",
    "title",
    "year",
    "auto_decision",
    "auto_reason",
    "auto_criteria",
    "title_abstract_decision",
    "title_abstract_reason",
    "title_abstract_reviewers",
    "full_text_decision",
    "full_text_reason",
    "full_text_reviewers",
    "overruled",
    "conflict",
    "status",
    "reason",
    "reason_text",
    "suggested_category",
    "category",
)


def screen(
    records: pd.DataFrame, decisions: Sequence[SheetDecision], settings: ScreeningSettings
) -> ScreeningResult:
    """Apply automatic criteria and reviewers' decisions to the deduplicated records."""
    by_record: dict[tuple[str, str], list[SheetDecision]] = {}
    for entry in decisions:
        by_record.setdefault((entry.record_id, entry.stage), []).append(entry)
    rows, overrules, conflicts = [], [], []
    for record in table_records(records):
        record_id = record["record_id"]
        failures = automatic_failures(record, settings.criteria)
        auto_decision = "exclude" if failures else "pass"
        auto_reason = failures[0][1] if failures else None
        stage_results: dict[str, Resolved | None] = {}
        for stage in STAGES:
            entries = by_record.get((record_id, stage))
            if not entries:
                stage_results[stage] = None
                continue
            rule = settings.conflict_rules.get(stage, "unanimous")
            resolved = resolve_stage(entries, rule, settings.arbiter)
            stage_results[stage] = resolved
            if resolved.conflict:
                conflicts.append(
                    {
                        "record_id": record_id,
                        "stage": stage,
                        "decisions": resolved.conflict,
                        "rule": rule,
                        "resolved_as": resolved.decision or "unresolved",
                    }
                )
        title_abstract, full_text = stage_results["title_abstract"], stage_results["full_text"]
        status, reason = _status(auto_decision, auto_reason, title_abstract, full_text)
        # An overrule: a reviewer lets through a record an automatic criterion would exclude.
        manual = [result for result in (title_abstract, full_text) if result and result.decision]
        overruled = bool(failures) and any(result.decision != "exclude" for result in manual)
        if overruled:
            last = full_text if full_text and full_text.decision else title_abstract
            overrules.append(
                {
                    "record_id": record_id,
                    "automatic_reason": auto_reason,
                    "automatic_criteria": "; ".join(name for name, _ in failures),
                    "stage": "full_text" if last is full_text else "title_abstract",
                    "decision": last.decision,  # type: ignore[union-attr]
                    "reviewers": last.reviewers,  # type: ignore[union-attr]
                }
            )
        category = None
        if status == "included":
            chosen = [
                entry.category
                for stage in ("full_text", "title_abstract")
                for entry in by_record.get((record_id, stage), [])
                if entry.category
            ]
            category = chosen[0] if chosen else None
        suggested = suggest_category(record, settings.categories)
        if status == "included" and category is None:
            category = suggested
        rows.append(
            {
                "record_id": record_id,
                "source_type": record.get("source_type"),
                "method": record.get("method"),
                "pmid": record.get("pmid"),
                "doi": record.get("doi"),
                "title": record.get("title"),
                "year": record.get("year"),
                "auto_decision": auto_decision,
                "auto_reason": auto_reason,
                "auto_criteria": "; ".join(name for name, _ in failures) or None,
                **_stage_columns("title_abstract", title_abstract),
                **_stage_columns("full_text", full_text),
                "overruled": overruled,
                "conflict": "; ".join(
                    f"{stage}: {result.conflict}"
                    for stage, result in stage_results.items()
                    if result and result.conflict and result.decision is None
                )
                or None,
                "status": status,
                "reason": reason,
                "reason_text": settings.reasons.get(reason) if reason else None,
                "suggested_category": suggested,
                "category": category,
            }
        )
    screened = pd.DataFrame.from_records(rows, columns=list(SCREENED_COLUMNS))
    screened["overruled"] = screened["overruled"].astype("boolean")
    return ScreeningResult(
        screened=screened,
        overrules=pd.DataFrame.from_records(
            overrules,
            columns=[
                "record_id",
                "automatic_reason",
                "automatic_criteria",
                "stage",
                "decision",
                "reviewers",
            ],
        ),
        conflicts=pd.DataFrame.from_records(
            conflicts, columns=["record_id", "stage", "decisions", "rule", "resolved_as"]
        ),
    )


def _stage_columns(stage: str, result: Resolved | None) -> dict[str, object]:
    return {
        f"{stage}_decision": result.decision if result else None,
        f"{stage}_reason": result.reason if result else None,
        f"{stage}_reviewers": result.reviewers if result else None,
    }


def _status(
    auto_decision: str,
    auto_reason: str | None,
    title_abstract: Resolved | None,
    full_text: Resolved | None,
) -> tuple[str, str | None]:
    if full_text is not None and full_text.decision in ("include", "exclude"):
        if full_text.decision == "include":
            return "included", None
        if full_text.reason == NOT_RETRIEVED:
            return "not_retrieved", NOT_RETRIEVED
        return "excluded_full_text", full_text.reason
    if full_text is not None:  # maybe, or an unresolved conflict
        return "awaiting_full_text", None
    if title_abstract is not None and title_abstract.decision is not None:
        if title_abstract.decision == "exclude":
            return "excluded_title_abstract", title_abstract.reason
        return "awaiting_full_text", None
    if title_abstract is None and auto_decision == "exclude":
        return "excluded_automatic", auto_reason
    return "awaiting_title_abstract", None


# --- the queue -----------------------------------------------------------------------------

_TOKEN = re.compile(r"[a-z][a-z0-9]+")
_STOP = frozenset(
    [
        "the",
        "and",
        "of",
        "in",
        "to",
        "a",
        "for",
        "with",
        "by",
        "on",
        "at",
        "from",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "this",
        "that",
        "these",
        "those",
        "after",
        "before",
        "into",
        "than",
        "their",
        "its",
        "or",
        "not",
        "no",
        "we",
        "our",
        "study",
    ]
)


def _tokens(record: Mapping[str, Any]) -> list[str]:
    text = " ".join(
        str(record.get(name)) for name in TEXT_FIELDS if not pd.isna(record.get(name, pd.NA))
    )
    return [token for token in _TOKEN.findall(text.lower()) if token not in _STOP]


def rank_queue(candidates: pd.DataFrame, included: pd.DataFrame) -> pd.Series:
    """Score in [0, 1]: TF-IDF cosine similarity of each candidate to the included records'
    centroid, so likely includes come first. With nothing included yet, every score is 0 and
    the order falls back to record id."""
    documents = [_tokens(record) for record in table_records(candidates)]
    references = [_tokens(record) for record in table_records(included)]
    if not references or not documents:
        return pd.Series(0.0, index=candidates.index)
    frequency = Counter(token for tokens in documents + references for token in set(tokens))
    total = len(documents) + len(references)
    idf = {token: math.log((1 + total) / (1 + n)) + 1 for token, n in frequency.items()}

    def vector(tokens: list[str]) -> dict[str, float]:
        counts = Counter(tokens)
        weights = {token: n * idf[token] for token, n in counts.items()}
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        return {token: w / norm for token, w in weights.items()}

    centroid: Counter[str] = Counter()
    for tokens in references:
        centroid.update(vector(tokens))
    norm = math.sqrt(sum(w * w for w in centroid.values())) or 1.0
    scores = [
        sum(weight * centroid.get(token, 0.0) for token, weight in vector(tokens).items()) / norm
        for tokens in documents
    ]
    return pd.Series([round(score, 6) for score in scores], index=candidates.index)


def build_queue(
    screened: pd.DataFrame, records: pd.DataFrame, *, new: frozenset[str] | set[str] = frozenset()
) -> pd.DataFrame:
    """Records awaiting a decision in the sheet's own columns: records new since the previous
    snapshot first (`new`: their record ids, column `new`), then the most likely includes."""
    details = records.set_index("record_id")
    waiting = screened[screened["status"].isin(["awaiting_title_abstract", "awaiting_full_text"])]
    candidates = details.loc[waiting["record_id"]].reset_index()
    included = details.loc[screened.loc[screened["status"] == "included", "record_id"]]
    scores = rank_queue(candidates, included.reset_index())
    queue = pd.DataFrame(
        {
            "record": candidates["record_id"],
            "stage": [
                "full_text" if status == "awaiting_full_text" else "title_abstract"
                for status in waiting["status"]
            ],
            "decision": pd.NA,
            "reason": pd.NA,
            "category": pd.NA,
            "reviewer": pd.NA,
            "date": pd.NA,
            "note": waiting["conflict"].to_numpy(),
            "score": scores.to_numpy(),
            "source": candidates["method"],
            **{
                column: candidates[column]
                for column in ("pmid", "doi", "title", "authors", "year", "journal")
            },
            "auto_decision": waiting["auto_decision"].to_numpy(),
            "auto_reason": waiting["auto_reason"].to_numpy(),
            "abstract": candidates["abstract"],
        }
    )
    queue.insert(len(queue.columns) - 1, "new", queue["record"].isin(set(new)).to_numpy())
    queue = queue.sort_values(
        ["new", "score", "record"], ascending=[False, False, True], kind="stable"
    )
    queue.insert(8, "rank", range(1, len(queue) + 1))
    return queue.reset_index(drop=True)
