"""litreview.regenerate on a hand-made review of 15 studies whose numbers are worked out by hand.

The data set (3 categories, 4 species, 5 diseases):
  preclinical_stem_cell (10)
    ischemic stroke (7): Ahn2010 .. Goto2016 (cell sources, doses and timings below)
    traumatic brain injury (2): Hara2017, Ito2018; intracerebral hemorrhage (1): Jo2019
  preclinical_exosome (2): Kim2020 (3e11 particles), Lee2021 (1e10 particles and 50 ug)
  clinical_stem_cell (3): Moniz2022, Nakano2023 (ischemic stroke), Ono2024 (MSA)
Stroke studies:
  study     species origin  tissue           modification          doses                       timings (h)
  Ahn2010   rat     human   bone_marrow      none                  1e6, 1e4 cells (est. /0.275) 24
  Baker2011 rat     human   umbilical_cord   preconditioned        2e5 cells, study wt 0.25 kg  1, 24
  Chen2012  mouse   animal  bone_marrow      none                  1e5 cells (est. /0.025)      24, 48
  Diaz2013  mouse   animal  fetal_brain_nsc  genetically_modified  5e6 cells/kg                 0
  Endo2014  dog     human   amnion           none                  2e5 cells/kg                 168
  Fujii2015 rat     animal  neural_crest     none                  3e5, 3e6 cells/kg            400
  Goto2016  rat     -       -                -                     -                            -
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from litreview.errors import ConfigError, InputFileError
from litreview.io import read_table, write_table
from litreview.regenerate import (
    Extraction,
    RegenerationSettings,
    cell_source_table,
    clinical_table,
    count_table,
    dose_points,
    dose_table,
    figure_cell_sources,
    figure_dose_per_kg,
    figure_timing,
    mechanism_matrix,
    mechanism_table,
    metrics_table,
    modified_table,
    prepare,
    read_extraction,
    regenerate,
    tbi_table,
    timing_table,
    to_markdown,
)

STUDY_COLUMNS = [
    *("record_id", "label", "category", "disease", "disease_text", "species", "weight_kg"),
    *("cell_type", "tissue_source", "tissue_text", "origin", "modification", "modification_aim"),
    *("artery", "labelling", "mechanisms", "outcome", "adverse_events", "design", "n"),
    *("registry_id", "clinical_source", "note", "origin_group", "modified", "timing_hours_min"),
    *("timing_bin", "dose_cells_per_kg_max", "dose_cells_per_kg_min"),
]
DOSE_COLUMNS = [
    *("record_id", "arm", "species", "text", "value", "unit", "cells", "cells_per_kg"),
    *("per_kg_estimated", "per_kg_basis", "is_range_end"),
]
TIMING_COLUMNS = ["record_id", "arm", "text", "hours", "anchor", "event", "bin"]

PSC, EXO, CLIN = "preclinical_stem_cell", "preclinical_exosome", "clinical_stem_cell"
STROKE, TBI, ICH = "ischemic_stroke", "traumatic_brain_injury", "intracerebral_hemorrhage"


def _study(number: int, label: str, category: str, disease: str, species: str, **values):
    row = dict.fromkeys(STUDY_COLUMNS)
    row.update(
        record_id=f"pubmed:{number}", label=label, category=category, disease=disease,
        species=species, cell_type="BM-MSC",
    )  # fmt: skip
    modification = values.get("modification")
    row["modified"] = None if modification is None else modification != "none"
    row.update(values)
    return row


def _cells(number: int, species: str, cells: float, weight: float | None = None) -> dict:
    """A total cell count: per kg by the study weight, else by the reference weight (est.)."""
    reference = {"rat": 0.275, "mouse": 0.025, "human": 70.0}[species]
    row = dict.fromkeys(DOSE_COLUMNS)
    row.update(
        record_id=f"pubmed:{number}", species=species, text=f"{cells:g} cells", value=cells,
        unit="cells", cells=cells, cells_per_kg=cells / (weight or reference),
        per_kg_estimated=weight is None,
    )  # fmt: skip
    return row


def _per_kg(number: int, species: str, value: float, arm: str | None = None) -> dict:
    row = dict.fromkeys(DOSE_COLUMNS)
    row.update(
        record_id=f"pubmed:{number}", arm=arm, species=species, text=f"{value:g} cells/kg",
        value=value, unit="cells/kg", cells_per_kg=value, per_kg_estimated=False,
    )  # fmt: skip
    return row


def _other_dose(number: int, value: float, unit: str) -> dict:
    row = dict.fromkeys(DOSE_COLUMNS)
    row.update(record_id=f"pubmed:{number}", text=f"{value:g} {unit}", value=value, unit=unit)
    return row


def _timing(number: int, hours: float) -> dict:
    row = dict.fromkeys(TIMING_COLUMNS)
    row.update(record_id=f"pubmed:{number}", text=f"{hours:g} h after stroke", hours=hours)
    return row


def _tables() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    studies = [
        _study(1, "Ahn2010", PSC, STROKE, "rat", origin="human", origin_group="human",
               tissue_source="bone_marrow", modification="none", timing_hours_min=24,
               mechanisms="neurogenesis; angiogenesis"),
        _study(2, "Baker2011", PSC, STROKE, "rat", origin="human", origin_group="human",
               tissue_source="umbilical_cord", modification="preconditioned",
               modification_aim="hypoxia tolerance", weight_kg=0.25, timing_hours_min=1,
               mechanisms="anti_inflammation", cell_type="hUC-MSC | hypoxic"),
        _study(3, "Chen2012", PSC, STROKE, "mouse", origin="animal_allogeneic",
               origin_group="animal", tissue_source="bone_marrow", modification="none",
               timing_hours_min=24, mechanisms="neurogenesis"),
        _study(4, "Diaz2013", PSC, STROKE, "mouse", origin="animal_syngeneic",
               origin_group="animal", tissue_source="fetal_brain_nsc",
               modification="genetically_modified", modification_aim="VEGF overexpression",
               timing_hours_min=0, mechanisms="angiogenesis; neurogenesis", cell_type="NSC"),
        _study(5, "Endo2014", PSC, STROKE, "dog", origin="human", origin_group="human",
               tissue_source="amnion", modification="none", timing_hours_min=168),
        _study(6, "Fujii2015", PSC, STROKE, "rat", origin="animal_allogeneic",
               origin_group="animal", tissue_source="neural_crest", modification="none",
               timing_hours_min=400),
        _study(7, "Goto2016", PSC, STROKE, "rat"),
        _study(8, "Hara2017", PSC, TBI, "rat", origin="animal_allogeneic", origin_group="animal",
               tissue_source="bone_marrow", modification="none", timing_hours_min=24,
               mechanisms="neuroprotection"),
        _study(9, "Ito2018", PSC, TBI, "rat", origin="human", origin_group="human",
               tissue_source="bone_marrow", modification="none", timing_hours_min=72),
        _study(10, "Jo2019", PSC, ICH, "rat", origin="human", origin_group="human",
               tissue_source="bone_marrow", modification="purified",
               modification_aim="CD133+ selection", timing_hours_min=24),
        _study(11, "Kim2020", EXO, STROKE, "rat", cell_type="exosomes from miR-133b MSC",
               timing_hours_min=24, mechanisms="neurogenesis"),
        _study(12, "Lee2021", EXO, STROKE, "rat", cell_type="MSC-EVs", timing_hours_min=24),
        _study(13, "Moniz2022", CLIN, STROKE, "human", cell_type="BMMNC", n=20,
               clinical_source="autologous", registry_id="NCT01234567", timing_hours_min=72,
               outcome="mRS improved", adverse_events="none"),
        _study(14, "Nakano2023", CLIN, STROKE, "human", cell_type="BMSC", n=30,
               clinical_source="allogeneic", timing_hours_min=168,
               adverse_events="6 of 7 asymptomatic lesions"),
        _study(15, "Ono2024", CLIN, "multiple_system_atrophy", "human", cell_type="BMSC",
               clinical_source="autologous", timing_hours_min=480),
    ]  # fmt: skip
    doses = [
        _cells(1, "rat", 1e6),  # 1e6 / 0.275 = 3636363.64 cells/kg, estimated
        _cells(1, "rat", 1e4),  # 36363.64, estimated
        _cells(2, "rat", 2e5, weight=0.25),  # 800000, study weight: not estimated
        _cells(3, "mouse", 1e5),  # 4000000, estimated
        _per_kg(4, "mouse", 5e6),
        _per_kg(5, "dog", 2e5),
        _per_kg(6, "rat", 3e5, arm="low"),
        _per_kg(6, "rat", 3e6, arm="high"),
        _per_kg(8, "rat", 5e5),
        _per_kg(9, "rat", 2.5e6),
        _per_kg(10, "rat", 1e6),
        _other_dose(11, 3e11, "particles"),
        _other_dose(12, 1e10, "particles"),
        _other_dose(12, 50, "ug"),
        _per_kg(13, "human", 3e5),
        _cells(14, "human", 7e8),  # 7e8 / 70 = 1e7, estimated
        _per_kg(15, "human", 6e5),
        _per_kg(15, "human", 9e5),
    ]
    timings = [
        _timing(1, 24),
        _timing(2, 1),
        _timing(2, 24),
        _timing(3, 24),
        _timing(3, 48),
        _timing(4, 0),
        _timing(5, 168),
        _timing(6, 400),
        _timing(8, 24),
        _timing(9, 72),
        _timing(9, 336),
        _timing(10, 24),
        _timing(11, 24),
        _timing(12, 24),
        _timing(13, 72),
        _timing(14, 168),
        _timing(15, 480),
    ]
    return (
        pd.DataFrame(studies, columns=STUDY_COLUMNS),
        pd.DataFrame(doses, columns=DOSE_COLUMNS),
        pd.DataFrame(timings, columns=TIMING_COLUMNS),
    )


SETTINGS = RegenerationSettings()


@pytest.fixture(scope="module")
def data() -> Extraction:
    return prepare(*_tables())


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One full run (figures drawn once for the whole module)."""
    return regenerate(*_tables(), SETTINGS, tmp_path_factory.mktemp("results"))


def _metrics(table: pd.DataFrame) -> dict[str, float | None]:
    return dict(zip(table["metric"], table["value"], strict=True))


# --- counts and cell sources --------------------------------------------------------------


def test_counts_by_category_and_disease(data: Extraction) -> None:
    counts = count_table(data, SETTINGS)
    rows = {
        (row["level"], row["category"], row["disease"]): row
        for row in counts.astype(object).where(counts.notna(), None).to_dict("records")
    }
    assert rows[("total", None, None)]["count"] == 15
    # 10 of 15 = 66.7 %, 2 of 15 = 13.3 %, 3 of 15 = 20.0 %
    assert rows[("category", PSC, None)]["count"] == 10
    assert rows[("category", PSC, None)]["percent"] == 66.7
    assert rows[("category", EXO, None)]["percent"] == 13.3
    assert rows[("category", CLIN, None)]["percent"] == 20.0
    # within the 10 preclinical stem-cell studies: 7 stroke (70.0), 2 TBI (20.0), 1 ICH (10.0)
    assert rows[("disease", PSC, STROKE)]["count"] == 7
    assert rows[("disease", PSC, STROKE)]["percent"] == 70.0
    assert rows[("disease", PSC, TBI)]["percent"] == 20.0
    assert rows[("disease", PSC, ICH)]["percent"] == 10.0
    # clinical: 2 of 3 stroke = 66.7, 1 of 3 MSA = 33.3
    assert rows[("disease", CLIN, STROKE)]["percent"] == 66.7
    assert rows[("disease", CLIN, "multiple_system_atrophy")]["percent"] == 33.3
    # categories in settings order, diseases by count within each
    assert list(counts["level"])[:5] == ["total", "category", "disease", "disease", "disease"]
    assert list(counts["disease"])[2:5] == [STROKE, TBI, ICH]


def test_cell_sources_of_the_stroke_studies(data: Extraction) -> None:
    sources = cell_source_table(data, SETTINGS)

    def percent(panel: str, group: str, code: str) -> float:
        row = sources[
            (sources["panel"] == panel) & (sources["group"] == group) & (sources["code"] == code)
        ]
        assert len(row) == 1, (panel, group, code)
        return float(row["percent"].iloc[0])

    # 7 stroke studies: 3 human (Ahn, Baker, Endo) = 42.9 %, 3 animal = 42.9 %, Goto none = 14.3 %
    assert percent("origin", "all", "human") == 42.9
    assert percent("origin", "all", "animal") == 42.9
    assert percent("origin", "all", "not_reported") == 14.3
    # within human (3): bone marrow, umbilical cord, amnion one each = 33.3 %
    assert percent("tissue", "human", "umbilical_cord") == 33.3
    # within animal (3): bone marrow, fetal brain NSC, neural crest
    assert percent("tissue", "animal", "neural_crest") == 33.3
    # modification: none 4 of 7 = 57.1, preconditioned 1 = 14.3, not reported (Goto) 14.3
    assert percent("modification", "all", "none") == 57.1
    assert percent("modification", "all", "genetically_modified") == 14.3
    # exosome and TBI studies are not stroke cell sources: denominators are all 7 or 3
    assert set(sources[sources["panel"] == "origin"]["denominator"]) == {7}
    tissue = sources[sources["panel"] == "tissue"]
    assert dict(zip(tissue["group"], tissue["denominator"], strict=True)) == {
        "human": 3,
        "animal": 3,
        "not_reported": 1,  # Goto: no origin, so its tissue is listed under its own group
    }


def test_modified_table_lists_the_stem_cell_studies_with_modified_cells(data: Extraction) -> None:
    table = modified_table(data, SETTINGS)
    assert list(table["study"]) == ["Baker2011", "Diaz2013", "Jo2019"]
    assert list(table["modification"]) == ["preconditioned", "genetically modified", "purified"]
    assert table["aim"].iloc[1] == "VEGF overexpression"


# --- doses and timings --------------------------------------------------------------------


def test_dose_points_are_every_stroke_value_in_cells_per_kg(data: Extraction) -> None:
    points = dose_points(data, SETTINGS)
    # 8 values: Ahn 2, Baker 1, Chen 1, Diaz 1, Endo 1, Fujii 2 (Goto has none; exosomes excluded)
    assert len(points) == 8
    assert list(dict.fromkeys(points["species"])) == ["mouse", "rat", "dog"]  # settings order
    estimated = points[points["estimated"]]
    assert sorted(estimated["study"]) == ["Ahn2010", "Ahn2010", "Chen2012"]
    baker = points[points["study"] == "Baker2011"]
    assert baker["cells_per_kg"].iloc[0] == pytest.approx(800_000)  # 2e5 cells / 0.25 kg


def test_dose_table_per_species_in_the_display_unit(data: Extraction) -> None:
    table = dose_table(data, SETTINGS).set_index("species")
    unit = "×10^5 cells/kg"
    # rat values: 36363.6, 3e5, 8e5, 3e6, 3636363.6 -> min 0.364, median 8, max 36.4 (x1e5)
    assert table.loc["rat", "studies"] == 3
    assert table.loc["rat", "values"] == 5
    assert table.loc["rat", "estimated_values"] == 2
    assert table.loc["rat", f"min ({unit})"] == 0.364
    assert table.loc["rat", f"median ({unit})"] == 8.0
    assert table.loc["rat", f"max ({unit})"] == 36.4
    # mouse: 4e6 and 5e6 -> median 4.5e6 = 45 x1e5; dog: 2e5 = 2 x1e5
    assert table.loc["mouse", f"median ({unit})"] == 45.0
    assert table.loc["dog", f"median ({unit})"] == 2.0


def test_timing_bins_earliest_and_any(data: Extraction) -> None:
    table = timing_table(data, SETTINGS).set_index("bin")
    # earliest: Diaz 0 h -> <1 h; Baker 1 h -> 1-6 h; Ahn 24, Chen 24 -> day 1; Endo 168 ->
    # day 4-7; Fujii 400 -> other (beyond day 14); Goto -> not reported
    assert dict(table["studies"]) == {
        "<1 h": 1,
        "1-6 h": 1,
        "day 1": 2,
        "day 2-3": 0,
        "day 4-7": 1,
        "day 8-14": 0,
        "other": 1,
        "not reported": 1,
    }
    # any timing: Baker's 24 h and Chen's 48 h count too
    assert table.loc["day 1", "studies_any_timing"] == 3
    assert table.loc["day 2-3", "studies_any_timing"] == 1
    assert list(table.index[:6]) == [entry["label"] for entry in SETTINGS.timing_bins]


def test_timing_table_has_no_other_rows_when_every_timing_is_binned(data: Extraction) -> None:
    bins = (*SETTINGS.timing_bins, {"label": "later", "min_hours": 348, "max_hours": None})
    settings = RegenerationSettings(timing_bins=bins)
    table = timing_table(data, settings)
    assert "other" not in set(table["bin"])
    assert table.set_index("bin").loc["later", "studies"] == 1  # Fujii, 400 h
    assert pd.isna(table.set_index("bin").loc["later", "max_hours"])


# --- mechanisms, TBI, clinical ------------------------------------------------------------


def test_mechanisms_table_and_matrix(data: Extraction) -> None:
    table = mechanism_table(data, SETTINGS)
    # neurogenesis: Ahn, Chen, Diaz, Kim (exosome) = 4; angiogenesis: Ahn, Diaz = 2
    assert list(table["mechanism"]) == [
        "neurogenesis",
        "angiogenesis",
        "anti_inflammation",
        "neuroprotection",
    ]
    assert list(table["studies"]) == [4, 2, 1, 1]
    assert table["study_labels"].iloc[0] == "Ahn2010; Chen2012; Diaz2013; Kim2020"
    matrix = mechanism_matrix(data, SETTINGS).set_index("study")
    assert len(matrix) == 6  # Ahn, Baker, Chen, Diaz, Hara, Kim
    assert matrix.loc["Diaz2013", "angiogenesis"] == 1
    assert matrix.loc["Baker2011", "neurogenesis"] == 0
    assert list(matrix.columns[1:]) == list(table["mechanism"])


def test_tbi_table(data: Extraction) -> None:
    table = tbi_table(data, SETTINGS).set_index("study")
    assert list(table.index) == ["Hara2017", "Ito2018"]
    assert table.loc["Hara2017", "dose per kg (×10^5 cells/kg)"] == "5"
    assert table.loc["Ito2018", "dose per kg (×10^5 cells/kg)"] == "25"
    assert table.loc["Ito2018", "timing (days)"] == "3–14"  # 72 h and 336 h
    assert table.loc["Ito2018", "timing_as_reported"] == "72 h after stroke; 336 h after stroke"


def test_clinical_table(data: Extraction) -> None:
    table = clinical_table(data, SETTINGS).set_index("study")
    assert list(table.index) == ["Moniz2022", "Nakano2023", "Ono2024"]
    per_kg = "dose per kg (×10^5 cells/kg)"
    assert table.loc["Nakano2023", per_kg] == "100 (est.)"  # 7e8 cells / 70 kg = 1e7
    assert table.loc["Ono2024", per_kg] == "6–9"
    assert table.loc["Moniz2022", "n"] == 20
    assert pd.isna(table.loc["Ono2024", "n"])
    assert table.loc["Moniz2022", "registry_id"] == "NCT01234567"
    assert table.loc["Ono2024", "disease"] == "multiple system atrophy"


# --- metrics ------------------------------------------------------------------------------


def test_metrics_computed_by_hand(data: Extraction) -> None:
    table = metrics_table(data, SETTINGS)
    assert table["metric"].is_unique
    metrics = _metrics(table)
    expected = {
        "included_total": 15,
        "category.preclinical_stem_cell": 10,
        "category.clinical_stem_cell": 3,
        "disease.preclinical_stem_cell.ischemic_stroke": 7,
        "disease_percent.preclinical_stem_cell.ischemic_stroke": 70.0,
        "stroke.studies": 7,
        "stroke.origin_percent.human": 300 / 7,  # 42.857
        "stroke.origin_percent.not_reported": 100 / 7,
        "stroke.origin_detail_percent.animal_allogeneic": 200 / 7,  # Chen, Fujii
        "stroke.tissue_percent.human.amnion": 100 / 3,
        "stroke.tissue_group_percent.animal.fetal_brain_nsc_or_neural_crest": 200 / 3,
        "stroke.tissue_group_percent.human.fetal_brain_nsc_or_neural_crest": 0.0,
        "stroke.unmodified_percent": 400 / 7,  # Ahn, Chen, Endo, Fujii
        "stroke.modified_percent": 200 / 7,  # Baker, Diaz
        "stroke.modification_percent.not_reported": 100 / 7,
        # 8 values sorted: 36363.6, 2e5, 3e5, 8e5, 3e6, 3636363.6, 4e6, 5e6
        "stroke.dose_per_kg.min": 1e4 / 0.275,
        "stroke.dose_per_kg.max": 5e6,
        "stroke.dose_per_kg.median": (8e5 + 3e6) / 2,
        "stroke.dose_per_kg.median.rat": 8e5,
        "stroke.dose_per_kg.median.mouse": 4.5e6,
        "stroke.dose_per_kg.min.dog": 2e5,
        # above 3.5e5: Ahn, Baker, Chen, Diaz, Fujii; not Endo (2e5) -> 5 of 6 with doses
        "stroke.dose_per_kg.studies_above_ceiling": 5,
        "stroke.timing_bin_count.<1 h": 1,
        "stroke.timing_bin_count.day 1": 2,
        "stroke.timing_bin_count.day 8-14": 0,
        "stroke.timing_bin_count.other": 1,
        "stroke.timing_bin_count.not_reported": 1,
        "stroke.timing_bin_any_count.day 1": 3,
        "stroke.timing_hours.min": 0,
        "stroke.timing_hours.max": 400,
        "tbi.studies": 2,
        "tbi.dose_per_kg.min": 5e5,
        "tbi.dose_per_kg.max": 2.5e6,
        "tbi.timing_days.min": 1,  # 24 h
        "tbi.timing_days.max": 14,  # 336 h
        "ich.dose_per_kg.max": 1e6,
        "ich.timing_days.min": 1,
        "exosome.dose_particles.min": 1e10,
        "exosome.dose_particles.max": 3e11,  # the 50 ug dose is not particles
        "clinical.trials": 3,
        "clinical.patients": 50,  # 20 + 30; Ono reports no n
        "clinical.dose_per_kg.min": 3e5,
        "clinical.dose_per_kg.max": 1e7,
        "mechanism.studies": 6,
        "mechanism.neurogenesis": 4,
        "study.Fujii2015.dose_per_kg.max": 3e6,
        "study.Ito2018.timing_hours.max": 336,
    }
    for metric, value in expected.items():
        assert metrics[metric] == pytest.approx(value), metric
    rows = table.set_index("metric")
    assert rows.loc["stroke.origin_percent.human", "n"] == 7
    assert rows.loc["stroke.origin_percent.human", "detail"].startswith("3 of 7")
    assert rows.loc["stroke.dose_per_kg.median.rat", "n"] == 3
    assert "3 values estimated" in rows.loc["stroke.dose_per_kg.min", "detail"]
    assert rows.loc["clinical.patients", "n"] == 2
    # every config bin is listed even when empty; study metrics only for studies with values
    assert "study.Goto2016.dose_per_kg.min" not in metrics


def test_metrics_that_cannot_be_computed_are_na_with_a_reason(data: Extraction) -> None:
    empty = prepare(*(table.iloc[0:0] for table in _tables()))
    metrics = metrics_table(empty, RegenerationSettings(safety_ceiling_per_kg=None))
    rows = metrics.set_index("metric")
    for metric in (
        "stroke.origin_percent.human",
        "stroke.dose_per_kg.median",
        "tbi.timing_days.max",
        "exosome.dose_particles.max",
        "clinical.patients",
        "stroke.dose_per_kg.studies_above_ceiling",
    ):
        assert pd.isna(rows.loc[metric, "value"]), metric
        assert rows.loc[metric, "detail"], metric
    assert rows.loc["included_total", "value"] == 0
    assert rows.loc["category.preclinical_exosome", "value"] == 0
    assert rows.loc["stroke.timing_bin_count.day 1", "value"] == 0


def test_codes_come_from_settings() -> None:
    """Renamed categories and diseases: the same study set comes out under the new codes."""
    studies, doses, timings = _tables()
    renamed = studies.replace({PSC: "animal_cells", STROKE: "stroke"})
    settings = RegenerationSettings(
        categories=(("animal_cells", "Animal"), (EXO, "EV"), (CLIN, "Clinical")),
        stem_cell_category="animal_cells",
        stroke_disease="stroke",
        safety_ceiling_per_kg=1e6,
    )
    metrics = _metrics(metrics_table(prepare(renamed, doses, timings), settings))
    assert metrics["stroke.studies"] == 7
    assert metrics["category.animal_cells"] == 10
    assert metrics["disease.animal_cells.stroke"] == 7
    # above 1e6: Ahn (3.6e6), Chen (4e6), Diaz (5e6), Fujii (3e6) -> 4
    assert metrics["stroke.dose_per_kg.studies_above_ceiling"] == 4


# --- files --------------------------------------------------------------------------------


def test_regenerate_writes_every_table_and_figure(written: dict[str, Path]) -> None:
    for name in (
        "counts",
        "fig1_cell_sources",
        "table1_modified",
        "fig2_dose_per_kg",
        "fig3_timing",
        "table2_mechanisms",
        "table2_mechanisms_matrix",
        "tableS1_tbi",
        "table3_clinical",
    ):
        for suffix in ("csv", "md"):
            assert written[f"tables/{name}.{suffix}"].stat().st_size > 0, name
    for name in ("fig1_cell_sources", "fig2_dose_per_kg", "fig3_timing"):
        png = written[f"figures/{name}.png"].read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 10_000, name
        svg = written[f"figures/{name}.svg"].read_text(encoding="utf-8")
        assert "<svg" in svg and "<dc:date>" not in svg, name
    counts = read_table(written["tables/counts.csv"])
    assert counts["count"].iloc[0] == "15"
    leftovers = [p for p in written["tables/counts.csv"].parent.iterdir() if p.name[0] == "."]
    assert leftovers == []  # no temp files left from the atomic writes


def test_metrics_tsv(written: dict[str, Path]) -> None:
    metrics = read_table(written["tables/metrics.tsv"])
    assert list(metrics.columns) == ["metric", "value", "unit", "n", "detail"]
    rows = metrics.set_index("metric")
    assert rows.loc["disease_percent.preclinical_stem_cell.ischemic_stroke", "value"] == "70"
    assert float(rows.loc["stroke.origin_percent.human", "value"]) == pytest.approx(42.857142857)
    assert float(rows.loc["stroke.dose_per_kg.median", "value"]) == 1.9e6
    assert rows.loc["stroke.dose_per_kg.median", "unit"] == "cells/kg"
    assert rows.loc["stroke.timing_bin_count.day 2-3", "value"] == "0"
    assert metrics["value"].notna().all()  # NA is written as "NA", never left empty


def test_metrics_tsv_writes_na(tmp_path: Path) -> None:
    empty = [table.iloc[0:0] for table in _tables()]
    # figures of an empty review still draw ("no studies")
    written = regenerate(*empty, SETTINGS, tmp_path)
    rows = read_table(written["tables/metrics.tsv"]).set_index("metric")
    assert rows.loc["stroke.dose_per_kg.max", "value"] == "NA"
    assert rows.loc["stroke.dose_per_kg.max", "detail"].startswith("no values")
    assert written["figures/fig2_dose_per_kg.png"].read_bytes().startswith(b"\x89PNG")


def test_svg_is_identical_across_runs(written: dict[str, Path], data: Extraction) -> None:
    again = {
        "fig1_cell_sources": figure_cell_sources(data, SETTINGS)["svg"],
        "fig2_dose_per_kg": figure_dose_per_kg(data, SETTINGS)["svg"],
        "fig3_timing": figure_timing(data, SETTINGS)["svg"],
    }
    for name, svg in again.items():
        assert svg == written[f"figures/{name}.svg"].read_bytes(), name


def test_figures_show_n_and_values(written: dict[str, Path]) -> None:
    fig1 = written["figures/fig1_cell_sources.svg"].read_text(encoding="utf-8")
    assert "42.9% (n = 3)" in fig1 and "n = 7" in fig1
    fig2 = written["figures/fig2_dose_per_kg.svg"].read_text(encoding="utf-8")
    assert "estimated per kg" in fig2 and "suggested safety ceiling" in fig2
    assert "×10⁵ cells/kg" in fig2 and "3 studies" in fig2
    fig3 = written["figures/fig3_timing.svg"].read_text(encoding="utf-8")
    assert "day 4-7" in fig3 and "reported" in fig3 and ">1<" in fig3


def test_markdown_tables_are_well_formed(written: dict[str, Path]) -> None:
    for key, path in written.items():
        if not key.endswith(".md"):
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        widths = {len(re.findall(r"(?<!\\)\|", line)) for line in lines}
        assert len(widths) == 1, key  # every row has as many cells as the header
        assert re.fullmatch(r"\|(?:---:?\|)+", lines[1]), key
        csv = read_table(path.with_suffix(".csv"))
        assert len(lines) == len(csv) + 2, key
    modified = written["tables/table1_modified.md"].read_text(encoding="utf-8")
    assert "hUC-MSC \\| hypoxic" in modified  # a "|" in a cell is escaped


def test_to_markdown_formats_cells() -> None:
    table = pd.DataFrame(
        {
            "name": ["a|b", "two\nlines", None],
            "count": pd.array([1, 2, None], dtype="Int64"),
            "percent": [80.3, 100.0, None],
        }
    )
    assert to_markdown(table) == (
        "| name | count | percent |\n"
        "|---|---:|---:|\n"
        "| a\\|b | 1 | 80.3 |\n"
        "| two lines | 2 | 100 |\n"
        "|  |  |  |\n"
    )


# --- reading and checking -----------------------------------------------------------------


def test_tables_read_back_from_tsv_give_the_same_metrics(tmp_path: Path, data: Extraction) -> None:
    paths = [tmp_path / f"{name}.tsv" for name in ("studies", "doses", "timings")]
    for path, table in zip(paths, _tables(), strict=True):
        write_table(path, table)
    from_files = read_extraction(*paths)
    assert from_files == data
    assert metrics_table(from_files, SETTINGS).equals(metrics_table(data, SETTINGS))


def test_a_dose_of_an_unknown_study_names_file_row_and_column() -> None:
    studies, doses, timings = _tables()
    doses.loc[2, "record_id"] = "pubmed:999"
    with pytest.raises(InputFileError) as caught:
        prepare(studies, doses, timings, sources={"doses": "results/extraction/doses.tsv"})
    message = str(caught.value)
    assert "doses.tsv, row 4, column 'record_id'" in message
    assert "pubmed:999" in message


def test_bad_cells_and_missing_columns_are_errors() -> None:
    studies, doses, timings = _tables()
    bad = studies.astype(object)
    bad.loc[0, "modified"] = "maybe"
    with pytest.raises(InputFileError, match=r"row 2, column 'modified'.*'maybe'"):
        prepare(bad, doses, timings)
    bad = studies.astype(object)
    bad.loc[1, "timing_hours_min"] = "24 h"
    with pytest.raises(InputFileError, match=r"row 3, column 'timing_hours_min'"):
        prepare(bad, doses, timings)
    with pytest.raises(InputFileError, match=r"missing column\(s\) 'hours'"):
        prepare(studies, doses, timings.drop(columns="hours"))
    duplicated = pd.concat([studies, studies.iloc[[0]]], ignore_index=True)
    with pytest.raises(InputFileError, match=r"row 17.*also in row 2"):
        prepare(duplicated, doses, timings)


def test_repeated_labels_are_told_apart(data: Extraction) -> None:
    studies, doses, timings = _tables()
    studies.loc[1, "label"] = "Ahn2010"
    metrics = _metrics(metrics_table(prepare(studies, doses, timings), SETTINGS))
    assert metrics["study.Ahn2010 (pubmed:1).dose_per_kg.max"] == pytest.approx(1e6 / 0.275)
    assert metrics["study.Ahn2010 (pubmed:2).dose_per_kg.max"] == pytest.approx(8e5)


# --- settings -----------------------------------------------------------------------------


def test_settings_from_config() -> None:
    config = {
        "screening": {
            "categories": [
                {"name": CLIN, "label": "Clinical"},
                {"name": EXO},
                {"name": PSC, "label": "Preclinical"},
            ]
        },
        "extraction": {"timing_bins": [{"label": "early", "min_hours": 0, "max_hours": 24}]},
        "regenerate": {
            "safety_ceiling_per_kg": None,
            "dose_display_unit": 1e6,
            "labels": {"rat": "Rat"},
            "figures": {"dpi": 100},
        },
    }
    settings = RegenerationSettings.from_config(config)
    assert settings.categories == ((CLIN, "Clinical"), (EXO, EXO), (PSC, "Preclinical"))
    assert settings.safety_ceiling_per_kg is None
    assert settings.dose_unit_text() == "×10^6 cells/kg"
    assert settings.label("rat") == "Rat"
    assert settings.label("bbb_protection") == "BBB protection"  # defaults kept
    assert settings.figure_dpi == 100
    assert [entry["label"] for entry in settings.timing_bins] == ["early"]
    assert RegenerationSettings.from_config({}) == RegenerationSettings()


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"stroke": "x"}, "unknown key"),
        ({"clinical_category": "clinical"}, "not one of the screening categories"),
        ({"safety_ceiling_per_kg": 0}, "safety_ceiling_per_kg"),
        ({"dose_display_unit": "1e5"}, "dose_display_unit"),
        ({"figures": {"width": 3}}, "unknown key"),
    ],
)
def test_bad_settings_are_config_errors(section: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        RegenerationSettings.from_config({"regenerate": section})


def test_reserved_and_overlapping_bins_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="reserved"):
        RegenerationSettings(timing_bins=({"label": "other", "min_hours": 0, "max_hours": 1},))
    with pytest.raises(ConfigError, match="overlap"):
        RegenerationSettings(
            timing_bins=(
                {"label": "a", "min_hours": 0, "max_hours": 10},
                {"label": "b", "min_hours": 5, "max_hours": 20},
            )
        )
