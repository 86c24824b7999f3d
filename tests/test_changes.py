"""The change report between two monthly snapshots taken from the local E-utilities server:
new records, a gone (deleted) PMID, a metadata change, an included study now retracted, an
erratum, a record entered late, a changed QueryTranslation and the count."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from litreview import stages
from litreview.changes import CHANGE_COLUMNS, CHANGE_KINDS
from litreview.testing.eutils import EutilsServer
from litreview.testing.pubmed_xml import render_article_set
from tests.reviews import REPO, take_snapshot

QUERY = "antibiotic prophylaxis surgical site infection"


def _record(pmid: int, title: str, **fields: object) -> dict:
    return {"pmid": pmid, "title": title, "year": 2020, "languages": ["eng"],
            "publication_types": ["Journal Article"], "doi": f"10.5555/m.{pmid}",
            "entrez_date": "2020-06-01", **fields}  # fmt: skip


MONTH_1 = [
    _record(5001, "Cefazolin timing trial"),
    _record(5002, "Weight-based dosing trial"),
    _record(5003, "Vancomycin infusion trial"),
    _record(5004, "Clindamycin cohort"),
    _record(5005, "A record PubMed will delete"),
]
# month 1 was searched on 1 October; PubMed revised the records it changed in October
MONTH_1_SEARCHED = datetime(2026, 10, 1, 6, 0, tzinfo=UTC)
TODAY = "2026-10-15"  # PubMed revises a record it changes
MONTH_2 = [
    _record(5001, "Cefazolin timing trial"),
    _record(5002, "Weight-based dosing trial: final results", revised_date=TODAY),  # title
    _record(
        5003,
        "Vancomycin infusion trial",
        publication_types=["Journal Article", "Retracted Publication"],
        revised_date=TODAY,
    ),
    _record(5004, "Clindamycin cohort", comments_corrections=[("ErratumIn", "5009")]),
    _record(5006, "A new trial published this month", year=2023, entrez_date="2023-12-20"),
    # published in 2020, inside the window, but entered PubMed after the first search
    _record(5007, "A trial entered late", entrez_date="2099-01-15"),
    _record(5008, "Erratum to a trial", publication_types=["Published Erratum"]),
]


@pytest.fixture(scope="module")
def months(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("living")
    shutil.copytree(
        REPO / "tests" / "reviews" / "antibiotic_prophylaxis" / "config", folder / "config"
    )
    config = folder / "config" / "config.yaml"
    config.write_text(
        config.read_text().replace(
            "query: antibiotic prophylaxis surgical site infection", f"query: {QUERY}"
        )
    )
    take_snapshot(folder, render_article_set(MONTH_1), [str(r["pmid"]) for r in MONTH_1], "month 1")
    time.sleep(1.1)  # snapshots are named by the second
    take_snapshot(
        folder,
        render_article_set(MONTH_2),
        [str(r["pmid"]) for r in MONTH_2],
        "month 2",
        translation="(antibiotic prophylaxis[MeSH Terms]) AND surgical site infection[MeSH Terms]",
    )
    return folder


def run_changes(folder: Path) -> tuple[pd.DataFrame, str]:
    root = folder / "resources" / "snapshots" / "pubmed"
    latest = sorted(root.iterdir())[-1]
    pointer = folder / "pointer.json"
    pointer.write_text(json.dumps({"snapshot": str(latest)}))
    screened = folder / "screened.tsv"
    screened.write_text("record_id\tstatus\npubmed:5001\tincluded\npubmed:5003\tincluded\n")
    search = {"snapshots_dir": str(folder / "resources" / "snapshots"), "database": "pubmed"}
    csv_path, md_path = folder / "changes.csv", folder / "changes.md"
    stages.change_outputs(pointer, screened, search, {"before": None}, csv_path, md_path)
    return pd.read_csv(csv_path, dtype=str), md_path.read_text()


def test_month_two_reports_exactly_what_changed(months: Path) -> None:
    changes, report = run_changes(months)
    assert list(changes.columns) == list(CHANGE_COLUMNS)
    assert set(changes["change"]) <= set(CHANGE_KINDS)
    found = sorted(
        (row.change, "" if pd.isna(row.pmid) else row.pmid) for row in changes.itertuples()
    )
    assert found == sorted(
        [
            ("new", "5006"),
            ("new", "5007"),
            ("new", "5008"),
            ("late_entry", "5007"),
            ("gone", "5005"),
            ("metadata", "5002"),
            ("retracted", "5003"),
            ("erratum", "5008"),
            ("erratum", "5004"),  # corrected by an erratum (ErratumIn): listed, not alarmed
            ("translation_drift", ""),
            ("count", ""),
        ]
    )
    count = changes[changes["change"] == "count"].iloc[0]
    assert (count["before"], count["after"]) == ("5", "7")
    title = changes[changes["change"] == "metadata"].iloc[0]
    assert title["detail"] == "title changed"
    assert title["after"] == "Weight-based dosing trial: final results"
    drift = changes[changes["change"] == "translation_drift"].iloc[0]
    assert "MeSH Terms" in drift["after"]
    # the summary, fit for an e-mail body, leads with the included study now retracted
    first_lines = report.splitlines()[2:4]
    assert first_lines[0].startswith("ALARM: 1 included study is now retracted")
    assert "pubmed:5003" in first_lines[0]
    assert "3 new to screen; 1 gone; 1 metadata changes; 1 newly retracted" in report
    assert "## translation drift (1)" in report


def test_the_first_snapshot_has_nothing_to_compare(tmp_path: Path) -> None:
    shutil.copytree(
        REPO / "tests" / "reviews" / "antibiotic_prophylaxis" / "config", tmp_path / "config"
    )
    take_snapshot(
        tmp_path, render_article_set(MONTH_1), ["5001", "5002", "5003", "5004", "5005"], "m1"
    )
    changes, report = run_changes(tmp_path)
    assert changes.empty and list(changes.columns) == list(CHANGE_COLUMNS)
    assert "first snapshot" in report


MONTHLY_CONFIG = f"""
review: {{id: monthly, title: A monthly review}}
search: {{query: {QUERY}, mindate: "2000/01/01", maxdate: "2024/12/31"}}
entrez: {{email: reviewer@lab.example}}
screening:
  sheets: [config/screening.csv]
  reasons: {{not_primary: Not a primary study}}
prisma: {{update_from_versions: true}}
"""


def changes_of(folder: Path, kind: str) -> list[str]:
    changes = pd.read_csv(folder / "results" / "changes" / "changes.csv", dtype=str)
    return list(changes.loc[changes["change"] == kind, "pmid"])


RESULT_FILES = ("records.tsv", "screening/screened.tsv", "prisma/prisma.csv", "changes/changes.csv")


def test_a_monthly_rerun_end_to_end(tmp_path: Path) -> None:
    """Month 1 screened, month 2 searched live (incrementally) through `litreview run`: the
    change report, the queue holding the new records first, a decision on the deleted PMID
    kept as history (not an error), and the exit status a scheduler acts on."""
    folder = tmp_path / "review"
    (folder / "config").mkdir(parents=True)
    (folder / "config" / "config.yaml").write_text(MONTHLY_CONFIG)
    (folder / "config" / "screening.csv").write_text(
        "record,stage,decision,reason,category,reviewer,date\n"
        + "".join(f"{pmid},full_text,include,,,A,2026-10-02\n" for pmid in (5001, 5003))
        + "5005,title_abstract,exclude,not_primary,,A,2026-10-02\n"
    )
    take_snapshot(
        folder,
        render_article_set(MONTH_1),
        [str(r["pmid"]) for r in MONTH_1],
        "m1",
        started_at=MONTH_1_SEARCHED,
    )
    month_1 = sorted((folder / "resources" / "snapshots" / "pubmed").iterdir())[-1].name
    offline = [
        sys.executable, "-m", "litreview.cli", "run", "--cores", "1",
        "--snakefile", str(REPO / "workflow" / "Snakefile"),
    ]  # fmt: skip
    subprocess.run(offline, cwd=folder, capture_output=True, check=True)  # version v1
    v1 = json.loads((folder / "resources" / "versions" / "v1.json").read_text())
    time.sleep(1.1)  # snapshots are named by the second
    store = tmp_path / "store"
    store.mkdir()
    (store / "pubmed.xml").write_bytes(render_article_set(MONTH_2))
    (store / "queries.json").write_text(json.dumps({QUERY: [r["pmid"] for r in MONTH_2]}))
    command = [
        sys.executable, "-m", "litreview.cli", "run", "--cores", "1",
        "--snakefile", str(REPO / "workflow" / "Snakefile"),
        "--new-records-exit-code", "10", "--config", "search.mode=live",
    ]  # fmt: skip
    with EutilsServer(store) as server:
        result = subprocess.run(
            [*command, f"entrez.base_url={server.base_url}"],
            cwd=folder, capture_output=True, text=True, check=False,
        )  # fmt: skip
        requests = list(server.requests)
        # the same month again: no new snapshot, and Snakemake reruns nothing downstream
        stamps = {name: (folder / "results" / name).stat().st_mtime_ns for name in RESULT_FILES}
        again = subprocess.run(
            [*command, f"entrez.base_url={server.base_url}"],
            cwd=folder, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert again.returncode == 10, again.stderr[-3000:]
        assert (
            "no change since snapshot" in (folder / "logs" / "search" / "snapshot.log").read_text()
        )
        assert {n: (folder / "results" / n).stat().st_mtime_ns for n in RESULT_FILES} == stamps
    assert result.returncode == 10, result.stdout[-2000:] + result.stderr[-3000:]
    assert "3 new record(s) to screen" in result.stdout
    fetched = {
        pmid
        for request in requests
        if request.endpoint == "efetch"
        for pmid in request.params.get("id", "").split(",")
        if pmid
    }
    # the new records, the two PubMed revised, and the gone PMID (asked, to say why); the
    # unchanged ones are not fetched again
    assert fetched == {"5002", "5003", "5006", "5007", "5008", "5005"}
    assert set(changes_of(folder, "deleted")) == {"5005"}  # PubMed no longer serves it
    results = folder / "results"
    changes = pd.read_csv(results / "changes" / "changes.csv", dtype=str)
    assert set(changes.loc[changes["change"] == "new", "pmid"]) == {"5006", "5007", "5008"}
    queue = pd.read_csv(results / "screening" / "queue.csv", dtype=str)
    new = set(queue.loc[queue["new"] == "True", "record"])
    assert new == {"pubmed:5006", "pubmed:5007", "pubmed:5008"}
    assert set(queue["record"].head(3)) == new  # new records first
    orphans = pd.read_csv(results / "screening" / "orphans.tsv", sep="\t", dtype=str)
    assert orphans[["pmid", "decision"]].values.tolist() == [["5005", "exclude"]]
    report = (results / "changes" / "changes.md").read_text()
    assert "ALARM: 1 included study is now retracted" in report
    assert "PMID 5005: exclude at title_abstract by A" in report
    # every included study retracted heads the report, from PubMed's flags
    assert report.splitlines()[2] == "ALARM: included study pubmed:5003 is retracted (PubMed)."
    watch = pd.read_csv(results / "changes" / "retractions.tsv", sep="\t", dtype=str)
    assert watch[["record_id", "status", "source"]].values.tolist() == [
        ["pubmed:5003", "retracted", "PubMed"]
    ]

    # month 2 is version v2; replaying month 1 gives v1's numbers again, and no third version
    v2 = json.loads((folder / "resources" / "versions" / "v2.json").read_text())
    assert v1["prisma"]["database_results"] == 5 and v1["prisma"]["previous_studies"] == 0
    replay = subprocess.run(
        [*offline, "--config", f"search.snapshot={month_1}"],
        cwd=folder, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert replay.returncode == 0, replay.stderr[-3000:]
    versions = pd.read_csv(results / "versions" / "versions.csv", dtype=str)
    assert versions["version"].tolist() == ["v1", "v2"]
    prisma = pd.read_csv(results / "prisma" / "metrics.tsv", sep="\t", dtype=str)
    replayed = dict(zip(prisma["metric"], prisma["value"], strict=True))
    assert all(replayed[f"prisma.{box}"] == str(n) for box, n in v1["prisma"].items())
    # month 2's PRISMA is an update on v1: previous boxes from v1, the flow of new records only
    month_2 = v2["prisma"]
    assert month_2["previous_studies"] == v1["prisma"]["total_studies"] == 2
    assert month_2["database_results"] == 3  # 5006, 5007, 5008: the records v1 had not seen
    assert month_2["total_studies"] == month_2["previous_studies"] + month_2["new_studies"]


def test_a_new_record_merged_into_a_screened_one_is_listed() -> None:
    from litreview.stages import _merged_new_records

    clusters = pd.DataFrame(
        {
            "record_id": ["pubmed:1", "pubmed:9", "pubmed:8"],
            "cluster_id": ["pubmed:1", "pubmed:1", "pubmed:8"],
            "kept": ["True", "False", "True"],
        }
    )
    screened = pd.DataFrame(
        {"record_id": ["pubmed:1", "pubmed:8"], "status": ["included", "awaiting_title_abstract"]}
    )
    changes = pd.DataFrame({"change": ["new", "new"], "record_id": ["pubmed:9", "pubmed:8"]})
    text = _merged_new_records(changes, clusters, screened)
    assert "`pubmed:9` is a duplicate of `pubmed:1`, already included" in text
    assert "pubmed:8" not in text
