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
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from litreview.config import apply_dotted_overrides, read_yaml
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
        "--new-records-exit-code",
        type=int,
        default=None,
        metavar="N",
        help="exit with N (instead of 0) when the run succeeded and the change report lists new "
        "records to screen: a scheduler can act on it (e.g. mail the reviewers)",
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


def pop_exit_code(arguments: list[str]) -> tuple[int | None, list[str]]:
    """`--new-records-exit-code N` taken out of the arguments passed on to Snakemake."""
    rest: list[str] = []
    code: int | None = None
    items = iter(arguments)
    for argument in items:
        if argument == "--new-records-exit-code" or argument.startswith("--new-records-exit-code="):
            text = argument.partition("=")[2] or next(items, "")
            if not text.isdigit() or not 0 < int(text) < 256:
                raise ConfigError(
                    f"--new-records-exit-code {text!r}: give an exit status from 1 to 255"
                )
            code = int(text)
            continue
        rest.append(argument)
    return code, rest


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


def config_files(passthrough: list[str], directory: Path) -> list[Path]:
    """The config files the run will read: the review's config/config.yaml and any given
    with --configfile (or --configfiles)."""
    files = [directory / "config" / "config.yaml"]
    taking = False
    for argument in passthrough:
        if argument in ("--configfile", "--configfiles"):
            taking = True
            continue
        if argument.startswith(("--configfile=", "--configfiles=")):
            files.append(Path(argument.partition("=")[2]))
            continue
        if taking and not argument.startswith("-"):
            files.append(Path(argument))
            continue
        taking = False
    return [path for path in files if path.is_file()]


def run(args: argparse.Namespace) -> int:
    overrides = parse_overrides(args.config)
    passthrough = [arg for arg in args.snakemake_args if arg != "--"]
    for path in config_files(passthrough, Path()):
        read_yaml(path)  # one line naming file and line, before Snakemake starts
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
        status = subprocess.call(command, env=os.environ.copy())
    if status != 0 and "--unlock" not in passthrough and locked(run_directory(passthrough)):
        again = shlex.join(
            ["litreview", "run", "--unlock", *passthrough]
            + (["--config", *args.config] if args.config else [])
        )
        print(LOCK_HINT.format(unlock=again), file=sys.stderr)
    if status == 0:
        new = new_records(Path.cwd() / "results" / "changes" / "changes.csv")
        if new:
            print(f"litreview: {new} new record(s) to screen (results/changes/changes.md)")
            code = getattr(args, "new_records_exit_code", None)
            if code is not None:
                return code
    return status


LOCK_HINT = (
    "litreview run: the review folder is locked (.snakemake/locks). Either another run is "
    "working in it (let it finish), or a run was killed (SIGKILL, a power cut, a cluster job "
    "over its time) and left its lock behind. If no other run is going, run\n"
    "    {unlock}\n"
    "then rerun as before: the killed run left no snapshot and no partial output behind "
    "(Snakemake reruns the jobs it had not finished)."
)


def run_directory(passthrough: list[str]) -> Path:
    """The folder Snakemake works in: --directory / -d if given, else the current one."""
    for number, argument in enumerate(passthrough):
        if argument in ("--directory", "-d") and number + 1 < len(passthrough):
            return Path(passthrough[number + 1])
        if argument.startswith("--directory="):
            return Path(argument.partition("=")[2])
    return Path.cwd()


def locked(directory: Path) -> bool:
    """Whether Snakemake's lock files are present in the folder."""
    folder = directory / ".snakemake" / "locks"
    return folder.is_dir() and any(folder.iterdir())


def new_records(changes_csv: Path) -> int:
    """How many records the change report lists as new (0 without a report)."""
    if not changes_csv.is_file():
        return 0
    import csv

    with changes_csv.open(encoding="utf-8", newline="") as handle:
        return sum(1 for row in csv.DictReader(handle) if row.get("change") == "new")
