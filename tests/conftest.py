"""Shared test fixtures: the --live switch and a local E-utilities server factory."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from litreview.testing.eutils import EutilsServer

DATA = Path(__file__).parent / "data"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--live",
        action="store_true",
        default=False,
        help="also run tests marked 'live' (they query the real NCBI E-utilities)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--live"):
        return
    skip_live = pytest.mark.skip(reason="queries the real NCBI: run with --live")
    for item in items:
        if "live" in item.keywords:
            item.add_marker(skip_live)


@pytest.fixture(autouse=True, scope="session")
def _loopback_bypasses_proxies() -> Iterator[None]:
    """Requests to the local test servers must never go through an HTTP proxy."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ("no_proxy", "NO_PROXY"):
            current = os.environ.get(name)
            patch.setenv(name, ",".join(filter(None, [current, "127.0.0.1", "localhost"])))
        yield


@pytest.fixture(autouse=True, scope="session")
def _ncbi_budget_in_a_temporary_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The shared NCBI budget files (litreview.entrez.budget_file) of every test, and of the
    workflows the tests start, go to a temporary folder, not the user's cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LITREVIEW_NCBI_BUDGET", str(tmp_path_factory.mktemp("ncbi-budget")))
        yield


@pytest.fixture
def eutils_server() -> Iterator[Callable[..., EutilsServer]]:
    """Factory: ``eutils_server(store_or_None, **options)`` starts a local server, stopped after."""
    started: list[EutilsServer] = []

    def start(store: Any = None, **options: Any) -> EutilsServer:
        server = EutilsServer(store, **options).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
