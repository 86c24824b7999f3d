"""One function per workflow step: paths and config sections in, files out.

The workflow's scripts call these (a few lines each); tests can call them without Snakemake.
Every output is written atomically, and every report repeats the snapshot's origin.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from litreview import io
from litreview.errors import IncompleteResultError
from litreview.records import parse_pubmed_xml, records_table
from litreview.snapshot import Snapshot, load_snapshot, resolve_snapshot

logger = logging.getLogger(__name__)


# --- search ----------------------------------------------------------------------------------


def choose_snapshot(
    search: Mapping[str, Any],
    entrez: Mapping[str, Any],
    pointer_path: str | Path,
    *,
    other_sources: str | Path | None = None,
) -> Path:
    """Offline: the configured snapshot. Live: a new one from NCBI (with the other sources'
    PMIDs and DOIs resolved into it). Either way it is verified, and a pointer file records
    which snapshot the rest of the run replays."""
    snapshots_root = Path(search["snapshots_dir"])
    if search["mode"] == "live":
        from litreview.entrez import EntrezSettings  # the network only in live mode
        from litreview.identify import read_other_sources, requested_dois, requested_pmids
        from litreview.search import run_search

        pmids: list[str] = []
        dois: list[str] = []
        if other_sources is not None:
            sheet = read_other_sources(other_sources)
            pmids, dois = requested_pmids(sheet), requested_dois(sheet)
        settings = EntrezSettings.from_config(entrez)
        previous = _previous_snapshot(search) if search.get("incremental", True) else None
        folder = run_search(
            settings,
            search["query"],
            mindate=search["mindate"],
            maxdate=search["maxdate"],
            datetype=search["datetype"],
            snapshots_root=snapshots_root,
            resolve_pmids=pmids,
            resolve_dois=dois,
            previous=previous,
        )
    else:
        folder = resolve_snapshot(snapshots_root, search["snapshot"], database=search["database"])
    snapshot = load_snapshot(folder)
    manifest = snapshot.manifest
    pointer = {
        "mode": search["mode"],
        "snapshot": folder.as_posix(),
        "name": snapshot.name,
        "origin": manifest.get("origin"),
        "retrieved_at": manifest.get("retrieved_at"),
        "query": manifest.get("query"),
        "query_translation": manifest.get("query_translation"),
        "date_window": manifest.get("date_window"),
        "count": manifest.get("count"),
    }
    if search["mode"] == "offline" and manifest.get("query") != search["query"]:
        logger.warning(
            "snapshot %s was taken with another query than config search.query; it is replayed "
            "as it is (run live to search with the configured query)",
            snapshot.name,
        )
    io.write_text(pointer_path, json.dumps(pointer, indent=2, ensure_ascii=False) + "\n")
    logger.info(
        "replaying snapshot %s (%s records): %s",
        snapshot.name,
        manifest.get("count"),
        manifest.get("origin"),
    )
    return folder


def _previous_snapshot(search: Mapping[str, Any]) -> Path | None:
    """The latest snapshot, if it searched the same query and window (an incremental search
    builds on it); else None (a full search)."""
    from litreview.errors import SnapshotError

    try:
        folder = resolve_snapshot(search["snapshots_dir"], "latest", database=search["database"])
        manifest = load_snapshot(folder).manifest
    except SnapshotError:
        return None
    window = manifest.get("date_window") or {}
    same = " ".join(str(manifest.get("query", "")).split()) == " ".join(
        str(search["query"]).split()
    )
    for key in ("mindate", "maxdate", "datetype"):
        same = same and str(window.get(key)) == str(search.get(key))
    return folder if same else None


def read_pointer(pointer_path: str | Path) -> dict[str, Any]:
    return json.loads(Path(pointer_path).read_text(encoding="utf-8"))


def _parse_payloads(snapshot: Snapshot, payloads, label: str) -> pd.DataFrame:
    records = []
    for number, payload in enumerate(payloads, start=1):
        records.extend(parse_pubmed_xml(payload, source=f"{snapshot.path}/{label} #{number}"))
    return records_table(records)


def search_records(snapshot: Snapshot) -> pd.DataFrame:
    """The search's records of a snapshot: its own payloads, and the records it takes from
    earlier snapshots' payloads (an incremental search)."""
    records = []
    for number, (payload, wanted) in enumerate(snapshot.record_payloads(), start=1):
        parsed = parse_pubmed_xml(payload, source=f"{snapshot.path}/efetch #{number}")
        records.extend(r for r in parsed if wanted is None or str(r["pmid"]) in wanted)
    return records_table(records)


def snapshot_records(
    pointer_path: str | Path, records_path: str | Path, resolved_path: str | Path
) -> pd.DataFrame:
    """Parse the snapshot's PubMed XML into records.tsv (the search) and resolved.tsv (records
    fetched for other sources). The search's records must be exactly its ID list."""
    snapshot = load_snapshot(read_pointer(pointer_path)["snapshot"])
    records = search_records(snapshot)
    parsed, expected = set(records["pmid"]), set(snapshot.ids)
    if parsed != expected or len(records) != len(snapshot.ids):
        missing = sorted(expected - parsed, key=int)[:20]
        extra = sorted(parsed - expected, key=int)[:20]
        raise IncompleteResultError(
            f"{snapshot.path}: the payloads hold {len(records)} records for {len(snapshot.ids)} "
            f"PMIDs (missing: {missing or 'none'}; unexpected: {extra or 'none'}); the snapshot "
            "is inconsistent: take a new one"
        )
    resolved = _parse_payloads(snapshot, snapshot.resolved_payloads(), "resolved")
    io.write_table(records_path, records)
    io.write_table(resolved_path, resolved)
    return records


def _snapshot_view(folder: Path):
    from litreview.changes import SnapshotView

    snapshot = load_snapshot(folder)
    manifest = json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8"))
    records = search_records(snapshot)
    return SnapshotView(name=Path(folder).name, manifest=manifest, records=records)


def retraction_alarms(watch: pd.DataFrame) -> list[str]:
    """One line per included study retracted or under an expression of concern."""
    serious = watch[watch["status"].isin(["retracted", "expression_of_concern"])]
    lines = []
    for row in io.table_records(serious.drop_duplicates(["record_id", "status"])):
        words = "retracted" if row["status"] == "retracted" else "under an expression of concern"
        lines.append(f"ALARM: included study {row['record_id']} is {words} ({row['source']}).")
    return lines


def _gone_records(folder: Path) -> pd.DataFrame | None:
    """The records PubMed still serves for PMIDs the search no longer returns (their current
    version says why they are gone), from an incremental snapshot's gone/ payloads."""
    snapshot = load_snapshot(folder)
    payloads = list(snapshot.gone_payloads())
    if not payloads:
        return None
    return _parse_payloads(snapshot, payloads, "gone")


def _merged_new_records(
    changes: pd.DataFrame, clusters: pd.DataFrame, screened: pd.DataFrame
) -> str:
    """New records that deduplicated into a cluster already screened: they inherit its
    decisions, which a reviewer should know rather than find out."""
    from litreview.flow import kept_mask

    merged = clusters[~kept_mask(clusters)]
    into = dict(zip(merged["record_id"], merged["cluster_id"], strict=True))
    status = dict(zip(screened["record_id"], screened["status"], strict=True))
    lines = []
    for record_id in changes.loc[changes["change"] == "new", "record_id"].dropna():
        cluster = into.get(record_id)
        if cluster is not None and status.get(cluster) not in (None, "awaiting_title_abstract"):
            lines.append(
                f"- `{record_id}` is a duplicate of `{cluster}`, already {status[cluster]}: it "
                "takes that record's decisions (check the merge in results/dedup/duplicates.tsv)"
            )
    if not lines:
        return ""
    return "\n## New records merged into records already screened\n\n" + "\n".join(lines) + "\n"


def change_outputs(
    pointer_path: str | Path,
    screened_path: str | Path,
    search: Mapping[str, Any],
    changes_config: Mapping[str, Any],
    csv_path: str | Path,
    md_path: str | Path,
    *,
    deduplicated_path: str | Path | None = None,
    retraction_watch: Mapping[str, Any] | None = None,
    watch_path: str | Path | None = None,
    clusters_path: str | Path | None = None,
    orphans_path: str | Path | None = None,
) -> pd.DataFrame:
    """The change report of the replayed snapshot against the one before it (or the snapshot
    `changes.before` names): changes.csv and changes.md."""
    from litreview.changes import CHANGE_COLUMNS, compare, report_markdown
    from litreview.snapshot import available_snapshots

    current = Path(read_pointer(pointer_path)["snapshot"])
    screened = io.read_table(screened_path)
    alarms: list[str] = []
    if deduplicated_path is not None and watch_path is not None:
        from litreview.retraction_watch import read_retraction_watch, watch_included

        settings = retraction_watch or {}
        notices = (
            read_retraction_watch(settings["file"], settings.get("sha256"))
            if settings.get("file")
            else None
        )
        watch = watch_included(screened, io.read_table(deduplicated_path), notices)
        io.write_table(watch_path, watch)
        alarms = retraction_alarms(watch)
    names = available_snapshots(search["snapshots_dir"], database=search["database"])
    before_name = changes_config.get("before")
    if before_name is None:
        earlier = [name for name in names if name < current.name]
        before_name = earlier[-1] if earlier else None
    if before_name is None:
        table = pd.DataFrame({column: pd.array([], dtype="string") for column in CHANGE_COLUMNS})
        io.write_table(csv_path, table)
        head = "".join(f"{line}\n\n" for line in alarms)
        io.write_text(
            md_path,
            f"# What changed\n\n{head}{current.name} is the first snapshot of this review: "
            "nothing to compare with yet.\n",
        )
        return table
    before = _snapshot_view(
        resolve_snapshot(search["snapshots_dir"], before_name, database=search["database"])
    )
    after = _snapshot_view(current)
    included = set(screened.loc[screened["status"] == "included", "record_id"])
    gone = after.manifest.get("incremental") or {}
    changes = compare(
        before,
        after,
        deleted=gone.get("deleted") or (),
        replaced=gone.get("replaced") or {},
        gone_records=_gone_records(current),
    )
    io.write_table(csv_path, changes)
    text = report_markdown(before, after, changes, included=included)
    if alarms:  # every included study retracted or under concern heads the report
        title, _, rest = text.partition("\n\n")
        text = f"{title}\n\n" + "".join(f"{line}\n" for line in alarms) + f"\n{rest}"
    if clusters_path is not None:
        text += _merged_new_records(changes, io.read_table(clusters_path), screened)
    if orphans_path is not None:
        orphans = io.read_table(orphans_path)
        if len(orphans):
            text += "\n## Decisions on records no longer in the search\n\n"
            text += (
                "Kept in the sheets (they are the reviewers' history), left out of screening:\n\n"
            )
            for row in io.table_records(orphans):
                text += f"- PMID {row['pmid']}: {row['decision']} at {row['stage']} by {row['reviewer']} ({row['file']}, row {row['row']})\n"
    io.write_text(md_path, text)
    logger.info("changes since %s: %s", before.name, changes["change"].value_counts().to_dict())
    return changes


def search_report_output(
    pointer_path: str | Path,
    identified_path: str | Path,
    clusters_path: str | Path,
    changes_path: str | Path,
    screening: Mapping[str, Any],
    report_path: str | Path,
) -> None:
    """results/search/search_report.md (PRISMA-S) from the manifest and the tables."""
    from litreview.search_report import search_report

    folder = Path(read_pointer(pointer_path)["snapshot"])
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    from litreview.flow import kept_mask

    clusters = io.read_table(clusters_path)
    kept = int(kept_mask(clusters).sum())
    dedup = {"records_in": len(clusters), "records_out": kept, "duplicates": len(clusters) - kept}
    text = search_report(
        manifest,
        folder.name,
        io.read_table(identified_path),
        dedup,
        io.read_table(changes_path),
        automatic=screening.get("automatic") or {},
    )
    io.write_text(report_path, text)


EXPORT_SETS = ("included", "queue", "deduplicated")
EXPORT_FORMATS = ("ris", "bibtex", "csv", "xlsx")


def export_outputs(
    deduplicated_path: str | Path,
    screened_path: str | Path,
    queue_path: str | Path,
    folder: str | Path,
) -> None:
    """The included studies, the queue (in its order) and the deduplicated set as RIS,
    BibTeX, CSV and XLSX under `folder`."""
    from litreview.exports import write_exports

    deduplicated = io.read_table(deduplicated_path)
    screened = io.read_table(screened_path)
    included_ids = set(screened.loc[screened["status"] == "included", "record_id"])
    queue_ids = list(io.read_table(queue_path)["record"])
    by_id = deduplicated.set_index("record_id", drop=False)
    sets = {
        "included": deduplicated[deduplicated["record_id"].isin(included_ids)],
        "queue": by_id.loc[[i for i in queue_ids if i in by_id.index]].reset_index(drop=True),
        "deduplicated": deduplicated,
    }
    write_exports(sets, folder, EXPORT_FORMATS)


def new_since(
    previous: Mapping[str, Any],
    identified: pd.DataFrame,
    clusters: pd.DataFrame,
    screened: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The records an update counts: those the previous version had not seen, by record id,
    PMID or DOI (a record found again by other methods, under another id, is not new)."""
    seen = set(previous.get("records") or [])
    keys = set(previous.get("keys") or [])
    for table in (screened, identified):
        for record in io.table_records(table):
            if _record_keys(record) & keys:
                seen.add(record["record_id"])
    clusters_seen = set(clusters.loc[clusters["record_id"].isin(seen), "cluster_id"]) | seen
    kept_ids = set(clusters.loc[~clusters["cluster_id"].isin(clusters_seen), "record_id"])
    return (
        identified[identified["record_id"].isin(kept_ids)],
        clusters[clusters["record_id"].isin(kept_ids)],
        screened[screened["record_id"].isin(kept_ids)],
    )


def _record_keys(record: Mapping[str, Any]) -> set[str]:
    """pmid:<n> and doi:<doi> of one record."""
    from litreview.identify import normalise_doi

    keys = set()
    pmid = record.get("pmid")
    if pmid is not None and not pd.isna(pmid) and str(pmid).strip():
        keys.add(f"pmid:{str(pmid).strip()}")
    doi = normalise_doi(record.get("doi"))
    if doi:
        keys.add(f"doi:{doi}")
    return keys


def _identity_keys(table: pd.DataFrame) -> list[str]:
    """pmid:<n> and doi:<doi> of every record: what later versions deduplicate against."""
    return sorted(set().union(*(_record_keys(r) for r in io.table_records(table))))


def version_outputs(
    pointer_path: str | Path,
    screened_path: str | Path,
    prisma_metrics_path: str | Path,
    sheets: list[str],
    versions_config: Mapping[str, Any],
    versions_csv: str | Path,
    cumulative_csv: str | Path,
    cumulative_svg_path: str | Path,
) -> None:
    """Record this state as a version of the review when it differs from the latest one, then
    list every version and the cumulative flow."""
    from litreview.versions import (
        cumulative_svg,
        cumulative_table,
        read_versions,
        record_version,
        sha256_of,
        versions_table,
    )

    folder = Path(versions_config.get("folder") or "resources/versions")
    pointer = read_pointer(pointer_path)
    screened = io.read_table(screened_path)
    metrics = io.read_table(prisma_metrics_path)
    boxes = {
        name.removeprefix("prisma."): int(value)
        for name, value in zip(metrics["metric"], metrics["value"], strict=True)
        if name.count(".") == 1 and str(value).lstrip("-").isdigit()
    }
    if versions_config.get("record", True):
        version, new = record_version(
            folder,
            date=str(pointer.get("retrieved_at") or "")[:10],
            snapshot=str(pointer.get("name")),
            sheets=sha256_of(sheets),
            included=list(screened.loc[screened["status"] == "included", "record_id"]),
            prisma=boxes,
            records=list(screened["record_id"]),
            keys=_identity_keys(screened),
        )
        logger.info("review %s %s", version["version"], "recorded" if new else "unchanged")
    versions = read_versions(folder)
    io.write_table(versions_csv, versions_table(versions))
    io.write_table(cumulative_csv, cumulative_table(versions))
    cumulative_svg(versions, cumulative_svg_path)


# --- identify and deduplicate ----------------------------------------------------------------


def identify_records(
    records_path: str | Path,
    resolved_path: str | Path,
    other_sources: str | Path | None,
    identified_path: str | Path,
    unresolved_path: str | Path,
    *,
    csv_mappings: Mapping[str, Mapping[str, str]] | None = None,
    files_path: str | Path | None = None,
) -> pd.DataFrame:
    from litreview.identify import identify, read_other_sources
    from litreview.importers import read_bibliographic_file

    search_records = io.read_table(records_path)
    resolved = io.read_table(resolved_path)
    pool = pd.concat([search_records, resolved], ignore_index=True)
    mappings = dict(csv_mappings or {})

    def read_file(path: Path, file_format: object) -> pd.DataFrame:
        name = None if file_format is None or pd.isna(file_format) else str(file_format)
        mapping = mappings.get(name) if name else None
        if mapping is not None:
            table = read_bibliographic_file(path, "csv", mapping=dict(mapping))
            table.attrs["format"] = name
            return table
        table = read_bibliographic_file(path, name)
        logger.info(
            "%s: %d records read as %s (%s)",
            path,
            len(table),
            table.attrs["format"],
            "given" if name else "detected from its content",
        )
        return table

    sheet = read_other_sources(other_sources) if other_sources else None
    result = identify(
        search_records,
        sheet,
        sheet_path=other_sources,
        resolver_records=pool,
        read_file=read_file,
    )
    io.write_table(identified_path, result.identified)
    io.write_table(unresolved_path, result.unresolved)
    if files_path is not None:
        io.write_table(files_path, result.files)
    if len(result.unresolved):
        logger.warning(
            "%d other-source identifier(s) not resolved (see %s)",
            len(result.unresolved),
            unresolved_path,
        )
    return result.identified


def deduplicate_records(
    identified_path: str | Path,
    settings: Mapping[str, Any] | None,
    deduplicated_path: str | Path,
    duplicates_path: str | Path,
    clusters_path: str | Path,
    summary_path: str | Path,
    *,
    origin: str | None,
    files_path: str | Path | None = None,
) -> None:
    from litreview.dedup import DedupSettings, deduplicate

    identified = io.read_table(identified_path)
    identified["year"] = pd.to_numeric(identified["year"]).astype("Int64")
    # The search's own PubMed records are kept over copies found by other methods.
    searched = identified["record_id"].str.startswith("pubmed:")
    identified["source"] = searched.map({True: "pubmed", False: "other"}).astype("string")
    dedup_settings = DedupSettings.from_mapping(settings)
    result = deduplicate(identified, dedup_settings)
    clusters = result.records
    members = clusters.merge(
        identified[["record_id", "method", "found_via"]], on="record_id", how="left"
    )
    grouped = members.groupby("cluster_id", sort=False)
    sources = grouped["found_via"].agg(lambda values: "; ".join(dict.fromkeys(values.dropna())))
    record_ids = grouped["record_id"].agg(lambda values: "; ".join(values))
    deduplicated = result.deduplicated.copy()
    deduplicated["sources"] = deduplicated["record_id"].map(sources)
    deduplicated["group_records"] = deduplicated["record_id"].map(record_ids)
    io.write_table(deduplicated_path, deduplicated)
    io.write_table(duplicates_path, result.duplicates)
    io.write_table(clusters_path, clusters)
    files = io.read_table(files_path) if files_path is not None else None
    text = dedup_summary(result, members, dedup_settings, files, origin, duplicates_path)
    io.write_text(summary_path, text)


def dedup_summary(
    result: Any,
    members: pd.DataFrame,
    settings: Any,
    files: pd.DataFrame | None,
    origin: str | None,
    duplicates_path: str | Path,
) -> str:
    """summary.md: the totals, the records of each source and each file (in, removed as
    duplicates, kept), the thresholds in force and how many merges each rule made."""
    import dataclasses

    rules = result.duplicates["rule"].value_counts().sort_index()
    members = members.assign(removed=~members["kept"].astype(bool))

    def tally(keys: pd.Series) -> list[str]:
        rows = []
        for key, group in members.groupby(keys, sort=True):
            removed = int(group["removed"].sum())
            rows.append(f"| {key} | {len(group)} | {removed} | {len(group) - removed} |")
        return rows

    lines = [
        "# Deduplication", "", f"Snapshot origin: {origin}", "",
        f"- records in: {result.records_in}",
        f"- duplicates removed: {result.duplicates_removed}",
        f"- records out: {result.records_out}", "",
        "## Records per source", "",
        "| source | records | duplicates removed | kept |", "| --- | ---: | ---: | ---: |",
        *tally(members["found_via"].fillna(members["method"]).fillna("unknown")), "",
    ]  # fmt: skip
    if files is not None and len(files):
        source_of = members["record_id"].str.rsplit(":", n=1).str[0]
        named = dict(zip(files["source_id"], files["file"], strict=True))
        in_files = members[source_of.isin(named)]
        lines += [
            "## Records per file", "",
            "| file | format | records | duplicates removed | kept |",
            "| --- | --- | ---: | ---: | ---: |",
        ]  # fmt: skip
        formats = dict(zip(files["source_id"], files["format"], strict=True))
        for source_id, group in in_files.groupby(source_of[in_files.index], sort=True):
            removed = int(group["removed"].sum())
            lines.append(
                f"| {named[source_id]} | {formats[source_id]} | {len(group)} | {removed} "
                f"| {len(group) - removed} |"
            )
        lines.append("")
    lines += [
        "## Merges per rule", "", "| rule | merges |", "| --- | ---: |",
        *[f"| {rule} | {n} |" for rule, n in rules.items()], "",
        "## Thresholds in force (config `dedup:`)", "", "| setting | value |", "| --- | --- |",
        *[f"| {item.name} | {getattr(settings, item.name)} |"
          for item in dataclasses.fields(settings)],
        "",
        f"Every merge, with its rule and score: `{Path(duplicates_path).as_posix()}`.", "",
    ]  # fmt: skip
    return "\n".join(lines)


# --- screening and PRISMA ---------------------------------------------------------------------


def _snapshot_history(
    search: Mapping[str, Any] | None, pointer_path: str | Path | None
) -> tuple[frozenset[str], frozenset[str]]:
    """(PMIDs of earlier snapshots that the replayed one lacks, PMIDs new in the replayed one
    since the snapshot before it)."""
    if search is None or pointer_path is None:
        return frozenset(), frozenset()
    from litreview.snapshot import available_snapshots

    current = Path(read_pointer(pointer_path)["snapshot"])
    now = set((current / "ids.txt").read_text(encoding="ascii").split())
    root = Path(search["snapshots_dir"]) / search["database"]
    earlier_names = [
        n
        for n in available_snapshots(search["snapshots_dir"], database=search["database"])
        if n < current.name
    ]
    seen: set[str] = set()
    for name in earlier_names:
        seen |= set((root / name / "ids.txt").read_text(encoding="ascii").split())
    before = (
        set((root / earlier_names[-1] / "ids.txt").read_text(encoding="ascii").split())
        if earlier_names
        else now
    )
    return frozenset(seen - now), frozenset(now - before)


def screen_records(
    deduplicated_path: str | Path,
    clusters_path: str | Path,
    screening: Mapping[str, Any],
    screened_path: str | Path,
    overrules_path: str | Path,
    conflicts_path: str | Path,
    queue_csv_path: str | Path,
    queue_xlsx_path: str | Path,
    orphans_path: str | Path | None = None,
    *,
    search: Mapping[str, Any] | None = None,
    pointer_path: str | Path | None = None,
) -> pd.DataFrame:
    from litreview.screen import (
        DECISIONS,
        STAGES,
        RecordIndex,
        ScreeningSettings,
        build_queue,
        read_decisions,
        screen,
    )
    from litreview.sheets import write_queue_xlsx

    records = io.read_table(deduplicated_path)
    clusters = io.read_table(clusters_path)
    settings = ScreeningSettings.from_config(screening)
    merged_into = dict(zip(clusters["record_id"], clusters["cluster_id"], strict=True))
    index = RecordIndex.build(records, merged_into)
    categories = [category.name for category in settings.categories]
    earlier, new = _snapshot_history(search, pointer_path)
    orphans: list[dict[str, Any]] = []
    decisions = read_decisions(
        screening.get("sheets") or [],
        index,
        reasons=settings.reasons,
        categories=categories,
        earlier_pmids=earlier,
        orphans=orphans,
    )
    result = screen(records, decisions, settings)
    queue = build_queue(result.screened, records, new={f"pubmed:{pmid}" for pmid in new})
    if orphans_path is not None:
        columns = ("record", "pmid", "stage", "decision", "reviewer", "file", "row")
        io.write_table(orphans_path, pd.DataFrame(orphans, columns=list(columns)))
    if orphans:
        logger.warning(
            "%d decision(s) name records no longer in the search (results/screening/orphans.tsv)",
            len(orphans),
        )
    io.write_table(screened_path, result.screened)
    io.write_table(overrules_path, result.overrules)
    io.write_table(conflicts_path, result.conflicts)
    io.write_table(queue_csv_path, queue)
    write_queue_xlsx(
        queue_xlsx_path,
        queue,
        stages=STAGES,
        decisions=DECISIONS,
        reasons=tuple(settings.reasons),
        categories=tuple(categories),
    )
    logger.info(
        "screened %d records: %s; %d in the queue",
        len(result.screened),
        result.screened["status"].value_counts().to_dict(),
        len(queue),
    )
    return result.screened


def prisma_outputs(
    identified_path: str | Path,
    clusters_path: str | Path,
    screened_path: str | Path,
    screening: Mapping[str, Any],
    prisma_config: Mapping[str, Any],
    csv_path: str | Path,
    svg_path: str | Path,
    png_path: str | Path,
    metrics_path: str | Path | None = None,
    *,
    origin: str | None,
    title: str | None,
    other_labels: Mapping[str, str] | None = None,
    search: str | None = None,
    snapshot_name: str | None = None,
    versions_folder: str | Path | None = None,
) -> None:
    from litreview.flow import prisma_counts
    from litreview.prisma import draw, require_consistent, write_template_csv
    from litreview.screen import ScreeningSettings

    settings = ScreeningSettings.from_config(screening)
    identified = io.read_table(identified_path)
    clusters = io.read_table(clusters_path)
    screened = io.read_table(screened_path)
    previous_studies = int(prisma_config.get("previous_studies", 0))
    previous_reports = int(prisma_config.get("previous_reports", 0))
    if prisma_config.get("update_from_versions") and snapshot_name is not None:
        from litreview.versions import previous_version

        previous = previous_version(versions_folder or "resources/versions", snapshot_name)
        if previous is not None:
            identified, clusters, screened = new_since(previous, identified, clusters, screened)
            previous_studies = int(previous["prisma"]["total_studies"])
            previous_reports = int(previous["prisma"]["total_reports"])
            logger.info(
                "PRISMA update on %s: %d records new since", previous["version"], len(screened)
            )
    counts, extras = prisma_counts(
        identified,
        clusters,
        screened,
        reason_texts=settings.reasons,
        other_labels=other_labels,
        previous_studies=previous_studies,
        previous_reports=previous_reports,
    )
    require_consistent(counts)
    write_template_csv(counts, csv_path)
    if metrics_path is not None:
        io.write_table(metrics_path, prisma_metric_table(counts, extras, settings.reasons))
    note = "\n".join(line for line in (search, f"Snapshot: {origin}" if origin else None) if line)
    note = note or None
    if extras["other_duplicates"]:
        note = (note + "\n" if note else "") + (
            f"{extras['other_duplicates']} of {extras['other_identified']} records found by other "
            "methods duplicated records found earlier and are not counted again."
        )
    draw(counts, svg_path, png_path, title=title, origin_note=note)


def prisma_metric_table(
    counts, extras: Mapping[str, Any], reasons: Mapping[str, str]
) -> pd.DataFrame:
    """Every PRISMA box as a metric `prisma.<box>`, and each box of exclusions by reason code
    (`prisma.records_excluded.<reason>`, `prisma.dbr_excluded.<reason>`...)."""
    import dataclasses

    from litreview.report.engine import Metrics

    metrics = Metrics()
    code_of = {text: code for code, text in reasons.items()}
    for item in dataclasses.fields(counts):
        value = getattr(counts, item.name)
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, int):
            metrics.add(f"prisma.{item.name}", value, "records", value, item.name.replace("_", " "))
            continue
        pairs = [(code_of.get(label, label), n) for label, n in value]
        total = sum(n for _, n in pairs)
        metrics.add(f"prisma.{item.name}", total, "records", total, item.name.replace("_", " "))
        if item.name.endswith("_excluded"):
            for code, n in pairs:
                metrics.add(f"prisma.{item.name}.{code}", n, "records", n, reasons.get(code, code))
    for box in ("records_excluded", "excluded_automatic"):
        for code, n in extras.get(f"{box}_by_reason", {}).items():
            metrics.add(f"prisma.{box}.{code}", n, "records", n, reasons.get(code, code))
    return metrics.frame()


def search_of(pointer_path: str | Path) -> str | None:
    """ "PubMed searched 2026-11-27 (snapshot 20261127T024748Z, publication dates 1900/01/01 to
    2025/04/30)": the search date a PRISMA diagram states, from the replayed snapshot."""
    pointer = read_pointer(pointer_path)
    retrieved = str(pointer.get("retrieved_at") or "")[:10]
    if not retrieved:
        return None
    database = {"pubmed": "PubMed"}.get(str(pointer.get("database", "pubmed")), "PubMed")
    window = pointer.get("date_window") or {}
    detail = f"snapshot {pointer.get('name')}"
    if window.get("mindate") or window.get("maxdate"):
        kind = {"pdat": "publication", "edat": "Entrez", "mdat": "modification"}.get(
            str(window.get("datetype")), str(window.get("datetype"))
        )
        detail += (
            f", {kind} dates {window.get('mindate') or '...'} to {window.get('maxdate') or '...'}"
        )
    return f"{database} searched {retrieved} ({detail})"


def origin_of(pointer_path: str | Path) -> str | None:
    return read_pointer(pointer_path).get("origin")


# --- extraction, regeneration, audit ----------------------------------------------------------


def extraction_form(config: Mapping[str, Any]):
    """The declared extraction form, with the screening categories it may refer to."""
    from litreview.extract.form import form_from_config
    from litreview.screen import ScreeningSettings

    screening = ScreeningSettings.from_config(config["screening"])
    categories = {c.name: c.label or c.name for c in screening.categories}
    return form_from_config(config["extraction"], screening_categories=categories)


def extract_studies(
    screened_path: str | Path,
    clusters_path: str | Path,
    config: Mapping[str, Any],
    studies_out: str | Path,
    report_out: str | Path,
    *,
    origin: str | None,
) -> None:
    from litreview.extract.outputs import validation_report, write_outputs
    from litreview.extract.sheets import normalise, read_extraction

    form = extraction_form(config)
    section = config["extraction"]
    clusters = io.read_table(clusters_path)
    sheets = read_extraction(
        form,
        section["studies"],
        section.get("arms"),
        screened=io.read_table(screened_path),
        merged_into=dict(zip(clusters["record_id"], clusters["cluster_id"], strict=True)),
        require_complete=bool(section.get("require_complete", True)),
    )
    normalised = normalise(form, sheets)
    report = validation_report(form, sheets, normalised)
    if origin:
        report = f"Snapshot origin: {origin}\n\n{report}"
    write_outputs(
        normalised,
        report,
        studies_path=studies_out,
        out_dir=Path(studies_out).parent,
        report_path=report_out,
    )


def write_blank_form(
    screened_path: str | Path, config: Mapping[str, Any], form_out: str | Path
) -> None:
    """The blank extraction workbook alone (before any extraction sheet exists)."""
    from litreview.extract.outputs import write_form_workbook
    from litreview.extract.sheets import included_records

    write_form_workbook(
        form_out, extraction_form(config), included_records(io.read_table(screened_path))
    )


def _typed(table: pd.DataFrame, columns: Mapping[str, str]) -> pd.DataFrame:
    typed = table.copy()
    for column, dtype in columns.items():
        if column in typed:
            if dtype == "boolean":
                typed[column] = typed[column].map({"True": True, "False": False}).astype("boolean")
            else:
                typed[column] = pd.to_numeric(typed[column]).astype(dtype)
    return typed


def regenerate_outputs(
    studies: str | Path,
    prisma_metrics: str | Path | None,
    config: Mapping[str, Any],
    out_dir: str | Path,
) -> None:
    from litreview.extract.sheets import VALUE_DTYPES
    from litreview.report import ReportData, report_from_config, write_report

    form = extraction_form(config)
    spec = report_from_config(config.get("report"), form)
    numeric: dict[str, str] = {}
    for field_spec in form.fields:
        if field_spec.type in ("integer", "number") and field_spec.on("study"):
            numeric[field_spec.name] = "Int64" if field_spec.type == "integer" else "Float64"
    for derived in form.derived:
        if derived.sum_of:
            numeric[derived.name] = "Float64"
    for quantity in form.quantities():
        per = quantity.quantity.per_weight
        for suffix in ("min", "max"):
            numeric[f"{quantity.name}_{suffix}"] = "Float64"
            if per:
                numeric[f"{quantity.name}_per_{per}_{suffix}"] = "Float64"
    folder = Path(studies).parent
    values = {
        quantity.name: _typed(io.read_table(folder / f"{quantity.name}.tsv"), VALUE_DTYPES)
        for quantity in form.quantities()
    }
    data = ReportData(form=form, studies=_typed(io.read_table(studies), numeric), values=values)
    prisma = io.read_table(prisma_metrics) if prisma_metrics else None
    write_report(spec, data, out_dir, prisma=prisma)


def audit_outputs(
    metrics_path: str | Path,
    studies_path: str | Path,
    audit_config: Mapping[str, Any],
    csv_path: str | Path,
    md_path: str | Path,
    *,
    origin: str | None,
    title: str | None,
    watch_path: str | Path | None = None,
) -> None:
    from litreview.audit import (
        AuditSettings,
        audit,
        coverage_from_studies,
        load_published,
        read_metrics,
        require_no_differences,
        write_audit,
    )

    settings = AuditSettings.from_config(audit_config)
    published = load_published(audit_config["published"])
    declared = audit_config.get("coverage") or {}
    coverage = coverage_from_studies(
        io.read_table(studies_path),
        published,
        settings,
        origin=origin,
        total_metric=declared.get("total_metric"),
        group_metric=declared.get("group_metric"),
        field=declared.get("field", "category"),
    )
    result = audit(published, read_metrics(metrics_path), settings, coverage=coverage)
    write_audit(result, csv_path, md_path, title=title)
    if watch_path is not None and Path(watch_path).is_file():
        alarms = retraction_alarms(io.read_table(watch_path))
        if alarms:  # a retracted included study heads the audit
            text = Path(md_path).read_text(encoding="utf-8")
            heading, _, rest = text.partition("\n\n")
            io.write_text(
                md_path, f"{heading}\n\n" + "".join(f"{a}\n" for a in alarms) + f"\n{rest}"
            )
    logger.info("audit: %s", result.status_counts())
    if settings.strict:
        require_no_differences(result)
