"""The declared report: each kind of table and its metrics on a small hand-worked set, the
figures (deterministic), and errors naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from litreview.errors import ConfigError
from litreview.extract.sheets import normalise, read_extraction
from litreview.report import output_names, report_from_config, write_report
from litreview.report.engine import ReportData, compute
from tests.test_extract_form import FORM, HEADER, SCREENED

ROWS = (
    "1,One,trial,active,adult,80,100,yes,,pain; infection,,2 g,30 min before incision\n"
    "2,Two,cohort,,child,20,50,,,pain,,20 mg/kg,10 min\n"
)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> ReportData:
    path = tmp_path_factory.mktemp("sheets") / "studies.csv"
    path.write_text(HEADER + ROWS, encoding="utf-8")
    normalised = normalise(FORM, read_extraction(FORM, path, None, screened=SCREENED))
    return ReportData(form=FORM, studies=normalised.studies, values=normalised.values)


def metrics_of(tables: list[dict], data: ReportData, sets: dict | None = None) -> dict:
    spec = report_from_config({"sets": sets or {}, "tables": tables}, FORM)
    frame = compute(spec, data).metrics.frame()
    return dict(zip(frame["metric"], frame["value"], strict=True))


def test_counts_keep_not_reported_and_percent_within_the_first_field(data: ReportData) -> None:
    metrics = metrics_of(
        [
            {
                "name": "c",
                "kind": "counts",
                "by": ["category", "arm_group"],
                "percent_within": "category",
            }
        ],
        data,
    )
    assert metrics["c.total"] == "2"
    assert metrics["c.trial.n"] == "1" and metrics["c.trial.percent"] == "50"
    assert metrics["c.trial.treated.percent"] == "100"
    assert metrics["c.cohort.not_reported.n"] == "1"


def test_counts_can_list_every_code(data: ReportData) -> None:
    metrics = metrics_of(
        [{"name": "c", "kind": "counts", "by": ["arm_type"], "show_empty": True}], data
    )
    assert metrics["c.active.n"] == "1"
    assert metrics["c.placebo.n"] == "0"
    assert metrics["c.not_reported.n"] == "1"


def test_summaries_by_group_with_thresholds(data: ReportData) -> None:
    metrics = metrics_of(
        [
            {
                "name": "s",
                "kind": "summary",
                "value": "dose",
                "measure": "per_weight",
                "by": "population",
                "stats": ["studies", "values", "min", "median", "max", "mean"],
                "thresholds": [{"name": "over_21", "value": 21}],
            },
            {"name": "g", "kind": "summary", "value": "dose", "unit": "g", "stats": ["sum"]},
            {"name": "n", "kind": "summary", "value": "n_twice", "stats": ["sum"]},
        ],
        data,
    )
    assert metrics["s.values"] == "2"
    assert metrics["s.median"] == "22.5"  # 25 (2 g / 80 kg) and 20 (reported)
    assert metrics["s.adult.max"] == "25"
    assert metrics["s.child.min"] == "20"
    assert metrics["s.above.over_21"] == "1"
    assert metrics["g.sum"] == "2"  # 2000 mg in g; the per-kg dose has no amount
    assert metrics["n.sum"] == "300"


def test_bins_pick_the_earliest_or_every_value(data: ReportData) -> None:
    bins = [
        {"label": "before", "from": "-60 min", "to": "0 min"},
        {"label": "after", "from": 0, "to": 60},
    ]
    metrics = metrics_of([{"name": "b", "kind": "bins", "value": "timing", "bins": bins}], data)
    assert (metrics["b.before.n"], metrics["b.after.n"], metrics["b.not_reported.n"]) == (
        "1",
        "1",
        "0",
    )
    assert metrics["b.order"] == "before; after"


@pytest.mark.parametrize(
    ("bins", "message"),
    [
        (
            [{"label": "a", "from": "0 min", "to": "-60 min"}],
            r"bins\[1\] \('a'\): from '0 min' is not below",
        ),
        (
            [{"label": "a", "from": 0, "to": 60}, {"label": "b", "from": 30, "to": 90}],
            r"bins\[2\] \('b'\) starts at 30, before the bin above it ends \('a'\)",
        ),
        (
            [{"label": "a", "from": 60, "to": 90}, {"label": "b", "from": 0, "to": 30}],
            r"bins\[2\].*list the bins in order",
        ),
        (
            [{"label": "a", "from": 0, "to": 30}, {"label": "a", "from": 30, "to": 60}],
            r"bins\[2\]: the label 'a' is used twice",
        ),
        ([{"from": 0, "to": 30}], r"bins\[1\] needs a label"),
        ([{"label": "a", "from": "soon", "to": 30}], r"bins\[1\]\.from"),
    ],
)
def test_bins_out_of_order_overlapping_or_unreadable_are_refused_at_load(bins, message) -> None:
    with pytest.raises(ConfigError, match=message):
        report_from_config(
            {"tables": [{"name": "b", "kind": "bins", "value": "timing", "bins": bins}]}, FORM
        )


def test_tallies_and_listings(data: ReportData) -> None:
    spec = report_from_config(
        {
            "sets": {"trials": {"where": {"category": "trial"}}},
            "tables": [
                {"name": "t", "kind": "tally", "field": "outcomes", "matrix": True},
                {"name": "l", "kind": "listing", "set": "trials", "columns": ["label", "dose"]},
            ],
        },
        FORM,
    )
    computed = compute(spec, data)
    metrics = dict(
        zip(computed.metrics.frame()["metric"], computed.metrics.frame()["value"], strict=True)
    )
    assert (metrics["t.studies"], metrics["t.pain.n"], metrics["t.infection.n"]) == ("2", "2", "1")
    assert computed.extra_tables["t_matrix"].values.tolist() == [["One", 1, 1], ["Two", 1, 0]]
    assert metrics["l.rows"] == "1"
    assert computed.tables["l"].values.tolist() == [["One", "2 g", "25"]]
    assert output_names(spec) == (["t", "l", "t_matrix"], [])


def test_set_conditions(data: ReportData) -> None:
    sets = {
        "no_arm": {"where": {"arm_type": {"missing": True}}},
        "not_trial": {"where": {"category": {"not": "trial"}}},
        "either": {"where": {"category": {"in": ["trial", "cohort"]}}},
        "treated": {"where": {"arm_group": "treated"}},
    }
    tables = [{"name": name, "kind": "counts", "set": name, "by": ["category"]} for name in sets]
    metrics = metrics_of(tables, data, sets)
    assert [metrics[f"{name}.total"] for name in sets] == ["1", "1", "2", "1"]


def test_figures_are_deterministic(data: ReportData, tmp_path: Path) -> None:
    config = {
        "tables": [
            {"name": "c", "kind": "counts", "by": ["category", "population"]},
            {
                "name": "s",
                "kind": "summary",
                "value": "dose",
                "measure": "per_weight",
                "by": "population",
            },
            {
                "name": "b",
                "kind": "bins",
                "value": "timing",
                "bins": [{"label": "x", "from": -60, "to": 60}],
            },
        ],
        "figures": [
            {"name": "f1", "table": "c", "plot": "stacked_percent_bar", "title": "Stacked"},
            {"name": "f2", "table": "c", "plot": "bar", "title": "Bars"},
            {
                "name": "f3",
                "table": "s",
                "plot": "strip",
                "title": "Strip",
                "log": True,
                "reference_lines": [{"value": 22, "label": "line"}],
            },
            {"name": "f4", "table": "b", "plot": "binned_bar", "title": "Bins"},
        ],
    }
    spec = report_from_config(config, FORM)
    for folder in ("a", "b"):
        write_report(spec, data, tmp_path / folder)
    for name in ("f1", "f2", "f3", "f4"):
        first = (tmp_path / "a" / "figures" / f"{name}.svg").read_bytes()
        assert first == (tmp_path / "b" / "figures" / f"{name}.svg").read_bytes()
        assert (tmp_path / "a" / "figures" / f"{name}.png").stat().st_size > 5000
    assert (tmp_path / "a" / "tables" / "c.md").read_text().startswith("# c\n")


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"tables": [{"name": "x", "kind": "pie"}]}, r"tables\[1\] \(x\)\.kind is 'pie'"),
        (
            {"tables": [{"name": "x", "kind": "counts", "by": ["colour"]}]},
            "'colour' is not a field",
        ),
        (
            {"tables": [{"name": "x", "kind": "counts", "by": ["category"], "bins": []}]},
            "unknown key",
        ),
        ({"tables": [{"name": "x", "kind": "counts", "by": ["a", "b", "c"]}]}, "one or two fields"),
        (
            {
                "tables": [
                    {
                        "name": "x",
                        "kind": "counts",
                        "by": ["category", "population"],
                        "percent_within": "population",
                    }
                ]
            },
            "first by-field",
        ),
        (
            {"tables": [{"name": "x", "kind": "summary", "value": "label"}]},
            "'label' is not a quantity",
        ),
        (
            {
                "tables": [
                    {"name": "x", "kind": "summary", "value": "timing", "measure": "per_weight"}
                ]
            },
            "no per_weight",
        ),
        (
            {"tables": [{"name": "x", "kind": "summary", "value": "dose", "unit": "min"}]},
            "does not convert",
        ),
        (
            {"tables": [{"name": "x", "kind": "summary", "value": "dose", "stats": ["mode"]}]},
            "'mode'",
        ),
        ({"tables": [{"name": "x", "kind": "tally", "field": "category"}]}, "not a codes field"),
        (
            {"tables": [{"name": "x", "kind": "counts", "by": ["category"], "set": "adults"}]},
            "not a declared set",
        ),
        (
            {"sets": {"a": {"where": {"category": "surgery"}}}},
            "'surgery' is not a code of category",
        ),
        ({"sets": {"a": {"where": {"colour": "red"}}}}, "'colour' is not a field"),
        (
            {
                "tables": [{"name": "x", "kind": "counts", "by": ["category"]}],
                "figures": [{"name": "f", "table": "x", "plot": "strip"}],
            },
            "a counts table is drawn as bar, stacked_percent_bar",
        ),
        (
            {"figures": [{"name": "f", "table": "nope", "plot": "bar"}]},
            "'nope' is not a declared table",
        ),
        ({"tables": [{"name": "x", "kind": "counts", "by": ["category"]}] * 2}, "used twice"),
        ({"charts": []}, "unknown key"),
    ],
)
def test_report_errors_name_the_key(config: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        report_from_config(config, FORM)


def test_metrics_frame_has_the_audit_columns(data: ReportData) -> None:
    spec = report_from_config(
        {"tables": [{"name": "c", "kind": "counts", "by": ["category"]}]}, FORM
    )
    frame = compute(spec, data).metrics.frame()
    assert list(frame.columns) == ["metric", "value", "unit", "n", "detail"]
    assert set(frame["unit"]) == {"studies", "percent"}
