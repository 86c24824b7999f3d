"""Monthly rerun benchmark: requests and seconds of a first full search, a rerun with 50 new
records, and a rerun with no change, against the local E-utilities server with NCBI's rate
limit on (3 requests/s, no API key), on synthetic stores.

    python bench/monthly.py                  # 5k and 30k records
    python bench/monthly.py --sizes 5000

A rerun is incremental (litreview.search.run_search(previous=...)): the esearch pages, one
datetype=mdat esearch, and efetch of the new PMIDs only; the snapshot references the rest.
With no change at all, no snapshot is written ("written" 0).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from litreview.entrez import EntrezSettings
from litreview.search import run_search
from litreview.snapshot import load_snapshot
from litreview.testing.eutils import EutilsServer


def one(
    size: int, root: Path, previous: Path | None, when: datetime
) -> tuple[Path, dict, float, int]:
    with EutilsServer(synthetic=size, rate_limit=True) as server:
        settings = EntrezSettings(email="bench@lab.example", base_url=server.base_url)
        started = time.perf_counter()
        folder = run_search(
            settings, "synthetic", snapshots_root=root, progress=False, previous=previous,
            started_at=when,
        )  # fmt: skip
        seconds = time.perf_counter() - started
        counts = server.counts()
    written = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    return folder, counts, seconds, written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 30_000])
    args = parser.parse_args()
    print(f"{'records':>8}  {'run':<22}{'esearch':>8}{'efetch':>8}{'seconds':>9}{'written':>11}")
    for size in args.sizes:
        with tempfile.TemporaryDirectory(prefix="litreview-monthly-") as name:
            root = Path(name)
            runs = [
                ("first (full)", size, None, datetime(2026, 10, 1, tzinfo=UTC)),
                ("+50 new records", size + 50, "previous", datetime(2026, 11, 1, tzinfo=UTC)),
                ("no change", size + 50, "previous", datetime(2026, 12, 1, tzinfo=UTC)),
            ]
            previous = None
            for label, count, use_previous, when in runs:
                folder, counts, seconds, written = one(
                    count, root, previous if use_previous else None, when
                )
                assert len(load_snapshot(folder).ids) == count
                if folder == previous:  # no change: no snapshot written
                    written = 0
                print(
                    f"{count:>8}  {label:<22}{counts.get('esearch', 0):>8}{counts.get('efetch', 0):>8}"
                    f"{seconds:>9.1f}{written / 1e6:>9.2f} MB"
                )
                previous = folder


if __name__ == "__main__":
    main()
