"""How long each step of "Starting a new review" takes: init, the first live search (against the
local E-utilities server, NCBI's rate limit on), screening, extraction, regeneration.

    python bench/new_review.py

Prints one line per step with its wall-clock seconds. Uses the installed `litreview`.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from openpyxl import load_workbook

from litreview.testing.eutils import EutilsServer

REPO = Path(__file__).resolve().parents[1]
STORE_XML = REPO / "tests" / "reviews" / "antibiotic_prophylaxis" / "pubmed.xml"
QUERY = '"surgical site infection"[tiab] OR "wound infection"[tiab]'


def litreview(folder: Path, *arguments: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "litreview.cli", *arguments],
        cwd=folder,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as name:
        home = Path(name)
        steps = [("litreview init", litreview(home, "init", "review"))]
        review = home / "review"
        config = review / "config" / "config.yaml"
        text = config.read_text()
        text = text.replace("query: REPLACE WITH YOUR PUBMED QUERY", f"query: '{QUERY}'")
        text = text.replace("email: you@example.org", "email: bench@lab.example")
        config.write_text(text.replace("maxdate: 2025/12/31", "maxdate: 2024/12/31"))
        store = home / "store"
        store.mkdir()
        (store / "pubmed.xml").write_bytes(STORE_XML.read_bytes())
        with EutilsServer(store, rate_limit=True) as server:
            seconds = litreview(
                review,
                "run",
                "--cores",
                "1",
                "--config",
                "search.mode=live",
                f"entrez.base_url={server.base_url}",
            )
        steps.append(("first live search and run (12 records)", seconds))
        queue = load_workbook(review / "results" / "screening" / "queue.xlsx")
        sheet = queue["screening"]
        header = [cell.value for cell in sheet[1]]
        for row in sheet.iter_rows(min_row=2):
            row[header.index("stage")].value = "full_text"
            row[header.index("decision")].value = "include"
            row[header.index("reviewer")].value = "A"
        queue.save(review / "config" / "screening.xlsx")
        steps.append(("run after screening", litreview(review, "run", "--cores", "1")))
        form = load_workbook(review / "results" / "extraction" / "form.xlsx")
        for number, row in enumerate(form["studies"].iter_rows(min_row=2)):
            row[1].value, row[2].value, row[3].value = f"Study{number}", "rct", 100 + number
        form.save(review / "config" / "extraction" / "studies.xlsx")
        steps.append(("run after extraction", litreview(review, "run", "--cores", "1")))
        steps.append(("rerun, nothing changed", litreview(review, "run", "--cores", "1")))
    for step, seconds in steps:
        print(f"{step:45s} {seconds:6.2f} s")


if __name__ == "__main__":
    main()
