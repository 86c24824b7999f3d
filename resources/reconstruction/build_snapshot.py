"""Build the embedded PubMed snapshot of this review from the public reconstruction.

NCBI is unreachable from our machines, so the committed snapshot is reconstructed: the rows of
resources/reconstruction/*.csv with a confirmed PMID are rendered as PubMed XML (only the
fields the rows give), served by the local E-utilities server, and searched and fetched through
the live code path (litreview.search.run_search), exactly as a live run would. The manifest's
`origin` says plainly that it is reconstructed.

    python resources/reconstruction/build_snapshot.py

writes resources/snapshots/pubmed/<UTC timestamp>/ (a new folder each run: snapshots are
never overwritten). Replace it with a real one by one `--config search.mode=live` run.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

from reconstruct import ORIGIN, pubmed_records  # noqa: E402

from litreview.entrez import EntrezSettings  # noqa: E402
from litreview.search import run_search  # noqa: E402
from litreview.testing.eutils import EutilsServer  # noqa: E402
from litreview.testing.pubmed_xml import render_article_set  # noqa: E402


def main() -> int:
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text(encoding="utf-8"))
    search = config["search"]
    records = pubmed_records()
    with tempfile.TemporaryDirectory() as store:
        store_path = Path(store)
        (store_path / "reconstructed.xml").write_bytes(render_article_set(records))
        # The reconstruction lists what a search for the review's concepts finds (included
        # studies and excluded candidates): the configured query answers with all of them.
        queries = {search["query"]: [str(record["pmid"]) for record in records]}
        (store_path / "queries.json").write_text(json.dumps(queries, indent=1), encoding="utf-8")
        with EutilsServer(store_path) as server:
            settings = EntrezSettings.from_config(config["entrez"], base_url=server.base_url)
            folder = run_search(
                settings,
                search["query"],
                mindate=search["mindate"],
                maxdate=search["maxdate"],
                datetype=search["datetype"],
                snapshots_root=ROOT / search["snapshots_dir"],
                origin=ORIGIN,
                progress=False,
            )
    print(f"wrote {folder.relative_to(ROOT)} ({len(records)} records)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
