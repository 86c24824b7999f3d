"""Exports of record sets (the included studies, the queue, the deduplicated set) as RIS
(rispy) and BibTeX (bibtexparser), importable into Zotero, EndNote and Rayyan, and as CSV and
XLSX for spreadsheets. Spreadsheet cells that would start a formula (= + - @) are written as
text: a title such as "=cmd|..." stays a title.

Each record keeps its identifiers so a reference manager can match it back: the record id (RIS
ID, BibTeX key), PMID (RIS AN, BibTeX `pmid`), DOI, PMCID.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from litreview.io import table_records, write_table, write_text

__all__ = [
    "EXPORT_COLUMNS",
    "read_bibtex",
    "read_ris",
    "to_bibtex",
    "to_ris",
    "write_exports",
]

EXPORT_COLUMNS = (
    "record_id",
    "pmid",
    "doi",
    "pmcid",
    "title",
    "authors",
    "year",
    "journal",
    "volume",
    "issue",
    "pages",
    "abstract",
    "keywords",
    "publication_types",
)


def _text(value: object) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    text = str(value).strip()
    return text or None


def _split(value: object) -> list[str]:
    text = _text(value)
    return [] if text is None else [part.strip() for part in text.split(";") if part.strip()]


def _records(table: pd.DataFrame) -> list[dict[str, str | None]]:
    columns = [column for column in EXPORT_COLUMNS if column in table.columns]
    return [{column: _text(row.get(column)) for column in columns} for row in table_records(table)]


# --- RIS -----------------------------------------------------------------------------------


def _ris_writer() -> type:
    """rispy's RIS writer without its "1." counter lines, which RIS does not define."""
    from rispy.writer import RisWriter

    class PlainRisWriter(RisWriter):
        def set_header(self, count: int) -> str:
            return ""

    return PlainRisWriter


def to_ris(table: pd.DataFrame) -> str:
    """RIS text, one reference per record (TY JOUR)."""
    import rispy

    references = []
    for record in _records(table):
        reference: dict[str, Any] = {"type_of_reference": "JOUR", "id": record["record_id"]}
        optional = {
            "title": record.get("title"),
            "year": record.get("year"),
            "journal_name": record.get("journal"),
            "volume": record.get("volume"),
            "number": record.get("issue"),
            "doi": record.get("doi"),
            "abstract": record.get("abstract"),
            "accession_number": record.get("pmid"),
        }
        reference |= {key: value for key, value in optional.items() if value}
        if record.get("authors"):
            reference["authors"] = _split(record["authors"])
        if record.get("keywords"):
            reference["keywords"] = _split(record["keywords"])
        pages = record.get("pages")
        if pages:
            start, _, end = pages.partition("-")
            reference["start_page"] = start
            if end:
                reference["end_page"] = end
        notes = [f"PMCID: {record['pmcid']}"] if record.get("pmcid") else []
        if record.get("publication_types"):
            notes.append(f"Publication types: {record['publication_types']}")
        if notes:
            reference["notes"] = notes
        references.append(reference)
    text = rispy.dumps(references, implementation=_ris_writer())
    return "\n".join(line for line in text.split("\n") if line != "") + "\n"


def read_ris(text: str) -> pd.DataFrame:
    """The records of an RIS export written by `to_ris`, as EXPORT_COLUMNS (round trip)."""
    import rispy

    rows = []
    for reference in rispy.loads(text):
        notes = reference.get("notes") or []
        pmcid = next((n.removeprefix("PMCID: ") for n in notes if n.startswith("PMCID: ")), None)
        types = next(
            (
                n.removeprefix("Publication types: ")
                for n in notes
                if n.startswith("Publication types: ")
            ),
            None,
        )
        start, end = reference.get("start_page"), reference.get("end_page")
        rows.append(
            {
                "record_id": reference.get("id"),
                "pmid": reference.get("accession_number"),
                "doi": reference.get("doi"),
                "pmcid": pmcid,
                "title": reference.get("title"),
                "authors": "; ".join(reference.get("authors") or []) or None,
                "year": reference.get("year"),
                "journal": reference.get("journal_name"),
                "volume": reference.get("volume"),
                "issue": reference.get("number"),
                "pages": None if not start else (f"{start}-{end}" if end else start),
                "abstract": reference.get("abstract"),
                "keywords": "; ".join(reference.get("keywords") or []) or None,
                "publication_types": types,
            }
        )
    return pd.DataFrame(rows, columns=list(EXPORT_COLUMNS))


# --- BibTeX --------------------------------------------------------------------------------

_BIBTEX_FIELDS = {
    "title": "title",
    "year": "year",
    "journal": "journal",
    "volume": "volume",
    "issue": "number",
    "pages": "pages",
    "doi": "doi",
    "pmid": "pmid",
    "pmcid": "pmcid",
    "abstract": "abstract",
    "keywords": "keywords",
    "publication_types": "note",
}


def _bibtex_key(record_id: str, used: set[str]) -> str:
    key = re.sub(r"[^A-Za-z0-9_-]+", "_", record_id).strip("_") or "record"
    candidate, number = key, 1
    while candidate in used:
        number += 1
        candidate = f"{key}_{number}"
    used.add(candidate)
    return candidate


def _braced(text: str) -> str:
    """Text safe inside BibTeX braces: unbalanced braces and backslashes neutralised."""
    return text.replace("\\", "\\textbackslash{}").replace("{", "(").replace("}", ")")


def to_bibtex(table: pd.DataFrame) -> str:
    """BibTeX text, one @article per record; the key comes from the record id."""
    import bibtexparser
    from bibtexparser import middlewares, model

    library = bibtexparser.Library()
    used: set[str] = set()
    for record in _records(table):
        fields = [model.Field("litreview_id", _braced(record["record_id"] or ""))]
        if record.get("authors"):
            fields.append(model.Field("author", _braced(" and ".join(_split(record["authors"])))))
        for column, name in _BIBTEX_FIELDS.items():
            if record.get(column):
                fields.append(model.Field(name, _braced(record[column])))
        library.add(model.Entry("article", _bibtex_key(record["record_id"] or "", used), fields))
    # the library is built here for this one write: its blocks need no defensive deep copy
    in_place = middlewares.default_unparse_stack(allow_inplace_modification=True)
    return bibtexparser.write_string(library, unparse_stack=in_place)


def read_bibtex(text: str) -> pd.DataFrame:
    """The records of a BibTeX export written by `to_bibtex`, as EXPORT_COLUMNS."""
    import bibtexparser

    rows = []
    for entry in bibtexparser.parse_string(text).entries:
        fields = {name: value.value for name, value in entry.fields_dict.items()}
        row = {"record_id": fields.get("litreview_id")}
        row["authors"] = (
            "; ".join(a.strip() for a in fields["author"].split(" and "))
            if "author" in fields
            else None
        )
        for column, name in _BIBTEX_FIELDS.items():
            row[column] = fields.get(name)
        rows.append(row)
    return pd.DataFrame(rows, columns=list(EXPORT_COLUMNS))


def write_exports(
    sets: Mapping[str, pd.DataFrame], folder: str | Path, formats: Sequence[str]
) -> list[Path]:
    """Each set as <name>.ris / .bib / .csv / .xlsx in `folder`; returns the files written."""
    folder = Path(folder)
    written = []
    for name, table in sets.items():
        columns = [column for column in EXPORT_COLUMNS if column in table.columns]
        table = table[columns]
        for kind in formats:
            path = folder / f"{name}.{'bib' if kind == 'bibtex' else kind}"
            if kind == "ris":
                write_text(path, to_ris(table))
            elif kind == "bibtex":
                write_text(path, to_bibtex(table))
            else:
                write_table(path, table)
            written.append(path)
    return written
