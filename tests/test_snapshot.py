"""Snapshots: what run_search writes, how it survives faults and crashes, and how it is read."""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from litreview.entrez import API_KEY_ENV, EntrezClient, EntrezSettings, parse_efetch
from litreview.errors import EntrezError, SnapshotError
from litreview.search import run_search
from litreview.snapshot import (
    SnapshotWriter,
    available_snapshots,
    load_snapshot,
    resolve_snapshot,
)

STORE = Path(__file__).parent / "data" / "eutils" / "store"
KEY = "KEY-9f3a77-litreview-must-not-leak"


@pytest.fixture(autouse=True)
def no_api_key(monkeypatch):
    monkeypatch.delenv(API_KEY_ENV, raising=False)


def fast_settings(server, **overrides) -> EntrezSettings:
    values = {
        "email": "tester@example.org",
        "base_url": server.base_url,
        "requests_per_second": 1000.0,
        "timeout": 2.0,
        "max_tries": 5,
    }
    values.update(overrides)
    return EntrezSettings(**values)


def quiet_client(settings: EntrezSettings) -> EntrezClient:
    """A client whose backoff sleeps are recorded, not slept."""
    return EntrezClient(settings, sleep=lambda seconds: None)


def efetch_bytes(folder: Path) -> list[bytes]:
    return [path.read_bytes() for path in sorted((folder / "efetch").glob("*.xml.gz"))]


def make_snapshot(root: Path, when: datetime, payloads: list[bytes]) -> Path:
    with SnapshotWriter(root, started_at=when) as writer:
        for payload in payloads:
            writer.add_efetch(payload)
        return writer.commit({"query": "q"}, ["1", "2"])


# -- what a live search writes -------------------------------------------------------------------


def test_run_search_writes_a_complete_verified_snapshot(eutils_server, tmp_path):
    server = eutils_server(STORE)
    settings = fast_settings(server, batch_size=2)
    folder = run_search(
        settings,
        "magnetic OR cryopreservation OR lactate",
        snapshots_root=tmp_path,
        origin="local test server",
        progress=False,
    )
    assert folder.parent == tmp_path / "pubmed" and re.fullmatch(r"\d{8}T\d{6}Z", folder.name)
    assert sorted(p.name for p in (tmp_path / "pubmed").iterdir()) == [folder.name]  # no temp
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["query"] == "magnetic OR cryopreservation OR lactate"
    assert manifest["query_translation"].startswith('"magnetic"[All Fields] OR')
    assert manifest["count"] == manifest["id_count"] == 4
    assert manifest["date_window"] == {"datetype": "pdat", "mindate": None, "maxdate": None}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", manifest["retrieved_at"])
    assert manifest["origin"] == "local test server"
    assert set(manifest["software"]) == {"python", "litreview", "biopython"}
    assert manifest["parameters"]["base_url"] == server.base_url
    assert manifest["parameters"]["api_key_used"] is False
    assert manifest["parameters"]["fetch_mode"] == "history"
    assert manifest["efetch"] == ["efetch/batch-0001.xml.gz", "efetch/batch-0002.xml.gz"]
    assert manifest["esearch"] == ["esearch/esearch-0001.xml.gz"]
    on_disk = {
        path.relative_to(folder).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and path.name != "manifest.json"
    }
    assert set(manifest["files"]) == on_disk
    for relative, digest in manifest["files"].items():
        assert hashlib.sha256((folder / relative).read_bytes()).hexdigest() == digest
    ids = (folder / "ids.txt").read_text().splitlines()
    assert ids == ["30108519", "29963580", "11748933", "9997"]  # the order NCBI gave
    for data in efetch_bytes(folder):
        assert data[4:8] == b"\0\0\0\0"  # gzip mtime 0: deterministic files
    snapshot = load_snapshot(folder)
    assert snapshot.ids == tuple(ids) and snapshot.manifest == manifest
    payloads = list(snapshot.payloads())
    assert [parse_efetch(payload) for payload in payloads] == [ids[:2], ids[2:]]
    assert server.store.raw(9997) in payloads[1]  # records kept exactly as received
    assert b"<eSearchResult>" in next(snapshot.esearch_payloads())


def test_identical_runs_give_identical_files(eutils_server, tmp_path):
    server = eutils_server(STORE)
    settings = fast_settings(server, batch_size=3)
    first = run_search(settings, "english[la]", snapshots_root=tmp_path / "a", progress=False)
    second = run_search(settings, "english[la]", snapshots_root=tmp_path / "b", progress=False)
    assert efetch_bytes(first) == efetch_bytes(second) and len(efetch_bytes(first)) == 3
    assert (first / "ids.txt").read_bytes() == (second / "ids.txt").read_bytes()


def test_25000_hits_are_split_by_date_retrieved_exactly_and_fetched(eutils_server, tmp_path):
    server = eutils_server(synthetic=25_000)
    folder = run_search(fast_settings(server), "synthetic", snapshots_root=tmp_path, progress=False)
    snapshot = load_snapshot(folder)
    expected = {str(pmid) for pmid in server.store.records}
    assert len(snapshot.ids) == 25_000 and set(snapshot.ids) == expected
    manifest = snapshot.manifest
    assert manifest["count"] == 25_000 and manifest["parameters"]["fetch_mode"] == "id-list"
    assert sum(window["count"] for window in manifest["split_windows"]) == 25_000
    assert all(window["count"] <= 9999 for window in manifest["split_windows"])
    fetched = [pmid for payload in snapshot.payloads() for pmid in parse_efetch(payload)]
    assert len(fetched) == 25_000 and set(fetched) == expected
    counts = server.counts()
    assert counts["efetch"] == 50 and counts["esearch"] == len(manifest["esearch"])


def test_faults_change_nothing_in_what_is_kept(eutils_server, tmp_path):
    query = "asthma OR sepsis OR dementia"
    clean_server = eutils_server(synthetic=400)
    clean = run_search(
        fast_settings(clean_server, batch_size=25),
        query,
        snapshots_root=tmp_path / "clean",
        progress=False,
    )
    faults = [
        "1:429",
        "2:503",
        "efetch@1:500",
        "efetch@2:502",
        "efetch@3:truncate",
        "efetch@4:error",
        "efetch@5:reset",
        "efetch@6:hang",
        "efetch@8:429",
    ]
    faulty_server = eutils_server(synthetic=400, faults=faults, hang_seconds=2.0)
    settings = fast_settings(faulty_server, batch_size=25, timeout=0.5, max_tries=10)
    faulty = run_search(
        settings,
        query,
        snapshots_root=tmp_path / "faulty",
        progress=False,
        client=quiet_client(settings),
    )
    assert (clean / "ids.txt").read_bytes() == (faulty / "ids.txt").read_bytes()
    assert efetch_bytes(clean) == efetch_bytes(faulty) and len(efetch_bytes(clean)) == 6
    assert {record.fault for record in faulty_server.requests} >= {
        "429",
        "503",
        "500",
        "502",
        "truncate",
        "error",
        "reset",
        "hang",
    }
    manifest = json.loads((faulty / "manifest.json").read_text())
    assert manifest["requests_sent"] == len(faulty_server.requests) == 7 + len(faults)


def test_random_faults_change_nothing_either(eutils_server, tmp_path):
    from litreview.testing.eutils import FaultPlan

    clean_server = eutils_server(synthetic=300)
    clean = run_search(
        fast_settings(clean_server, batch_size=20),
        "synthetic",
        snapshots_root=tmp_path / "clean",
        progress=False,
    )
    plan = FaultPlan(probability=0.3, seed=11, kinds=("429", "500", "503", "truncate", "error"))
    faulty_server = eutils_server(synthetic=300, faults=plan)
    settings = fast_settings(faulty_server, batch_size=20, max_tries=8)
    faulty = run_search(
        settings,
        "synthetic",
        snapshots_root=tmp_path / "faulty",
        progress=False,
        client=quiet_client(settings),
    )
    assert any(record.fault for record in faulty_server.requests)
    assert efetch_bytes(clean) == efetch_bytes(faulty)
    assert (clean / "ids.txt").read_bytes() == (faulty / "ids.txt").read_bytes()


# -- failed and killed runs leave nothing --------------------------------------------------------


def test_a_failure_mid_fetch_leaves_no_snapshot(eutils_server, tmp_path):
    server = eutils_server(synthetic=50, faults=[f"efetch@{n}:503" for n in range(3, 20)])
    settings = fast_settings(server, batch_size=10, max_tries=2)
    with pytest.raises(EntrezError, match="HTTP 503"):
        run_search(
            settings,
            "synthetic",
            snapshots_root=tmp_path,
            progress=False,
            client=quiet_client(settings),
        )
    assert server.counts()["efetch"] == 4  # two batches fetched, then the third failed twice
    assert list((tmp_path / "pubmed").iterdir()) == []
    assert available_snapshots(tmp_path) == []


def test_an_unexpected_exception_mid_fetch_leaves_no_snapshot(eutils_server, tmp_path):
    class DiskFullError(Exception):
        pass

    class FailingClient(EntrezClient):
        def fetch(self, search, *, progress=True) -> Iterator:
            batches = super().fetch(search, progress=progress)
            yield next(batches)
            raise DiskFullError("disk full, say")

    server = eutils_server(synthetic=30)
    settings = fast_settings(server, batch_size=10)
    with pytest.raises(DiskFullError):
        run_search(
            settings,
            "synthetic",
            snapshots_root=tmp_path,
            progress=False,
            client=FailingClient(settings),
        )
    assert list((tmp_path / "pubmed").iterdir()) == []


KILLED_RUN = """
import sys
from litreview.entrez import EntrezSettings
from litreview.search import run_search
settings = EntrezSettings(email="t@example.org", base_url=sys.argv[1], batch_size=5,
                          requests_per_second=1000)
run_search(settings, "synthetic", snapshots_root=sys.argv[2], progress=False)
"""


def test_a_killed_run_leaves_no_snapshot_and_the_next_run_cleans_up(eutils_server, tmp_path):
    server = eutils_server(synthetic=100, delay=0.1)
    process = subprocess.Popen([sys.executable, "-c", KILLED_RUN, server.base_url, str(tmp_path)])
    try:
        deadline = time.monotonic() + 30
        while server.counts().get("efetch", 0) < 4:
            assert process.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "the run never reached efetch"
            time.sleep(0.02)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL
    leftovers = list((tmp_path / "pubmed").iterdir())
    assert len(leftovers) == 1 and leftovers[0].name.startswith(".incomplete-")
    assert list((leftovers[0] / "efetch").iterdir())  # it was killed mid-fetch
    assert available_snapshots(tmp_path) == []
    with pytest.raises(SnapshotError, match="no complete snapshot"):
        resolve_snapshot(tmp_path, "latest")
    server.delay = 0.0
    settings = fast_settings(server, batch_size=50)
    folder = run_search(settings, "synthetic", snapshots_root=tmp_path, progress=False)
    assert list((tmp_path / "pubmed").iterdir()) == [folder]  # the dead run's folder is gone
    assert resolve_snapshot(tmp_path) == folder


def test_a_live_writers_temp_folder_is_left_alone(tmp_path):
    parent = tmp_path / "pubmed"
    parent.mkdir()
    mine = parent / f".incomplete-20250101T000000Z-{os.getpid()}-abcd1234"
    dead = parent / ".incomplete-20250101T000000Z-999999999-abcd1234"
    forgotten = parent / f".incomplete-20240101T000000Z-{os.getppid()}-abcd1234"
    for folder in (mine, dead, forgotten):
        folder.mkdir()
    a_week_ago = time.time() - 7 * 24 * 3600
    os.utime(forgotten, (a_week_ago, a_week_ago))  # its pid is alive, but it is long dead
    make_snapshot(tmp_path, datetime(2025, 2, 1, tzinfo=UTC), [b"<x/>"])
    assert mine.exists() and not dead.exists() and not forgotten.exists()


# -- the API key ---------------------------------------------------------------------------------


def test_the_api_key_is_sent_but_written_nowhere(eutils_server, tmp_path, monkeypatch):
    monkeypatch.setenv(API_KEY_ENV, KEY)
    log_path = tmp_path / "logs" / "search.log"
    log_path.parent.mkdir()
    handler = logging.FileHandler(log_path)
    handler.setLevel(logging.DEBUG)
    root_logger = logging.getLogger()
    previous_level = root_logger.level
    root_logger.addHandler(handler)
    root_logger.setLevel(logging.DEBUG)
    try:
        server = eutils_server(synthetic=60, faults=["1:503", "efetch@2:429", "efetch@3:503"])
        settings = fast_settings(server, batch_size=20)
        folder = run_search(
            settings,
            "synthetic",
            snapshots_root=tmp_path / "snapshots",
            progress=False,
            client=quiet_client(settings),
        )
        failing = eutils_server(synthetic=5, faults=[f"{n}:500" for n in range(1, 9)])
        with pytest.raises(EntrezError) as caught:
            run_search(
                fast_settings(failing, max_tries=2),
                "synthetic",
                snapshots_root=tmp_path / "failed",
                progress=False,
            )
        logging.getLogger("litreview").error("run failed: %s", caught.value)
    finally:
        root_logger.removeHandler(handler)
        root_logger.setLevel(previous_level)
        handler.close()
    assert server.saw_api_key(KEY) and failing.saw_api_key(KEY)
    assert json.loads((folder / "manifest.json").read_text())["parameters"]["api_key_used"]
    assert "api_key=***" in log_path.read_text()  # the log does describe the requests
    written = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert len(written) > 5
    for path in written:
        data = path.read_bytes()
        assert KEY.encode() not in data, path
        if path.suffix == ".gz":
            assert KEY.encode() not in gzip.decompress(data), path
    assert KEY not in str(caught.value)


# -- reading: verification and resolution ---------------------------------------------------------


def test_tampering_is_detected_and_named(tmp_path):
    folder = make_snapshot(tmp_path, datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC), [b"<a/>", b"<b/>"])
    assert folder.name == "20250102T030405Z"
    load_snapshot(folder)
    batch = folder / "efetch" / "batch-0002.xml.gz"
    original = batch.read_bytes()
    batch.write_bytes(gzip.compress(b"<c/>", mtime=0))
    with pytest.raises(SnapshotError, match=r"batch-0002\.xml\.gz: sha256 does not match"):
        load_snapshot(folder)
    batch.write_bytes(original)
    (folder / "ids.txt").write_text("1\n2\n3\n")
    with pytest.raises(SnapshotError, match=r"ids\.txt: sha256"):
        load_snapshot(folder)


def test_missing_extra_and_late_changes_are_detected(tmp_path):
    folder = make_snapshot(tmp_path, datetime(2025, 1, 2, tzinfo=UTC), [b"<a/>"])
    (folder / "notes.txt").write_text("hello")
    with pytest.raises(SnapshotError, match=r"not in the manifest: notes\.txt"):
        load_snapshot(folder)
    (folder / "notes.txt").unlink()
    snapshot = load_snapshot(folder)
    (folder / "efetch" / "batch-0001.xml.gz").write_bytes(gzip.compress(b"<z/>", mtime=0))
    with pytest.raises(SnapshotError, match="checksum changed"):
        list(snapshot.payloads())
    (folder / "efetch" / "batch-0001.xml.gz").unlink()
    with pytest.raises(SnapshotError, match="listed in the manifest but missing"):
        load_snapshot(folder)
    (folder / "manifest.json").write_text("{not json")
    with pytest.raises(SnapshotError, match="not valid JSON"):
        load_snapshot(folder)


def test_snapshots_are_never_overwritten(tmp_path):
    when = datetime(2025, 1, 2, tzinfo=UTC)
    make_snapshot(tmp_path, when, [b"<a/>"])
    with pytest.raises(SnapshotError, match="never overwritten"):
        make_snapshot(tmp_path, when, [b"<b/>"])
    assert [p.name for p in (tmp_path / "pubmed").iterdir()] == ["20250102T000000Z"]


def test_resolve_latest_and_named_snapshots(tmp_path):
    with pytest.raises(SnapshotError, match="no complete snapshot"):
        resolve_snapshot(tmp_path, "latest")
    older = make_snapshot(tmp_path, datetime(2024, 12, 31, 23, 59, 59, tzinfo=UTC), [b"<a/>"])
    newer = make_snapshot(tmp_path, datetime(2025, 6, 1, tzinfo=UTC), [b"<a/>"])
    (tmp_path / "pubmed" / ".incomplete-20990101T000000Z-1-ab").mkdir()  # ignored
    (tmp_path / "pubmed" / "20990101T000000Z").mkdir()  # no manifest: ignored
    assert resolve_snapshot(tmp_path, "latest") == newer
    assert resolve_snapshot(tmp_path, older.name) == older
    with pytest.raises(SnapshotError) as caught:
        resolve_snapshot(tmp_path, "20200101T000000Z")
    assert "20241231T235959Z, 20250601T000000Z" in str(caught.value)
    with pytest.raises(SnapshotError, match="incomplete snapshot"):
        load_snapshot(tmp_path / "pubmed" / ".incomplete-20990101T000000Z-1-ab")


def test_a_failed_writer_block_removes_its_folder(tmp_path):
    with pytest.raises(RuntimeError), SnapshotWriter(tmp_path) as writer:
        writer.add_efetch(b"<a/>")
        raise RuntimeError("boom")
    assert list((tmp_path / "pubmed").iterdir()) == []


def test_a_query_without_hits_gives_an_empty_snapshot(eutils_server, tmp_path):
    server = eutils_server(STORE)
    folder = run_search(fast_settings(server), "zebrafish", snapshots_root=tmp_path, progress=False)
    snapshot = load_snapshot(folder)
    assert snapshot.ids == () and snapshot.manifest["count"] == 0
    assert list(snapshot.payloads()) == [] and server.counts() == {"esearch": 1}
    messages = snapshot.manifest["esearch_requests"][0]["messages"]
    assert messages == {"OutputMessage": ["No items found."]}


def test_the_product_never_imports_the_test_server():
    code = (
        "import sys, litreview.search, litreview.snapshot, litreview.entrez\n"
        "print(sorted(name for name in sys.modules if name.startswith('litreview.testing')))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert output.strip() == "[]"
