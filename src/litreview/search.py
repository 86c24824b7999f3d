"""The search stage's network half: query PubMed, fetch every record, freeze it as a snapshot.

Everything after this stage reads the snapshot, never the network, so a review can be rerun
byte for byte from what was received on the day of the search.
"""

from __future__ import annotations

import gzip
import json
import logging
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from litreview.entrez import DateWindow, EntrezClient, EntrezSettings, parse_ncbi_date
from litreview.errors import ParseError, SnapshotError
from litreview.snapshot import DATABASE, SnapshotWriter, load_snapshot

__all__ = ["run_search"]

logger = logging.getLogger(__name__)

DOI_BATCH = 100  # other sources' DOIs ORed into one esearch (a few KB of term, sent by POST)


def run_search(
    settings: EntrezSettings,
    query: str,
    *,
    mindate: str | None = None,
    maxdate: str | None = None,
    datetype: str = "pdat",
    snapshots_root: str | Path,
    origin: str | None = None,
    progress: bool = True,
    client: EntrezClient | None = None,
    started_at: datetime | None = None,
    resolve_pmids: Sequence[str] = (),
    resolve_dois: Sequence[str] = (),
    previous: str | Path | None = None,
) -> Path:
    """esearch -> every PMID -> efetch -> ``<snapshots_root>/pubmed/<timestamp>/``; its path.

    ``origin`` is free text recorded in the manifest (default: "NCBI PubMed E-utilities at
    <base_url>"). ``client`` lets tests inject one with a fake clock/sleep; ``started_at``
    fixes the snapshot's timestamp. Nothing is left on disk if any step fails.

    ``resolve_pmids`` and ``resolve_dois`` name records found by other methods: those the
    search did not return are fetched into the same snapshot (``resolved/``, apart from the
    search's records), so an offline run resolves them exactly as this run did.

    ``previous`` (an earlier snapshot of the same query and window) makes the search
    incremental: after the esearch pages, one more esearch asks which of the query's records
    PubMed modified since that snapshot (``datetype=mdat``); only PMIDs it lacks and modified
    ones are fetched, and the others are referenced in the earlier payloads by sha256, so the new
    snapshot stays complete and replayable on its own (``manifest["reused"]``). When nothing
    changed at all (no new or modified record, the same IDs, count and translation, the same
    other sources) no snapshot is written and ``previous`` is returned: "no change since".
    """
    client = client or EntrezClient(settings)
    origin = origin or f"NCBI PubMed E-utilities at {settings.normalized_base_url}"
    with SnapshotWriter(snapshots_root, started_at=started_at) as writer:
        result = client.search(
            query,
            mindate=mindate,
            maxdate=maxdate,
            datetype=datetype,
            windows_hint=_previous_windows(previous, query, datetype),
        )
        esearch_requests: list[dict[str, Any]] = []
        for page in result.pages:
            esearch_requests.append(
                {
                    "file": writer.add_esearch(page.payload),
                    "params": page.params,
                    "count": page.count,
                    "ids_returned": len(page.ids),
                    "messages": page.messages,
                }
            )
        efetch_batches: list[dict[str, Any]] = []
        incremental = None
        if previous is not None:
            batches, incremental = _incremental(client, writer, result, query, previous, progress)
            if _unchanged(previous, result, incremental, resolve_pmids, resolve_dois):
                logger.info("no change since snapshot %s: no new snapshot", Path(previous).name)
                return Path(previous)  # the writer is not committed: nothing is written
        else:
            batches = client.fetch(result, progress=progress)
        for batch in batches:
            _check_parses(batch.payload, f"efetch batch {batch.number}", batch.pmids)
            efetch_batches.append(
                {
                    "file": writer.add_efetch(batch.payload),
                    "params": batch.params,
                    "records": len(batch.pmids),
                    "pmids": list(batch.pmids),
                }
            )
        resolution = _resolve(client, writer, result.ids, resolve_pmids, resolve_dois, progress)
        fields = {
            "database": DATABASE,
            "origin": origin,
            "query": query,
            "query_translation": result.query_translation,
            "count": result.count,
            "date_window": {"datetype": datetype, "mindate": mindate, "maxdate": maxdate},
            "split_windows": [window.as_dict() for window in result.windows],
            "parameters": {
                **settings.public_parameters(),
                "api_key_used": client.has_api_key,
                "fetch_mode": result.fetch_mode,
            },
            "history_fallbacks": client.history_fallbacks,
            "search_repeats": client.search_repeats,
            "requests_sent": client.requests_sent,
            "esearch_requests": esearch_requests,
            "efetch_batches": efetch_batches,
            "resolution": resolution,
            "incremental": incremental,
        }
        folder = writer.commit(fields, result.ids)
    logger.info("search snapshot written: %s (%d records)", folder, result.count)
    return folder


def _previous_windows(
    previous: str | Path | None, query: str, datetype: str
) -> tuple[DateWindow, ...]:
    """The date windows an earlier snapshot of the same query was split into: a rerun tries
    them first, so a monthly search overflows no window (the newest takes the new records)."""
    if previous is None:
        return ()
    manifest = json.loads((Path(previous) / "manifest.json").read_text(encoding="utf-8"))
    if (
        manifest.get("query") != query
        or (manifest.get("date_window") or {}).get("datetype", "pdat") != datetype
    ):
        return ()
    return tuple(
        DateWindow(
            parse_ncbi_date(window["mindate"]),
            parse_ncbi_date(window["maxdate"], end=True),
            int(window["count"]),
        )
        for window in manifest.get("split_windows") or []
    )


def _check_parses(payload: bytes, label: str, pmids: Sequence[str]) -> None:
    """Parse a payload with the records stage's own parser before it joins the snapshot, so a
    snapshot that is committed is one every later offline run can read. A payload that fails
    (an element not in its DTD, an entity declaration, records that are not the ones counted)
    stops the run: the writer is not committed and nothing is left on disk."""
    from litreview.records import parse_pubmed_xml

    try:
        records = parse_pubmed_xml(payload, source=f"the {label} PubMed sent")
    except ParseError as error:
        raise SnapshotError(
            f"{error}. No snapshot was written (earlier snapshots are untouched); rerun later, "
            "and report the response if it persists"
        ) from None
    parsed = [str(record["pmid"]) for record in records]
    if sorted(parsed) != sorted(pmids):
        raise SnapshotError(
            f"the {label} PubMed sent parses to {len(parsed)} records where {len(pmids)} were "
            "counted; no snapshot was written (rerun; report the response if it persists)"
        )


def _incremental(
    client: EntrezClient,
    writer: SnapshotWriter,
    result: Any,
    query: str,
    previous: str | Path,
    progress: bool,
) -> tuple[Any, dict[str, Any]]:
    """The batches to fetch (new and modified PMIDs), after referencing the unchanged ones."""
    earlier = load_snapshot(previous)
    since = str(earlier.manifest["retrieved_at"])[:10].replace("-", "/")
    today = writer.started_at.strftime("%Y/%m/%d")
    modified_page = client.esearch(query, mindate=since, maxdate=today, datetype="mdat")
    modified_result = modified_page
    modified_ids = set(modified_page.ids)
    if modified_page.count > len(modified_page.ids):  # more than a page modified: all of them
        modified_result = client.search(query, mindate=since, maxdate=today, datetype="mdat")
        modified_ids = set(modified_result.ids)
    current = list(result.ids)
    current_set = set(current)
    known = set(earlier.ids)
    new = [pmid for pmid in current if pmid not in known]
    modified = [pmid for pmid in current if pmid in known and pmid in modified_ids]
    fetch = set(new) | set(modified)
    reused = 0
    wanted_now = current_set - fetch
    for path, sha256, pmids in _record_sources(earlier):
        take = sorted((pmid for pmid in pmids if pmid in known and pmid in wanted_now), key=int)
        writer.reuse(
            path.parent.parent.name, path.relative_to(path.parent.parent).as_posix(), sha256, take
        )
        reused += len(take)
        known -= set(take)
    gone = [pmid for pmid in earlier.ids if pmid not in current_set]
    returned, replaced = _ask_about_gone(client, writer, gone)
    summary = {
        "previous": earlier.name,
        "gone": sorted(gone, key=int),
        "gone_returned": sorted(returned, key=int),
        "deleted": sorted(
            (pmid for pmid in gone if pmid not in returned and pmid not in replaced), key=int
        ),
        "replaced": dict(sorted(replaced.items(), key=lambda item: int(item[0]))),
        "modified_since": since,
        "mdat_requests": 1 if modified_result is modified_page else len(modified_result.pages),
        "new": len(new),
        "modified": len(modified),
        "fetched": len(fetch),
        "reused": reused,
    }
    logger.info(
        "incremental search since %s: %d new, %d modified, %d reused",
        earlier.name,
        len(new),
        len(modified),
        reused,
    )
    wanted = [pmid for pmid in current if pmid in fetch]
    return (client.fetch_pmids(wanted, progress=progress) if wanted else iter(())), summary


def _ask_about_gone(
    client: EntrezClient, writer: SnapshotWriter, gone: Sequence[str]
) -> tuple[set[str], dict[str, str]]:
    """Ask PubMed about PMIDs the query no longer returns, in batches: those it still serves
    (returned), and those it answers with another PMID (replaced: merged records; only when a
    batch holds PMIDs nobody asked for are its missing ones asked again one by one, to pair
    them). The rest PubMed no longer serves: deleted."""
    returned: set[str] = set()
    replaced: dict[str, str] = {}
    for batch in client.fetch_pmids(gone, progress=False, allow_missing=True):
        if batch.pmids:
            _check_parses(batch.payload, f"efetch of gone PMIDs, batch {batch.number}", batch.pmids)
            writer.add_gone(batch.payload)
        returned |= set(batch.pmids) & set(batch.requested)
        if set(batch.pmids) - set(batch.requested):
            for pmid in (p for p in batch.requested if p not in returned):
                for single in client.fetch_pmids([pmid], progress=False, allow_missing=True):
                    if single.pmids:
                        replaced[pmid] = single.pmids[0]
    return returned, replaced


def _unchanged(
    previous: str | Path,
    result: Any,
    incremental: dict[str, Any],
    pmids: Sequence[str],
    dois: Sequence[str],
) -> bool:
    """Nothing new, nothing modified, the same IDs and translation, the same other sources to
    resolve: the previous snapshot is this search."""
    earlier = load_snapshot(previous)
    manifest = earlier.manifest
    resolution = manifest.get("resolution") or {}
    return (
        incremental["fetched"] == 0
        and tuple(result.ids) == tuple(earlier.ids)
        and result.count == manifest.get("count")
        and result.query_translation == manifest.get("query_translation")
        and sorted({str(p) for p in pmids}, key=int) == resolution.get("pmids_requested", [])
        and list(dois) == resolution.get("dois_requested", [])
    )


def _record_sources(snapshot: Any) -> list[tuple[Path, str, frozenset[str]]]:
    """Where each of a snapshot's search records lies: (payload file, sha256, its PMIDs)."""
    from litreview.records import parse_pubmed_xml

    sources = []
    listed = {
        entry["file"]: frozenset(entry["pmids"])
        for entry in snapshot.manifest.get("efetch_batches") or []
        if "pmids" in entry
    }
    for path in snapshot.efetch_files:
        relative = path.relative_to(snapshot.path).as_posix()
        if relative in listed:  # the PMIDs the batch holds, read when it was fetched
            sources.append((path, snapshot.manifest["files"][relative], listed[relative]))
            continue
        data = path.read_bytes()
        pmids = frozenset(str(r["pmid"]) for r in parse_pubmed_xml(gzip.decompress(data)))
        sources.append((path, snapshot.manifest["files"][relative], pmids))
    sources.extend(snapshot.reused)
    return sources


def _resolve(
    client: EntrezClient,
    writer: SnapshotWriter,
    search_ids: Sequence[str],
    pmids: Sequence[str],
    dois: Sequence[str],
    progress: bool,
) -> dict[str, Any]:
    """Fetch other sources' records by PMID, and by DOI through esearches of up to
    DOI_BATCH DOIs each ("<doi>"[doi] OR "<doi>"[doi] ...: one request per 100, not per DOI)."""
    doi_searches: list[dict[str, Any]] = []
    unique_dois = list(dict.fromkeys(dois))
    for first in range(0, len(unique_dois), DOI_BATCH):
        batch = unique_dois[first : first + DOI_BATCH]
        page = client.esearch(" OR ".join(f'"{doi}"[doi]' for doi in batch))
        if page.count > len(page.ids):
            raise SnapshotError(
                f"PubMed counted {page.count} records for {len(batch)} DOIs of other sources "
                f"but returned {len(page.ids)}: no snapshot was written (rerun later)"
            )
        doi_searches.append({"dois": batch, "pmids": list(page.ids)})
    wanted = {str(pmid) for pmid in pmids} | {
        pmid for search in doi_searches for pmid in search["pmids"]
    }
    missing = sorted(wanted - set(search_ids), key=int)
    fetched: list[str] = []
    if missing:
        for batch in client.fetch_pmids(missing, progress=progress):
            _check_parses(
                batch.payload,
                f"efetch of other sources' records, batch {batch.number}",
                batch.pmids,
            )
            writer.add_resolved(batch.payload)
            fetched.extend(batch.pmids)
    return {
        "pmids_requested": sorted({str(pmid) for pmid in pmids}, key=int),
        "dois_requested": list(dois),
        "doi_searches": doi_searches,
        "pmids_fetched": fetched,
    }
