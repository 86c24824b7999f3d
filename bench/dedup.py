"""Deduplication benchmark: accuracy on labelled real exports, speed and memory at scale.

    python bench/dedup.py                      # every labelled set, then the scaling run
    python bench/dedup.py --sets respiratory   # some labelled sets only
    python bench/dedup.py --no-scaling         # labelled sets only
    python bench/dedup.py --no-sets --sizes 10000 100000
    python bench/dedup.py --errors respiratory # also list missed and false pairs
    python bench/dedup.py --bib-dedupe /tmp/bdvenv/bin/python   # bib-dedupe beside ours

Each run happens in its own subprocess, so "peak MB" is that process's maximum resident set
(Python, pandas and the data included). Seconds time `deduplicate()` alone.

Labelled sets (/work/shared/benchmarks/dedup, see its README, and the trap set written for the
tests in tests/data/dedup/traps): with `merged_record_ids.csv`,
scoring is by pairs: a true pair shares a gold group; sensitivity = true pairs found / true
pairs, precision = true pairs found / pairs found. `asysd_diabetes` has no group ids, only a
per-record label (kept vs removed by a perfect deduplication), so it is scored per record: in
each found cluster with k records labelled "In_database", k - 1 removals are false (distinct
works merged) and the rest are true, taking the best choice of kept record per cluster;
sensitivity = true removals / 896, precision = true removals / removals.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
from rapidfuzz.distance import Indel

from litreview.dedup import DedupSettings, deduplicate, normalise_doi, normalise_title
from litreview.dedup_cli import read_bibliographic_csv

BENCHMARKS = Path("/work/shared/benchmarks/dedup")
SETS = (
    "respiratory", "cytology_screening", "digital_work", "special_cases", "asysd_diabetes",
    "traps",
)  # fmt: skip
# Written for the tests (tests/data/dedup/traps/README.md): different works that look alike.
TRAPS = Path(__file__).resolve().parents[1] / "tests" / "data" / "dedup" / "traps"
GOLD_COLUMNS_ASYSD = ("label", "source")


# --------------------------------------------------------------------------------------------
# Labelled sets
# --------------------------------------------------------------------------------------------


def load_set(name: str) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.Series | None]:
    """Records (gold columns removed), gold groups (pair sets) or per-record labels (ASySD)."""
    folder = TRAPS if name == "traps" else BENCHMARKS / name
    if name == "asysd_diabetes":
        path = folder / "labelled_test_set.csv"
        records, _ = read_bibliographic_csv(path, encoding="latin-1")
        raw = pd.read_csv(path, encoding="latin-1", dtype=str)
        labels = pd.Series(raw["label"].tolist(), index=raw["record_id"].astype(str).tolist())
        return records.drop(columns=[c for c in GOLD_COLUMNS_ASYSD if c in records]), None, labels
    records, _ = read_bibliographic_csv(folder / "records_pre_merged.csv")
    gold = pd.read_csv(folder / "merged_record_ids.csv", dtype=str)
    return records, gold, None


def labels_without_identical_copies(name: str, labels: pd.Series) -> pd.Series:
    """ASySD labels with byte-identical copies counted as duplicates of each other.

    The file has groups of records identical in all ten bibliographic fields whose labels keep
    two or more copies ("In_database"); no deduplication can honour that. Here only the first
    copy of such a group keeps "In_database" (if any copy had it); the others become removals.
    """
    raw = pd.read_csv(BENCHMARKS / name / "labelled_test_set.csv", encoding="latin-1", dtype=str)
    fields = [c for c in raw.columns if c not in ("record_id", *GOLD_COLUMNS_ASYSD)]
    identity = raw[fields].fillna("").agg("\x1f".join, axis=1)
    fixed = labels.copy()
    for members in (
        pd.Series(raw["record_id"].tolist()).groupby(identity.to_numpy()).groups.values()
    ):
        ids = [raw["record_id"].iat[position] for position in members]
        if len(ids) > 1 and (fixed.loc[ids] == "In_database").any():
            fixed.loc[ids] = "Duplicate_in_trash"
            fixed.loc[ids[0]] = "In_database"
    return fixed


def score_pairs(clusters: pd.Series, gold: pd.DataFrame) -> dict[str, float]:
    """Pair counts: true, found, true found, false; sensitivity and precision."""
    gold_group = {
        record_id: index
        for index, ids in enumerate(gold["merged_ids"])
        for record_id in ids.split(";")
    }
    true_pairs = sum(math.comb(len(ids.split(";")), 2) for ids in gold["merged_ids"])
    found = true_found = 0
    for members in clusters.groupby(clusters.to_numpy()).groups.values():
        found += math.comb(len(members), 2)
        inside = Counter(gold_group.get(member, f"unique:{member}") for member in members)
        true_found += sum(math.comb(count, 2) for count in inside.values())
    return _figures(true_pairs, found, true_found)


def score_records(clusters: pd.Series, labels: pd.Series) -> dict[str, float]:
    """Per-record removals, with the label-optimal kept record in each found cluster."""
    true_removals = int((labels == "Duplicate_in_trash").sum())
    found = true_found = 0
    for members in clusters.groupby(clusters.to_numpy()).groups.values():
        size = len(members)
        in_database = int((labels.loc[list(members)] == "In_database").sum())
        found += size - 1
        true_found += size - max(in_database, 1)
    return _figures(true_removals, found, true_found)


def _figures(true: int, found: int, true_found: int) -> dict[str, float]:
    return {
        "true": true,
        "found": found,
        "false": found - true_found,
        "sensitivity": true_found / true if true else 1.0,
        "precision": true_found / found if found else 1.0,
    }


def error_pairs(name: str, records: pd.DataFrame, clusters: pd.Series, gold: pd.DataFrame) -> None:
    """Print missed and false pairs with their main fields, to see why."""
    by_id = records.set_index("record_id")
    fields = [
        c for c in ("title", "authors", "year", "journal", "volume", "pages", "doi") if c in by_id
    ]
    gold_group = {r: i for i, ids in enumerate(gold["merged_ids"]) for r in ids.split(";")}
    print(f"\n## {name}: missed pairs")
    for ids in gold["merged_ids"]:
        members = ids.split(";")
        for a_index, a in enumerate(members):
            for b in members[a_index + 1 :]:
                if clusters[a] != clusters[b]:
                    _show(by_id, fields, a, b)
    print(f"\n## {name}: false pairs")
    for members in clusters.groupby(clusters.to_numpy()).groups.values():
        members = list(members)
        for a_index, a in enumerate(members):
            for b in members[a_index + 1 :]:
                if gold_group.get(a, a) != gold_group.get(b, b):
                    _show(by_id, fields, a, b)


def _show(by_id: pd.DataFrame, fields: list[str], a: str, b: str) -> None:
    print(f"- {a} / {b}")
    for record_id in (a, b):
        row = by_id.loc[record_id]
        print("    " + " | ".join(f"{f}={str(row[f])[:90]}" for f in fields))


def run_set(name: str, show_errors: bool) -> list[dict[str, float]]:
    """One labelled set: load, deduplicate (timed), score."""
    records, gold, labels = load_set(name)
    started = time.perf_counter()
    result = deduplicate(records, DedupSettings())
    seconds = time.perf_counter() - started
    clusters = pd.Series(
        result.records["cluster_id"].tolist(), index=result.records["record_id"].tolist()
    )
    if gold is not None:
        figures = score_pairs(clusters, gold)
        if show_errors:
            error_pairs(name, records, clusters, gold)
    else:
        figures = score_records(clusters, labels)
        fixed_labels = labels_without_identical_copies(name, labels)
        fixed = score_records(clusters, fixed_labels)
        if show_errors:
            error_records(records, clusters, fixed_labels)
        obvious = obvious_label_conflicts(records, clusters, fixed_labels)
        adjusted = (fixed["found"] - (fixed["false"] - obvious)) / fixed["found"]
        print(
            f"{name}: of {fixed['false']} false removals (copies relabelled), {obvious} merge "
            "records that the labels keep twice although they share DOI and title (or title, "
            f"year and first author); counted as the one work they are, precision is "
            f"{adjusted:.4f}"
        )
        return [
            {"set": name, "records": len(records), **figures, "seconds": seconds},
            {"set": "  copies relabelled", "records": len(records), **fixed, "seconds": seconds},
        ]
    return [{"set": name, "records": len(records), **figures, "seconds": seconds}]


def obvious_label_conflicts(records: pd.DataFrame, clusters: pd.Series, labels: pd.Series) -> int:
    """False removals whose records are plainly one work: every record labelled kept in the
    cluster shares the first one's DOI and title, or its title, year and first author."""
    by_id = records.set_index("record_id")
    count = 0
    for members in clusters.groupby(clusters.to_numpy()).groups.values():
        kept = [m for m in members if labels[m] == "In_database"]
        if len(kept) < 2:
            continue
        first = by_id.loc[kept[0]]
        if all(_plainly_same(first, by_id.loc[other]) for other in kept[1:]):
            count += len(kept) - 1
    return count


def _plainly_same(first: pd.Series, second: pd.Series) -> bool:
    def text(row: pd.Series, field: str) -> str | None:
        value = row.get(field)
        return value if isinstance(value, str) else None

    title_a = normalise_title(text(first, "title")) or ""
    title_b = normalise_title(text(second, "title")) or ""
    doi_a, doi_b = normalise_doi(text(first, "doi")), normalise_doi(text(second, "doi"))
    if doi_a is not None and doi_a == doi_b and Indel.normalized_similarity(title_a, title_b) > 0.9:
        return True
    return (
        title_a == title_b
        and text(first, "year") == text(second, "year")
        and text(first, "first_author") == text(second, "first_author")
    )


def error_records(records: pd.DataFrame, clusters: pd.Series, labels: pd.Series) -> None:
    """ASySD: clusters holding two records labelled kept (false merges), with their fields."""
    by_id = records.set_index("record_id")
    fields = [
        c for c in ("title", "authors", "year", "journal", "volume", "pages", "doi") if c in by_id
    ]
    print("\n## asysd_diabetes: clusters with more than one record labelled In_database")
    for members in clusters.groupby(clusters.to_numpy()).groups.values():
        members = list(members)
        if (labels.loc[members] == "In_database").sum() > 1:
            print("- cluster")
            for record_id in members:
                row = by_id.loc[record_id]
                print(
                    f"    {record_id} {labels[record_id][:5]} "
                    + " | ".join(f"{f}={str(row[f])[:80]}" for f in fields)
                )


# --------------------------------------------------------------------------------------------
# Synthetic records for the scaling run
# --------------------------------------------------------------------------------------------

_SYLLABLES = [
    "ka", "ti", "ro", "me", "sa", "lu", "no", "vi", "de", "ra", "po", "li", "mu", "ta", "ne",
    "so", "ga", "be", "ri", "fo", "ha", "ze", "ki", "ma", "da", "ter", "lin", "gen", "tor",
    "mal", "cor", "ent", "ion", "ase", "ine", "ide", "osis", "itis", "cyt", "path", "card",
    "neur", "gluc",
]  # fmt: skip
_STOP = ("of", "in", "and", "the", "with", "for", "on", "a")
_ACCENTS = {"e": "é", "a": "á", "o": "ö", "u": "ü", "i": "í", "n": "ñ", "c": "ç"}


def _words(rng: np.random.Generator, count: int, low: int, high: int) -> list[str]:
    """Distinct pseudo-words built from syllables."""
    seen: set[str] = set()
    words: list[str] = []
    while len(words) < count:
        word = "".join(rng.choice(_SYLLABLES, size=int(rng.integers(low, high + 1))))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def synthetic_records(total: int, seed: int = 7) -> tuple[pd.DataFrame, list[int]]:
    """`total` records, about 25% of them noisy copies of others; returns records and gold work.

    Noise: typos, case changes, diacritics, HTML entities, truncated titles, dropped DOIs and
    DOI URL forms, swapped first authors, journal abbreviations, year +-1, abbreviated and
    missing pages. Some works are errata or conference abstracts of others (distinct works).
    """
    rng = np.random.default_rng(seed)
    vocabulary = _words(rng, 30000, 2, 4)
    zipf = 1.0 / np.arange(1, len(vocabulary) + 1) ** 0.9
    zipf /= zipf.sum()
    surnames = [w.capitalize() for w in _words(rng, 20000, 2, 3)]
    surname_p = 1.0 / np.arange(1, len(surnames) + 1) ** 0.7
    surname_p /= surname_p.sum()
    journal_words = _words(rng, 600, 3, 4)
    journals = []
    for _ in range(2000):
        words = [w.capitalize() for w in rng.choice(journal_words, size=int(rng.integers(1, 4)))]
        full = "Journal of " + " and ".join(words) if rng.random() < 0.6 else " ".join(words)
        abbrev = " ".join(
            ("J" if w == "Journal" else w[:4]) for w in full.split() if w not in ("of", "and")
        )
        journals.append((full, abbrev))
    works: list[dict] = []
    target_works = int(total / 1.3)
    lengths = rng.integers(6, 18, size=target_works)
    word_ids = iter(rng.choice(len(vocabulary), size=int(lengths.sum()), p=zipf).tolist())
    author_counts = rng.integers(1, 8, size=target_works)
    surname_ids = iter(
        rng.choice(len(surnames), size=int(author_counts.sum()), p=surname_p).tolist()
    )
    letters = "ABCDEFGHJKLMNPRST"
    for work in range(target_works):
        words = []
        for _ in range(int(lengths[work])):
            if rng.random() < 0.25:
                words.append(_STOP[int(rng.integers(len(_STOP)))])
            words.append(vocabulary[next(word_ids)])
        authors = []
        for _ in range(int(author_counts[work])):
            initials = "".join(
                letters[k] for k in rng.integers(len(letters), size=int(rng.integers(1, 3)))
            )
            authors.append(f"{surnames[next(surname_ids)]} {initials}")
        entry = {
            "title": " ".join(words).capitalize(),
            "authors": authors,
            "year": int(rng.integers(1985, 2025)),
            "journal": journals[int(rng.integers(len(journals)))],
            "volume": str(int(rng.integers(1, 300))),
            "first": int(rng.integers(1, 3000)),
            "length": int(rng.integers(1, 20)),
            "doi": f"10.{int(rng.integers(1000, 9999))}/x{work:07d}"
            if rng.random() < 0.8
            else None,
        }
        kind = rng.random()
        if kind < 0.02 and works:  # an erratum of an earlier work: distinct
            base = works[int(rng.integers(len(works)))]
            entry["title"] = "Erratum: " + base["title"]
            entry["authors"] = base["authors"]
            entry["year"] = base["year"] + int(rng.integers(0, 2))
        elif kind < 0.04 and works:  # a conference abstract of an earlier work: distinct
            base = works[int(rng.integers(len(works)))]
            entry["title"] = base["title"]
            entry["authors"] = base["authors"]
            entry["year"] = base["year"] - int(rng.integers(0, 2))
            entry["journal"] = (
                base["journal"][0] + ". Conference: Annual Meeting",
                base["journal"][1] + " Suppl",
            )
        works.append(entry)
    rows: list[dict[str, str | None]] = []
    gold: list[int] = []
    for work, entry in enumerate(works):
        rows.append(_render(entry, rng, noisy=False))
        gold.append(work)
    while len(rows) < total:
        work = int(rng.integers(len(works)))
        rows.append(_render(works[work], rng, noisy=True))
        gold.append(work)
    order = rng.permutation(len(rows))
    table = pd.DataFrame([rows[i] for i in order])
    table.insert(0, "record_id", [f"r{n:07d}" for n in range(len(table))])
    return table, [gold[i] for i in order]


def _typo(rng: np.random.Generator, text: str) -> str:
    position = int(rng.integers(1, max(2, len(text) - 1)))
    action = rng.random()
    if action < 0.33:
        return text[:position] + text[position + 1 :]
    if action < 0.66:
        return text[:position] + str(rng.choice(list("aeioustrn"))) + text[position:]
    return (
        text[:position]
        + text[position + 1 : position + 2]
        + text[position : position + 1]
        + text[position + 2 :]
    )


def _render(entry: dict, rng: np.random.Generator, noisy: bool) -> dict[str, str | None]:
    """One export of a work; `noisy` applies a random mix of real-world export differences."""
    title = entry["title"]
    authors = list(entry["authors"])
    year = entry["year"]
    journal = entry["journal"][0]
    first = entry["first"]
    pages = f"{first}-{first + entry['length']}"
    doi = entry["doi"]
    volume = entry["volume"]
    if noisy:
        if rng.random() < 0.3:
            title = _typo(rng, title)
        if rng.random() < 0.1:
            title = _typo(rng, title)
        if rng.random() < 0.2:
            title = title.upper() if rng.random() < 0.5 else title.title()
        if rng.random() < 0.15:
            title = "".join(_ACCENTS.get(c, c) if rng.random() < 0.1 else c for c in title)
        if rng.random() < 0.1 and len(title) > 90:
            title = title[:80]
        if rng.random() < 0.05:
            title = title.replace(" and ", " &amp; ")
        if rng.random() < 0.1:
            title = title + ". [Article in German]"
        if rng.random() < 0.4:
            doi = None
        elif doi and rng.random() < 0.3:
            doi = "https://doi.org/" + doi.upper()
        if rng.random() < 0.05 and len(authors) > 1:
            authors[0], authors[1] = authors[1], authors[0]
        if rng.random() < 0.5:
            journal = entry["journal"][1]
        if rng.random() < 0.1:
            year += int(rng.choice([-1, 1]))
        if rng.random() < 0.2:
            pages = f"{first}-{str(first + entry['length'])[-1]}"
        if rng.random() < 0.1:
            pages = None
        if rng.random() < 0.05:
            volume = None
    return {
        "title": title,
        "authors": "; ".join(authors),
        "year": str(year),
        "journal": journal,
        "volume": volume,
        "pages": pages,
        "doi": doi,
    }


def run_synthetic(total: int) -> dict[str, float]:
    """Deduplicate `total` synthetic records (timed), with accuracy against the generator."""
    records, gold = synthetic_records(total)
    started = time.perf_counter()
    result = deduplicate(records, DedupSettings())
    seconds = time.perf_counter() - started
    clusters = pd.Series(result.records["cluster_id"].tolist(), index=records["record_id"].tolist())
    groups: dict[int, list[str]] = {}
    for record_id, work in zip(records["record_id"], gold, strict=True):
        groups.setdefault(work, []).append(record_id)
    gold_table = pd.DataFrame(
        {"merged_ids": [";".join(ids) for ids in groups.values() if len(ids) > 1]}
    )
    return {
        "set": f"synthetic {total}",
        "records": total,
        **score_pairs(clusters, gold_table),
        "seconds": seconds,
    }


# --------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------


def _child(kind: str, value: str, show_errors: bool) -> None:
    """Run one measurement in this (sub)process and print its figures as JSON."""
    rows = run_set(value, show_errors) if kind == "set" else [run_synthetic(int(value))]
    for figures in rows:
        figures["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(rows))


def _in_subprocess(kind: str, value: str, show_errors: bool) -> tuple[list[dict], list[str]]:
    """Figures of one measurement run in a fresh interpreter, and the lines it printed."""
    command = [sys.executable, __file__, "--child", kind, value]
    if show_errors:
        command.append("--show-errors")
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"{kind} {value} failed:\n{completed.stderr}")
    lines = completed.stdout.splitlines()
    result = next(line for line in lines if line.startswith("RESULT "))
    return json.loads(result.removeprefix("RESULT ")), [
        line for line in lines if not line.startswith("RESULT ")
    ]


COLUMNS = (
    ("set", "<22", "{}"),
    ("records", ">8", "{}"),
    ("true", ">7", "{}"),
    ("found", ">7", "{}"),
    ("false", ">7", "{}"),
    ("sensitivity", ">12", "{:.3f}"),
    ("precision", ">10", "{:.4f}"),
    ("seconds", ">8", "{:.2f}"),
    ("peak_mb", ">8", "{:.0f}"),
)


def set_file(name: str) -> tuple[Path, str]:
    """The CSV of a labelled set as bib-dedupe reads it, and its encoding."""
    if name == "asysd_diabetes":
        return BENCHMARKS / name / "labelled_test_set.csv", "latin-1"
    return (TRAPS if name == "traps" else BENCHMARKS / name) / "records_pre_merged.csv", "utf-8"


def run_bib_dedupe(python: str, name: str) -> dict | None:
    """bib-dedupe's figures on one set (run under `python`, where it is installed), scored as
    ours are; None if it fails there."""
    path, encoding = set_file(name)
    script = Path(__file__).with_name("bib_dedupe_run.py")
    completed = subprocess.run(
        [python, str(script), str(path), encoding], capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        print(f"bib-dedupe failed on {name}: {completed.stderr.strip().splitlines()[-1:]}")
        return None
    output = json.loads(completed.stdout.strip().splitlines()[-1])
    records, gold, labels = load_set(name)
    clusters = pd.Series(output["clusters"]).reindex(records["record_id"].astype(str).tolist())
    clusters = clusters.fillna(pd.Series(clusters.index, index=clusters.index))
    if gold is not None:
        figures = score_pairs(clusters, gold)
    else:
        fixed_labels = labels_without_identical_copies(name, labels)
        figures = score_records(clusters, fixed_labels)
        obvious = obvious_label_conflicts(records, clusters, fixed_labels)
        adjusted = (figures["found"] - (figures["false"] - obvious)) / figures["found"]
        print(
            f"{name}: bib-dedupe's {figures['false']} false removals include {obvious} of "
            f"plainly identical records; counted as one work, its precision is {adjusted:.4f}"
        )
    return {
        "set": "  bib-dedupe" + (" (relabelled)" if gold is None else ""),
        "records": len(records), **figures,
        "seconds": output["seconds"], "peak_mb": output["peak_mb"],
    }  # fmt: skip


def _print_row(row: dict) -> None:
    cells = (format(template.format(row[name]), width) for name, width, template in COLUMNS)
    print("".join(cells), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="*", default=list(SETS), choices=SETS)
    parser.add_argument("--no-sets", action="store_true", help="skip the labelled sets")
    parser.add_argument("--no-scaling", action="store_true", help="skip the synthetic runs")
    parser.add_argument("--sizes", nargs="*", type=int, default=[10_000, 100_000])
    parser.add_argument("--errors", nargs="*", default=[], help="sets whose errors to list")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--show-errors", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--bib-dedupe",
        metavar="PYTHON",
        help="an interpreter with bib-dedupe installed: its figures are printed beside ours",
    )
    args = parser.parse_args()
    if args.child:
        _child(args.child[0], args.child[1], args.show_errors)
        return
    print("".join(format(name, width) for name, width, _ in COLUMNS))
    notes: list[str] = []
    if not args.no_sets:
        for name in args.sets:
            rows, printed = _in_subprocess("set", name, name in args.errors)
            for row in rows:
                _print_row(row)
            notes.extend(printed)
            if args.bib_dedupe:
                theirs = run_bib_dedupe(args.bib_dedupe, name)
                if theirs is not None:
                    _print_row(theirs)
    timings = {}
    if not args.no_scaling:
        for size in args.sizes:
            rows, printed = _in_subprocess("synthetic", str(size), False)
            _print_row(rows[0])
            timings[size] = rows[0]["seconds"]
            notes.extend(printed)
    if 10_000 in timings and 100_000 in timings:
        print(f"time(100k)/time(10k) = {timings[100_000] / timings[10_000]:.1f}")
    print("asysd_diabetes: true/found/false count removed records (per-record labels), not pairs")
    for line in notes:
        print(line)


if __name__ == "__main__":
    main()
