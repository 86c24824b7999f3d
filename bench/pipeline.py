"""The whole offline pipeline at 5,000 to 100,000 records: CPU seconds and peak memory of each
rule and of the run, and how they grow with the number of records.

    python bench/pipeline.py                     # 5k, 20k, 50k, 100k records
    python bench/pipeline.py --sizes 5000 20000

For each size it builds a synthetic PubMed search (titles of 8-18 words, structured abstracts of
120-260, 1-12 authors, 3-9 MeSH headings, publication types, languages, dates growing over
1990-2025), makes a review with `litreview init` and the first review's automatic screening
criteria, adds an Embase-like RIS export of other sources (2% of N: 60% of them duplicates of
search records written as another database writes them, 40% records PubMed lacks), takes the
snapshot live from the local E-utilities server (not measured), then times `litreview run
--cores 1` offline from an empty results/. Per rule: the CPU seconds of the rule's thread and
the process's peak resident memory while it ran (litreview's step metrics, $LITREVIEW_STEP_METRICS;
rules run in threads of the Snakemake process). In total: the run's CPU seconds (user + system,
Snakemake included) and peak resident memory, from the kernel's accounting of the child.
"ratio" is the cost per record at that size over the cost per record at the smallest size:
1.00 is linear.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
QUERY = "(stem cells[tiab] OR exosomes[tiab]) AND stroke[tiab]"
FIRST_PMID = 20_000_001
HEADER = (
    b'<?xml version="1.0" ?>\n'
    b'<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" '
    b'"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n<PubmedArticleSet>\n'
)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
DOMAIN = [
    "stem",
    "cells",
    "intra-arterial",
    "stroke",
    "ischemic",
    "rat",
    "mouse",
    "brain",
    "infarct",
    "volume",
    "neurological",
    "outcome",
    "mesenchymal",
    "bone",
    "marrow",
    "transplantation",
    "delivery",
    "carotid",
    "artery",
    "safety",
    "efficacy",
    "trial",
    "patients",
    "randomised",
    "cohort",
    "exosomes",
    "vesicles",
    "therapy",
    "recovery",
    "functional",
    "motor",
    "cognitive",
    "inflammation",
    "microglia",
    "angiogenesis",
    "neurogenesis",
    "dose",
    "timing",
    "occlusion",
    "reperfusion",
    "middle",
    "cerebral",
    "model",
    "behavioural",
    "score",
    "lesion",
    "week",
    "day",
    "hours",
    "administration",
    "intravenous",
    "injection",
    "cell",
    "survival",
    "migration",
    "homing",
    "engraftment",
    "paracrine",
    "factor",
]
MESH = [
    "Animals",
    "Humans",
    "Rats",
    "Rats, Sprague-Dawley",
    "Mice",
    "Male",
    "Female",
    "Stroke",
    "Brain Ischemia",
    "Infarction, Middle Cerebral Artery",
    "Stem Cell Transplantation",
    "Mesenchymal Stem Cells",
    "Mesenchymal Stem Cell Transplantation",
    "Injections, Intra-Arterial",
    "Injections, Intravenous",
    "Exosomes",
    "Extracellular Vesicles",
    "Disease Models, Animal",
    "Recovery of Function",
    "Neurogenesis",
    "Angiogenesis Inducing Agents",
    "Microglia",
    "Inflammation",
    "Treatment Outcome",
    "Aged",
    "Middle Aged",
    "Adult",
    "Bone Marrow Cells",
    "Cell Movement",
    "Neuroprotection",
]
TYPES = (
    ["Journal Article"] * 14
    + ["Review", "Randomized Controlled Trial", "Comparative Study", "Case Reports"]
    + ["Clinical Trial", "Comment", "Editorial", "Systematic Review"]
)
LANGUAGES = ["eng"] * 19 + ["jpn"]
SECTIONS = ("BACKGROUND", "METHODS", "RESULTS", "CONCLUSIONS")


def _vocabulary(rng: random.Random) -> list[str]:
    """DOMAIN words, then 3,000 made-up words; drawn Zipf-like, as words in abstracts are."""
    syllables = "ba be bi bo ca ce co da de di fa fe ga ge la le li lo ma me mi na ne no pa pe "
    syllables += "ra re ri ro sa se si ta te ti to va ve vi"
    parts = syllables.split()
    made = {"".join(rng.choices(parts, k=rng.randint(2, 4))) for _ in range(3_200)}
    return DOMAIN + sorted(made)[:3_000]


class Writer:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.words = _vocabulary(self.rng)
        self.weights = [1 / (rank + 8) for rank in range(len(self.words))]
        self.surnames = sorted({w.capitalize() for w in self.words[len(DOMAIN) :][:1500]})

    def text(self, low: int, high: int) -> str:
        return " ".join(self.rng.choices(self.words, self.weights, k=self.rng.randint(low, high)))

    def record(self, pmid: int, year: int) -> dict:
        rng = self.rng
        return {
            "pmid": pmid,
            "title": self.text(8, 18).capitalize(),
            "abstract": [self.text(30, 65) for _ in SECTIONS],
            "authors": [
                (rng.choice(self.surnames), rng.choice("ABCDEFGHJKLMNPRSTY"))
                for _ in range(rng.randint(1, 12))
            ],
            "mesh": rng.sample(MESH, rng.randint(3, 9)),
            "types": sorted({"Journal Article", *rng.sample(TYPES, rng.randint(1, 2))}),
            "language": rng.choice(LANGUAGES),
            "year": year,
            "month": rng.randint(1, 12),
            "day": rng.randint(1, 28),
            "journal": f"J {rng.choice(self.surnames)} {rng.choice(['Res', 'Med', 'Neurol'])}",
            "volume": str(year - 1980),
            "pages": f"{rng.randint(1, 900)}-{rng.randint(901, 999)}",
            "doi": f"10.{rng.randint(1000, 9999)}/bench.{pmid}" if rng.random() < 0.9 else None,
        }


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def pubmed_xml(item: dict) -> str:
    authors = "".join(
        f'<Author ValidYN="Y"><LastName>{last}</LastName><ForeName>{first}.</ForeName>'
        f"<Initials>{first}</Initials></Author>"
        for last, first in item["authors"]
    )
    abstract = "".join(
        f'<AbstractText Label="{label}" NlmCategory="{label}">{_escape(text)}.</AbstractText>'
        for label, text in zip(SECTIONS, item["abstract"], strict=True)
    )
    types = "".join(f'<PublicationType UI="D000000">{t}</PublicationType>' for t in item["types"])
    mesh = "".join(
        f'<MeshHeading><DescriptorName UI="D000000" MajorTopicYN="N">{_escape(m)}'
        "</DescriptorName></MeshHeading>"
        for m in item["mesh"]
    )
    doi = f'<ArticleId IdType="doi">{item["doi"]}</ArticleId>' if item["doi"] else ""
    elocation = f'<ELocationID EIdType="doi" ValidYN="Y">{item["doi"]}</ELocationID>' if doi else ""
    year, month, day = item["year"], item["month"], item["day"]
    return (
        f'<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM">'
        f'<PMID Version="1">{item["pmid"]}</PMID><Article PubModel="Print"><Journal>'
        f'<ISSN IssnType="Print">1234-5678</ISSN><JournalIssue CitedMedium="Print">'
        f"<Volume>{item['volume']}</Volume><Issue>{month}</Issue><PubDate><Year>{year}</Year>"
        f"<Month>{MONTHS[month - 1]}</Month><Day>{day:02d}</Day></PubDate></JournalIssue>"
        f"<Title>{item['journal']}</Title><ISOAbbreviation>{item['journal']}</ISOAbbreviation>"
        f"</Journal><ArticleTitle>{_escape(item['title'])}.</ArticleTitle><Pagination>"
        f"<MedlinePgn>{item['pages']}</MedlinePgn></Pagination>{elocation}<Abstract>{abstract}"
        f'</Abstract><AuthorList CompleteYN="Y">{authors}</AuthorList>'
        f"<Language>{item['language']}</Language><PublicationTypeList>{types}"
        f"</PublicationTypeList></Article><MedlineJournalInfo><Country>England</Country>"
        f"<MedlineTA>{item['journal']}</MedlineTA><NlmUniqueID>0000000</NlmUniqueID>"
        f"</MedlineJournalInfo><MeshHeadingList>{mesh}</MeshHeadingList></MedlineCitation>"
        f'<PubmedData><History><PubMedPubDate PubStatus="entrez"><Year>{year}</Year>'
        f"<Month>{month}</Month><Day>{day}</Day></PubMedPubDate></History>"
        f"<PublicationStatus>ppublish</PublicationStatus><ArticleIdList>"
        f'<ArticleId IdType="pubmed">{item["pmid"]}</ArticleId>{doi}</ArticleIdList>'
        f"</PubmedData></PubmedArticle>\n"
    )


def ris(item: dict, rng: random.Random) -> str:
    """The record as an Embase-like RIS export writes it: other title case, full author names,
    the DOI sometimes missing."""
    lines = ["TY  - JOUR", f"TI  - {item['title'].title()}"]
    lines += [f"AU  - {last}, {first}." for last, first in item["authors"]]
    lines += [f"PY  - {item['year']}", f"JO  - {item['journal']}", f"VL  - {item['volume']}"]
    start, end = item["pages"].split("-")
    lines += [f"SP  - {start}", f"EP  - {end}", f"AB  - {' '.join(item['abstract'])}"]
    if item["doi"] and rng.random() < 0.8:
        lines.append(f"DO  - https://doi.org/{item['doi'].upper()}")
    lines += ["DB  - Embase", "ER  - ", ""]
    return "\n".join(lines)


def build_search(size: int, root: Path) -> list[dict]:
    """The store the local server serves (PubMed XML, queries.json) and the other sources' RIS."""
    writer = Writer(seed=size)
    rng = writer.rng
    years = list(range(1990, 2026))
    growth = [1.08 ** (year - 1990) for year in years]  # more records every year
    chosen = sorted(rng.choices(years, growth, k=size))
    store = root / "store"
    store.mkdir()
    items = []
    with gzip.open(store / "pubmed.xml.gz", "wt", encoding="utf-8", compresslevel=1) as handle:
        handle.write(HEADER.decode())
        for index, year in enumerate(chosen):
            item = writer.record(FIRST_PMID + index, year)
            items.append(item)
            handle.write(pubmed_xml(item))
        handle.write("</PubmedArticleSet>\n")
    pmids = [str(item["pmid"]) for item in items]
    (store / "queries.json").write_text(json.dumps({QUERY: pmids}), encoding="utf-8")
    other = max(10, size // 50)
    duplicates = rng.sample(items, int(other * 0.6))
    new = [writer.record(90_000_000 + n, rng.choice(years)) for n in range(other - len(duplicates))]
    entries = [ris(item, rng) for item in duplicates + new]
    rng.shuffle(entries)
    return entries


def make_review(root: Path, entries: list[str]) -> Path:
    subprocess.run(
        [sys.executable, "-m", "litreview.cli", "init", "review"],
        cwd=root,
        check=True,
        capture_output=True,
    )
    review = root / "review"
    config_path = review / "config" / "config.yaml"
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    first = yaml.safe_load((REPO / "config" / "config.yaml").read_text(encoding="utf-8"))
    config["search"].update(query=QUERY, mindate="1990/01/01", maxdate="2025/12/31")
    config["entrez"]["email"] = "bench@lab.example"
    for key in ("reasons", "automatic", "categories"):  # the first review's criteria
        config["screening"][key] = first["screening"][key]
    (review / "config" / "embase.ris").write_text("\n".join(entries), encoding="utf-8")
    sheet = review / "config" / "other_sources.tsv"
    sheet.write_text(
        "source_id\tmethod\tfound_via\tfile\tformat\n"
        "embase\tdatabase\tEmbase export (synthetic)\tembase.ris\tris\n",
        encoding="utf-8",
    )
    config["identify"]["other_sources"] = "config/other_sources.tsv"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return review


def run(review: Path, *arguments: str, env: dict | None = None) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak MB of `litreview run ...` (the kernel's accounting of
    that one child, Snakemake and its rules included)."""
    command = [sys.executable, "-m", "litreview.cli", "run", "--cores", "1", *arguments]
    with tempfile.TemporaryFile() as output:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=review, env={**os.environ, **(env or {})}, stdout=output,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode:
            output.seek(0)
            sys.stderr.write(output.read().decode(errors="replace")[-4000:])
            raise SystemExit(f"bench: litreview run {' '.join(arguments)} failed")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1e3


def one(size: int, keep: Path | None = None) -> dict:
    from litreview.testing.eutils import EutilsServer

    with tempfile.TemporaryDirectory(prefix="litreview-pipeline-") as name:
        root = Path(name) if keep is None else keep / f"{size}"
        root.mkdir(parents=True, exist_ok=keep is None)
        review = make_review(root, build_search(size, root))
        with EutilsServer(root / "store") as server:
            run(
                review,
                "--config",
                "search.mode=live",
                f"entrez.base_url={server.base_url}",
                "results/search/snapshot.json",
            )
        for folder in ("results", "logs"):
            shutil.rmtree(review / folder, ignore_errors=True)
        metrics = root / "steps.tsv"
        wall, cpu, peak = run(review, env={"LITREVIEW_STEP_METRICS": str(metrics)})
        steps: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        with metrics.open(encoding="utf-8") as handle:
            for step, _wall, step_cpu, step_peak in csv.reader(handle, delimiter="\t"):
                steps[step][0] += float(step_cpu)
                steps[step][1] = max(steps[step][1], float(step_peak))
        with (review / "results" / "records.tsv").open(encoding="utf-8") as handle:
            records = sum(1 for _ in handle) - 1
    return {"size": size, "records": records, "wall": wall, "cpu": cpu, "peak": peak,
            "steps": dict(steps)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5_000, 20_000, 50_000, 100_000])
    parser.add_argument("--keep", type=Path, help="build in KEEP/<size>/ and leave it there")
    args = parser.parse_args(argv)
    results = []
    for size in args.sizes:
        results.append(one(size, args.keep))
        print(f"done: {size} records", file=sys.stderr, flush=True)
    base = results[0]
    steps = list(base["steps"])
    print("CPU seconds / peak MB per rule (ratio: cost per record over that at the smallest size)")
    print(f"{'rule':<22}" + "".join(f"{r['size']:>24,}" for r in results))
    for step in steps:
        cells = []
        for result in results:
            cpu, peak = result["steps"].get(step, [0.0, 0.0])
            base_cpu = base["steps"][step][0] / base["size"]
            ratio = (cpu / result["size"]) / base_cpu if base_cpu > 0 else float("nan")
            cells.append(f"{cpu:7.2f} s {peak:6.0f} MB x{ratio:4.2f}")
        print(f"{step:<22}" + "".join(f"{cell:>24}" for cell in cells))
    cells = []
    for result in results:
        ratio = (result["cpu"] / result["size"]) / (base["cpu"] / base["size"])
        cells.append(f"{result['cpu']:7.2f} s {result['peak']:6.0f} MB x{ratio:4.2f}")
    print(f"{'whole run (CPU)':<22}" + "".join(f"{cell:>24}" for cell in cells))
    print(f"{'whole run (wall s)':<22}" + "".join(f"{r['wall']:>24.1f}" for r in results))
    print(f"{'records.tsv rows':<22}" + "".join(f"{r['records']:>24,}" for r in results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
