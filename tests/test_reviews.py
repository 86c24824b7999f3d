"""Reviews from other fields, end to end with no code of their own: a review of antibiotic
prophylaxis in surgery (doses in mg and mg/kg, minutes from surgical events, two-arm
outcomes, several designs) and the smallest config that works. Every number is checked
against hand-worked answers (expected.yaml beside each config)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from openpyxl import load_workbook

from litreview.testing.pubmed_xml import render_article_set
from tests.reviews import run_workflow, take_snapshot

pytestmark = pytest.mark.e2e

REVIEWS = Path(__file__).parent / "reviews"
SURGERY = REVIEWS / "antibiotic_prophylaxis"
MINIMAL = REVIEWS / "minimal"


def _metrics(folder: Path) -> pd.Series:
    table = pd.read_csv(
        folder / "results" / "tables" / "metrics.tsv", sep="\t", dtype={"value": str}
    )
    assert not table["metric"].duplicated().any()
    return table.set_index("metric")["value"]


def _check_metrics(metrics: pd.Series, expected: dict) -> None:
    wrong = {
        name: (metrics.get(name), value)
        for name, value in expected.items()
        if name not in metrics.index or float(metrics[name]) != pytest.approx(value, rel=1e-9)
    }
    assert not wrong, wrong


@pytest.fixture(scope="module")
def surgery(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("surgery")
    shutil.copytree(SURGERY / "config", folder / "config")
    pmids = [str(pmid) for pmid in range(3001, 3013)]
    take_snapshot(folder, (SURGERY / "pubmed.xml").read_bytes(), pmids, "surgery test review")
    run_workflow(folder)
    return folder


SURGERY_EXPECTED = yaml.safe_load((SURGERY / "expected.yaml").read_text(encoding="utf-8"))


def test_every_number_of_the_surgery_review(surgery: Path) -> None:
    metrics = _metrics(surgery)
    _check_metrics(metrics, SURGERY_EXPECTED["metrics"])
    for name, text in SURGERY_EXPECTED["text_metrics"].items():
        assert metrics[name] == text


def test_the_surgery_audit(surgery: Path) -> None:
    audit = pd.read_csv(surgery / "results" / "audit" / "audit.csv", dtype=str).set_index("id")
    assert audit["status"].to_dict() == SURGERY_EXPECTED["audit"]
    assert audit.loc["patients", "regenerated"] == "4614"


def test_the_surgery_extraction_keeps_the_reported_text_beside_each_value(surgery: Path) -> None:
    extraction = surgery / "results" / "extraction"
    doses = pd.read_csv(extraction / "dose.tsv", sep="\t", dtype=str)
    clark = doses[doses["text"] == "3 x 500 mg"].iloc[0]
    assert (clark["amount"], clark["repeats"], clark["total"]) == ("500.0", "3", "1500.0")
    assert clark["per_weight_basis"] == "reference weight adult 70 kg"
    davis = doses[doses["text"].str.startswith("1 g bolus")].iloc[0]
    assert (davis["value"], davis["unit"], davis["amount"]) == ("2.0", "g", "2000.0")
    timings = pd.read_csv(extraction / "timing.tsv", sep="\t", dtype=str)
    fox = timings[timings["record_id"] == "pubmed:3006"]
    assert fox[["arm", "text", "value", "event"]].values.tolist() == [
        ["after clamping", "at cord clamping", "8.0", "cord_clamping"],
        ["before incision", "30 min before incision", "-30.0", "incision"],
    ]
    studies = pd.read_csv(extraction / "studies.tsv", sep="\t", dtype=str).set_index("label")
    assert studies.loc["Fox2020", "patients_total"] == "598.0"
    assert studies.loc["Green2018", "design_group"] == "observational"
    listing = pd.read_csv(surgery / "results" / "tables" / "randomised_trials.csv", dtype=str)
    assert list(listing.columns) == [
        "label",
        "drug",
        "dose",
        "dose (mg/kg)",
        "timing",
        "timing (min)",
        "registry_id",
    ]
    assert listing.loc[listing["label"] == "Davis2018", "dose (mg/kg)"].item() == "26.7"


def test_the_surgery_figures_are_drawn(surgery: Path) -> None:
    for name in ("designs", "dose_per_kg", "timing", "populations"):
        for extension in ("png", "svg"):
            assert (surgery / "results" / "figures" / f"{name}.{extension}").stat().st_size > 5000


def test_the_blank_extraction_workbook_filled_in_is_read_as_it_is(
    surgery: Path, tmp_path: Path
) -> None:
    """Reviewers fill in results/extraction/form.xlsx: saved as the studies sheet, the same
    numbers come out."""
    form = surgery / "results" / "extraction" / "form.xlsx"
    workbook = load_workbook(form)
    assert workbook.sheetnames == ["studies", "arms", "fields", "lists"]
    sheet = workbook["studies"]
    header = [cell.value for cell in sheet[1]]
    keys = [row[0].value for row in sheet.iter_rows(min_row=2)]
    assert header[:3] == ["study", "label", "category"]
    assert keys == [f"pubmed:{pmid}" for pmid in range(3001, 3010)]
    validated = {str(v.sqref).split(":")[0][0] for v in sheet.data_validations.dataValidation}
    assert len(validated) == 4  # category, design, drug, population drop-downs
    described = [row[1].value for row in workbook["fields"].iter_rows(min_row=2)]
    assert "dose" in described and "timing" in described
    filled = pd.read_csv(SURGERY / "config" / "extraction" / "studies.csv", dtype=str)
    by_pmid = filled.set_index("study")
    for row in sheet.iter_rows(min_row=2):
        source = by_pmid.loc[row[0].value.removeprefix("pubmed:")]
        for cell, column in zip(row[1:], header[1:], strict=False):
            value = source.get(column)
            cell.value = None if pd.isna(value) else value
    folder = tmp_path / "review"
    shutil.copytree(surgery / "config", folder / "config")
    shutil.copytree(surgery / "resources", folder / "resources")
    workbook.save(folder / "config" / "extraction" / "studies.xlsx")
    config_path = folder / "config" / "config.yaml"
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    config["extraction"]["studies"] = "config/extraction/studies.xlsx"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    run_workflow(folder)
    assert _metrics(folder).to_dict() == _metrics(surgery).to_dict()


def test_the_minimal_review(tmp_path: Path) -> None:
    folder = tmp_path / "minimal"
    shutil.copytree(MINIMAL / "config", folder / "config")
    records = [
        {"pmid": 4000 + i, "title": f"Study {i}", "year": 2020 + i, "languages": ["eng"]}
        for i in range(1, 5)
    ]
    take_snapshot(folder, render_article_set(records), ["4001", "4002", "4003", "4004"], "minimal")
    run_workflow(folder)
    expected = yaml.safe_load((MINIMAL / "expected.yaml").read_text(encoding="utf-8"))
    _check_metrics(_metrics(folder), expected["metrics"])
    assert (folder / "results" / "tables" / "designs.md").read_text().count("\n") > 3
    assert not (folder / "results" / "figures").exists()
