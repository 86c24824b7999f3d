"""`litreview run`: nested --config overrides that keep their YAML types."""

from __future__ import annotations

import pytest

from litreview.errors import ConfigError
from litreview.run import parse_overrides, split_arguments


def test_config_entries_are_split_from_the_snakemake_arguments_in_order() -> None:
    config, rest = split_arguments(
        ["results/x.tsv", "--config", "search.mode=live", "audit.strict=true", "--cores", "1", "-n"]
    )
    assert config == ["search.mode=live", "audit.strict=true"]
    assert rest == ["results/x.tsv", "--cores", "1", "-n"]


def test_overrides_nest_dotted_keys_and_keep_yaml_types() -> None:
    overrides = parse_overrides(
        ["search.mode=live", "audit.strict=true", "entrez.batch_size=200", "search.snapshot="]
    )
    assert overrides == {
        "search": {"mode": "live", "snapshot": None},
        "audit": {"strict": True},
        "entrez": {"batch_size": 200},
    }


@pytest.mark.parametrize("entry", ["search.mode", "=live", "a.b=[unclosed"])
def test_malformed_overrides_are_config_errors(entry: str) -> None:
    with pytest.raises(ConfigError, match="--config"):
        parse_overrides([entry])


def test_the_exit_code_for_new_records_is_taken_out_of_the_snakemake_arguments() -> None:
    from litreview.run import pop_exit_code

    assert pop_exit_code(["--cores", "1", "--new-records-exit-code", "10", "-n"]) == (
        10,
        ["--cores", "1", "-n"],
    )
    assert pop_exit_code(["--new-records-exit-code=3"]) == (3, [])
    assert pop_exit_code(["--cores", "1"]) == (None, ["--cores", "1"])
    with pytest.raises(ConfigError, match="from 1 to 255"):
        pop_exit_code(["--new-records-exit-code", "0"])


def test_new_records_are_counted_from_the_change_report(tmp_path) -> None:
    from litreview.run import new_records

    report = tmp_path / "changes.csv"
    assert new_records(report) == 0
    report.write_text(
        "change,pmid,record_id,detail,before,after\nnew,1,pubmed:1,x,,\ncount,,,y,1,2\n"
    )
    assert new_records(report) == 1
