"""Screening speed: the automatic criteria and category suggestions of the first review's
config over N synthetic records (realistic titles, abstracts, MeSH), records per second.

    python bench/screen.py                 # 5,000, 20,000 and 50,000 records
    python bench/screen.py --sizes 50000

Each size runs in this process after the config is read; seconds time the screening of the
records alone (criteria + category suggestion), not reading or writing tables.
"""

from __future__ import annotations

import argparse
import random
import resource
import time
from pathlib import Path

import pandas as pd
import yaml

from litreview.screen import ScreeningSettings, screen

CONFIG = Path(__file__).resolve().parents[1] / "config" / "config.yaml"
WORDS = ["stem", "cells", "intra-arterial", "stroke", "ischemic", "rat", "mouse", "brain",
    "infarct", "volume", "neurological", "outcome", "mesenchymal", "bone", "marrow",
    "transplantation", "delivery", "carotid", "artery", "safety", "efficacy", "trial",
    "patients", "randomised", "cohort", "review", "meta-analysis", "exosomes", "vesicles",
    "therapy", "recovery", "functional", "motor", "cognitive", "inflammation", "microglia",
    "angiogenesis", "neurogenesis", "dose", "timing"]  # fmt: skip
MESH = ["Animals", "Humans", "Rats", "Stroke", "Brain Ischemia", "Stem Cell Transplantation",
        "Mesenchymal Stem Cells", "Injections, Intra-Arterial", "Male", "Female", "Mice"]  # fmt: skip
TYPES = ["Journal Article", "Review", "Randomized Controlled Trial", "Comment", "Case Reports"]


def synthetic(count: int, seed: int = 11) -> pd.DataFrame:
    rng = random.Random(seed)
    rows = []
    for number in range(count):
        rows.append(
            {
                "record_id": f"pubmed:{10_000_000 + number}",
                "title": " ".join(rng.choices(WORDS, k=rng.randint(8, 18))).capitalize(),
                "abstract": " ".join(rng.choices(WORDS, k=rng.randint(120, 260))),
                "mesh": "; ".join(rng.sample(MESH, k=rng.randint(2, 6))),
                "keywords": "; ".join(rng.sample(WORDS, k=3)),
                "publication_types": "; ".join(rng.sample(TYPES, k=rng.randint(1, 2))),
                "languages": rng.choice(["eng", "eng", "eng", "jpn"]),
                "year": str(rng.randint(1995, 2025)),
                "publication_date": f"{rng.randint(1995, 2025)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
                "is_retracted": "False",
                "is_retraction_notice": "False",
            }
        )
    return pd.DataFrame(rows, dtype="string")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="*", type=int, default=[5_000, 20_000, 50_000])
    args = parser.parse_args()
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    settings = ScreeningSettings.from_config(config["screening"])
    print(f"{'records':>8} {'seconds':>8} {'records/s':>10} {'peak_mb':>8}")
    for size in args.sizes:
        records = synthetic(size)
        started = time.process_time()
        screen(records, [], settings)
        seconds = time.process_time() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{size:>8} {seconds:>8.2f} {size / seconds:>10.0f} {peak:>8.0f}", flush=True)


if __name__ == "__main__":
    main()
