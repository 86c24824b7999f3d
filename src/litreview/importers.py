"""Records found by other methods (other databases' exports, reference lists) as record tables.

Each importer reads one file and returns a DataFrame with the columns of
:data:`litreview.records.RECORD_COLUMNS` plus ``entry_type``, ``source_file`` and
``source_line`` (1-based line where the record starts), so that identification and
deduplication see PubMed records and records from elsewhere in one shape. Multi-valued fields
are joined with ``"; "``, authors are ``"Surname Initials"``, a missing value is ``pd.NA``.

Formats: RIS (via rispy; Scopus, Web of Science, EndNote, Zotero, Embase/Ovid dialects),
PubMed nbib / MEDLINE text (via Bio.Medline), and delimited exports (CSV/TSV) mapped column by
column: Scopus CSV, Web of Science tab-delimited, Embase CSV, a generic layout, and a
user-supplied ``{record_column: file_column}`` mapping that overrides any of them.

The normalisers (DOI, author name, year, date, pages, PMID, language, entry type) are public
so that other stages map values the same way.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import charset_normalizer
import pandas as pd
import rispy
from Bio import Medline

from litreview.errors import InputFileError, ParseError
from litreview.ids import DOI_IN_TEXT as _DOI_IN_TEXT
from litreview.ids import YEAR as _YEAR
from litreview.ids import (
    author_surname,
    doi_from_url,
    doi_in,
    normalize_author,
    normalize_authors,
    normalize_doi,
    normalize_issn,
    normalize_pmcid,
    normalize_pmid,
    parse_year,
    split_author_list,
)
from litreview.records import MULTI_VALUE_SEPARATOR, RECORD_COLUMNS

logger = logging.getLogger(__name__)

#: Columns of an imported table: the shared record columns, then where each record came from.
IMPORT_COLUMNS: tuple[str, ...] = (
    *RECORD_COLUMNS,
    "entry_type",
    "issn",
    "database",
    "source_file",
    "source_line",
)

FLAG_COLUMNS: tuple[str, ...] = (
    "is_retracted",
    "is_retraction_notice",
    "is_erratum",
    "is_expression_of_concern",
)
#: Flags only PubMed's CommentsCorrections tell (an export's types cannot): unknown, NA.
LINK_FLAG_COLUMNS: tuple[str, ...] = ("has_erratum", "is_updated")

#: Values accepted by ``read_bibliographic_file(format=...)``.
FORMATS: tuple[str, ...] = (
    "ris",
    "nbib",
    "medline",
    "wos_tagged",
    "ovid_tagged",
    "endnote_xml",
    "csl_json",
    "pubmed_xml",
    "csv",
    "tsv",
    "embase",
    "wos",
    "scopus",
)

#: Canonical entry types (``entry_type`` column); anything recognised but outside these is "other".
ENTRY_TYPES: tuple[str, ...] = (
    "article",
    "conference",
    "book",
    "chapter",
    "thesis",
    "report",
    "other",
)

_FIX_VALUE_HINT = "correct or clear the value in the file, then import it again"

# ---------------------------------------------------------------------------------------------
# Normalisers (public: other stages reuse them)
# ---------------------------------------------------------------------------------------------

# The identifier and year normalisers live in litreview.ids (one set for every stage); they
# are re-exported here for the importers' callers.

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}


def parse_publication_date(text: str | None, *, year: int | None = None) -> str | None:
    """Return a (partial) ISO date ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``, or None if empty.

    Reads ``2014 May 3``, ``2014/05/09``, ``20140509``, ``7 May 2014``, ``2014 May-Jun``
    (the first month), ``1990 Spring`` (the year only). ``year`` completes dates that carry
    none, as Web of Science's ``PD`` (``SEP 22``) and RIS ``DA`` fields often do. Raises
    ValueError when no year can be found.
    """
    if text is None:
        return None
    value = str(text).strip()
    if not value:
        return None
    numeric = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", value) or re.match(
        r"^(\d{4})[/-](\d{1,2})(?:[/-](\d{1,2}))?(?:$|[/\sT])", value
    )
    if numeric:
        found_year = int(numeric.group(1))
        month = int(numeric.group(2)) if numeric.group(2) else None
        day = int(numeric.group(3)) if numeric.group(3) else None
        return _iso_date(found_year, month, day)
    year_match = _YEAR.search(value)
    if year_match is None and year is None:
        raise ValueError(f"{text!r} holds no four-digit year")
    found_year = int(year_match.group(1)) if year_match else year
    assert found_year is not None
    words = re.findall(r"[A-Za-z]+|\d+", value)
    month = None
    day = None
    for index, word in enumerate(words):
        number = _MONTHS.get(word.lower())
        if number is None:
            continue
        month = number
        neighbours = [words[i] for i in (index + 1, index - 1) if 0 <= i < len(words)]
        for neighbour in neighbours:
            if neighbour.isdigit() and len(neighbour) <= 2:
                day = int(neighbour)
                break
        break
    return _iso_date(found_year, month, day)


def _iso_date(year: int, month: int | None, day: int | None) -> str:
    if month is None or not 1 <= month <= 12:
        return f"{year:04d}"
    if day is None or not 1 <= day <= 31:
        return f"{year:04d}-{month:02d}"
    return f"{year:04d}-{month:02d}-{day:02d}"


_PAGE_RANGE = re.compile(r"^([A-Za-z]*)(\d+)\s*-\s*([A-Za-z]*)(\d+)$")


def normalize_pages(text: str | None) -> str | None:
    """Return pages as ``start-end`` with the end page written in full, or None if empty.

    For comparing records: MEDLINE abbreviates end pages (``113-25``), publishers and other
    databases do not (``113-125``). The importers store pages as the source writes them (so a
    record read from nbib equals the same record read from PubMed XML); compare through this.
    Article numbers (``e93735``) and other shapes are kept as they are.
    """
    if text is None:
        return None
    value = re.sub(r"\s+", " ", str(text)).strip()
    value = re.sub(r"^(?:pp?\.?\s*)", "", value, flags=re.IGNORECASE)
    value = value.replace("\u2013", "-").replace("\u2014", "-").replace("--", "-")
    if not value:
        return None
    match = _PAGE_RANGE.match(value)
    if match is None:
        return value
    start_prefix, start, end_prefix, end = match.groups()
    if end_prefix and end_prefix != start_prefix:
        return value
    if len(end) < len(start):
        full_end = start[: len(start) - len(end)] + end
        if int(full_end) >= int(start):
            end = full_end
    if start == end:
        return f"{start_prefix}{start}"
    return f"{start_prefix}{start}-{start_prefix}{end}"


def join_pages(start: str | None, end: str | None) -> str | None:
    """Join a start and an end page (RIS ``SP``/``EP``, WoS ``BP``/``EP``) as ``SP-EP``.

    A start field that already holds a range (EndNote writes ``SP  - 549-565``) is kept.
    """
    first = _clean(start) or ""
    last = _clean(end) or ""
    if not first:
        return last or None
    if not last or "-" in first or first == last:
        return first
    return f"{first}-{last}"


def _words(text: str) -> tuple[str, ...]:
    """Words of a space-separated table (keeps long vocabularies readable)."""
    return tuple(text.split())


# Language names (Scopus, Embase, Web of Science) and ISO 639-1 codes (Zotero) -> MEDLINE codes.
_LANGUAGE_CODES = {
    name.replace("_", " "): code
    for name, code in (
        pair.split("=")
        for pair in _words(
            "english=eng french=fre german=ger spanish=spa italian=ita japanese=jpn "
            "chinese=chi russian=rus portuguese=por polish=pol dutch=dut korean=kor czech=cze "
            "swedish=swe danish=dan norwegian=nor finnish=fin hungarian=hun greek=gre "
            "modern_greek=gre hebrew=heb arabic=ara persian=per turkish=tur ukrainian=ukr "
            "romanian=rum bulgarian=bul slovak=slo slovenian=slv serbian=srp croatian=hrv "
            "lithuanian=lit latvian=lav estonian=est icelandic=ice thai=tha vietnamese=vie "
            "indonesian=ind malay=may hindi=hin afrikaans=afr catalan=cat latin=lat "
            "en=eng fr=fre de=ger es=spa it=ita ja=jpn zh=chi ru=rus pt=por pl=pol nl=dut ko=kor "
            "cs=cze sv=swe da=dan no=nor fi=fin hu=hun el=gre he=heb ar=ara fa=per tr=tur uk=ukr"
        )
    )
}


def normalize_language(text: str) -> str:
    """Return the MEDLINE (NLM) code of a language name or code, e.g. ``English`` -> ``eng``.

    PubMed records carry codes (``eng``); Scopus, Embase and Web of Science write names.
    One form lets screening filter on language across sources. A value that is neither a
    known name nor a three-letter code is returned as written (stripped), not guessed.
    """
    value = re.sub(r"\s+", " ", text).strip()
    key = value.lower()
    if key in _LANGUAGE_CODES:
        return _LANGUAGE_CODES[key]
    if re.fullmatch(r"[a-z]{3}", key):
        return key
    return value


_ENTRY_TYPES = {
    # RIS TY codes
    "jour": "article",
    "jfull": "article",
    "ejour": "article",
    "mgzn": "article",
    "news": "article",
    "inpr": "article",
    "conf": "conference",
    "cpaper": "conference",
    "book": "book",
    "ebook": "book",
    "edbook": "book",
    "chap": "chapter",
    "echap": "chapter",
    "thes": "thesis",
    "rprt": "report",
    # document types (Scopus, Embase, Web of Science, PubMed, BibTeX, Zotero)
    "article": "article",
    "journal article": "article",
    "journalarticle": "article",
    "review": "article",
    "letter": "article",
    "note": "article",
    "editorial": "article",
    "editorial material": "article",
    "erratum": "article",
    "correction": "article",
    "short survey": "article",
    "retracted": "article",
    "retracted publication": "article",
    "retraction": "article",
    "data paper": "article",
    "article in press": "article",
    "early access": "article",
    "conference paper": "conference",
    "conference proceedings": "conference",
    "conferencepaper": "conference",
    "conference review": "conference",
    "conference abstract": "conference",
    "conference proceeding": "conference",
    "proceedings paper": "conference",
    "meeting abstract": "conference",
    "inproceedings": "conference",
    "conference": "conference",
    "proceedings": "conference",
    "whole book": "book",
    "edited book": "book",
    "book chapter": "chapter",
    "booksection": "chapter",
    "chapter": "chapter",
    "incollection": "chapter",
    "inbook": "chapter",
    "phdthesis": "thesis",
    "mastersthesis": "thesis",
    "thesis": "thesis",
    "dissertation": "thesis",
    "report": "report",
    "techreport": "report",
}
_NO_ENTRY_TYPE = {"gen", "generic", "misc", "unknown"}


def normalize_entry_type(text: str | None) -> str | None:
    """Map a source's record type (RIS ``TY``, a document type, a BibTeX type) to one vocabulary.

    Returns one of :data:`ENTRY_TYPES`, or None when ``text`` is empty or says nothing
    (``GEN``, ``misc``). A type that is recognisable as such but not listed becomes "other".
    """
    if text is None:
        return None
    key = re.sub(r"\s+", " ", str(text)).strip().lower()
    if not key or key in _NO_ENTRY_TYPE:
        return None
    return _ENTRY_TYPES.get(key, "other")


def _entry_type(base: str | None, document_types: Sequence[str]) -> str | None:
    """Entry type from a record's base type (RIS TY, WoS PT) refined by its document types.

    Embase and Scopus export conference abstracts and chapters with ``TY  - JOUR``; their
    document type says what the record is.
    """
    entry_type = normalize_entry_type(base)
    specific = [normalize_entry_type(value) for value in document_types]
    for candidate in ("conference", "chapter", "book", "thesis", "report"):
        if candidate in specific:
            return candidate
    if entry_type is None:
        known = [value for value in specific if value is not None]
        return known[0] if known else None
    return entry_type


_FLAG_TYPES = {
    "is_retracted": {"retracted publication", "retracted", "retracted article"},
    "is_retraction_notice": {
        "retraction of publication",
        "retraction",
        "retraction notice",
        "retraction note",
    },
    "is_erratum": {"published erratum", "erratum", "correction", "corrigendum"},
    "is_expression_of_concern": {"expression of concern"},
}


def publication_type_flags(types: Iterable[str], *, complete: bool) -> dict[str, Any]:
    """Return the retraction / erratum / expression-of-concern flags a record's types imply.

    PubMed's publication types (``Retracted Publication``, ``Retraction of Publication``,
    ``Published Erratum``, ``Expression of Concern``) are complete, so a missing type means
    False (``complete=True``). Other databases' document types only say so when they do:
    there a missing type leaves the flag unknown (pd.NA).
    """
    lowered = {re.sub(r"\s+", " ", value).strip().lower() for value in types}
    flags: dict[str, Any] = {}
    for column, names in _FLAG_TYPES.items():
        if lowered & names:
            flags[column] = True
        else:
            flags[column] = False if complete else pd.NA
    return flags


# ---------------------------------------------------------------------------------------------
# Reading files: encoding
# ---------------------------------------------------------------------------------------------

_BOMS: tuple[tuple[bytes, str], ...] = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
_ENCODING_HINT = (
    "find out how the file was saved (UTF-8, latin-1/Windows-1252, UTF-16) and pass it as "
    "encoding=..., or save the file again as UTF-8"
)


def _line_at(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def decode_text(data: bytes, path: str | Path, encoding: str | None = None) -> str:
    """Decode an export's bytes: the encoding given, else a byte-order mark, UTF-8, or detection.

    Exports come as UTF-8 (often with a byte-order mark: Scopus, Web of Science, Embase),
    UTF-16 (older Web of Science), or Windows-1252/latin-1 (Excel). Detection
    (charset-normalizer) is a guess and is logged; pass ``encoding`` to be sure.
    """
    if encoding is not None:
        return _decode_strict(data, path, encoding)
    for bom, bom_encoding in _BOMS:
        if data.startswith(bom):
            return _decode_strict(data, path, bom_encoding)
    if data.startswith(b"PK\x03\x04") or b"\x00" in data[:4096]:
        raise InputFileError(
            path,
            "is a binary file (a spreadsheet or archive?), not a text export",
            hint="export the records as RIS, MEDLINE/nbib, CSV or tab-delimited text",
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        first_bad = err.start
    best = charset_normalizer.from_bytes(data).best()
    if best is None or best.encoding is None:
        raise InputFileError(
            path,
            f"is not UTF-8 (byte 0x{data[first_bad]:02x}) and its encoding could not be detected",
            row=_line_at(data, first_bad),
            hint=_ENCODING_HINT,
        )
    logger.info("%s: not UTF-8; decoded as %s (detected)", path, best.encoding)
    return str(best)


def _decode_strict(data: bytes, path: str | Path, encoding: str) -> str:
    try:
        text = data.decode(encoding)
    except LookupError as err:
        raise InputFileError(
            path, f"unknown encoding {encoding!r}", hint="use a Python codec name such as utf-8"
        ) from err
    except UnicodeDecodeError as err:
        raise InputFileError(
            path,
            f"cannot be decoded as {encoding} (byte 0x{data[err.start]:02x})",
            row=_line_at(data, err.start),
            hint=_ENCODING_HINT,
        ) from err
    return text.removeprefix("\ufeff")


def _read_text(path: str | Path, encoding: str | None) -> str:
    file_path = Path(path)
    if not file_path.is_file():
        raise InputFileError(path, "does not exist or is not a file", hint="check the path")
    return decode_text(file_path.read_bytes(), path, encoding)


def _split_lines(text: str) -> list[str]:
    # Not str.splitlines(): that also splits on form feeds and U+2028 inside abstracts.
    lines = re.split(r"\r\n|\r|\n", text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _checked_lines(
    text: str, path: str | Path, hint: str, *, what: str = ""
) -> Iterator[tuple[int, str, str]]:
    """(line number, raw line, line without trailing space) of a tagged export, refusing a line
    with control characters (binary garbage passing as data) by its number."""
    for number, raw in enumerate(_split_lines(text), start=1):
        line = raw.rstrip()
        if _CONTROL.search(line):
            raise InputFileError(
                path, f"has control characters (binary garbage){what}", row=number, hint=hint
            )
        yield number, raw, line


# ---------------------------------------------------------------------------------------------
# Assembling the table
# ---------------------------------------------------------------------------------------------


def _join(values: Iterable[str | None]) -> str | None:
    """Join distinct non-empty values with the shared separator (first occurrence kept)."""
    seen: list[str] = []
    for value in values:
        if value is None:
            continue
        text = re.sub(r"\s+", " ", value).strip()
        if text and text not in seen:
            seen.append(text)
    return MULTI_VALUE_SEPARATOR.join(seen) if seen else None


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    text = re.sub(r"\s+", " ", str(value)).strip()
    return text or None


def _records_frame(records: list[dict[str, Any]], path: str | Path) -> pd.DataFrame:
    """Build the import table with fixed columns and the record table's dtypes.

    As :func:`litreview.records.records_table`: text is the "string" dtype, year Int64, flags
    boolean; missing values are pd.NA. ``source_line`` is int64.
    """
    data: dict[str, Any] = {}
    for column in IMPORT_COLUMNS:
        values = [record.get(column) for record in records]
        if column == "year":
            data[column] = pd.array(values, dtype="Int64")
        elif column in FLAG_COLUMNS or column in LINK_FLAG_COLUMNS:
            data[column] = pd.array(
                [None if value is pd.NA else value for value in values], dtype="boolean"
            )
        elif column == "source_line":
            data[column] = pd.array(values, dtype="int64")
        elif column == "source_file":
            data[column] = pd.array([str(path)] * len(records), dtype="string")
        else:
            data[column] = pd.array(
                [None if value is pd.NA else value for value in values], dtype="string"
            )
    return pd.DataFrame(data, columns=list(IMPORT_COLUMNS))


def _finish(record: dict[str, Any]) -> dict[str, Any]:
    """Derive first_author from authors and fill absent columns with missing values."""
    authors = record.get("authors")
    if authors and not record.get("first_author"):
        first = authors.split(MULTI_VALUE_SEPARATOR)[0]
        record["first_author"] = author_surname(first)
    for column in IMPORT_COLUMNS:
        record.setdefault(column, None)
    for column in (*FLAG_COLUMNS, *LINK_FLAG_COLUMNS):
        if record[column] is None:
            record[column] = pd.NA
    return record


def _each_record(
    path: str | Path, builders: Iterable[Callable[[], dict[str, Any]]]
) -> list[dict[str, Any]]:
    """Build every record; report all bad values of the file at once, not one per run.

    A real export often has several bad cells (a typo in a DOI, "n.d." as a year). The error
    names the first one, with its line and field, and lists where the others are.
    """
    records: list[dict[str, Any]] = []
    problems: list[InputFileError] = []
    for build in builders:
        try:
            records.append(build())
        except InputFileError as problem:
            problems.append(problem)
    if not problems:
        return records
    first = problems[0]
    message = first.problem
    if len(problems) > 1:
        others = ", ".join(
            f"row {problem.row}" + (f" {problem.column!r}" if problem.column else "")
            for problem in problems[1:11]
        )
        more = f" and {len(problems) - 11} more" if len(problems) > 11 else ""
        message += f"; {len(problems) - 1} more bad values: {others}{more}"
    raise InputFileError(
        path, message, row=first.row, column=first.column, hint=first.hint
    ) from first


@contextmanager
def _cell(path: str | Path, row: int, column: str) -> Iterator[None]:
    """Turn a normaliser's ValueError into an InputFileError naming file, line and field."""
    try:
        yield
    except ValueError as err:
        raise InputFileError(path, str(err), row=row, column=column, hint=_FIX_VALUE_HINT) from err


# ---------------------------------------------------------------------------------------------
# RIS
# ---------------------------------------------------------------------------------------------

_RIS_TAG = re.compile(r"^([A-Z][A-Z0-9]) {1,2}-(?: (.*))?$")
_RIS_NEAR_TAG = re.compile(r"^[A-Z][A-Z0-9] {0,4}-(?: |$)")
# Fields whose value never wraps onto a continuation line: text under them is garbage.
_RIS_SINGLE_LINE = {"TY", "PY", "Y1", "VL", "IS", "SP", "EP", "DO", "ER"}
_RIS_HINT = "fix or remove that line, or export the records again"
# Publishers' and link resolvers' RIS files open with a small header (ScienceDirect, 360 Link).
_RIS_PREAMBLE = re.compile(r"^(?:Provider|Database|Tagformat|Content):")
# Ovid numbers its RIS records ("1." on a line of its own) and puts its links between them.
_OVID_NUMBER = re.compile(r"^(\d+)\.$")
_OVID_LINK = re.compile(r"^Link to the (?:Ovid Full Text|External Link Resolver)")


@dataclass
class _RisRecord:
    start_line: int
    lines: list[str] = field(default_factory=list)
    tag_lines: dict[str, int] = field(default_factory=dict)


def _scan_ris(text: str, path: str | Path) -> list[_RisRecord]:
    """Check the RIS structure line by line and return each record's canonical lines.

    rispy itself skips what it does not understand (a record without ``TY``, lines between
    records, a last record without ``ER``) without a word; a review must not lose records
    silently, so the structure is checked here first, with line numbers.
    """
    records: list[_RisRecord] = []
    current: _RisRecord | None = None
    last_tag: str | None = None
    numbers: list[int] = []  # Ovid's record numbers, when the export has them
    for number, _, line in _checked_lines(text, path, _RIS_HINT, what=" in a RIS line"):
        if not line.strip():
            continue
        match = _RIS_TAG.match(line)
        if match is None:
            stripped = line.strip()
            if _RIS_NEAR_TAG.match(stripped) or stripped[2:5] == "  -":
                raise InputFileError(
                    path,
                    f"malformed RIS tag line {line[:40]!r} (a tag line is 'XX  - value')",
                    row=number,
                    hint=_RIS_HINT,
                )
            if current is None and _RIS_PREAMBLE.match(line):
                continue
            if current is None and _OVID_LINK.match(line.strip()):
                continue
            ovid = _OVID_NUMBER.match(line.strip()) if current is None else None
            if ovid:
                numbers.append(int(ovid.group(1)))
                if numbers[-1] != len(records) + 1:
                    raise InputFileError(
                        path,
                        f"Ovid record number {numbers[-1]} where {len(records) + 1} comes next: "
                        "a record is missing or out of place",
                        row=number,
                        hint="export the records from Ovid again, all of them in one file",
                    )
                continue
            if current is None:
                raise InputFileError(
                    path,
                    f"text outside any RIS record: {line[:60]!r}",
                    row=number,
                    hint="every record must start with 'TY  - ' and end with 'ER  - '; "
                    + _RIS_HINT,
                )
            if last_tag in _RIS_SINGLE_LINE:
                raise InputFileError(
                    path,
                    f"unexpected text {line[:60]!r} after the {last_tag} field of the record "
                    f"starting at line {current.start_line}",
                    row=number,
                    hint=_RIS_HINT,
                )
            current.lines.append(line.strip())
            continue
        tag, value = match.group(1), (match.group(2) or "").strip()
        if current is None:
            if tag != "TY":
                raise InputFileError(
                    path,
                    f"record without TY: tag {tag} outside a record",
                    row=number,
                    column=tag,
                    hint="each record must begin with a 'TY  - ' line; the export may be cut "
                    "or two files joined badly",
                )
            if not value:
                raise InputFileError(
                    path,
                    "TY line has no reference type",
                    row=number,
                    column="TY",
                    hint="write the type, e.g. 'TY  - JOUR'",
                )
            current = _RisRecord(start_line=number)
            current.lines.append(f"TY  - {value}")
            current.tag_lines["TY"] = number
            last_tag = tag
            continue
        if tag == "TY":
            raise InputFileError(
                path,
                f"a new record starts (TY) but the record starting at line "
                f"{current.start_line} has no ER",
                row=number,
                column="TY",
                hint="add 'ER  - ' at the end of that record, or export the records again",
            )
        if tag == "ER":
            current.lines.append("ER  - ")
            records.append(current)
            current = None
            last_tag = None
            continue
        current.lines.append(f"{tag}  - {value}")
        current.tag_lines.setdefault(tag, number)
        last_tag = tag
    if current is not None:
        raise InputFileError(
            path,
            f"the record starting at line {current.start_line} has no ER (end of file reached)",
            row=current.start_line,
            hint="the export may be cut short: export it again, or end the record with 'ER  - '",
        )
    if not records:
        raise InputFileError(
            path, "holds no RIS record", hint="check that this is a RIS export ('TY  - ' lines)"
        )
    if numbers and len(numbers) != len(records):
        raise InputFileError(
            path,
            f"{len(records)} records but {len(numbers)} Ovid record numbers: a record has no "
            "number, or a number no record",
            hint="export the records from Ovid again",
        )
    return records


def read_ris(path: str | Path, *, encoding: str | None = None) -> pd.DataFrame:
    """Read a RIS export (Scopus, Web of Science, EndNote, Zotero, Embase, Ovid) into records."""
    text = _read_text(path, encoding)
    return _ris_table(text, path)


def _ris_table(text: str, path: str | Path) -> pd.DataFrame:
    scanned = _scan_ris(text, path)
    tags = sorted({line[:2] for record in scanned for line in record.lines if line[2:5] == "  -"})
    identity = {tag: tag for tag in tags}
    # Every tag is read as a list (continuation lines become items): each field is then
    # joined or checked below, so nothing is overwritten or dropped silently.
    entries = rispy.loads(
        "\n".join(line for record in scanned for line in record.lines),
        mapping={**identity, "TY": "TY", "ER": "ER", "UK": "UK"},
        list_tags=[tag for tag in tags if tag not in {"TY", "ER"}],
        delimiter_tags_mapping={},
    )
    return _parsed_table(path, "rispy", entries, scanned, _ris_record)


def _parsed_table(
    path: str | Path,
    parser: str,
    parsed: Sequence[Mapping[str, Any]],
    scans: Sequence[Any],
    build: Callable[[Mapping[str, Any], Any, str | Path], dict[str, Any]],
) -> pd.DataFrame:
    """Records from a parser's output and the line scan that checked the same text."""
    if len(parsed) != len(scans):
        raise ParseError(
            f"{path}: {parser} read {len(parsed)} records where {len(scans)} were found; "
            "please report this file"
        )
    builders = (partial(build, item, scan, path) for item, scan in zip(parsed, scans, strict=True))
    return _records_frame(_each_record(path, builders), path)


def _field_values(record: Mapping[str, Any], tag: str) -> list[str]:
    """A parsed field's values (rispy and Bio.Medline give a string or a list), cleaned."""
    value = record.get(tag)
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    return [text for text in (_clean(item) for item in values) if text]


def _ris_record(entry: Mapping[str, Any], scan: _RisRecord, path: str | Path) -> dict[str, Any]:
    def values(tag: str) -> list[str]:
        return _field_values(entry, tag)

    def text(*tags: str) -> str | None:
        for tag in tags:
            found = values(tag)
            if found:
                return " ".join(found)
        return None

    def cell(tag: str) -> AbstractContextManager[None]:
        return _cell(path, scan.tag_lines.get(tag, scan.start_line), tag)

    record: dict[str, Any] = {"source_line": scan.start_line}
    record["database"] = text("DB", "DP")
    record["issn"] = normalize_issn(" ".join(values("SN")))
    record["title"] = text("TI", "T1")
    journal_tag = next((tag for tag in ("T2", "JF", "JO") if values(tag)), None)
    record["journal"] = text(journal_tag) if journal_tag else None
    abbrev_tags = [tag for tag in ("J2", "JA", "JI", "JO", "J9") if tag != journal_tag]
    record["journal_abbrev"] = text(*abbrev_tags)
    with cell("AU" if values("AU") else "A1"):
        record["authors"] = _join(normalize_authors(values("AU") or values("A1")))
    record["abstract"] = text("AB", "N2")
    record["volume"] = _single(values("VL"), path, scan, "VL")
    record["issue"] = _single(values("IS"), path, scan, "IS")
    start = _single(values("SP"), path, scan, "SP")
    end = _single(values("EP"), path, scan, "EP")
    record["pages"] = join_pages(start, end) or text("C7")

    year_tag = next((tag for tag in ("PY", "Y1") if values(tag)), None)
    year: int | None = None
    if year_tag:
        with cell(year_tag):
            year = parse_year(_single(values(year_tag), path, scan, year_tag))
    elif values("DA") and _YEAR.search(values("DA")[0]):
        year = parse_year(values("DA")[0])
    record["year"] = year
    for date_tag in ("DA", "Y1", "PY"):
        if values(date_tag):
            with cell(date_tag):
                record["publication_date"] = parse_publication_date(values(date_tag)[0], year=year)
            break

    dois: list[str] = []
    for value in values("DO"):
        with cell("DO"):
            doi = normalize_doi(value)
        if doi and doi not in dois:
            dois.append(doi)
    if len(dois) > 1:
        raise InputFileError(
            path,
            f"the record has different DOIs: {', '.join(dois)}",
            row=scan.tag_lines["DO"],
            column="DO",
            hint="keep the record's own DOI and remove the other",
        )
    types = [value for value in values("M3") if not _DOI_IN_TEXT.search(value)]
    # EndNote (from Embase) and Ovid give the DOI as a doi.org link; old EndNote put it in M3.
    for tag, texts in (("UR", values("UR")), ("M3", values("M3"))):
        for value in texts:
            if dois:
                break
            with cell(tag):
                found = doi_from_url(value) if tag == "UR" else None
                in_text = _DOI_IN_TEXT.search(value) if tag == "M3" else None
                found = found or (normalize_doi(in_text.group(0)) if in_text else None)
            if found:
                dois.append(found)
    record["doi"] = dois[0] if dois else None

    record["pmid"] = _ris_pmid(entry, scan, path)
    pmcids = [value for value in values("C2") if re.fullmatch(r"PMC\d+", value)]
    pmcids += [
        match.group(1)
        for value in values("N1")
        if (match := re.fullmatch(r"(?i)pmcid\s*:?\s*(PMC\d+)", value))
    ]
    record["pmcid"] = normalize_pmcid(pmcids[0]) if pmcids else None
    record["keywords"] = _join(values("KW"))
    record["languages"] = _join(normalize_language(value) for value in values("LA"))
    record["publication_types"] = _join(types)
    record["entry_type"] = _entry_type(text("TY"), types)
    record.update(publication_type_flags(types, complete=False))
    return _finish(record)


def _single(values: list[str], path: str | Path, scan: _RisRecord, tag: str) -> str | None:
    distinct = list(dict.fromkeys(values))
    if len(distinct) > 1:
        raise InputFileError(
            path,
            f"the record has several different {tag} values: {distinct}",
            row=scan.tag_lines.get(tag, scan.start_line),
            column=tag,
            hint="keep one value for this field",
        )
    return distinct[0] if distinct else None


_PUBMED_URL = re.compile(
    r"(?:ncbi\.nlm\.nih\.gov/pubmed/|pubmed\.ncbi\.nlm\.nih\.gov/)(\d+)", re.IGNORECASE
)


def _ris_pmid(entry: Mapping[str, Any], scan: _RisRecord, path: str | Path) -> str | None:
    """PMID wherever this RIS dialect puts it; conflicting PMIDs are an error.

    Scopus and EBSCO: ``C2`` (digits). EndNote and Ovid from PubMed/MEDLINE: ``AN`` (digits,
    with ``DB``/``DP`` naming PubMed, MEDLINE or NLM; in other databases AN is their own
    accession number). Embase: ``AN  - PMID:...``. Zotero and many tools: ``N1  - PMID: ...``;
    some: ``PM``. EndNote: the PubMed link in ``UR``.
    """
    found: dict[str, str] = {}

    def add(tag: str, value: str) -> None:
        with _cell(path, scan.tag_lines.get(tag, scan.start_line), tag):
            pmid = normalize_pmid(value)
        if pmid:
            found.setdefault(pmid, tag)

    databases = " ".join(_field_values(entry, "DB") + _field_values(entry, "DP")).lower()
    from_pubmed = any(name in databases for name in ("pubmed", "medline", "nlm")) and (
        "embase" not in databases
    )
    for value in _field_values(entry, "C2"):
        if re.fullmatch(r"\d{1,9}", value):
            add("C2", value)
    for tag in ("AN", "ID", "PM", "N1"):
        for value in _field_values(entry, tag):
            labelled = re.fullmatch(r"(?i)pmid\s*:?\s*\d+", value) is not None
            bare_pubmed = tag == "AN" and from_pubmed and value.isdigit()
            if labelled or bare_pubmed or tag == "PM":
                add(tag, value)
    for value in _field_values(entry, "UR"):
        match = _PUBMED_URL.search(value)
        if match:
            add("UR", match.group(1))
    if len(found) > 1:
        where = ", ".join(f"{pmid} ({tag})" for pmid, tag in found.items())
        first_tag = next(iter(found.values()))
        raise InputFileError(
            path,
            f"the record has conflicting PubMed IDs: {where}",
            row=scan.tag_lines.get(first_tag, scan.start_line),
            column=first_tag,
            hint="keep the correct PMID and remove the others",
        )
    return next(iter(found), None)


# ---------------------------------------------------------------------------------------------
# PubMed nbib / MEDLINE text
# ---------------------------------------------------------------------------------------------

_MEDLINE_TAG = re.compile(r"^([A-Z][A-Z0-9]{1,3}) {0,2}-(?: (.*))?$")
_MEDLINE_HINT = (
    "export the records again from PubMed (Send to: Citation manager, or Format: PubMed)"
)


def _scan_medline(text: str, path: str | Path) -> tuple[list[str], list[dict[str, int]]]:
    """Check the MEDLINE layout; return one line per field and, per record, each tag's line.

    Bio.Medline reads anything: a stray line becomes a field named after its first four
    characters. Checking here keeps such garbage from passing as data and gives line numbers.
    """
    canonical: list[str] = []
    starts: list[dict[str, int]] = []
    in_record = False
    for number, raw, line in _checked_lines(text, path, _MEDLINE_HINT):
        if not line.strip():
            if in_record:
                canonical.append("")
                in_record = False
            continue
        if raw[:1] in (" ", "\t"):
            if not in_record:
                raise InputFileError(
                    path,
                    f"continuation line outside a record: {line.strip()[:60]!r}",
                    row=number,
                    hint=_MEDLINE_HINT,
                )
            canonical[-1] += " " + line.strip()
            continue
        match = _MEDLINE_TAG.match(line)
        if match is None or line[4:5] != "-":
            raise InputFileError(
                path,
                f"not a MEDLINE field line: {line[:60]!r} (a field line is 'TAG - value')",
                row=number,
                hint=_MEDLINE_HINT,
            )
        tag, value = match.group(1), (match.group(2) or "").strip()
        if not in_record:
            if tag != "PMID":
                raise InputFileError(
                    path,
                    f"record does not start with 'PMID- ' (found {tag})",
                    row=number,
                    column=tag,
                    hint="records are separated by one blank line and each begins with its "
                    "PMID line; " + _MEDLINE_HINT,
                )
            with _cell(path, number, "PMID"):
                normalize_pmid(value)
            starts.append({})
            in_record = True
        starts[-1].setdefault(tag, number)
        canonical.append(f"{tag:<4}- {value}")
    if not starts:
        raise InputFileError(
            path, "holds no MEDLINE record", hint="check that this is a PubMed nbib/MEDLINE file"
        )
    return canonical, starts


def read_medline(path: str | Path, *, encoding: str | None = None) -> pd.DataFrame:
    """Read a PubMed nbib / MEDLINE text file (PubMed's "Send to: Citation manager")."""
    text = _read_text(path, encoding)
    return _medline_table(text, path)


def _medline_table(text: str, path: str | Path) -> pd.DataFrame:
    canonical, tag_lines = _scan_medline(text, path)
    parsed = list(Medline.parse(line + "\n" for line in canonical))
    return _parsed_table(path, "Bio.Medline", parsed, tag_lines, _medline_record)


def _medline_text(record: Mapping[str, Any], tag: str) -> str | None:
    values = _field_values(record, tag)
    return " ".join(values) if values else None


_ID_WITH_TYPE = re.compile(r"(\S+)\s*\[(\w+)\]")


def _medline_record(
    medline: Mapping[str, Any], tag_lines: Mapping[str, int], path: str | Path
) -> dict[str, Any]:
    start = tag_lines["PMID"]

    def cell(tag: str) -> AbstractContextManager[None]:
        return _cell(path, tag_lines.get(tag, start), tag)

    record: dict[str, Any] = {"source_line": start, "database": "PubMed"}
    record["issn"] = normalize_issn(" ".join(_field_values(medline, "IS")))
    with cell("PMID"):
        record["pmid"] = normalize_pmid(_medline_text(medline, "PMID"))
    ids = [
        (value, kind)
        for text in _field_values(medline, "AID")
        for value, kind in _ID_WITH_TYPE.findall(text)
    ]
    ids += [
        (value, kind) for value, kind in _ID_WITH_TYPE.findall(_medline_text(medline, "LID") or "")
    ]
    doi = next((value for value, kind in ids if kind == "doi"), None)
    with cell("AID" if "AID" in tag_lines else "LID"):
        record["doi"] = normalize_doi(doi)
    with cell("PMC"):
        record["pmcid"] = normalize_pmcid(_medline_text(medline, "PMC"))
    record["title"] = (
        _medline_text(medline, "TI")
        or _medline_text(medline, "TT")
        or _medline_text(medline, "BTI")
    )
    record["abstract"] = _medline_text(medline, "AB")
    record["journal"] = _medline_text(medline, "JT")
    record["journal_abbrev"] = _medline_text(medline, "TA")
    record["volume"] = _medline_text(medline, "VI")
    record["issue"] = _medline_text(medline, "IP")
    record["pages"] = _medline_text(medline, "PG")
    date = _medline_text(medline, "DP")
    with cell("DP"):
        record["year"] = parse_year(date)
        record["publication_date"] = parse_publication_date(date)
    personal = _field_values(medline, "AU") or _field_values(medline, "FAU")
    with cell("AU"):
        authors = normalize_authors(personal)
    authors += _field_values(medline, "CN")
    record["authors"] = _join(authors)
    record["languages"] = _join(normalize_language(value) for value in _field_values(medline, "LA"))
    types = _field_values(medline, "PT")
    record["publication_types"] = _join(types)
    record["mesh"] = _join(
        term.split("/")[0].lstrip("*").strip() for term in _field_values(medline, "MH")
    )
    record["keywords"] = _join(_field_values(medline, "OT"))
    entrez = _medline_text(medline, "EDAT")
    with cell("EDAT"):
        record["entrez_date"] = parse_publication_date(entrez.split(" ")[0]) if entrez else None
    record.update(publication_type_flags(types, complete=True))
    if _medline_text(medline, "BTI"):
        record["entry_type"] = "chapter" if _medline_text(medline, "CTI") else "book"
    elif record["journal"] or record["journal_abbrev"]:
        record["entry_type"] = "article"
    return _finish(record)


# ---------------------------------------------------------------------------------------------
# Web of Science tagged plain text ("Other file formats" > "Plain text")
# ---------------------------------------------------------------------------------------------

_WOS_TAG = re.compile(r"^([A-Z][A-Z0-9])(?: (.*))?$")
_WOS_HINT = "export from Web of Science again (Plain text file, or Tab delimited file, or RIS)"
# Fields whose continuation lines are items of a list (one author a line), not wrapped text.
_WOS_LIST_TAGS = {"AU", "AF", "CR", "C1", "BA", "BF", "CA", "GP"}


@dataclass
class _TaggedRecord:
    start_line: int
    fields: dict[str, list[str]] = field(default_factory=dict)
    tag_lines: dict[str, int] = field(default_factory=dict)

    def text(self, *tags: str) -> str | None:
        """The first of the tags the record has, its values joined and whitespace folded."""
        for tag in tags:
            if self.fields.get(tag):
                return _clean(" ".join(self.fields[tag]))
        return None

    def cell(self, path: str | Path, tag: str) -> AbstractContextManager[None]:
        """A normaliser's ValueError as an error naming the file, the tag's line and tag."""
        return _cell(path, self.tag_lines.get(tag, self.start_line), tag)


def _scan_wos(text: str, path: str | Path) -> list[_TaggedRecord]:
    """Web of Science's tagged export: ``FN``/``VR`` header, records of two-letter tags each
    ending with ``ER``, ``EF`` at the end; a field's further lines are indented three spaces.
    Checked line by line: a record cut short, text outside records, or no ``EF`` is an error
    naming the line."""
    records: list[_TaggedRecord] = []
    current: _TaggedRecord | None = None
    last_tag: str | None = None
    ended = False
    for number, _, line in _checked_lines(text, path, _WOS_HINT):
        if not line.strip():
            continue
        if ended:
            raise InputFileError(path, f"text after EF: {line[:60]!r}", row=number, hint=_WOS_HINT)
        if line.startswith("   ") and current is not None and last_tag is not None:
            values = current.fields[last_tag]
            if last_tag in _WOS_LIST_TAGS:
                values.append(line.strip())
            else:
                values[-1] = f"{values[-1]} {line.strip()}"
            continue
        match = _WOS_TAG.match(line)
        if match is None:
            raise InputFileError(
                path, f"not a Web of Science field line: {line[:60]!r} (a field line is "
                "'TG value', its further lines indented three spaces)",
                row=number, hint=_WOS_HINT,
            )  # fmt: skip
        tag, value = match.group(1), (match.group(2) or "").strip()
        if tag in ("FN", "VR") and current is None:
            continue
        if tag == "EF":
            if current is not None:
                raise InputFileError(
                    path, f"the record starting at line {current.start_line} has no ER",
                    row=number, hint=_WOS_HINT,
                )  # fmt: skip
            ended = True
            continue
        if current is None:
            if tag != "PT":
                raise InputFileError(
                    path, f"a record starts with {tag}, not PT (the publication type)",
                    row=number, column=tag, hint=_WOS_HINT,
                )  # fmt: skip
            current = _TaggedRecord(start_line=number)
        if tag == "ER":
            records.append(current)
            current, last_tag = None, None
            continue
        if tag == "PT" and "PT" in current.fields:
            raise InputFileError(
                path, f"a new record starts (PT) but the record starting at line "
                f"{current.start_line} has no ER", row=number, column="PT", hint=_WOS_HINT,
            )  # fmt: skip
        current.fields.setdefault(tag, []).append(value)
        current.tag_lines.setdefault(tag, number)
        last_tag = tag
    if current is not None:
        raise InputFileError(
            path, f"the record starting at line {current.start_line} has no ER (end of file "
            "reached)", row=current.start_line, hint="the export may be cut short: " + _WOS_HINT,
        )  # fmt: skip
    if not records:
        raise InputFileError(path, "holds no Web of Science record", hint=_WOS_HINT)
    return records


_WOS_DOCUMENT_TYPES = {"J": "article", "B": "book", "S": "article", "P": "other", "C": "conference"}


def _wos_record(scan: _TaggedRecord, path: str | Path) -> dict[str, Any]:
    fields, text = scan.fields, scan.text

    def cell(tag: str) -> AbstractContextManager[None]:
        return scan.cell(path, tag)

    record: dict[str, Any] = {"source_line": scan.start_line, "database": "Web of Science"}
    record["issn"] = normalize_issn(" ".join(filter(None, [text("SN"), text("EI")])))
    record["title"] = text("TI")
    record["journal"] = text("SO")
    record["journal_abbrev"] = text("J9", "JI")
    with cell("AU" if fields.get("AU") else "AF"):
        record["authors"] = _join(normalize_authors(fields.get("AU") or fields.get("AF") or []))
    record["abstract"] = text("AB")
    record["volume"] = text("VL")
    record["issue"] = text("IS")
    record["pages"] = join_pages(text("BP"), text("EP")) or text("AR")
    with cell("PY"):
        record["year"] = parse_year(text("PY"))
    if text("PD") or text("PY"):
        with cell("PD"):
            record["publication_date"] = parse_publication_date(
                " ".join(filter(None, [text("PD"), text("PY")])), year=record["year"]
            )
    with cell("DI"):
        record["doi"] = normalize_doi(text("DI"))
    with cell("PM"):
        record["pmid"] = normalize_pmid(text("PM"))
    record["languages"] = _join(normalize_language(v) for v in (text("LA") or "").split(";"))
    types = [value.strip() for value in (text("DT") or "").split(";") if value.strip()]
    record["publication_types"] = _join(types)
    record["keywords"] = _join(
        value.strip() for tag in ("DE", "ID") for value in (text(tag) or "").split(";")
    )
    record.update(publication_type_flags(types, complete=False))
    record["entry_type"] = _entry_type(_WOS_DOCUMENT_TYPES.get(text("PT") or ""), types)
    return _finish(record)


def read_wos_tagged(path: str | Path, *, encoding: str | None = None) -> pd.DataFrame:
    """Read a Web of Science plain-text (tagged) export into records."""
    return _wos_tagged_table(_read_text(path, encoding), path)


def _wos_tagged_table(text: str, path: str | Path) -> pd.DataFrame:
    scans = _scan_wos(text, path)
    builders = (partial(_wos_record, scan, path) for scan in scans)
    return _records_frame(_each_record(path, builders), path)


# ---------------------------------------------------------------------------------------------
# Ovid tagged display (MEDLINE, Embase, PsycINFO through Ovid: "Export" > "Citation manager"
# fields shown as tags)
# ---------------------------------------------------------------------------------------------

_OVID_RECORD = re.compile(r"^<(\d+)\.?\s*>$")
_OVID_TAG = re.compile(r"^([A-Z][A-Z0-9]{1,3})\s{1,2}-(?: (.*))?$")
_OVID_HINT = (
    "export from Ovid again (Export > Fields: Complete Reference, format: Citation Manager)"
)


def _scan_ovid(text: str, path: str | Path) -> list[_TaggedRecord]:
    """Ovid's tagged records: each opens with ``<N. >``, then ``TG  - value`` lines whose
    further lines are indented. The numbers must run 1, 2, 3...: a gap is a record lost."""
    records: list[_TaggedRecord] = []
    current: _TaggedRecord | None = None
    last_tag: str | None = None
    for number, raw, line in _checked_lines(text, path, _OVID_HINT):
        if not line.strip():
            continue
        opening = _OVID_RECORD.match(line.strip())
        if opening:
            if int(opening.group(1)) != len(records) + (current is not None) + 1:
                raise InputFileError(
                    path, f"Ovid record <{opening.group(1)}> where "
                    f"<{len(records) + (current is not None) + 1}> comes next: a record is "
                    "missing or out of place", row=number, hint=_OVID_HINT,
                )  # fmt: skip
            if current is not None:
                records.append(current)
            current, last_tag = _TaggedRecord(start_line=number), None
            continue
        if current is None:
            raise InputFileError(
                path, f"text before the first record: {line[:60]!r} (records open with <1. >)",
                row=number, hint=_OVID_HINT,
            )  # fmt: skip
        if raw[:1] in (" ", "\t"):
            if last_tag is None:
                raise InputFileError(path, f"an indented line with no field: {line[:60]!r}",
                                     row=number, hint=_OVID_HINT)  # fmt: skip
            values = current.fields[last_tag]
            values[-1] = f"{values[-1]} {line.strip()}"
            continue
        match = _OVID_TAG.match(line)
        if match is None:
            raise InputFileError(
                path, f"not an Ovid field line: {line[:60]!r} (a field line is 'TG  - value')",
                row=number, hint=_OVID_HINT,
            )  # fmt: skip
        tag, value = match.group(1), (match.group(2) or "").strip()
        current.fields.setdefault(tag, []).append(value)
        current.tag_lines.setdefault(tag, number)
        last_tag = tag
    if current is not None:
        records.append(current)
    if not records:
        raise InputFileError(path, "holds no Ovid record (<1. >)", hint=_OVID_HINT)
    return records


def _ovid_record(scan: _TaggedRecord, path: str | Path) -> dict[str, Any]:
    fields, text = scan.fields, scan.text

    def cell(tag: str) -> AbstractContextManager[None]:
        return scan.cell(path, tag)

    database = text("DB")
    record: dict[str, Any] = {"source_line": scan.start_line, "database": database}
    record["title"] = text("TI")
    record["journal"] = text("JN", "JT")
    record["journal_abbrev"] = text("JA", "TA")
    with cell("AU"):
        record["authors"] = _join(normalize_authors(fields.get("AU") or []))
    record["abstract"] = text("AB")
    record["volume"] = text("VO", "VI")
    record["issue"] = text("IP")
    record["pages"] = text("PG")
    year_text = text("YR", "YP", "DP") or text("SO")
    with cell("YR"):
        record["year"] = parse_year(year_text) if year_text else None
    with cell("DO"):
        record["doi"] = normalize_doi(text("DO"))
    if "medline" in (database or "").lower() or fields.get("PM"):
        with cell("UI" if fields.get("UI") else "PM"):
            record["pmid"] = normalize_pmid(text("PM", "UI"))
    record["languages"] = _join(normalize_language(v) for v in fields.get("LG", []))
    types = [value for value in fields.get("PT", [])]
    record["publication_types"] = _join(types)
    record["mesh"] = _join(
        re.sub(r"\s*\[.*?\]$", "", term).split("/")[0].lstrip("*").strip()
        for term in fields.get("MH", [])
    )
    record["keywords"] = _join(fields.get("KW", []))
    record["issn"] = normalize_issn(" ".join(filter(None, [text("IS"), text("ES")])))
    record.update(publication_type_flags(types, complete=False))
    record["entry_type"] = _entry_type(None, types)
    return _finish(record)


def _ovid_tagged_table(text: str, path: str | Path) -> pd.DataFrame:
    scans = _scan_ovid(text, path)
    builders = (partial(_ovid_record, scan, path) for scan in scans)
    return _records_frame(_each_record(path, builders), path)


# ---------------------------------------------------------------------------------------------
# EndNote XML, CSL-JSON (Zotero, Mendeley and citation processors), PubMed XML
# ---------------------------------------------------------------------------------------------

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


def _xml_root(text: str, path: str | Path, what: str) -> Any:
    """A file's XML, refused unread if it declares entities, parsed with defusedxml."""
    from defusedxml import ElementTree as SafeElementTree

    from litreview.xmlsafe import check_no_declarations

    body = _XML_DECLARATION.sub("", text, count=1)  # decoded already: drop its encoding
    check_no_declarations(body.encode("utf-8"), str(path))
    try:
        return SafeElementTree.fromstring(body)
    except SafeElementTree.ParseError as error:
        line = getattr(error, "position", (None,))[0]
        raise InputFileError(
            path, f"not well-formed {what} ({error})", row=line,
            hint=f"export the records again as {what}",
        ) from None  # fmt: skip


def _all_text(element: Any) -> str | None:
    return _clean("".join(element.itertext())) if element is not None else None


def _endnote_xml_table(text: str, path: str | Path) -> pd.DataFrame:
    root = _xml_root(text, path, "EndNote XML")
    if root.tag != "xml" or root.find("records") is None:
        raise InputFileError(
            path, f"an XML file whose root is <{root.tag}>, not EndNote's <xml><records>",
            hint="export from EndNote with File > Export > XML",
        )  # fmt: skip
    elements = list(root.find("records").iter("record"))
    if not elements:
        raise InputFileError(path, "holds no EndNote <record>", hint="export the records again")
    builders = (
        partial(_endnote_record, element, number, path)
        for number, element in enumerate(elements, start=1)
    )
    return _records_frame(_each_record(path, builders), path)


def _endnote_record(element: Any, number: int, path: str | Path) -> dict[str, Any]:
    def text(*paths: str) -> str | None:
        for where in paths:
            found = _all_text(element.find(where))
            if found:
                return found
        return None

    def every(where: str) -> list[str]:
        return [value for value in (_all_text(item) for item in element.iterfind(where)) if value]

    record: dict[str, Any] = {"source_line": number}
    where = f"record {number}"
    database = text("remote-database-name", "remote-database-provider")
    record["database"] = database
    record["title"] = text("titles/title")
    record["journal"] = text("periodical/full-title", "titles/secondary-title")
    record["journal_abbrev"] = text("periodical/abbr-1", "titles/alt-title")
    with _cell(path, number, f"{where} authors"):
        record["authors"] = _join(normalize_authors(every("contributors/authors/author")))
    record["abstract"] = text("abstract")
    record["volume"] = text("volume")
    record["issue"] = text("number", "issue")
    record["pages"] = text("pages")
    with _cell(path, number, f"{where} year"):
        record["year"] = parse_year(text("dates/year"))
    urls = every("urls/related-urls/url") + every("urls/web-urls/url")
    with _cell(path, number, f"{where} electronic-resource-num"):
        doi = text("electronic-resource-num")
        record["doi"] = normalize_doi(doi) if doi and _DOI_IN_TEXT.search(doi) else None
    if record["doi"] is None:
        record["doi"] = next((found for found in map(doi_in, urls) if found), None)
    accession = text("accession-num")
    pubmed = re.search(r"pubmed|medline", database or "", re.IGNORECASE)
    if accession and pubmed:
        with _cell(path, number, f"{where} accession-num"):
            record["pmid"] = normalize_pmid(accession)
    record["issn"] = normalize_issn(text("isbn"))
    record["languages"] = _join(normalize_language(v) for v in every("language"))
    types = every("work-type")
    record["publication_types"] = _join(types)
    record["keywords"] = _join(every("keywords/keyword"))
    ref_type = element.find("ref-type")
    base = ref_type.get("name") if ref_type is not None else None
    record.update(publication_type_flags(types, complete=False))
    record["entry_type"] = _entry_type(base, types)
    return _finish(record)


_CSL_TYPES = {
    "article-journal": "article", "paper-conference": "conference", "book": "book",
    "chapter": "chapter", "thesis": "thesis", "report": "report",
}  # fmt: skip


def _csl_json_table(text: str, path: str | Path) -> pd.DataFrame:
    import json

    try:
        items = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputFileError(
            path, f"not valid JSON ({error.msg})", row=error.lineno,
            hint="export the records again as CSL JSON",
        ) from None  # fmt: skip
    if isinstance(items, dict) and "items" in items:
        items = items["items"]
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise InputFileError(path, "CSL JSON holds a list of items ({...}, {...})",
                             hint="export the records again as CSL JSON")  # fmt: skip
    if not items:
        raise InputFileError(path, "holds no CSL JSON item", hint="export the records again")
    builders = (
        partial(_csl_record, item, number, path) for number, item in enumerate(items, start=1)
    )
    return _records_frame(_each_record(path, builders), path)


def _csl_name(name: Any) -> str | None:
    if not isinstance(name, dict):
        return None
    if name.get("literal"):
        return str(name["literal"])
    family, given = name.get("family"), name.get("given")
    return f"{family}, {given}" if family and given else (family or given)


def _csl_record(item: dict[str, Any], number: int, path: str | Path) -> dict[str, Any]:
    def text(*keys: str) -> str | None:
        for key in keys:
            value = item.get(key)
            if isinstance(value, list):
                value = "; ".join(str(part) for part in value)
            if value not in (None, ""):
                return _clean(str(value))
        return None

    where = f"item {number}"
    record: dict[str, Any] = {"source_line": number, "database": text("source")}
    record["title"] = text("title")
    record["journal"] = text("container-title")
    record["journal_abbrev"] = text("container-title-short", "journalAbbreviation")
    with _cell(path, number, f"{where} author"):
        record["authors"] = _join(
            normalize_authors(filter(None, map(_csl_name, item.get("author") or [])))
        )
    record["abstract"] = text("abstract")
    record["volume"] = text("volume")
    record["issue"] = text("issue")
    record["pages"] = text("page")
    parts = ((item.get("issued") or {}).get("date-parts") or [[None]])[0]
    year = parts[0] if parts else None
    with _cell(path, number, f"{where} issued"):
        record["year"] = (
            parse_year(str(year)) if year else parse_year((item.get("issued") or {}).get("raw"))
        )
    with _cell(path, number, f"{where} DOI"):
        record["doi"] = normalize_doi(text("DOI")) or doi_in(text("URL"))
    with _cell(path, number, f"{where} PMID"):
        record["pmid"] = normalize_pmid(text("PMID"))
    with _cell(path, number, f"{where} PMCID"):
        record["pmcid"] = normalize_pmcid(text("PMCID"))
    record["issn"] = normalize_issn(text("ISSN"))
    record["languages"] = _join(normalize_language(v) for v in [text("language") or ""])
    record["keywords"] = _join((text("keyword") or "").replace(",", ";").split(";"))
    kind = text("type")
    record["publication_types"] = kind
    record.update(publication_type_flags([], complete=False))
    record["entry_type"] = _CSL_TYPES.get(kind or "", "other" if kind else None)
    return _finish(record)


def _pubmed_xml_table(text: str, path: str | Path) -> pd.DataFrame:
    """A PubMed XML export (PubMed's "Save: XML", or efetch's answer) as an other source."""
    from litreview.records import parse_pubmed_xml

    body = '<?xml version="1.0" encoding="UTF-8"?>\n' + _XML_DECLARATION.sub("", text, count=1)
    records = parse_pubmed_xml(body.encode("utf-8"), source=str(path))
    rows = []
    for number, record in enumerate(records, start=1):
        rows.append(_finish({**record, "source_line": number, "database": "PubMed",
                             "entry_type": "article"}))  # fmt: skip
    if not rows:
        raise InputFileError(path, "holds no PubmedArticle", hint="export the records again")
    return _records_frame(rows, path)


# ---------------------------------------------------------------------------------------------
# Delimited exports (CSV / TSV)
# ---------------------------------------------------------------------------------------------

#: Record fields a column can be mapped to: record columns, the entry type, and the parts
#: some exports split pages into. The flags are derived from publication_types, not mapped.
MAPPABLE_FIELDS: tuple[str, ...] = (
    *(c for c in RECORD_COLUMNS if c not in FLAG_COLUMNS),
    "entry_type",
    "page_start",
    "page_end",
    "article_number",
    "issn",
    "database",
    "extra",
)


@dataclass(frozen=True)
class DelimitedLayout:
    """How one database lays out its CSV/TSV export.

    ``columns`` maps a record field to the file columns that may hold it, most preferred
    first (list fields such as keywords take every one present). ``key_column`` must be in
    a file read with this layout. ``list_separator`` splits multi-valued cells,
    ``author_separator`` the author cell (None: see :func:`split_author_list`).
    """

    name: str
    columns: Mapping[str, tuple[str, ...]]
    key_column: str | None = None
    list_separator: str = ";"
    author_separator: str | None = None
    group_author_columns: tuple[str, ...] = ()
    quote_fields: bool = True
    missing_markers: tuple[str, ...] = ()


SCOPUS_LAYOUT = DelimitedLayout(
    name="scopus",
    columns={
        "authors": ("Authors",),
        "title": ("Title",),
        "year": ("Year",),
        "journal": ("Source title",),
        "journal_abbrev": ("Abbreviated Source Title",),
        "volume": ("Volume",),
        "issue": ("Issue",),
        "article_number": ("Art. No.",),
        "page_start": ("Page start",),
        "page_end": ("Page end",),
        "doi": ("DOI",),
        "issn": ("ISSN",),
        "pmid": ("PubMed ID",),
        "abstract": ("Abstract",),
        "keywords": ("Author Keywords", "Index Keywords"),
        "languages": ("Language of Original Document",),
        "publication_types": ("Document Type",),
    },
    key_column="Title",
    missing_markers=("[No abstract available]", "[No title available]"),
)

WOS_LAYOUT = DelimitedLayout(
    name="wos",
    columns={
        "authors": ("AU", "AF"),
        "title": ("TI",),
        "journal": ("SO",),
        "journal_abbrev": ("JI", "J9"),
        "year": ("PY",),
        "publication_date": ("PD",),
        "volume": ("VL",),
        "issue": ("IS",),
        "page_start": ("BP",),
        "page_end": ("EP",),
        "article_number": ("AR",),
        "doi": ("DI",),
        "issn": ("SN", "EI"),
        "pmid": ("PM",),
        "abstract": ("AB",),
        "keywords": ("DE", "ID"),
        "languages": ("LA",),
        "publication_types": ("DT",),
        "entry_type": ("PT",),
    },
    key_column="TI",
    author_separator=";",
    group_author_columns=("CA",),
    quote_fields=False,
)

EMBASE_LAYOUT = DelimitedLayout(
    name="embase",
    columns={
        "title": ("Title",),
        "authors": ("Author Names",),
        "journal": ("Source title",),
        "year": ("Publication Year",),
        "publication_date": ("Date of Publication",),
        "volume": ("Volume",),
        "issue": ("Issue",),
        "page_start": ("First Page",),
        "page_end": ("Last Page",),
        "publication_types": ("Publication Type",),
        "abstract": ("Abstract",),
        "keywords": ("Author Keywords",),
        "languages": ("Article Language",),
        "pmid": ("Medline PMID",),
        "doi": ("DOI",),
        "issn": ("ISSN",),
    },
    key_column="Title",
    list_separator=",",
    author_separator=",",
)

GENERIC_LAYOUT = DelimitedLayout(
    name="csv",
    columns={
        "title": ("title", "article title", "document title", "primary title", "ti"),
        "authors": ("authors", "author", "author names", "author(s)", "au"),
        "first_author": ("first author",),
        "year": ("year", "publication year", "pubyear", "year published", "py"),
        "publication_date": ("publication date", "date of publication", "date"),
        "journal": (
            "journal",
            "source title",
            "journal title",
            "publication title",
            "publication name",
            "secondary title",
            "jt",
            "so",
        ),
        "journal_abbrev": (
            "journal/book",
            "journal abbreviation",
            "abbreviated source title",
            "journal abbrev",
            "ta",
            "ji",
            "j9",
        ),
        "volume": ("volume", "vol", "vl"),
        "issue": ("issue", "number", "ip", "is"),
        "pages": ("pages", "page", "pagination", "page range", "pg"),
        "page_start": ("page start", "start page", "first page", "bp", "sp"),
        "page_end": ("page end", "end page", "last page", "ep"),
        "article_number": ("art. no.", "article number", "article no", "ar"),
        "doi": ("doi", "di", "do"),
        "issn": ("issn", "sn", "issn/isbn"),
        "extra": ("extra",),
        "database": ("database", "source database", "db", "library catalog"),
        "pmid": ("pmid", "pubmed id", "pubmed", "medline pmid", "pm"),
        "pmcid": ("pmcid", "pmc", "pmc id"),
        "abstract": ("abstract", "abstract note", "ab"),
        "keywords": ("keywords", "author keywords", "index keywords", "manual tags", "kw", "de"),
        "languages": ("language", "languages", "language of original document", "la"),
        "publication_types": ("publication type", "publication types", "document type", "pt", "dt"),
        "entry_type": ("entrytype", "entry type", "item type", "type of reference", "ty"),
        "mesh": ("mesh", "mesh terms", "mh"),
    },
    # How R (write.csv), pandas and databases write an empty cell.
    missing_markers=("NA", "N/A", "NaN", "NULL"),
)

LAYOUTS: dict[str, DelimitedLayout] = {
    layout.name: layout for layout in (SCOPUS_LAYOUT, WOS_LAYOUT, EMBASE_LAYOUT, GENERIC_LAYOUT)
}
_COLUMNS_HINT = "name the right columns in the mapping ({record_column: file_column})"


def _detect_layout(header: Sequence[str]) -> DelimitedLayout:
    """Recognise an export by the columns only it has."""
    names = {name.strip().lower() for name in header}
    tags = {name.strip() for name in header if name.strip()}
    if "embase accession id" in names or {"author names", "source title"} <= names:
        return EMBASE_LAYOUT
    if "eid" in names and {"title", "source title"} <= names:
        return SCOPUS_LAYOUT
    if {"PT", "TI"} <= tags and all(re.fullmatch(r"[A-Z][A-Z0-9]", tag) for tag in tags):
        return WOS_LAYOUT
    return GENERIC_LAYOUT


def _choose_delimiter(header_line: str, path: str | Path) -> str:
    if "\t" in header_line or Path(path).suffix.lower() == ".tsv":
        return "\t"
    counts = {delimiter: header_line.count(delimiter) for delimiter in (",", ";")}
    return max(counts, key=lambda delimiter: counts[delimiter]) if any(counts.values()) else ","


def read_delimited(
    path: str | Path,
    layout: str | None = None,
    *,
    mapping: Mapping[str, str] | None = None,
    encoding: str | None = None,
) -> pd.DataFrame:
    """Read a CSV/TSV export by column mapping.

    ``layout`` is "scopus", "wos", "embase" or "csv" (generic); None recognises it from the
    header. ``mapping`` ({record_column: file_column}, e.g. from config) overrides the
    layout's columns; every column it names must exist in the file.
    """
    text = _read_text(path, encoding)
    return _delimited_table(text, path, layout, mapping)


def _delimited_table(
    text: str, path: str | Path, layout_name: str | None, mapping: Mapping[str, str] | None
) -> pd.DataFrame:
    lines = _split_lines(text)
    first = next((line for line in lines if line.strip()), None)
    if first is None:
        raise InputFileError(path, "is empty", hint="export the records again")
    delimiter = _choose_delimiter(first, path)
    header_probe = next(csv.reader([first], delimiter=delimiter))
    if layout_name is None:
        layout = _detect_layout(header_probe)
    elif layout_name in LAYOUTS:
        layout = LAYOUTS[layout_name]
    else:
        raise InputFileError(
            path, f"unknown layout {layout_name!r}", hint=f"use one of {sorted(LAYOUTS)}"
        )
    reader = csv.reader(
        io.StringIO(text, newline=""),
        delimiter=delimiter,
        quoting=csv.QUOTE_MINIMAL if layout.quote_fields else csv.QUOTE_NONE,
    )
    header: list[str] | None = None
    header_line = 0
    rows: list[tuple[int, list[str]]] = []
    previous = 0
    try:
        for row in reader:
            start = previous + 1
            previous = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header = [cell.strip().removeprefix("\ufeff") for cell in row]
                header_line = start
                continue
            rows.append((start, row))
    except csv.Error as err:
        raise InputFileError(
            path,
            f"is not a well-formed delimited file: {err}",
            row=previous + 1,
            hint="check the quoting of that line, or export the records again",
        ) from err
    if header is None:
        raise InputFileError(path, "is empty", hint="export the records again")
    columns = _resolve_columns(header, layout, mapping, path, header_line)
    fitted = [(start, _fit_row(row, header, path, start)) for start, row in rows]
    records = _each_record(
        path,
        (
            partial(_delimited_record, cells, header, columns, layout, path, start)
            for start, cells in fitted
        ),
    )
    return _records_frame(records, path)


def _resolve_columns(
    header: Sequence[str],
    layout: DelimitedLayout,
    mapping: Mapping[str, str] | None,
    path: str | Path,
    header_line: int,
) -> dict[str, list[int]]:
    """Field -> indexes of the file columns holding it (layout, then the user's mapping)."""
    index: dict[str, int] = {}
    for position, name in enumerate(header):
        index.setdefault(name.lower(), position)
    resolved: dict[str, list[int]] = {}
    for target, candidates in layout.columns.items():
        present = [index[name.lower()] for name in candidates if name.lower() in index]
        if present:
            resolved[target] = present
    if layout.key_column is not None and layout.key_column.lower() not in index:
        raise InputFileError(
            path,
            f"has no {layout.key_column!r} column, which a {layout.name} export has",
            row=header_line,
            column=layout.key_column,
            hint=f"check the export format, or read it as 'csv' with a mapping; "
            f"its columns are {list(header)}",
        )
    for target, file_column in (mapping or {}).items():
        if target not in MAPPABLE_FIELDS:
            raise InputFileError(
                path,
                f"the mapping names {target!r}, which is not a record column",
                column=str(file_column),
                hint=f"map to one of {list(MAPPABLE_FIELDS)}",
            )
        if not isinstance(file_column, str) or file_column.lower() not in index:
            raise InputFileError(
                path,
                f"the mapping takes {target!r} from column {file_column!r}, which the file "
                f"does not have",
                row=header_line,
                column=str(file_column),
                hint=f"{_COLUMNS_HINT}; the file's columns are {list(header)}",
            )
        resolved[target] = [index[file_column.lower()]]
    if not {"title", "doi", "pmid"} & resolved.keys():
        raise InputFileError(
            path,
            "has no recognisable columns (no title, DOI or PMID column found)",
            row=header_line,
            hint=f"{_COLUMNS_HINT}, or pass the export's format; its columns are {list(header)}",
        )
    return resolved


def _fit_row(row: list[str], header: Sequence[str], path: str | Path, line: int) -> list[str]:
    cells = list(row)
    while len(cells) > len(header) and not cells[-1].strip():
        cells.pop()
    if len(cells) != len(header):
        raise InputFileError(
            path,
            f"has {len(cells)} fields where the header has {len(header)}",
            row=line,
            hint="a field may hold an unquoted delimiter or line break: export the records "
            "again or quote that field",
        )
    return cells


def _delimited_record(
    cells: Sequence[str],
    header: Sequence[str],
    columns: Mapping[str, list[int]],
    layout: DelimitedLayout,
    path: str | Path,
    line: int,
) -> dict[str, Any]:
    def raw(target: str) -> list[tuple[str, str]]:
        found = []
        for position in columns.get(target, []):
            value = cells[position].strip()
            if value and value not in layout.missing_markers:
                found.append((header[position], value))
        return found

    def first(target: str) -> tuple[str, str | None]:
        found = raw(target)
        if not found:
            names = columns.get(target)
            return (header[names[0]] if names else target), None
        return found[0]

    def listed(target: str) -> list[str]:
        values: list[str] = []
        for _, value in raw(target):
            values += [part.strip() for part in value.split(layout.list_separator)]
        return [value for value in values if value]

    record: dict[str, Any] = {"source_line": line}
    for target in ("title", "abstract", "journal", "journal_abbrev", "volume", "issue"):
        record[target] = _clean(first(target)[1])

    column, value = first("authors")
    with _cell(path, line, column):
        if value is not None and layout.author_separator:
            names = [part.strip() for part in value.split(layout.author_separator)]
        else:
            names = split_author_list(value)
        authors = normalize_authors(names)
    for name in layout.group_author_columns:
        position = next((i for i, h in enumerate(header) if h == name), None)
        if position is not None and cells[position].strip():
            authors += [part.strip() for part in cells[position].split(";") if part.strip()]
    record["authors"] = _join(authors)
    column, value = first("first_author")
    if value is not None:
        with _cell(path, line, column):
            record["first_author"] = author_surname(normalize_author(value))

    record["pages"] = (
        _clean(first("pages")[1])
        or join_pages(first("page_start")[1], first("page_end")[1])
        or _clean(first("article_number")[1])
    )

    column, value = first("year")
    with _cell(path, line, column):
        record["year"] = parse_year(value)
    column, value = first("publication_date")
    with _cell(path, line, column):
        record["publication_date"] = (
            parse_publication_date(value, year=record["year"])
            if value is not None
            else (str(record["year"]) if record["year"] is not None else None)
        )
    for target, normaliser in (
        ("doi", normalize_doi),
        ("pmid", normalize_pmid),
        ("pmcid", normalize_pmcid),
    ):
        column, value = first(target)
        with _cell(path, line, column):
            record[target] = normaliser(value)
    extra = first("extra")[1] or ""  # Zotero keeps PubMed's IDs there: "PMID: 123 PMCID: PMC4"
    for target, pattern, normaliser in (
        ("pmid", r"\bPMID:\s*(\d+)", normalize_pmid),
        ("pmcid", r"\bPMCID:\s*(PMC\d+)", normalize_pmcid),
    ):
        found = re.search(pattern, extra)
        if record[target] is None and found:
            record[target] = normaliser(found.group(1))
    column, value = first("entrez_date")
    if value is not None:
        with _cell(path, line, column):
            record["entrez_date"] = parse_publication_date(value)

    types = listed("publication_types")
    record["publication_types"] = _join(types)
    record["keywords"] = _join(listed("keywords"))
    record["mesh"] = _join(listed("mesh"))
    record["languages"] = _join(normalize_language(value) for value in listed("languages"))
    base = first("entry_type")[1]
    if layout is WOS_LAYOUT and base is not None:
        base = {"J": "article", "B": "book", "S": "book", "P": "other"}.get(base.upper(), base)
    record["entry_type"] = _entry_type(base, types)
    record["issn"] = normalize_issn(" ".join(value for _, value in raw("issn")))
    record["database"] = _clean(first("database")[1]) or _LAYOUT_DATABASES.get(layout.name)
    record.update(publication_type_flags(types, complete=False))
    return _finish(record)


_LAYOUT_DATABASES = {"scopus": "Scopus", "wos": "Web of Science", "embase": "Embase"}


# ---------------------------------------------------------------------------------------------
# One entry point
# ---------------------------------------------------------------------------------------------


def _detect_format(path: str | Path, text: str) -> str:
    suffix = Path(path).suffix.lower()
    first = next(
        (
            line.strip()
            for line in _split_lines(text)
            if line.strip() and not _RIS_PREAMBLE.match(line)
        ),
        "",
    )
    head = text.lstrip("\ufeff \t\r\n")[:2000]
    if head.startswith("<"):
        if re.search(r"<PubmedArticleSet[\s>]", head):
            return "pubmed_xml"
        if re.search(r"<xml>\s*<records>", head):
            return "endnote_xml"
    if head.startswith(("[", "{")) and re.search(r'"(?:title|type|container-title)"\s*:', head):
        return "csl_json"
    if suffix == ".ris":
        return "ris"
    if suffix in {".nbib", ".medline"}:
        return "nbib"
    if suffix in {".csv", ".tsv"}:
        return "csv"
    if re.match(r"^TY {1,2}- ", first):
        return "ris"
    if first.startswith("PMID-"):
        return "nbib"
    if re.match(r"^FN (?:Clarivate|Thomson Reuters)|^FN .*Web of Science", first):
        return "wos_tagged"
    if _OVID_RECORD.match(first):
        return "ovid_tagged"
    if suffix in {".txt", ".tab", ""} and ("\t" in first or "," in first or ";" in first):
        return "csv"
    raise InputFileError(
        path,
        "is in a format that could not be recognised",
        row=1,
        hint=f"pass format= one of {list(FORMATS)}",
    )


def detect_format(path: str | Path, *, encoding: str | None = None) -> str:
    """The format :func:`read_bibliographic_file` reads ``path`` as, from its extension and
    content (reported by identification beside each file)."""
    return _detect_format(path, _read_text(path, encoding))


def read_bibliographic_file(
    path: str | Path,
    format: str | None = None,
    *,
    mapping: Mapping[str, str] | None = None,
    encoding: str | None = None,
) -> pd.DataFrame:
    """Read one export or reference list into the record table (see the module docstring).

    ``format`` is one of :data:`FORMATS`; None picks it from the extension and content
    (``.ris``; ``.nbib`` or text starting ``PMID- ``; ``.csv``/``.tsv``/``.txt`` tables,
    whose layout is recognised from the header). ``mapping`` applies to delimited files only.
    """
    text = _read_text(path, encoding)
    chosen = _detect_format(path, text) if format is None else format.lower()
    if chosen not in FORMATS:
        raise InputFileError(path, f"unknown format {format!r}", hint=f"use one of {list(FORMATS)}")
    if mapping and chosen not in {"csv", "tsv", "embase", "wos", "scopus"}:
        raise InputFileError(
            path,
            f"a column mapping was given for a {chosen} file",
            hint="column mappings apply to CSV/TSV exports only; remove it for this file",
        )
    table = _table_of(chosen, text, path, mapping)
    table.attrs["format"] = chosen  # what was read, given or detected (identification reports it)
    return table


def _table_of(
    chosen: str, text: str, path: str | Path, mapping: Mapping[str, str] | None
) -> pd.DataFrame:
    if chosen == "ris":
        return _ris_table(text, path)
    if chosen in {"nbib", "medline"}:
        return _medline_table(text, path)
    if chosen == "wos_tagged":
        return _wos_tagged_table(text, path)
    if chosen == "ovid_tagged":
        return _ovid_tagged_table(text, path)
    if chosen == "endnote_xml":
        return _endnote_xml_table(text, path)
    if chosen == "csl_json":
        return _csl_json_table(text, path)
    if chosen == "pubmed_xml":
        return _pubmed_xml_table(text, path)
    layout = None if chosen in {"csv", "tsv"} else chosen
    return _delimited_table(text, path, layout, mapping)
