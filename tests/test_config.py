from __future__ import annotations

import pytest

from litreview.config import apply_dotted_overrides
from litreview.errors import ConfigError


def test_dotted_override_replaces_the_nested_value_and_keeps_siblings() -> None:
    config = {"search": {"mode": "offline", "snapshot": "latest"}, "search.mode": "live"}
    assert apply_dotted_overrides(config) == {"search": {"mode": "live", "snapshot": "latest"}}


def test_dotted_override_creates_missing_sections() -> None:
    config = {"audit.strict": True}
    assert apply_dotted_overrides(config) == {"audit": {"strict": True}}


def test_dotted_override_through_a_scalar_is_an_error() -> None:
    with pytest.raises(ConfigError, match=r"search\.mode is not a section"):
        apply_dotted_overrides({"search": {"mode": "offline"}, "search.mode.x": 1})
