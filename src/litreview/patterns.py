"""The small pattern language of keyword rules in the configuration.

A pattern is a word or phrase, matched case-insensitively at word boundaries:
- ``*`` at the end of a word matches any ending: ``vaccin*`` matches vaccine, vaccines,
  vaccination; ``side effect*`` matches side effect, side effects.
- A hyphen or a space inside a pattern matches a hyphen, a space or nothing: ``follow-up``
  matches follow-up, follow up and followup.
- Anything else is literal (dots, parentheses, Greek letters...).
A rule lists patterns; it is met when ANY of them occurs in ANY of the rule's fields.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from litreview.errors import ConfigError


@lru_cache(maxsize=4096)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    """Regular expression for one pattern (see the module docstring)."""
    text = pattern.strip()
    if not text or text == "*":
        raise ConfigError(f"keyword pattern {pattern!r} is empty: give a word or phrase")
    parts = []
    for piece in re.split(r"([\s-]+|\*)", text):
        if not piece:
            continue
        if piece == "*":
            parts.append(r"\w*")
        elif re.fullmatch(r"[\s-]+", piece):
            parts.append(r"[\s-]?")
        else:
            parts.append(re.escape(piece))
    body = "".join(parts)
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


def compile_patterns(patterns: Iterable[str]) -> re.Pattern[str]:
    """One expression matching any of the patterns, compiled once per list of patterns.

    The word boundaries are factored out of the alternation, ``(?<!\\w)(?:a|b|c)(?!\\w)``:
    the same matches as one boundary check per alternative, at a fraction of the cost (the
    look-behind is tried once per position instead of once per pattern and position).
    """
    return _compiled(tuple(patterns))


@lru_cache(maxsize=1024)
def _compiled(patterns: tuple[str, ...]) -> re.Pattern[str]:
    bodies = [_body(compile_pattern(pattern).pattern) for pattern in patterns]
    if not bodies:
        raise ConfigError("a keyword rule needs at least one pattern")
    return re.compile(_START + "(?:" + "|".join(bodies) + ")" + _END, re.IGNORECASE)


_START, _END = r"(?<!\w)", r"(?!\w)"


def _body(expression: str) -> str:
    """A pattern's expression without its word boundaries."""
    return expression.removeprefix(_START).removesuffix(_END)


def first_match(expression: re.Pattern[str], texts: Iterable[str | None]) -> str | None:
    """The first matched text among `texts` (missing texts skipped), or None."""
    for text in texts:
        if text:
            match = expression.search(text)
            if match:
                return match.group(0)
    return None
