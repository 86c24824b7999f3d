"""Monthly reruns fetch only what changed: month 1, then month 2 from a changed store, then a
run with no change; the local E-utilities server's request log is what is counted."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from litreview.entrez import EntrezSettings
from litreview.search import run_search
from litreview.snapshot import load_snapshot
from litreview.stages import search_records
from litreview.testing.eutils import EutilsServer
from litreview.testing.pubmed_xml import render_article_set

QUERY = "prophylaxis"
MONTHS = [datetime(2026, month, 1, 6, 0, tzinfo=UTC) for month in (10, 11, 12)]


def _record(pmid: int, **fields: object) -> dict:
    return {"pmid": pmid, "title": f"prophylaxis trial {pmid}", "year": 2020,
            "entrez_date": "2020-06-01", "revised_date": "2020-07-01", **fields}  # fmt: skip


MONTH_1 = [_record(pmid) for pmid in range(6001, 6041)]  # 40 records
MONTH_2 = [
    # 6037 was merged into 6043; 6039 and 6040 are gone: PubMed deleted them
    *(_record(pmid) for pmid in range(6001, 6037)),
    _record(6038, year=2035, revised_date="2026-10-20"),  # its publication date left the window
    # PubMed revised it after month 1's search
    _record(6005, title="prophylaxis trial 6005, corrected", revised_date="2026-10-15"),
    *(_record(pmid) for pmid in range(6041, 6044)),  # three new
]


def _search(
    store: Path, root: Path, previous: Path | None, when: datetime, batch: int = 10
) -> tuple[Path, list]:
    with EutilsServer(store) as server:
        settings = EntrezSettings(
            email="t@lab.example", base_url=server.base_url, requests_per_second=1000.0,
            batch_size=batch,
        )  # fmt: skip
        folder = run_search(
            settings, QUERY, mindate="2000/01/01", maxdate="2030/12/31", snapshots_root=root,
            progress=False, previous=previous, started_at=when,
        )  # fmt: skip
        return folder, list(server.requests)


def _store(folder: Path, records: list[dict], replaced: dict | None = None) -> Path:
    folder.mkdir()
    if replaced:
        (folder / "replaced.json").write_text(json.dumps(replaced))
    unique = {record["pmid"]: record for record in records}  # the later entry wins
    (folder / "pubmed.xml").write_bytes(render_article_set(unique.values()))
    return folder


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    base = tmp_path_factory.mktemp("monthly")
    root = base / "snapshots"
    month_1 = _store(base / "m1", MONTH_1)
    month_2 = _store(base / "m2", MONTH_2, replaced={"6037": 6043})
    first, first_log = _search(month_1, root, None, MONTHS[0])
    second, second_log = _search(month_2, root, first, MONTHS[1])
    third, third_log = _search(month_2, root, second, MONTHS[2])
    return {
        "first": (first, first_log),
        "second": (second, second_log),
        "third": (third, third_log),
    }


def _efetched(log: list) -> set[str]:
    ids: set[str] = set()
    for request in log:
        if request.endpoint == "efetch" and "id" in request.params:
            ids |= set(request.params["id"].split(","))
    return ids


def test_month_two_fetches_only_new_and_modified_records(runs: dict) -> None:
    folder, log = runs["second"]
    # the new and the modified records, and the three gone PMIDs (to ask PubMed why)
    assert _efetched(log) == {"6005", "6041", "6042", "6043", "6037", "6038", "6039", "6040"}
    mdat = [r for r in log if r.endpoint == "esearch" and r.params.get("datetype") == "mdat"]
    assert len(mdat) == 1
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["incremental"]["new"] == 3
    assert manifest["incremental"]["modified"] == 1
    assert manifest["incremental"]["reused"] == 35
    assert manifest["incremental"]["replaced"] == {"6037": "6043"}
    assert manifest["incremental"]["deleted"] == ["6039", "6040"]
    assert manifest["incremental"]["gone_returned"] == ["6038"]


def test_an_incremental_snapshot_is_complete_and_replays_on_its_own(runs: dict) -> None:
    folder, _ = runs["second"]
    snapshot = load_snapshot(folder)
    records = search_records(snapshot)
    assert sorted(records["pmid"], key=int) == sorted(snapshot.ids, key=int)
    assert len(records) == 39
    corrected = records.set_index("pmid").loc["6005", "title"]
    assert corrected == "prophylaxis trial 6005, corrected"  # the new version, not the old


def test_a_run_with_no_change_makes_only_the_esearch_pages_and_the_mdat_check(runs: dict) -> None:
    folder, log = runs["third"]
    endpoints = [(r.endpoint, r.params.get("datetype")) for r in log]
    assert endpoints == [("esearch", "pdat"), ("esearch", "mdat")]
    # no change since month 2: no snapshot is written, month 2's is the search
    assert folder == runs["second"][0]
    assert sorted(p.name for p in folder.parent.iterdir()) == sorted(
        [runs["first"][0].name, runs["second"][0].name]
    )
    manifest = json.loads((folder / "manifest.json").read_text())
    # month 2's references point at the payloads that hold the records (month 1's)
    assert {entry["snapshot"] for entry in manifest["reused"]} == {runs["first"][0].name}
    assert len(search_records(load_snapshot(folder))) == 39


def test_a_referenced_payload_that_changed_is_refused(runs: dict, tmp_path: Path) -> None:
    import shutil

    from litreview.errors import SnapshotError

    root = tmp_path / "pubmed"
    for key in ("first", "second"):
        shutil.copytree(runs[key][0], root / runs[key][0].name)
    first_payload = next((root / runs["first"][0].name / "efetch").iterdir())
    first_payload.write_bytes(first_payload.read_bytes() + b"x")
    with pytest.raises(SnapshotError, match="does not match what snapshot"):
        load_snapshot(root / runs["second"][0].name)


def test_gone_records_say_why(runs: dict, tmp_path: Path) -> None:
    from litreview import stages

    root = runs["second"][0].parent
    pointer = tmp_path / "pointer.json"
    pointer.write_text(json.dumps({"snapshot": str(runs["second"][0])}))
    screened = tmp_path / "screened.tsv"
    screened.write_text("record_id\tstatus\npubmed:6001\tincluded\n")
    search = {"snapshots_dir": str(root.parent), "database": "pubmed"}
    stages.change_outputs(
        pointer, screened, search, {"before": None}, tmp_path / "c.csv", tmp_path / "c.md"
    )
    changes = pd.read_csv(tmp_path / "c.csv", dtype=str).set_index("pmid")
    assert changes.loc["6039", "change"] == changes.loc["6040", "change"] == "deleted"
    assert changes.loc["6038", "change"] == "gone"
    assert (changes.loc["6037", "change"], changes.loc["6037", "after"]) == ("replaced", "6043")
    assert "2035 is outside the window" in changes.loc["6038", "detail"]
