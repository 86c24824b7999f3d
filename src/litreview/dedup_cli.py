"""`litreview dedup IN... OUT.csv`: deduplicate the records of one or several exports.

Each input is a bibliographic CSV with an id column (below), or an export in any format the
importers read (RIS, nbib, Web of Science, Ovid, EndNote XML, CSL-JSON, PubMed XML, database
CSVs), detected from its content; its records are numbered ``<file name>:<n>``. With several
inputs, duplicates across files are found too, and a CSV's ids become ``<file name>:<id>``.


The input is a CSV with an id column (`ID`, `id` or `record_id`) and any of title, author,
year, journal (or booktitle), volume, number/issue, pages, doi, pmid, pmcid, abstract, isbn,
entrytype; column names are case-insensitive and the text encoding is detected unless given.
The output has one row per input record: `id,file,cluster_id,kept,reason,score`.
"""

from __future__ import annotations

import argparse
import codecs
import csv
import io
import re
from pathlib import Path

import charset_normalizer
import pandas as pd

from litreview.dedup import DedupResult, DedupSettings, deduplicate
from litreview.errors import InputFileError, LitReviewError
from litreview.io import atomic_open, escape_cell, escape_table

# record column -> accepted input column names (lower-case), in order of preference.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "record_id": ("record_id", "id"),
    "title": ("title",),
    "authors": ("author", "authors"),
    "year": ("year",),
    "journal": ("journal",),
    "journal_abbrev": ("journal_abbrev",),
    "booktitle": ("booktitle",),
    "volume": ("volume",),
    "issue": ("number", "issue"),
    "pages": ("pages",),
    "doi": ("doi",),
    "pmid": ("pmid",),
    "pmcid": ("pmcid",),
    "abstract": ("abstract",),
    "isbn": ("isbn",),
    "entry_type": ("entrytype", "entry_type"),
    "publication_types": ("publication_types",),
    "source": ("source",),
}
# Columns that identify a work; a table with none of them cannot be deduplicated.
USABLE_COLUMNS = ("title", "doi", "pmid", "pmcid")
OUTPUT_COLUMNS = ("id", "file", "cluster_id", "kept", "reason", "score")

_ENDNOTE_AUTHOR_JOIN = re.compile(r"(?<=[A-Z]\.)(?=[A-Z][a-z'’-])")
_NAME_SUFFIX = re.compile(r"^(?:jr|sr|ii|iii|iv)\.?$", re.IGNORECASE)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `litreview dedup`."""
    defaults = DedupSettings()
    parser.add_argument(
        "input",
        type=Path,
        nargs="+",
        help="exports to deduplicate, together: bibliographic CSVs with an id column, or files "
        "in any format the importers read (RIS, nbib, Web of Science, Ovid, EndNote XML...)",
    )
    parser.add_argument(
        "output", type=Path, help="CSV to write: id,file,cluster_id,kept,reason,score"
    )
    parser.add_argument(
        "--encoding", help="text encoding of the input (default: detected), e.g. latin-1"
    )
    parser.add_argument(
        "--delimiter",
        type=_delimiter,
        default=",",
        help="field separator: one character, or 'tab' (default ',')",
    )
    parser.add_argument(
        "--pairs", type=Path, help="also write the duplicates table (one row per removed record)"
    )
    parser.add_argument(
        "--title-similarity",
        type=float,
        default=defaults.title_similarity,
        help="title similarity 0-1 to merge when author and year agree (default %(default)s)",
    )
    parser.add_argument(
        "--title-similarity-with-details",
        type=float,
        default=defaults.title_similarity_with_details,
        help="lower title similarity accepted when journal/volume/page also agree "
        "(default %(default)s)",
    )
    parser.add_argument(
        "--year-tolerance",
        type=int,
        default=defaults.year_tolerance,
        help="years may differ by this much (default %(default)s)",
    )
    parser.add_argument(
        "--merge-different-dois",
        action="store_true",
        help="let records with different DOIs merge on other evidence",
    )
    parser.add_argument(
        "--conference-abstracts-merge",
        action="store_true",
        help="let a conference abstract merge with the full paper of the same title",
    )


def _delimiter(value: str) -> str:
    """One character; "tab" or a typed "\\t" mean a tab."""
    if value in ("tab", "\\t"):
        return "\t"
    if len(value) != 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a single character")
    return value


def run(args: argparse.Namespace) -> int:
    """Read, deduplicate, write; print a one-line summary."""
    settings = DedupSettings(
        title_similarity=args.title_similarity,
        title_similarity_with_details=args.title_similarity_with_details,
        year_tolerance=args.year_tolerance,
        merge_different_dois=args.merge_different_dois,
        conference_abstract_merges_with_article=args.conference_abstracts_merge,
    )
    inputs = list(args.input)
    if any(args.output.resolve() == path.resolve() for path in inputs):
        raise InputFileError(
            args.output, "is an input file", hint="write the result to another file"
        )
    tables, encodings = [], []
    for path in inputs:
        table, encoding = read_any(path, args.encoding, args.delimiter)
        if len(inputs) > 1:  # a CSV's own ids, made unique across files
            prefix = f"{path.name}:"
            table["record_id"] = [
                value if str(value).startswith(prefix) else prefix + str(value)
                for value in table["record_id"]
            ]
        table["file"] = str(path)
        tables.append(table)
        encodings.append(encoding)
    records = pd.concat(tables, ignore_index=True)
    _check_unique_across(records)
    result = deduplicate(records.drop(columns=["file"]), settings)
    write_record_table(
        args.output, result, dict(zip(records["record_id"], records["file"], strict=True))
    )
    if args.pairs is not None:
        with atomic_open(args.pairs, "w", encoding="utf-8", newline="") as handle:
            escape_table(result.duplicates).to_csv(handle, index=False, lineterminator="\n")
    described = ", ".join(
        f"{path} ({encoding})" for path, encoding in zip(inputs, encodings, strict=True)
    )
    print(
        f"{described}: {result.records_in} records, "
        f"{result.duplicates_removed} duplicates, {result.records_out} kept -> {args.output}"
    )
    return 0


_IMPORTED = ("title", "authors", "first_author", "year", "journal", "journal_abbrev", "volume",
             "issue", "pages", "doi", "pmid", "pmcid", "abstract", "entry_type",
             "publication_types")  # fmt: skip


def read_any(path: Path, encoding: str | None, delimiter: str) -> tuple[pd.DataFrame, str]:
    """A bibliographic CSV with an id column, else any export the importers read (its format
    detected), as the deduplicator's record table; and what it was read as."""
    from litreview.importers import read_bibliographic_file

    if Path(path).suffix.lower() in (".csv", ".tsv") and not _database_export(path, delimiter):
        return read_bibliographic_csv(path, encoding, delimiter)
    imported = read_bibliographic_file(path, encoding=encoding)
    table = pd.DataFrame(
        {
            column: pd.array(
                [None if pd.isna(v) else str(v) for v in imported[column]], dtype=object
            )
            for column in _IMPORTED
        }
    )
    table.insert(0, "record_id", [f"{Path(path).name}:{n}" for n in range(1, len(table) + 1)])
    table["source"] = [None if pd.isna(v) else v for v in imported["database"]]
    return table, imported.attrs.get("format", "?")


def _database_export(path: Path, delimiter: str) -> bool:
    """A CSV without an id column whose header is a database's export layout (Scopus, Web of
    Science, Embase, PubMed): read by the importers. Any other CSV is the documented table."""
    from litreview.importers import GENERIC_LAYOUT, _detect_layout

    try:
        with open(path, encoding="utf-8-sig", errors="replace") as handle:
            first = handle.readline()
    except OSError:
        return False
    names = [name.strip().strip('"') for name in first.rstrip("\r\n").split(delimiter)]
    if any(name.lower() in COLUMN_ALIASES["record_id"] for name in names):
        return False
    try:
        return _detect_layout(names).name != GENERIC_LAYOUT.name
    except LitReviewError:
        return False


def _check_unique_across(records: pd.DataFrame) -> None:
    repeated = records["record_id"][records["record_id"].duplicated()]
    if len(repeated):
        first = repeated.iloc[0]
        files = records.loc[records["record_id"] == first, "file"].tolist()
        raise InputFileError(
            files[-1], f"record id {first!r} is used twice ({', '.join(files)})",
            hint="give every record its own id, or pass the files together (ids are then "
            "prefixed with their file name)",
        )  # fmt: skip


def write_record_table(
    path: Path, result: DedupResult, files: dict[str, str] | None = None
) -> None:
    """The per-record CSV: kept as true/false, score empty where there is none."""
    with atomic_open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(OUTPUT_COLUMNS)
        table = result.records
        for record_id, cluster_id, kept, reason, score in zip(
            table["record_id"].tolist(),
            table["cluster_id"].tolist(),
            table["kept"].tolist(),
            table["reason"].tolist(),
            table["score"].tolist(),
            strict=True,
        ):
            score_text = "" if score is None or pd.isna(score) else f"{score:.4f}"
            where = (files or {}).get(record_id, "")
            row = (record_id, where, cluster_id, "true" if kept else "false", reason, score_text)
            writer.writerow([escape_cell(value) for value in row])


def decode_file(path: Path, data: bytes, encoding: str | None) -> tuple[str, str]:
    """The file's text and the encoding used: the given one, else UTF-8, else detected."""
    if encoding is not None:
        try:
            codec = codecs.lookup(encoding).name
        except LookupError:
            raise InputFileError(
                path,
                f"unknown text encoding {encoding!r}",
                hint="give a Python codec name such as utf-8, latin-1 or cp1252",
            ) from None
        try:
            return data.decode(codec), codec
        except UnicodeDecodeError as error:
            raise _decode_error(path, data, error, codec) from None
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise InputFileError(
            path, "is a spreadsheet or archive, not a CSV text file", hint="export it as CSV"
        )
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass  # not UTF-8: detect below
    best = charset_normalizer.from_bytes(data).best()
    if best is None or b"\x00" in data:
        raise InputFileError(
            path,
            "the text encoding could not be detected (binary data or mixed encodings?)",
            hint="pass the encoding with --encoding, e.g. --encoding latin-1",
        )
    return str(best), best.encoding


def _decode_error(path: Path, data: bytes, error: UnicodeDecodeError, codec: str) -> InputFileError:
    """Where the undecodable byte is: line and byte offset in that line."""
    line = data.count(b"\n", 0, error.start) + 1
    offset = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
    byte = data[error.start : error.start + 1].hex()
    return InputFileError(
        path,
        f"cannot be decoded as {codec}: byte 0x{byte} at line {line}, character {offset}",
        hint="pass the file's real encoding with --encoding (e.g. latin-1, cp1252), "
        "or leave --encoding out to detect it",
    )


def read_bibliographic_csv(
    path: Path, encoding: str | None = None, delimiter: str = ","
) -> tuple[pd.DataFrame, str]:
    """A user's CSV as a record table (record columns, strings, missing = None) and its encoding.

    Authors in BibTeX ("Smith, John and Doe, J.") or run-together EndNote form ("Smith J.Doe
    J.") become "Smith J; Doe J"; `booktitle` fills `journal` where that is empty.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputFileError(path, f"cannot be read: {error.strerror}") from None
    if not data.strip():
        raise InputFileError(path, "is empty", hint="export the records with a header row")
    text, used_encoding = decode_file(path, data, encoding)
    header, rows = _parse_csv(path, text, delimiter)
    mapping = _map_columns(path, header)
    columns: dict[str, list[str | None]] = {name: [] for name in mapping}
    for _, fields in rows:
        for name, index in mapping.items():
            columns[name].append(fields[index].strip() or None)
    _check_ids(
        path,
        [row_number for row_number, _ in rows],
        columns["record_id"],
        header[mapping["record_id"]],
    )
    if "authors" in columns:
        authors = [bibliographic_authors(value) for value in columns["authors"]]
        columns["authors"] = authors
        columns["first_author"] = [value.split("; ")[0] if value else None for value in authors]
    if "booktitle" in columns:
        booktitles = columns.pop("booktitle")
        journals = columns.get("journal", [None] * len(booktitles))
        columns["journal"] = [
            journal if journal is not None else booktitle
            for journal, booktitle in zip(journals, booktitles, strict=True)
        ]
    table = pd.DataFrame({name: pd.array(values, dtype=object) for name, values in columns.items()})
    return table, used_encoding


def _parse_csv(
    path: Path, text: str, delimiter: str
) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and (row number, fields) of each non-blank record; header = row 1.

    A malformed record fails with its row and line number.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except csv.Error as error:
        raise InputFileError(path, f"the header cannot be parsed as CSV: {error}", row=1) from None
    except StopIteration:
        raise InputFileError(path, "has no header row") from None
    header = [name.lstrip("\ufeff").strip() for name in header]
    rows: list[tuple[int, list[str]]] = []
    row_number = 1
    while True:
        row_number += 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            raise InputFileError(
                path,
                f"cannot be parsed as CSV near line {reader.line_num}: {error}",
                row=row_number,
                hint="check for an unclosed quote; fields with the delimiter or line breaks "
                "must be in double quotes",
            ) from None
        if not any(field.strip() for field in fields):
            continue
        if len(fields) != len(header):
            raise InputFileError(
                path,
                f"has {len(fields)} fields but the header has {len(header)} "
                f"(line {reader.line_num})",
                row=row_number,
                hint="quote fields that contain the delimiter, or pass --delimiter",
            )
        rows.append((row_number, fields))
    return header, rows


def _map_columns(path: Path, header: list[str]) -> dict[str, int]:
    """Record column -> input column index, matched case-insensitively by COLUMN_ALIASES."""
    positions: dict[str, list[int]] = {}
    for index, name in enumerate(header):
        positions.setdefault(name.lower(), []).append(index)
    mapping: dict[str, int] = {}
    for record_column, aliases in COLUMN_ALIASES.items():
        found = [alias for alias in aliases if alias in positions]
        if len(found) > 1 or (found and len(positions[found[0]]) > 1):
            names = [header[index] for alias in found for index in positions[alias]]
            raise InputFileError(
                path,
                f"columns {', '.join(repr(name) for name in names)} all mean {record_column!r}",
                row=1,
                hint="keep one of them or rename the others",
            )
        if found:
            mapping[record_column] = positions[found[0]][0]
    if "record_id" not in mapping:
        raise InputFileError(
            path,
            f"has no id column (found: {', '.join(header)})",
            row=1,
            hint="add a column 'ID', 'id' or 'record_id' with a unique id per record",
        )
    if not any(name in mapping for name in USABLE_COLUMNS):
        raise InputFileError(
            path,
            f"has no column to compare records by (found: {', '.join(header)})",
            row=1,
            hint=f"include at least one of {', '.join(USABLE_COLUMNS)}",
        )
    return mapping


def _check_ids(path: Path, row_numbers: list[int], ids: list[str | None], column: str) -> None:
    """Every record needs an id, and no id may repeat."""
    first_row: dict[str, int] = {}
    for row, record_id in zip(row_numbers, ids, strict=True):
        if record_id is None:
            raise InputFileError(
                path, "has no id", row=row, column=column, hint="give every record an id"
            )
        if record_id in first_row:
            raise InputFileError(
                path,
                f"id {record_id!r} is already used on row {first_row[record_id]}",
                row=row,
                column=column,
                hint="ids must be unique",
            )
        first_row[record_id] = row


def bibliographic_authors(value: str | None) -> str | None:
    """Author list in record form ("Surname Initials; ...") from common export layouts."""
    if value is None:
        return None
    if ";" in value:
        names = value.split(";")
    elif re.search(r"\s+and\s+", value):
        names = re.split(r"\s+and\s+", value)
    else:
        names = _ENDNOTE_AUTHOR_JOIN.split(value)
    converted = [_surname_initials(name) for name in names]
    return "; ".join(name for name in converted if name) or None


def _surname_initials(name: str) -> str:
    """ "Smith, John A." -> "Smith JA"; a name without a comma is kept, without dots."""
    name = name.strip()
    if "," not in name:
        return " ".join(name.replace(".", " ").split())
    surname, given = name.split(",", 1)
    initials = "".join(
        part[0].upper()
        for part in re.split(r"[\s.\-,]+", given)
        if part and not _NAME_SUFFIX.match(part)
    )
    return f"{surname.strip()} {initials}".strip()
