"""The search stage's network half: query PubMed, fetch every record, freeze it as a snapshot.

Everything after this stage reads the snapshot, never the network, so a review can be rerun
byte for byte from what was received on the day of the search.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from litreview.entrez import EntrezClient, EntrezSettings
from litreview.snapshot import DATABASE, SnapshotWriter

__all__ = ["run_search"]

logger = logging.getLogger(__name__)


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
) -> Path:
    """esearch -> every PMID -> efetch -> ``<snapshots_root>/pubmed/<timestamp>/``; its path.

    ``origin`` is free text recorded in the manifest (default: "NCBI PubMed E-utilities at
    <base_url>"). ``client`` lets tests inject one with a fake clock/sleep; ``started_at``
    fixes the snapshot's timestamp. Nothing is left on disk if any step fails.

    ``resolve_pmids`` and ``resolve_dois`` name records found by other methods: those the
    search did not return are fetched into the same snapshot (``resolved/``, apart from the
    search's records), so an offline run resolves them exactly as this run did.
    """
    client = client or EntrezClient(settings)
    origin = origin or f"NCBI PubMed E-utilities at {settings.normalized_base_url}"
    with SnapshotWriter(snapshots_root, started_at=started_at) as writer:
        result = client.search(query, mindate=mindate, maxdate=maxdate, datetype=datetype)
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
        for batch in client.fetch(result, progress=progress):
            efetch_batches.append(
                {
                    "file": writer.add_efetch(batch.payload),
                    "params": batch.params,
                    "records": len(batch.pmids),
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
            "requests_sent": client.requests_sent,
            "esearch_requests": esearch_requests,
            "efetch_batches": efetch_batches,
            "resolution": resolution,
        }
        folder = writer.commit(fields, result.ids)
    logger.info("search snapshot written: %s (%d records)", folder, result.count)
    return folder


def _resolve(
    client: EntrezClient,
    writer: SnapshotWriter,
    search_ids: Sequence[str],
    pmids: Sequence[str],
    dois: Sequence[str],
    progress: bool,
) -> dict[str, Any]:
    """Fetch other sources' records by PMID, and by DOI through esearch "<doi>"[doi]."""
    found_by_doi: dict[str, list[str]] = {}
    for doi in dois:
        page = client.esearch(f'"{doi}"[doi]')
        found_by_doi[doi] = list(page.ids)
    wanted = {str(pmid) for pmid in pmids} | {
        pmid for found in found_by_doi.values() for pmid in found
    }
    missing = sorted(wanted - set(search_ids), key=int)
    fetched: list[str] = []
    if missing:
        for batch in client.fetch_pmids(missing, progress=progress):
            writer.add_resolved(batch.payload)
            fetched.extend(batch.pmids)
    return {
        "pmids_requested": sorted({str(pmid) for pmid in pmids}, key=int),
        "dois_requested": list(dois),
        "pmids_by_doi": found_by_doi,
        "pmids_fetched": fetched,
    }
