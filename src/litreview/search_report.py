"""The search report (PRISMA-S): how the search was done, filled from the snapshot's manifest,
the identification table, the deduplication counts and the change report.

PRISMA-S asks a review to report, for each database: its name and platform, the full search
strategy as run, limits and filters, the date of the search, the records retrieved; the other
methods and their sources; how duplicates were removed. Everything here is read from files the
pipeline wrote; nothing is typed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

__all__ = ["search_report"]


def _window(window: Mapping[str, Any]) -> str:
    kind = {"pdat": "publication date", "edat": "Entrez date", "mdat": "modification date"}.get(
        str(window.get("datetype")), str(window.get("datetype"))
    )
    if not (window.get("mindate") or window.get("maxdate")):
        return "none"
    return f"{kind} {window.get('mindate') or 'any'} to {window.get('maxdate') or 'any'}"


def search_report(
    manifest: Mapping[str, Any],
    snapshot_name: str,
    identified: pd.DataFrame,
    dedup: Mapping[str, int],
    changes: pd.DataFrame | None = None,
    *,
    automatic: Mapping[str, Any] | None = None,
) -> str:
    """PRISMA-S items as Markdown."""
    parameters = manifest.get("parameters") or {}
    lines = ["# Search report (PRISMA-S)", ""]
    if manifest.get("origin"):
        lines += [f"Snapshot origin: {manifest['origin']}", ""]
    lines += [
        "## Database searched",
        "",
        "| item | value |",
        "| --- | --- |",
        "| database | PubMed (MEDLINE and PubMed-only records) |",
        f"| interface | NCBI E-utilities (esearch, efetch), {parameters.get('base_url') or 'NCBI'} |",
        f"| date of search | {str(manifest.get('retrieved_at', ''))[:10]} (snapshot {snapshot_name}) |",
        f"| date limits | {_window(manifest.get('date_window') or {})} |",
        "| other limits and filters in the query | none beyond the query itself |",
        f"| records retrieved | {manifest.get('count')} |",
        f"| software | {_software(manifest)} |",
        "",
        "## Search strategy, as run",
        "",
        "```",
        str(manifest.get("query", "")),
        "```",
        "",
        "PubMed's translation of it (automatic term mapping):",
        "",
        "```",
        str(manifest.get("query_translation", "")),
        "```",
        "",
    ]
    if manifest.get("split_windows"):
        lines += [
            f"The result set was retrieved in {len(manifest['split_windows'])} date windows "
            "(esearch returns at most 9,999 PMIDs per query); their union equals the count.",
            "",
        ]
    lines += ["## Other methods", ""]
    other = identified[identified["source_type"] != "database"]
    if len(other):
        lines += ["| method | found via | records |", "| --- | --- | ---: |"]
        grouped = other.groupby(["method", "found_via"], dropna=False).size()
        for (method, found_via), count in grouped.items():
            via = "" if pd.isna(found_via) else found_via
            lines.append(f"| {method} | {via} | {count} |")
    else:
        lines.append("None.")
    exports = identified[
        identified["method"].isin(["database", "register"])
        & (identified["source_type"] != "database")
    ]
    if len(exports):
        lines += ["", f"{len(exports)} records came from exports of other databases or registers."]
    lines += [
        "",
        "## Limits applied at screening (automatic criteria)",
        "",
    ]
    lines += _criteria(automatic or {})
    lines += [
        "",
        "## Deduplication",
        "",
        "Exact matching of DOI, PMID and PMCID, then fuzzy matching of title, authors, year and "
        "journal (rapidfuzz, blocked); every merge is listed in `results/dedup/duplicates.tsv`.",
        "",
        f"- records in: {dedup.get('records_in')}",
        f"- duplicates removed: {dedup.get('duplicates')}",
        f"- records out: {dedup.get('records_out')}",
        "",
        "## Changes since the previous search",
        "",
    ]
    if changes is None or not len(changes):
        lines.append("None (or this is the first search).")
    else:
        for change, count in changes["change"].value_counts().sort_index().items():
            lines.append(f"- {change}: {count}")
        lines.append("")
        lines.append("Details: `results/changes/changes.md`.")
    return "\n".join(lines) + "\n"


def _software(manifest: Mapping[str, Any]) -> str:
    software = manifest.get("software") or {}
    if isinstance(software, Mapping):
        return ", ".join(f"{name} {version}" for name, version in software.items()) or "litreview"
    return str(software)


def _criteria(automatic: Mapping[str, Any]) -> list[str]:
    lines = []
    language = automatic.get("language") or {}
    if language.get("allowed"):
        lines.append(f"- languages: {', '.join(language['allowed'])}")
    types = automatic.get("publication_types") or []
    if isinstance(types, Mapping):
        types = [types] if types.get("exclude") else []
    for rule in types:
        lines.append(
            f"- publication types excluded ({rule.get('reason')}): {', '.join(rule.get('exclude') or [])}"
        )
    dates = automatic.get("dates") or {}
    if dates.get("from") or dates.get("to"):
        lines.append(
            f"- publication dates: {dates.get('from') or 'any'} to {dates.get('to') or 'any'}"
        )
    for rule in automatic.get("keywords") or []:
        lines.append(f"- keyword rule {rule.get('name')} ({rule.get('reason')})")
    return lines or ["None."]
