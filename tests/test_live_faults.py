"""Live runs under faults end as a fault-free run does, or stop cleanly leaving nothing behind.

Each scenario runs ``run_search`` against the local E-utilities server with one fault
scheduled, then parses the snapshot as the records stage does. The records must be those of a
fault-free run (byte for byte, as records.tsv), or the run must stop with a clear error and
leave neither a snapshot folder nor a temporary folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from litreview import io
from litreview.entrez import API_KEY_ENV, EntrezSettings
from litreview.errors import EntrezError, IncompleteResultError, SnapshotError
from litreview.search import run_search
from litreview.snapshot import load_snapshot
from litreview.stages import search_records
from litreview.testing.eutils import FAULT_KINDS, synthetic_store

QUERY = "the subset"
RECORDS = 50
BATCH = 20


@pytest.fixture(autouse=True)
def no_api_key(monkeypatch):
    monkeypatch.delenv(API_KEY_ENV, raising=False)


def _store():
    """50 synthetic records; the query returns the 45 oldest, so drift has a newcomer."""
    store = synthetic_store(RECORDS)
    pmids = sorted(store.records)
    store.queries = {QUERY: sorted(pmids[:45], reverse=True)}
    return store


def _search(server, root: Path, **overrides) -> Path:
    settings = EntrezSettings(
        email="tester@example.org",
        base_url=server.base_url,
        requests_per_second=1000.0,
        timeout=2.0,
        max_tries=3,
        backoff_base=0.0,
        batch_size=BATCH,
        **overrides,
    )
    return run_search(settings, QUERY, snapshots_root=root, progress=False)


def _records_tsv(folder: Path, out: Path) -> bytes:
    io.write_table(out, search_records(load_snapshot(folder)))
    return out.read_bytes()


@pytest.fixture
def fault_free(tmp_path, eutils_server) -> bytes:
    folder = _search(eutils_server(_store()), tmp_path / "clean")
    return _records_tsv(folder, tmp_path / "clean.tsv")


def _left_behind(root: Path) -> list[str]:
    parent = root / "pubmed"
    return sorted(child.name for child in parent.iterdir()) if parent.exists() else []


@pytest.mark.parametrize("kind", [k for k in FAULT_KINDS if k != "hang"] + ["short"])
def test_a_transient_fault_mid_efetch_gives_the_fault_free_records(
    tmp_path, eutils_server, fault_free, kind
):
    server = eutils_server(_store(), faults=[f"efetch@2:{kind}"])
    folder = _search(server, tmp_path / "faulty")
    assert _records_tsv(folder, tmp_path / "faulty.tsv") == fault_free
    assert server.counts()["efetch"] == 4  # three batches, one of them twice


@pytest.mark.parametrize("kind", ["expire", "drift"])
def test_a_lost_or_changed_history_falls_back_to_the_esearch_pmids(
    tmp_path, eutils_server, fault_free, kind
):
    server = eutils_server(_store(), faults=[f"efetch@2:{kind}"])
    folder = _search(server, tmp_path / "faulty")
    assert _records_tsv(folder, tmp_path / "faulty.tsv") == fault_free
    fallbacks = load_snapshot(folder).manifest["history_fallbacks"]
    assert [entry["batch"] for entry in fallbacks] == [2]
    assert fallbacks[0]["fetched_by_id"] == 25  # batches 2 and 3, by PMID
    if kind == "drift":  # the displaced record is named; the newcomer waits for the next run
        assert fallbacks[0]["unexpected_pmids"] == ["30000026"]
        assert str(max(_store().records)) not in load_snapshot(folder).ids
    posted = [r for r in server.requests if r.endpoint == "efetch" and "id" in r.params]
    assert len(posted) == 2


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("entity", "internal DTD subset"),
        ("undeclared", "NotInTheDTD"),
    ],
)
def test_an_unreadable_payload_stops_the_run_before_any_snapshot(
    tmp_path, eutils_server, kind, message
):
    server = eutils_server(_store(), faults=[f"efetch@2:{kind}"])
    with pytest.raises((EntrezError, SnapshotError), match=message):
        _search(server, tmp_path / "faulty")
    assert _left_behind(tmp_path / "faulty") == []
    assert server.counts()["efetch"] == 2  # permanent: not retried as if truncated


def test_a_record_pubmed_never_serves_stops_the_run_naming_it(tmp_path, eutils_server):
    store = _store()
    serve = store.raw
    gone = sorted(store.queries[QUERY])[3]
    store.raw = lambda pmid: None if pmid == gone else serve(pmid)
    server = eutils_server(store)
    with pytest.raises(IncompleteResultError, match=f"Missing PMIDs: {gone}"):
        _search(server, tmp_path / "faulty")
    assert _left_behind(tmp_path / "faulty") == []


def test_a_search_whose_pages_drift_is_made_again_and_gives_the_records_of_that_moment(
    tmp_path, eutils_server
):
    store = _store()
    server = eutils_server(store, faults=["esearch@1:drift"])
    folder = _search(server, tmp_path / "faulty", esearch_page_size=10)
    repeats = load_snapshot(folder).manifest["search_repeats"]
    assert len(repeats) == 1 and "PMIDs given twice" in repeats[0]["problem"]
    # a search never disturbed, of the result as it stands after the record was added
    settled = _store()
    settled.queries = {QUERY: [max(settled.records), *store.queries[QUERY]]}
    clean = _search(eutils_server(settled), tmp_path / "clean", esearch_page_size=10)
    assert len(load_snapshot(folder).ids) == 46
    assert _records_tsv(folder, tmp_path / "a.tsv") == _records_tsv(clean, tmp_path / "b.tsv")


def test_a_search_that_drifts_twice_stops_naming_the_repeated_pmids(tmp_path, eutils_server):
    server = eutils_server(_store(), faults=["esearch@1:drift", "esearch@6:drift"])
    with pytest.raises(IncompleteResultError, match=r"PMIDs given twice: \d+.*second search"):
        _search(server, tmp_path / "faulty", esearch_page_size=10)
    assert _left_behind(tmp_path / "faulty") == []
