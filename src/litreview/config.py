"""Configuration helpers that do not need Snakemake."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
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


PLACEHOLDER_EMAILS = frozenset({"", "you@example.org", "litreview-user@example.org"})
_LABEL_LIMIT = 60  # PRISMA boxes print a reason or category label on one line


def check_at_load(config: Mapping[str, Any], directory: str | Path = ".") -> None:
    """The checks a workflow runs when it loads, before any rule or network request: every
    sheet it names exists; screening codes, labels and the arbiter agree; a live run has a real
    contact address; a replayed snapshot was taken with this query and date window. Each
    problem is a ConfigError naming the key and what to do."""
    root = Path(directory)
    _check_sheets_exist(config, root)
    _check_screening(config["screening"], root)
    search = config["search"]
    if search["mode"] == "live":
        email = (config.get("entrez") or {}).get("email") or ""
        if email.strip().lower() in PLACEHOLDER_EMAILS:
            raise ConfigError(
                f"config entrez.email is the placeholder {email!r}: NCBI asks every request for a "
                "contact address; put yours in config/config.yaml before a live run"
            )
    else:
        _check_snapshot_matches(config, root)


def _sheets(config: Mapping[str, Any]) -> list[tuple[str, str]]:
    named = [("identify.other_sources", config["identify"].get("other_sources"))]
    named += [
        (f"screening.sheets[{number}]", path)
        for number, path in enumerate(config["screening"].get("sheets") or [], 1)
    ]
    extraction = config.get("extraction") or {}
    named += [
        ("extraction.studies", extraction.get("studies")),
        ("extraction.arms", extraction.get("arms")),
    ]
    named.append(("audit.published", (config.get("audit") or {}).get("published")))
    return [(key, path) for key, path in named if path]


def _check_sheets_exist(config: Mapping[str, Any], root: Path) -> None:
    for key, path in _sheets(config):
        if not (root / path).is_file():
            raise ConfigError(
                f"config {key}: {path} does not exist: create it (litreview init writes empty "
                "sheets with their headers; the queue and form workbooks in results/ can be saved "
                "there), or remove it from the config"
            )


def _printable(text: object, where: str) -> None:
    if not isinstance(text, str) or not text.strip() or "\n" in text or ";" in text:
        raise ConfigError(
            f"{where} is {text!r}: a label PRISMA prints is one line of text with no ';'"
        )
    if len(text) > _LABEL_LIMIT:
        raise ConfigError(
            f"{where} is {len(text)} characters long: PRISMA prints it in a box; keep it to "
            f"{_LABEL_LIMIT} (say the detail in the protocol)"
        )


def _check_screening(screening: Mapping[str, Any], root: Path) -> None:
    from litreview.screen import ScreeningSettings, reviewers_in

    reasons = screening.get("reasons") or {}
    for code, label in reasons.items():
        _printable(label, f"config screening.reasons.{code}")
    names = [entry.get("name") for entry in screening.get("categories") or []]
    for name in names:
        if names.count(name) > 1:
            raise ConfigError(f"config screening.categories: {name!r} is listed twice")
    for entry in screening.get("categories") or []:
        _printable(
            entry.get("label") or entry.get("name"),
            f"config screening.categories[{entry.get('name')}].label",
        )
    defaults = [
        entry.get("name") for entry in screening.get("categories") or [] if entry.get("default")
    ]
    if len(defaults) > 1:
        raise ConfigError(
            f"config screening.categories: {', '.join(defaults)} are all marked default: mark one"
        )
    ScreeningSettings.from_config(screening)  # reason codes of the automatic criteria
    rules = (screening.get("conflicts") or {}).values()
    arbiter = screening.get("arbiter")
    reviewers = reviewers_in([root / path for path in screening.get("sheets") or []])
    if "arbiter" in rules and not arbiter and len(reviewers) > 1:
        raise ConfigError(
            "config screening.conflicts uses the arbiter rule but screening.arbiter is not set, "
            f"and the sheets have several reviewers ({', '.join(sorted(reviewers))}): name the "
            "one who settles conflicts"
        )
    declared = screening.get("reviewers")
    if declared:
        unknown = sorted(reviewers - set(declared))
        if unknown:
            raise ConfigError(
                f"the screening sheets name reviewer(s) {', '.join(unknown)} that config "
                f"screening.reviewers ({', '.join(declared)}) does not list: fix the sheets' "
                "reviewer column, or add them"
            )
        if arbiter and arbiter not in declared:
            raise ConfigError(
                f"config screening.arbiter {arbiter!r} is not one of screening.reviewers "
                f"({', '.join(declared)})"
            )
    elif arbiter and reviewers and arbiter not in reviewers:
        raise ConfigError(
            f"config screening.arbiter {arbiter!r} is not a reviewer of the screening sheets "
            f"({', '.join(sorted(reviewers))}): name one of them, or list every reviewer (the "
            "arbiter too, before their first row) in screening.reviewers"
        )


def _check_snapshot_matches(config: Mapping[str, Any], root: Path) -> None:
    import json

    from litreview.errors import SnapshotError
    from litreview.snapshot import resolve_snapshot

    search = config["search"]
    try:
        folder = resolve_snapshot(
            root / search["snapshots_dir"], search["snapshot"], database=search["database"]
        )
    except SnapshotError:
        return  # no snapshot yet: the snapshot rule says what to do
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    if search.get("replay_any_snapshot"):
        return
    window = manifest.get("date_window") or {}
    differences = []
    if " ".join(str(manifest.get("query", "")).split()) != " ".join(str(search["query"]).split()):
        differences.append(f"query {manifest.get('query')!r} (config: {search['query']!r})")
    for key in ("mindate", "maxdate", "datetype"):
        if key in window and str(window[key]) != str(search.get(key)):
            differences.append(f"{key} {window[key]!r} (config: {search.get(key)!r})")
    if differences:
        raise ConfigError(
            f"snapshot {folder.name} was taken with {'; '.join(differences)}: take a new snapshot "
            "(litreview run --cores 1 --config search.mode=live), or replay it anyway with "
            "--config search.replay_any_snapshot=true"
        )
