"""The PRISMA 2020 flow diagram: its numbers, the arithmetic they must obey, and the drawing.

`PrismaCounts` holds every number the diagram shows, named as the `data` column of the
PRISMA2020 R package's template (packaged as ``litreview/data/PRISMA2020_template.csv``), plus a
few extras the template lacks but an honest flow needs: records found by other methods outside
the template's three (`other_results`), the reports each column includes (so its sums close),
and decisions still pending (`awaiting_*`). The R package never checks that the boxes add up;
`check` does, and `draw` refuses numbers that do not.

`layout` turns counts into plain geometry (boxes with wrapped lines, connectors), so legibility
(no overlaps, no line crossing text, text inside its box) is testable without pixels; `draw`
only renders that geometry with matplotlib, deterministically.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from functools import cache
from importlib import resources
from pathlib import Path

import pandas as pd

from litreview.errors import InputFileError, ValidationError
from litreview.io import read_table, write_bytes, write_table

TEMPLATE_COLUMNS = ("data", "node", "box", "description", "boxtext", "tooltips", "url", "n")

# Number fields of PrismaCounts that are rows of the template (in template order).
TEMPLATE_NUMBER_FIELDS = (
    "previous_studies",
    "previous_reports",
    "database_results",
    "register_results",
    "website_results",
    "organisation_results",
    "citations_results",
    "duplicates",
    "excluded_automatic",
    "excluded_other",
    "records_screened",
    "records_excluded",
    "dbr_sought_reports",
    "dbr_notretrieved_reports",
    "other_sought_reports",
    "other_notretrieved_reports",
    "dbr_assessed",
    "other_assessed",
    "new_studies",
    "new_reports",
    "total_studies",
    "total_reports",
)
# List fields ("Label, n; Label, n") that are rows of the template.
TEMPLATE_LIST_FIELDS = (
    "database_specific_results",
    "register_specific_results",
    "dbr_excluded",
    "other_excluded",
)

# Our extra rows, appended after the template's: field -> (data name, box, description). The
# data names differ from the field names on purpose: the R package finds its rows with
# `grep(name, data[, 1])`, a substring match, so a row called "included_from_databases" or
# "awaiting_screening" would be taken for its "included" or "screening" label rows.
EXTRA_ROWS: dict[str, tuple[str, str, str]] = {
    "other_results": (
        "other_results",
        "box11",
        "Records identified from: other methods not in the template (litreview extra)",
    ),
    "included_from_databases": (
        "dbr_eligible_reports",
        "box10",
        "Reports included from databases and registers (litreview extra)",
    ),
    "included_from_other": (
        "other_eligible_reports",
        "box10",
        "Reports included from other methods (litreview extra)",
    ),
    "awaiting_screening": (
        "records_pending",
        "box4",
        "Records screened with no decision yet (litreview extra)",
    ),
    "awaiting_assessment": (
        "dbr_pending_reports",
        "box8",
        "Reports (databases and registers) with no full-text decision yet (litreview extra)",
    ),
    "other_awaiting_assessment": (
        "other_pending_reports",
        "box14",
        "Reports (other methods) with no full-text decision yet (litreview extra)",
    ),
    "other_duplicates": (
        "other_repeats",
        "box11",
        "Records from other methods that duplicate records found earlier, not counted again "
        "(litreview extra)",
    ),
    "other_records_excluded": (
        "other_screened_out",
        "box11",
        "Records from other methods excluded on title and abstract (litreview extra)",
    ),
}

_LIST_FIELDS = (*TEMPLATE_LIST_FIELDS, "other_results")

Entries = list[tuple[str, int]]


@dataclass(frozen=True)
class PrismaCounts:
    """Every number of a PRISMA 2020 flow diagram.

        Names follow the template's `data` column. List fields hold (label, n) pairs: specific
        databases or registers, other methods, or full-text exclusion reasons. Extras the template
        lacks: `other_results` (other methods beyond websites, organisations and citation searching);
        `included_from_databases` / `included_from_other` (reports included from each column, which
        together make `new_reports`); `awaiting_screening` (records screened that nobody has decided
        yet); `awaiting_assessment` / `other_awaiting_assessment` (reports with no full-text decision
        yet, per column); `other_duplicates` (records found by other methods that duplicate records
    found earlier: not counted in the column, printed beside the diagram). The awaiting boxes are
    drawn only when > 0.
    """

    previous_studies: int = 0
    previous_reports: int = 0
    database_results: int = 0
    database_specific_results: Entries = field(default_factory=list)
    register_results: int = 0
    register_specific_results: Entries = field(default_factory=list)
    website_results: int = 0
    organisation_results: int = 0
    citations_results: int = 0
    other_results: Entries = field(default_factory=list)
    other_duplicates: int = 0
    duplicates: int = 0
    excluded_automatic: int = 0
    excluded_other: int = 0
    records_screened: int = 0
    records_excluded: int = 0
    awaiting_screening: int = 0
    dbr_sought_reports: int = 0
    dbr_notretrieved_reports: int = 0
    dbr_assessed: int = 0
    dbr_excluded: Entries = field(default_factory=list)
    awaiting_assessment: int = 0
    included_from_databases: int = 0
    other_records_excluded: int = 0
    other_sought_reports: int = 0
    other_notretrieved_reports: int = 0
    other_assessed: int = 0
    other_excluded: Entries = field(default_factory=list)
    other_awaiting_assessment: int = 0
    included_from_other: int = 0
    new_studies: int = 0
    new_reports: int = 0
    total_studies: int = 0
    total_reports: int = 0


# Numbers reported beside the flow but in none of its sums (they are not records of a box).
REPORTED_ONLY_FIELDS: tuple[str, ...] = ("other_duplicates",)
NUMBER_FIELDS: tuple[str, ...] = tuple(
    f.name for f in fields(PrismaCounts) if f.name not in _LIST_FIELDS
)
LIST_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(PrismaCounts) if f.name in _LIST_FIELDS)


# --------------------------------------------------------------------------------------------
# Arithmetic
# --------------------------------------------------------------------------------------------


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _value(counts: PrismaCounts, term: str) -> int:
    if term.startswith("sum("):
        return sum(n for _, n in getattr(counts, term[4:-1]))
    return getattr(counts, term)


def _identity(counts: PrismaCounts, box: str, terms: Sequence[tuple[str, str]]) -> str | None:
    """`box` must equal the signed sum of `terms`; return the violation message, if any."""
    expected = 0
    parts = []
    for sign, term in terms:
        value = _value(counts, term)
        expected += value if sign == "+" else -value
        parts.append(f"{sign} {term} ({value})" if parts or sign == "-" else f"{term} ({value})")
    actual = getattr(counts, box)
    if actual == expected:
        return None
    return f"{box} ({actual}) != {' '.join(parts)} = {expected}"


def check(counts: PrismaCounts) -> list[str]:
    """Every violated identity of the flow, each naming the box, the expected sum and the value.

    A reader trusts a flow diagram because its boxes add up. The identities:

    1. database_results = sum(database_specific_results), when that list is given;
       register_results = sum(register_specific_results), likewise.
    2. records_screened = database_results + register_results - duplicates
       - excluded_automatic - excluded_other.
    3. records_screened = records_excluded + dbr_sought_reports + awaiting_screening.
    4. dbr_assessed = dbr_sought_reports - dbr_notretrieved_reports.
    5. dbr_assessed = sum(dbr_excluded) + included_from_databases + awaiting_assessment.
    6. other_sought_reports = website_results + organisation_results + citations_results
       + sum(other_results) - other_records_excluded  (other methods have no screening box in
       PRISMA 2020; records a reviewer excluded on title and abstract were not sought, and
       are drawn beside the records identified).
    7. other_assessed = other_sought_reports - other_notretrieved_reports.
    8. other_assessed = sum(other_excluded) + included_from_other + other_awaiting_assessment.
    9. new_reports = included_from_databases + included_from_other.
    10. total_studies = new_studies + previous_studies;
        total_reports = new_reports + previous_reports.
    11. new_studies <= new_reports, and new_studies >= 1 when new_reports >= 1 (a study has at
        least one report; a report belongs to a study); the same for previous_*. With one
        report per study, new_studies = included_from_databases + included_from_other.
    12. Every number is a whole number (int) and none is negative; list labels are non-empty
        and not repeated within a list.
    """
    violations = _check_values(counts)
    if violations:
        # The sums below are meaningless over values that are not whole numbers.
        return violations
    identities: list[tuple[str, list[tuple[str, str]]]] = []
    if counts.database_specific_results:
        identities.append(("database_results", [("+", "sum(database_specific_results)")]))
    if counts.register_specific_results:
        identities.append(("register_results", [("+", "sum(register_specific_results)")]))
    identities += [
        (
            "records_screened",
            [
                ("+", "database_results"),
                ("+", "register_results"),
                ("-", "duplicates"),
                ("-", "excluded_automatic"),
                ("-", "excluded_other"),
            ],
        ),
        (
            "records_screened",
            [("+", "records_excluded"), ("+", "dbr_sought_reports"), ("+", "awaiting_screening")],
        ),
        ("dbr_assessed", [("+", "dbr_sought_reports"), ("-", "dbr_notretrieved_reports")]),
        (
            "dbr_assessed",
            [
                ("+", "sum(dbr_excluded)"),
                ("+", "included_from_databases"),
                ("+", "awaiting_assessment"),
            ],
        ),
        (
            "other_sought_reports",
            [
                ("+", "website_results"),
                ("+", "organisation_results"),
                ("+", "citations_results"),
                ("+", "sum(other_results)"),
                ("-", "other_records_excluded"),
            ],
        ),
        ("other_assessed", [("+", "other_sought_reports"), ("-", "other_notretrieved_reports")]),
        (
            "other_assessed",
            [
                ("+", "sum(other_excluded)"),
                ("+", "included_from_other"),
                ("+", "other_awaiting_assessment"),
            ],
        ),
        ("new_reports", [("+", "included_from_databases"), ("+", "included_from_other")]),
        ("total_studies", [("+", "new_studies"), ("+", "previous_studies")]),
        ("total_reports", [("+", "new_reports"), ("+", "previous_reports")]),
    ]
    for box, terms in identities:
        message = _identity(counts, box, terms)
        if message is not None:
            violations.append(message)
    for kind in ("new", "previous"):
        studies, reports = f"{kind}_studies", f"{kind}_reports"
        n_studies, n_reports = getattr(counts, studies), getattr(counts, reports)
        if n_studies > n_reports:
            violations.append(
                f"{studies} ({n_studies}) > {reports} ({n_reports}): "
                "every study has at least one report"
            )
        if n_studies == 0 and n_reports > 0:
            violations.append(
                f"{studies} ({n_studies}) is 0 but {reports} ({n_reports}) > 0: "
                "every report belongs to a study"
            )
    return violations


def _check_values(counts: PrismaCounts) -> list[str]:
    """Whole, non-negative numbers; well-formed (label, n) lists."""
    violations = []
    for name in NUMBER_FIELDS:
        value = getattr(counts, name)
        if not _whole(value):
            violations.append(f"{name} ({value!r}) is not a whole number")
        elif value < 0:
            violations.append(f"{name} ({value}) is negative")
    for name in LIST_FIELDS:
        entries = getattr(counts, name)
        if isinstance(entries, str | bytes) or not isinstance(entries, Sequence):
            violations.append(f"{name} ({entries!r}) is not a list of (label, n) pairs")
            continue
        seen: set[str] = set()
        for entry in entries:
            if not (isinstance(entry, Sequence) and len(entry) == 2):
                violations.append(f"{name} entry {entry!r} is not a (label, n) pair")
                continue
            label, value = entry
            if not isinstance(label, str) or not label.strip():
                violations.append(f"{name} entry {entry!r} has no label")
            elif label in seen:
                violations.append(f"{name} lists {label!r} twice: merge the two counts")
            else:
                seen.add(label)
            if not _whole(value):
                violations.append(f"{name} {label!r} ({value!r}) is not a whole number")
            elif value < 0:
                violations.append(f"{name} {label!r} ({value}) is negative")
    return violations


def require_consistent(counts: PrismaCounts) -> None:
    """Raise ValidationError listing every violated identity (see `check`)."""
    violations = check(counts)
    if violations:
        listing = "\n".join(f"  - {violation}" for violation in violations)
        raise ValidationError(
            f"PRISMA counts do not add up ({len(violations)} problem(s)):\n{listing}\n"
            "Recount the boxes named above; each line gives the expected sum."
        )


# --------------------------------------------------------------------------------------------
# The R package's template table
# --------------------------------------------------------------------------------------------


@cache
def _template_text() -> str:
    return (
        resources.files("litreview")
        .joinpath("data/PRISMA2020_template.csv")
        .read_text(encoding="utf-8")
    )


def template_table() -> pd.DataFrame:
    """The PRISMA2020 R package's template as shipped: string columns, "NA"/empty as <NA>."""
    table = pd.read_csv(
        io.StringIO(_template_text()),
        dtype="string",
        keep_default_na=False,
        na_values=["NA", ""],
    )
    return table.astype("string")


def _format_entries(name: str, entries: Entries) -> str:
    """'Label, n; Label, n' as the template wants; "0" for an empty list (the R package's
    reason parser fails on NA)."""
    if not entries:
        return "0"
    parts = []
    for label, value in entries:
        if "," in label or ";" in label:
            raise ValidationError(
                f"{name} label {label!r} contains ',' or ';', which the template format "
                "('Label, n; Label, n') and the PRISMA2020 R package split on: rename it"
            )
        parts.append(f"{label.strip()}, {value}")
    return "; ".join(parts)


def to_template_table(counts: PrismaCounts) -> pd.DataFrame:
    """The template's rows and columns with `n` filled, then one row per litreview extra.

    Rows we hold no number for (title and phase boxes, meta-analysis totals) keep the
    template's value. The result feeds the PRISMA2020 R package (write it with
    `write_template_csv`, which writes missing values as R's "NA"); its `grep`-based reader
    ignores our extra rows (see EXTRA_ROWS).
    """
    require_consistent(counts)
    table = template_table()
    values: dict[str, str] = {name: str(getattr(counts, name)) for name in TEMPLATE_NUMBER_FIELDS}
    for name in TEMPLATE_LIST_FIELDS:
        values[name] = _format_entries(name, getattr(counts, name))
    filled = table["data"].map(values).astype("string")
    table["n"] = filled.fillna(table["n"]).astype("string")
    extras = []
    for name, (data_name, box, description) in EXTRA_ROWS.items():
        value = getattr(counts, name)
        n = _format_entries(name, value) if name in LIST_FIELDS else str(value)
        extras.append(
            {
                "data": data_name,
                "node": pd.NA,
                "box": box,
                "description": description,
                "boxtext": description.removesuffix(" (litreview extra)"),
                "tooltips": pd.NA,
                "url": pd.NA,
                "n": n,
            }
        )
    extra_table = pd.DataFrame(extras, columns=list(TEMPLATE_COLUMNS)).astype("string")
    return pd.concat([table, extra_table], ignore_index=True).astype("string")


_INTEGER = re.compile(r"-?(?:\d{1,3}(?:,\d{3})+|\d+)")


def _parse_int(text: str, where: Callable[..., InputFileError]) -> int:
    text = text.strip()
    if not _INTEGER.fullmatch(text):
        raise where(f"{text!r} is not a whole number", hint="write digits, e.g. 120 or 1,200")
    return int(text.replace(",", ""))


def _parse_entries(text: str, where: Callable[..., InputFileError]) -> Entries:
    """Parse 'Label, n; Label, n' the way the R package does: label before the first comma."""
    text = text.strip()
    if _INTEGER.fullmatch(text):
        if _parse_int(text, where) == 0:
            return []
        raise where(
            f"{text!r} is a bare count where a list is expected",
            hint="write 'Label, n; Label, n' (e.g. 'Reason not recorded, 12'), or 0 for none",
        )
    entries = []
    for item in text.split(";"):
        if not item.strip():  # a trailing or doubled ';'
            continue
        label, comma, number = item.partition(",")
        if not comma or not label.strip():
            raise where(
                f"list item {item.strip()!r} is not 'Label, n'",
                hint="separate items with ';' and label from count with ','",
            )
        entries.append((label.strip(), _parse_int(number, where)))
    return entries


def from_template_table(
    table: pd.DataFrame, *, source: str | Path = "<template table>"
) -> PrismaCounts:
    """Read counts back from a table shaped like `to_template_table`'s output.

    Accepts what `read_table`/`read_template_csv` give (strings, <NA>) or ints. Every template
    number row and every litreview extra row must be present and filled: the template has no
    rows for our extras, and guessing them would make their checks vacuous. A list cell may be
    0 or missing (none), or still hold the template's own placeholder (e.g. "Database 1, xxx;
    ...", meaning the user did not use that list); anything else must parse. Errors name
    `source`, the row (header = row 1) and column "n".
    """
    for column in ("data", "n"):
        if column not in table.columns:
            raise InputFileError(
                source,
                f"no {column!r} column",
                hint=f"expected the PRISMA2020 template columns: {', '.join(TEMPLATE_COLUMNS)}",
            )
    placeholders = dict(
        zip(
            template_table()["data"].fillna("").tolist(),
            template_table()["n"].tolist(),
            strict=True,
        )
    )
    field_of_row = {name: name for name in (*TEMPLATE_NUMBER_FIELDS, *TEMPLATE_LIST_FIELDS)}
    field_of_row.update({data_name: name for name, (data_name, _, _) in EXTRA_ROWS.items()})
    rows: dict[str, tuple[int, object]] = {}
    for position, (data_name, n) in enumerate(zip(table["data"], table["n"], strict=True)):
        row = position + 2
        if pd.isna(data_name) or str(data_name).strip() not in field_of_row:
            continue
        data_name = str(data_name).strip()
        if data_name in rows:
            raise InputFileError(
                source,
                f"row {data_name!r} appears twice (first at row {rows[data_name][0]})",
                row=row,
                column="data",
                hint="keep one row per box",
            )
        rows[data_name] = (row, n)
    missing = [name for name in field_of_row if name not in rows]
    if missing:
        raise InputFileError(
            source,
            f"missing row(s) {', '.join(missing)}",
            column="data",
            hint="start from litreview's to_template_table output, which has every row "
            "(litreview's extra rows come after the template's)",
        )
    values: dict[str, object] = {}
    for data_name, (row, n) in rows.items():
        name = field_of_row[data_name]

        def where(problem: str, *, hint: str | None = None, _row: int = row) -> InputFileError:
            return InputFileError(source, problem, row=_row, column="n", hint=hint)

        if name in LIST_FIELDS:
            if pd.isna(n) or (isinstance(n, str) and n.strip() == placeholders.get(data_name)):
                values[name] = []
            else:
                values[name] = _parse_entries(str(n), where)
        elif pd.isna(n):
            raise where("empty", hint="write 0 if there were none")
        elif _whole(n):
            values[name] = int(n)
        else:
            values[name] = _parse_int(str(n), where)
    return PrismaCounts(**values)


def write_template_csv(counts: PrismaCounts, path: str | Path) -> None:
    """Write `to_template_table(counts)` as CSV for the R package: missing values as "NA"."""
    write_table(path, to_template_table(counts), na_rep="NA")


def read_template_csv(path: str | Path) -> PrismaCounts:
    """Read a CSV written by `write_template_csv` (or a filled template plus our extra rows)."""
    table = read_table(path, na_values=("NA", ""))
    return from_template_table(table, source=path)


# --------------------------------------------------------------------------------------------
# Layout: plain geometry, in points (1/72 inch), y growing downwards
# --------------------------------------------------------------------------------------------

FONT_FAMILY = "DejaVu Sans"  # ships with matplotlib: measured widths match the rendering
FONT_SIZE = 8.5
LINE_HEIGHT = FONT_SIZE * 1.3
PAD_X = 6.0
PAD_Y = 5.0
BOX_WIDTH = 172.0
ARROW_GAP = 40.0  # between a column's main boxes and its side boxes
COLUMN_GAP = 26.0  # between column groups (previous | databases | other methods)
PHASE_WIDTH = 20.0
PHASE_GAP = 10.0
ROW_GAP = 18.0
PHASE_ROW_GAP = 28.0
STACK_GAP = 8.0
PARAGRAPH_GAP = 0.45 * LINE_HEIGHT
PHASE_FONT_SIZE = FONT_SIZE + 0.5
HEADING_FONT_SIZE = FONT_SIZE + 3
PHASE_LABEL_PAD = 10.0  # free space above and below a phase label in its band
MARGIN = 14.0

WHITE, GREY, YELLOW, BLUE = "#FFFFFF", "#DCDCDC", "#F5C04A", "#C5D5EE"
NBSP = "\u00a0"


@dataclass(frozen=True)
class Box:
    """A rectangle with its wrapped lines of text; `style` picks fill, edge and shape."""

    name: str
    x: float
    y: float
    width: float
    height: float
    lines: tuple[str, ...]
    style: str  # "plain" (white, black edge), "grey", "title", "title_grey", "phase", "note"
    line_y: tuple[float, ...] = ()  # centre of each line, from the box top
    font_size: float = FONT_SIZE

    def line_centres(self) -> tuple[float, ...]:
        """Absolute y of each line's centre."""
        return tuple(self.y + offset for offset in self.line_y)

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def bottom(self) -> float:
        return self.y + self.height

    @property
    def center_x(self) -> float:
        return self.x + self.width / 2

    @property
    def center_y(self) -> float:
        return self.y + self.height / 2


@dataclass(frozen=True)
class Connector:
    """A polyline of horizontal and vertical segments; with `head`, an arrow head at the end."""

    points: tuple[tuple[float, float], ...]
    head: bool = True


@dataclass(frozen=True)
class Diagram:
    """The whole figure in points: what `draw` renders and the legibility tests inspect."""

    width: float
    height: float
    boxes: tuple[Box, ...]
    connectors: tuple[Connector, ...]

    def box(self, name: str) -> Box:
        for box in self.boxes:
            if box.name == name:
                return box
        raise KeyError(name)


@cache
def _text_measurer() -> Callable[[str, float], float]:
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    text_to_path = TextToPath()

    @cache
    def measure(text: str, size: float) -> float:
        properties = FontProperties(family=FONT_FAMILY, size=size)
        width, _, _ = text_to_path.get_text_width_height_descent(
            text.replace(NBSP, " "), properties, ismath=False
        )
        return float(width)

    return measure


def text_width(text: str, size: float = FONT_SIZE) -> float:
    """Rendered width of one line of text, in points."""
    return _text_measurer()(text, size)


def wrap(text: str, width: float, size: float = FONT_SIZE) -> list[str]:
    """Greedy word wrap to `width` points. Words joined by NBSP stay on one line; a word wider
    than the box is cut (better cut than overflowing into a neighbour)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split(" "):
            if not word:
                continue
            candidate = f"{current} {word}" if current else word
            if text_width(candidate, size) <= width:
                current = candidate
                continue
            if current:
                lines.append(current)
            current = ""
            while len(word) > 1 and text_width(word, size) > width:
                cut = _longest_fitting_prefix(word, width, size)
                lines.append(word[:cut])
                word = word[cut:]
            current = word
        lines.append(current)
    return [line.replace(NBSP, " ") for line in lines]


def _longest_fitting_prefix(word: str, width: float, size: float) -> int:
    """Length of the longest prefix of `word` that fits `width` (at least one character)."""
    cut = 1
    while cut < len(word) and text_width(word[: cut + 1], size) <= width:
        cut += 1
    return cut


def _n(value: int) -> str:
    """'(n = 1,234)', unbreakable."""
    return f"(n{NBSP}={NBSP}{value:,})"


def _item(label: str, value: int) -> str:
    return f"{label} {_n(value)}"


def _text_box(
    name: str, text: str, style: str, width: float = BOX_WIDTH, size: float = FONT_SIZE
) -> Box:
    """A box at the origin, as tall as its wrapped text.

    Each "\n"-separated paragraph is wrapped on its own. When any paragraph takes more than one
    line, paragraphs are set apart by a small gap, so a wrapped reason reads as one item.
    """
    wrapped = [wrap(paragraph, width - 2 * PAD_X, size) for paragraph in text.split("\n")]
    line_height = LINE_HEIGHT * size / FONT_SIZE
    gap = PARAGRAPH_GAP if any(len(lines) > 1 for lines in wrapped) else 0.0
    lines: list[str] = []
    line_y: list[float] = []
    y = PAD_Y
    for index, paragraph_lines in enumerate(wrapped):
        if index:
            y += gap
        for line in paragraph_lines:
            lines.append(line)
            line_y.append(y + line_height / 2)
            y += line_height
    return Box(name, 0.0, 0.0, width, y + PAD_Y, tuple(lines), style, tuple(line_y), size)


def _entries_text(heading: str, total: int, entries: Entries) -> str:
    if not entries:
        return _item(heading, total)
    return "\n".join([f"{heading} {_n(total)}:", *(_item(label, n) for label, n in entries)])


def _moved(box: Box, x: float, y: float) -> Box:
    return replace(box, x=x, y=y)


def _stack_height(stack: Sequence[Box]) -> float:
    return sum(box.height for box in stack) + STACK_GAP * (len(stack) - 1)


def _slot_texts(counts: PrismaCounts, with_previous: bool) -> list[tuple[str, list[Slots]]]:
    """What each row shows, per column slot: (box name, text), grouped by phase."""
    excluded_db = sum(n for _, n in counts.dbr_excluded)
    excluded_other = sum(n for _, n in counts.other_excluded)
    identification: Slots = {
        "db_main": [
            (
                "db_identified",
                "\n".join(
                    [
                        "Records identified from:",
                        _entries_text(
                            "Databases", counts.database_results, counts.database_specific_results
                        ),
                        _entries_text(
                            "Registers", counts.register_results, counts.register_specific_results
                        ),
                    ]
                ),
            )
        ],
        "db_side": [
            (
                "db_removed",
                "\n".join(
                    [
                        "Records removed before screening:",
                        _item("Duplicate records", counts.duplicates),
                        _item(
                            "Records marked as ineligible by automation tools",
                            counts.excluded_automatic,
                        ),
                        _item("Records removed for other reasons", counts.excluded_other),
                    ]
                ),
            )
        ],
        "other_main": [
            (
                "other_identified",
                "\n".join(
                    [
                        "Records identified from:",
                        _item("Websites", counts.website_results),
                        _item("Organisations", counts.organisation_results),
                        _item("Citation searching", counts.citations_results),
                        *(_item(label, n) for label, n in counts.other_results),
                    ]
                ),
            )
        ],
    }
    # "new studies" only for an update (PRISMA 2020's template for updated reviews)
    new = "new " if with_previous else ""
    titles: Slots = {
        "db_group": [("title_db", f"Identification of {new}studies via databases and registers")],
        "other_group": [("title_other", f"Identification of {new}studies via other methods")],
    }
    if counts.other_records_excluded > 0:
        identification["other_side"] = [
            (
                "other_records_excluded",
                _item("Records excluded on title and abstract", counts.other_records_excluded),
            )
        ]
    if with_previous:
        titles["previous"] = [("title_previous", "Previous studies")]
        identification["previous"] = [
            (
                "previous",
                "Studies included in previous version of review "
                f"{_n(counts.previous_studies)}\nReports of studies included in previous "
                f"version of review {_n(counts.previous_reports)}",
            )
        ]
    screened: Slots = {
        "db_main": [("db_screened", _item("Records screened", counts.records_screened))],
        "db_side": [("db_excluded_records", _item("Records excluded", counts.records_excluded))],
    }
    if counts.awaiting_screening > 0:
        screened["db_side"].append(
            (
                "db_awaiting_screening",
                _item("Records awaiting a screening decision", counts.awaiting_screening),
            )
        )
    sought: Slots = {
        "db_main": [("db_sought", _item(_SOUGHT, counts.dbr_sought_reports))],
        "db_side": [("db_not_retrieved", _item(_NOT_RETRIEVED, counts.dbr_notretrieved_reports))],
        "other_main": [("other_sought", _item(_SOUGHT, counts.other_sought_reports))],
        "other_side": [
            ("other_not_retrieved", _item(_NOT_RETRIEVED, counts.other_notretrieved_reports))
        ],
    }
    assessed: Slots = {
        "db_main": [("db_assessed", _item(_ASSESSED, counts.dbr_assessed))],
        "db_side": [
            (
                "db_excluded_reports",
                _entries_text("Reports excluded", excluded_db, counts.dbr_excluded),
            )
        ],
        "other_main": [("other_assessed", _item(_ASSESSED, counts.other_assessed))],
        "other_side": [
            (
                "other_excluded_reports",
                _entries_text("Reports excluded", excluded_other, counts.other_excluded),
            )
        ],
    }
    if counts.awaiting_assessment > 0:
        assessed["db_side"].append(
            ("db_awaiting_assessment", _item(_AWAITING, counts.awaiting_assessment))
        )
    if counts.other_awaiting_assessment > 0:
        assessed["other_side"].append(
            ("other_awaiting_assessment", _item(_AWAITING, counts.other_awaiting_assessment))
        )
    if with_previous:
        included: list[Slots] = [
            {
                "db_main": [
                    (
                        "new_studies",
                        f"New studies included in review {_n(counts.new_studies)}\n"
                        f"Reports of new included studies {_n(counts.new_reports)}",
                    )
                ]
            },
            {
                "db_main": [
                    (
                        "total_studies",
                        f"Total studies included in review {_n(counts.total_studies)}\n"
                        f"Reports of total included studies {_n(counts.total_reports)}",
                    )
                ]
            },
        ]
    else:
        # PRISMA 2020's template for new reviews: no previous studies, no separate total.
        included = [
            {
                "db_main": [
                    (
                        "new_studies",
                        f"Studies included in review {_n(counts.new_studies)}\n"
                        f"Reports of included studies {_n(counts.new_reports)}",
                    )
                ]
            }
        ]
    return [
        ("Identification", [titles, identification]),
        ("Screening", [screened, sought, assessed]),
        ("Included", included),
    ]


_SOUGHT = "Reports sought for retrieval"
_NOT_RETRIEVED = "Reports not retrieved"
_ASSESSED = "Reports assessed for eligibility"
_AWAITING = "Reports awaiting a full-text decision"
Slots = dict[str, list[tuple[str, str]]]


def _style(name: str) -> str:
    if name == "title_db":
        return "title"
    if name.startswith("title_"):
        return "title_grey"
    if name.startswith(("other_", "previous", "total_")):
        return "grey"
    return "plain"


def layout(
    counts: PrismaCounts, *, title: str | None = None, origin_note: str | None = None
) -> Diagram:
    """Place every box and connector of the PRISMA 2020 diagram for `counts`.

    Columns: phase labels | previous studies (only when there are any) | databases and
    registers (main boxes, then side boxes) | other methods (main, side). Each row is as tall as
    its tallest stack of boxes, so long reason lists push the rows below down instead of
    overlapping them; boxes are centred in their row so main-to-side arrows run straight.
    """
    with_previous = counts.previous_studies > 0 or counts.previous_reports > 0
    column_x: dict[str, float] = {}
    x = MARGIN + PHASE_WIDTH + PHASE_GAP
    if with_previous:
        column_x["previous"] = x
        x += BOX_WIDTH + COLUMN_GAP
    for group in ("db", "other"):
        column_x[f"{group}_main"] = column_x[f"{group}_group"] = x
        column_x[f"{group}_side"] = x + BOX_WIDTH + ARROW_GAP
        x += 2 * BOX_WIDTH + ARROW_GAP + COLUMN_GAP
    width = x - COLUMN_GAP + MARGIN
    slot_width = {slot: BOX_WIDTH for slot in column_x}
    slot_width["db_group"] = slot_width["other_group"] = 2 * BOX_WIDTH + ARROW_GAP

    boxes: list[Box] = []
    y = MARGIN
    if title:
        heading = _text_box("heading", title, "heading", width - 2 * MARGIN, HEADING_FONT_SIZE)
        boxes.append(_moved(heading, MARGIN, y))
        y += heading.height + ROW_GAP / 2
    for phase_index, (phase_name, rows) in enumerate(_slot_texts(counts, with_previous)):
        if phase_index:
            y += PHASE_ROW_GAP - ROW_GAP
        stacked_rows = [
            {
                slot: [
                    _text_box(name, text, _style(name), slot_width[slot]) for name, text in items
                ]
                for slot, items in row.items()
            }
            for row in rows
        ]
        row_heights = [
            max(_stack_height(stack) for stack in stacks.values()) for stacks in stacked_rows
        ]
        content_height = sum(row_heights) + ROW_GAP * (len(rows) - 1)
        # The band must fit its rotated label: a short phase gets its rows centred in it.
        band_height = max(
            content_height, text_width(phase_name, PHASE_FONT_SIZE) + 2 * PHASE_LABEL_PAD
        )
        boxes.append(
            Box(
                f"phase_{phase_name.lower()}",
                MARGIN,
                y,
                PHASE_WIDTH,
                band_height,
                (phase_name,),
                "phase",
                (band_height / 2,),
            )
        )
        row_y = y + (band_height - content_height) / 2
        for stacks, row_height in zip(stacked_rows, row_heights, strict=True):
            for slot, stack in stacks.items():
                stack_y = row_y + (row_height - _stack_height(stack)) / 2
                for box in stack:
                    boxes.append(_moved(box, column_x[slot], stack_y))
                    stack_y += box.height + STACK_GAP
            row_y += row_height + ROW_GAP
        y += band_height + ROW_GAP
    y -= ROW_GAP
    if origin_note:
        y += ROW_GAP / 2
        note = _moved(_text_box("origin_note", origin_note, "note", width - 2 * MARGIN), MARGIN, y)
        boxes.append(note)
        y += note.height
    placed = {box.name: box for box in boxes}
    return Diagram(width, y + MARGIN, tuple(boxes), tuple(_connectors(placed, with_previous)))


def _side_arrows(main: Box, sides: Sequence[Box]) -> list[Connector]:
    """Main box -> its side boxes: straight when one (centres align), else via a trunk."""
    if len(sides) == 1 and abs(sides[0].center_y - main.center_y) < 1e-6:
        return [Connector(((main.right, main.center_y), (sides[0].x, main.center_y)))]
    trunk_x = main.right + ARROW_GAP / 2
    top = min(main.center_y, *(side.center_y for side in sides))
    bottom = max(main.center_y, *(side.center_y for side in sides))
    connectors = [
        Connector(((main.right, main.center_y), (trunk_x, main.center_y)), head=False),
        Connector(((trunk_x, top), (trunk_x, bottom)), head=False),
    ]
    connectors += [Connector(((trunk_x, side.center_y), (side.x, side.center_y))) for side in sides]
    return connectors


def _connectors(placed: dict[str, Box], with_previous: bool) -> list[Connector]:
    def down(upper: str, lower: str) -> Connector:
        top, bottom = placed[upper], placed[lower]
        return Connector(((top.center_x, top.bottom), (bottom.center_x, bottom.y)))

    def sides(*names: str) -> list[Box]:
        return [placed[name] for name in names if name in placed]

    connectors = [
        down("db_identified", "db_screened"),
        down("db_screened", "db_sought"),
        down("db_sought", "db_assessed"),
        down("db_assessed", "new_studies"),
        down("other_identified", "other_sought"),
        down("other_sought", "other_assessed"),
    ]
    connectors += _side_arrows(placed["db_identified"], sides("db_removed"))
    if "other_records_excluded" in placed:
        connectors += _side_arrows(placed["other_identified"], sides("other_records_excluded"))
    connectors += _side_arrows(
        placed["db_screened"], sides("db_excluded_records", "db_awaiting_screening")
    )
    connectors += _side_arrows(placed["db_sought"], sides("db_not_retrieved"))
    connectors += _side_arrows(
        placed["db_assessed"], sides("db_excluded_reports", "db_awaiting_assessment")
    )
    connectors += _side_arrows(placed["other_sought"], sides("other_not_retrieved"))
    connectors += _side_arrows(
        placed["other_assessed"], sides("other_excluded_reports", "other_awaiting_assessment")
    )
    other, new = placed["other_assessed"], placed["new_studies"]
    connectors.append(
        Connector(
            (
                (other.center_x, other.bottom),
                (other.center_x, new.center_y),
                (new.right, new.center_y),
            )
        )
    )
    if with_previous:
        connectors.append(down("new_studies", "total_studies"))
        previous, total = placed["previous"], placed["total_studies"]
        connectors.append(
            Connector(
                (
                    (previous.center_x, previous.bottom),
                    (previous.center_x, total.center_y),
                    (total.x, total.center_y),
                )
            )
        )
    return connectors


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------

_STYLES = {
    # style: (fill, edge, rounded)
    "plain": (WHITE, "#000000", False),
    "grey": (GREY, None, False),
    "title": (YELLOW, None, True),
    "title_grey": (GREY, None, True),
    "phase": (BLUE, None, True),
}


def _render(diagram: Diagram, file_format: str, dpi: float) -> bytes:
    import matplotlib as mpl
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyBboxPatch, Rectangle

    rc = {
        "svg.hashsalt": "litreview-prisma",
        "svg.fonttype": "none",  # real <text>: searchable, selectable, and no glyph ids
        "font.family": [FONT_FAMILY, "sans-serif"],
        "font.size": FONT_SIZE,
        "text.parse_math": False,  # a '$' in a reason is text, not mathtext
        "path.simplify": False,
    }
    from litreview.log import render_lock

    with render_lock, mpl.rc_context(rc):
        figure = Figure(figsize=(diagram.width / 72, diagram.height / 72))
        axes = figure.add_axes((0, 0, 1, 1))
        axes.set_xlim(0, diagram.width)
        axes.set_ylim(diagram.height, 0)
        axes.set_axis_off()
        line_width = 0.8
        for box in diagram.boxes:
            if box.style in _STYLES:
                fill, edge, rounded = _STYLES[box.style]
                if rounded:
                    radius = min(8.0, box.width / 2, box.height / 2)
                    patch = FancyBboxPatch(
                        (box.x, box.y),
                        box.width,
                        box.height,
                        boxstyle=f"round,pad=0,rounding_size={radius}",
                        facecolor=fill,
                        edgecolor="none",
                    )
                else:
                    patch = Rectangle(
                        (box.x, box.y),
                        box.width,
                        box.height,
                        facecolor=fill,
                        edgecolor=edge or "none",
                        linewidth=line_width if edge else 0,
                    )
                axes.add_patch(patch)
            if box.style == "phase":
                axes.text(
                    box.center_x,
                    box.center_y,
                    box.lines[0],
                    rotation=90,
                    ha="center",
                    va="center",
                    fontsize=PHASE_FONT_SIZE,
                    parse_math=False,
                )
                continue
            text_style = {"ha": "center", "fontsize": box.font_size, "color": "#000000"}
            if box.style == "note":
                text_style.update(color="#444444", style="italic")
            for line, line_y in zip(box.lines, box.line_centres(), strict=True):
                if not line:
                    continue
                axes.text(
                    box.center_x,
                    line_y,
                    line,
                    va="center",
                    parse_math=False,
                    **text_style,
                )
        for connector in diagram.connectors:
            *stem, (end_x, end_y) = connector.points
            if len(stem) > 1:
                xs, ys = zip(*stem, strict=True)
                axes.plot(xs, ys, color="#000000", linewidth=line_width, solid_capstyle="butt")
            axes.annotate(
                "",
                xy=(end_x, end_y),
                xytext=stem[-1],
                arrowprops={
                    "arrowstyle": "-|>" if connector.head else "-",
                    "color": "#000000",
                    "linewidth": line_width,
                    "shrinkA": 0,
                    "shrinkB": 0,
                    "mutation_scale": 9,
                },
            )
        buffer = io.BytesIO()
        metadata = {"Date": None} if file_format == "svg" else {}
        figure.savefig(buffer, format=file_format, dpi=dpi, metadata=metadata)
    return buffer.getvalue()


def draw(
    counts: PrismaCounts,
    svg_path: str | Path,
    png_path: str | Path,
    *,
    title: str | None = None,
    origin_note: str | None = None,
    dpi: float = 200,
) -> Diagram:
    """Draw the PRISMA 2020 flow diagram as SVG and PNG, each written atomically.

    Refuses counts that do not add up (ValidationError from `require_consistent`): a diagram
    whose boxes disagree would be believed anyway. The SVG is byte-identical across runs (fixed
    hash salt, no date) and keeps its text as text. Returns the layout drawn.
    """
    require_consistent(counts)
    diagram = layout(counts, title=title, origin_note=origin_note)
    write_bytes(svg_path, _render(diagram, "svg", dpi))
    write_bytes(png_path, _render(diagram, "png", dpi))
    return diagram
