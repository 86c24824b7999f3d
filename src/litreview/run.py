"""`litreview run`: Snakemake with `--config section.key=value` overrides that keep their type.

Snakemake's own `--config` takes only top-level keys (`search.mode` is refused) and reads nested
values as text, so `audit.strict=true` cannot be said to it directly. This command takes such
overrides, writes them as a YAML config file (typed as YAML reads them: true, 12, 3.5, null) and
runs Snakemake with it after the workflow's own config file. Every other argument goes to
Snakemake unchanged.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from litreview.config import apply_dotted_overrides
from litreview.errors import ConfigError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        nargs="+",
        default=[],
        metavar="KEY=VALUE",
        help="configuration overrides, nested keys with dots (search.mode=live audit.strict=true)",
    )
    parser.add_argument(
        "snakemake_args",
        nargs="*",
        help="targets and any other snakemake arguments, passed as they are (e.g. --cores 1 -n)",
    )


def split_arguments(arguments: list[str]) -> tuple[list[str], list[str]]:
    """(--config entries, everything else in order): the entries follow `--config` up to the
    first argument that starts with "-" or holds no "="."""
    config: list[str] = []
    rest: list[str] = []
    index = 0
    while index < len(arguments):
        argument = arguments[index]
        index += 1
        if argument != "--config":
            rest.append(argument)
            continue
        while (
            index < len(arguments)
            and not arguments[index].startswith("-")
            and ("=" in arguments[index])
        ):
            config.append(arguments[index])
            index += 1
    return config, rest


def parse_overrides(entries: list[str]) -> dict[str, Any]:
    """{"search": {"mode": "live"}} from ["search.mode=live"]; values read as YAML scalars."""
    overrides: dict[str, Any] = {}
    for entry in entries:
        key, separator, text = entry.partition("=")
        if not separator or not key.strip():
            raise ConfigError(f"--config {entry!r}: write KEY=VALUE, e.g. search.mode=live")
        try:
            value = yaml.safe_load(text) if text else None
        except yaml.YAMLError as error:
            raise ConfigError(
                f"--config {entry!r}: the value is not valid YAML ({error})"
            ) from None
        overrides[key.strip()] = value
    return apply_dotted_overrides(overrides)


SNAKEFILE_NAMES = ("Snakefile", "snakefile", "workflow/Snakefile", "workflow/snakefile")


def packaged_snakefile() -> Path:
    """The workflow shipped in the installed package."""
    return Path(__file__).resolve().parent / "workflow" / "Snakefile"


def snakefile_arguments(passthrough: list[str], directory: Path) -> list[str]:
    """`--snakefile <the package's workflow>` unless one is given or the folder has its own: a
    review folder holds only its config, sheets, snapshots and results."""
    if any(arg in ("-s", "--snakefile") or arg.startswith("--snakefile=") for arg in passthrough):
        return []
    if any((directory / name).is_file() for name in SNAKEFILE_NAMES):
        return []
    return ["--snakefile", str(packaged_snakefile())]


def run(args: argparse.Namespace) -> int:
    overrides = parse_overrides(args.config)
    passthrough = [arg for arg in args.snakemake_args if arg != "--"]
    command = [
        sys.executable,
        "-m",
        "snakemake",
        *snakefile_arguments(passthrough, Path.cwd()),
        *passthrough,
    ]
    with tempfile.TemporaryDirectory(prefix="litreview-config-") as folder:
        if overrides:
            override_file = Path(folder) / "overrides.yaml"
            override_file.write_text(yaml.safe_dump(overrides, sort_keys=True), encoding="utf-8")
            command += ["--configfile", str(override_file)]
        return subprocess.call(command, env=os.environ.copy())
