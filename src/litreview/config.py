"""Configuration helpers that do not need Snakemake."""

from __future__ import annotations

from typing import Any

from litreview.errors import ConfigError


def apply_dotted_overrides(config: dict[str, Any]) -> dict[str, Any]:
    """Fold top-level keys like ``"search.mode"`` into the nested config, in place.

    Snakemake's ``--config search.mode=live`` sets a top-level key named ``search.mode``; users
    mean the nested one. An override of a key that is not a mapping fails clearly.
    """
    for dotted in [key for key in config if isinstance(key, str) and "." in key]:
        value = config.pop(dotted)
        *parents, leaf = dotted.split(".")
        node = config
        for depth, part in enumerate(parents):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                path = ".".join(parents[: depth + 1])
                raise ConfigError(
                    f"--config {dotted}={value!r}: {path} is not a section of the configuration"
                )
            node = child
        node[leaf] = value
    return config
