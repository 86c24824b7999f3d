"""README "Starting a new review", followed literally, with the package installed (not this
checkout) providing the workflow: `litreview init` in an empty folder, the config edited, a
first live search against the local E-utilities server, screening via the queue workbook
(saved back with a row undecided), extraction via the blank workbook, regeneration, audit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from litreview.testing.eutils import EutilsServer
from tests.reviews import REPO

pytestmark = pytest.mark.e2e

STORE_XML = REPO / "tests" / "reviews" / "antibiotic_prophylaxis" / "pubmed.xml"
QUERY = '"surgical site infection"[tiab] OR "wound infection"[tiab]'
INCLUDED = {  # pmid -> (label, design, n)
    3001: ("Adams2015", "rct", "398"),
    3002: ("Brown2016", "rct", "302"),
    3003: ("Clark2017", "rct", "238"),
    3007: ("Green2018", "cohort", "980"),
    3008: ("Hall2019", "cohort", "610"),
}
EXCLUDED = {3011: "off_topic", 3012: "off_topic"}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package built and installed into a folder of its own (its dependencies are this
    environment's): imports and the workflow come from there, not from src/."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
         "--target", str(target), str(REPO)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    assert (target / "litreview" / "workflow" / "Snakefile").is_file()
    return target


def litreview(installed: Path, folder: Path, *arguments: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(installed)}
    result = subprocess.run(
        [sys.executable, "-m", "litreview.cli", *arguments],
        cwd=folder, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise AssertionError(
            f"litreview {' '.join(arguments)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
        )
    return result.stdout + result.stderr


def edit(path: Path, *replacements: tuple[str, str]) -> None:
    """Change a config as a user would in an editor: line by line, comments kept."""
    text = path.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")


def test_starting_a_new_review_as_the_readme_says(installed: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    # 1. litreview init, in an empty folder
    out = litreview(installed, home, "init", "ssi-review", "--title", "Prophylaxis and infection")
    review = home / "ssi-review"
    assert "ssi-review" in out
    assert sorted(p.name for p in review.iterdir()) == [".gitignore", "README.md", "config"]
    config = review / "config" / "config.yaml"
    text = config.read_text(encoding="utf-8")
    assert text.count("\n  # ") > 60  # every key with its description
    edit(
        config,
        ("query: REPLACE WITH YOUR PUBMED QUERY", f"query: '{QUERY}'"),
        ("maxdate: 2025/12/31", "maxdate: 2024/12/31"),
        ("email: you@example.org", "email: reviewer@lab.example"),
    )
    # a live run with the placeholder address would have been refused at load
    # 2. the first snapshot, live against the local server
    store = tmp_path / "store"
    store.mkdir()
    (store / "pubmed.xml").write_bytes(STORE_XML.read_bytes())
    with EutilsServer(store) as server:
        litreview(
            installed, review, "run", "--cores", "1",
            "--config", "search.mode=live", f"entrez.base_url={server.base_url}",
        )  # fmt: skip
    snapshots = list((review / "resources" / "snapshots" / "pubmed").iterdir())
    assert len(snapshots) == 1
    results = review / "results"
    queue = load_workbook(results / "screening" / "queue.xlsx")["screening"]
    header = [cell.value for cell in queue[1]]
    # the review (3010) is excluded automatically, by init's publication-type rule
    assert len(list(queue.iter_rows(min_row=2))) == 11
    # 3. screen in the queue workbook: includes read in full, exclusions with reasons, one
    #    record left undecided; saved as the screening sheet init listed
    column = {
        name: header.index(name) for name in ("record", "stage", "decision", "reason", "reviewer")
    }
    for row in queue.iter_rows(min_row=2):
        pmid = int(row[column["record"]].value.removeprefix("pubmed:"))
        if pmid in INCLUDED:
            row[column["stage"]].value = "full_text"
            row[column["decision"]].value = "include"
        elif pmid in EXCLUDED:
            row[column["decision"]].value = "exclude"
            row[column["reason"]].value = EXCLUDED[pmid]
        else:
            continue  # undecided: left blank
        row[column["reviewer"]].value = "A"
    queue.parent.save(review / "config" / "screening.xlsx")
    litreview(installed, review, "run", "--cores", "1")
    screened = pd.read_csv(results / "screening" / "screened.tsv", sep="\t", dtype=str)
    assert screened["status"].value_counts().to_dict() == {
        "awaiting_title_abstract": 4,
        "included": 5,
        "excluded_title_abstract": 2,
        "excluded_automatic": 1,
    }
    # 4. extract in the blank workbook, saved as the studies sheet init listed
    form = load_workbook(results / "extraction" / "form.xlsx")
    sheet = form["studies"]
    header = [cell.value for cell in sheet[1]]
    assert header == ["study", "label", "design", "n"]
    for row in sheet.iter_rows(min_row=2):
        label, design, n = INCLUDED[int(row[0].value.removeprefix("pubmed:"))]
        row[1].value, row[2].value, row[3].value = label, design, n
    form.save(review / "config" / "extraction" / "studies.xlsx")
    litreview(installed, review, "run", "--cores", "1")
    metrics = pd.read_csv(results / "tables" / "metrics.tsv", sep="\t", dtype=str).set_index(
        "metric"
    )
    assert metrics.loc["designs.total", "value"] == "5"
    assert metrics.loc["designs.rct.n", "value"] == "3"
    assert metrics.loc["designs.cohort.percent", "value"] == "40"
    assert metrics.loc["participants.sum", "value"] == "2528"
    assert metrics.loc["prisma.records_screened", "value"] == "11"
    assert metrics.loc["prisma.excluded_automatic.not_primary", "value"] == "1"
    assert (results / "figures" / "designs.png").stat().st_size > 5000
    # 5. audit against a published version
    (review / "config" / "published.yaml").write_text(
        "included: 5\nrandomised: 3\nparticipants: 2500\nscreened: 11\n", encoding="utf-8"
    )
    edit(
        config,
        ("  published: null", "  published: config/published.yaml"),
        (
            "  targets: []",
            "  targets:\n"
            "  - {id: included, published: included, metric: designs.total}\n"
            "  - {id: randomised, published: randomised, metric: designs.rct.n}\n"
            "  - {id: participants, published: participants, metric: participants.sum}\n"
            "  - {id: screened, published: screened, metric: prisma.records_screened}",
        ),
    )
    litreview(installed, review, "run", "--cores", "1")
    audit = pd.read_csv(results / "audit" / "audit.csv", dtype=str).set_index("id")["status"]
    assert audit.to_dict() == {
        "included": "match",
        "randomised": "match",
        "participants": "differs",
        "screened": "match",
    }
    # the review folder holds only its config, sheets, snapshots and results
    kept = {p.name for p in review.iterdir()}
    assert kept <= {
        ".gitignore",
        "README.md",
        "config",
        "resources",
        "results",
        "logs",
        ".snakemake",
    }
    assert not (review / "Snakefile").exists() and not (review / "workflow").exists()


def test_init_refuses_a_folder_with_files(installed: Path, tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    env = {**os.environ, "PYTHONPATH": str(installed)}
    result = subprocess.run(
        [sys.executable, "-m", "litreview.cli", "init", "taken"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "is not empty" in result.stderr
    assert (tmp_path / "taken" / "notes.txt").read_text() == "mine"


def test_a_live_run_with_the_placeholder_address_is_refused_at_load(
    installed: Path, tmp_path: Path
) -> None:
    litreview(installed, tmp_path, "init", "r")
    env = {**os.environ, "PYTHONPATH": str(installed)}
    result = subprocess.run(
        [sys.executable, "-m", "litreview.cli", "run", "--cores", "1", "--config", "search.mode=live"],
        cwd=tmp_path / "r", env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "entrez.email is the placeholder 'you@example.org'" in result.stdout + result.stderr
    assert not (tmp_path / "r" / "resources").exists()
