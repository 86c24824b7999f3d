"""`litreview run-many`: many review folders in one Snakemake run, and a summary across them.

    litreview run-many reviews/* [--cores 4] [--config search.mode=live] [-- SNAKEMAKE ARGS]

One top-level Snakemake DAG (``workflow/many/Snakefile``) holds a job per review: each job is
the review's own `litreview run` in its own folder (its config, sheets, snapshots, results,
exactly where a single run puts them, and its own up-to-date checks), so the outputs are those
of single runs by construction. Reviews run in parallel (``--cores``/``--jobs``, or a cluster
executor); a review that fails does not stop the others: its job records the failure (exit
status, the tail of its log) and the summary reports it. In live mode each review's search
is a job of its own, kept on the submitting machine (``localrules``: compute nodes often have
no internet), and the searches share one NCBI budget (litreview.entrez.SharedRateLimiter);
the pipeline then replays the snapshot that search took.

Summary: ``results-many/summary.md`` and ``summary.csv``, one row per review: status, version,
records to screen, new records, retraction alarms, audit differences, seconds.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from litreview.errors import ConfigError
from litreview.io import atomic_open, write_table, write_text

__all__ = ["SUMMARY_COLUMNS", "review_names", "run_review", "summarise", "write_summary"]

SNAKEFILE = Path(__file__).resolve().parent / "workflow" / "many" / "Snakefile"
POINTER = "results/search/snapshot.json"  # the search step's output: which snapshot it took
SUMMARY_COLUMNS = (
    "review",
    "folder",
    "status",
    "version",
    "to_screen",
    "new_records",
    "retraction_alarms",
    "audit_differences",
    "seconds",
    "problem",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("reviews", nargs="+", type=Path, metavar="REVIEW_DIR",
                        help="review folders (each made by `litreview init`)")  # fmt: skip
    parser.add_argument("--out", type=Path, default=Path("results-many"),
                        help="where the summary and each review's status and log go")  # fmt: skip
    parser.add_argument("--cores", default="2", help="reviews run at once (Snakemake --cores)")
    parser.add_argument(
        "--config",
        nargs="+",
        default=[],
        metavar="KEY=VALUE",
        help="overrides given to every review's run (search.mode=live for the monthly update)",
    )
    parser.set_defaults(snakemake_args=[])  # what follows `--` (litreview.cli splits it off)
    parser.epilog = (
        "Arguments after -- go to the top-level Snakemake (e.g. -- --executor slurm --jobs 20, "
        "or -- --dry-run)."
    )


def review_names(folders: Sequence[str | Path]) -> dict[str, str]:
    """A short unique name per review folder (its folder name; a number added on a clash) ->
    its absolute path. Every folder must hold config/config.yaml."""
    names: dict[str, str] = {}
    for folder in folders:
        path = Path(folder).resolve()
        if not (path / "config" / "config.yaml").is_file():
            raise ConfigError(
                f"{folder}: not a review folder (no config/config.yaml): make one with "
                "`litreview init`"
            )
        if str(path) in names.values():
            continue
        base = re.sub(r"[^A-Za-z0-9_.-]+", "_", path.name) or "review"
        name, number = base, 2
        while name in names:
            name, number = f"{base}-{number}", number + 1
        names[name] = str(path)
    return names


def run_review(
    folder: str | Path,
    status_path: str | Path,
    log_path: str | Path,
    overrides: Sequence[str] = (),
    *,
    targets: Sequence[str] = (),
) -> dict[str, Any]:
    """The review's own `litreview run` in its folder; its outcome written to `status_path` as
    JSON whatever it was (a failure is recorded, not raised: the other reviews go on)."""
    command = [sys.executable, "-m", "litreview.cli", "run", "--cores", "1"]
    if overrides:
        command += ["--config", *overrides]
    command += list(targets)
    started = time.perf_counter()
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(log_path, "w", encoding="utf-8") as log:
        log.write(f"$ (cd {folder} && {' '.join(command[2:])})\n")
        log.flush()
        status = subprocess.call(
            command, cwd=folder, stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy()
        )
    seconds = time.perf_counter() - started
    outcome: dict[str, Any] = {
        "folder": str(folder),
        "exit_status": status,
        "ok": status == 0,
        "seconds": round(seconds, 1),
        "log": str(log_path),
    }
    if status != 0:
        outcome["problem"] = _problem(Path(log_path))
    if POINTER in targets:
        pointer = Path(folder) / POINTER
        if status == 0 and pointer.is_file():
            outcome["snapshot"] = json.loads(pointer.read_text(encoding="utf-8")).get("name")
    with atomic_open(status_path, "w", encoding="utf-8") as handle:
        json.dump(outcome, handle, indent=2, sort_keys=True)
        handle.write("\n")
    return outcome


def _problem(log: Path) -> str:
    """The most telling line of a failed run's log: its last error, else its last line."""
    lines = [
        line.strip() for line in log.read_text(encoding="utf-8", errors="replace").splitlines()
    ]
    lines = [line for line in lines if line]
    for line in reversed(lines):
        if re.search(r"error|litreview:", line, re.IGNORECASE) and "Exiting because" not in line:
            return line[:500]
    return (lines[-1] if lines else "no output")[:500]


def _rows(path: Path, delimiter: str = ",") -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=delimiter))


def summarise(name: str, status: Mapping[str, Any]) -> dict[str, Any]:
    """One summary row: the run's outcome and the figures its results hold."""
    results = Path(status["folder"]) / "results"
    versions = _rows(results / "versions" / "versions.csv")
    changes = _rows(results / "changes" / "changes.csv")
    audit = _rows(results / "audit" / "audit.csv")
    queue = _rows(results / "screening" / "queue.csv")
    retractions = _rows(results / "changes" / "retractions.tsv", delimiter="\t")
    ok = bool(status.get("ok"))
    return {
        "review": name,
        "folder": status["folder"],
        "status": "ok" if ok else f"failed (exit {status.get('exit_status')})",
        "version": versions[-1]["version"] if ok and versions else "",
        "to_screen": len(queue) if ok else "",
        "new_records": sum(1 for row in changes if row.get("change") == "new") if ok else "",
        "retraction_alarms": len(retractions) if ok else "",
        "audit_differences": sum(1 for row in audit if row.get("status") == "differs")
        if ok and audit
        else "",
        "seconds": status.get("seconds", ""),
        "problem": status.get("problem", ""),
    }


def write_summary(
    names: Mapping[str, str], status_paths: Sequence[str | Path], md_path: str | Path,
    csv_path: str | Path,
) -> list[dict[str, Any]]:  # fmt: skip
    """results-many/summary.csv and summary.md from the reviews' status files."""
    import pandas as pd

    rows = []
    for name, path in zip(names, status_paths, strict=True):
        rows.append(summarise(name, json.loads(Path(path).read_text(encoding="utf-8"))))
    table = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    write_table(csv_path, table)
    from litreview.report import to_markdown

    failed = [row for row in rows if row["status"] != "ok"]
    shown = table.drop(columns=["folder", "problem"]).rename(
        columns=lambda name: name.replace("_", " ")
    )
    lines = [
        "# Reviews",
        "",
        f"{len(rows)} review(s), {len(rows) - len(failed)} ok, {len(failed)} failed.",
        "",
        to_markdown(shown).rstrip("\n"),
    ]
    if failed:
        lines += ["", "## Failures", ""]
        failures = pd.DataFrame(failed, columns=["review", "folder", "problem"])
        lines.append(to_markdown(failures).rstrip("\n"))
    write_text(md_path, "\n".join(lines) + "\n")
    return rows


def run(args: argparse.Namespace) -> int:
    from litreview.run import parse_overrides

    parse_overrides(args.config)  # a malformed KEY=VALUE stops here, before anything runs
    names = review_names(args.reviews)
    extra = list(args.snakemake_args)
    out = args.out.resolve()
    live = any(entry.replace(" ", "") == "search.mode=live" for entry in args.config)
    config = {"reviews": names, "out": str(out), "overrides": list(args.config), "live": live}
    out.mkdir(parents=True, exist_ok=True)
    config_file = out / "run-many.yaml"
    write_text(config_file, yaml.safe_dump(config, sort_keys=True))
    command = [
        sys.executable, "-m", "snakemake", "--snakefile", str(SNAKEFILE),
        "--directory", str(out), "--configfile", str(config_file), "--cores", str(args.cores),
        "--keep-going", "--forcerun", "review", "search", *extra,
    ]  # fmt: skip
    status = subprocess.call(command, env=os.environ.copy())
    summary = out / "summary.csv"
    if status == 0 and summary.is_file():
        failed = [row for row in _rows(summary) if row["status"] != "ok"]
        print(
            f"litreview run-many: {len(names)} review(s), {len(failed)} failed: {out / 'summary.md'}"
        )
        return 1 if failed else 0
    return status
