"""End-to-end Snakemake runs in temporary folders: the synthetic review with known answers
(tests/review/expected.yaml), and this repository's own review on its committed snapshot."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from litreview import io
from litreview.testing.eutils import EutilsServer
from tests.reviews import run_workflow, take_snapshot

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[1]
REVIEW = Path(__file__).parent / "review"
EXPECTED = yaml.safe_load((REVIEW / "expected.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def synthetic_review(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic review in a fresh folder, with a snapshot taken through the live code
    path from the local E-utilities server, then run once."""
    folder = tmp_path_factory.mktemp("review")
    shutil.copytree(REVIEW / "config", folder / "config")
    pmids = [str(pmid) for pmid in range(1001, 1064)]
    xml = (REVIEW / "pubmed.xml").read_bytes()
    take_snapshot(folder, xml, pmids, "synthetic test review (tests/review)")
    run_workflow(folder)
    return folder


def studies_text(results: Path) -> set[str]:
    """Every as-reported dose text of the synthetic sheets (the outputs keep it verbatim)."""
    texts = set()
    for name in ("studies.csv", "arms.csv"):
        sheet = pd.read_csv(results.parent / "config" / "extraction" / name, dtype=str)
        texts |= set(sheet["dose_as_reported"].dropna())
    return texts


def _prisma(folder: Path) -> dict[str, str]:
    table = pd.read_csv(folder / "results" / "prisma" / "prisma.csv", dtype=str)
    return dict(zip(table["data"], table["n"], strict=True))


def test_every_prisma_number_of_the_synthetic_review(synthetic_review: Path) -> None:
    prisma = _prisma(synthetic_review)
    for box, expected in EXPECTED["prisma"].items():
        assert prisma[box] == str(expected), box


def test_statuses_categories_overrules_queue_and_unresolved(synthetic_review: Path) -> None:
    results = synthetic_review / "results"
    screened = io.read_table(results / "screening" / "screened.tsv")
    assert screened["status"].value_counts().to_dict() == EXPECTED["status"]
    included = screened[screened["status"] == "included"]
    assert included["category"].value_counts().to_dict() == EXPECTED["categories"]
    overrules = io.read_table(results / "screening" / "overrules.tsv")
    assert overrules["record_id"].tolist() == EXPECTED["overrules"]
    queue = pd.read_csv(results / "screening" / "queue.csv", dtype=str)
    assert sorted(queue["record"]) == EXPECTED["queue"]
    unresolved = io.read_table(results / "identify" / "unresolved.tsv")
    assert unresolved["source_id"].tolist() == EXPECTED["unresolved"]
    conflicts = io.read_table(results / "screening" / "conflicts.tsv")
    assert sorted(conflicts["record_id"]) == ["pubmed:1001", "pubmed:1063"]
    assert (results / "prisma" / "prisma.svg").stat().st_size > 10_000


def test_every_regenerated_metric_of_the_synthetic_review(synthetic_review: Path) -> None:
    metrics = pd.read_csv(
        synthetic_review / "results" / "tables" / "metrics.tsv", sep="\t", dtype={"value": str}
    ).set_index("metric")["value"]
    for metric, expected in EXPECTED["metrics"].items():
        assert metric in metrics.index, metric
        assert float(metrics[metric]) == pytest.approx(expected, rel=1e-9), metric
    # ties (5, 5, 5 then 4, 4) keep the configured bin order
    assert metrics["fig3_timing.order"] == "1-6 h; day 1; day 2-3; day 4-7; day 8-14"


def test_the_synthetic_review_extraction_tables_and_audit(synthetic_review: Path) -> None:
    results = synthetic_review / "results"
    studies = io.read_table(results / "extraction" / "studies.tsv")
    assert len(studies) == EXPECTED["status"]["included"]
    doses = io.read_table(results / "extraction" / "dose.tsv")
    mouse = doses[
        (doses["group"] == "mouse") & doses["record_id"].isin(["pubmed:1002", "pubmed:1003"])
    ]
    assert set(mouse["per_weight_estimated"]) == {"True"}
    assert "reference weight mouse 0.025 kg" in set(mouse["per_weight_basis"])
    assert set(doses["text"].dropna()) <= set(studies_text(results))
    audit = pd.read_csv(results / "audit" / "audit.csv", dtype=str).set_index("id")["status"]
    assert audit.to_dict() == EXPECTED["audit"]
    report = (results / "audit" / "audit.md").read_text()
    assert "synthetic test review (tests/review)" in report  # the snapshot origin, repeated
    for name in ("fig1_cell_sources", "fig2_dose_per_kg", "fig3_timing"):
        assert (results / "figures" / f"{name}.png").stat().st_size > 20_000
    table1 = pd.read_csv(results / "tables" / "table1_modified.csv", dtype=str)
    assert len(table1) == 3
    table3 = pd.read_csv(results / "tables" / "table3_clinical.csv", dtype=str)
    assert len(table3) == 10


def test_strict_audit_fails_the_run_naming_the_difference(
    synthetic_review: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "strict"
    shutil.copytree(synthetic_review, copy)  # a failed job's outputs are removed: work on a copy
    command = [
        sys.executable, "-m", "litreview.cli", "run", "--snakefile", str(REPO / "workflow" / "Snakefile"),
        "--directory", str(copy), "--cores", "1", "--config", "audit.strict=true",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode != 0
    assert (
        "audit.strict is true and 1 regenerated number(s) differ" in result.stdout + result.stderr
    )
    assert "stroke_percent" in result.stdout + result.stderr


def test_a_rerun_from_scratch_is_byte_identical(synthetic_review: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    shutil.copytree(synthetic_review / "config", again / "config")
    shutil.copytree(synthetic_review / "resources", again / "resources")
    run_workflow(again)
    first = sorted(
        p.relative_to(synthetic_review)
        for p in (synthetic_review / "results").rglob("*")
        if p.is_file()
    )
    second = sorted(p.relative_to(again) for p in (again / "results").rglob("*") if p.is_file())
    assert first == second
    for relative in first:
        if relative.suffix in {".xlsx", ".png"}:  # zip and PNG metadata carry timestamps
            continue
        assert (synthetic_review / relative).read_bytes() == (again / relative).read_bytes(), (
            relative
        )


def test_the_reviewers_sheets_are_never_written(synthetic_review: Path) -> None:
    names = ("screening_A.csv", "screening_B.xlsx", "other_sources.tsv", "embase.ris",
             "extraction/studies.csv", "extraction/arms.csv")  # fmt: skip
    for name in names:
        assert (synthetic_review / "config" / name).read_bytes() == (
            REVIEW / "config" / name
        ).read_bytes()


def test_this_review_runs_offline_on_its_committed_snapshot(tmp_path: Path) -> None:
    shutil.copytree(REPO / "config", tmp_path / "config")
    shutil.copytree(REPO / "resources" / "snapshots", tmp_path / "resources" / "snapshots")
    run_workflow(tmp_path)
    results = tmp_path / "results"
    snapshot = json.loads((results / "search" / "snapshot.json").read_text())
    assert snapshot["origin"].startswith("RECONSTRUCTED, not an NCBI response")
    records = io.read_table(results / "records.tsv")
    assert len(records) == snapshot["count"] == 26
    prisma = _prisma(tmp_path)
    assert int(prisma["database_results"]) == 26
    screened = io.read_table(results / "screening" / "screened.tsv")
    excluded = screened[screened["status"].str.startswith("excluded")]
    # The reconstruction's excluded candidates appear with their reasons.
    assert set(excluded["reason"]) == {"review"}
    assert len(excluded) == 9
    diagram = (results / "prisma" / "prisma.svg").read_text()
    assert "RECONSTRUCTED" in diagram
    # the search date comes from the snapshot's manifest; a new review says "studies"
    assert "PubMed searched 2026-11-27 (snapshot 20261127T024748Z" in diagram
    assert "Identification of studies via databases and registers" in diagram
    search_report = (results / "search" / "search_report.md").read_text()
    assert "| date of search | 2026-11-27 (snapshot 20261127T024748Z) |" in search_report
    assert "| records retrieved | 26 |" in search_report
    assert snapshot["query"] in search_report
    assert "- duplicates removed: 3" in search_report
    assert "first snapshot" in (results / "changes" / "changes.md").read_text()
    screened_text = (results / "screening" / "screened.tsv").read_text()
    assert "\tNone\t" not in screened_text
    assert "RECONSTRUCTED" in (results / "dedup" / "summary.md").read_text()


def test_a_live_run_takes_a_new_snapshot_and_never_writes_the_api_key(
    synthetic_review: Path, tmp_path: Path
) -> None:
    """`--config search.mode=live` against the local E-utilities server: a new snapshot (with
    the other sources' identifiers resolved into it), the same PRISMA numbers as the offline
    run, and the API key (sent to the server) in no file."""
    folder = tmp_path / "live"
    shutil.copytree(REVIEW / "config", folder / "config")
    config = yaml.safe_load((folder / "config" / "config.yaml").read_text(encoding="utf-8"))
    store = tmp_path / "store"
    store.mkdir()
    shutil.copy(REVIEW / "pubmed.xml", store / "pubmed.xml")
    queries = {
        config["search"]["query"]: [str(pmid) for pmid in range(1001, 1064)],
        '"10.5555/unindexed.4"[doi]': [],
    }
    (store / "queries.json").write_text(json.dumps(queries))
    secret = "live-test-key-5f1c9e0a7d"
    with EutilsServer(store, rate_limit=True) as server:
        command = [
            sys.executable, "-m", "litreview.cli", "run", "--snakefile", str(REPO / "workflow" / "Snakefile"),
            "--directory", str(folder), "--cores", "1",
            "--config", "search.mode=live", f"entrez.base_url={server.base_url}",
        ]  # fmt: skip
        environment = {**os.environ, "NCBI_API_KEY": secret}
        result = subprocess.run(command, capture_output=True, text=True, env=environment)
        assert result.returncode == 0, result.stderr[-4000:]
        assert server.saw_api_key(secret)
        assert server.status_counts().get(429, 0) == 0
    snapshots = list((folder / "resources" / "snapshots" / "pubmed").iterdir())
    assert len(snapshots) == 1
    manifest = json.loads((snapshots[0] / "manifest.json").read_text())
    assert manifest["count"] == 63
    assert manifest["resolution"]["pmids_requested"] == ["1010"]
    assert manifest["resolution"]["dois_requested"] == ["10.5555/unindexed.4"]
    assert manifest["parameters"]["api_key_used"] is True
    assert _prisma(folder) == _prisma(synthetic_review)
    assert secret not in result.stdout + result.stderr
    opened: dict[str, set[Path]] = {"raw": set(), "gz": set(), "zip": set()}
    for path in folder.rglob("*"):
        if path.is_file():
            for kind, data in _contents(path):
                assert secret.encode() not in data, (path, kind)
                opened[kind].add(path)
    # the snapshot's gzipped payloads (esearch, efetch) and the XLSX workbooks, opened too
    assert len(opened["gz"]) >= 2 and len(opened["zip"]) >= 2, opened


def _contents(path: Path):
    """A file's bytes, and what it holds when compressed: a gzip payload's text, every member
    of a zip (an XLSX workbook)."""
    import gzip
    import zipfile

    data = path.read_bytes()
    yield "raw", data
    if data[:2] == b"\x1f\x8b":
        yield "gz", gzip.decompress(data)
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                yield "zip", archive.read(member)
