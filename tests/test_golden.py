"""The first review, now config only, gives the numbers it gave when its report was code.

tests/golden/first_review/ holds the outputs frozen before the extraction form, quantities and
report became declared (issue 8). Every number must be identical: metrics (by the name map in
metric_names.tsv), the extraction's doses and timings, the tables, and the audit."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from tests.reviews import REPO, run_workflow

pytestmark = pytest.mark.e2e

GOLDEN = Path(__file__).parent / "golden" / "first_review"


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("first_review")
    shutil.copytree(REPO / "config", folder / "config")
    shutil.copytree(REPO / "resources" / "snapshots", folder / "resources" / "snapshots")
    run_workflow(folder)
    return folder / "results"


def _tsv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t" if path.suffix == ".tsv" else ","))


NAMES = {row["old"]: row["new"] for row in _tsv(GOLDEN / "metric_names.tsv")}


def test_every_golden_metric_has_its_declared_name() -> None:
    golden = [row["metric"] for row in _tsv(GOLDEN / "metrics.tsv")]
    assert len(golden) == 221
    assert sorted(NAMES) == sorted(golden)
    assert all(NAMES.values())
    # three old names said one number twice (tbi.studies, ich.studies, clinical.trials repeat
    # counts of the counts table): the declared report has each number once
    assert len(set(NAMES.values())) == len(NAMES) - 3


def test_every_metric_is_identical(results: Path) -> None:
    new = {row["metric"]: row["value"] for row in _tsv(results / "tables" / "metrics.tsv")}
    differences = {
        old: (row["value"], new.get(NAMES[old]))
        for old, row in ((row["metric"], row) for row in _tsv(GOLDEN / "metrics.tsv"))
        if new.get(NAMES[old]) != row["value"]
    }
    assert not differences


def test_the_audit_is_identical(results: Path) -> None:
    new = {row["id"]: row for row in _tsv(results / "audit" / "audit.csv")}
    for old in _tsv(GOLDEN / "audit.csv"):
        row = new[old["id"]]
        for column in ("published_path", "published", "regenerated", "difference", "status"):
            assert row[column] == old[column], (old["id"], column)
        explanation = old["explanation"]
        # the target's metrics, renamed as the audit targets in config now name them
        renamed = dict(zip(old["metric"].split(" + "), row["metric"].split(" + "), strict=True))
        for name, declared in renamed.items():
            assert NAMES.get(name, declared) == declared
        explanation = re.sub(
            r"metric (\S+?)(?=[\s;]|$)",
            lambda match, renamed=renamed: f"metric {renamed.get(match.group(1), match.group(1))}",
            explanation,
        )
        if old["id"] == "ich_timing_days":  # the detail names the declared set now
            explanation = explanation.replace(
                "intracerebral_hemorrhage studies of preclinical_stem_cell", "studies of ich"
            )
        assert row["explanation"] == explanation, old["id"]


def test_the_extraction_values_are_identical(results: Path) -> None:
    old_doses = pd.read_csv(GOLDEN / "extraction" / "doses.tsv", sep="\t", dtype=str)
    new_doses = pd.read_csv(results / "extraction" / "dose.tsv", sep="\t", dtype=str)
    old = old_doses[["record_id", "arm", "text", "value", "cells_per_kg", "per_kg_estimated"]]
    new = new_doses[["record_id", "arm", "text", "value", "per_weight", "per_weight_estimated"]]
    assert old.fillna("").values.tolist() == new.fillna("").values.tolist()
    assert (
        old_doses["per_kg_basis"].fillna("").tolist()
        == new_doses["per_weight_basis"].fillna("").tolist()
    )
    old_times = pd.read_csv(GOLDEN / "extraction" / "timings.tsv", sep="\t", dtype=str)
    new_times = pd.read_csv(results / "extraction" / "timing.tsv", sep="\t", dtype=str)
    columns = ["record_id", "arm", "text", "hours", "anchor", "event"]
    assert (
        old_times[columns].fillna("").values.tolist()
        == new_times[columns].fillna("").values.tolist()
    )
    old_studies = pd.read_csv(GOLDEN / "extraction" / "studies.tsv", sep="\t", dtype=str)
    new_studies = pd.read_csv(results / "extraction" / "studies.tsv", sep="\t", dtype=str)
    pairs = {
        "record_id": "record_id",
        "label": "label",
        "category": "category",
        "disease": "disease",
        "origin_group": "origin_group",
        "timing_hours_min": "timing_min",
        "dose_cells_per_kg_min": "dose_per_kg_min",
        "dose_cells_per_kg_max": "dose_per_kg_max",
        "mechanisms": "mechanisms",
        "registry_id": "registry_id",
        "n": "n",
    }
    for old_column, new_column in pairs.items():
        old_values = old_studies[old_column].fillna("").tolist()
        new_values = new_studies[new_column].fillna("").tolist()
        if old_column == "n":  # an integer field is read back as a number
            new_values = [value.removesuffix(".0") for value in new_values]
        assert old_values == new_values, old_column


def test_the_tables_hold_the_same_numbers(results: Path) -> None:
    tables = results / "tables"
    old = pd.read_csv(GOLDEN / "tables" / "counts.csv", dtype=str).fillna("")
    new = pd.read_csv(tables / "counts.csv", dtype=str).fillna("")
    old_rows = {
        (r.category, r.disease, r.count, r.percent) for r in old.itertuples() if r.level != "total"
    }
    new_rows = {(r.category, r.disease, r.n, r.percent) for r in new.itertuples()}
    assert old_rows == new_rows
    old = pd.read_csv(GOLDEN / "tables" / "fig3_timing.csv", dtype=str)
    new = pd.read_csv(tables / "fig3_timing.csv", dtype=str)
    assert (
        old[["bin", "studies", "studies_any_timing"]].values.tolist()
        == new[["bin", "studies", "studies_any_value"]].values.tolist()
    )
    old = pd.read_csv(GOLDEN / "tables" / "fig2_dose_per_kg.csv", dtype=str)
    new = pd.read_csv(tables / "fig2_dose_per_kg.csv", dtype=str).set_index("group")
    for row in old.itertuples(index=False):
        species, studies, values, estimated, low, median, high = row
        assert new.loc[species, ["studies", "values", "estimated_values"]].tolist() == [
            studies,
            values,
            estimated,
        ]
        shown = new.loc[species, [c for c in new.columns if "×10^5" in c]].astype(float).tolist()
        assert shown == [float(low), float(median), float(high)]
    for name in ("table1_modified", "table3_clinical", "tableS1_tbi"):
        old = pd.read_csv(GOLDEN / "tables" / f"{name}.csv", dtype=str)
        new = pd.read_csv(tables / f"{name}.csv", dtype=str)
        assert old["study"].tolist() == new["label"].tolist(), name
    old = pd.read_csv(GOLDEN / "tables" / "table3_clinical.csv", dtype=str)
    new = pd.read_csv(tables / "table3_clinical.csv", dtype=str)
    assert old["n"].fillna("").tolist() == new["n"].fillna("").tolist()
    # the as-reported text is kept now even when it holds no dose (then no value beside it)
    for before, after, value in zip(
        old["dose_as_reported"].fillna(""),
        new["dose"].fillna(""),
        new["dose (×10^5 cells/kg)"].fillna(""),
        strict=True,
    ):
        assert before == after or (before == "" and value == "")
    assert (
        old["dose per kg (×10^5 cells/kg)"].fillna("").tolist()
        == new["dose (×10^5 cells/kg)"].fillna("").tolist()
    )
    old = pd.read_csv(GOLDEN / "tables" / "tableS1_tbi.csv", dtype=str)
    new = pd.read_csv(tables / "tableS1_tbi.csv", dtype=str)
    assert old["timing (days)"].fillna("").tolist() == new["timing (days)"].fillna("").tolist()
