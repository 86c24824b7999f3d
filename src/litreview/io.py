"""Atomic, spreadsheet-safe file output: nothing half-written, no cell a spreadsheet would run.

Every CSV, TSV and XLSX the package writes goes through :func:`write_table` (or, for a
workbook built cell by cell, :func:`append_text_row` or :func:`write_xlsx_row`), and every such file it reads back goes
through :func:`read_table` or ``litreview.sheets.read_sheet``:

- CSV/TSV: a text value a spreadsheet would take for a formula (one starting with ``=``, ``+``,
  ``-``, ``@``, a tab or a carriage return, as OWASP lists them) is written with a leading
  apostrophe; so is a value that already starts with apostrophes before such a character, so
  that reading back (dropping one apostrophe) is exact. Plain numbers (``-5``, ``+1.5e3``)
  are left as they are: a spreadsheet reads them as numbers, not formulas.
- XLSX: string cells are typed as text, never as formulas, so nothing needs escaping.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import pandas as pd

FORMULA_TRIGGERS = "=+-@\t\r"
_NEEDS_ESCAPE = r"^'*[=+\-@\t\r]"
_ESCAPED = r"^'+[=+\-@\t\r]"
_PLAIN_NUMBER = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"
_FIRST_CHARACTERS = frozenset("'=+-@\t\r")
_NEEDS_ESCAPE_RE = re.compile(_NEEDS_ESCAPE)
_ESCAPED_RE = re.compile(_ESCAPED)
_PLAIN_NUMBER_RE = re.compile(_PLAIN_NUMBER)
# characters an XLSX cell cannot hold (XML 1.0; openpyxl's ILLEGAL_CHARACTERS_RE)
_XLSX_ILLEGAL = re.compile(r"[\000-\010\013\014\016-\037]")


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temp file's path beside `path`, for a writer that opens files by name: on success it is
    renamed over `path`, on failure removed."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(descriptor)
    try:
        yield Path(temp_name)
        os.replace(temp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "w", **kwargs) -> Iterator[IO]:
    """Open a temp file beside `path`; on success rename it over `path`, on failure remove it."""
    with atomic_path(path) as temp, open(temp, mode, **kwargs) as handle:
        yield handle


def write_text(path: str | Path, text: str) -> None:
    """Write UTF-8 text atomically, with Unix newlines."""
    with atomic_open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)


def write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_open(path, "wb") as handle:
        handle.write(data)


def escape_cell(value: Any) -> Any:
    """One CSV/TSV value made spreadsheet-safe (see the module docstring); others unchanged."""
    if (
        isinstance(value, str)
        and _NEEDS_ESCAPE_RE.match(value)
        and not _PLAIN_NUMBER_RE.match(value)
    ):
        return "'" + value
    return value


def unescape_cell(value: Any) -> Any:
    """The value :func:`escape_cell` was given."""
    if isinstance(value, str) and _ESCAPED_RE.match(value):
        return value[1:]
    return value


def escape_table(table: pd.DataFrame) -> pd.DataFrame:
    """The table with every would-be formula text value escaped (vectorised, per column)."""
    escaped = None
    for column in table.columns:
        values = table[column]
        if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
            continue
        text = values.astype("string")
        candidates = text.str.slice(0, 1).isin(_FIRST_CHARACTERS).fillna(False).astype(bool)
        if not candidates.any():  # the common case, decided on first characters alone
            continue
        mask = candidates & (
            (text.str.match(_NEEDS_ESCAPE) & ~text.str.match(_PLAIN_NUMBER))
            .fillna(False)
            .astype(bool)
        )
        if mask.any():
            if escaped is None:
                escaped = table.copy()
            escaped[column] = values.astype(object).where(~mask, "'" + text.astype(object))
    return table if escaped is None else escaped


def unescape_table(table: pd.DataFrame) -> pd.DataFrame:
    """Undo :func:`escape_table` on a table read back as strings."""
    for column in table.columns:
        values = table[column]
        if pd.api.types.is_object_dtype(values):
            table[column] = values.map(unescape_cell)
            continue
        if not pd.api.types.is_string_dtype(values):
            continue
        if not values.str.startswith("'").fillna(False).any():  # nothing escaped here
            continue
        mask = values.str.match(_ESCAPED).fillna(False).astype(bool)
        if mask.any():
            table[column] = values.where(~mask, values.str.slice(1))
    return table


def write_table(path: str | Path, table: pd.DataFrame, *, na_rep: str = "") -> None:
    """Write a DataFrame atomically and spreadsheet-safe, by suffix: TSV (default), CSV or
    XLSX (one sheet, string cells typed as text). Missing values are empty (or ``na_rep``)."""
    suffix = Path(path).suffix.lower()
    if suffix == ".xlsx":
        _write_xlsx(path, table)
        return
    separator = "," if suffix == ".csv" else "\t"
    with atomic_open(path, "w", encoding="utf-8", newline="") as handle:
        escape_table(table).to_csv(
            handle, sep=separator, index=False, lineterminator="\n", na_rep=na_rep
        )


def append_text_row(sheet: Any, values: Iterable[Any]) -> None:
    """Append a row to an openpyxl sheet with every string cell typed as text (never a
    formula), and characters XLSX cannot hold (control characters) dropped."""
    row = [_XLSX_ILLEGAL.sub("", value) if isinstance(value, str) else value for value in values]
    sheet.append(row)
    number = sheet._current_row  # the row just appended (sheet.max_row scans every cell)
    for column, value in enumerate(row, start=1):
        if isinstance(value, str):
            sheet.cell(row=number, column=column).data_type = "s"


# XLSX output is written with XlsxWriter, streaming (constant memory): 4-5x faster than
# openpyxl's write-only mode. Text stays text: never read as a formula, URL or number.
XLSX_OPTIONS = {
    "constant_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}


@contextlib.contextmanager
def xlsx_workbook(path: str | Path) -> Iterator[Any]:
    """An XlsxWriter workbook written to a temp file beside `path`, renamed over it once closed."""
    import xlsxwriter

    with atomic_path(path) as temp:
        workbook = xlsxwriter.Workbook(str(temp), XLSX_OPTIONS)
        try:
            yield workbook
        finally:
            workbook.close()


def write_xlsx_row(sheet: Any, row: int, values: Iterable[Any]) -> None:
    """One row of an XlsxWriter sheet (rows from 0, in order): strings as text cells (control
    characters XLSX cannot hold dropped), numbers and booleans as such, missing values empty."""
    for column, value in enumerate(values):
        if value is None:
            continue
        if isinstance(value, str):
            sheet.write_string(row, column, _XLSX_ILLEGAL.sub("", value))
        elif isinstance(value, bool):
            sheet.write_boolean(row, column, value)
        elif isinstance(value, int | float):
            sheet.write_number(row, column, value)
        else:
            sheet.write_string(row, column, _XLSX_ILLEGAL.sub("", str(value)))


def write_xlsx_table(sheet: Any, table: pd.DataFrame) -> None:
    """A table on an XlsxWriter sheet: its header, then a row per record (missing values empty)."""
    write_xlsx_row(sheet, 0, [str(column) for column in table.columns])
    for number, row in enumerate(table.itertuples(index=False, name=None), start=1):
        write_xlsx_row(sheet, number, [None if _missing(value) else value for value in row])


def _write_xlsx(path: str | Path, table: pd.DataFrame, sheet_name: str = "records") -> None:
    with xlsx_workbook(path) as workbook:
        write_xlsx_table(workbook.add_worksheet(sheet_name), table)


def _missing(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def table_records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """``table.to_dict("records")`` (missing values None), column by column: 5x faster on the
    string tables the stages pass around."""
    columns = [str(column) for column in table.columns]
    values = [
        [None if value is pd.NA else value for value in table[column].tolist()]
        for column in table.columns
    ]
    return [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)]


def read_table(path: str | Path, *, na_values: tuple[str, ...] = ("",)) -> pd.DataFrame:
    """Read a table written by `write_table`: every column as nullable strings, empty = <NA>,
    spreadsheet escapes undone."""
    separator = "," if str(path).endswith(".csv") else "\t"
    table = pd.read_csv(
        path, sep=separator, dtype="string", keep_default_na=False, na_values=list(na_values)
    )
    return unescape_table(table)
