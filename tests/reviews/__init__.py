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
