"""The `litreview` command: small tools around the workflow.

Each sub-command lives in the module that does the work; this file only wires them, importing
a module when its command is used so `litreview --help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from litreview import __version__
from litreview.errors import LitReviewError

# command name -> (module, one-line help). Each module defines
# `add_arguments(parser) -> None` and `run(args) -> int`.
COMMANDS: dict[str, tuple[str, str]] = {
    "fake-eutils": (
        "litreview.testing.eutils",
        "serve a folder of PubMed records as a local NCBI E-utilities server (for tests)",
    ),
    "init": ("litreview.init", "start a new review: a folder of config and empty sheets"),
    "dedup": ("litreview.dedup_cli", "deduplicate any bibliographic CSV table"),
    "run": (
        "litreview.run",
        "run the workflow with snakemake, taking --config overrides of nested keys "
        "(search.mode=live)",
    ),
    "run-many": (
        "litreview.many",
        "run many review folders in one Snakemake run (in parallel, or on a cluster), with a "
        "summary across them",
    ),
}


def build_parser(requested: str | None = None) -> argparse.ArgumentParser:
    """The parser; only the requested command's module is imported to add its options."""
    parser = argparse.ArgumentParser(prog="litreview", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"litreview {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module_name, help_text) in COMMANDS.items():
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        command_parser.set_defaults(_module=module_name)
        if name == requested:
            importlib.import_module(module_name).add_arguments(command_parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    requested = next((arg for arg in arguments if arg in COMMANDS), None)
    parser = build_parser(requested)
    if requested == "run" and not {"-h", "--help"} & set(arguments):
        # `run` passes everything it does not know to snakemake, in order.
        from litreview.run import pop_exit_code, split_arguments

        position = arguments.index("run")
        config, rest = split_arguments(arguments[position + 1 :])
        exit_code, rest = pop_exit_code(rest)
        args = argparse.Namespace(
            command="run",
            _module=COMMANDS["run"][0],
            config=config,
            snakemake_args=rest,
            new_records_exit_code=exit_code,
        )
    elif requested == "run-many" and "--" in arguments:
        # what follows `--` goes to the top-level Snakemake as it is
        split = arguments.index("--")
        args = parser.parse_args(arguments[:split])
        args.snakemake_args = arguments[split + 1 :]
    else:
        args = parser.parse_args(arguments)
    module = importlib.import_module(args._module)
    try:
        return int(module.run(args) or 0)
    except LitReviewError as error:
        print(f"litreview {args.command}: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
