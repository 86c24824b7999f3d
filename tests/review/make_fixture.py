"""Write the synthetic test review's inputs (run once; the outputs are committed).

A small review with known answers, designed by hand so that every PRISMA box and every
screening status is exercised (expected.yaml holds the answers, written independently):

- 63 PubMed records: 44 studies to include (30 preclinical stem-cell, 5 exosome, 9 clinical;
  one of them in Japanese, included by the reviewers over the language criterion), 4 reviews,
  1 erratum, 1 outside the date window, 3 intravenous-only (automatic exclusions, no decision),
  3 excluded at title/abstract, 2 excluded at full text, 1 not retrieved, 2 undecided, 1
  awaiting full text, 1 unresolved full-text conflict.
- An Embase RIS export of 3 records: 2 duplicates of PubMed records, 1 new clinical study.
- 4 records from citation searching: 1 duplicate of a PubMed study (by PMID), 2 new studies to
  include, 1 new study excluded at full text.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parents[1] / "src"))

from litreview.testing.pubmed_xml import render_article_set  # noqa: E402

DISEASES = (
    ["ischemic stroke"] * 22
    + ["traumatic brain injury"] * 3
    + ["glioma"] * 2
    + ["intracerebral hemorrhage", "Alzheimer disease", "Parkinson disease"]
)
SURNAMES = [
    "Abe", "Baker", "Costa", "Diaz", "Eriksson", "Fujita", "Garcia", "Hansen", "Ito", "Jensen",
    "Kim", "Lopez", "Mori", "Nagy", "Olsen", "Park", "Quinn", "Rossi", "Sato", "Tanaka",
    "Ueda", "Valdez", "Wang", "Xu", "Yamada", "Zhang", "Adler", "Brandt", "Chen", "Dubois",
    "Endo", "Fischer", "Gomez", "Horvath", "Ibrahim", "Jung", "Kato", "Li", "Mueller", "Novak",
    "Ortiz", "Petrov", "Qureshi", "Ramos", "Suzuki", "Torres", "Ulrich", "Vogel", "Weber",
    "Yilmaz", "Zimmer", "Arai", "Berg", "Cruz", "Dahl", "Evans", "Ford", "Gray", "Hill",
    "Inoue", "Jones", "Klein", "Lang",
]  # fmt: skip


def article(
    pmid: int,
    title: str,
    *,
    year: int = 2018,
    types=("Journal Article",),
    language: str = "eng",
    abstract: str | None = None,
    doi: str | None = None,
    author: str | None = None,
) -> dict:
    return {
        "pmid": str(pmid),
        "title": title,
        "abstract": abstract,
        "journal": "Journal of Synthetic Neuroscience",
        "journal_abbrev": "J Synth Neurosci",
        "volume": str(year - 2000),
        "issue": str(pmid % 12 + 1),
        "pages": f"{pmid % 900 + 1}-{pmid % 900 + 9}",
        "year": year,
        "authors": [f"{author or SURNAMES[(pmid - 1001) % len(SURNAMES)]} A"],
        "languages": [language],
        "publication_types": list(types),
        "doi": doi or f"10.5555/synth.{pmid}",
    }


def pubmed_records() -> list[dict]:
    records = []
    pmid = 1001
    for number, disease in enumerate(DISEASES):
        cells = ["mesenchymal stem cells", "bone marrow mononuclear cells", "neural stem cells"][
            number % 3
        ]
        records.append(
            article(
                pmid,
                f"Intra-arterial {cells} in a rat model of {disease}: study {number + 1}",
                year=2005 + number % 19,
                language="jpn" if number == 5 else "eng",
                abstract=f"We gave {cells} through the internal carotid artery after {disease}.",
            )
        )
        pmid += 1
    for number in range(5):
        records.append(
            article(
                pmid,
                f"Intra-arterial exosomes from stem cells after ischemic stroke: study {number + 1}",
                year=2019 + number,
                abstract="Extracellular vesicles were infused intra-arterially in mice.",
            )
        )
        pmid += 1
    for number in range(9):
        records.append(
            article(
                pmid,
                f"Intra-arterial autologous bone marrow cells in patients with ischemic stroke: "
                f"a phase {['I', 'II'][number % 2]} trial {number + 1}",
                year=2010 + number,
                types=("Journal Article", "Clinical Trial"),
                abstract="Patients received cells by intra-arterial infusion.",
            )
        )
        pmid += 1
    excluded = [
        ("Intra-arterial stem cell therapy for stroke: a review", {"types": ("Review",)}),
        ("Routes of stem cell delivery in brain disease: a review", {"types": ("Review",)}),
        ("Exosomes for stroke: a systematic review", {"types": ("Systematic Review",)}),
        ("Cell therapy for the brain: a narrative review", {"types": ("Review",)}),
        ("Erratum: intra-arterial stem cells in stroke", {"types": ("Published Erratum",)}),
        ("Intra-arterial stem cells in a mouse stroke model, 2026 report", {"year": 2026}),
        ("Intravenous mesenchymal stem cells after stroke in rats", {}),
        ("Intravenous exosomes after stroke in mice", {}),
        ("Intravenous bone marrow cells in stroke patients", {}),
        # excluded at title/abstract by the reviewers (they pass the automatic criteria)
        ("Intra-arterial stem cells for hepatic failure in the brain-dead donor", {}),
        ("Intra-arterial stem cells in limb ischemia with cerebral follow-up", {}),
        ("Intra-arterial chemotherapy and stem cell rescue in brain tumours", {}),
        # excluded at full text, not retrieved, undecided, awaiting full text, conflict
        ("Intra-arterial stem cells in a canine stroke model: pilot", {}),
        ("Intra-arterial progenitor cells after cerebral ischemia in pigs", {}),
        ("Intra-arterial stem cells after stroke: a conference report", {}),
        ("Intra-arterial mesenchymal stem cells in spinal cord injury", {}),
        ("Intra-arterial stromal cells and cerebral blood flow", {}),
        ("Intra-arterial stem cells in neonatal hypoxic brain injury", {}),
        ("Intra-arterial stem cells in multiple sclerosis of the brain", {}),
    ]
    for title, options in excluded:
        records.append(article(pmid, title, **options))
        pmid += 1
    return records


def main() -> None:
    records = pubmed_records()
    assert len(records) == 63, len(records)
    (HERE / "pubmed.xml").write_bytes(render_article_set(records))
    print(f"pubmed.xml: {len(records)} records (PMIDs 1001-{1000 + len(records)})")


REVIEWER_A = [
    # every study to include, at full text (categories left to the suggestions, except one)
    *[(str(pmid), "full_text", "include", "", "") for pmid in range(1001, 1045)],
    ("embase:3", "full_text", "include", "", ""),
    ("other:ref-2", "full_text", "include", "", ""),
    ("other:ref-3", "full_text", "include", "", "preclinical_exosome"),
    # title/abstract
    ("1054", "title_abstract", "exclude", "not_cns", ""),
    ("1055", "title_abstract", "exclude", "not_cns", ""),
    ("1056", "title_abstract", "exclude", "not_stem_cell_or_exosome", ""),
    ("1062", "title_abstract", "include", "", ""),
    ("1001", "title_abstract", "include", "", ""),
    # full text
    ("1057", "full_text", "exclude", "wrong_population", ""),
    ("1058", "full_text", "exclude", "not_intra_arterial", ""),
    ("1059", "full_text", "exclude", "not_retrieved", ""),
    ("1063", "full_text", "include", "", ""),
    ("other:ref-4", "full_text", "exclude", "not_intra_arterial", ""),
]
REVIEWER_B = [
    ("1001", "title_abstract", "exclude", "not_cns"),  # A includes: any_include lets it on
    ("1063", "full_text", "exclude", "wrong_population"),  # A includes: no arbiter, unresolved
    ("10.5555/synth.1057", "full_text", "exclude", "wrong_population"),  # agrees with A, by DOI
]

RIS = """TY  - JOUR
AU  - Baker, A.
TI  - INTRA-ARTERIAL BONE MARROW MONONUCLEAR CELLS IN A RAT MODEL OF ISCHEMIC STROKE: STUDY 2
JO  - Journal of Synthetic Neuroscience
PY  - 2006
VL  - 6
DO  - 10.5555/synth.1002
LA  - English
ER  -{space}

TY  - JOUR
AU  - Costa, A.
TI  - Intra-arterial autologous bone marrow cells in patients with ischemic stroke: a phase I trial 5
JO  - J Synth Neurosci
PY  - 2014
DO  - https://doi.org/10.5555/synth.1040
LA  - English
ER  -{space}

TY  - JOUR
AU  - Moreau, P.
TI  - Intra-arterial CD34+ cells in patients with acute ischemic stroke: a randomised trial
JO  - European Journal of Synthetic Stroke
PY  - 2021
VL  - 4
SP  - 101
EP  - 109
DO  - 10.5555/embase.1
LA  - English
ER  -{space}
"""

OTHER_SOURCES = [
    {"source_id": "embase", "method": "database", "found_via": "Embase export",
     "file": "embase.ris", "format": "ris"},
    {"source_id": "ref-1", "method": "citation_searching",
     "found_via": "reference list of PMID 1001", "pmid": "1010"},
    {"source_id": "ref-2", "method": "citation_searching",
     "found_via": "reference list of PMID 1001",
     "title": "Intra-arterial neural crest stem cells in rat ischemic stroke",
     "authors": "Sato K", "year": "2012", "journal": "Journal of Synthetic Neuroscience"},
    {"source_id": "ref-3", "method": "citation_searching",
     "found_via": "reference list of PMID 1031",
     "title": "Intra-arterial extracellular vesicles in rat stroke", "authors": "Ito M",
     "year": "2020"},
    {"source_id": "ref-4", "method": "citation_searching",
     "found_via": "reference list of PMID 1031", "doi": "10.5555/unindexed.4",
     "title": "Intra-arterial stem cells in feline stroke", "authors": "Ward B", "year": "2016"},
]  # fmt: skip


def write_sheets() -> None:
    config = HERE / "config"
    with (config / "screening_A.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["record", "stage", "decision", "reason", "category", "reviewer", "date"])
        for record, stage, decision, reason, category in REVIEWER_A:
            writer.writerow([record, stage, decision, reason, category, "A", "2025-05-02"])
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "screening"
    sheet.append(["record", "stage", "decision", "reason", "reviewer", "note"])
    for record, stage, decision, reason in REVIEWER_B:
        sheet.append(
            [int(record) if record.isdigit() else record, stage, decision, reason, "B", None]
        )
    workbook.create_sheet("notes").append(["B's notes are not decisions"])
    workbook.save(config / "screening_B.xlsx")
    (config / "embase.ris").write_text(RIS.format(space=" "), encoding="utf-8")
    columns = ["source_id", "method", "found_via", "pmid", "doi", "file", "format", "title",
               "authors", "year", "journal"]  # fmt: skip
    with (config / "other_sources.tsv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, columns, delimiter="\t", lineterminator="\n")
        writer.writeheader()
        writer.writerows(OTHER_SOURCES)


# --- extraction sheets (issue 5): designed so every count, percent, median and bin is known ---

STROKE_KEYS = [str(pmid) for pmid in range(1001, 1023)] + ["other:ref-2"]  # i = 0..22


def _stroke_row(i: int, key: str) -> dict[str, str]:
    human = i % 2 == 0
    origin = "human" if human else ("animal_allogeneic" if i % 4 == 1 else "animal_syngeneic")
    if human:
        tissue = {0: "bone_marrow", 2: "umbilical_cord", 4: "amnion"}[i % 6]
    else:
        tissue = "bone_marrow" if i % 4 == 1 else "fetal_brain_nsc"
    modification, aim = {
        0: ("preconditioned", "hypoxic preconditioning to improve survival"),
        3: ("genetically_modified", "VEGF overexpression for angiogenesis"),
        7: ("purified", "CD133 sorting"),
    }.get(i, ("none", ""))
    species = {1: "mouse", 2: "mouse", 4: "mouse", 5: "dog"}.get(i, "rat")
    dose = {
        0: "1 x 10^5 cells", 1: "2.5 x 10^5 cells", 2: "5 x 10^5 cells", 3: "2 x 10^5 cells",
        4: "1 x 10^6 cells", 5: "1 x 10^6 cells/kg", 6: "5 x 10^5 cells", 8: "",
        9: "3 x 10^5 cells/kg",
    }.get(i, "1 x 10^6 cells")  # fmt: skip
    weight = "0.25" if species == "rat" and i not in (8, 9) else ""
    timing = ["3 h after reperfusion", "24 h after MCAO", "2 days after stroke", "day 5",
              "10 days after stroke"][i % 5]  # fmt: skip
    mechanisms = [
        name
        for name, chosen in (
            ("neurogenesis", i % 2 == 0),
            ("angiogenesis", i % 3 == 0),
            ("anti_inflammation", i < 10),
        )
        if chosen
    ]
    return {
        "study": key,
        "label": f"Stroke{i + 1:02d}",
        "category": "preclinical_stem_cell",
        "disease": "ischemic_stroke",
        "species": species,
        "weight_kg": weight,
        "cell_type": "MSC",
        "tissue_source": tissue,
        "origin": origin,
        "modification": modification,
        "modification_aim": aim,
        "dose_as_reported": dose,
        "timing_as_reported": "" if i == 8 else timing,
        "mechanisms": "; ".join(mechanisms),
    }


def extraction_sheets() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    studies = [_stroke_row(i, key) for i, key in enumerate(STROKE_KEYS)]
    arms = [
        {"study": "1009", "arm": "low dose", "dose_as_reported": "1 x 10^4 cells",
         "timing_as_reported": "5 days after stroke"},
        {"study": "1009", "arm": "high dose", "dose_as_reported": "1 x 10^6 cells",
         "timing_as_reported": "5 days after stroke"},
    ]  # fmt: skip
    other = [
        ("1023", "traumatic_brain_injury", "rat", "5 x 10^5 cells/kg", "24 h after injury"),
        ("1024", "traumatic_brain_injury", "rat", "2.5 x 10^6 cells/kg", "7 days after injury"),
        ("1025", "traumatic_brain_injury", "rat", "1 x 10^6 cells/kg", "14 days after injury"),
        ("1026", "glioma", "mouse", "1 x 10^6 cells", "7 days after tumour implantation"),
        ("1027", "glioma", "mouse", "1 x 10^6 cells", "7 days after tumour implantation"),
        ("1028", "intracerebral_hemorrhage", "rat", "1 x 10^6 cells/kg", "24 h after injury"),
        ("1029", "alzheimer", "mouse", "1 x 10^5 cells", ""),
        ("1030", "parkinson", "rat", "1 x 10^6 cells", ""),
    ]
    for number, (key, disease, species, dose, timing) in enumerate(other, start=1):
        studies.append(
            {
                "study": key,
                "label": f"Other{number:02d}",
                "category": "preclinical_stem_cell",
                "disease": disease,
                "species": species,
                "cell_type": "BM-MSC",
                "tissue_source": "bone_marrow",
                "origin": "human",
                "modification": "none",
                "dose_as_reported": dose,
                "timing_as_reported": timing,
                "mechanisms": "neuroprotection",
            }
        )
    exosome_doses = ["1 x 10^10 particles", "5 x 10^10 particles", "1 x 10^11 particles",
                     "2 x 10^11 particles", "3 x 10^11 particles", "50 ug"]  # fmt: skip
    for number, key in enumerate(["1031", "1032", "1033", "1034", "1035", "other:ref-3"]):
        studies.append(
            {
                "study": key,
                "label": f"Exosome{number + 1:02d}",
                "category": "preclinical_exosome",
                "disease": "ischemic_stroke",
                "species": "rat",
                "cell_type": "MSC exosomes",
                "tissue_source": "bone_marrow",
                "origin": "human",
                "modification": "none",
                "dose_as_reported": exosome_doses[number],
                "timing_as_reported": "24 h after MCAO",
                "mechanisms": "angiogenesis",
            }
        )
    clinical_doses = ["3 x 10^5 cells/kg", "5 x 10^5 cells/kg", "1 x 10^6 cells/kg",
                      "2 x 10^6 cells/kg", "3 x 10^6 cells/kg", "5 x 10^6 cells/kg",
                      "8 x 10^6 cells/kg", "1 x 10^7 cells/kg", "1.6 x 10^7 cells/kg",
                      "7 x 10^8 cells"]  # fmt: skip
    keys = [str(pmid) for pmid in range(1036, 1045)] + ["embase:3"]
    for number, key in enumerate(keys):
        studies.append(
            {
                "study": key,
                "label": f"Trial{number + 1:02d}",
                "category": "clinical_stem_cell",
                "disease": "ischemic_stroke",
                "species": "human",
                "cell_type": "BM-MNC",
                "tissue_source": "bone_marrow",
                "origin": "allogeneic" if key == "embase:3" else "autologous",
                "modification": "none",
                "dose_as_reported": clinical_doses[number],
                "timing_as_reported": "day 5",
                "design": "open-label, single arm",
                "n": str(10 * (number + 1)),
                "registry_id": f"NCT{number + 1:08d}",
                "clinical_source": "allogeneic" if key == "embase:3" else "autologous",
                "outcome": "safe",
                "adverse_events": "none serious",
            }
        )
    return studies, arms


def write_extraction() -> None:
    studies, arms = extraction_sheets()
    folder = HERE / "config" / "extraction"
    folder.mkdir(exist_ok=True)
    study_columns = list(dict.fromkeys(column for row in studies for column in row))
    for name, rows, columns in (
        ("studies.csv", studies, study_columns),
        ("arms.csv", arms, ["study", "arm", "dose_as_reported", "timing_as_reported"]),
    ):
        with (folder / name).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, columns, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)


if __name__ == "__main__":
    main()
    write_sheets()
    write_extraction()
