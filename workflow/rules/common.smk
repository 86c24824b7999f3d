# Validation of the configuration, and the few input functions the rules share.
import datetime
from pathlib import Path

from snakemake.utils import validate

from litreview.config import apply_dotted_overrides
from litreview.identify import read_other_sources
from litreview.snapshot import resolve_snapshot

# `--config search.mode=live` arrives as a top-level "search.mode" key: fold it in first.
apply_dotted_overrides(config)
validate(config, "../schemas/config.schema.yaml")

if (config["search"]["mindate"] is None) != (config["search"]["maxdate"] is None):
    raise ValueError(
        "config search.mindate and search.maxdate go together (E-utilities ignores one alone): "
        "set both, or set both to null"
    )


def is_live():
    return config["search"]["mode"] == "live"


def snapshot_manifest():
    """Offline: the replayed snapshot's manifest (its change reruns the workflow). Live: none."""
    if is_live():
        return []
    folder = resolve_snapshot(
        config["search"]["snapshots_dir"],
        config["search"]["snapshot"],
        database=config["search"]["database"],
    )
    return [str(folder / "manifest.json")]


def live_run_stamp():
    """A live search runs again on every invocation: its params change each time."""
    if is_live():
        return datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"
        )
    return None


def other_sources_inputs():
    """The other-sources sheet and the bibliographic files it names (their change reruns)."""
    sheet = config["identify"]["other_sources"]
    if not sheet:
        return []
    files = [sheet]
    listed = read_other_sources(sheet)
    for name in listed["file"].dropna():
        files.append(str(Path(sheet).parent / name))
    return files


def get_final_output():
    return [
        rules.records.output.records,
        rules.dedup.output.deduplicated,
        rules.screen.output.queue_xlsx,
        rules.prisma.output.png,
    ]
