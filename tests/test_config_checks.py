"""The checks a workflow runs when it loads (litreview.config.check_at_load), before any rule
and any network request: each names the key and says what to do."""

from __future__ import annotations

import copy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from snakemake.utils import validate

from litreview.config import check_at_load
from litreview.errors import ConfigError
from tests.reviews import REPO

SURGERY = REPO / "tests" / "reviews" / "antibiotic_prophylaxis"
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


@pytest.fixture
def review(tmp_path: Path) -> Path:
    shutil.copytree(SURGERY / "config", tmp_path / "config")
    return tmp_path


def config_of(folder: Path, **changes: dict) -> dict:
    config = yaml.safe_load((folder / "config" / "config.yaml").read_text(encoding="utf-8"))
    for section, values in changes.items():
        config[section] = {**config.get(section, {}), **values}
    validate(config, str(SCHEMA))
    return copy.deepcopy(config)


def test_the_surgery_review_passes(review: Path) -> None:
    check_at_load(config_of(review), review)


def test_a_listed_sheet_that_does_not_exist_is_one_clear_line(review: Path) -> None:
    (review / "config" / "extraction" / "arms.csv").unlink()
    with pytest.raises(
        ConfigError, match=r"config extraction\.arms: config/extraction/arms\.csv does not exist"
    ):
        check_at_load(config_of(review), review)
    config = config_of(
        review,
        extraction={"arms": None},
        screening={"sheets": ["config/screening.csv", "config/B.xlsx"]},
    )
    with pytest.raises(ConfigError, match=r"screening\.sheets\[2\]: config/B\.xlsx does not exist"):
        check_at_load(config, review)


def test_snakemake_says_it_in_one_line_at_load(review: Path) -> None:
    (review / "config" / "screening.csv").unlink()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "-n",
            "--snakefile",
            str(REPO / "workflow" / "Snakefile"),
            "--directory",
            str(review),
            "--cores",
            "1",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "config screening.sheets[1]: config/screening.csv does not exist" in output
    assert "MissingInputException" not in output


@pytest.mark.parametrize(
    ("screening", "message"),
    [
        ({"reasons": {"off": "Off topic; or not"}}, r"screening\.reasons\.off .*no ';'"),
        ({"reasons": {"off": "x" * 61}}, r"screening\.reasons\.off is 61 characters long"),
        ({"reasons": {"off": ""}}, r"screening\.reasons\.off"),
        (
            {"categories": [{"name": "a", "default": True}, {"name": "b", "default": True}]},
            "a, b are all marked default",
        ),
        ({"categories": [{"name": "a"}, {"name": "a"}]}, "'a' is listed twice"),
        (
            {"arbiter": "Z"},
            r"screening\.arbiter 'Z' is not a reviewer of the screening sheets \(A\)",
        ),
        (
            {"reviewers": ["B"]},
            r"reviewer\(s\) A that config screening\.reviewers \(B\) does not list",
        ),
        (
            {"reviewers": ["A"], "arbiter": "Q"},
            r"screening\.arbiter 'Q' is not one of screening\.reviewers",
        ),
        (
            {"automatic": {"publication_types": {"exclude": ["Review"], "reason": "nope"}}},
            r"'nope' is not in screening\.reasons",
        ),
    ],
)
def test_screening_cross_checks(review: Path, screening: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        check_at_load(config_of(review, screening=screening), review)


def test_an_arbiter_with_no_rows_yet_is_fine_when_the_reviewers_are_listed(review: Path) -> None:
    check_at_load(config_of(review, screening={"reviewers": ["A", "Z"], "arbiter": "Z"}), review)


def test_live_mode_refuses_the_placeholder_address(review: Path) -> None:
    config = config_of(review, search={"mode": "live"}, entrez={"email": "you@example.org"})
    with pytest.raises(ConfigError, match=r"entrez\.email is the placeholder 'you@example\.org'"):
        check_at_load(config, review)
    check_at_load(
        config_of(review, search={"mode": "live"}, entrez={"email": "me@lab.example"}), review
    )


@pytest.fixture
def snapshot(review: Path) -> Path:
    from litreview.testing.pubmed_xml import render_article_set
    from tests.reviews import take_snapshot

    xml = render_article_set([{"pmid": 3001, "title": "surgical site infection", "year": 2015}])
    take_snapshot(review, xml, ["3001"], "check test")
    return review


def test_a_snapshot_of_another_query_or_window_is_not_replayed_silently(snapshot: Path) -> None:
    check_at_load(config_of(snapshot), snapshot)
    other = config_of(snapshot, search={"query": "another query"})
    with pytest.raises(ConfigError, match=r"was taken with query .*take a new snapshot"):
        check_at_load(other, snapshot)
    window = config_of(snapshot, search={"maxdate": "2025/12/31"})
    with pytest.raises(ConfigError, match=r"maxdate '2024/12/31' \(config: '2025/12/31'\)"):
        check_at_load(window, snapshot)
    allowed = config_of(snapshot, search={"maxdate": "2025/12/31", "replay_any_snapshot": True})
    check_at_load(allowed, snapshot)


@pytest.mark.parametrize(
    ("date", "start", "end", "outside"),
    [
        ("2020", "2020-06-01", None, False),  # a year overlapping the window is inside
        ("2019", "2020-06-01", None, True),
        ("2020-05", "2020-06-01", None, True),
        ("2020-06-30", None, "2020-06", False),
        ("2020-07-01", None, "2020-06", True),
        ("2021-01-01", "2020", "2020", True),
        ("2020-12-31", "2020", "2020", False),
    ],
)
def test_record_dates_are_compared_as_calendar_spans(date, start, end, outside):
    from litreview.screen import _outside_window

    assert _outside_window(date, start, end) is outside


def test_date_spans_refuse_what_is_not_a_date():
    from litreview.config import date_span

    for text in ("45123", "1/2/2024", "2023-02-30", "2020-13", "2020-1-1", ""):
        with pytest.raises(ValueError):
            date_span(text)
    assert [str(day) for day in date_span("2024-02")] == ["2024-02-01", "2024-02-29"]
