"""Reading reviewers' sheets (CSV, TSV or XLSX) safely: never written to, errors that point.

Every value comes back as a string (or <NA> when empty), with the spreadsheet row number kept
(header = row 1) so validation errors can name file, row and column.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pandas as pd

from litreview.errors import InputFileError
from litreview.io import unescape_table

ROW_COLUMN = "_row"  # the 1-based row number in the file (header = 1)
PREFERRED_SHEET = "screening"


def _cell_text(value: object) -> object:
    if value is None:
        return pd.NA
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or pd.NA


def _read_xlsx(path: Path, preferred_sheet: str) -> pd.DataFrame:
    from openpyxl import load_workbook  # imported here: only XLSX sheets need it

    from litreview.errors import UnsafeXMLError
    from litreview.xmlsafe import check_xlsx

    try:
        check_xlsx(path)  # before openpyxl, which parses with lxml where lxml is installed
    except UnsafeXMLError as error:
        raise InputFileError(path, str(error)) from None
    except (zipfile.BadZipFile, OSError):
        pass  # not a readable zip: openpyxl names the fault below
    try:
        workbook = load_workbook(path, data_only=False, read_only=False)
    except Exception as error:  # openpyxl raises zipfile/KeyError/InvalidFileException alike
        raise InputFileError(path, f"not a readable XLSX workbook ({error})") from error
    names = workbook.sheetnames
    if preferred_sheet in names:
        worksheet = workbook[preferred_sheet]
    elif len(names) == 1:
        worksheet = workbook[names[0]]
    else:
        raise InputFileError(
            path,
            f"the workbook has several sheets ({', '.join(names)}) and none is named "
            f"{preferred_sheet!r}",
            hint=f"rename the sheet holding the decisions to {preferred_sheet!r}",
        )
    for merged in worksheet.merged_cells.ranges:
        raise InputFileError(
            path,
            f"cells {merged.coord} are merged",
            row=merged.min_row,
            hint="unmerge them: each row needs its own value in each column",
        )
    rows = list(worksheet.iter_rows())
    if not rows:
        raise InputFileError(path, f"sheet {worksheet.title!r} is empty")
    header = [_cell_text(cell.value) for cell in rows[0]]
    while header and pd.isna(header[-1]):
        header.pop()
    records = []
    for cells in rows[1:]:
        values = {}
        for column, cell in zip(header, cells, strict=False):
            if pd.isna(column):
                continue
            if cell.data_type == "f":
                raise InputFileError(
                    path,
                    f"cell {cell.coordinate} holds a formula ({cell.value})",
                    row=cell.row,
                    column=str(column),
                    hint="replace formulas by their values (copy, paste values)",
                )
            values[str(column)] = _cell_text(cell.value)
        if any(not pd.isna(value) for value in values.values()):
            records.append({**values, ROW_COLUMN: cells[0].row})
    columns = [str(column) for column in header if not pd.isna(column)]
    return pd.DataFrame.from_records(records, columns=[*columns, ROW_COLUMN])


def read_sheet(path: str | Path, *, preferred_sheet: str = PREFERRED_SHEET) -> pd.DataFrame:
    """A sheet as strings with a `_row` column; blank rows dropped, cells stripped."""
    path = Path(path)
    if not path.exists():
        raise InputFileError(path, "file not found", hint="create it or fix its path in config")
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        table = _read_xlsx(path, preferred_sheet)
    else:
        try:
            table = pd.read_csv(
                path,
                sep="\t" if suffix in {".tsv", ".tab"} else ",",
                dtype="string",
                keep_default_na=False,
                na_values=[""],
                encoding="utf-8-sig",
                skip_blank_lines=False,
            )
        except UnicodeDecodeError as error:
            raise InputFileError(
                path, f"not UTF-8 text ({error})", hint="save it as UTF-8"
            ) from error
        except (pd.errors.ParserError, ValueError) as error:
            raise InputFileError(path, f"cannot be read as a table ({error})") from error
        table.columns = [str(column).strip() for column in table.columns]
        for column in table.columns:
            table[column] = table[column].str.strip().replace("", pd.NA)
        table[ROW_COLUMN] = range(2, len(table) + 2)
        table = table[table.drop(columns=ROW_COLUMN).notna().any(axis=1)]
    duplicated = [column for column in table.columns if list(table.columns).count(column) > 1]
    if duplicated:
        raise InputFileError(path, f"column {duplicated[0]!r} appears twice", row=1)
    # a sheet started from an output (queue.csv) keeps that output's escapes: drop them
    return unescape_table(table.reset_index(drop=True))


def check_columns(
    path: str | Path,
    table: pd.DataFrame,
    *,
    required: tuple[str, ...],
    allowed: tuple[str, ...],
) -> None:
    """Missing required columns and unknown ones (typos) are errors naming the file."""
    present = [column for column in table.columns if column != ROW_COLUMN]
    missing = [column for column in required if column not in present]
    if missing:
        raise InputFileError(
            path,
            f"missing column(s) {', '.join(map(repr, missing))}",
            row=1,
            column=missing[0],
            hint=f"the header needs {', '.join(required)}",
        )
    unknown = [column for column in present if column not in allowed]
    if unknown:
        raise InputFileError(
            path,
            f"unknown column(s) {', '.join(map(repr, unknown))}",
            row=1,
            column=unknown[0],
            hint=f"allowed columns: {', '.join(allowed)}",
        )


def add_list_validation(sheet, name: str, source: str, column: str, last_row: int) -> None:
    """A drop-down on `column` (rows 2..last_row) from the cells `source` (a range of a list
    sheet); other values are refused with a message naming `name`."""
    from openpyxl.worksheet.datavalidation import DataValidation

    validation = DataValidation(
        type="list",
        formula1=f"={source}",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=f"Unknown {name}",
        error=f"Choose a {name} from the list",
    )
    sheet.add_data_validation(validation)
    validation.add(f"{column}2:{column}{last_row}")


def write_queue_xlsx(
    path: str | Path,
    queue: pd.DataFrame,
    *,
    stages: tuple[str, ...],
    decisions: tuple[str, ...],
    reasons: tuple[str, ...],
    categories: tuple[str, ...],
) -> None:
    """The screening queue as XLSX, with drop-down lists for stage, decision, reason, category.

    The lists live on a second sheet (`lists`) so long reason lists fit; the queue sheet is named
    `screening` so a copy of the workbook can serve directly as a screening sheet.
    """
    from xlsxwriter.utility import xl_col_to_name

    from litreview.io import write_xlsx_row, write_xlsx_table, xlsx_workbook

    columns = list(queue.columns)
    named_lists = [
        ("stage", stages), ("decision", decisions), ("reason", reasons), ("category", categories)
    ]  # fmt: skip
    last_row = max(len(queue) + 1, 2) + 1000  # room for rows a reviewer adds
    with xlsx_workbook(path) as workbook:
        sheet = workbook.add_worksheet(PREFERRED_SHEET)
        lists = workbook.add_worksheet("lists")
        sheet.freeze_panes(1, 1)
        for number, name in enumerate(columns):
            width = {"title": 60, "abstract": 80, "note": 30, "authors": 30}.get(name, 14)
            sheet.set_column(number, number, width)
        for number, (name, values) in enumerate(named_lists):
            if name not in columns or not values:
                continue
            letter = xl_col_to_name(number)
            target = columns.index(name)
            sheet.data_validation(
                1,
                target,
                last_row - 1,
                target,
                {
                    "validate": "list",
                    "source": f"=lists!${letter}$2:${letter}${len(values) + 1}",
                    "ignore_blank": True,
                    "error_title": f"Unknown {name}",
                    "error_message": f"Choose a {name} from the list",
                },
            )
        write_xlsx_table(sheet, queue)
        write_xlsx_row(lists, 0, [name for name, _ in named_lists])
        for index in range(max(len(values) for _, values in named_lists)):
            write_xlsx_row(
                lists,
                index + 1,
                [values[index] if index < len(values) else None for _, values in named_lists],
            )
        lists.hide()
