"""`litreview init DIR`: a new review project, run with the workflow shipped in the package.

The folder gets `config/config.yaml` (every key of the schema, each with its description as a
comment, set to its default or to a starter value), empty sheets with their headers (the
screening decisions, the extraction form's studies sheet), a README of the next steps and a
.gitignore. Nothing else: the workflow comes from the installed package (`litreview run`).
"""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from litreview.errors import ConfigError
from litreview.io import append_text_row, atomic_open, write_text
from litreview.screen import SHEET_COLUMNS

__all__ = ["commented_config", "init_review"]

SCHEMA = Path(__file__).resolve().parent / "workflow" / "schemas" / "config.schema.yaml"
SCREENING_COLUMNS = SHEET_COLUMNS  # the screening sheet's own columns
PLACEHOLDER_EMAIL = "you@example.org"

# Starter values where the schema's default would not make a runnable review. Each is a
# placeholder the user replaces; the comments say so.
STARTER: dict[str, Any] = {
    "review": {"id": "my-review", "title": "Untitled review"},
    "search": {
        "query": "REPLACE WITH YOUR PUBMED QUERY",
        "mindate": "2000/01/01",
        "maxdate": "2025/12/31",
    },
    "entrez": {"email": PLACEHOLDER_EMAIL},
    "screening": {
        "sheets": ["config/screening.xlsx"],
        "reasons": {
            "off_topic": "Not about the review question",
            "not_primary": "Not a primary study",
            "not_english": "Not in English",
            "outside_dates": "Published outside the search window",
            "not_retrieved": "Full text not retrieved",
        },
        "automatic": {
            "language": {"allowed": ["eng"], "reason": "not_english"},
            "publication_types": [
                {
                    "exclude": ["Review", "Systematic Review", "Meta-Analysis", "Editorial"],
                    "reason": "not_primary",
                }
            ],
            "dates": {"from": None, "to": None, "reason": "outside_dates"},
            "keywords": [],
        },
        "categories": [{"name": "included", "label": "Included studies", "default": True}],
    },
    "extraction": {
        "studies": "config/extraction/studies.xlsx",
        "require_complete": False,
        "fields": [
            {"name": "label", "type": "text", "description": "First author and year"},
            {
                "name": "design",
                "type": "code",
                "vocabulary": {
                    "rct": "Randomised trial",
                    "cohort": "Cohort study",
                    "other": "Other",
                },
            },
            {"name": "n", "type": "integer", "min": 1, "description": "Participants"},
        ],
    },
    "report": {
        "tables": [
            {
                "name": "designs",
                "kind": "counts",
                "title": "Included studies by design",
                "by": ["design"],
            },
            {
                "name": "participants",
                "kind": "summary",
                "title": "Participants",
                "value": "n",
                "unit": "participants",
                "stats": ["studies", "sum", "median"],
            },
        ],
        "figures": [
            {
                "name": "designs",
                "table": "designs",
                "plot": "bar",
                "title": "Included studies by design",
            },
        ],
    },
}
_NOTES = {
    "search.query": "REPLACE: your PubMed query, as you would type it at pubmed.ncbi.nlm.nih.gov",
    "entrez.email": "REPLACE: your address (NCBI requires a contact; a live run refuses this placeholder)",
    "extraction.fields": 'A starter form: declare your own (README "Declaring your review")',
    "report.tables": "A starter report: declare your own tables",
}


def _schema() -> dict[str, Any]:
    return yaml.safe_load(SCHEMA.read_text(encoding="utf-8"))


def _comment(text: str, indent: str) -> list[str]:
    lines = textwrap.wrap(" ".join(str(text).split()), width=96 - len(indent))
    return [f"{indent}# {line}" for line in lines]


def _value_lines(key: str, value: Any, indent: str) -> list[str]:
    dumped = yaml.safe_dump({key: value}, sort_keys=False, allow_unicode=True, width=90)
    return [f"{indent}{line}" for line in dumped.rstrip("\n").splitlines()]


def _section(schema: Mapping[str, Any], starter: Any, path: str, indent: str) -> list[str]:
    lines: list[str] = []
    for key, subschema in (schema.get("properties") or {}).items():
        dotted = f"{path}.{key}" if path else key
        lines += _comment(subschema.get("description", ""), indent)
        if dotted in _NOTES:
            lines += _comment(_NOTES[dotted], indent)
        chosen = starter.get(key) if isinstance(starter, Mapping) else None
        if subschema.get("properties") and (chosen is None or isinstance(chosen, Mapping)):
            lines.append(f"{indent}{key}:")
            inner = _section(subschema, chosen or {}, dotted, indent + "  ")
            lines += inner or [f"{indent}  {{}}"]
        else:
            value = chosen if chosen is not None else subschema.get("default")
            lines += _value_lines(key, value, indent)
        if not indent:
            lines.append("")
    return lines


def commented_config(title: str | None = None) -> str:
    """config.yaml for a new review: every key of the schema, described, with a value."""
    starter = yaml.safe_load(yaml.safe_dump(STARTER))
    if title:
        starter["review"]["title"] = title
    header = [
        "# litreview configuration of a new review (written by `litreview init`).",
        "# Every key is here with its description; unknown keys stop the run at once. Replace the",
        "# values marked REPLACE, declare your extraction form and report, then follow README.md.",
        "",
    ]
    return "\n".join(header + _section(_schema(), starter, "", "")) + "\n"


def _write_sheet(path: Path, sheet_name: str, header: list[str]) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_name
    append_text_row(sheet, header)
    sheet.freeze_panes = "A2"
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path, "wb") as handle:
        workbook.save(handle)


NEXT_STEPS = """# {title}

A litreview project: config and sheets only; the workflow comes from the installed package.

1. Edit `config/config.yaml`: the values marked REPLACE (your PubMed query, the date window,
   your e-mail address), the screening reasons, automatic criteria and categories, and your
   extraction form and report (see the litreview README, "Declaring your review").
2. Take the first snapshot of the search (NCBI_API_KEY in the environment is optional):
   `litreview run --cores 1 --config search.mode=live`
3. Screen: open `results/screening/queue.xlsx`, fill in the decisions, save it as
   `config/screening.xlsx`, then `litreview run --cores 1` (offline: it replays the snapshot).
4. Extract: open `results/extraction/form.xlsx` (one row per included study, drop-downs, a
   sheet describing every field), fill it in, save it as `config/extraction/studies.xlsx`,
   then `litreview run --cores 1`.
5. Read `results/tables/`, `results/figures/` and `results/prisma/`; to audit against a
   published version, write its numbers in a YAML file and set `audit.published` and
   `audit.targets` (metric names: `results/tables/metrics.tsv`).

The pipeline never writes to your sheets. Commit `config/` and `resources/snapshots/`: with
them anyone can rerun this review exactly, offline.
"""


def init_review(folder: str | Path, *, title: str | None = None) -> Path:
    """Write a new review project into `folder` (new or empty); returns the config's path."""
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise ConfigError(
            f"{folder} is not empty: litreview init writes a new review into a new or empty "
            "folder (it never overwrites files)"
        )
    config_path = folder / "config" / "config.yaml"
    config_path.parent.mkdir(parents=True, exist_ok=True)
    text = commented_config(title)
    config = yaml.safe_load(text)
    write_text(config_path, text)
    _write_sheet(folder / "config" / "screening.xlsx", "screening", list(SCREENING_COLUMNS))
    extraction = config["extraction"]
    header = [extraction.get("key", "study")]
    header += [
        f.get("column", f["name"]) for f in extraction["fields"] if f.get("level", "study") != "arm"
    ]
    _write_sheet(folder / "config" / "extraction" / "studies.xlsx", "studies", header)
    write_text(folder / "README.md", NEXT_STEPS.format(title=config["review"]["title"]))
    write_text(folder / ".gitignore", "results/\nlogs/\n.snakemake/\n")
    return config_path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", help="the new review's folder (new or empty)")
    parser.add_argument("--title", help="the review's title")


def run(args: argparse.Namespace) -> int:
    config = init_review(args.folder, title=args.title)
    print(
        f"wrote {config.parent.parent}: edit {config}, then see {config.parent.parent / 'README.md'}"
    )
    return 0
