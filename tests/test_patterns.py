from __future__ import annotations

import pytest

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
