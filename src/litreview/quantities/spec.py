"""Quantities a review declares, and their normalisation into declared units.

Review-level words (`extraction:` in config):

    units:          counted things, each a unit of its own: name -> {words: [patterns],
                    regex: [case-sensitive expressions]}  ("units: {words: [unit*]}")
    events:         what times are counted from: name -> {words: [patterns], offset: "0 h",
                    at: true ("at <event>" is a time), follow_up: true (a time after it is a
                    follow-up time, not a timing)}
    subject_words:  words naming a recipient ("per patient"; "in 5 animals" is no amount)
    duration_after: {modifiers: [...], words: [...]}: a time right before these words is a
                    length of the model, not a timing
    other_step_words: clauses holding these words are about another step and not read

A quantity field (`type: quantity`) says what it measures:

    measures: amount           unit: a counted unit, a mass (mg), a volume (mL) or IU;
                               per_weight: kg with weight: <number field> and
                               reference_by: <code field> + reference_weights_kg (a
                               mapping code -> kg, or one number): the amount per kg,
                               estimated (flagged) from a reference weight when the study
                               gives none; accept: other units read and kept as reported;
                               assume_unit: the unit of a count written with none (flagged)
    measures: time_from_event  unit: a time unit (min, h, d); default_event: the event of a
                               time with no anchor; each event's offset is added
    measures: duration         unit: a time unit; every time in the text is a duration
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from litreview.errors import ConfigError
from litreview.patterns import compile_pattern
from litreview.quantities.parse import Dose, Lexicon, Timing
from litreview.quantities.units import UnitSystem, parse_signed_time

__all__ = [
    "MEASURES",
    "AmountValue",
    "QuantitySpec",
    "TimeValue",
    "Vocabulary",
    "build_vocabulary",
    "quantity_spec",
]

MEASURES = ("amount", "time_from_event", "duration")
_VOCABULARY_KEYS = ("units", "events", "subject_words", "duration_after", "other_step_words")


@dataclass(frozen=True)
class Event:
    name: str
    expression: re.Pattern[str]
    offset: tuple[float, str] = (0.0, "h")  # as declared: (magnitude, time unit)
    at: bool = False
    follow_up: bool = False


@dataclass(frozen=True)
class Vocabulary:
    """The review's words quantities are read with, compiled."""

    counted: tuple[tuple[str, re.Pattern[str]], ...] = ()
    events: tuple[Event, ...] = ()
    subjects: re.Pattern[str] | None = None
    duration_after: re.Pattern[str] | None = None
    other_step: re.Pattern[str] | None = None
    system: UnitSystem = field(default_factory=lambda: UnitSystem(()))

    def event(self, name: str | None) -> Event | None:
        return next((event for event in self.events if event.name == name), None)


def _alternation(patterns: Sequence[object], where: str, *, regex: bool = False) -> str:
    if isinstance(patterns, str) or not isinstance(patterns, Sequence):
        raise ConfigError(f"{where} must be a list of words")
    parts = []
    for pattern in patterns:
        if not isinstance(pattern, str) or not pattern.strip():
            raise ConfigError(f"{where}: {pattern!r} is not a word or pattern")
        if regex:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ConfigError(
                    f"{where}: {pattern!r} is not a regular expression: {error}"
                ) from error
            parts.append(pattern)
        else:
            parts.append(compile_pattern(pattern).pattern)
    return "|".join(f"(?:{part})" for part in parts)


def build_vocabulary(section: Mapping[str, Any]) -> Vocabulary:
    """The `extraction:` words (units, events...), checked; ConfigError names the key."""
    units = section.get("units") or {}
    if not isinstance(units, Mapping):
        raise ConfigError("extraction.units must map a counted unit to {words, regex}")
    counted = []
    for name, entry in units.items():
        where = f"extraction.units.{name}"
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", str(name)):
            raise ConfigError(f"{where}: a unit name is a word of letters, digits and _")
        if not isinstance(entry, Mapping) or not (entry.get("words") or entry.get("regex")):
            raise ConfigError(f"{where} needs words (patterns) or regex (expressions)")
        parts = []
        if entry.get("words"):
            parts.append(f"(?i:{_alternation(entry['words'], where + '.words')})")
        if entry.get("regex"):
            parts.append(_alternation(entry["regex"], where + ".regex", regex=True))
        counted.append((str(name), re.compile("|".join(parts))))
    system = UnitSystem(name for name, _ in counted)
    events = []
    raw_events = section.get("events") or {}
    if not isinstance(raw_events, Mapping):
        raise ConfigError("extraction.events must map an event name to {words, offset}")
    for name, entry in raw_events.items():
        where = f"extraction.events.{name}"
        if not isinstance(entry, Mapping) or not entry.get("words"):
            raise ConfigError(f"{where} needs words: the words papers name the event with")
        unknown = sorted(set(entry) - {"words", "offset", "at", "follow_up", "description"})
        if unknown:
            raise ConfigError(f"{where} has unknown key(s) {', '.join(unknown)}")
        events.append(
            Event(
                name=str(name),
                expression=re.compile(
                    _alternation(entry["words"], where + ".words"), re.IGNORECASE
                ),
                offset=parse_signed_time(entry.get("offset", 0), system, where=where + ".offset"),
                at=bool(entry.get("at", False)),
                follow_up=bool(entry.get("follow_up", False)),
            )
        )
    subjects = None
    if section.get("subject_words"):
        subjects = re.compile(
            _alternation(section["subject_words"], "extraction.subject_words"), re.IGNORECASE
        )
    duration_after = None
    raw = section.get("duration_after") or {}
    if raw:
        if not isinstance(raw, Mapping) or not raw.get("words"):
            raise ConfigError("extraction.duration_after needs words (and may have modifiers)")
        words = _alternation(raw["words"], "extraction.duration_after.words")
        modifiers = ""
        if raw.get("modifiers"):
            modifiers = f"(?:(?:{_alternation(raw['modifiers'], 'extraction.duration_after.modifiers')})\\s+)?"
        duration_after = re.compile(
            rf"\s*-?\s*{modifiers}(?:of\s+(?:\w+\s+)?)?(?:{words})", re.IGNORECASE
        )
    other_step = None
    if section.get("other_step_words"):
        other_step = re.compile(
            _alternation(section["other_step_words"], "extraction.other_step_words"),
            re.IGNORECASE,
        )
    return Vocabulary(
        counted=tuple(counted),
        events=tuple(events),
        subjects=subjects,
        duration_after=duration_after,
        other_step=other_step,
        system=system,
    )


@dataclass(frozen=True)
class AmountValue:
    """One amount read from a cell, normalised (NA parts stay None)."""

    dose: Dose
    amount: float | None  # in the spec's unit (None: another dimension, kept as reported)
    per_weight: float | None  # in unit / per_weight
    estimated: bool | None
    basis: str | None


@dataclass(frozen=True)
class TimeValue:
    timing: Timing
    value: float  # in the spec's unit, the event's offset added
    event: str | None


@dataclass(frozen=True)
class QuantitySpec:
    """A declared quantity: what it measures, its unit, and how it is normalised."""

    measures: str
    unit: str
    vocabulary: Vocabulary
    per_weight: str | None = None
    weight: str | None = None
    reference_by: str | None = None
    reference_weights: Mapping[str, float] | float | None = None
    accept: tuple[str, ...] = ()
    assume_unit: str | None = None
    default_event: str | None = None

    @property
    def per_weight_unit(self) -> str | None:
        return None if self.per_weight is None else f"{self.unit}/{self.per_weight}"

    def describe(self) -> str:
        if self.measures == "amount":
            text = f"an amount as reported (normalised to {self.unit}"
            if self.per_weight:
                text += f" and {self.per_weight_unit}"
            return text + ")"
        if self.measures == "duration":
            return f"a duration as reported (normalised to {self.unit})"
        return (
            f"a time as reported, e.g. '24 {self.unit} after <event>' (normalised to {self.unit})"
        )

    def lexicon(self) -> Lexicon:
        vocabulary = self.vocabulary
        units = (self.unit, *self.accept)
        dimensions = {self._dimension(unit) for unit in units if self.measures == "amount"}
        counted = tuple(
            (name, expression) for name, expression in vocabulary.counted if name in units
        )
        return Lexicon(
            counted=counted,
            mass="mass" in dimensions,
            volume="volume" in dimensions,
            international_units="IU" in dimensions,
            subjects=vocabulary.subjects,
            events=tuple((event.name, event.expression, event.at) for event in vocabulary.events),
            follow_up=frozenset(event.name for event in vocabulary.events if event.follow_up),
            duration_after=None if self.measures == "duration" else vocabulary.duration_after,
            other_step=vocabulary.other_step,
            assume_unit=self.assume_unit,
        )

    def _dimension(self, unit: str) -> str:
        if unit in {name for name, _ in self.vocabulary.counted}:
            return "counted"
        if unit == "IU":
            return "IU"
        pint_unit = self.vocabulary.system.pint_unit(unit)
        text = str(pint_unit.dimensionality)
        if text == "[mass]":
            return "mass"
        if text == "[length] ** 3":
            return "volume"
        return text

    def check_fields(self, fields: Mapping[str, Any], *, where: str) -> None:
        for key, name, types in (
            ("weight", self.weight, ("number",)),
            ("reference_by", self.reference_by, ("code",)),
        ):
            if name is not None and (name not in fields or fields[name].type not in types):
                raise ConfigError(f"{where}.{key}: {name!r} is not a {' or '.join(types)} field")
        if self.reference_by and isinstance(self.reference_weights, Mapping):
            codes = set(fields[self.reference_by].codes)
            unknown = sorted(set(self.reference_weights) - codes)
            if unknown:
                raise ConfigError(
                    f"{where}.reference_weights_kg: {', '.join(unknown)} not codes of "
                    f"{self.reference_by}"
                )

    # --- normalising -----------------------------------------------------------------------

    def amount(
        self, dose: Dose, *, weight_kg: float | None, weight_basis: str | None, group: str | None
    ) -> AmountValue:
        """Convert one amount into the unit (and per weight); raises ConversionError."""
        system = self.vocabulary.system
        unit, _, per = dose.unit.partition("/")
        amount = system.convert(dose.value, unit, self.unit) if not per else None
        if self.per_weight is None:
            if per:
                amount = None
            return AmountValue(dose, amount, None, None, None)
        if per:
            if per != self.per_weight and system.factor(per, self.per_weight) is None:
                return AmountValue(dose, None, None, None, None)
            per_weight = system.convert(dose.value, dose.unit, self.per_weight_unit)
            basis = "reported per " + per if per_weight is not None else None
            return AmountValue(
                dose, None, per_weight, False if per_weight is not None else None, basis
            )
        if amount is None:
            return AmountValue(dose, None, None, None, None)
        if weight_kg is not None:
            return AmountValue(
                dose,
                amount,
                _divide(amount, weight_kg),
                False,
                f"{weight_basis} {weight_kg:g} kg",
            )
        reference = self.reference_weight(group)
        if reference is None:
            raise ConversionError(
                f"{dose.text!r} is a total amount with no body weight"
                + (
                    f" and no reference weight for {self.reference_by} {group!r}"
                    if self.reference_by
                    else ""
                ),
                hint=self._weight_hint(group),
            )
        label = (
            f"reference weight {group} {reference:g} kg"
            if group
            else f"reference weight {reference:g} kg"
        )
        return AmountValue(dose, amount, _divide(amount, reference), True, label)

    def reference_weight(self, group: str | None) -> float | None:
        if isinstance(self.reference_weights, int | float):
            return float(self.reference_weights)
        if not self.reference_weights or group is None:
            return None
        weights = {name.casefold(): weight for name, weight in self.reference_weights.items()}
        return weights.get(group.strip().casefold())

    def _weight_hint(self, group: str | None) -> str:
        if self.reference_by is None:
            return f"fill in {self.weight or 'the weight'}, or declare reference_weights_kg"
        if group is None:
            return f"fill in {self.weight or 'the weight'} or {self.reference_by}"
        return (
            f"fill in {self.weight or 'the weight'}, or add '{group}: <kg>' to the field's "
            "reference_weights_kg"
        )

    def time(self, timing: Timing) -> TimeValue:
        """A time in the unit, the event's declared offset added (in the unit, exactly)."""
        event = timing.event
        if event is None and self.default_event is not None:
            event = self.default_event
        declared = self.vocabulary.event(event)
        system = self.vocabulary.system
        value = system.convert(timing.hours, "h", self.unit)
        assert value is not None  # the unit is checked to be a time
        if declared is not None and declared.offset[0] and self.measures != "duration":
            offset = system.convert(declared.offset[0], declared.offset[1], self.unit)
            value = float(Decimal(repr(value)) + Decimal(repr(offset)))
        return TimeValue(timing, value, event)


class ConversionError(Exception):
    """A value that cannot be normalised as declared (no weight for a total amount)."""

    def __init__(self, problem: str, *, hint: str | None = None) -> None:
        self.problem = problem
        self.hint = hint
        super().__init__(problem)


def _divide(value: float, weight: float) -> float:
    """value / weight on the decimal values as written (1e6 / 0.275 = 3636363.63...)."""
    return float(Decimal(repr(value)) / Decimal(repr(weight)))


def quantity_spec(entry: Mapping[str, Any], vocabulary: Vocabulary, *, where: str) -> QuantitySpec:
    """Check a quantity field's keys (measures, unit, per_weight...) against the vocabulary."""
    measures = entry.get("measures")
    if measures not in MEASURES:
        raise ConfigError(f"{where}.measures is {measures!r}: use one of {', '.join(MEASURES)}")
    unit = entry.get("unit")
    if not isinstance(unit, str) or not unit.strip():
        raise ConfigError(f"{where}.unit is missing: the unit values are normalised to")
    system = vocabulary.system
    system.pint_unit(unit, where=f"{where}.unit")
    is_time = system.is_time(unit)
    if measures == "amount" and is_time:
        raise ConfigError(f"{where}.unit {unit!r} is a time: an amount needs an amount unit")
    if measures != "amount" and not is_time:
        raise ConfigError(f"{where}.unit {unit!r} is not a time unit (min, h, d...)")
    accept = tuple(entry.get("accept") or ())
    for other in accept:
        system.pint_unit(other, where=f"{where}.accept")
    assume = entry.get("assume_unit")
    if assume is not None and assume not in (unit, *accept):
        raise ConfigError(f"{where}.assume_unit {assume!r} must be the unit or an accepted unit")
    weights = entry.get("reference_weights_kg")
    if weights is not None:
        weights = _weights(weights, f"{where}.reference_weights_kg")
    per_weight = entry.get("per_weight")
    if per_weight is not None and per_weight != "kg":
        raise ConfigError(f"{where}.per_weight is {per_weight!r}: amounts are per kg")
    if per_weight is None and (entry.get("weight") or weights is not None):
        raise ConfigError(f"{where}: weight and reference_weights_kg need per_weight: kg")
    default_event = entry.get("default_event")
    if default_event is not None and vocabulary.event(default_event) is None:
        raise ConfigError(
            f"{where}.default_event {default_event!r} is not an event of extraction.events"
        )
    return QuantitySpec(
        measures=measures,
        unit=unit,
        vocabulary=vocabulary,
        per_weight=per_weight,
        weight=entry.get("weight"),
        reference_by=entry.get("reference_by"),
        reference_weights=weights,
        accept=accept,
        assume_unit=assume,
        default_event=default_event,
    )


def _weights(raw: object, where: str) -> Mapping[str, float] | float:
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        if not math.isfinite(raw) or raw <= 0:
            raise ConfigError(f"{where} is {raw!r}: a positive number of kg")
        return float(raw)
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be a number of kg or map a code to kg")
    checked = {}
    for code, weight in raw.items():
        if isinstance(weight, bool) or not isinstance(weight, int | float) or weight <= 0:
            raise ConfigError(f"{where}.{code} is {weight!r}: give a positive number of kg")
        checked[str(code)] = float(weight)
    return checked
