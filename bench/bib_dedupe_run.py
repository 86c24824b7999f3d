"""Run bib-dedupe (CoLRev's deduplicator) on one CSV, for bench/dedup.py to score beside ours.

Runs under an interpreter that has bib-dedupe installed (it is not a dependency of litreview):
    python -m venv /tmp/bdvenv && /tmp/bdvenv/bin/pip install bib-dedupe
    python bench/dedup.py --bib-dedupe /tmp/bdvenv/bin/python
Prints one JSON line: {"clusters": {record id: cluster id}, "seconds": ..., "peak_mb": ...}.
"""

from __future__ import annotations

import json
import resource
import sys
import time

import pandas as pd
from bib_dedupe.bib_dedupe import block, cluster, match, prep


def main(path: str, encoding: str) -> None:
    records = pd.read_csv(path, dtype=str, encoding=encoding)
    records = records.rename(columns={"record_id": "ID"})
    records["ID"] = records["ID"].astype(str)
    if "ENTRYTYPE" not in records:
        records["ENTRYTYPE"] = "article"
    records["ENTRYTYPE"] = records["ENTRYTYPE"].fillna("article")
    started = time.perf_counter()
    prepared = prep(records, verbosity_level=0, cpu=1)
    matched = match(block(prepared, verbosity_level=0, cpu=1), verbosity_level=0, cpu=1)
    groups = cluster(matched, verbosity_level=0)
    seconds = time.perf_counter() - started
    clusters = {record_id: record_id for record_id in records["ID"]}
    for group in groups:
        head = min(group)
        for record_id in group:
            clusters[str(record_id)] = str(head)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"clusters": clusters, "seconds": seconds, "peak_mb": peak}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "utf-8")
