"""Turn the public reconstruction of the review's study set into litreview inputs.

The review's own study list is not reachable (see README.md here). These CSVs rebuild what
public bibliographic records confirm. This module maps their rows onto record fields without
inventing anything: a field the row lacks stays missing, placeholder titles ("(title not
shown; ...)") are dropped, and only confirmed PMIDs are used (never `pmid_unconfirmed`).

- Rows WITH a confirmed PMID become PubMed records of the embedded search snapshot
  (build_snapshot.py renders them as PubMed XML and fetches them through the live code path).
- Rows WITHOUT one become other-source records (config/other_sources.tsv).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

HERE = Path(__file__).parent
FILES = ("preclinical_stroke.csv", "other_exosome_clinical.csv", "excluded_candidates.csv")

ORIGIN = (
    "RECONSTRUCTED, not an NCBI response: PubMed XML rendered by litreview from the public "
    "bibliographic metadata in resources/reconstruction/ (PMID, title, first author, journal, "
    "year, DOI only where a public record showed them; no abstracts, MeSH or languages), "
    "served by the local E-utilities server and fetched through the live code path. Run once "
    "with --config search.mode=live to replace it with a real PubMed search."
)

# "Brain Res 1224:12-19", "PLoS One 11(5):e0155912", "Regen Med 6(1):45-52 (PMC...)"
_JOURNAL_CITATION = re.compile(
    r"^(?P<journal>.*?)\s+(?P<volume>\d+)(?:\((?P<issue>[^)]+)\))?:(?P<pages>[A-Za-z]?\d[\w-]*)"
)
_PMCID = re.compile(r"\b(PMC\d+)\b")
_PLACEHOLDER_TITLE = re.compile(r"^\(|\[title truncated", re.IGNORECASE)


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _first_author(value: str | None) -> str | None:
    """'Chua JY (per the review summary; not shown on page)' -> 'Chua JY'."""
    value = _clean(re.sub(r"\(.*?\)", "", value or ""))
    return value


def _journal_fields(value: str | None) -> dict[str, str | None]:
    text = _clean(value)
    fields: dict[str, str | None] = {
        "journal": None,
        "volume": None,
        "issue": None,
        "pages": None,
        "pmcid": None,
    }
    if text is None:
        return fields
    pmcid = _PMCID.search(text)
    fields["pmcid"] = pmcid.group(1) if pmcid else None
    match = _JOURNAL_CITATION.match(text)
    if match:
        fields.update({key: match.group(key) for key in ("journal", "volume", "issue", "pages")})
    else:
        # Free-text notes ("ClinicalTrials.gov record ...") are not a journal: keep only a plain
        # name (letters, spaces, dots, parentheses such as "Bioengineering (Basel)").
        notes = ("preprint", "record", "ClinicalTrials")
        plain = None if any(note in text for note in notes) else re.sub(r"\s*\(.*$", "", text)
        if plain and re.fullmatch(r"[A-Za-z .&'-]+(\([A-Za-z]+\))?", text):
            fields["journal"] = text
        elif plain and re.fullmatch(r"[A-Za-z .&'-]+", plain):
            fields["journal"] = plain
    return fields


def study_rows() -> list[dict[str, str]]:
    """Every row of the three files, with the file it came from."""
    rows = []
    for name in FILES:
        with (HERE / name).open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                rows.append({**row, "file": name})
    return rows


def record_fields(row: dict[str, str]) -> dict[str, object]:
    """Record fields a row supports, nothing more."""
    title = _clean(row.get("title"))
    if title and _PLACEHOLDER_TITLE.search(title):
        title = None
    year = _clean(row.get("year"))
    first_author = _first_author(row.get("first_author"))
    publication_type = _clean(row.get("publication_type"))
    doi = _clean(row.get("doi"))
    return {
        "pmid": _clean(row.get("pmid")),
        "doi": doi.lower() if doi else None,
        "title": title,
        "year": int(year) if year and year.isdigit() else None,
        "authors": [first_author] if first_author else [],
        "publication_types": [publication_type] if publication_type else [],
        **_journal_fields(row.get("journal")),
    }


_FILE_TAGS = {
    "preclinical_stroke.csv": "stroke",
    "other_exosome_clinical.csv": "cns",
    "excluded_candidates.csv": "excluded",
}


def pubmed_records() -> list[dict[str, object]]:
    """One record per confirmed PMID; a PMID on several rows takes each field's first value."""
    merged: dict[str, dict[str, object]] = {}
    for row in study_rows():
        fields = record_fields(row)
        if not fields["pmid"]:
            continue
        record = merged.setdefault(str(fields["pmid"]), {})
        for key, value in fields.items():
            if value not in (None, []) and record.get(key) in (None, []):
                record[key] = value
    return [merged[pmid] for pmid in sorted(merged, key=int)]


def other_source_rows() -> list[dict[str, str]]:
    """Rows of config/other_sources.tsv for the studies that have no confirmed PMID."""
    rows = []
    for row in study_rows():
        fields = record_fields(row)
        if fields["pmid"]:
            continue
        tag = _FILE_TAGS[row["file"]]
        notes = [f"reconstruction study {row['study_id']}"]
        if row.get("pmid_unconfirmed"):
            notes.append(f"unconfirmed PMID {row['pmid_unconfirmed']} (not used)")
        if row.get("fields_seen"):
            notes.append(f"fields seen: {row['fields_seen']}")
        rows.append(
            {
                "source_id": f"recon-{tag}-{row['study_id']}",
                "method": "other",
                "found_via": f"public reconstruction, resources/reconstruction/{row['file']} "
                "(RECONSTRUCTED from public records, not an NCBI response)",
                "pmid": "",
                "doi": fields["doi"] or "",
                "pmcid": fields["pmcid"] or "",
                "registry_id": (row.get("nct") or "").strip(),
                "file": "",
                "format": "",
                "title": fields["title"] or "",
                "authors": "; ".join(fields["authors"]),  # type: ignore[arg-type]
                "year": str(fields["year"] or ""),
                "journal": fields["journal"] or "",
                "volume": fields["volume"] or "",
                "issue": fields["issue"] or "",
                "pages": fields["pages"] or "",
                "publication_types": "; ".join(fields["publication_types"]),  # type: ignore[arg-type]
                "note": "; ".join(notes).replace("\t", " ").replace("\n", " "),
            }
        )
    return rows


def write_other_sources(path: Path) -> int:
    rows = other_source_rows()
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(
            handle, fieldnames=list(rows[0]), delimiter="\t", lineterminator="\n"
        )
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


_CATEGORY_BY_SET = {
    "A": "preclinical_stem_cell",
    "B": "preclinical_exosome",
    "C": "clinical_stem_cell",
}
_REASON_BY_TEXT = {"review article": "review", "the review itself": "review"}


def record_key(row: dict[str, str]) -> str:
    """How the screening sheet names a reconstruction row: its PMID, else its other-source id."""
    pmid = record_fields(row)["pmid"]
    return str(pmid) if pmid else f"other:recon-{_FILE_TAGS[row['file']]}-{row['study_id']}"


def screening_rows() -> list[dict[str, str]]:
    """The reconstruction's verdicts as screening decisions, one per row (a study listed in two
    files gets both rows: they agree). Included studies: a full-text include with the review's
    category; excluded candidates: a title/abstract exclusion with the expected reason."""
    rows = []
    for row in study_rows():
        base = {
            "record": record_key(row),
            "reviewer": "reconstruction",
            "date": "",
            "note": f"{row['study_id']} in resources/reconstruction/{row['file']} (RECONSTRUCTED)",
        }
        if row["file"] == "excluded_candidates.csv":
            reason = _REASON_BY_TEXT[row["expected_reason"]]
            rows.append(
                {
                    **base,
                    "stage": "title_abstract",
                    "decision": row["expected_decision"],
                    "reason": reason,
                    "category": "",
                }
            )
            continue
        category = _CATEGORY_BY_SET.get(row.get("set", ""), "preclinical_stem_cell")
        rows.append(
            {
                **base,
                "stage": "full_text",
                "decision": "include",
                "reason": "",
                "category": category,
            }
        )
    unique = {}
    for entry in rows:
        unique.setdefault((entry["record"], entry["stage"]), entry)
    return list(unique.values())


def _write_tsv(path: Path, rows: list[dict[str, str]], columns: list[str], sep: str = "\t") -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, delimiter=sep, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    config = HERE.parent.parent / "config"
    count = write_other_sources(config / "other_sources.tsv")
    decisions = screening_rows()
    _write_tsv(
        config / "screening.csv",
        decisions,
        ["record", "stage", "decision", "reason", "category", "reviewer", "date", "note"],
        sep=",",
    )
    print(
        f"config/other_sources.tsv: {count} rows; config/screening.csv: {len(decisions)} rows; "
        f"PubMed records: {len(pubmed_records())}"
    )
