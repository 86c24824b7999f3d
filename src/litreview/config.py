"""Configuration helpers that do not need Snakemake: reading YAML strictly, and the checks a
workflow runs when it loads."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from litreview.errors import ConfigError

# --- reading YAML strictly -----------------------------------------------------------------


_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser, 10x faster


class _StrictLoader(_SafeLoader):  # type: ignore[misc, valid-type]
    """SafeLoader that refuses a key given twice in one mapping (YAML's last-one-wins would
    silently drop the first value)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False):
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if key in seen:
            raise ConfigError(
                f"{loader.name}, line {line}: the key {key!r} is given twice in the same section "
                f"(first on line {seen[key]}); YAML would keep only the last: delete one"
            )
        seen[key] = line
    return yaml.constructor.SafeConstructor.construct_mapping(loader, node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: str | Path, *, what: str = "configuration") -> dict[str, Any]:
    """A YAML file that must hold a mapping, read strictly: an empty file, text that is not
    UTF-8, a tab in an indentation, a key given twice or a syntax error is one ConfigError
    naming the file and line and saying what to do."""
    source = Path(path)
    try:
        data = source.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{source}: no such {what} file") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ConfigError(
            f"{source}, line {line}: not UTF-8 text (byte {data[error.start]:#04x}; saved as "
            "Latin-1 or Windows-1252?): save the file as UTF-8"
        ) from None
    for number, line_text in enumerate(text.splitlines(), start=1):
        indent = line_text[: len(line_text) - len(line_text.lstrip(" \t"))]
        if "\t" in indent and line_text.strip():
            raise ConfigError(
                f"{source}, line {number}: indented with a tab; YAML indents with spaces only: "
                "replace the tab by spaces"
            )
    loader = _StrictLoader(text)
    loader.name = str(source)
    try:
        loaded = loader.get_single_data()
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ConfigError(f"{source}{where}: not valid YAML ({problem}): fix the syntax") from None
    finally:
        loader.dispose()
    if loaded is None:
        raise ConfigError(
            f"{source}: the {what} file is empty (or only comments): fill it in (litreview init "
            "writes a complete one)"
        )
    if not isinstance(loaded, dict):
        raise ConfigError(
            f"{source}: the {what} file holds a {type(loaded).__name__}, not sections of "
            "`key: value` lines"
        )
    return loaded


def dates_as_text(node: Any) -> Any:
    """The config with every YAML date (an unquoted 2020-01-01) as its ISO text, in place: the
    schema and the checks read dates as text."""
    if isinstance(node, dict):
        for key, value in node.items():
            node[key] = dates_as_text(value)
    elif isinstance(node, list):
        node[:] = [dates_as_text(value) for value in node]
    elif isinstance(node, dt.date):
        return node.isoformat()
    return node


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
    _check_dates(config)
    _check_patterns(config)
    _check_screening(config["screening"], root)
    _check_published(config, root)
    other_sources = config["identify"].get("other_sources")
    if other_sources:
        from litreview.identify import read_other_sources

        read_other_sources(root / other_sources)
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


_ISO_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_NCBI_DATE = re.compile(r"^(\d{4})(?:/(\d{2})(?:/(\d{2}))?)?$")


def date_span(text: str, *, pattern: re.Pattern[str] = _ISO_DATE) -> tuple[dt.date, dt.date]:
    """The first and last day a date of year, month or day precision stands for; ValueError
    for anything else (an Excel serial, 1/2/2024, 2024-13, 2023-02-30)."""
    match = pattern.match(str(text).strip())
    if not match:
        raise ValueError(text)
    year = int(match.group(1))
    if match.group(3):
        day = dt.date(year, int(match.group(2)), int(match.group(3)))
        return day, day
    if match.group(2):
        month = int(match.group(2))
        first = dt.date(year, month, 1)
        following = dt.date(year + month // 12, month % 12 + 1, 1)
        return first, following - dt.timedelta(days=1)
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def _check_dates(config: Mapping[str, Any]) -> None:
    """Date windows: real calendar dates in the documented form, the start not after the end."""
    search = config["search"]
    if (search.get("mindate") is None) != (search.get("maxdate") is None):
        raise ConfigError(
            "config search.mindate and search.maxdate go together (E-utilities ignores one "
            "alone): set both, or set both to null"
        )
    dates = ((config["screening"].get("automatic") or {}).get("dates")) or {}
    windows = [
        (
            "screening.automatic.dates",
            dates.get("from"),
            dates.get("to"),
            _ISO_DATE,
            "YYYY, YYYY-MM or YYYY-MM-DD (e.g. 2015-01-01)",
        ),
        (
            "search",
            config["search"].get("mindate"),
            config["search"].get("maxdate"),
            _NCBI_DATE,
            "YYYY, YYYY/MM or YYYY/MM/DD (e.g. 2015/01/01), as E-utilities takes it",
        ),
    ]
    for section, start, end, pattern, form in windows:
        keys = ("from", "to") if section != "search" else ("mindate", "maxdate")
        spans = []
        for key, value in zip(keys, (start, end), strict=True):
            if value is None:
                spans.append(None)
                continue
            try:
                spans.append(date_span(str(value), pattern=pattern))
            except ValueError:
                raise ConfigError(
                    f"config {section}.{key} is {value!r}: not a date; write {form}"
                ) from None
        if spans[0] and spans[1] and spans[0][0] > spans[1][1]:
            raise ConfigError(
                f"config {section}: {keys[0]} {start!r} is after {keys[1]} {end!r}: the window "
                "is empty; swap them"
            )


_PATTERN_KEYS = ("any", "none", "present", "absent", "words")


def _check_patterns(node: Any, where: str = "config") -> None:
    """Every keyword pattern (the lists under any / none / present / absent / words) is a
    non-empty word or phrase: an empty one would match nothing or everything."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            here = f"{where}.{key}" if where != "config" else f"config {key}"
            if key in _PATTERN_KEYS and isinstance(value, list):
                for number, pattern in enumerate(value, start=1):
                    if not isinstance(pattern, str) or not pattern.strip():
                        raise ConfigError(
                            f"{here}[{number}] is {pattern!r}: a pattern is a word or phrase; "
                            "remove the empty entry"
                        )
            else:
                _check_patterns(value, here)
    elif isinstance(node, list):
        for number, value in enumerate(node, start=1):
            _check_patterns(value, f"{where}[{number}]")


def _check_published(config: Mapping[str, Any], root: Path) -> None:
    """The published numbers the audit compares: a strictly read YAML mapping whose targets
    and consistency checks exist, with no negative count (a target declared `signed: true`
    may be negative: an effect, a change)."""
    from litreview.audit import AuditSettings, lookup

    audit = config.get("audit") or {}
    if not audit.get("published"):
        return
    path = root / audit["published"]
    published = read_yaml(path, what="published numbers")
    settings = AuditSettings.from_config(audit)
    named = [(t.id, t.published, t.signed) for t in settings.targets]
    for check in settings.consistency:
        for value in check.paths():
            named.append((check.id, value, False))
    for identifier, dotted, signed in named:
        if not isinstance(dotted, str):
            continue
        try:
            value = lookup(published, dotted)
        except ConfigError as error:
            raise ConfigError(f"{path}: {error} (audit entry {identifier!r})") from None
        values = value if isinstance(value, list) else [value]
        negative = [
            v for v in values if isinstance(v, int | float) and not isinstance(v, bool) and v < 0
        ]
        if negative and not signed:
            raise ConfigError(
                f"{path}, key {dotted}: {negative[0]!r} is negative, and a published count or "
                f"percent cannot be (audit entry {identifier!r}): fix the number, or mark the "
                "target `signed: true` if the review publishes a signed quantity"
            )


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
    from litreview.screen import ScreeningSettings, read_decisions, reviewers_in

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
    settings = ScreeningSettings.from_config(screening)  # reason codes of the criteria
    sheets = [root / path for path in screening.get("sheets") or []]
    read_decisions(  # every row of every sheet, as the screen rule will read it
        [path for path in sheets if path.is_file()],
        None,
        reasons=settings.reasons,
        categories=[category.name for category in settings.categories],
    )
    rules = (screening.get("conflicts") or {}).values()
    arbiter = screening.get("arbiter")
    reviewers = reviewers_in([root / path for path in screening.get("sheets") or []])
    declared = screening.get("reviewers")
    if declared:
        unknown = sorted(reviewers - set(declared))
        if unknown:
            raise ConfigError(
                f"the screening sheets name reviewer(s) {', '.join(unknown)} that config "
                f"screening.reviewers ({', '.join(declared)}) does not list: fix the sheets' "
                "reviewer column, or add them"
            )
    if "arbiter" in rules and not arbiter and len(reviewers) > 1:
        raise ConfigError(
            "config screening.conflicts uses the arbiter rule but screening.arbiter is not set, "
            f"and the sheets have several reviewers ({', '.join(sorted(reviewers))}): name the "
            "one who settles conflicts"
        )
    if declared:
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
