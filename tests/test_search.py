"""run_search with other-source identifiers resolved into the same snapshot."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from litreview.entrez import EntrezSettings
from litreview.records import parse_pubmed_xml
from litreview.search import run_search
from litreview.snapshot import load_snapshot

STORE = Path(__file__).parent / "data" / "eutils" / "store"


def test_other_source_pmids_and_dois_are_fetched_apart_from_the_search(
    tmp_path: Path, eutils_server
) -> None:
    store = tmp_path / "store"
    shutil.copytree(STORE, store)
    queries = {
        "telomere": ["27797938"],
        '"10.3389/fphys.2018.01034"[doi]': ["30108519"],
    }
    (store / "queries.json").write_text(json.dumps(queries), encoding="utf-8")
    server = eutils_server(store)
    settings = EntrezSettings(
        email="tester@example.org", base_url=server.base_url, requests_per_second=1000.0
    )
    folder = run_search(
        settings,
        "telomere",
        snapshots_root=tmp_path / "snapshots",
        progress=False,
        resolve_pmids=["27797938", "12091962"],  # the first is already a search result
        resolve_dois=["10.3389/fphys.2018.01034"],
    )
    snapshot = load_snapshot(folder)
    assert snapshot.ids == ("27797938",)
    resolved = [
        record["pmid"]
        for payload in snapshot.resolved_payloads()
        for record in parse_pubmed_xml(payload)
    ]
    assert sorted(resolved) == ["12091962", "30108519"]
    resolution = snapshot.manifest["resolution"]
    assert resolution["pmids_by_doi"] == {"10.3389/fphys.2018.01034": ["30108519"]}
    assert resolution["pmids_fetched"] == ["12091962", "30108519"]
    searched = [
        record["pmid"] for payload in snapshot.payloads() for record in parse_pubmed_xml(payload)
    ]
    assert searched == ["27797938"]
