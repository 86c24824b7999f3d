"""`litreview run-many`: several review folders in one Snakemake run. Each review's outputs are
byte for byte those of its own single run; one failing review is reported and stops nothing."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.reviews import REPO, run_workflow, take_snapshot

pytestmark = pytest.mark.e2e

SURGERY = REPO / "tests" / "reviews" / "antibiotic_prophylaxis"


def _first_review(folder: Path) -> Path:
    """The first review (this repository's config, sheets and committed snapshot)."""
    shutil.copytree(REPO / "config", folder / "config")
    shutil.copytree(REPO / "resources", folder / "resources")
    return folder


def _surgery_review(folder: Path) -> Path:
    """The tests' review from another field, with its first snapshot taken."""
    shutil.copytree(SURGERY / "config", folder / "config")
    pmids = [str(pmid) for pmid in range(3001, 3013)]
    take_snapshot(folder, (SURGERY / "pubmed.xml").read_bytes(), pmids, "surgery test review")
    return folder


def _contents(results: Path) -> dict[str, object]:
    """Every result file: its bytes, or for a workbook its cells (XLSX stores its save time)."""
    contents: dict[str, object] = {}
    for path in sorted(results.rglob("*")):
        if not path.is_file():
            continue
        key = path.relative_to(results).as_posix()
        if path.suffix == ".xlsx":
            workbook = load_workbook(path)
            contents[key] = {
                name: [[cell.value for cell in row] for row in workbook[name].iter_rows()]
                for name in workbook.sheetnames
            }
        else:
            contents[key] = path.read_bytes()
    return contents


def _run_many(cwd: Path, *arguments: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "litreview.cli", "run-many", *arguments]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)


def _summary(out: Path) -> dict[str, dict[str, str]]:
    with (out / "summary.csv").open(encoding="utf-8", newline="") as handle:
        return {row["review"]: row for row in csv.DictReader(handle)}


def test_two_reviews_run_together_as_they_run_alone(tmp_path: Path) -> None:
    alone, together = tmp_path / "alone", tmp_path / "together"
    _first_review(alone / "stem-cells")
    _surgery_review(alone / "surgery")
    shutil.copytree(alone, together)  # the same folders, the same snapshots
    for review in ("stem-cells", "surgery"):
        run_workflow(alone / review)
    result = _run_many(together, "stem-cells", "surgery", "--cores", "2")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for review in ("stem-cells", "surgery"):
        assert _contents(together / review / "results") == _contents(alone / review / "results")
    summary = _summary(together / "results-many")
    assert set(summary) == {"stem-cells", "surgery"}
    assert {row["status"] for row in summary.values()} == {"ok"}
    versions = list(csv.DictReader((alone / "stem-cells/results/versions/versions.csv").open()))
    assert summary["stem-cells"]["version"] == versions[-1]["version"]
    audit = list(csv.DictReader((alone / "stem-cells/results/audit/audit.csv").open()))
    differs = sum(1 for row in audit if row["status"] == "differs")
    assert summary["stem-cells"]["audit_differences"] == str(differs)
    assert "2 review(s), 2 ok, 0 failed." in (together / "results-many/summary.md").read_text()


def test_a_failing_review_is_reported_and_the_others_finish(tmp_path: Path) -> None:
    _surgery_review(tmp_path / "surgery")
    broken = _surgery_review(tmp_path / "broken")
    shutil.rmtree(broken / "resources" / "snapshots")  # nothing to replay
    result = _run_many(tmp_path, "surgery", "broken")
    assert result.returncode == 1
    summary = _summary(tmp_path / "results-many")
    assert summary["surgery"]["status"] == "ok"
    assert (tmp_path / "surgery" / "results" / "prisma" / "prisma.csv").is_file()
    assert summary["broken"]["status"].startswith("failed")
    assert "snapshot" in summary["broken"]["problem"].lower()
    report = (tmp_path / "results-many" / "summary.md").read_text(encoding="utf-8")
    assert "1 failed" in report and "## Failures" in report


def test_a_folder_that_is_not_a_review_is_refused_before_anything_runs(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = _run_many(tmp_path, "empty")
    assert result.returncode == 1
    assert "not a review folder" in result.stderr and "litreview init" in result.stderr
    assert not (tmp_path / "results-many").exists()


def test_the_monthly_update_of_several_reviews_searches_then_replays(tmp_path: Path) -> None:
    """`--config search.mode=live`: each review's search is its own job (kept local), taking a
    new snapshot through the live path; its pipeline then replays that snapshot."""
    import json

    import yaml

    from litreview.testing.eutils import EutilsServer

    for name in ("one", "two"):
        shutil.copytree(SURGERY / "config", tmp_path / name / "config")
    query = yaml.safe_load((SURGERY / "config" / "config.yaml").read_text())["search"]["query"]
    store = tmp_path / "store"
    store.mkdir()
    shutil.copy(SURGERY / "pubmed.xml", store / "pubmed.xml")
    (store / "queries.json").write_text(json.dumps({query: list(range(3001, 3013))}))
    with EutilsServer(store, rate_limit=True) as server:
        result = _run_many(
            tmp_path, "one", "two", "--config", "search.mode=live",
            f"entrez.base_url={server.base_url}",
        )  # fmt: skip
        refused = server.status_counts().get(429, 0)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert refused == 0  # the two searches shared one budget
    for name in ("one", "two"):
        taken = sorted((tmp_path / name / "resources" / "snapshots" / "pubmed").iterdir())
        assert len(taken) == 1
        pointer = json.loads((tmp_path / name / "results/search/snapshot.json").read_text())
        assert pointer["name"] == taken[0].name
        searched = json.loads((tmp_path / "results-many" / "search" / f"{name}.json").read_text())
        assert searched["ok"] and searched["snapshot"] == taken[0].name
    assert {row["status"] for row in _summary(tmp_path / "results-many").values()} == {"ok"}
