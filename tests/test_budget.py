"""One NCBI budget for every search on the machine: concurrent searches (four reviews of a
`litreview run-many`, overlapping cron jobs) share NCBI's 3 requests/s through a lock file, so
the rate-limited local server refuses none of them."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import pytest

from litreview.entrez import BUDGET_ENV, EntrezClient, EntrezSettings, budget_file
from litreview.search import run_search
from litreview.snapshot import load_snapshot

TOPICS = ("asthma", "diabetes", "sepsis", "migraine")


def _search(base_url: str, topic: str, root: str, budget: str) -> int:
    os.environ[BUDGET_ENV] = budget
    settings = EntrezSettings(email="tester@example.org", base_url=base_url, batch_size=40)
    folder = run_search(settings, topic, snapshots_root=root, progress=False)
    return len(load_snapshot(folder).ids)


def _four_at_once(server, tmp_path: Path, budget: str) -> list[int]:
    context = multiprocessing.get_context("spawn")  # separate processes, as reviews are
    with context.Pool(4) as pool:
        jobs = [
            pool.apply_async(_search, (server.base_url, topic, str(tmp_path / topic), budget))
            for topic in TOPICS
        ]
        return [job.get(timeout=120) for job in jobs]


def _busiest_second(server) -> int:
    times = sorted(record.received_at for record in server.requests)
    return max(sum(1 for t in times[i:] if t < start + 1.0) for i, start in enumerate(times))


def test_four_searches_at_once_share_one_budget(eutils_server, tmp_path: Path) -> None:
    server = eutils_server(synthetic=800, rate_limit=True)
    found = _four_at_once(server, tmp_path, str(tmp_path / "budget"))
    assert found == [100, 100, 100, 100]
    assert server.status_counts().get(429, 0) == 0
    assert server.counts() == {"esearch": 4, "efetch": 12}
    assert _busiest_second(server) <= 3  # NCBI's limit, over the four processes together
    assert list((tmp_path / "budget").iterdir())  # the budget file they shared


def test_without_the_shared_budget_the_same_searches_are_refused(
    eutils_server, tmp_path: Path
) -> None:
    """The contrast: each process keeps 3/s on its own, together 12/s: the server refuses
    some (the client retries them after Retry-After, so the searches still complete)."""
    server = eutils_server(synthetic=800, rate_limit=True)
    found = _four_at_once(server, tmp_path, "off")
    assert found == [100, 100, 100, 100]
    assert server.status_counts().get(429, 0) > 0


def test_budget_files_are_per_server_and_key_state_and_never_hold_the_key() -> None:
    environ = {BUDGET_ENV: "/budgets"}
    ncbi = budget_file("https://eutils.ncbi.nlm.nih.gov/entrez/eutils/", has_api_key=True,
                       environ=environ)  # fmt: skip
    local = budget_file("http://127.0.0.1:8093/", has_api_key=False, environ=environ)
    assert ncbi == Path("/budgets/ncbi-budget-eutils.ncbi.nlm.nih.gov-key")
    assert local == Path("/budgets/ncbi-budget-127.0.0.1_8093-nokey")
    assert (
        budget_file("http://127.0.0.1:1/", has_api_key=False, environ={BUDGET_ENV: "off"}) is None
    )


def test_an_unusable_budget_folder_falls_back_to_this_process(
    eutils_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(BUDGET_ENV, str(blocker))
    server = eutils_server(synthetic=10)
    client = EntrezClient(EntrezSettings(email="tester@example.org", base_url=server.base_url))
    assert client.search("synthetic").count == 10
    assert "limiting this process only" in caplog.text
