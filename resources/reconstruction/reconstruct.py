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


# --- extraction sheets -------------------------------------------------------------------------
# The reconstruction's free text mapped onto the controlled vocabularies of config
# `extraction.vocabularies`, only where the text says so; otherwise the code stays empty and the
# text is kept in the free-text column beside it.

_DISEASE_RULES = [
    ("complication", "ia_complications"),
    ("sham", "ia_complications"),
    ("no induced stroke", "ia_complications"),
    ("traumatic brain", "traumatic_brain_injury"),
    ("intracerebral hem", "intracerebral_hemorrhage"),
    ("glio", "glioma"),
    ("alzheimer", "alzheimer"),
    ("parkinson", "parkinson"),
    ("hypoxic-ischaemic", "hypoxic_ischemic_injury"),
    ("multiple system atrophy", "multiple_system_atrophy"),
    ("msa-", "multiple_system_atrophy"),
    ("supranuclear palsy", "progressive_supranuclear_palsy"),
    ("epilep", "epilepsy"),
    ("focal brain injury", "other"),
    ("isch", "ischemic_stroke"),
    ("infarct", "ischemic_stroke"),
    ("mcao", "ischemic_stroke"),
    ("photothrombotic", "ischemic_stroke"),
    ("embolic", "ischemic_stroke"),
    ("stroke", "ischemic_stroke"),
]
_TISSUE_RULES = [
    ("cord blood", "umbilical_cord_blood"),
    ("ucb", "umbilical_cord_blood"),
    ("umbilical tissue", "umbilical_cord"),
    ("cord matrix", "umbilical_cord"),
    ("adipose", "adipose"),
    ("peripheral blood", "peripheral_blood"),
    ("endothelial", "endothelial"),
    ("cec", "endothelial"),
    ("hes-derived", "embryonic"),
    ("neural progenitor", "neural_stem_progenitor"),
    ("nsc", "neural_stem_progenitor"),
    ("npc", "neural_stem_progenitor"),
    ("glial-restricted", "neural_stem_progenitor"),
    ("bone marrow", "bone_marrow"),
    ("marrow stromal", "bone_marrow"),
    ("bmsc", "bone_marrow"),
    ("bmmnc", "bone_marrow"),
    ("bm-", "bone_marrow"),
    ("bm ", "bone_marrow"),
]
_MODIFICATION_RULES = [
    ("none", "none"),
    ("preconditioned", "preconditioned"),
    ("genetically_modified", "genetically_modified"),
    ("overexpression", "genetically_modified"),
    ("lentiviral", "genetically_modified"),
    ("gene", "genetically_modified"),
    ("purified", "purified"),
    ("immunoselection", "purified"),
    ("loaded", "loaded"),
    ("loading", "loaded"),
    ("infected with", "loaded"),
]
_SPECIES = ["mouse", "rat", "dog", "human", "pig", "sheep", "monkey", "rabbit"]


def _code(text: str, rules: list[tuple[str, str]]) -> str:
    lowered = (text or "").lower()
    for needle, code in rules:
        if needle in lowered:
            return code
    return ""


def _species(text: str) -> tuple[str, str]:
    """First species named, and a note if the row names more than one."""
    lowered = (text or "").lower()
    found = sorted(
        {name: lowered.find(name) for name in _SPECIES if name in lowered}.items(),
        key=lambda item: item[1],
    )
    if not found:
        return "", ""
    extra = [name for name, _ in found[1:]]
    return found[0][0], (f"also {', '.join(extra)}" if extra else "")


def _origin(row: dict[str, str], clinical: bool) -> str:
    origin = (row.get("cell_origin") or "").lower()
    cells = (row.get("cell_type") or row.get("cell_or_vesicle_type") or "").lower()
    if clinical:
        return {"autologous": "autologous", "allogeneic_human": "allogeneic"}.get(origin, "")
    if origin.startswith("human"):
        return "human"
    mapped = {
        "animal_allogeneic": "animal_allogeneic",
        "autologous": "animal_autologous",
        "syngeneic": "animal_syngeneic",
    }.get(origin)
    if mapped:
        return mapped
    if "human" in cells or re.search(r"\bh[A-Z]", row.get("cell_type") or ""):
        return "human"
    if re.search(r"\b(rat|mouse|balb/c)\b", cells):
        return "animal_unspecified"
    return ""


def _leading_int(text: str) -> str:
    match = re.match(r"\s*[Nn]?\s*=?\s*(\d+)\b", text or "")
    return match.group(1) if match else ""


def _readable(kind: str, text: str) -> bool:
    from litreview import units

    try:
        (units.parse_dose if kind == "dose" else units.parse_timing)(text)
    except units.UnitParseError:
        return False
    return True


def extraction_rows() -> list[dict[str, str]]:
    """One extraction row per included study (a study listed twice takes the row of
    other_exosome_clinical.csv, which names its disease group)."""
    chosen: dict[str, dict[str, str]] = {}
    for row in study_rows():
        if row["file"] == "excluded_candidates.csv":
            continue
        fields = record_fields(row)
        identity = str(fields["pmid"] or fields["doi"] or (fields["title"] or "").lower())
        if not identity:
            identity = row["study_id"]
        previous = chosen.get(identity)
        if previous is not None and row["file"] == "preclinical_stroke.csv":
            row, previous = previous, row
        if previous is not None:  # fill what the kept row lacks from the other row
            row = {**row, **{k: v for k, v in previous.items() if v and not row.get(k)}}
        chosen[identity] = row
    rows = []
    for row in chosen.values():
        clinical = row.get("set") == "C"
        category = _CATEGORY_BY_SET.get(row.get("set", ""), "preclinical_stem_cell")
        disease_text = row.get("disease") or row.get("stroke_model") or ""
        disease = _code(disease_text, _DISEASE_RULES)
        if not disease and row["file"] == "preclinical_stroke.csv":
            disease = "ischemic_stroke"  # the file lists ischemic-stroke studies
        species, species_note = _species(row.get("species", ""))
        cells = row.get("cell_type") or row.get("cell_or_vesicle_type") or ""
        notes = [note for note in [species_note] if note]
        dose = row.get("dose_as_reported", "")
        if dose and not _readable("dose", dose):
            notes.append(f"dose as worded (not machine-readable): {dose}")
            dose = ""
        timing = row.get("timing_as_reported", "")
        if timing and not _readable("timing", timing):
            notes.append(f"timing as worded (not machine-readable): {timing}")
            timing = ""
        modification_text = row.get("modification", "")
        rows.append(
            {
                "study": record_key(row),
                "label": row["study_id"],
                "category": category,
                "disease": disease,
                "disease_text": disease_text,
                "species": "human" if clinical else species,
                "weight_kg": "",
                "cell_type": cells,
                "tissue_source": _code(cells, _TISSUE_RULES),
                "tissue_text": cells,
                "origin": _origin(row, clinical),
                "modification": _code(modification_text, _MODIFICATION_RULES),
                "modification_aim": modification_text,
                "dose_as_reported": dose,
                "timing_as_reported": timing,
                "artery": row.get("artery", ""),
                "labelling": row.get("labeling", ""),
                "mechanisms": "",
                "outcome": row.get("main_outcome", ""),
                "adverse_events": row.get("adverse_events", ""),
                "design": row.get("design", "") if clinical else "",
                "n": _leading_int(row.get("n", "")) if clinical else "",
                "registry_id": (row.get("nct") or "").strip() if clinical else "",
                "clinical_source": _origin(row, True) if clinical else "",
                "note": "; ".join(
                    [*notes, f"RECONSTRUCTED from resources/reconstruction/{row['file']}"]
                ),
            }
        )
    return rows


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
    extraction = extraction_rows()
    (config / "extraction").mkdir(exist_ok=True)
    _write_tsv(config / "extraction" / "studies.csv", extraction, list(extraction[0]), sep=",")
    print(
        f"config/extraction/studies.csv: {len(extraction)} rows; "
        f"config/other_sources.tsv: {count} rows; config/screening.csv: {len(decisions)} rows; "
        f"PubMed records: {len(pubmed_records())}"
    )
