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
