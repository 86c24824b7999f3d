# Validation of the configuration, and the few input functions the rules share.
import datetime
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from litreview.config import (
    apply_dotted_overrides,
    check_at_load,
    dates_as_text,
    read_yaml,
)
from litreview import stages
from litreview.errors import LitReviewError
from litreview.log import run_step as logged_step
from litreview.identify import read_other_sources
from litreview.snapshot import resolve_snapshot


def at_load(check, *args, **kwargs):
    """Run a load-time step; its error (naming file, key, row and what to do) ends the run
    as one line and exit status 1, without the stack Snakemake prints of workflow lines.
    """
    try:
        return check(*args, **kwargs)
    except LitReviewError as error:
        raise SystemExit(f"{type(error).__name__}: {error}") from None


def run_step(log_path, step, *args, **kwargs):
    """A rule's step, in the Snakemake process (rules use run: in threads, no interpreter
    start-up per job): its log in the rule's log file; its LitReviewError the rule's one-line
    failure, without the package's traceback."""
    try:
        return logged_step(log_path, step, *args, **kwargs)
    except LitReviewError as error:
        raise WorkflowError(f"litreview: {type(error).__name__}: {error}") from None


# Config files given on the command line, read strictly too (a key given twice stops here).
for configfile_path in [*workflow.configfiles, *(workflow.overwrite_configfiles or [])]:
    at_load(read_yaml, configfile_path)
# `--config search.mode=live` arrives as a top-level "search.mode" key: fold it in first.
at_load(apply_dotted_overrides, config)
dates_as_text(config)  # an unquoted 2020-01-01 is a YAML date: the schema reads text
validate(config, "../schemas/config.schema.yaml")
# Sheets, dates, patterns, screening codes, published numbers, the contact address, the
# snapshot: before any rule runs and any request is sent.
at_load(check_at_load, config)

# The declared extraction form and report, checked now: a bad key stops the run at load.
from litreview.report import output_names, report_from_config
from litreview.extract.sheets import check_sheets as check_extraction_sheets
from litreview.stages import extraction_form

EXTRACTION_FORM = (
    at_load(extraction_form, config) if config["extraction"]["fields"] else None
)
if EXTRACTION_FORM and config["extraction"]["studies"]:  # every cell, quantities too
    at_load(
        check_extraction_sheets,
        EXTRACTION_FORM,
        config["extraction"]["studies"],
        config["extraction"]["arms"],
    )
REPORT_SPEC = (
    at_load(report_from_config, config["report"], EXTRACTION_FORM)
    if EXTRACTION_FORM
    else None
)


def declared_report():
    """The declared table files and figures (empty without a form)."""
    return output_names(REPORT_SPEC) if REPORT_SPEC else ([], [])


def declared_quantities():
    """The quantity fields of the form: one results/extraction/<name>.tsv each."""
    return [f.name for f in EXTRACTION_FORM.quantities()] if EXTRACTION_FORM else []


def is_live():
    return config["search"]["mode"] == "live"


def snapshot_manifest():
    """Offline: the replayed snapshot's manifest (its change reruns the workflow). Live: none."""
    if is_live():
        return []
    folder = at_load(
        resolve_snapshot,
        config["search"]["snapshots_dir"],
        config["search"]["snapshot"],
        database=config["search"]["database"],
    )
    return [str(folder / "manifest.json")]


def replayed_manifest(wildcards):
    """The manifest of the snapshot the pointer names (read once the snapshot step ran): a new
    snapshot reruns the pipeline, the same one reruns nothing."""
    import json

    pointer = checkpoints.snapshot.get().output.pointer
    with open(pointer, encoding="utf-8") as handle:
        folder = json.load(handle)["snapshot"]
    return str(Path(folder) / "manifest.json")


def live_run_stamp():
    """A live search runs again on every invocation: its params change each time."""
    if is_live():
        return datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"
        )
    return None


def other_sources_sheet():
    """The other-sources sheet, if the review has one (a list: empty or one path)."""
    sheet = config["identify"]["other_sources"]
    return [sheet] if sheet else []


def other_sources_files():
    """The bibliographic files the other-sources sheet names (their change reruns)."""
    files = []
    for sheet in other_sources_sheet():
        listed = at_load(read_other_sources, sheet)
        files += [str(Path(sheet).parent / name) for name in listed["file"].dropna()]
    return files


def extraction_sheets():
    """The extraction sheets (their change reruns the extraction)."""
    sheets = [config["extraction"]["studies"], config["extraction"]["arms"]]
    return [sheet for sheet in sheets if sheet]


def get_final_output():
    """Everything a run produces; extraction and audit only when the review has their inputs."""
    outputs = [
        rules.records.output.records,
        rules.dedup.output.deduplicated,
        rules.screen.output.queue_xlsx,
        rules.prisma.output.png,
        rules.changes.output.md,
        rules.search_report.output.md,
        rules.exports.output,
        rules.versions.output.csv,
    ]
    if EXTRACTION_FORM:
        outputs.append(rules.extraction_form.output.form)
    if EXTRACTION_FORM and config["extraction"]["studies"]:
        outputs += [rules.extract.output.report, rules.regenerate.output.metrics]
        if config["audit"]["published"]:
            outputs.append(rules.audit.output.md)
    return outputs


def cancel_scheduler_timers():
    """Snakemake's job rate limiter leaves a 1 s threading.Timer pending after the last job, and
    Python waits for it at exit: a finished run would idle up to a second. The scheduler is done
    by now; its timers have nothing left to wake."""
    import threading

    for thread in threading.enumerate():
        if isinstance(thread, threading.Timer):
            thread.cancel()
