"""Fetch benchmark: requests beside the floor, and seconds, for a whole search and its monthly
reruns against a rate-limited server.

    python bench/fetch.py                    # 1k, 10k, 30k, 100k records at NCBI's 3 requests/s
    python bench/fetch.py --with-key         # the same, then again with an API key (10/s)
    python bench/fetch.py --sizes 1000 --batch-size 200

Each size starts the local E-utilities server (litreview.testing.eutils) on a synthetic store of
N records with NCBI's rate limit ON (3/s, 10/s for requests carrying api_key, HTTP 429 past it)
and times run_search() for a query matching every record ("first"): esearch (date windows past
9,999 hits), efetch in batches, snapshot written to a temporary folder. Then two monthly reruns
from that snapshot: "no change" (the same store) and "+50" (a store holding 50 newer records).

"floor" is the fewest requests each can take: esearch pages, ceil(N / 9,999) (one per date
window when split, else the result's pages), plus ceil(N / batch) efetch batches for a first
search; for a rerun the esearch pages, the modification-date check (one esearch) and
ceil(new / batch) efetch. "429" counts refusals from the server: the client's own limiter
should keep it at 0. The key used in --with-key is a dummy: only its presence matters here.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from dataclasses import dataclass, replace

from litreview.entrez import API_KEY_ENV, ESEARCH_MAX_RETRIEVABLE, EntrezSettings
from litreview.search import run_search
from litreview.snapshot import load_snapshot
from litreview.testing.eutils import EutilsServer, RecordStore, synthetic_store


@dataclass(frozen=True)
class Row:
    records: int
    run: str
    limit: str
    esearch: int
    efetch: int
    floor: int
    refused: int
    seconds: float


def esearch_pages(records: int) -> int:
    return max(1, math.ceil(records / ESEARCH_MAX_RETRIEVABLE))


def floor_requests(records: int, batch_size: int) -> int:
    """ceil(N / 9,999) esearch pages + ceil(N / batch) efetch batches."""
    return esearch_pages(records) + math.ceil(records / batch_size)


def rerun_floor(records: int, new: int, batch_size: int) -> int:
    """The esearch pages, one modification-date esearch, ceil(new / batch) efetch batches."""
    return esearch_pages(records) + 1 + math.ceil(new / batch_size)


def _stores(records: int) -> tuple[RecordStore, RecordStore]:
    """The store of N records, and the same a month later with 50 newer records."""
    later = synthetic_store(records + 50)
    newest = sorted(later.records)[-50:]
    now = RecordStore(
        [record for pmid, record in later.records.items() if pmid not in set(newest)],
        render=later.raw,
        description=f"synthetic store of {records}",
    )
    return now, later


def _search(store: RecordStore, settings: EntrezSettings, root: str, previous=None):
    with EutilsServer(store, rate_limit=True) as server:
        started = time.perf_counter()
        folder = run_search(
            replace(settings, base_url=server.base_url),
            "synthetic",
            snapshots_root=root,
            progress=False,
            previous=previous,
        )
        seconds = time.perf_counter() - started
        counts = server.counts()
        refused = server.status_counts().get(429, 0)
    return folder, counts, refused, seconds


def run_one(records: int, batch_size: int, *, with_key: bool) -> list[Row]:
    previous_key = os.environ.pop(API_KEY_ENV, None)
    if with_key:
        os.environ[API_KEY_ENV] = "bench-dummy-key"
    limit = "10/s (key)" if with_key else "3/s (no key)"
    rows = []
    try:
        now, later = _stores(records)
        settings = EntrezSettings(email="bench@example.org", batch_size=batch_size)
        with tempfile.TemporaryDirectory(prefix="litreview-bench-") as root:
            runs = [
                ("first", now, None, floor_requests(records, batch_size), records),
                ("no change", now, True, rerun_floor(records, 0, batch_size), records),
                ("+50", later, True, rerun_floor(records + 50, 50, batch_size), records + 50),
            ]
            first = None
            for name, store, rerun, floor, expected in runs:
                folder, counts, refused, seconds = _search(
                    store, settings, root, previous=first if rerun else None
                )
                if len(load_snapshot(folder).ids) != expected:
                    raise SystemExit(f"bench: {name}: expected {expected} PMIDs")
                first = first or folder
                rows.append(
                    Row(
                        records=records,
                        run=name,
                        limit=limit,
                        esearch=counts.get("esearch", 0),
                        efetch=counts.get("efetch", 0),
                        floor=floor,
                        refused=refused,
                        seconds=seconds,
                    )
                )
    finally:
        os.environ.pop(API_KEY_ENV, None)
        if previous_key is not None:
            os.environ[API_KEY_ENV] = previous_key
    return rows


def print_table(rows: list[Row]) -> None:
    header = (
        f"{'records':>8}  {'run':<10}{'rate limit':<13}{'esearch':>8}{'efetch':>8}{'total':>7}"
        f"{'floor':>7}{'ratio':>7}{'429':>5}{'seconds':>9}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        total = row.esearch + row.efetch
        print(
            f"{row.records:>8}  {row.run:<10}{row.limit:<13}{row.esearch:>8}{row.efetch:>8}"
            f"{total:>7}{row.floor:>7}{total / row.floor:>7.2f}{row.refused:>5}{row.seconds:>9.1f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 30_000, 100_000])
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--with-key", action="store_true", help="also run at 10/s (API key)")
    args = parser.parse_args(argv)
    modes = [False, True] if args.with_key else [False]
    rows = []
    for with_key in modes:
        for size in args.sizes:
            rows += run_one(size, args.batch_size, with_key=with_key)
            print(f"done: {size} records, {rows[-1].limit}", file=sys.stderr, flush=True)
    print_table(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
