"""Identification: the database search's records plus records found by other methods.

PRISMA 2020 counts the two apart, so every record carries where it came from. Other-source
records are listed in a sheet (`config/other_sources.tsv`): one row per record found by PMID,
DOI or bibliographic fields, or one row per bibliographic file (RIS, nbib, CSV export) whose
records all share the row's method. PMIDs and DOIs are resolved against the PubMed records at
hand (the search snapshot, and in live mode records fetched for them): a resolved record takes
the PubMed fields; an unresolved one keeps the fields the sheet gives and is reported.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from litreview.errors import InputFileError
from litreview.ids import doi_in
from litreview.io import table_records
from litreview.records import RECORD_COLUMNS
from litreview.sheets import ROW_COLUMN, check_columns, read_sheet

# PRISMA 2020 boxes a record can come from. "database" and "register" are other databases
# (exports); the rest are the "other methods" column.
METHODS = ("database", "register", "citation_searching", "websites", "organisations", "other")
OTHER_METHODS = ("citation_searching", "websites", "organisations", "other")

SHEET_COLUMNS = (
    "source_id",
    "method",
    "found_via",
    "pmid",
    "doi",
    "pmcid",
    "registry_id",
    "file",
    "format",
    "title",
    "authors",
    "year",
    "journal",
    "volume",
    "issue",
    "pages",
    "publication_types",
    "note",
)
REQUIRED_COLUMNS = ("source_id", "method", "found_via")
_BIBLIOGRAPHIC = ("title", "authors", "year", "journal", "volume", "issue", "pages")
_COPIED = ("pmid", "pmcid", "title", "journal", "volume", "issue", "pages", "publication_types")

FILE_COLUMNS = ("source_id", "file", "format", "format_given", "records")
IDENTIFIED_COLUMNS = (
    "record_id",
    "source_type",
    "method",
    "found_via",
    "source_id",
    "resolved_by",
    "entry_type",
    "registry_id",
    "note",
    *RECORD_COLUMNS,
    "issn",
    "database",
)

_PMID = re.compile(r"^\d{1,9}$")
_DOI = re.compile(r"^10\.\d{4,9}/\S+$")


# A sheet's DOI as every stage compares it (litreview.ids); None when missing or holding none.
normalise_doi = doi_in


def read_other_sources(path: str | Path) -> pd.DataFrame:
    """Read and validate the other-sources sheet. Errors name file, row and column."""
    path = Path(path)
    sheet = read_sheet(path)
    check_columns(path, sheet, required=REQUIRED_COLUMNS, allowed=SHEET_COLUMNS)
    rows = sheet[ROW_COLUMN].tolist()
    for column in SHEET_COLUMNS:
        if column not in sheet.columns:
            sheet[column] = pd.Series(pd.NA, index=sheet.index, dtype="string")
    sheet = sheet[list(SHEET_COLUMNS)]
    seen: dict[str, int] = {}
    for line, (_, row) in zip(rows, sheet.iterrows(), strict=True):
        for column in REQUIRED_COLUMNS:
            if pd.isna(row[column]):
                raise InputFileError(path, "empty required value", row=line, column=column)
        source_id = row["source_id"]
        if source_id in seen:
            raise InputFileError(
                path,
                f"source_id {source_id!r} already used on row {seen[source_id]}",
                row=line,
                column="source_id",
                hint="every row needs its own source_id",
            )
        seen[source_id] = line
        if row["method"] not in METHODS:
            raise InputFileError(
                path,
                f"unknown method {row['method']!r}",
                row=line,
                column="method",
                hint=f"use one of {', '.join(METHODS)}",
            )
        if not pd.isna(row["pmid"]) and not _PMID.match(row["pmid"]):
            raise InputFileError(
                path, f"{row['pmid']!r} is not a PMID (digits only)", row=line, column="pmid"
            )
        if not pd.isna(row["doi"]) and not _DOI.match(normalise_doi(row["doi"]) or ""):
            raise InputFileError(
                path, f"{row['doi']!r} is not a DOI (10.xxxx/...)", row=line, column="doi"
            )
        if not pd.isna(row["year"]) and not re.fullmatch(r"\d{4}", row["year"]):
            raise InputFileError(
                path, f"{row['year']!r} is not a four-digit year", row=line, column="year"
            )
        identifiers = ("pmid", "doi", "pmcid", "registry_id", "file")
        if all(pd.isna(row[column]) for column in (*identifiers, "title", "note")):
            given = [column for column in _BIBLIOGRAPHIC if not pd.isna(row[column])]
            raise InputFileError(
                path,
                "the row names no record"
                + (f" (it gives only {', '.join(given)})" if given else ""),
                row=line,
                hint="give a pmid, doi, pmcid, registry_id or file, or the title, or at least a "
                "note describing the record (what was seen, where): without one, deduplication "
                "and screening have nothing to go on",
            )
        if not pd.isna(row["file"]):
            _check_inside(path, line, row["file"])
        if not pd.isna(row["file"]) and not (path.parent / row["file"]).exists():
            raise InputFileError(
                path,
                f"bibliographic file {row['file']!r} not found next to the sheet",
                row=line,
                column="file",
            )
    return sheet.reset_index(drop=True)


def _check_inside(sheet: Path, line: int, name: str) -> None:
    """A bibliographic file must lie in the review's folder (the sheet's folder or below it, or
    the working directory's): an absolute path or one climbing out ("../../etc/passwd") is
    refused before anything is read."""
    target = (sheet.parent / name).resolve()
    roots = {sheet.parent.resolve(), Path.cwd().resolve()}
    if Path(name).is_absolute() or not any(target.is_relative_to(root) for root in roots):
        raise InputFileError(
            sheet,
            f"bibliographic file {name!r} lies outside the review folder",
            row=line,
            column="file",
            hint="put the export in the review folder (e.g. next to the sheet) and give its "
            "relative path",
        )


def requested_pmids(sheet: pd.DataFrame) -> list[str]:
    return sorted(set(sheet["pmid"].dropna()), key=int)


def requested_dois(sheet: pd.DataFrame) -> list[str]:
    return sorted({normalise_doi(doi) for doi in sheet["doi"].dropna()} - {None})


@dataclass(frozen=True)
class Identification:
    """Every identified record, and the other-source rows that could not be resolved."""

    identified: pd.DataFrame
    unresolved: pd.DataFrame
    files: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(FILE_COLUMNS), dtype="string")
    )
    """One row per bibliographic file the sheet names: its format (given or detected) and
    how many records it gave."""


def _empty_record() -> dict[str, object]:
    return dict.fromkeys(RECORD_COLUMNS, pd.NA)


def _sheet_record(row: Mapping[str, object]) -> dict[str, object]:
    """A record built from the sheet's own bibliographic fields (nothing added)."""
    record = _empty_record()
    for column in _COPIED:
        record[column] = row[column]
    record["doi"] = normalise_doi(row["doi"]) or pd.NA
    record["year"] = pd.NA if pd.isna(row["year"]) else int(row["year"])
    authors = row["authors"]
    if not pd.isna(authors):
        record["authors"] = authors
        record["first_author"] = str(authors).split(";")[0].strip().split(" ")[0] or pd.NA
    return record


def identify(
    search_records: pd.DataFrame,
    other_sources: pd.DataFrame | None,
    *,
    sheet_path: str | Path | None = None,
    resolver_records: pd.DataFrame | None = None,
    read_file=None,
) -> Identification:
    """Build the identification table.

    `search_records` are the database search's PubMed records; `resolver_records` are PubMed
    records available to resolve other-source PMIDs/DOIs (the search's, plus any fetched for the
    sheet in live mode). `read_file(path, format)` imports a bibliographic file (injected so this
    function stays testable without files).
    """
    rows: list[dict[str, object]] = []
    for record in table_records(search_records):
        rows.append(
            {
                "record_id": f"pubmed:{record['pmid']}",
                "source_type": "database",
                "method": "database",
                "found_via": "PubMed search",
                "source_id": pd.NA,
                "resolved_by": pd.NA,
                "entry_type": pd.NA,
                "registry_id": pd.NA,
                "note": pd.NA,
                **record,
                "issn": pd.NA,
                "database": "PubMed",
            }
        )
    unresolved: list[dict[str, object]] = []
    files: list[dict[str, object]] = []
    if other_sources is not None and len(other_sources):
        pool = search_records if resolver_records is None else resolver_records
        by_pmid = {str(r["pmid"]): r for r in table_records(pool)}
        by_doi = {normalise_doi(r["doi"]): r for r in table_records(pool) if not pd.isna(r["doi"])}
        base = Path(sheet_path).parent if sheet_path is not None else Path(".")
        for row in table_records(other_sources):
            common = {
                "source_type": "database" if row["method"] in ("database", "register") else "other",
                "method": row["method"],
                "found_via": row["found_via"],
                "source_id": row["source_id"],
            }
            if not pd.isna(row["file"]):
                if read_file is None:
                    raise InputFileError(base / row["file"], "no importer available")
                imported = read_file(base / row["file"], row["format"])
                files.append(
                    {
                        "source_id": row["source_id"],
                        "file": row["file"],
                        "format": imported.attrs.get("format", row["format"]),
                        "format_given": not pd.isna(row["format"]),
                        "records": len(imported),
                    }
                )
                for number, record in enumerate(table_records(imported), 1):
                    rows.append(
                        {
                            **common,
                            "record_id": f"{row['source_id']}:{number}",
                            "resolved_by": pd.NA,
                            "entry_type": record.get("entry_type", pd.NA),
                            "registry_id": pd.NA,
                            "note": row["note"],
                            **{column: record.get(column, pd.NA) for column in RECORD_COLUMNS},
                            "issn": record.get("issn", pd.NA),
                            "database": record.get("database", pd.NA),
                        }
                    )
                continue
            resolved, how = None, None
            if not pd.isna(row["pmid"]) and row["pmid"] in by_pmid:
                resolved, how = by_pmid[row["pmid"]], "pmid"
            elif not pd.isna(row["doi"]) and normalise_doi(row["doi"]) in by_doi:
                resolved, how = by_doi[normalise_doi(row["doi"])], "doi"
            record = dict(resolved) if resolved is not None else _sheet_record(row)
            if resolved is None and (not pd.isna(row["pmid"]) or not pd.isna(row["doi"])):
                unresolved.append(
                    {
                        "source_id": row["source_id"],
                        "pmid": row["pmid"],
                        "doi": row["doi"],
                        "problem": "not found among the PubMed records of this run",
                        "kept_as": "sheet fields"
                        if any(not pd.isna(row[c]) for c in _BIBLIOGRAPHIC)
                        else "identifiers only",
                    }
                )
            rows.append(
                {
                    **common,
                    "record_id": f"other:{row['source_id']}",
                    "resolved_by": how or pd.NA,
                    "entry_type": pd.NA,
                    "registry_id": row["registry_id"],
                    "note": row["note"],
                    **{column: record.get(column, pd.NA) for column in RECORD_COLUMNS},
                }
            )
    identified = pd.DataFrame.from_records(rows, columns=list(IDENTIFIED_COLUMNS))
    identified["year"] = pd.to_numeric(identified["year"]).astype("Int64")
    unresolved_table = pd.DataFrame.from_records(
        unresolved, columns=["source_id", "pmid", "doi", "problem", "kept_as"]
    )
    files_table = pd.DataFrame.from_records(files, columns=list(FILE_COLUMNS))
    return Identification(identified=identified, unresolved=unresolved_table, files=files_table)
