"""The review's counts, tables and figures, rebuilt from the normalised extraction tables.

Input: `results/extraction/studies.tsv`, `doses.tsv` and `timings.tsv` (written by
`litreview.extract`; layout in the issue-5 contract) and `RegenerationSettings` (category, disease
and timing-bin codes from config). Output, under a results folder: `tables/*.csv` + `*.md`,
`figures/*.png` + `*.svg`, and `tables/metrics.tsv`. Everything is a pure function of the
inputs: the same tables give byte-identical files (fixed SVG hash salt, no dates, fixed jitter).

Sets of studies
    "stroke": the studies of the stem-cell category (`stem_cell_category`) whose disease is
    `stroke_disease`; "TBI" and "ICH" likewise with `tbi_disease` and `ich_disease` (within the
    stem-cell category); "clinical": the `clinical_category`; "exosome": the `exosome_category`.
    A dose value is one row of doses.tsv (an arm, or one end of a range); its species is the
    row's own, else the study's. A study's timing is `timing_hours_min` (its earliest), binned
    with the settings' bins ([min_hours, max_hours)): "other" when in no bin, "not reported"
    when missing. Missing codes (origin group, tissue, modification) count as "not_reported",
    so every percent's denominator is the whole group and the parts add up to 100.

Metrics (`tables/metrics.tsv`: metric, value, unit, n, detail)
    `n` is the number of studies a value rests on: for a count or percent, the group counted in
    (the denominator); for a dose or timing statistic, the studies that contribute values.
    Percents are 0-100 (unrounded), doses in cells/kg (unscaled), particles as counted. A metric
    that cannot be computed is listed with value NA and a detail saying what is missing.

    included_total                          studies in the studies table
    category.<category>                     studies per category (every settings category,
                                            0 when none; unknown codes in the data too)
    disease.<category>.<disease>            studies per disease within a category
    disease_percent.<category>.<disease>    ... as percent of the category
    stroke.studies                          studies in the stroke set
    stroke.origin_percent.<group>           human / animal (always) and not_reported (if any):
                                            percent of stroke studies (origin_group)
    stroke.origin_detail_percent.<origin>   per origin code (human, animal_allogeneic, ...)
    stroke.tissue_percent.<group>.<tissue>  tissue source within each origin group (human,
                                            animal): percent of that group's stroke studies
    stroke.tissue_group_percent.<group>.<name>  the settings' `tissue_groups` (several tissue
                                            codes counted together), always listed for human
                                            and animal
    stroke.unmodified_percent               percent of stroke studies with unmodified cells
    stroke.modified_percent                 ... with modified cells
    stroke.modification_percent.<code>      ... per modification code (and not_reported)
    stroke.dose_per_kg.min / .max / .median over every dose value in cells/kg (estimated
                                            per-kg values included; the detail counts them)
    stroke.dose_per_kg.min.<species>, .median.<species>, .max.<species>   per species
    stroke.dose_per_kg.studies_above_ceiling  studies with a dose value above the safety
                                            ceiling (NA when no ceiling is configured)
    stroke.timing_bin_count.<bin>           stroke studies whose earliest timing is in the bin:
                                            every settings bin, then other and not_reported
    stroke.timing_bin_any_count.<bin>       stroke studies with any timing value in the bin
    stroke.timing_bin_order                 text: the settings bins with studies, most studies
                                            first ("day 1; 1-6 h; day 2-3"), ties in bin order
    stroke.timing_hours.min / .max          over every timing value of the stroke studies
    tbi.studies, ich.studies                studies in the TBI / ICH sets
    tbi.dose_per_kg.min / .max              over the TBI set's dose values, cells/kg
    tbi.timing_days.min / .max              over the TBI set's timing values, days
    ich.dose_per_kg.min / .max, ich.timing_days.min / .max   the same for ICH
    exosome.dose_particles.min / .max       over the exosome set's doses in particles
    clinical.trials                         studies in the clinical category
    clinical.patients                       sum of `n` over clinical studies reporting it
    clinical.dose_per_kg.min / .max         over the clinical set's dose values, cells/kg
    mechanism.studies                       studies naming at least one mechanism
    mechanism.<code>                        studies naming the mechanism (n: mechanism.studies)
    study.<key>.dose_per_kg.min / .max      per study with a dose in cells/kg
    study.<key>.timing_hours.min / .max     per study with a timing
    (<key> is the study's label, or "label (record_id)" when labels repeat, or the record_id
    when it has none.)

Tables (`tables/`, each as .csv and .md)
    counts, fig1_cell_sources, table1_modified (modified cells in the stem-cell category),
    fig2_dose_per_kg, fig3_timing, table2_mechanisms (+ table2_mechanisms_matrix),
    tableS1_tbi, table3_clinical. Doses in tables are in the display unit (`dose_display_unit`,
    e.g. 1e5 cells/kg), to three significant digits; "(est.)" marks a per-kg value estimated
    from a reference body weight.

Figures (`figures/`, each as .png and .svg)
    fig1_cell_sources, fig2_dose_per_kg, fig3_timing.
"""

from __future__ import annotations

import io
import math
import statistics
import textwrap
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from litreview.errors import ConfigError, InputFileError
from litreview.io import read_table, write_bytes, write_table, write_text
from litreview.units import check_timing_bins

__all__ = [
    "DEFAULT_TIMING_BINS",
    "DoseRow",
    "Extraction",
    "RegenerationSettings",
    "StudyRow",
    "TimingRow",
    "cell_source_table",
    "clinical_table",
    "count_table",
    "dose_points",
    "dose_table",
    "figure_cell_sources",
    "figure_dose_per_kg",
    "figure_timing",
    "mechanism_matrix",
    "mechanism_table",
    "metrics_table",
    "modified_table",
    "prepare",
    "read_extraction",
    "regenerate",
    "tbi_table",
    "timing_table",
    "to_markdown",
    "write_outputs",
]

NOT_REPORTED = "not_reported"
OTHER_BIN = "other"
NOT_REPORTED_BIN = "not reported"

DEFAULT_CATEGORIES: tuple[tuple[str, str], ...] = (
    ("preclinical_stem_cell", "Preclinical stem-cell studies"),
    ("preclinical_exosome", "Preclinical exosome / EV studies"),
    ("clinical_stem_cell", "Clinical stem-cell studies"),
)
# This review's bins: "immediately" (0 h) apart from 1-6 h; each bin ends where the next begins.
DEFAULT_TIMING_BINS: tuple[Mapping[str, Any], ...] = (
    {"label": "<1 h", "min_hours": 0, "max_hours": 1},
    {"label": "1-6 h", "min_hours": 1, "max_hours": 12},
    {"label": "day 1", "min_hours": 12, "max_hours": 36},
    {"label": "day 2-3", "min_hours": 36, "max_hours": 84},
    {"label": "day 4-7", "min_hours": 84, "max_hours": 180},
    {"label": "day 8-14", "min_hours": 180, "max_hours": 348},
)
DEFAULT_LABELS: Mapping[str, str] = {
    "fetal_brain_nsc": "fetal brain NSC",
    "induced_pluripotent": "induced pluripotent",
    "umbilical_cord_blood": "umbilical cord blood",
    "animal_allogeneic": "animal, allogeneic",
    "animal_autologous": "animal, autologous",
    "animal_syngeneic": "animal, syngeneic",
    "animal_xenogeneic": "animal, xenogeneic",
    "er_protection": "ER protection",
    "bbb_protection": "BBB protection",
    NOT_REPORTED: "not reported",
}
DEFAULT_SPECIES_ORDER = ("mouse", "rat", "rabbit", "dog", "pig", "sheep", "monkey", "human")
DEFAULT_TISSUE_GROUPS: Mapping[str, tuple[str, ...]] = {
    "fetal_brain_nsc_or_neural_crest": ("fetal_brain_nsc", "neural_crest"),
}

# Okabe-Ito colours: distinguishable with colour-blindness and in greyscale print.
_BLUE, _ORANGE, _GREEN, _VERMILION, _GREY = "#0072B2", "#E69F00", "#009E73", "#D55E00", "#999999"
_GROUP_COLOURS = {"human": _BLUE, "animal": _ORANGE}
_SPECIES_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")


# --- settings -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RegenerationSettings:
    """The codes and display choices the regeneration needs, all from config.

    Defaults are this review's; `from_config` reads `screening.categories`,
    `extraction.timing_bins` and the `regenerate:` section.
    """

    categories: tuple[tuple[str, str], ...] = DEFAULT_CATEGORIES
    stem_cell_category: str = "preclinical_stem_cell"
    exosome_category: str = "preclinical_exosome"
    clinical_category: str = "clinical_stem_cell"
    stroke_disease: str = "ischemic_stroke"
    tbi_disease: str = "traumatic_brain_injury"
    ich_disease: str = "intracerebral_hemorrhage"
    timing_bins: tuple[Mapping[str, Any], ...] = DEFAULT_TIMING_BINS
    safety_ceiling_per_kg: float | None = 3.5e5
    dose_display_unit: float = 1e5
    tissue_groups: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: dict(DEFAULT_TISSUE_GROUPS)
    )
    labels: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_LABELS))
    species_order: tuple[str, ...] = DEFAULT_SPECIES_ORDER
    figure_dpi: float = 200
    figure_font_size: float = 10

    def __post_init__(self) -> None:
        codes = [code for code, _ in self.categories]
        if not codes or len(set(codes)) != len(codes):
            raise ConfigError(f"categories must be a non-empty list of unique codes, got {codes}")
        for key in ("stem_cell_category", "exosome_category", "clinical_category"):
            if getattr(self, key) not in codes:
                raise ConfigError(
                    f"regenerate.{key} is {getattr(self, key)!r}, not one of the screening "
                    f"categories ({', '.join(codes)}): set it to a category name"
                )
        check_timing_bins(list(self.timing_bins))
        for label in (OTHER_BIN, NOT_REPORTED_BIN):
            if label in {entry["label"] for entry in self.timing_bins}:
                raise ConfigError(f"timing bin label {label!r} is reserved: rename the bin")
        ceiling = self.safety_ceiling_per_kg
        if ceiling is not None and not (_is_number(ceiling) and ceiling > 0):
            raise ConfigError(
                f"regenerate.safety_ceiling_per_kg is {ceiling!r}: give cells/kg (> 0) or null"
            )
        if not (_is_number(self.dose_display_unit) and self.dose_display_unit > 0):
            raise ConfigError(
                f"regenerate.dose_display_unit is {self.dose_display_unit!r}: give cells/kg "
                "(> 0), e.g. 1e5"
            )
        for key in ("figure_dpi", "figure_font_size"):
            value = getattr(self, key)
            if not (_is_number(value) and value > 0):
                raise ConfigError(f"regenerate.figures: {key} is {value!r}, not a positive number")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> RegenerationSettings:
        """Settings from the workflow config; a key missing from it keeps this review's default.

        `regenerate:` keys: stem_cell_category, exosome_category, clinical_category,
        stroke_disease, tbi_disease, ich_disease, safety_ceiling_per_kg (null: none),
        dose_display_unit, tissue_groups ({name: [tissue codes]}), labels ({code: text}),
        species_order, figures ({dpi, font_size}).
        """
        options: dict[str, Any] = {}
        categories = (config.get("screening") or {}).get("categories")
        if categories is not None:
            options["categories"] = tuple(_category_entry(entry) for entry in categories)
        bins = (config.get("extraction") or {}).get("timing_bins")
        if bins is not None:
            options["timing_bins"] = tuple(bins)
        section = dict(config.get("regenerate") or {})
        plain = {
            "stem_cell_category",
            "exosome_category",
            "clinical_category",
            "stroke_disease",
            "tbi_disease",
            "ich_disease",
            "safety_ceiling_per_kg",
            "dose_display_unit",
        }
        unknown = set(section) - plain - {"tissue_groups", "labels", "species_order", "figures"}
        if unknown:
            raise ConfigError(
                f"regenerate: unknown key(s) {sorted(unknown)}; known: "
                f"{sorted([*plain, 'tissue_groups', 'labels', 'species_order', 'figures'])}"
            )
        options.update({key: value for key, value in section.items() if key in plain})
        if "tissue_groups" in section:
            groups = section["tissue_groups"] or {}
            options["tissue_groups"] = {str(name): tuple(codes) for name, codes in groups.items()}
        if "labels" in section:
            options["labels"] = {**DEFAULT_LABELS, **(section["labels"] or {})}
        if "species_order" in section:
            options["species_order"] = tuple(section["species_order"] or ())
        figures = dict(section.get("figures") or {})
        if set(figures) - {"dpi", "font_size"}:
            raise ConfigError(
                f"regenerate.figures: unknown key(s) {sorted(set(figures) - {'dpi', 'font_size'})}"
                "; known: dpi, font_size"
            )
        if "dpi" in figures:
            options["figure_dpi"] = figures["dpi"]
        if "font_size" in figures:
            options["figure_font_size"] = figures["font_size"]
        return cls(**options)

    def label(self, code: str) -> str:
        """How a code is shown: the configured text, else the code with spaces."""
        return self.labels.get(code, code.replace("_", " "))

    def category_label(self, code: str) -> str:
        return dict(self.categories).get(code, self.label(code))

    def dose_unit_text(self, *, superscript: bool = False) -> str:
        """ "×10^5 cells/kg" for tables; "×10⁵ cells/kg" in figures."""
        exponent = math.log10(self.dose_display_unit)
        if abs(exponent - round(exponent)) > 1e-9:
            return f"×{_format_number(self.dose_display_unit)} cells/kg"
        power = round(exponent)
        if power == 0:
            return "cells/kg"
        if superscript:
            return f"×10{str(power).translate(_SUPERSCRIPTS)} cells/kg"
        return f"×10^{power} cells/kg"


_SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _category_entry(entry: Any) -> tuple[str, str]:
    if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
        raise ConfigError(f"screening.categories: entry {entry!r} needs a name")
    label = entry.get("label")
    return entry["name"], label if isinstance(label, str) and label else entry["name"]


# --- input tables -------------------------------------------------------------------------

STUDY_COLUMNS = (
    "record_id",
    "label",
    "category",
    "disease",
    "species",
    "cell_type",
    "tissue_source",
    "origin",
    "origin_group",
    "modification",
    "modified",
    "modification_aim",
    "mechanisms",
    "outcome",
    "adverse_events",
    "n",
    "registry_id",
    "clinical_source",
    "timing_hours_min",
)
DOSE_COLUMNS = ("record_id", "species", "text", "value", "unit", "cells_per_kg", "per_kg_estimated")
TIMING_COLUMNS = ("record_id", "text", "hours")


@dataclass(frozen=True)
class StudyRow:
    """One row of studies.tsv, typed. `row` is its 1-based file row (header = 1)."""

    row: int
    record_id: str
    label: str | None
    category: str
    disease: str | None
    species: str | None
    cell_type: str | None
    tissue_source: str | None
    origin: str | None
    origin_group: str | None
    modification: str | None
    modified: bool | None
    modification_aim: str | None
    mechanisms: tuple[str, ...]
    outcome: str | None
    adverse_events: str | None
    n: int | None
    registry_id: str | None
    clinical_source: str | None
    timing_hours_min: float | None


@dataclass(frozen=True)
class DoseRow:
    """One dose value of doses.tsv; `species` already falls back to the study's."""

    row: int
    record_id: str
    species: str | None
    text: str | None
    value: float | None
    unit: str | None
    cells_per_kg: float | None
    per_kg_estimated: bool | None


@dataclass(frozen=True)
class TimingRow:
    row: int
    record_id: str
    text: str | None
    hours: float | None


@dataclass(frozen=True)
class Extraction:
    """The three normalised tables, checked and typed, in the studies table's order."""

    studies: tuple[StudyRow, ...]
    doses: tuple[DoseRow, ...]
    timings: tuple[TimingRow, ...]

    def doses_of(self, studies: Iterable[StudyRow]) -> list[DoseRow]:
        wanted = {study.record_id for study in studies}
        return [dose for dose in self.doses if dose.record_id in wanted]

    def timings_of(self, studies: Iterable[StudyRow]) -> list[TimingRow]:
        wanted = {study.record_id for study in studies}
        return [timing for timing in self.timings if timing.record_id in wanted]


class _Cells:
    """Typed reading of one table's cells; errors name the table, 1-based row and column."""

    def __init__(self, source: str | Path, table: pd.DataFrame, required: Sequence[str]) -> None:
        missing = [column for column in required if column not in table.columns]
        if missing:
            raise InputFileError(
                source,
                f"missing column(s) {', '.join(map(repr, missing))}",
                row=1,
                hint="regenerate reads the tables litreview.extract writes: rerun the extract step",
            )
        self.source = source
        self.records = table.to_dict("records")

    def text(self, index: int, column: str) -> str | None:
        value = self.records[index].get(column)
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return None
        text = str(value).strip()
        return text or None

    def number(self, index: int, column: str) -> float | None:
        value = self.records[index].get(column)
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return None
        if isinstance(value, bool):
            raise self.error(index, column, f"{value!r} is not a number")
        try:
            number = float(str(value).strip()) if isinstance(value, str) else float(value)
        except ValueError:
            if isinstance(value, str) and not value.strip():
                return None
            raise self.error(index, column, f"{value!r} is not a number") from None
        if math.isnan(number):
            return None
        if math.isinf(number):
            raise self.error(index, column, f"{value!r} is not a finite number")
        return number

    def integer(self, index: int, column: str) -> int | None:
        number = self.number(index, column)
        if number is None:
            return None
        if not number.is_integer():
            raise self.error(index, column, f"{number!r} is not a whole number")
        return int(number)

    def flag(self, index: int, column: str) -> bool | None:
        value = self.records[index].get(column)
        if isinstance(value, bool | np.bool_):
            return bool(value)
        text = self.text(index, column)
        if text is None:
            return None
        lowered = text.lower()
        if lowered in {"true", "1", "yes"}:
            return True
        if lowered in {"false", "0", "no"}:
            return False
        raise self.error(index, column, f"{text!r} is not true/false")

    def error(self, index: int, column: str, problem: str) -> InputFileError:
        return InputFileError(
            self.source,
            problem,
            row=index + 2,
            column=column,
            hint="the extraction tables are generated: fix the extraction sheet and rerun extract",
        )


def prepare(
    studies: pd.DataFrame,
    doses: pd.DataFrame,
    timings: pd.DataFrame,
    *,
    sources: Mapping[str, str | Path] | None = None,
) -> Extraction:
    """Check and type the three tables (strings from TSV, or typed columns alike).

    Every study needs a unique record_id and a category; every dose and timing must belong to a
    study. `sources` names the files in errors (keys studies, doses, timings).
    """
    names = {"studies": "studies.tsv", "doses": "doses.tsv", "timings": "timings.tsv"}
    names.update({key: str(value) for key, value in (sources or {}).items()})
    study_cells = _Cells(names["studies"], studies, STUDY_COLUMNS)
    study_rows: list[StudyRow] = []
    seen: dict[str, int] = {}
    for index in range(len(study_cells.records)):
        record_id = study_cells.text(index, "record_id")
        if record_id is None:
            raise study_cells.error(index, "record_id", "the study has no record_id")
        if record_id in seen:
            raise study_cells.error(
                index, "record_id", f"{record_id!r} is also in row {seen[record_id]}"
            )
        seen[record_id] = index + 2
        category = study_cells.text(index, "category")
        if category is None:
            raise study_cells.error(index, "category", f"study {record_id!r} has no category")
        mechanisms = study_cells.text(index, "mechanisms") or ""
        study_rows.append(
            StudyRow(
                row=index + 2,
                record_id=record_id,
                label=study_cells.text(index, "label"),
                category=category,
                disease=study_cells.text(index, "disease"),
                species=study_cells.text(index, "species"),
                cell_type=study_cells.text(index, "cell_type"),
                tissue_source=study_cells.text(index, "tissue_source"),
                origin=study_cells.text(index, "origin"),
                origin_group=study_cells.text(index, "origin_group"),
                modification=study_cells.text(index, "modification"),
                modified=study_cells.flag(index, "modified"),
                modification_aim=study_cells.text(index, "modification_aim"),
                mechanisms=tuple(
                    dict.fromkeys(part.strip() for part in mechanisms.split(";") if part.strip())
                ),
                outcome=study_cells.text(index, "outcome"),
                adverse_events=study_cells.text(index, "adverse_events"),
                n=study_cells.integer(index, "n"),
                registry_id=study_cells.text(index, "registry_id"),
                clinical_source=study_cells.text(index, "clinical_source"),
                timing_hours_min=study_cells.number(index, "timing_hours_min"),
            )
        )
    by_id = {study.record_id: study for study in study_rows}

    def owner(cells: _Cells, index: int) -> StudyRow:
        record_id = cells.text(index, "record_id")
        if record_id is None or record_id not in by_id:
            raise cells.error(
                index, "record_id", f"{record_id!r} is not a record_id of the studies table"
            )
        return by_id[record_id]

    dose_cells = _Cells(names["doses"], doses, DOSE_COLUMNS)
    dose_rows = []
    for index in range(len(dose_cells.records)):
        study = owner(dose_cells, index)
        per_kg = dose_cells.number(index, "cells_per_kg")
        if per_kg is not None and per_kg < 0:
            raise dose_cells.error(index, "cells_per_kg", f"{per_kg!r} is a negative dose")
        if per_kg == 0:
            # A zero dose (a vehicle arm, the low end of "0 to 1x10^6") has no place on a log
            # axis nor in per-kg statistics: it stays in doses.tsv and is left out here.
            per_kg = None
        dose_rows.append(
            DoseRow(
                row=index + 2,
                record_id=study.record_id,
                species=dose_cells.text(index, "species") or study.species,
                text=dose_cells.text(index, "text"),
                value=dose_cells.number(index, "value"),
                unit=dose_cells.text(index, "unit"),
                cells_per_kg=per_kg,
                per_kg_estimated=dose_cells.flag(index, "per_kg_estimated"),
            )
        )
    timing_cells = _Cells(names["timings"], timings, TIMING_COLUMNS)
    timing_rows = [
        TimingRow(
            row=index + 2,
            record_id=owner(timing_cells, index).record_id,
            text=timing_cells.text(index, "text"),
            hours=timing_cells.number(index, "hours"),
        )
        for index in range(len(timing_cells.records))
    ]
    return Extraction(tuple(study_rows), tuple(dose_rows), tuple(timing_rows))


def read_extraction(
    studies_path: str | Path, doses_path: str | Path, timings_path: str | Path
) -> Extraction:
    """Read and check the three TSVs litreview.extract writes."""
    tables = {}
    for key, path in (("studies", studies_path), ("doses", doses_path), ("timings", timings_path)):
        if not Path(path).exists():
            raise InputFileError(path, "file not found", hint="run the extract step first")
        tables[key] = read_table(path)
    return prepare(
        tables["studies"],
        tables["doses"],
        tables["timings"],
        sources={"studies": studies_path, "doses": doses_path, "timings": timings_path},
    )


# --- study sets ---------------------------------------------------------------------------


def _in_set(data: Extraction, category: str, disease: str | None = None) -> list[StudyRow]:
    return [
        study
        for study in data.studies
        if study.category == category and (disease is None or study.disease == disease)
    ]


def _stroke(data: Extraction, settings: RegenerationSettings) -> list[StudyRow]:
    return _in_set(data, settings.stem_cell_category, settings.stroke_disease)


def _study_keys(data: Extraction) -> dict[str, str]:
    """record_id -> the name a study goes by in tables and metrics (label, made unique)."""
    labels = Counter(study.label for study in data.studies if study.label)
    keys = {}
    for study in data.studies:
        if study.label is None:
            keys[study.record_id] = study.record_id
        elif labels[study.label] > 1:
            keys[study.record_id] = f"{study.label} ({study.record_id})"
        else:
            keys[study.record_id] = study.label
    return keys


def _by_label(studies: Iterable[StudyRow], keys: Mapping[str, str]) -> list[StudyRow]:
    return sorted(studies, key=lambda study: (keys[study.record_id].lower(), study.record_id))


def _percent(part: int, whole: int) -> float | None:
    return None if whole == 0 else 100 * part / whole


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _counted(values: Iterable[str | None]) -> list[tuple[str, int]]:
    """Codes by count, most frequent first (then by code), not_reported last."""
    counts = Counter(value or NOT_REPORTED for value in values)
    return sorted(counts.items(), key=lambda item: (item[0] == NOT_REPORTED, -item[1], item[0]))


def _modification_state(study: StudyRow) -> str:
    if study.modified is None:
        return NOT_REPORTED
    if not study.modified:
        return "none"
    return study.modification or "modified_unspecified"


# --- tables -------------------------------------------------------------------------------


def count_table(data: Extraction, settings: RegenerationSettings) -> pd.DataFrame:
    """Counts by category (with the total) and by disease within each category.

    Columns: level (total / category / disease), category, category_label, disease, count,
    percent (of all studies for a category, of its category for a disease; one decimal).
    """
    total = len(data.studies)
    rows: list[dict[str, Any]] = [
        {
            "level": "total",
            "category": None,
            "category_label": "All included studies",
            "disease": None,
            "count": total,
            "percent": 100.0 if total else None,
        }
    ]
    for category in _category_order(data, settings):
        members = _in_set(data, category)
        rows.append(
            {
                "level": "category",
                "category": category,
                "category_label": settings.category_label(category),
                "disease": None,
                "count": len(members),
                "percent": _round(_percent(len(members), total)),
            }
        )
        for disease, count in _counted(study.disease for study in members):
            rows.append(
                {
                    "level": "disease",
                    "category": category,
                    "category_label": settings.category_label(category),
                    "disease": disease,
                    "count": count,
                    "percent": _round(_percent(count, len(members))),
                }
            )
    return _frame(rows, ["level", "category", "category_label", "disease", "count", "percent"])


def _category_order(data: Extraction, settings: RegenerationSettings) -> list[str]:
    known = [code for code, _ in settings.categories]
    extra = sorted({study.category for study in data.studies} - set(known))
    return known + extra


def cell_source_table(data: Extraction, settings: RegenerationSettings) -> pd.DataFrame:
    """Figure 1's numbers: origin, tissue within each origin group, modification (stroke set).

    Columns: panel (origin / origin_detail / tissue / modification), group (all, or the origin
    group for tissue), code, label, count, denominator, percent (one decimal).
    """
    stroke = _stroke(data, settings)
    rows: list[dict[str, Any]] = []

    def add(panel: str, group: str, members: Sequence[StudyRow], values: list[str | None]) -> None:
        for code, count in _counted(values):
            rows.append(
                {
                    "panel": panel,
                    "group": group,
                    "code": code,
                    "label": settings.label(code),
                    "count": count,
                    "denominator": len(members),
                    "percent": _round(_percent(count, len(members))),
                }
            )

    add("origin", "all", stroke, [study.origin_group for study in stroke])
    add("origin_detail", "all", stroke, [study.origin for study in stroke])
    for group in _origin_groups(stroke):
        members = [study for study in stroke if (study.origin_group or NOT_REPORTED) == group]
        add("tissue", group, members, [study.tissue_source for study in members])
    add("modification", "all", stroke, [_modification_state(study) for study in stroke])
    columns = ["panel", "group", "code", "label", "count", "denominator", "percent"]
    return _frame(rows, columns)


def _origin_groups(stroke: Sequence[StudyRow]) -> list[str]:
    present = {study.origin_group or NOT_REPORTED for study in stroke}
    ordered = [group for group in ("human", "animal") if group in present]
    return ordered + sorted(present - {"human", "animal"}, key=lambda g: (g == NOT_REPORTED, g))


def modified_table(data: Extraction, settings: RegenerationSettings) -> pd.DataFrame:
    """Table 1: studies of the stem-cell category whose cells were modified, and why."""
    keys = _study_keys(data)
    members = [
        study for study in _in_set(data, settings.stem_cell_category) if study.modified is True
    ]
    rows = [
        {
            "study": keys[study.record_id],
            "disease": _label_or_none(settings, study.disease),
            "cell_type": study.cell_type,
            "modification": _label_or_none(settings, study.modification),
            "aim": study.modification_aim,
        }
        for study in _by_label(members, keys)
    ]
    return _frame(rows, ["study", "disease", "cell_type", "modification", "aim"])


def _label_or_none(settings: RegenerationSettings, code: str | None) -> str | None:
    return None if code is None else settings.label(code)


def dose_points(data: Extraction, settings: RegenerationSettings) -> pd.DataFrame:
    """Figure 2's points: every dose value in cells/kg of the stroke set, one row each.

    Columns: study, record_id, species, cells_per_kg, estimated (per-kg value from a reference
    body weight). Sorted by species, value and study, so the figure's jitter is reproducible.
    """
    keys = _study_keys(data)
    rows = [
        {
            "study": keys[dose.record_id],
            "record_id": dose.record_id,
            "species": dose.species or NOT_REPORTED,
            "cells_per_kg": dose.cells_per_kg,
            "estimated": bool(dose.per_kg_estimated),
        }
        for dose in data.doses_of(_stroke(data, settings))
        if dose.cells_per_kg is not None
    ]
    table = _frame(rows, ["study", "record_id", "species", "cells_per_kg", "estimated"])
    if table.empty:
        return table
    order = {species: index for index, species in enumerate(_species_order(rows, settings))}
    table["_order"] = [order[species] for species in table["species"]]
    table = table.sort_values(["_order", "cells_per_kg", "study"], kind="mergesort")
    return table.drop(columns="_order").reset_index(drop=True)


def _species_order(rows: Iterable[Mapping[str, Any]], settings: RegenerationSettings) -> list[str]:
    present = {row["species"] for row in rows}
    ordered = [species for species in settings.species_order if species in present]
    rest = sorted(present - set(ordered), key=lambda s: (s == NOT_REPORTED, s))
    return ordered + rest


def dose_table(data: Extraction, settings: RegenerationSettings) -> pd.DataFrame:
    """Figure 2's table: per species, studies, values, estimated values, min/median/max.

    Doses are in the display unit (e.g. ×10^5 cells/kg) to three significant digits.
    """
    points = dose_points(data, settings)
    unit = settings.dose_unit_text()
    rows = []
    species_list = list(dict.fromkeys(points["species"])) if not points.empty else []
    for species in species_list:
        chosen = points[points["species"] == species]
        values = [float(value) for value in chosen["cells_per_kg"]]
        rows.append(
            {
                "species": species,
                "studies": chosen["record_id"].nunique(),
                "values": len(values),
                "estimated_values": int(chosen["estimated"].sum()),
                f"min ({unit})": _display(min(values), settings),
                f"median ({unit})": _display(statistics.median(values), settings),
                f"max ({unit})": _display(max(values), settings),
            }
        )
    columns = ["species", "studies", "values", "estimated_values"] + [
        f"{name} ({unit})" for name in ("min", "median", "max")
    ]
    return _frame(rows, columns)


def _display(cells_per_kg: float, settings: RegenerationSettings) -> float:
    return _significant(cells_per_kg / settings.dose_display_unit)


def _significant(value: float, digits: int = 3) -> float:
    if value == 0:
        return 0.0
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def _bin_label(hours: float | None, bins: Sequence[tuple[str, float, float]]) -> str:
    if hours is None:
        return NOT_REPORTED_BIN
    for label, low, high in bins:
        if low <= hours < high:
            return label
    return OTHER_BIN


def timing_table(data: Extraction, settings: RegenerationSettings) -> pd.DataFrame:
    """Figure 3's table: stroke studies per timing bin, in the settings' order.

    `studies`: by the study's earliest timing (each study once); `studies_any_timing`: studies
    with any timing value in the bin. "other" and "not reported" rows only when non-empty.
    """
    bins = check_timing_bins(list(settings.timing_bins))
    stroke = _stroke(data, settings)
    earliest = Counter(_bin_label(study.timing_hours_min, bins) for study in stroke)
    any_bin: Counter[str] = Counter()
    for study in stroke:
        hours = [t.hours for t in data.timings_of([study]) if t.hours is not None]
        any_bin.update({_bin_label(value, bins) for value in hours} or {NOT_REPORTED_BIN})
    rows = [
        {
            "bin": label,
            "min_hours": None if math.isinf(low) else low,
            "max_hours": None if math.isinf(high) else high,
            "studies": earliest[label],
            "studies_any_timing": any_bin[label],
        }
        for label, low, high in bins
    ]
    for extra in (OTHER_BIN, NOT_REPORTED_BIN):
        if earliest[extra] or any_bin[extra]:
            rows.append(
                {
                    "bin": extra,
                    "min_hours": None,
                    "max_hours": None,
                    "studies": earliest[extra],
                    "studies_any_timing": any_bin[extra],
                }
            )
    table = _frame(rows, ["bin", "min_hours", "max_hours", "studies", "studies_any_timing"])
    for column in ("min_hours", "max_hours"):
        table[column] = pd.array(
            [None if pd.isna(value) else float(value) for value in table[column]],
            dtype="Float64",
        )
    return table


def mechanism_table(data: Extraction, settings: RegenerationSettings) -> pd.DataFrame:
    """Table 2: each mechanism, how many studies name it, and which (all included studies)."""
    keys = _study_keys(data)
    named: dict[str, list[str]] = {}
    for study in _by_label(data.studies, keys):
        for mechanism in study.mechanisms:
            named.setdefault(mechanism, []).append(keys[study.record_id])
    ordered = sorted(named.items(), key=lambda item: (-len(item[1]), item[0]))
    rows = [
        {
            "mechanism": code,
            "label": settings.label(code),
            "studies": len(studies),
            "study_labels": "; ".join(studies),
        }
        for code, studies in ordered
    ]
    return _frame(rows, ["mechanism", "label", "studies", "study_labels"])


def mechanism_matrix(data: Extraction, settings: RegenerationSettings) -> pd.DataFrame:
    """Study x mechanism (1 = named), for the studies naming any; columns as in Table 2."""
    keys = _study_keys(data)
    codes = list(mechanism_table(data, settings)["mechanism"])
    rows = [
        {
            "study": keys[study.record_id],
            "category": study.category,
            **{code: int(code in study.mechanisms) for code in codes},
        }
        for study in _by_label(data.studies, keys)
        if study.mechanisms
    ]
    return _frame(rows, ["study", "category", *codes])


def _dose_text(data: Extraction, study: StudyRow) -> str | None:
    texts = [dose.text for dose in data.doses_of([study]) if dose.text]
    return "; ".join(dict.fromkeys(texts)) or None


def _timing_text(data: Extraction, study: StudyRow) -> str | None:
    texts = [timing.text for timing in data.timings_of([study]) if timing.text]
    return "; ".join(dict.fromkeys(texts)) or None


def _per_kg_text(data: Extraction, study: StudyRow, settings: RegenerationSettings) -> str | None:
    doses = [dose for dose in data.doses_of([study]) if dose.cells_per_kg is not None]
    if not doses:
        return None
    values = [dose.cells_per_kg for dose in doses if dose.cells_per_kg is not None]
    low, high = min(values), max(values)
    text = _format_number(_display(low, settings))
    if high != low:
        text += f"–{_format_number(_display(high, settings))}"
    if any(dose.per_kg_estimated for dose in doses):
        text += " (est.)"
    return text


def _days_text(data: Extraction, study: StudyRow) -> str | None:
    hours = [t.hours for t in data.timings_of([study]) if t.hours is not None]
    if not hours:
        return None
    low, high = min(hours) / 24, max(hours) / 24
    text = _format_number(_significant(low))
    return text if high == low else f"{text}–{_format_number(_significant(high))}"


def tbi_table(data: Extraction, settings: RegenerationSettings) -> pd.DataFrame:
    """Table S1: the TBI studies of the stem-cell category."""
    keys = _study_keys(data)
    per_kg = f"dose per kg ({settings.dose_unit_text()})"
    members = _in_set(data, settings.stem_cell_category, settings.tbi_disease)
    rows = [
        {
            "study": keys[study.record_id],
            "species": study.species,
            "cell_type": study.cell_type,
            "dose_as_reported": _dose_text(data, study),
            per_kg: _per_kg_text(data, study, settings),
            "timing_as_reported": _timing_text(data, study),
            "timing (days)": _days_text(data, study),
        }
        for study in _by_label(members, keys)
    ]
    columns = ["study", "species", "cell_type", "dose_as_reported", per_kg]
    return _frame(rows, [*columns, "timing_as_reported", "timing (days)"])


def clinical_table(data: Extraction, settings: RegenerationSettings) -> pd.DataFrame:
    """Table 3: the clinical studies."""
    keys = _study_keys(data)
    per_kg = f"dose per kg ({settings.dose_unit_text()})"
    members = _in_set(data, settings.clinical_category)
    rows = [
        {
            "study": keys[study.record_id],
            "disease": _label_or_none(settings, study.disease),
            "cell_type": study.cell_type,
            "clinical_source": study.clinical_source,
            "dose_as_reported": _dose_text(data, study),
            per_kg: _per_kg_text(data, study, settings),
            "n": study.n,
            "timing_as_reported": _timing_text(data, study),
            "outcome": study.outcome,
            "adverse_events": study.adverse_events,
            "registry_id": study.registry_id,
        }
        for study in _by_label(members, keys)
    ]
    columns = ["study", "disease", "cell_type", "clinical_source", "dose_as_reported", per_kg]
    table = _frame(
        rows, [*columns, "n", "timing_as_reported", "outcome", "adverse_events", "registry_id"]
    )
    table["n"] = pd.array([None if pd.isna(v) else int(v) for v in table["n"]], dtype="Int64")
    return table


def _frame(rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    """A DataFrame with these columns even when there are no rows; None stays missing."""
    table = pd.DataFrame.from_records(rows, columns=columns)
    for column in columns:
        values = list(table[column])
        if values and all(
            isinstance(v, int | np.integer) and not isinstance(v, bool) for v in values
        ):
            table[column] = pd.array(values, dtype="Int64")
    return table


# --- metrics ------------------------------------------------------------------------------


class _Metrics:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def add(self, metric: str, value: float | None, unit: str, n: int, detail: str) -> None:
        self.rows.append(
            {
                "metric": metric,
                "value": None if value is None else float(value),
                "unit": unit,
                "n": n,
                "detail": detail,
            }
        )

    def add_text(self, metric: str, value: str | None, unit: str, n: int, detail: str) -> None:
        """A metric whose value is text (e.g. an order of labels)."""
        self.rows.append({"metric": metric, "value": value, "unit": unit, "n": n, "detail": detail})

    def percent(self, metric: str, part: int, whole: int, what: str) -> None:
        value = _percent(part, whole)
        detail = f"{part} of {whole} {what}" if whole else f"no {what}"
        self.add(metric, value, "percent", whole, detail)

    def spread(
        self,
        prefix: str,
        values: Sequence[tuple[str, float]],
        unit: str,
        what: str,
        *,
        scale: float = 1.0,
        median: bool = False,
        suffix: str = "",
    ) -> None:
        """min/max (and median) of (record_id, value) pairs; NA with a reason when empty."""
        studies = len({record_id for record_id, _ in values})
        numbers = [value * scale for _, value in values]
        stats: list[tuple[str, Callable[[list[float]], float]]] = [("min", min), ("max", max)]
        if median:
            stats.insert(1, ("median", statistics.median))
        for name, function in stats:
            metric = f"{prefix}.{name}{suffix}"
            if numbers:
                detail = (
                    f"{name} of {_plural(len(numbers), 'value')} from "
                    f"{_plural(studies, 'study')} ({what})"
                )
                self.add(metric, function(numbers), unit, studies, detail)
            else:
                self.add(metric, None, unit, 0, f"no values: {what}")


def metrics_table(data: Extraction, settings: RegenerationSettings) -> pd.DataFrame:
    """Every metric of the module docstring: metric, value (float; NaN when NA), unit, n, detail."""
    metrics = _Metrics()
    total = len(data.studies)
    metrics.add("included_total", total, "studies", total, "studies in the studies table")
    for category in _category_order(data, settings):
        members = _in_set(data, category)
        metrics.add(f"category.{category}", len(members), "studies", total, f"of {total} studies")
        for disease, count in _counted(study.disease for study in members):
            metrics.add(
                f"disease.{category}.{disease}", count, "studies", len(members), f"in {category}"
            )
            metrics.percent(
                f"disease_percent.{category}.{disease}", count, len(members), f"{category} studies"
            )
    _stroke_metrics(metrics, data, settings)
    _other_set_metrics(metrics, data, settings)
    _mechanism_metrics(metrics, data)
    _study_metrics(metrics, data)
    return pd.DataFrame.from_records(
        metrics.rows, columns=["metric", "value", "unit", "n", "detail"]
    )


def _stroke_metrics(metrics: _Metrics, data: Extraction, settings: RegenerationSettings) -> None:
    stroke = _stroke(data, settings)
    what = f"{settings.stroke_disease} studies of {settings.stem_cell_category}"
    metrics.add("stroke.studies", len(stroke), "studies", len(stroke), what)
    groups = Counter(study.origin_group or NOT_REPORTED for study in stroke)
    for group in ["human", "animal", *sorted(set(groups) - {"human", "animal"})]:
        metrics.percent(f"stroke.origin_percent.{group}", groups[group], len(stroke), what)
    for origin, count in _counted(study.origin for study in stroke):
        metrics.percent(f"stroke.origin_detail_percent.{origin}", count, len(stroke), what)
    for group in ["human", "animal", *sorted(set(groups) - {"human", "animal"})]:
        members = [study for study in stroke if (study.origin_group or NOT_REPORTED) == group]
        group_what = f"{what} with origin group {group}"
        tissues = Counter(study.tissue_source or NOT_REPORTED for study in members)
        for tissue, count in _counted(study.tissue_source for study in members):
            metrics.percent(
                f"stroke.tissue_percent.{group}.{tissue}", count, len(members), group_what
            )
        if group in {"human", "animal"}:
            for name, codes in settings.tissue_groups.items():
                count = sum(tissues[code] for code in codes)
                metrics.percent(
                    f"stroke.tissue_group_percent.{group}.{name}",
                    count,
                    len(members),
                    f"{group_what} (tissue {' or '.join(codes)})",
                )
    states = Counter(_modification_state(study) for study in stroke)
    modified = sum(count for state, count in states.items() if state not in {"none", NOT_REPORTED})
    metrics.percent("stroke.unmodified_percent", states["none"], len(stroke), what)
    metrics.percent("stroke.modified_percent", modified, len(stroke), what)
    for state, count in _counted(_modification_state(study) for study in stroke):
        metrics.percent(f"stroke.modification_percent.{state}", count, len(stroke), what)

    doses = [d for d in data.doses_of(stroke) if d.cells_per_kg is not None]
    pairs = [(d.record_id, d.cells_per_kg) for d in doses if d.cells_per_kg is not None]
    estimated = sum(1 for d in doses if d.per_kg_estimated)
    dose_what = f"{what}, dose in cells/kg; {estimated} values estimated from reference weights"
    metrics.spread("stroke.dose_per_kg", pairs, "cells/kg", dose_what, median=True)
    species_rows = [{"species": d.species or NOT_REPORTED} for d in doses]
    for species in _species_order(species_rows, settings):
        chosen = [
            (d.record_id, d.cells_per_kg)
            for d in doses
            if (d.species or NOT_REPORTED) == species and d.cells_per_kg is not None
        ]
        metrics.spread(
            "stroke.dose_per_kg",
            chosen,
            "cells/kg",
            f"{what}, species {species}",
            median=True,
            suffix=f".{species}",
        )
    ceiling = settings.safety_ceiling_per_kg
    if ceiling is None:
        metrics.add(
            "stroke.dose_per_kg.studies_above_ceiling", None, "studies", 0, "no safety ceiling set"
        )
    else:
        above = {record_id for record_id, value in pairs if value > ceiling}
        with_dose = len({record_id for record_id, _ in pairs})
        metrics.add(
            "stroke.dose_per_kg.studies_above_ceiling",
            len(above),
            "studies",
            with_dose,
            f"{len(above)} of {with_dose} studies with a dose above {_format_number(ceiling)} "
            "cells/kg",
        )
    timing = timing_table(data, settings)
    earliest = dict(zip(timing["bin"], timing["studies"], strict=True))
    any_timing = dict(zip(timing["bin"], timing["studies_any_timing"], strict=True))
    labels = [entry["label"] for entry in settings.timing_bins]
    for label in [*labels, OTHER_BIN, NOT_REPORTED_BIN]:
        key = label.replace(" ", "_") if label == NOT_REPORTED_BIN else label
        metrics.add(
            f"stroke.timing_bin_count.{key}",
            int(earliest.get(label, 0)),
            "studies",
            len(stroke),
            f"{what} whose earliest timing is in {label!r}",
        )
        metrics.add(
            f"stroke.timing_bin_any_count.{key}",
            int(any_timing.get(label, 0)),
            "studies",
            len(stroke),
            f"{what} with a timing in {label!r}",
        )
    counted = [(label, int(earliest.get(label, 0))) for label in labels]
    order = [label for label, n in sorted(counted, key=lambda item: -item[1]) if n > 0]
    metrics.add_text(
        "stroke.timing_bin_order",
        "; ".join(order) or None,
        "bins",
        len(stroke),
        f"timing bins by number of {what} (earliest timing), most first; ties in bin order",
    )
    hours = [(t.record_id, t.hours) for t in data.timings_of(stroke) if t.hours is not None]
    metrics.spread("stroke.timing_hours", hours, "hours", f"{what}, timing values")


def _other_set_metrics(metrics: _Metrics, data: Extraction, settings: RegenerationSettings) -> None:
    for prefix, disease in (("tbi", settings.tbi_disease), ("ich", settings.ich_disease)):
        members = _in_set(data, settings.stem_cell_category, disease)
        what = f"{disease} studies of {settings.stem_cell_category}"
        metrics.add(f"{prefix}.studies", len(members), "studies", len(members), what)
        metrics.spread(f"{prefix}.dose_per_kg", _per_kg_pairs(data, members), "cells/kg", what)
        hours = [(t.record_id, t.hours) for t in data.timings_of(members) if t.hours is not None]
        metrics.spread(f"{prefix}.timing_days", hours, "days", what, scale=1 / 24)
    exosome = _in_set(data, settings.exosome_category)
    particles = [
        (d.record_id, d.value)
        for d in data.doses_of(exosome)
        if d.unit == "particles" and d.value is not None
    ]
    metrics.spread(
        "exosome.dose_particles",
        particles,
        "particles",
        f"{settings.exosome_category} doses in particles",
    )
    clinical = _in_set(data, settings.clinical_category)
    what = f"{settings.clinical_category} studies"
    metrics.add("clinical.trials", len(clinical), "studies", len(clinical), what)
    reported = [study.n for study in clinical if study.n is not None]
    metrics.add(
        "clinical.patients",
        sum(reported) if reported else None,
        "patients",
        len(reported),
        f"sum of n over {len(reported)} of {len(clinical)} {what} reporting n"
        if reported
        else f"no n reported in the {what}",
    )
    metrics.spread("clinical.dose_per_kg", _per_kg_pairs(data, clinical), "cells/kg", what)


def _per_kg_pairs(data: Extraction, studies: Sequence[StudyRow]) -> list[tuple[str, float]]:
    return [(d.record_id, d.cells_per_kg) for d in data.doses_of(studies) if d.cells_per_kg]


def _mechanism_metrics(metrics: _Metrics, data: Extraction) -> None:
    naming = [study for study in data.studies if study.mechanisms]
    metrics.add(
        "mechanism.studies", len(naming), "studies", len(data.studies), "studies naming a mechanism"
    )
    counts = Counter(mechanism for study in naming for mechanism in study.mechanisms)
    for mechanism, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        metrics.add(f"mechanism.{mechanism}", count, "studies", len(naming), "studies naming it")


def _study_metrics(metrics: _Metrics, data: Extraction) -> None:
    keys = _study_keys(data)
    for study in _by_label(data.studies, keys):
        key = keys[study.record_id]
        pairs = _per_kg_pairs(data, [study])
        if pairs:
            metrics.spread(f"study.{key}.dose_per_kg", pairs, "cells/kg", study.record_id)
        hours = [(t.record_id, t.hours) for t in data.timings_of([study]) if t.hours is not None]
        if hours:
            metrics.spread(f"study.{key}.timing_hours", hours, "hours", study.record_id)


# --- Markdown -----------------------------------------------------------------------------


def to_markdown(table: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table; numbers right-aligned, missing values empty.

    "|" in a cell is escaped and line breaks become spaces, so every row has as many cells as
    the header.
    """
    numeric = [
        pd.api.types.is_numeric_dtype(table[column])
        and not pd.api.types.is_bool_dtype(table[column])
        for column in table.columns
    ]
    header = "| " + " | ".join(_markdown_cell(column) for column in table.columns) + " |"
    rule = "|" + "|".join("---:" if right else "---" for right in numeric) + "|"
    lines = [header, rule]
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(_markdown_cell(value) for value in row) + " |")
    return "\n".join(lines) + "\n"


def _markdown_cell(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, bool | np.bool_):
        text = "yes" if value else "no"
    elif isinstance(value, float | np.floating):
        text = _format_number(float(value))
    else:
        text = str(value)
    return " ".join(text.replace("|", "\\|").split())


def _format_number(value: float) -> str:
    """Up to six significant digits, no trailing zeros: 80.3, 36.4, 350000, 3e+11."""
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def _metric_value(value: object) -> str:
    if value is None or pd.isna(value):  # type: ignore[arg-type]
        return "NA"
    if isinstance(value, str):  # a text metric (an order of labels)
        return value
    return format(float(value), ".10g")  # type: ignore[arg-type]


# --- figures ------------------------------------------------------------------------------


def _rc(settings: RegenerationSettings) -> dict[str, Any]:
    return {
        "svg.hashsalt": "litreview-regenerate",
        "svg.fonttype": "none",
        "font.family": ["DejaVu Sans", "sans-serif"],
        "font.size": settings.figure_font_size,
        "axes.titlesize": settings.figure_font_size + 1,
        "axes.titleweight": "bold",
        "axes.spines.top": False,
        "axes.spines.right": False,
        "text.parse_math": False,
        "path.simplify": False,
    }


def _render(
    draw: Callable[[Any], None], settings: RegenerationSettings, size: tuple[float, float]
) -> dict[str, bytes]:
    """Draw once, save as SVG (no date, fixed ids) and PNG."""
    import matplotlib as mpl
    from matplotlib.figure import Figure

    with mpl.rc_context(_rc(settings)):
        figure = Figure(figsize=size, layout="constrained")
        draw(figure)
        outputs = {}
        for file_format, metadata in (("svg", {"Date": None}), ("png", {})):
            buffer = io.BytesIO()
            figure.savefig(buffer, format=file_format, dpi=settings.figure_dpi, metadata=metadata)
            outputs[file_format] = buffer.getvalue()
    return outputs


def _no_data(axes: Any, message: str) -> None:
    axes.text(0.5, 0.5, message, ha="center", va="center", transform=axes.transAxes, color=_GREY)
    axes.set_xticks([])
    axes.set_yticks([])


def _percent_bars(
    axes: Any, title: str, entries: pd.DataFrame, colours: Sequence[str], *, bars: int
) -> None:
    """Horizontal percent bars, largest on top, each labelled "52% (n = 15)" at its end."""
    axes.set_title(title, loc="left")
    if entries.empty:
        _no_data(axes, "no studies")
        return
    labels = [textwrap.fill(str(label), 24) for label in entries["label"]]
    positions = list(range(len(labels)))
    percents = [float(value) for value in entries["percent"]]
    axes.barh(positions, percents, color=list(colours)[: len(labels)], height=0.7)
    for position, percent, count in zip(positions, percents, entries["count"], strict=True):
        axes.text(percent + 1.5, position, f"{percent:.1f}% (n = {count})", va="center")
    axes.set_yticks(positions, labels)
    axes.set_ylim(bars - 0.5, -0.5)  # same bar thickness in every panel; first entry on top
    axes.set_xlim(0, 135)
    axes.set_xticks([0, 25, 50, 75, 100])
    axes.spines["bottom"].set_bounds(0, 100)
    axes.set_xlabel("% of studies")
    axes.tick_params(axis="y", length=0)


def figure_cell_sources(data: Extraction, settings: RegenerationSettings) -> dict[str, bytes]:
    """Figure 1: origin, tissue within each origin group, and modification, as % bars."""
    table = cell_source_table(data, settings)
    stroke = _stroke(data, settings)

    def rows(panel: str, group: str = "all") -> pd.DataFrame:
        return table[(table["panel"] == panel) & (table["group"] == group)]

    origin = rows("origin")
    modification = rows("modification")
    groups = [group for group in ("human", "animal") if group in set(origin["code"])]
    tissue_panels = [(group, rows("tissue", group)) for group in groups] or [("human", rows("x"))]
    top = max(len(origin), len(modification), 1)
    bottom = max([len(panel) for _, panel in tissue_panels] + [1])

    def draw(figure: Any) -> None:
        grid = figure.add_gridspec(2, 2, height_ratios=[top + 1.5, bottom + 1.5])
        figure.suptitle(
            "Figure 1. Cell sources in the ischemic-stroke studies "
            f"({settings.category_label(settings.stem_cell_category).lower()}, "
            f"n = {len(stroke)})",
            fontweight="bold",
        )
        colours = [_GROUP_COLOURS.get(code, _GREY) for code in origin["code"]]
        _percent_bars(
            figure.add_subplot(grid[0, 0]),
            f"A. Origin of the cells (n = {len(stroke)})",
            origin,
            colours,
            bars=top,
        )
        modification_colours = [
            _GREEN if code == "none" else _GREY if code == NOT_REPORTED else _VERMILION
            for code in modification["code"]
        ]
        shown = modification.assign(
            label=[
                "unmodified" if code == "none" else label
                for code, label in zip(modification["code"], modification["label"], strict=True)
            ]
        )
        _percent_bars(
            figure.add_subplot(grid[0, 1]),
            f"B. Modified cells: {_modified_share(modification):.1f}% (n = {len(stroke)})"
            if stroke
            else "B. Modified cells (n = 0)",
            shown,
            modification_colours,
            bars=top,
        )
        for column, (group, panel) in enumerate(tissue_panels[:2]):
            letter = "CD"[column]
            size = int(panel["denominator"].iloc[0]) if not panel.empty else 0
            colour = _GROUP_COLOURS.get(group, _GREY)
            _percent_bars(
                figure.add_subplot(grid[1, column]),
                f"{letter}. Tissue, {group}-origin cells (n = {size})",
                panel,
                [_GREY if code == NOT_REPORTED else colour for code in panel["code"]],
                bars=bottom,
            )

    return _render(draw, settings, (11, 2.2 + 0.42 * (top + bottom)))


def figure_dose_per_kg(data: Extraction, settings: RegenerationSettings) -> dict[str, bytes]:
    """Figure 2: each dose value by species on a log axis, medians, and the safety ceiling."""
    from matplotlib.lines import Line2D

    points = dose_points(data, settings)
    unit = settings.dose_display_unit
    species_list = list(dict.fromkeys(points["species"])) if not points.empty else []
    stroke = _stroke(data, settings)

    def draw(figure: Any) -> None:
        axes = figure.add_subplot()
        studies = points["record_id"].nunique() if not points.empty else 0
        axes.set_title(
            "Figure 2. Dose per kg body weight by species, ischemic-stroke studies\n"
            f"({studies} of {len(stroke)} studies with a dose in cells/kg; "
            f"{len(points)} dose values)",
            loc="left",
        )
        if points.empty:
            _no_data(axes, "no doses in cells/kg")
            return
        generator = np.random.default_rng(20250805)
        for index, species in enumerate(species_list):
            chosen = points[points["species"] == species]
            values = chosen["cells_per_kg"].to_numpy(dtype=float) / unit
            jitter = generator.uniform(-0.22, 0.22, size=len(values))
            colour = _SPECIES_COLOURS[index % len(_SPECIES_COLOURS)]
            estimated = chosen["estimated"].to_numpy(dtype=bool)
            for mask, face in ((~estimated, colour), (estimated, "none")):
                axes.scatter(
                    index + jitter[mask],
                    values[mask],
                    s=30,
                    facecolors=face,
                    edgecolors=colour,
                    linewidths=1.2,
                    alpha=0.85,
                    zorder=3,
                )
            median = statistics.median(values)
            axes.hlines(median, index - 0.3, index + 0.3, color="#000000", linewidth=2.2, zorder=2)
            axes.text(
                index + 0.33,
                median,
                _format_number(_significant(median)),
                va="center",
                ha="left",
                fontweight="bold",
                zorder=5,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1, "alpha": 0.8},
            )
        axes.set_yscale("log")
        low = float(points["cells_per_kg"].min()) / unit
        high = float(points["cells_per_kg"].max()) / unit
        ceiling = settings.safety_ceiling_per_kg
        if ceiling is not None:
            low, high = min(low, ceiling / unit), max(high, ceiling / unit)
            axes.axhline(ceiling / unit, color=_VERMILION, linestyle="--", linewidth=1.3)
        # Whole decades, so both ends of the axis carry a labelled tick.
        axes.set_ylim(
            10 ** math.floor(math.log10(low) - 0.1), 10 ** math.ceil(math.log10(high) + 0.1)
        )
        axes.yaxis.set_major_formatter(_plain_log_formatter())
        axes.yaxis.set_minor_formatter(_blank_formatter())
        axes.set_xlim(-0.6, len(species_list) - 0.4)
        tick_labels = []
        for species in species_list:
            chosen = points[points["species"] == species]
            tick_labels.append(
                f"{settings.label(species)}\n{_plural(chosen['record_id'].nunique(), 'study')}\n"
                f"{_plural(len(chosen), 'value')}"
            )
        axes.set_xticks(range(len(species_list)), tick_labels)
        axes.set_ylabel(f"dose ({settings.dose_unit_text(superscript=True)})")
        axes.grid(axis="y", which="major", color="#DDDDDD", linewidth=0.6)
        axes.set_axisbelow(True)
        handles = [
            Line2D(
                [],
                [],
                marker="o",
                markersize=7,
                linestyle="",
                color="#555555",
                label="reported per kg or study weight",
            ),
            Line2D(
                [],
                [],
                marker="o",
                markersize=7,
                markeredgewidth=1.5,
                linestyle="",
                markerfacecolor="none",
                color="#555555",
                label="estimated per kg (reference body weight)",
            ),
            Line2D([], [], color="#000000", linewidth=2.2, label="median (value written)"),
        ]
        if ceiling is not None:
            handles.append(
                Line2D(
                    [],
                    [],
                    color=_VERMILION,
                    linestyle="--",
                    label="suggested safety ceiling "
                    f"({_format_number(_significant(ceiling / unit))} "
                    f"{settings.dose_unit_text(superscript=True)})",
                )
            )
        figure.legend(handles=handles, loc="outside lower center", ncols=2, frameon=False)

    return _render(draw, settings, (max(9.5, 1.6 * len(species_list) + 3), 6.2))


class _PlainLog:
    """Tick labels on a log axis as plain numbers (0.1, 1, 10, 1000) rather than 10^k."""

    def __call__(self, value: float, _position: int | None = None) -> str:
        return _format_number(_significant(value)) if value > 0 else ""


def _plain_log_formatter() -> Any:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(_PlainLog())


def _blank_formatter() -> Any:
    from matplotlib.ticker import NullFormatter

    return NullFormatter()


def figure_timing(data: Extraction, settings: RegenerationSettings) -> dict[str, bytes]:
    """Figure 3: stroke studies per timing bin (earliest timing of each study)."""
    table = timing_table(data, settings)
    stroke = _stroke(data, settings)

    def draw(figure: Any) -> None:
        axes = figure.add_subplot()
        axes.set_title(
            "Figure 3. Timing of intra-arterial transplantation, ischemic-stroke studies\n"
            f"(n = {len(stroke)} studies; each study counted once, by its earliest timing)",
            loc="left",
        )
        if not stroke:
            _no_data(axes, "no studies")
            return
        shown = {OTHER_BIN: "other timing (outside the bins)"}
        labels = [textwrap.fill(shown.get(label, str(label)), 10) for label in table["bin"]]
        counts = [int(value) for value in table["studies"]]
        colours = [
            _GREY if label in (OTHER_BIN, NOT_REPORTED_BIN) else _BLUE for label in table["bin"]
        ]
        positions = list(range(len(labels)))
        axes.bar(positions, counts, color=colours, width=0.7)
        for position, count in zip(positions, counts, strict=True):
            axes.text(position, count, str(count), ha="center", va="bottom", fontweight="bold")
        axes.set_xticks(positions, labels)
        axes.set_ylim(0, max([*counts, 1]) * 1.15 + 0.5)
        axes.set_ylabel("studies")
        axes.set_xlabel("time from stroke (or recanalization) to transplantation")
        axes.yaxis.get_major_locator().set_params(integer=True)

    return _render(draw, settings, (max(7.0, 0.9 * len(table) + 2), 4.8))


# --- writing ------------------------------------------------------------------------------


def regenerate(
    studies: pd.DataFrame,
    doses: pd.DataFrame,
    timings: pd.DataFrame,
    settings: RegenerationSettings,
    out_dir: str | Path,
) -> dict[str, Path]:
    """Write every table (CSV + Markdown), figure (PNG + SVG) and metrics.tsv under out_dir.

    Returns {"tables/counts.csv": path, ..., "figures/fig1_cell_sources.png": path, ...}; each
    file is written atomically.
    """
    return write_outputs(prepare(studies, doses, timings), settings, out_dir)


def write_outputs(
    data: Extraction, settings: RegenerationSettings, out_dir: str | Path
) -> dict[str, Path]:
    """`regenerate` on an already checked `Extraction` (e.g. from `read_extraction`)."""
    out = Path(out_dir)
    written: dict[str, Path] = {}
    tables: dict[str, pd.DataFrame] = {
        "counts": count_table(data, settings),
        "fig1_cell_sources": cell_source_table(data, settings),
        "table1_modified": modified_table(data, settings),
        "fig2_dose_per_kg": dose_table(data, settings),
        "fig3_timing": timing_table(data, settings),
        "table2_mechanisms": mechanism_table(data, settings),
        "table2_mechanisms_matrix": mechanism_matrix(data, settings),
        "tableS1_tbi": tbi_table(data, settings),
        "table3_clinical": clinical_table(data, settings),
    }
    for name, table in tables.items():
        for suffix in ("csv", "md"):
            key = f"tables/{name}.{suffix}"
            path = out / key
            if suffix == "csv":
                write_table(path, table)
            else:
                write_text(path, to_markdown(table))
            written[key] = path
    metrics = metrics_table(data, settings)
    metrics_out = metrics.assign(value=[_metric_value(value) for value in metrics["value"]])
    written["tables/metrics.tsv"] = out / "tables" / "metrics.tsv"
    write_table(written["tables/metrics.tsv"], metrics_out)
    figures = {
        "fig1_cell_sources": figure_cell_sources,
        "fig2_dose_per_kg": figure_dose_per_kg,
        "fig3_timing": figure_timing,
    }
    for name, make in figures.items():
        for file_format, payload in make(data, settings).items():
            key = f"figures/{name}.{file_format}"
            write_bytes(out / key, payload)
            written[key] = out / key
    return written


def _plural(count: int, word: str) -> str:
    if count == 1:
        return f"1 {word}"
    return f"{count} {word[:-1] + 'ies' if word.endswith('y') else word + 's'}"


def _modified_share(modification: pd.DataFrame) -> float:
    """Percent of studies with modified cells, from Figure 1's modification rows."""
    modified = modification[~modification["code"].isin(["none", NOT_REPORTED])]
    total = int(modification["denominator"].iloc[0]) if not modification.empty else 0
    return _percent(int(modified["count"].sum()), total) or 0.0


def _is_number(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )
