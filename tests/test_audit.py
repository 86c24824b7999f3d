"""The audit: regenerated numbers beside the published ones, differences explained, and the
published numbers checked against each other."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from litreview.audit import (
    AUDIT_COLUMNS,
    AuditSettings,
    CategoryGap,
    Coverage,
    PercentCheck,
    SumCheck,
    audit,
    coverage_from_studies,
    load_published,
    lookup,
    read_metrics,
    render_markdown,
    require_no_differences,
    write_audit,
)
from litreview.errors import ConfigError, InputFileError, ValidationError
from litreview.io import read_table, write_table

DATA = Path(__file__).parent / "data"
ORIGIN = (
    "RECONSTRUCTED, not an NCBI response: PubMed XML rendered by litreview from the public "
    "bibliographic metadata in resources/reconstruction/ (PMID, title, first author, journal, "
    "year, DOI only where a public record showed them; no abstracts, MeSH or languages)."
)

PUBLISHED: dict[str, Any] = {
    "counts": {
        "included_total": 87,
        "preclinical_stem_cell": 71,
        "preclinical_exosome": 4,
        "clinical_stem_cell": 12,
    },
    "preclinical_stem_cell": {"ischemic_stroke": {"n": 57, "percent_reported": 82}, "glioma": 4},
    "ischemic_stroke_dose_per_kg": {
        "min": 0.4,
        "max": 1333,
        "typical_by_species": {"mouse": 200, "rat": 50},
    },
    "traumatic_brain_injury": {"dose_per_kg_1e5": [5, 25], "timing_days": [1, 14]},
    "ischemic_stroke_timing": {"most_common_order": ["day 1", "1-6 h", "day 2-3"]},
    "exosome_doses": {"particles": "3.0e11"},  # PyYAML reads 3.0e11 as text
}


def metrics_table(*rows: tuple[str, Any, str | None, int | None, str | None]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["metric", "value", "unit", "n", "detail"])


def settings(targets: list[dict[str, Any]], consistency: list[dict[str, Any]] | None = None):
    return AuditSettings.from_config({"targets": targets, "consistency": consistency or []})


def target_row(result, identifier: str) -> dict[str, Any]:
    rows = result.targets[result.targets["id"] == identifier].to_dict("records")
    assert len(rows) == 1
    return rows[0]


FULL = Coverage(included_in_sheets=87, included_published=87, origin=ORIGIN)
PARTIAL = Coverage(
    included_in_sheets=72,
    included_published=87,
    missing_categories=(CategoryGap("clinical_stem_cell", 0, 12),),
    origin=ORIGIN,
)


# --- published.yaml and lookup ---------------------------------------------------------------


def test_load_published_reads_the_shared_review_numbers() -> None:
    published = load_published(DATA / "audit" / "published.yaml")
    assert lookup(published, "counts.included_total") == 87
    assert lookup(published, "preclinical_stem_cell.ischemic_stroke.n") == 57
    assert lookup(published, "ischemic_stroke_dose_per_kg.typical_by_species.mouse") == 200
    assert lookup(published, "traumatic_brain_injury.dose_per_kg_1e5.0") == 5
    assert lookup(published, "traumatic_brain_injury.dose_per_kg_1e5.1") == 25
    assert lookup(published, "clinical.main_cells.1") == "BMSC"


def test_load_published_bad_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "published.yaml"
    path.write_text("counts:\n  total: 87\n  bad: [1, 2\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_published(path)
    assert str(caught.value).startswith(f"{path}, line 4, column 1: not valid YAML")


def test_load_published_not_a_mapping_and_missing(tmp_path: Path) -> None:
    path = tmp_path / "published.yaml"
    path.write_text("- 1\n- 2\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="holds a list, not sections"):
        load_published(path)
    with pytest.raises(InputFileError, match="not found"):
        load_published(tmp_path / "absent.yaml")


def test_lookup_missing_key_names_path_and_available_keys() -> None:
    with pytest.raises(ConfigError) as caught:
        lookup(PUBLISHED, "preclinical_stem_cell.ischemic_stroke.count")
    message = str(caught.value)
    assert "'preclinical_stem_cell.ischemic_stroke.count'" in message
    assert "under preclinical_stem_cell.ischemic_stroke" in message
    assert "n, percent_reported" in message


def test_lookup_list_index_out_of_range_and_through_a_value() -> None:
    with pytest.raises(ConfigError, match="has 2 item"):
        lookup(PUBLISHED, "traumatic_brain_injury.dose_per_kg_1e5.2")
    with pytest.raises(ConfigError, match="not an item"):
        lookup(PUBLISHED, "traumatic_brain_injury.dose_per_kg_1e5.first")
    with pytest.raises(ConfigError, match="not a section"):
        lookup(PUBLISHED, "counts.included_total.value")
    with pytest.raises(ConfigError, match="under the top level"):
        lookup(PUBLISHED, "nothing")


# --- settings --------------------------------------------------------------------------------


def test_settings_defaults_and_numeric_text() -> None:
    parsed = AuditSettings.from_config(
        yaml.safe_load(
            """
            strict: true
            targets:
              - {id: a, published: counts.included_total, metric: included_total}
              - {id: b, published: x.y, metric: m, scale: 1e-5, tolerance: 0.5, note: unit}
            consistency:
              - {id: p, kind: percent, numerator: a, denominator: b, percent: c}
              - {id: s, kind: sum, parts: [a, b], total: 100}
            """
        )
    )
    assert parsed.strict is True
    first, second = parsed.targets
    assert (first.scale, first.tolerance, first.note, first.metric) == (
        1.0,
        0.0,
        None,
        ("included_total",),
    )
    assert second.scale == pytest.approx(1e-5)  # "1e-5" is text to YAML 1.1
    assert second.tolerance == 0.5
    percent, total = parsed.consistency
    assert isinstance(percent, PercentCheck) and percent.tolerance == 0.5
    assert isinstance(total, SumCheck) and total.total == 100.0 and total.tolerance == 0.0
    assert AuditSettings.from_config(None) == AuditSettings()


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ({"targets": [{"id": "a", "published": "x"}]}, r"entry 1 \(a\): missing key\(s\) metric"),
        (
            {"targets": [{"id": "a", "published": "x", "metric": "m", "scael": 1}]},
            r"entry 1 \(a\): unknown key\(s\) scael",
        ),
        (
            {"consistency": [{"id": "c", "kind": "ratio", "parts": []}]},
            r"consistency entry 1 \(c\): unknown kind 'ratio'",
        ),
        (
            {"consistency": [{"id": "c", "kind": "percent", "numerator": "a"}]},
            r"\(c\): missing key\(s\) denominator, percent",
        ),
        ({"consistency": [{"id": "c", "parts": ["a"]}]}, "missing key kind"),
        (
            {"targets": [{"id": "a", "published": "x", "metric": "m", "scale": "big"}]},
            "scale: expected a number",
        ),
        (
            {"targets": [{"id": "a", "published": "x", "metric": "m", "compare": "fuzzy"}]},
            "compare",
        ),
        ({"strict": "yes"}, "audit.strict"),
        ({"target": []}, "unknown key"),
        (
            {
                "targets": [{"id": "a", "published": "x", "metric": "m"}],
                "consistency": [{"id": "a", "kind": "sum", "parts": ["x"], "total": "y"}],
            },
            "used twice",
        ),
    ],
)
def test_settings_errors_name_the_entry(section: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        AuditSettings.from_config(section)


def test_this_reviews_default_targets_all_resolve() -> None:
    snippet = yaml.safe_load((DATA / "audit_targets_this_review.yaml").read_text(encoding="utf-8"))
    parsed = AuditSettings.from_config(snippet["audit"])
    published = load_published(DATA / "audit" / "published.yaml")
    for target in parsed.targets:
        lookup(published, target.published)
    result = audit(published, metrics_table(), parsed, coverage=None)
    assert set(result.targets["status"]) == {"not computable"}
    checks = result.checks.set_index("id")
    assert checks.loc["categories_sum_to_total", "status"] == "consistent"
    assert (
        checks.loc["categories_sum_to_total", "sentence"] == "71 + 4 + 12 = 87, published total 87"
    )
    assert checks.loc["ischemic_stroke_percent_of_preclinical", "status"] == "inconsistent"
    assert checks.loc["stroke_origins_sum_to_100", "sentence"] == "51 + 49 = 100, expected 100"
    assert checks.loc["clinical_trials_equal_clinical_category", "status"] == "consistent"


# --- metrics.tsv -----------------------------------------------------------------------------


def test_read_metrics_keeps_na_with_detail(tmp_path: Path) -> None:
    path = tmp_path / "metrics.tsv"
    path.write_text(
        "metric\tvalue\tunit\tn\tdetail\n"
        "included_total\t72\tstudies\t72\t\n"
        "stroke.dose_per_kg.median.dog\t\tcells/kg\t0\tno dog study has a dose in the sheets\n",
        encoding="utf-8",
    )
    metrics = read_metrics(path)
    assert list(metrics.columns) == ["metric", "value", "unit", "n", "detail"]
    assert metrics.loc[0, "value"] == "72" and metrics.loc[0, "n"] == 72
    assert pd.isna(metrics.loc[1, "value"])
    assert metrics.loc[1, "detail"] == "no dog study has a dose in the sheets"


def test_read_metrics_errors_name_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "metrics.tsv"
    path.write_text("metric\tvalue\tn\na\t1\t3\na\t2\t3\n", encoding="utf-8")
    with pytest.raises(InputFileError) as caught:
        read_metrics(path)
    assert (caught.value.row, caught.value.column) == (3, "metric")
    path.write_text("metric\tvalue\tn\na\t1\tmany\n", encoding="utf-8")
    with pytest.raises(InputFileError) as caught:
        read_metrics(path)
    assert (caught.value.row, caught.value.column) == (2, "n")
    path.write_text("name\tvalue\na\t1\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="missing column"):
        read_metrics(path)
    with pytest.raises(InputFileError, match="regenerate"):
        read_metrics(tmp_path / "none.tsv")


# --- targets ---------------------------------------------------------------------------------


def test_match_and_differs_with_coverage_explanation() -> None:
    config = settings(
        [
            {"id": "total", "published": "counts.included_total", "metric": "included_total"},
            {
                "id": "psc",
                "published": "counts.preclinical_stem_cell",
                "metric": "category.preclinical_stem_cell",
            },
        ]
    )
    metrics = metrics_table(
        ("included_total", 72, "studies", 72, None),
        ("category.preclinical_stem_cell", 71, "studies", 71, None),
    )
    result = audit(PUBLISHED, metrics, config, coverage=PARTIAL)
    assert list(result.targets.columns) == list(AUDIT_COLUMNS)
    total = target_row(result, "total")
    assert (total["published"], total["regenerated"], total["difference"]) == ("87", "72", "-15")
    assert total["status"] == "differs"
    assert (
        "the sheets hold 72 of the 87 published included studies (83%): counts cannot reach "
        "the published total" in total["explanation"]
    )
    psc = target_row(result, "psc")
    assert psc["status"] == "match" and psc["difference"] == "0"
    assert pd.isna(psc["explanation"])
    assert result.status_counts() == {"match": 1, "differs": 1, "not computable": 0}


def test_count_above_published_and_category_gap() -> None:
    config = settings(
        [
            {"id": "glioma", "published": "preclinical_stem_cell.glioma", "metric": "disease.x"},
            {
                "id": "clinical",
                "published": "counts.clinical_stem_cell",
                "metric": "category.clinical_stem_cell",
            },
        ]
    )
    metrics = metrics_table(
        ("disease.x", 6, "studies", 6, None),
        ("category.clinical_stem_cell", 0, "studies", 0, None),
    )
    result = audit(PUBLISHED, metrics, config, coverage=PARTIAL)
    assert "more than published" in target_row(result, "glioma")["explanation"]
    clinical = target_row(result, "clinical")["explanation"]
    assert "counts cannot reach the published total" in clinical
    assert "the sheets hold 0 of the 12 published clinical_stem_cell studies" in clinical


def test_not_computable_missing_metric_and_na_metric_with_detail() -> None:
    config = settings(
        [
            {"id": "rat", "published": "ischemic_stroke_dose_per_kg.typical_by_species.rat",
             "metric": "stroke.dose_per_kg.median.rat", "scale": 1.0e-5},
            {"id": "mouse", "published": "ischemic_stroke_dose_per_kg.typical_by_species.mouse",
             "metric": "stroke.dose_per_kg.median.mouse", "scale": 1.0e-5,
             "note": "unit 1e5 cells/kg inferred"},
        ]
    )  # fmt: skip
    metrics = metrics_table(
        ("stroke.dose_per_kg.median.mouse", None, "cells/kg", 0, "no mouse study has a dose"),
    )
    result = audit(PUBLISHED, metrics, config, coverage=FULL)
    rat = target_row(result, "rat")
    assert rat["status"] == "not computable"
    assert rat["explanation"] == "metric stroke.dose_per_kg.median.rat not produced"
    assert pd.isna(rat["regenerated"]) and pd.isna(rat["difference"])
    mouse = target_row(result, "mouse")
    assert mouse["status"] == "not computable"
    assert mouse["explanation"] == "no mouse study has a dose; note: unit 1e5 cells/kg inferred"


def test_scale_and_tolerance() -> None:
    config = settings(
        [
            {"id": "min", "published": "ischemic_stroke_dose_per_kg.min",
             "metric": "stroke.dose_per_kg.min", "scale": 1.0e-5, "tolerance": 0.05},
            {"id": "max", "published": "ischemic_stroke_dose_per_kg.max",
             "metric": "stroke.dose_per_kg.max", "scale": "1e-5", "tolerance": 0.5,
             "note": "unit 1e5 cells/kg inferred"},
            {"id": "max_strict", "published": "ischemic_stroke_dose_per_kg.max",
             "metric": "stroke.dose_per_kg.max", "scale": 1.0e-5},
        ]
    )  # fmt: skip
    metrics = metrics_table(
        ("stroke.dose_per_kg.min", 1e4 / 0.275, "cells/kg", 40, None),  # 36363.6 cells/kg
        ("stroke.dose_per_kg.max", 1333333.3, "cells/kg", 40, None),
    )
    result = audit(PUBLISHED, metrics, config, coverage=FULL)
    low = target_row(result, "min")
    assert (low["regenerated"], low["difference"], low["status"]) == ("0.3636", "-0.0364", "match")
    high = target_row(result, "max")
    assert (high["regenerated"], high["difference"], high["status"]) == (
        "13.33",
        "-1319.67",
        "differs",
    )
    assert "multiplied by 1e-05" in high["explanation"]
    assert "note: unit 1e5 cells/kg inferred" in high["explanation"]
    assert "regenerated from 40 studies" in high["explanation"]
    assert "the data do not say why" in high["explanation"]
    # A scale that fits: 1.333e8 cells/kg is 1333 x 1e5/kg; tolerance 0 demands it exactly.
    exact = metrics_table(("stroke.dose_per_kg.max", 1.3333e8, "cells/kg", 40, None))
    result = audit(PUBLISHED, exact, config, coverage=FULL)
    assert target_row(result, "max")["status"] == "match"
    assert target_row(result, "max_strict")["difference"] == "0.3"
    assert target_row(result, "max_strict")["status"] == "differs"


def test_list_index_paths_and_summed_metrics() -> None:
    config = settings(
        [
            {"id": "tbi_low", "published": "traumatic_brain_injury.dose_per_kg_1e5.0",
             "metric": "tbi.dose_per_kg.min", "scale": 1.0e-5},
            {"id": "tbi_high", "published": "traumatic_brain_injury.dose_per_kg_1e5.1",
             "metric": "tbi.dose_per_kg.max", "scale": 1.0e-5},
            {"id": "sum", "published": "preclinical_stem_cell.glioma", "metric": ["a", "b"]},
        ]
    )  # fmt: skip
    metrics = metrics_table(
        ("tbi.dose_per_kg.min", 5e5, "cells/kg", 3, None),
        ("tbi.dose_per_kg.max", 2.5e6, "cells/kg", 3, None),
        ("a", 1, "studies", 1, None),
        ("b", 3, "studies", 3, None),
    )
    result = audit(PUBLISHED, metrics, config, coverage=FULL)
    assert target_row(result, "tbi_low")["status"] == "match"
    assert target_row(result, "tbi_high")["regenerated"] == "25"
    summed = target_row(result, "sum")
    assert (summed["metric"], summed["regenerated"], summed["status"]) == ("a + b", "4", "match")


def test_missing_published_path_is_a_config_error_naming_the_target() -> None:
    config = settings([{"id": "t", "published": "counts.total", "metric": "included_total"}])
    with pytest.raises(ConfigError, match=r"audit target 't'.*counts.total.*included_total"):
        audit(PUBLISHED, metrics_table(), config, coverage=None)


def test_non_numeric_published_values() -> None:
    config = settings(
        [
            {"id": "order", "published": "ischemic_stroke_timing.most_common_order",
             "metric": "stroke.timing_bin_order", "compare": "leading"},
            {"id": "order_exact", "published": "ischemic_stroke_timing.most_common_order",
             "metric": "stroke.timing_bin_order"},
            {"id": "order_set", "published": "ischemic_stroke_timing.most_common_order",
             "metric": "swapped", "compare": "set"},
            {"id": "list_vs_number", "published": "traumatic_brain_injury.dose_per_kg_1e5",
             "metric": "tbi.dose_per_kg.min"},
            {"id": "section", "published": "counts", "metric": "tbi.dose_per_kg.min"},
            {"id": "particles", "published": "exosome_doses.particles",
             "metric": "exosome.dose_particles.max"},
            {"id": "number_vs_text", "published": "counts.included_total",
             "metric": "stroke.timing_bin_order"},
        ]
    )  # fmt: skip
    metrics = metrics_table(
        ("stroke.timing_bin_order", "Day 1; 1-6 h; day 2-3; day 4-7", None, 50, None),
        ("swapped", "1-6 h; day 1; day 2-3", None, 50, None),
        ("tbi.dose_per_kg.min", 5e5, "cells/kg", 3, None),
        ("exosome.dose_particles.max", 3e11, "particles", 1, None),
    )
    result = audit(PUBLISHED, metrics, config, coverage=FULL)
    assert target_row(result, "order")["status"] == "match"
    exact = target_row(result, "order_exact")
    assert exact["status"] == "differs"
    assert exact["explanation"] == "regenerated but not published: day 4-7"
    assert exact["published"] == "day 1; 1-6 h; day 2-3"
    assert target_row(result, "order_set")["status"] == "match"
    mismatch = target_row(result, "list_vs_number")
    assert mismatch["status"] == "not computable"
    assert "is a list (5; 25)" in mismatch["explanation"]
    assert "section" in target_row(result, "section")["explanation"]
    particles = target_row(result, "particles")
    assert (particles["published"], particles["status"]) == ("300000000000", "match")
    number_vs_text = target_row(result, "number_vs_text")
    assert number_vs_text["status"] == "not computable"
    assert (
        "stroke.timing_bin_order is 'Day 1; 1-6 h; day 2-3; day 4-7', not a number"
        in (number_vs_text["explanation"])
    )


def test_percent_explanation_links_the_consistency_check() -> None:
    config = settings(
        [
            {"id": "stroke_percent",
             "published": "preclinical_stem_cell.ischemic_stroke.percent_reported",
             "metric": "disease_percent.preclinical_stem_cell.ischemic_stroke", "tolerance": 0.5},
        ],
        [
            {"id": "stroke_share", "kind": "percent",
             "numerator": "preclinical_stem_cell.ischemic_stroke.n",
             "denominator": "counts.preclinical_stem_cell",
             "percent": "preclinical_stem_cell.ischemic_stroke.percent_reported"},
        ],
    )  # fmt: skip
    metrics = metrics_table(
        ("disease_percent.preclinical_stem_cell.ischemic_stroke", 57 / 71 * 100, "%", 71, None)
    )
    result = audit(PUBLISHED, metrics, config, coverage=FULL)
    row = target_row(result, "stroke_percent")
    assert (row["regenerated"], row["difference"], row["status"]) == ("80.28", "-1.72", "differs")
    assert (
        "the published figure disagrees with its own counts: 57 of 71 is 80.3%, published 82% "
        "(consistency check stroke_share)" in row["explanation"]
    )
    assert "agrees with the published counts (80.3%)" in row["explanation"]


# --- consistency checks ----------------------------------------------------------------------


def test_consistency_percent_and_sum() -> None:
    config = settings(
        [],
        [
            {"id": "stroke_share", "kind": "percent",
             "numerator": "preclinical_stem_cell.ischemic_stroke.n",
             "denominator": "counts.preclinical_stem_cell",
             "percent": "preclinical_stem_cell.ischemic_stroke.percent_reported"},
            {"id": "glioma_share", "kind": "percent", "numerator": 4, "denominator": 71,
             "percent": 5.6, "tolerance": 0.1},
            {"id": "categories", "kind": "sum",
             "parts": ["counts.preclinical_stem_cell", "counts.preclinical_exosome",
                       "counts.clinical_stem_cell"],
             "total": "counts.included_total"},
            {"id": "short", "kind": "sum",
             "parts": ["counts.preclinical_stem_cell", "counts.preclinical_exosome"],
             "total": "counts.included_total"},
        ],
    )  # fmt: skip
    checks = audit(PUBLISHED, metrics_table(), config, coverage=None).checks.set_index("id")
    assert checks.loc["stroke_share", "status"] == "inconsistent"
    assert checks.loc["stroke_share", "sentence"].startswith("57 of 71 is 80.3%, published 82%")
    assert checks.loc["stroke_share", "computed"] == "80.3"
    assert checks.loc["glioma_share", "status"] == "consistent"
    assert checks.loc["categories", "status"] == "consistent"
    assert checks.loc["categories", "sentence"] == "71 + 4 + 12 = 87, published total 87"
    assert checks.loc["short", "status"] == "inconsistent"
    assert checks.loc["short", "sentence"] == "71 + 4 = 75, published total 87 (-12 apart)"


def test_consistency_check_errors() -> None:
    missing = settings([], [{"id": "c", "kind": "sum", "parts": ["counts.x"], "total": 1}])
    with pytest.raises(ConfigError, match=r"consistency check 'c'.*counts.x"):
        audit(PUBLISHED, metrics_table(), missing, coverage=None)
    text = settings([], [{"id": "c", "kind": "sum", "parts": ["exosome_doses"], "total": 1}])
    with pytest.raises(ConfigError, match="not a number"):
        audit(PUBLISHED, metrics_table(), text, coverage=None)


# --- strictness and output -------------------------------------------------------------------


def _mixed_result():
    config = settings(
        [
            {"id": "total", "published": "counts.included_total", "metric": "included_total"},
            {"id": "glioma", "published": "preclinical_stem_cell.glioma", "metric": "g"},
            {"id": "ok", "published": "counts.preclinical_exosome", "metric": "e"},
            {"id": "none", "published": "counts.clinical_stem_cell", "metric": "c"},
        ],
        [
            {"id": "categories", "kind": "sum",
             "parts": ["counts.preclinical_stem_cell", "counts.preclinical_exosome",
                       "counts.clinical_stem_cell"],
             "total": "counts.included_total", "note": "as FACTS.md says"},
        ],
    )  # fmt: skip
    metrics = metrics_table(
        ("included_total", 72, "studies", 72, None),
        ("g", 3, "studies", 3, None),
        ("e", 4, "studies", 4, None),
    )
    return audit(PUBLISHED, metrics, config, coverage=PARTIAL)


def test_strict_raises_listing_every_difference() -> None:
    result = _mixed_result()
    with pytest.raises(ValidationError) as caught:
        require_no_differences(result)
    message = str(caught.value)
    assert "2 regenerated number(s) differ" in message
    assert "- total (counts.included_total): published 87, regenerated 72" in message
    assert "- glioma (preclinical_stem_cell.glioma): published 4, regenerated 3" in message
    assert "- ok " not in message and "- none " not in message
    clean = audit(PUBLISHED, metrics_table(("e", 4, None, 4, None)), settings(
        [{"id": "ok", "published": "counts.preclinical_exosome", "metric": "e"}]
    ), coverage=FULL)  # fmt: skip
    require_no_differences(clean)


def test_write_audit_markdown_and_csv(tmp_path: Path) -> None:
    result = _mixed_result()
    csv_path, md_path = tmp_path / "audit" / "audit.csv", tmp_path / "audit" / "audit.md"
    write_audit(result, csv_path, md_path)
    table = read_table(csv_path)
    assert list(table.columns) == list(AUDIT_COLUMNS)
    assert list(table["status"]) == ["differs", "differs", "match", "not computable"]
    assert table.loc[3, "explanation"] == "metric c not produced"
    text = md_path.read_text(encoding="utf-8")
    assert text.startswith("# Audit")
    assert f"Snapshot origin: {ORIGIN}" in text
    assert "the sheets hold 72 of the 87 published included studies (83%)." in text
    assert "- match: 1\n- differs: 2\n- not computable: 1" in text
    assert "| id | published_path | published | metric |" in text
    assert (
        "- categories (consistent): 71 + 4 + 12 = 87, published total 87 (note: as FACTS.md says)"
        in text
    )
    assert "clinical_stem_cell (0 of 12)" in text
    assert sorted(path.name for path in csv_path.parent.iterdir()) == ["audit.csv", "audit.md"]


def test_output_is_deterministic(tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    write_audit(_mixed_result(), first / "audit.csv", first / "audit.md")
    write_audit(_mixed_result(), second / "audit.csv", second / "audit.md")
    for name in ("audit.csv", "audit.md"):
        assert (first / name).read_bytes() == (second / name).read_bytes()
    assert render_markdown(_mixed_result(), title="T").startswith("# T\n")


def test_coverage_from_studies() -> None:
    config = settings(
        [
            {"id": "total", "published": "counts.included_total", "metric": "included_total"},
            {"id": "psc", "published": "counts.preclinical_stem_cell",
             "metric": "category.preclinical_stem_cell"},
            {"id": "cl", "published": "counts.clinical_stem_cell",
             "metric": "category.clinical_stem_cell"},
        ]
    )  # fmt: skip
    studies = pd.DataFrame(
        {"record_id": [f"pubmed:{i}" for i in range(72)],
         "category": ["preclinical_stem_cell"] * 71 + ["clinical_stem_cell"]}
    )  # fmt: skip
    coverage = coverage_from_studies(studies, PUBLISHED, config, origin=ORIGIN)
    assert (coverage.included_in_sheets, coverage.included_published) == (72, 87)
    assert coverage.missing_categories == (CategoryGap("clinical_stem_cell", 1, 12),)
    assert coverage.sentence() == "the sheets hold 72 of the 87 published included studies (83%)"
    assert coverage.origin == ORIGIN
    unknown = Coverage(included_in_sheets=5, included_published=None)
    assert (
        unknown.sentence() == "the sheets hold 5 included studies; the published total is not known"
    )


def test_metrics_round_trip_through_the_file(tmp_path: Path) -> None:
    path = tmp_path / "metrics.tsv"
    write_table(
        path,
        metrics_table(
            ("included_total", 87, "studies", 87, None),
            ("stroke.dose_per_kg.min", None, "cells/kg", 0, "no dose parsed"),
        ),
    )
    config = settings(
        [
            {"id": "total", "published": "counts.included_total", "metric": "included_total"},
            {"id": "min", "published": "ischemic_stroke_dose_per_kg.min",
             "metric": "stroke.dose_per_kg.min", "scale": 1.0e-5},
        ]
    )  # fmt: skip
    result = audit(PUBLISHED, read_metrics(path), config, coverage=FULL)
    assert list(result.targets["status"]) == ["match", "not computable"]
    assert target_row(result, "min")["explanation"] == "no dose parsed"


def test_metrics_written_as_the_text_na_are_not_computable(tmp_path) -> None:
    path = tmp_path / "metrics.tsv"
    path.write_text("metric\tvalue\tunit\tn\tdetail\nx\tNA\tstudies\t0\tno stroke studies\n")
    metrics = read_metrics(path)
    assert metrics["value"].isna().all()
