from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from litreview.errors import ConfigError
from litreview.patterns import compile_pattern, compile_patterns, first_match


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        ("intra-arterial", "Intra-arterial delivery", True),
        ("intra-arterial", "intraarterial delivery", True),
        ("intra-arterial", "intra arterial delivery", True),
        ("intra-arterial", "extra-arterial", False),
        ("exosome*", "MSC-derived exosomes", True),
        ("exosom*", "exosomal cargo", True),
        ("exosome*", "exosomal cargo", False),
        ("stem cell*", "mesenchymal stem cells", True),
        ("stem cell*", "stemcells", True),
        ("stem cell*", "stem-like cells", False),
        ("brain", "brainstem", False),
        ("brain", "the brain.", True),
        ("internal carotid arter*", "via the internal carotid artery", True),
        ("CD34+", "immunoselected CD34+ cells", True),
    ],
)
def test_pattern_semantics(pattern: str, text: str, matches: bool) -> None:
    assert bool(compile_pattern(pattern).search(text)) is matches


def test_any_of_and_first_match_skip_missing_fields() -> None:
    expression = compile_patterns(["intracarotid", "intra-arterial"])
    assert first_match(expression, [None, "", "Intracarotid infusion"]) == "Intracarotid"
    assert first_match(expression, [None, "intravenous"]) is None


@pytest.mark.parametrize("pattern", ["", "  ", "*"])
def test_empty_patterns_are_config_errors(pattern: str) -> None:
    with pytest.raises(ConfigError, match="empty"):
        compile_pattern(pattern)


_PATTERN_WORDS = ["stem cell*", "intra-arterial", "rat", "review", "meta analysis", "mice", "a"]
_TEXT_PIECES = ["stem", "cells", "cell", "intra", "arterial", "intraarterial", "rats", "rat",
                "Review", "meta-analysis", "mice", "a", "-", " ", "\n", ",", "x"]  # fmt: skip


@settings(max_examples=300, derandomize=True, deadline=None)
@given(
    st.lists(st.sampled_from(_PATTERN_WORDS), min_size=1, max_size=4, unique=True),
    st.lists(st.sampled_from(_TEXT_PIECES), max_size=12).map("".join),
)
def test_one_alternation_matches_exactly_when_one_pattern_does(patterns, text):
    """The factored alternation (boundaries once) is the union of the single patterns."""
    single = any(compile_pattern(pattern).search(text) for pattern in patterns)
    assert (compile_patterns(patterns).search(text) is not None) == single
