"""Retraction watch: which included studies are retracted, under an expression of concern or
corrected, from PubMed's own flags and, optionally, the Retraction Watch database.

The Retraction Watch CSV (Crossref publishes it; the user downloads it and names it in config
with its sha256, so a run says which copy it used) is latin-1 text with one row per notice:
`RetractionNature` (Retraction, Expression of concern, Correction, Reinstatement),
`OriginalPaperDOI`, `OriginalPaperPubMedID`, `RetractionDate`... An identifier it lacks is
written `0` or `unavailable`, not left blank. A paper retracted and later reinstated has both
rows: the latest notice by date decides.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from litreview.errors import ConfigError, InputFileError
from litreview.identify import normalise_doi

__all__ = ["WATCH_COLUMNS", "Notice", "read_retraction_watch", "watch_included"]

WATCH_COLUMNS = ("record_id", "pmid", "doi", "title", "status", "source", "date", "detail")
_NO_ID = {"", "0", "unavailable", "na", "n/a", "none"}
_NATURES = {
    "retraction": "retracted",
    "expression of concern": "expression_of_concern",
    "correction": "erratum",
    "reinstatement": "reinstated",
}


@dataclass(frozen=True)
class Notice:
    status: str  # retracted, expression_of_concern, erratum, reinstated
    date: str | None
    detail: str


def _identifier(value: object) -> str | None:
    text = "" if value is None else str(value).strip()
    return None if text.lower() in _NO_ID else text


def _date(text: str | None) -> str | None:
    if not text:
        return None
    for pattern in ("%m/%d/%Y %H:%M", "%m/%d/%Y", "%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text.strip(), pattern).date().isoformat()
        except ValueError:
            continue
    return None


def read_retraction_watch(path: str | Path, sha256: str | None) -> dict[str, Notice]:
    """Notices by "pmid:<n>" and "doi:<doi>", the latest per paper; checks the file's sha256."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config retraction_watch.file: {path} does not exist")
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if sha256 is None:
        raise ConfigError(
            f"config retraction_watch.sha256 is not set: set it to {digest} (the copy of {path} "
            "this review uses), so every run says which copy it read"
        )
    if digest != sha256.lower():
        raise InputFileError(
            path,
            f"sha256 {digest} differs from config retraction_watch.sha256 {sha256}",
            hint="set the new checksum in config when you download a new copy on purpose",
        )
    text = data.decode("latin-1")
    reader = csv.DictReader(io.StringIO(text))
    needed = {"RetractionNature", "OriginalPaperDOI", "OriginalPaperPubMedID"}
    missing = sorted(needed - set(reader.fieldnames or []))
    if missing:
        raise InputFileError(
            path, f"not a Retraction Watch export: missing column(s) {', '.join(missing)}"
        )
    notices: dict[str, tuple[str, int, Notice]] = {}
    for line, row in enumerate(reader, start=2):
        nature = _NATURES.get(str(row.get("RetractionNature", "")).strip().lower())
        if nature is None:
            continue
        date = _date(row.get("RetractionDate"))
        notice = Notice(
            nature,
            date,
            f"Retraction Watch record {row.get('Record ID', '?')} ({row.get('RetractionNature')})",
        )
        keys = []
        pmid = _identifier(row.get("OriginalPaperPubMedID"))
        if pmid and pmid.isdigit():
            keys.append(f"pmid:{pmid}")
        doi = normalise_doi(_identifier(row.get("OriginalPaperDOI")))
        if doi:
            keys.append(f"doi:{doi}")
        for key in keys:
            order = (date or "", line)
            current = notices.get(key)
            if current is None or order >= current[:2]:
                notices[key] = (order[0], order[1], notice)
    return {key: value[2] for key, value in notices.items()}


def watch_included(
    screened: pd.DataFrame,
    records: pd.DataFrame,
    notices: Mapping[str, Notice] | None = None,
) -> pd.DataFrame:
    """Every included study retracted, under an expression of concern or corrected, with where
    that is said (PubMed's flags, Retraction Watch); reinstated papers are listed as such."""
    included = screened[screened["status"] == "included"]
    details = records.set_index("record_id") if "record_id" in records else records
    rows = []
    for record_id in included["record_id"]:
        record = details.loc[record_id] if record_id in details.index else {}
        pmid = _identifier(record.get("pmid")) if len(record) else None
        doi = normalise_doi(record.get("doi")) if len(record) else None
        title = record.get("title") if len(record) else None
        base = {"record_id": record_id, "pmid": pmid, "doi": doi, "title": title}
        for flag, status in (
            ("is_retracted", "retracted"),
            ("is_expression_of_concern", "expression_of_concern"),
            ("has_erratum", "erratum"),
        ):
            if len(record) and str(record.get(flag)) in {"True", "true"}:
                rows.append(
                    base | {"status": status, "source": "PubMed", "date": None, "detail": flag}
                )
        for key in (f"pmid:{pmid}" if pmid else None, f"doi:{doi}" if doi else None):
            notice = (notices or {}).get(key) if key else None
            if notice is not None:
                rows.append(
                    base
                    | {
                        "status": notice.status,
                        "source": "Retraction Watch",
                        "date": notice.date,
                        "detail": notice.detail,
                    }
                )
                break
    return pd.DataFrame(
        {
            column: pd.array([row.get(column) for row in rows], dtype="string")
            for column in WATCH_COLUMNS
        }
    )
