"""What changed between two snapshots of a review's search: the change report.

`changes.csv` is a contract other tools read: one row per change, columns `change`, `pmid`,
`record_id`, `detail`, `before`, `after` (more may follow), `change` one of:

    new                    a PMID the query returns now and did not before
    gone                   a PMID it no longer returns (detail: why, where the records say)
    deleted / replaced     PubMed deleted or replaced the PMID (reported by a live search)
    metadata               title, publication types or DOI changed (one row per field)
    retracted              newly flagged retracted (or a retraction notice)
    expression_of_concern  newly under an expression of concern
    erratum                a published erratum newly linked
    late_entry             a new record whose Entrez date is after the previous search although
                           its publication date is inside the previous window
    translation_drift      PubMed's QueryTranslation of the same query changed
    count                  the number of records changed

`changes.md` starts with a summary short enough for an e-mail body.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from litreview.io import table_records

__all__ = ["CHANGE_COLUMNS", "CHANGE_KINDS", "SnapshotView", "compare", "report_markdown"]

CHANGE_COLUMNS = ("change", "pmid", "record_id", "detail", "before", "after")
CHANGE_KINDS = (
    "new",
    "gone",
    "deleted",
    "replaced",
    "metadata",
    "retracted",
    "expression_of_concern",
    "erratum",
    "late_entry",
    "translation_drift",
    "count",
)
_WATCHED = ("title", "publication_types", "doi")
_FLAGS = (
    ("is_retracted", "retracted", "flagged Retracted Publication"),
    ("is_retraction_notice", "retracted", "a retraction notice"),
    ("is_expression_of_concern", "expression_of_concern", "an expression of concern"),
    ("is_erratum", "erratum", "a published erratum"),
    ("has_erratum", "erratum", "corrected by a published erratum"),
)


@dataclass(frozen=True)
class SnapshotView:
    """What the change report needs of one snapshot: its manifest and its records."""

    name: str
    manifest: Mapping[str, Any]
    records: pd.DataFrame  # records.tsv columns (pmid, title, doi, flags, dates...)

    @property
    def retrieved(self) -> str:
        return str(self.manifest.get("retrieved_at") or "")[:10]


def _text(value: object) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    text = str(value).strip()
    return text or None


def _flag(value: object) -> bool:
    return _text(value) in {"True", "true", "1"}


def _date_key(value: object) -> str | None:
    """ "2024-03-05", "2024/03/05" or "2024" as comparable "2024-03-05" text."""
    text = _text(value)
    return None if text is None else text.replace("/", "-")


def _in_window(date: str | None, window: Mapping[str, Any]) -> bool:
    if date is None:
        return False
    low = _date_key(window.get("mindate"))
    high = _date_key(window.get("maxdate"))
    return (low is None or date >= low[: len(date)]) and (high is None or date <= high[: len(date)])


def compare(
    before: SnapshotView,
    after: SnapshotView,
    *,
    record_ids: Mapping[str, str] | None = None,
    deleted: Sequence[str] = (),
    replaced: Mapping[str, str] | None = None,
    gone_records: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every change from `before` to `after`, in a stable order (kind, then PMID).

    `record_ids` maps a PMID to the review's record id (default pubmed:<pmid>); `deleted` and
    `replaced` (old PMID -> new) are what a live search learnt from PubMed about gone PMIDs."""
    ids = dict(record_ids or {})
    old = {
        str(p): row
        for p, row in zip(before.records["pmid"], table_records(before.records), strict=True)
    }
    new = {
        str(p): row
        for p, row in zip(after.records["pmid"], table_records(after.records), strict=True)
    }
    rows: list[dict[str, Any]] = []

    def add(
        change: str, pmid: str | None, detail: str, was: object = None, now: object = None
    ) -> None:
        rows.append(
            {
                "change": change,
                "pmid": pmid,
                "record_id": None if pmid is None else ids.get(pmid, f"pubmed:{pmid}"),
                "detail": detail,
                "before": _text(was),
                "after": _text(now),
            }
        )

    window = before.manifest.get("date_window") or {}
    for pmid in sorted(set(new) - set(old), key=int):
        record = new[pmid]
        add("new", pmid, f"returned by the query since {before.name}", None, record.get("title"))
        entered = _date_key(record.get("entrez_date"))
        published = _date_key(record.get("publication_date")) or _date_key(record.get("year"))
        if (
            entered
            and before.retrieved
            and entered > before.retrieved
            and _in_window(published, window)
        ):
            add(
                "late_entry",
                pmid,
                f"published {published}, inside the previous window, but entered {entered}, "
                f"after the previous search ({before.retrieved})",
                before.retrieved,
                entered,
            )
    replaced = dict(replaced or {})
    current_versions = {}
    if gone_records is not None and len(gone_records):
        current_versions = {
            str(p): row
            for p, row in zip(gone_records["pmid"], table_records(gone_records), strict=True)
        }
    for pmid in sorted(set(old) - set(new), key=int):
        if pmid in deleted:
            add("deleted", pmid, "PubMed deleted the PMID", old[pmid].get("title"), None)
        elif pmid in replaced:
            add(
                "replaced",
                pmid,
                f"PubMed replaced it by PMID {replaced[pmid]}",
                pmid,
                replaced[pmid],
            )
        else:
            served = pmid in current_versions  # PubMed's current version, fetched to say why
            record = current_versions.get(pmid, old[pmid])
            reason = _gone_reason(record, after.manifest, served=served)
            add("gone", pmid, reason, old[pmid].get("title"), None)
    for pmid in sorted(set(old) & set(new), key=int):
        for column in _WATCHED:
            was, now = _text(old[pmid].get(column)), _text(new[pmid].get(column))
            if column == "publication_types":  # the flag types are reported by their flags
                was, now = _without_flag_types(was), _without_flag_types(now)
            if was != now:
                add("metadata", pmid, f"{column} changed", was, now)
        for column, change, words in _FLAGS:
            if _flag(new[pmid].get(column)) and not _flag(old[pmid].get(column)):
                add(change, pmid, f"now {words}", "False", "True")
    for pmid in sorted(set(new) - set(old), key=int):
        for column, change, words in _FLAGS:
            if _flag(new[pmid].get(column)):
                add(change, pmid, f"a new record that is {words}", None, "True")
    was, now = (
        _text(before.manifest.get("query_translation")),
        _text(after.manifest.get("query_translation")),
    )
    same_query = " ".join(str(before.manifest.get("query", "")).split()) == " ".join(
        str(after.manifest.get("query", "")).split()
    )
    if same_query and was != now:
        add(
            "translation_drift",
            None,
            "PubMed's automatic term mapping of the same query changed",
            was,
            now,
        )
    if len(old) != len(new):
        add("count", None, f"{len(new) - len(old):+d} records", len(old), len(new))
    order = {kind: index for index, kind in enumerate(CHANGE_KINDS)}
    rows.sort(key=lambda row: (order[row["change"]], int(row["pmid"]) if row["pmid"] else 0))
    return pd.DataFrame(
        {
            column: pd.array([row[column] for row in rows], dtype="string")
            for column in CHANGE_COLUMNS
        }
    )


_FLAG_TYPES = {
    "retracted publication",
    "retraction of publication",
    "expression of concern",
    "published erratum",
}


def _without_flag_types(types: str | None) -> str | None:
    if types is None:
        return None
    kept = [t.strip() for t in types.split(";") if t.strip().lower() not in _FLAG_TYPES]
    return "; ".join(kept) or None


def _gone_reason(
    record: Mapping[str, Any], manifest: Mapping[str, Any], *, served: bool = False
) -> str:
    window = manifest.get("date_window") or {}
    published = _date_key(record.get("publication_date")) or _date_key(record.get("year"))
    if (
        published
        and (window.get("mindate") or window.get("maxdate"))
        and not _in_window(published, window)
    ):
        return f"its publication date {published} is outside the window now searched"
    if served:
        return "no longer matches the query (PubMed still serves the record)"
    return "no longer returned by the query"


def report_markdown(
    before: SnapshotView,
    after: SnapshotView,
    changes: pd.DataFrame,
    *,
    included: set[str] = frozenset(),
) -> str:
    """The change report: a summary fit for an e-mail body, alarms, then every change."""
    counts = changes["change"].value_counts().to_dict()
    alarms = changes[
        changes["change"].isin(["retracted", "expression_of_concern"])
        & changes["record_id"].isin(included)
    ]
    lines = [f"# What changed: {before.name} -> {after.name}", ""]
    summary = [
        f"{len(after.records)} records now, {len(before.records)} before "
        f"(searched {before.retrieved} and {after.retrieved}).",
        f"{counts.get('new', 0)} new to screen; "
        f"{counts.get('gone', 0) + counts.get('deleted', 0) + counts.get('replaced', 0)} gone; "
        f"{counts.get('metadata', 0)} metadata changes; "
        f"{counts.get('retracted', 0)} newly retracted; "
        f"{counts.get('expression_of_concern', 0)} expressions of concern; "
        f"{counts.get('erratum', 0)} errata; {counts.get('late_entry', 0)} late entries.",
    ]
    if len(alarms):
        summary.insert(
            0,
            f"ALARM: {len(alarms)} included "
            f"{'study is' if len(alarms) == 1 else 'studies are'} now retracted or under an "
            "expression of concern: " + ", ".join(alarms["record_id"]) + ".",
        )
    if counts.get("translation_drift"):
        summary.append("ALARM: PubMed now translates the query differently (see below).")
    if not len(changes):
        summary = [f"No change since {before.name}."]
    lines += [*summary, ""]
    for kind in CHANGE_KINDS:
        chosen = changes[changes["change"] == kind]
        if not len(chosen):
            continue
        lines += [f"## {kind.replace('_', ' ')} ({len(chosen)})", ""]
        if kind == "translation_drift":
            row = chosen.iloc[0]
            lines += [
                "Before:",
                "",
                f"    {row['before']}",
                "",
                "Now:",
                "",
                f"    {row['after']}",
                "",
            ]
            continue
        for row in table_records(chosen):
            who = f"`{row['record_id']}`" if not pd.isna(row["record_id"]) else ""
            change = ""
            if not pd.isna(row["before"]) or not pd.isna(row["after"]):
                change = f": {row['before'] if not pd.isna(row['before']) else '-'} -> "
                change += f"{row['after'] if not pd.isna(row['after']) else '-'}"
            lines.append(f"- {who} {row['detail']}{change}".replace("-  ", "- "))
        lines.append("")
    return "\n".join(lines)
