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
    assert resolution["doi_searches"] == [
        {"dois": ["10.3389/fphys.2018.01034"], "pmids": ["30108519"]}
    ]
    assert resolution["pmids_fetched"] == ["12091962", "30108519"]
    searched = [
        record["pmid"] for payload in snapshot.payloads() for record in parse_pubmed_xml(payload)
    ]
    assert searched == ["27797938"]


def test_other_sources_dois_are_looked_up_a_hundred_per_request(tmp_path: Path) -> None:
    """250 DOIs: three ORed esearches, not 250; every DOI's record is in the snapshot."""
    from litreview.testing.eutils import SYNTHETIC_FIRST_PMID, EutilsServer

    pmids = [SYNTHETIC_FIRST_PMID + n for n in range(0, 500, 2)]
    dois = [f"10.5555/synthetic.{pmid}" for pmid in pmids]
    with EutilsServer(synthetic=600) as server:
        settings = EntrezSettings(
            email="tester@example.org", base_url=server.base_url, requests_per_second=1000.0
        )
        folder = run_search(
            settings,
            "asthma",
            snapshots_root=tmp_path / "snapshots",
            progress=False,
            resolve_dois=dois,
        )
        assert server.counts()["esearch"] == 1 + 3
    snapshot = load_snapshot(folder)
    resolution = snapshot.manifest["resolution"]
    assert [len(search["dois"]) for search in resolution["doi_searches"]] == [100, 100, 50]
    found = {pmid for search in resolution["doi_searches"] for pmid in search["pmids"]}
    assert found == {str(pmid) for pmid in pmids}
    resolved = {
        record["pmid"]
        for payload in snapshot.resolved_payloads()
        for record in parse_pubmed_xml(payload)
    }
    assert resolved == found - set(snapshot.ids)
