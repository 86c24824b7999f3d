"""Four reviews searching at once against NCBI's 3 requests/s: with the shared budget (one lock
file for every search on the machine) and without it (each process limits only itself).

    python bench/budget.py                  # 4 reviews, 1,000 records each, batches of 100
    python bench/budget.py --reviews 8 --batch-size 200

Each review is its own process (as the reviews of `litreview run-many` are) searching the
rate-limited local E-utilities server (HTTP 429 past 3 requests in any second). Prints the
requests, 429 refusals, seconds, and the floor: the requests at exactly 3 a second.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import tempfile
import time
from pathlib import Path

from litreview.entrez import BUDGET_ENV, EntrezSettings
from litreview.search import run_search
from litreview.testing.eutils import _TOPICS, EutilsServer


def _search(base_url: str, topic: str, root: str, budget: str, batch_size: int) -> None:
    os.environ[BUDGET_ENV] = budget
    settings = EntrezSettings(email="bench@example.org", base_url=base_url, batch_size=batch_size)
    run_search(settings, topic, snapshots_root=root, progress=False)


def run(reviews: int, batch_size: int, shared: bool) -> tuple[int, int, float]:
    with (
        tempfile.TemporaryDirectory() as folder,
        EutilsServer(synthetic=1000 * len(_TOPICS), rate_limit=True) as server,
    ):
        budget = str(Path(folder) / "budget") if shared else "off"
        context = multiprocessing.get_context("spawn")
        started = time.perf_counter()
        with context.Pool(reviews) as pool:
            jobs = [
                pool.apply_async(
                    _search,
                    (
                        server.base_url,
                        _TOPICS[n % len(_TOPICS)],
                        f"{folder}/{n}",
                        budget,
                        batch_size,
                    ),
                )
                for n in range(reviews)
            ]
            for job in jobs:
                job.get()
        seconds = time.perf_counter() - started
        statuses = server.status_counts()
    return sum(statuses.values()), statuses.get(429, 0), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reviews", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=100)
    args = parser.parse_args()
    print(f"{'budget':<26}{'requests':>9}{'429':>6}{'seconds':>9}{'floor s':>9}")
    for shared in (True, False):
        requests, refused, seconds = run(args.reviews, args.batch_size, shared)
        served = requests - refused
        label = "shared (lock file)" if shared else "per process (off)"
        print(f"{label:<26}{requests:>9}{refused:>6}{seconds:>9.1f}{served / 3:>9.1f}")


if __name__ == "__main__":
    main()
