"""Reviews from several fields, each a folder of config and sheets run end to end."""

from __future__ import annotations

from pathlib import Path

import yaml

from litreview.extract.form import Form, form_from_config
from litreview.screen import ScreeningSettings

REPO = Path(__file__).resolve().parents[2]


def form_of(config_path: Path) -> Form:
    """The declared extraction form of a review's config."""
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    screening = ScreeningSettings.from_config(config["screening"])
    categories = {c.name: c.label or c.name for c in screening.categories}
    return form_from_config(config["extraction"], screening_categories=categories)


def first_review_form() -> Form:
    return form_of(REPO / "config" / "config.yaml")


def run_workflow(directory: Path, *arguments: str):
    """`snakemake --cores 1` of this repository's workflow in `directory`; fails with its output."""
    import subprocess
    import sys

    command = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(REPO / "workflow" / "Snakefile"),
        "--directory",
        str(directory),
        "--cores",
        "1",
        *arguments,
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise AssertionError(f"snakemake failed:\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}")
    return result


def take_snapshot(
    folder: Path,
    pubmed_xml: bytes,
    pmids: list[str],
    origin: str,
    *,
    translation: str | None = None,
    started_at=None,
) -> None:
    """A first search of the review in `folder`, through the live code path, against the local
    E-utilities server serving `pubmed_xml` for the review's query."""
    import json
    import tempfile

    from litreview.entrez import EntrezSettings
    from litreview.search import run_search
    from litreview.testing.eutils import EutilsServer

    config = yaml.safe_load((folder / "config" / "config.yaml").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as store_name:
        store = Path(store_name)
        (store / "pubmed.xml").write_bytes(pubmed_xml)
        (store / "queries.json").write_text(json.dumps({config["search"]["query"]: pmids}))
        if translation is not None:
            (store / "translations.json").write_text(
                json.dumps({config["search"]["query"]: translation})
            )
        with EutilsServer(store) as server:
            settings = EntrezSettings(
                email="tests@example.org", base_url=server.base_url, requests_per_second=1000.0
            )
            run_search(
                settings,
                config["search"]["query"],
                mindate=config["search"]["mindate"],
                maxdate=config["search"]["maxdate"],
                snapshots_root=folder / "resources" / "snapshots",
                origin=origin,
                progress=False,
                started_at=started_at,
            )
