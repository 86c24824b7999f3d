"""Runs killed with SIGKILL: after the esearch, in the middle of the efetch batches, during the
snapshot's commit, and the whole workflow mid-search. A killed run leaves no snapshot (only a
temporary folder that the next run removes); the workflow's lock it leaves is named, with the
command that lifts it; the rerun ends with the records a run never killed gives."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml

from litreview import io
from litreview.entrez import API_KEY_ENV, EntrezSettings
from litreview.search import run_search
from litreview.snapshot import TEMP_PREFIX, load_snapshot
from litreview.stages import search_records
from litreview.testing.eutils import EutilsServer, synthetic_store

QUERY = "synthetic"
RECORDS = 30
BATCH = 5

SEARCH_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    from litreview.entrez import EntrezSettings
    from litreview.search import run_search
    import litreview.snapshot as snapshot

    base_url, root, kill_in_commit, batch, query = sys.argv[1:6]
    kill_in_commit = kill_in_commit == "yes"
    if kill_in_commit:
        def rename(source, target):
            os.kill(os.getpid(), signal.SIGKILL)  # killed between the last write and the rename
        snapshot.os.rename = rename
    settings = EntrezSettings(email="t@example.org", base_url=base_url, batch_size=int(batch),
                              requests_per_second=1000.0, max_tries=2, backoff_base=0.0)
    run_search(settings, query, snapshots_root=root, progress=False)
    """
)


@pytest.fixture(autouse=True)
def no_api_key(monkeypatch):
    monkeypatch.delenv(API_KEY_ENV, raising=False)


def _settings(server) -> EntrezSettings:
    return EntrezSettings(
        email="t@example.org", base_url=server.base_url, batch_size=BATCH,
        requests_per_second=1000.0, max_tries=2, backoff_base=0.0,
    )  # fmt: skip


def _records(folder: Path, out: Path) -> bytes:
    io.write_table(out, search_records(load_snapshot(folder)))
    return out.read_bytes()


def _wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the killed run never reached the point to kill it at")
        time.sleep(0.02)


def _finished(server, endpoint: str) -> int:
    return sum(1 for record in server.requests if record.endpoint == endpoint)


KILL_POINTS = {
    "after the esearch": lambda server: _finished(server, "esearch") >= 1,
    "mid-efetch": lambda server: _finished(server, "efetch") >= 2,
    "during the commit": None,
}


@pytest.mark.parametrize("point", KILL_POINTS)
def test_a_search_killed_leaves_no_snapshot_and_the_rerun_gives_the_records(tmp_path, point):
    with EutilsServer(synthetic_store(RECORDS)) as clean:
        expected = _records(
            run_search(_settings(clean), QUERY, snapshots_root=tmp_path / "clean", progress=False),
            tmp_path / "clean.tsv",
        )
    root = tmp_path / "snapshots"
    condition = KILL_POINTS[point]
    with EutilsServer(synthetic_store(RECORDS), delay=0.0 if condition is None else 0.15) as server:
        process = subprocess.Popen(
            [sys.executable, "-c", SEARCH_SCRIPT, server.base_url, str(root),
             "yes" if condition is None else "no", str(BATCH), QUERY],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        if condition is not None:
            _wait_for(lambda: condition(server) or process.poll() is not None)
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        assert process.returncode == -signal.SIGKILL
        left = sorted(child.name for child in (root / "pubmed").iterdir())
        assert all(name.startswith(TEMP_PREFIX) for name in left), left  # no snapshot
        folder = run_search(_settings(server), QUERY, snapshots_root=root, progress=False)
    assert sorted(child.name for child in (root / "pubmed").iterdir()) == [folder.name]
    assert _records(folder, tmp_path / "rerun.tsv") == expected


@pytest.mark.e2e
def test_a_workflow_killed_mid_search_names_its_lock_and_recovers(tmp_path):
    """Also: a second run started while the first works is refused by the same lock."""
    folder = tmp_path / "review"
    shutil.copytree(Path(__file__).parent / "reviews" / "minimal" / "config", folder / "config")
    config = yaml.safe_load((folder / "config" / "config.yaml").read_text(encoding="utf-8"))
    store = synthetic_store(RECORDS)
    store.queries = {config["search"]["query"]: sorted(store.records, reverse=True)}
    (folder / "config" / "screening.csv").write_text(
        "record,stage,decision,reason,category,reviewer,date\n", encoding="utf-8"
    )
    (folder / "config" / "studies.csv").write_text("study,label,design,n\n", encoding="utf-8")
    config["extraction"]["require_complete"] = False
    (folder / "config" / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    with EutilsServer(store, delay=0.6) as server:
        live = ["--cores", "1", "--config", "search.mode=live", f"entrez.base_url={server.base_url}",
                "entrez.batch_size=1"]  # fmt: skip
        command = [sys.executable, "-m", "litreview.cli", "run", *live]
        process = subprocess.Popen(
            command, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True,
        )  # fmt: skip
        _wait_for(lambda: _finished(server, "efetch") >= 1 or process.poll() is not None, 60)
        second = subprocess.run(command, cwd=folder, capture_output=True, text=True, check=False)
        assert second.returncode != 0  # two runs at once: the second is refused
        assert "the review folder is locked" in second.stderr
        assert process.poll() is None  # and the first goes on
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        server.delay = 0.0
        snapshots = folder / "resources" / "snapshots" / "pubmed"
        assert not [p for p in snapshots.iterdir() if not p.name.startswith(".")]
        rerun = subprocess.run(command, cwd=folder, capture_output=True, text=True, check=False)
        assert rerun.returncode != 0
        assert "the review folder is locked" in rerun.stderr
        told = [line.strip() for line in rerun.stderr.splitlines() if "run --unlock" in line]
        assert told == [
            "litreview run --unlock "
            + shlex.join(live[:2] + live[3:]).replace(
                "--cores 1 search", "--cores 1 --config search"
            )
        ]
        unlock = subprocess.run(
            [sys.executable, "-m", "litreview.cli", *shlex.split(told[0])[1:]],
            cwd=folder, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert unlock.returncode == 0, unlock.stderr[-3000:]
        again = subprocess.run(command, cwd=folder, capture_output=True, text=True, check=False)
        assert again.returncode == 0, again.stderr[-3000:]
    taken = [p for p in snapshots.iterdir()]
    assert len(taken) == 1 and not taken[0].name.startswith(".")  # the temp folder is gone
    manifest = json.loads((taken[0] / "manifest.json").read_text())
    assert manifest["id_count"] == manifest["count"] > 0  # the records in the date window
    assert len(io.read_table(folder / "results" / "records.tsv")) == manifest["count"]
