"""Fetch benchmark: requests and seconds for a whole search against a rate-limited server.

    python bench/fetch.py                    # 1k, 10k, 30k records at NCBI's 3 requests/s
    python bench/fetch.py --with-key         # the same, then again with an API key (10/s)
    python bench/fetch.py --sizes 1000 --batch-size 200

Each run starts the local E-utilities server (litreview.testing.eutils) on a synthetic store of
N records with NCBI's rate limit ON (3/s, 10/s for requests carrying api_key, HTTP 429 past it),
then times run_search() for a query matching every record: esearch (split into date windows
past 9,999 hits), efetch in batches, snapshot written to a temporary folder.

"floor" is the fewest requests such a search can take: ceil(N / 9,999) esearch pages plus
ceil(N / batch) efetch batches. "429" counts refusals from the server: the client's own limiter
should keep it at 0. The key used in --with-key is a dummy: only its presence matters here.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from dataclasses import dataclass

from litreview.entrez import API_KEY_ENV, ESEARCH_MAX_RETRIEVABLE, EntrezSettings
from litreview.search import run_search
from litreview.snapshot import load_snapshot
from litreview.testing.eutils import EutilsServer


@dataclass(frozen=True)
class Row:
    records: int
    limit: str
    esearch: int
    efetch: int
    floor: int
    refused: int
    seconds: float


def floor_requests(records: int, batch_size: int) -> int:
    """ceil(N / 9,999) esearch pages + ceil(N / batch) efetch batches."""
    esearch = max(1, math.ceil(records / ESEARCH_MAX_RETRIEVABLE))
    return esearch + math.ceil(records / batch_size)


def run_one(records: int, batch_size: int, *, with_key: bool) -> Row:
    previous = os.environ.pop(API_KEY_ENV, None)
    if with_key:
        os.environ[API_KEY_ENV] = "bench-dummy-key"
    try:
        with (
            EutilsServer(synthetic=records, rate_limit=True) as server,
            tempfile.TemporaryDirectory(prefix="litreview-bench-") as root,
        ):
            settings = EntrezSettings(
                email="bench@example.org", base_url=server.base_url, batch_size=batch_size
            )
            started = time.perf_counter()
            folder = run_search(settings, "synthetic", snapshots_root=root, progress=False)
            seconds = time.perf_counter() - started
            snapshot = load_snapshot(folder)
            if len(snapshot.ids) != records:
                raise SystemExit(f"bench: expected {records} PMIDs, got {len(snapshot.ids)}")
            counts = server.counts()
            refused = server.status_counts().get(429, 0)
    finally:
        os.environ.pop(API_KEY_ENV, None)
        if previous is not None:
            os.environ[API_KEY_ENV] = previous
    return Row(
        records=records,
        limit="10/s (key)" if with_key else "3/s (no key)",
        esearch=counts.get("esearch", 0),
        efetch=counts.get("efetch", 0),
        floor=floor_requests(records, batch_size),
        refused=refused,
        seconds=seconds,
    )


def print_table(rows: list[Row]) -> None:
    header = (
        f"{'records':>8}  {'rate limit':<13}{'esearch':>8}{'efetch':>8}{'total':>7}"
        f"{'floor':>7}{'429':>5}{'seconds':>9}{'req/s':>7}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        total = row.esearch + row.efetch
        print(
            f"{row.records:>8}  {row.limit:<13}{row.esearch:>8}{row.efetch:>8}{total:>7}"
            f"{row.floor:>7}{row.refused:>5}{row.seconds:>9.1f}{total / row.seconds:>7.2f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 30_000])
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--with-key", action="store_true", help="also run at 10/s (API key)")
    args = parser.parse_args(argv)
    modes = [False, True] if args.with_key else [False]
    rows = []
    for with_key in modes:
        for size in args.sizes:
            rows.append(run_one(size, args.batch_size, with_key=with_key))
            print(f"done: {size} records, {rows[-1].limit}", file=sys.stderr, flush=True)
    print_table(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
