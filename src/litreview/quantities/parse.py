"""Amounts and times as reviewers copy them from papers, read into numbers.

A reviewer copies "1 × 10⁶ units/kg", "low 1x10^4 vs high 1x10^6 units", "3 x 500 mg" or
"30 min before <event>" from a paper; the report needs numbers in declared units. The parsers
keep every value a cell holds (arms, range ends) with the span it came from, so the sheet keeps
the wording *and* the number can be audited against it. They read what is written and nothing
more: text with no amount or time gives an empty list, and text that looks like one but cannot
be read (a lost superscript "1 x 10^?", an ambiguous "1,5e6", a rate with no duration, a time
counted from "2 days later") raises `UnitParseError` saying what is wrong and how to write it.
The extraction stage wraps that error with the sheet's file, row and column.

Every word of a review's field comes from a `Lexicon` built from config
(`litreview.quantities.spec`): the counted units and their words, the words naming a
recipient, the events times are counted from, the words that make a time a length of the
model, and the clauses about another step. The rules below are the same for every review.

Amounts (`parse_dose`)
    A number is an amount when it carries a power of ten ("1x10^6", "1 × 10⁶", "1·10^6",
    "1*10^6", "1e6", "1E+06", "10^6"), a word multiplier ("2 million", "billion", "thousand"),
    thousands separators ("1,000,000"), or is followed by a unit: a counted unit of the lexicon
    (up to three words may stand between: "1 million labelled units"), or directly a mass (ng,
    ug, mcg, mg, g), a volume (when the quantity measures volumes) or IU. A number followed by
    a volume, time, length or recipient ("in 0.5 mL", "over 3-6 min", "in 5 ewes" with "ewe*"
    declared) is not an amount. "/kg", "per kg", "/kg body weight", "kg-1" make it per kg; "/m2"
    per square metre. "/100 uL" after an amount is the volume it was given in; "/patient", "per
    injection" mark a total. "1 g/h for 4 h" is an infusion: 4 g (a rate with no duration is an
    error); "2 g, then 1 g/h for 4 h" is one dose of 6 g. "3 x 500 mg" is 500 mg given 3 times
    (`repeats`). A per-mL concentration with no volume is an error, as is an unknown
    denominator. A count with no unit word takes the lexicon's `assume_unit` and is flagged
    (`unit_stated=False`); with none, it is an error.
    Numbers joined by ",", "and", "or", "vs" form a list; "to", "-", "–" make a range (both ends
    returned, flagged low/high). In a list or range, bare numbers share the power of ten and
    the unit of the next number that states them ("1.0, 1.5 or 2 x 10^6", "1-5 x 10^8").
    Values are computed in decimal arithmetic, so "9.1x10^4" is exactly 91000.0.

Times (`parse_timing`)
    A time is a number with a time unit (min, h, d, days, weeks, months, years; a month is 30
    days and a year 365 days, a convention), "day N" (= N x 24 h after the event),
    "immediately" (0 h), "at <event>" for events declared with `at`, or a declared event alone
    ("at <event>": 0 from it). Lists and ranges work as for amounts ("1, 6 and 24 h", "3-7
    days", "day 5-9", "between 1 and 6 h"); "within 7 days" (also "up to", "<") is the range
    0-168 h; "14 +/- 7 days" is one time with `spread_hours`. Number words one to twelve are
    read ("two weeks"). The phrase after the time ("after <event>", "post onset") is its
    `anchor`, classed into a declared `event` (its first event word), else "other".
    "before"/"prior to" give negative hours.
    Lengths that are not times are skipped, by these rules:
      1. a length of the model: a time directly before a word of `duration_after`;
      2. a time after "for", "over", "during" or "lasting" (an infusion length);
      3. a time counted from a `follow_up` event (the treatment itself): a follow-up time;
      4. every time in a clause about another step (`other_step` words).
    Clauses are split at ";", " + ", parentheses, and at "," before a word other than
    "and"/"or"; a parenthesis is read on its own.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Literal, Protocol, TypeVar

import pandas as pd

from litreview.errors import ConfigError, LitReviewError, ParseError

__all__ = [
    "Dose",
    "Lexicon",
    "Timing",
    "UnitParseError",
    "parse_dose",
    "parse_timing",
]

RangeRole = Literal["low", "high"]


class UnitParseError(ParseError):
    """A dose or timing looks like one but cannot be read; says what and how to write it.

    `text` is the whole cell, `span` the (start, end) of the part that failed, if known.
    """

    def __init__(
        self,
        text: str,
        problem: str,
        *,
        span: tuple[int, int] | None = None,
        hint: str | None = None,
    ) -> None:
        self.text = text
        self.problem = problem
        self.span = span
        self.hint = hint
        message = f"cannot read {text!r}: {problem}"
        if hint:
            message += f" ({hint})"
        super().__init__(message)


class UnitConversionError(LitReviewError):
    """A value cannot be converted as asked (not a cell count, no usable weight, bad hours)."""


class MissingReferenceWeightError(ConfigError):
    """No study weight was given and config has no reference body weight for the species."""


@dataclass(frozen=True)
class Dose:
    """One dose value read from a cell: one arm, or one end of a range.

    `unit` is a counted unit of the lexicon or a mass, volume or IU, optionally per "kg" or
    "m2" ("units", "units/kg", "mg", "mg/kg", "mL", "IU").
    `unit_stated` is False when no unit was written and the lexicon's `assume_unit` was taken.
    """

    value: float
    unit: str
    text: str
    span: tuple[int, int]
    range_role: RangeRole | None = None
    unit_stated: bool = True
    repeats: int | None = None
    from_rate: bool = False

    @property
    def is_range(self) -> bool:
        """True for either end of a range ("1-5 x 10^6"): the pair is (low, the next high)."""
        return self.range_role is not None


@dataclass(frozen=True)
class Timing:
    """One timing read from a cell, in hours after the event named by `anchor` (if stated).

    `event` is the anchor's class: a declared event name,
    "other", or None with no anchor. `spread_hours` holds the ± part of "14 +/- 7 days".
    """

    hours: float
    text: str
    span: tuple[int, int]
    anchor: str | None = None
    event: str | None = None
    range_role: RangeRole | None = None
    spread_hours: float | None = None

    @property
    def is_range(self) -> bool:
        """True for either end of a range ("3-7 days", "within 7 days")."""
        return self.range_role is not None


# --- shared pieces ------------------------------------------------------------------------

# Length-preserving clean-up, so spans index the original text: odd spaces become spaces and
# the hyphen family becomes "-" (a typographic minus in "10^−3" or a range "1‒5" alike).
_CLEANUP = str.maketrans(
    {"\u00a0": " ", "\u2009": " ", "\u202f": " ", "\u2007": " ", "\t": " ", "\n": " "}
    | {dash: "-" for dash in "\u2010\u2011\u2012\u2212"}
)
_SUPERSCRIPT_DIGITS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_SUPERSCRIPT_TABLE = str.maketrans(_SUPERSCRIPT_DIGITS + "⁺⁻", "0123456789+-")
_TIMES_SIGN = r"[x×X*·⋅∙]"
_EXPONENT_TAIL = (
    r"(?:\^|\*\*)\s*(?:\(\s*[+-]?\d+\s*\)|\{\s*[+-]?\d+\s*\}|[+-]?\d+)"
    rf"|[⁺⁻]?[{_SUPERSCRIPT_DIGITS}]+"
)
_LIST_SEPARATOR = r",\s*(?:and|or)?|and|or|&|vs\.?|versus"
_RANGE_SEPARATOR = r"to|through|-|–|—"
_SEPARATOR = re.compile(
    rf"\s*(?:(?P<range>{_RANGE_SEPARATOR})|(?:{_LIST_SEPARATOR}))\s*", re.IGNORECASE
)
# Timings also join a mean and its spread: "14 +/- 7 days".
_TIME_SEPARATOR = re.compile(
    rf"\s*(?:(?P<spread>\+/-|\+-|±)|(?P<range>{_RANGE_SEPARATOR})|(?:{_LIST_SEPARATOR}))\s*",
    re.IGNORECASE,
)
_VOLUME_UNIT = r"µl|μl|ul|ml|l|cc|dl|microlit(?:er|re)s?|millilit(?:er|re)s?|lit(?:er|re)s?"
_TIME_WORDS = r"minutes?|mins?|hours?|hrs?|h|days?|d|weeks?|wks?|months?|years?|s|sec|seconds?"
_OTHER_FOREIGN = r"mm|cm|m|µm|μm|um|nm|kg|mmhg|rpm|fold|times|x|doses?|injections?|infusions?"


def _is_missing(value: object) -> bool:
    """None, pd.NA and float NaN are the missing values a sheet column can hold."""
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


def _clean(text: str) -> str:
    return text.translate(_CLEANUP)


def _exponent(tail: str) -> int:
    """The integer exponent of "^6", "**6", "^(6)", "^{-3}" or "⁶"."""
    digits = re.sub(r"[\s^*(){}]", "", tail.translate(_SUPERSCRIPT_TABLE))
    return int(digits)


# --- doses --------------------------------------------------------------------------------

_DOSE_NUMBER = re.compile(
    rf"""
    (?<![\w.^/])
    (?:
        10\s*(?P<power>{_EXPONENT_TAIL})
      | (?P<mantissa>
            \d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?
          | \d+(?:\.\d+|·(?!\s*10)\d+)?
        )
        (?:
            \s*{_TIMES_SIGN}\s*10\s*(?P<exponent>{_EXPONENT_TAIL})
          | [eE](?P<e_exponent>[+-]?\d+)(?![\w.])
          | \s*(?P<word>thousand|million|billion)s?(?![\w])
        )?
    )
    """,
    re.VERBOSE,
)
_WORD_EXPONENTS = {"thousand": 3, "million": 6, "billion": 9}
_NOUN_TOKEN = re.compile(r"\s*-?\s*(?P<token>[A-Za-zµμ][\w\-µμ]*)")
_MAX_MODIFIERS = 3  # words allowed between a number and its unit ("1 million labelled units")
_STOP_WORDS = frozenset(
    (
        *("in", "into", "of", "per", "or", "and", "vs", "versus", "to", "at", "with", "over"),
        *("for", "each", "then", "via", "by", "from", "on", "as", "was", "were", "is", "are"),
        *("given", "low", "high", "dose", "doses"),
    )
)
_PER = re.compile(r"\s*/\s*|\s+per\s+", re.IGNORECASE)
_PER_KG = re.compile(
    r"(?:kg|kilograms?)(?![\w])(?:\s*(?:of\s+)?(?:body[\s-]*weight|b\.?\s?w\.?)(?![\w]))?",
    re.IGNORECASE,
)
_KG_MINUS_ONE = re.compile(r"\s*[·.]?\s*kg(?:-1|⁻¹)(?![\w])", re.IGNORECASE)
_PER_M2 = re.compile(r"(?:m2|m²|m\^2)(?![\w])", re.IGNORECASE)
_PER_VOLUME = re.compile(
    r"(?P<volume>\d+(?:\.\d+)?\s*)?"
    r"(?:µl|μl|ul|ml|l|cc|microlit(?:er|re)s?|millilit(?:er|re)s?)(?![\w])",
    re.IGNORECASE,
)
_PER_TOTAL_WORDS = (
    r"(?:patient|subject|person|individual|animal|injection|infusion|dose|administration"
    r"|session|hemisphere|artery|treatment)s?"
)
_PER_TIME = re.compile(r"(?P<unit>h|hr|hours?|min|minutes?|d|days?)(?![\w])", re.IGNORECASE)
_RATE_DURATION = re.compile(
    r"\s*(?:for|over|during)\s+(?P<number>\d+(?:\.\d+)?)\s*-?\s*"
    r"(?P<unit>h|hrs?|hours?|min|mins?|minutes?|d|days?)(?![\w])",
    re.IGNORECASE,
)
_REPEAT = re.compile(r"\s*(?:[x×]|times)\s*(?=\d)", re.IGNORECASE)
_COMBINE_GAP = re.compile(
    r"[^\d]*?\b(?:then|followed\s+by|plus)\b[^\d]*|[^\d]*?\s\+\s[^\d]*", re.IGNORECASE
)
_DENOMINATOR_WORD = re.compile(r"[^\s,;()]*")

_LOST_SUPERSCRIPT = re.compile(rf"(?<![\d.])\d+(?:\.\d+)?\s*{_TIMES_SIGN}\s*10\s*\^?\s*[?\ufffd]")
_EMPTY_CARET = re.compile(r"10\s*(?:\^|\*\*)(?!\s*[({]?\s*[+-]?\d)")
_FLAT_EXPONENT = re.compile(
    rf"\d\s*{_TIMES_SIGN}\s*10(?P<digits>\d{{1,2}})(?![\d.]|,\d{{3}})"
    rf"(?!\s*-?\s*(?:(?:{_VOLUME_UNIT}|{_TIME_WORDS}|{_OTHER_FOREIGN}|g|mg|ug|µg|ng|iu)(?![\w])|%))",
    re.IGNORECASE,
)
_NO_MANTISSA = re.compile(
    rf"(?:^|[^\d\s.])\s*(?P<sign>[x×])\s*10\s*(?:\^|\*\*|[{_SUPERSCRIPT_DIGITS}])"
)
_DECIMAL_COMMA = re.compile(
    rf"(?<![\d,.^])\d+,\d{{1,2}}(?!\d)(?:\s*{_TIMES_SIGN}\s*10|[eE][+-]?\d)"
)


@dataclass(frozen=True)
class Lexicon:
    """The words of a review's field that the parsers need, compiled from config.

    `counted` maps a counted unit (tablets, vials, units...) to the expression of its words;
    `mass` and `volume` say whether masses (ng..g) and volumes (uL..L) are read as amounts;
    `subjects` are words naming a recipient ("per patient"; "5 patients" is not a dose); `events`
    are (name, expression, at) in declared order (the first event word in an anchor decides;
    `at` lets "at <event>" alone be a time); `follow_up` names events whose following times are
    follow-up times, not timings; `duration_after` matches the words after a time that make it
    a length of the model ("90-min occlusion"); `other_step` marks clauses about another step.
    """

    counted: tuple[tuple[str, re.Pattern[str]], ...] = ()
    mass: bool = True
    volume: bool = False
    international_units: bool = False
    subjects: re.Pattern[str] | None = None
    events: tuple[tuple[str, re.Pattern[str], bool], ...] = ()
    follow_up: frozenset[str] = frozenset()
    duration_after: re.Pattern[str] | None = None
    other_step: re.Pattern[str] | None = None
    assume_unit: str | None = None

    @property
    def foreign_after_number(self) -> re.Pattern[str]:
        return _foreign_after_number(self)

    @property
    def per_total(self) -> re.Pattern[str]:
        return _per_total(self)

    @property
    def event_expression(self) -> re.Pattern[str] | None:
        return _event_expression(self)


@lru_cache(maxsize=64)
def _foreign_after_number(lex: Lexicon) -> re.Pattern[str]:
    words = [_TIME_WORDS, _OTHER_FOREIGN]
    if not lex.volume:
        words.append(_VOLUME_UNIT)
    if not lex.mass:
        words.append(r"g|mg|µg|μg|ug|mcg|ng")
    else:
        subjects = "" if lex.subjects is None else f"|{lex.subjects.pattern}"
        words.append(rf"g(?=\s*(?:body|weight|bw|each{subjects})(?![\w]))")
    foreign = "|".join(words)
    subjects = "" if lex.subjects is None else f"|{lex.subjects.pattern}"
    return re.compile(rf"\s*-?\s*(?:(?:{foreign})(?![\w])|%|°{subjects})", re.IGNORECASE)


@lru_cache(maxsize=64)
def _per_total(lex: Lexicon) -> re.Pattern[str]:
    subjects = "" if lex.subjects is None else f"|(?:{lex.subjects.pattern})"
    return re.compile(rf"(?:{_PER_TOTAL_WORDS}(?![\w]){subjects})", re.IGNORECASE)


@lru_cache(maxsize=64)
def _event_expression(lex: Lexicon) -> re.Pattern[str] | None:
    if not lex.events:
        return None
    return re.compile(
        "|".join(
            f"(?P<e{index}>{expression.pattern})"
            for index, (_, expression, _) in enumerate(lex.events)
        ),
        re.IGNORECASE,
    )


_MASS_UNITS = {"mg": "mg", "µg": "ug", "μg": "ug", "ug": "ug", "mcg": "ug", "ng": "ng", "g": "g"}
_MASS_WORD = re.compile(r"(?P<mass>mg|µg|μg|ug|mcg|ng|g|grams?|milligrams?)", re.IGNORECASE)
_VOLUME_WORD = re.compile(r"(?P<volume>ml|µl|μl|ul|l|millilit(?:er|re)s?)", re.IGNORECASE)
_IU_WORD = re.compile(r"(?P<iu>iu|units?)", re.IGNORECASE)


def _mass_unit(token: str) -> str:
    word = token.lower()
    if word.startswith("gram"):
        return "g"
    if word.startswith("milligram"):
        return "mg"
    return _MASS_UNITS[word]


def _volume_unit(token: str) -> str:
    word = token.lower().replace("µ", "u").replace("μ", "u")
    if word.startswith("millilit"):
        return "mL"
    return {"ml": "mL", "ul": "uL", "l": "L"}[word]


@dataclass
class _DoseNumber:
    """One number found in a dose text, with what follows it; resolved into a Dose later."""

    start: int
    number_end: int
    end: int
    mantissa: Decimal
    exponent: int | None  # its own power of ten, if written
    grouped: bool  # written with thousands separators
    kind: str | None = None  # the unit word's unit: a counted unit, "mg", "mL", "IU"...
    per: str | None = None  # "kg" or "m2"
    foreign: bool = False  # followed by a volume, time, length...
    repeats: int | None = None  # "3 x 500 mg": 3
    rate_hours: Decimal | None = None  # "1 g/h for 4 h": 4 (the amount is rate x duration)
    per_time_hours: Decimal | None = None  # "/h": 1, "/min": 1/60

    @property
    def has_unit(self) -> bool:
        return self.kind is not None or self.per is not None


def parse_dose(text: str | None, lex: Lexicon | None = None) -> list[Dose]:
    """Every dose value in a reported dose, in text order (see the module docstring for rules).

    A missing cell (None, pd.NA, NaN) or text with no dose gives []. Raises UnitParseError when
    something looks like a dose but cannot be read.
    """
    lex = lex or Lexicon()
    if _is_missing(text):
        return []
    if not isinstance(text, str):
        raise UnitParseError(repr(text), f"a dose must be text, got {type(text).__name__}")
    clean = _clean(text)
    _check_dose_text(text, clean)
    numbers = _scan_dose_numbers(text, clean, lex)
    doses: list[Dose] = []
    for chain in _chains(clean, [number for number in numbers if not number.foreign]):
        doses.extend(_resolve_dose_chain(text, clean, chain, lex))
    return _combine_infusions(text, clean, doses)


def _combine_infusions(text: str, clean: str, doses: list[Dose]) -> list[Dose]:
    """A bolus then an infusion ("2 g, then 1 g/h for 4 h") is one dose: their sum."""
    combined: list[Dose] = []
    for dose in doses:
        previous = combined[-1] if combined else None
        factor = None if previous is None else _same_kind_factor(dose.unit, previous.unit)
        if (
            dose.from_rate
            and previous is not None
            and factor is not None
            and _COMBINE_GAP.fullmatch(clean, previous.span[1], dose.span[0])
        ):
            added = Decimal(repr(dose.value)) * factor
            total = float(Decimal(repr(previous.value)) + added)
            span = (previous.span[0], dose.span[1])
            combined[-1] = Dose(
                value=total,
                unit=previous.unit,
                text=text[span[0] : span[1]].strip(),
                span=span,
                from_rate=True,
            )
            continue
        combined.append(dose)
    return combined


_MASS_IN_UG = {"ng": Decimal("0.001"), "ug": Decimal(1), "mg": Decimal(1000), "g": Decimal(10**6)}


def _same_kind_factor(unit: str, target: str) -> Decimal | None:
    """The factor taking `unit` to `target` when both are the same unit or masses (per the same
    denominator), else None: a bolus in g and an infusion in mg add up."""
    if unit == target:
        return Decimal(1)
    amount, _, per = unit.partition("/")
    goal, _, goal_per = target.partition("/")
    if per != goal_per or amount not in _MASS_IN_UG or goal not in _MASS_IN_UG:
        return None
    return _MASS_IN_UG[amount] / _MASS_IN_UG[goal]


def _check_dose_text(text: str, clean: str) -> None:
    """Raise on the malformed wordings copying from PDFs produces (lost superscripts...)."""
    if match := _LOST_SUPERSCRIPT.search(clean):
        raise UnitParseError(
            text,
            f"the exponent in {match.group(0)!r} is missing (a superscript lost in copying)",
            span=match.span(),
            hint="write the power of ten from the source, e.g. '1 x 10^6'",
        )
    if match := _EMPTY_CARET.search(clean):
        raise UnitParseError(
            text,
            f"{match.group(0)!r} has no exponent after it",
            span=match.span(),
            hint="write e.g. '1 x 10^6'",
        )
    if match := _FLAT_EXPONENT.search(clean):
        digits = match.group("digits")
        raise UnitParseError(
            text,
            f"{match.group(0)!r} reads as 10^{digits} with the superscript flattened",
            span=match.span(),
            hint=f"write '10^{digits}' if that is meant",
        )
    if match := _NO_MANTISSA.search(clean):
        raise UnitParseError(
            text,
            "a power of ten with no number before it",
            span=(match.start("sign"), match.end()),
            hint="write e.g. '1 x 10^6 <unit>'",
        )
    if match := _DECIMAL_COMMA.search(clean):
        raise UnitParseError(
            text,
            f"{match.group(0)!r} has a decimal comma, which is ambiguous (a list, or a decimal)",
            span=match.span(),
            hint="use a decimal point, e.g. '1.5 x 10^6' or '1.5e6'",
        )


def _scan_dose_numbers(text: str, clean: str, lex: Lexicon) -> list[_DoseNumber]:
    """Every number in the text, left to right, each with the unit words it is followed by."""
    numbers: list[_DoseNumber] = []
    position = 0
    while match := _DOSE_NUMBER.search(clean, position):
        number = _dose_number(match)
        repeat = _REPEAT.match(clean, match.end())
        following = _DOSE_NUMBER.match(clean, repeat.end()) if repeat else None
        if (
            repeat
            and following is not None
            and number.exponent is None
            and not number.grouped
            and number.mantissa == number.mantissa.to_integral_value()
            and number.mantissa > 0
        ):
            times = int(number.mantissa)
            number = _dose_number(following)
            number.start = match.start()
            number.repeats = times
            match = following
        _read_dose_unit(text, clean, number, lex)
        numbers.append(number)
        position = max(number.end, match.end())
    return numbers


def _dose_number(match: re.Match[str]) -> _DoseNumber:
    if match.group("power") is not None:
        mantissa, exponent, grouped = Decimal(1), _exponent(match.group("power")), False
    else:
        written = match.group("mantissa")
        grouped = "," in written
        mantissa = Decimal(written.replace(",", "").replace("·", "."))
        exponent = None
        if match.group("exponent") is not None:
            exponent = _exponent(match.group("exponent"))
        elif match.group("e_exponent") is not None:
            exponent = int(match.group("e_exponent"))
        elif match.group("word") is not None:
            exponent = _WORD_EXPONENTS[match.group("word").lower()]
    return _DoseNumber(
        start=match.start(),
        number_end=match.end(),
        end=match.end(),
        mantissa=mantissa,
        exponent=exponent,
        grouped=grouped,
    )


def _read_dose_unit(text: str, clean: str, number: _DoseNumber, lex: Lexicon) -> None:
    """Fill kind, per and end from the words after the number ("units/kg", "mg in", "mL")."""
    position = number.number_end
    counted = number.exponent is not None or number.grouped
    foreign = lex.foreign_after_number.match(clean, position)
    if (
        foreign
        and not _KG_MINUS_ONE.match(clean, position)
        and not _dose_noun_at(clean, position, lex)
    ):
        if counted:
            raise UnitParseError(
                text,
                f"{clean[number.start : foreign.end()].strip()!r} is a volume, time or other "
                "quantity, not a dose",
                span=(number.start, foreign.end()),
                hint="write the dose as an amount (a count, a mass)",
            )
        number.foreign = True
        return
    noun = _dose_noun_at(clean, position, lex)
    if noun is not None:
        number.kind, position = noun
    if match := _KG_MINUS_ONE.match(clean, position):
        number.per = "kg"
        number.end = match.end()
        position = match.end()
    else:
        per = _PER.match(clean, position)
        if per is None:
            number.end = position
            return
        denominator_start = per.end()
        if match := _PER_KG.match(clean, denominator_start):
            number.per = "kg"
            number.end = match.end()
            position = match.end()
        elif not (counted or number.kind is not None):
            number.end = position  # "1/3", "APP/PS1": a bare number is not read further
            return
        else:
            _read_denominator(text, clean, number, per, denominator_start, lex)
            return
    # "20 mg/kg/h", "1 x 10^6 units/kg per hour": a rate after the per-kg
    per = _PER.match(clean, position)
    if per is not None and _PER_TIME.match(clean, per.end()):
        _read_rate(text, clean, number, _PER_TIME.match(clean, per.end()))


def _read_denominator(
    text: str, clean: str, number: _DoseNumber, per: re.Match[str], start: int, lex: Lexicon
) -> None:
    if match := _PER_M2.match(clean, start):
        number.per = "m2"
        number.end = match.end()
        return
    if match := _PER_TIME.match(clean, start):
        _read_rate(text, clean, number, match)
        return
    if match := _PER_VOLUME.match(clean, start):
        if match.group("volume") is None:
            raise UnitParseError(
                text,
                f"{clean[number.start : match.end()]!r} is a concentration, not a dose",
                span=(number.start, match.end()),
                hint="write the amount given and its volume, e.g. '1 x 10^6 <unit> in 100 uL'",
            )
        number.end = match.end()
        return
    if match := lex.per_total.match(clean, start):
        number.end = match.end()
        return
    word = _DENOMINATOR_WORD.match(clean, start)
    assert word is not None
    raise UnitParseError(
        text,
        f"unknown denominator {clean[per.start() : word.end()].strip()!r} after a dose",
        span=(number.start, word.end()),
        hint="use /kg, per kg, /m2, /h with 'for <time>', a volume such as /100 uL, or "
        "/patient; separate arms with ',' or 'vs'",
    )


def _read_rate(text: str, clean: str, number: _DoseNumber, unit: re.Match[str]) -> None:
    """An infusion rate ("1 g/h"): its duration ("for 4 h") must follow."""
    number.per_time_hours = _unit_hours(unit.group("unit"))
    duration = _RATE_DURATION.match(clean, unit.end())
    if duration is None:
        raise UnitParseError(
            text,
            f"{clean[number.start : unit.end()]!r} is a rate with no duration",
            span=(number.start, unit.end()),
            hint="say how long it ran, e.g. '1 g/h for 4 h'",
        )
    number.rate_hours = Decimal(duration.group("number")) * _unit_hours(duration.group("unit"))
    number.end = duration.end()


def _dose_noun_at(clean: str, position: int, lex: Lexicon) -> tuple[str, int] | None:
    """The unit word after a number, allowing a few modifiers ("labelled human-derived units")."""
    for index in range(_MAX_MODIFIERS + 1):
        match = _NOUN_TOKEN.match(clean, position)
        if match is None:
            return None
        token = match.group("token")
        if index == 0:
            if (
                lex.mass
                and _MASS_WORD.fullmatch(token)
                and (token.lower() != "g" or not lex.foreign_after_number.match(clean, position))
            ):
                return _mass_unit(token), match.end()
            if lex.volume and _VOLUME_WORD.fullmatch(token):
                return _volume_unit(token), match.end()
            if lex.international_units and _IU_WORD.fullmatch(token):
                return "IU", match.end()
        for name, expression in lex.counted:
            if expression.fullmatch(token):
                return name, match.end()
        if token.lower() in _STOP_WORDS or (
            index == 0 and lex.foreign_after_number.fullmatch(token)
        ):
            return None
        position = match.end()
    return None


class _Spanned(Protocol):
    start: int
    end: int


_Item = TypeVar("_Item", bound=_Spanned)


def _chains(
    clean: str, numbers: Sequence[_Item], separator: re.Pattern[str] = _SEPARATOR
) -> list[list[tuple[_Item, str | None]]]:
    """Group numbers joined only by list, range (or spread) separators.

    Each member is paired with how it joins the previous one: None (first), "list", "range" or
    "spread".
    """
    chains: list[list[tuple[_Item, str | None]]] = []
    for number in numbers:
        if chains:
            previous = chains[-1][-1][0]
            gap = separator.fullmatch(clean, previous.end, number.start)
            if gap is not None:
                groups = gap.groupdict()
                join = next((name for name in ("spread", "range") if groups.get(name)), "list")
                chains[-1].append((number, join))
                continue
        chains.append([(number, None)])
    return chains


def _resolve_dose_chain(
    text: str, clean: str, chain: list[tuple[_DoseNumber, str | None]], lex: Lexicon
) -> list[Dose]:
    """Share powers of ten and units along a list or range, then build the Dose values."""
    numbers = [number for number, _ in chain]
    exponents: list[int | None] = []
    for index, number in enumerate(numbers):
        exponent = number.exponent
        if exponent is None and not number.grouped and not number.has_unit:
            for later in numbers[index + 1 :]:
                if later.exponent is not None:
                    exponent = later.exponent
                    break
                if later.grouped or later.has_unit:
                    break
        exponents.append(exponent)
    units: list[_DoseNumber | None] = []
    for index, number in enumerate(numbers):
        source = number if number.has_unit else None
        if source is None:
            source = next((later for later in numbers[index + 1 :] if later.has_unit), None)
        if source is None and (exponents[index] is not None or number.grouped):
            source = next(
                (earlier for earlier in reversed(numbers[:index]) if earlier.has_unit), None
            )
        units.append(source)
    readable = [
        exponents[index] is not None or number.grouped or units[index] is not None
        for index, number in enumerate(numbers)
    ]
    if not any(readable):
        return []
    for index, number in enumerate(numbers):
        if not readable[index]:
            raise UnitParseError(
                text,
                f"{clean[number.start : number.end]!r} stands in a list of doses with no power "
                "of ten or unit of its own or after it",
                span=(number.start, number.end),
                hint="write each value in full, e.g. '1 x 10^6 <unit>, 5 x 10^5 <unit>'",
            )
    spans = [(number.start, number.end) for number in numbers]
    roles = _range_roles(text, spans, [join for _, join in chain])
    doses: list[Dose] = []
    for index, number in enumerate(numbers):
        source = units[index]
        kind = source.kind if source is not None and source.kind is not None else lex.assume_unit
        if kind is None:
            raise UnitParseError(
                text,
                f"{clean[number.start : number.end]!r} has no unit",
                span=(number.start, number.end),
                hint="write the unit after the number, e.g. '500 mg'",
            )
        per = source.per if source is not None else None
        value = number.mantissa
        if exponents[index] is not None:
            value = value.scaleb(exponents[index])
        rate_source = source if source is not None and source.rate_hours is not None else None
        if rate_source is not None:
            value = value / rate_source.per_time_hours * rate_source.rate_hours
        doses.append(
            Dose(
                value=_finite(text, value, (number.start, number.end)),
                unit=f"{kind}/{per}" if per else kind,
                text=text[number.start : number.end].strip(),
                span=(number.start, number.end),
                range_role=roles[index],
                unit_stated=source is not None,
                repeats=number.repeats,
                from_rate=rate_source is not None,
            )
        )
    _check_range_order(text, spans, roles, [dose.value for dose in doses])
    return doses


def _range_roles(
    text: str, spans: Sequence[tuple[int, int]], joins: Sequence[str | None]
) -> list[RangeRole | None]:
    """low/high for the two numbers around each range separator; a chained range is an error."""
    roles: list[RangeRole | None] = [None] * len(joins)
    for index, join in enumerate(joins):
        if join != "range":
            continue
        if roles[index - 1] == "high":
            raise UnitParseError(
                text,
                f"{text[spans[index - 2][0] : spans[index][1]]!r} is a range with three ends",
                span=(spans[index - 2][0], spans[index][1]),
                hint="write 'A to B' once, and separate further values with ','",
            )
        roles[index - 1], roles[index] = "low", "high"
    return roles


def _check_range_order(
    text: str,
    spans: Sequence[tuple[int, int]],
    roles: Sequence[RangeRole | None],
    magnitudes: Sequence[float],
) -> None:
    for index in range(1, len(roles)):
        if roles[index] == "high" and magnitudes[index - 1] > magnitudes[index]:
            start, end = spans[index - 1][0], spans[index][1]
            raise UnitParseError(
                text,
                f"the range {text[start:end]!r} runs from high to low",
                span=(start, end),
                hint="write each end in full, low end first",
            )


# --- timings ------------------------------------------------------------------------------

_TIME_UNIT = r"minutes?|mins?|hours?|hrs?|h|days?|d|weeks?|wks?|months?|mos?|years?|yrs?|y"
_NUMBER_WORDS = {
    word: index
    for index, word in enumerate(
        (
            *("zero", "one", "two", "three", "four", "five", "six"),
            *("seven", "eight", "nine", "ten", "eleven", "twelve"),
        )
    )
}
_TIME_NUMBER = re.compile(
    rf"""
    (?P<prefix>(?<![\w])days?\s*(?P<prefix_number>\d+(?:\.\d+)?)(?![\w.]))
  | (?<![\w.])(?P<number>\d+(?:\.\d+)?)(?![\d.])(?:\s*-?\s*(?P<unit>{_TIME_UNIT})(?![\w]))?
  | (?<![\w])(?P<word>{"|".join(_NUMBER_WORDS)})\s*-?\s*(?P<word_unit>{_TIME_UNIT})(?![\w])
    """,
    re.IGNORECASE | re.VERBOSE,
)
_HOURS_PER_UNIT = {
    "min": Decimal(1) / Decimal(60),
    "h": Decimal(1),
    "d": Decimal(24),
    "w": Decimal(168),
    "mo": Decimal(720),
    "y": Decimal(8760),
}
_SPREAD = re.compile(r"\s*(?:\+/-|\+-|±)\s*")
_IMMEDIATELY = re.compile(r"\bimmediately\b", re.IGNORECASE)
_DURATION_BEFORE = re.compile(
    r"\b(?:for|over|during|lasting)\s*(?:~|≈|about|approx(?:imately|\.)?)?\s*$", re.IGNORECASE
)
_WITHIN_BEFORE = re.compile(r"(?:\b(?:within|up\s+to)|[<≤]=?)\s*$", re.IGNORECASE)
_BETWEEN_BEFORE = re.compile(r"\bbetween\s*$", re.IGNORECASE)
_ANCHOR = re.compile(
    r"\s*(?P<preposition>after|post|following|from|since|upon|of|before|prior\s+to)\b",
    re.IGNORECASE,
)
_RELATIVE = re.compile(r"\s*(?:later|earlier|afterwards?|thereafter)\b", re.IGNORECASE)
_ANCHOR_TAIL = re.compile(r"(?:[\s,;:.+-]|\b(?:and|or|vs|then)\b)+$", re.IGNORECASE)
_AT_EVENT_PREFIX = r"\b(?:at|upon|on)\s+(?:the\s+(?:time|onset|start)\s+of\s+)?"
_ALONE_PREFIX = re.compile(
    r"\s*(?:(?:at|upon|on|during)\s+)?(?:the\s+(?:time|onset|start)\s+of\s+)?(?:the\s+)?",
    re.IGNORECASE,
)
_CLAUSE_BREAK = re.compile(r";|\s\+\s|,(?!\s*(?:\d|and\b|or\b))", re.IGNORECASE)


@dataclass
class _TimeNumber:
    start: int
    end: int
    value: Decimal
    unit_hours: Decimal | None  # None: a bare number, unit to come from the list
    day_prefix: bool = False  # "day 3": the unit carries to the numbers after it


@dataclass
class _TimingScan:
    """What one parse_timing call has seen, for the end-of-text checks."""

    timings: list[Timing] = field(default_factory=list)
    saw_time_unit: bool = False
    saw_number: bool = False


def parse_timing(text: str | None, lex: Lexicon | None = None) -> list[Timing]:
    """Every treatment timing in a reported timing, in text order (rules: module docstring).

    A missing cell or text with no timing ("subacute", "after <event>") gives [].
    Raises UnitParseError for numbers with no time unit, times counted from another step
    ("2 days later"), reversed ranges and unbalanced parentheses.
    """
    lex = lex or Lexicon()
    if _is_missing(text):
        return []
    if not isinstance(text, str):
        raise UnitParseError(repr(text), f"a timing must be text, got {type(text).__name__}")
    clean = _clean(text)
    scan = _TimingScan()
    for segment in _segments(text, clean):
        for start, end in _clauses(segment):
            _read_clause(text, segment, start, end, scan, lex)
    if not scan.timings and scan.saw_number and not scan.saw_time_unit:
        raise UnitParseError(
            text,
            "a number with no time unit",
            hint="write the unit, e.g. '24 h', '3 days', 'day 1'",
        )
    return sorted(scan.timings, key=lambda timing: timing.span)


def _segments(text: str, clean: str) -> list[str]:
    """The text outside parentheses, then each parenthesis on its own, all at full length.

    Blanking the rest with spaces keeps offsets valid, and lets "6 h (exp 1) or 5 min" read
    as one list.
    """
    depth_of = [0] * len(clean)
    depth = 0
    opened: list[int] = []
    groups: list[tuple[int, int, int]] = []
    for index, char in enumerate(clean):
        if char in "([":
            depth += 1
            opened.append(index)
            depth_of[index] = depth
        elif char in ")]":
            if depth == 0:
                raise UnitParseError(
                    text, "a closing bracket with no opening one", span=(index, index + 1)
                )
            depth_of[index] = depth
            groups.append((opened.pop(), index, depth))
            depth -= 1
        else:
            depth_of[index] = depth
    if depth:
        raise UnitParseError(
            text, "an opening bracket that is never closed", span=(opened[-1], len(text))
        )
    segments = ["".join(char if depth_of[i] == 0 else " " for i, char in enumerate(clean))]
    for open_index, close_index, level in sorted(groups):
        segments.append(
            "".join(
                char if open_index < i < close_index and depth_of[i] == level else " "
                for i, char in enumerate(clean)
            )
        )
    return segments


def _clauses(segment: str) -> list[tuple[int, int]]:
    bounds: list[tuple[int, int]] = []
    start = 0
    for match in _CLAUSE_BREAK.finditer(segment):
        bounds.append((start, match.start()))
        start = match.end()
    bounds.append((start, len(segment)))
    return [(start, end) for start, end in bounds if segment[start:end].strip()]


def _read_clause(
    text: str, segment: str, start: int, end: int, scan: _TimingScan, lex: Lexicon
) -> None:
    clause = segment[:end]  # offsets stay those of the whole text; read from `start`
    numbers = [_time_number(match) for match in _TIME_NUMBER.finditer(clause, start)]
    immediate = list(_IMMEDIATELY.finditer(clause, start))
    at_events = [
        (name, match)
        for name, expression, at in lex.events
        if at
        for match in re.finditer(
            _AT_EVENT_PREFIX + f"(?:{expression.pattern})", clause[:end], re.IGNORECASE
        )
        if match.start() >= start
    ]
    scan.saw_number = scan.saw_number or bool(numbers)
    if immediate or at_events or any(n.unit_hours is not None for n in numbers):
        scan.saw_time_unit = True
    if lex.other_step is not None and lex.other_step.search(clause, start):
        return  # rule 4: a clause about another step (harvest, inclusion...)
    if not numbers and not immediate and not at_events:
        alone = _event_alone(text, clause, start, end, lex)
        if alone is not None:
            scan.saw_time_unit = True
            scan.timings.append(alone)
        return
    chains = [
        chain
        for chain in _chains(clause, numbers, _TIME_SEPARATOR)
        if not _is_duration(clause, start, chain, lex)
    ]
    covered: list[tuple[int, int]] = []
    for index, chain in enumerate(chains):
        next_start = chains[index + 1][0][0].start if index + 1 < len(chains) else end
        scan.timings.extend(
            _resolve_time_chain(text, clause, start, chain, next_start, covered, lex)
        )
    for match in immediate:
        following = [chain[0][0].start for chain in chains if chain[0][0].start > match.end()]
        anchor, event, anchor_span = _anchor_after(
            clause, match.end(), min(following, default=end), lex
        )
        if event in lex.follow_up:
            continue  # rule 3
        if anchor_span is not None:
            covered.append(anchor_span)
        scan.timings.append(
            Timing(0.0, text[match.start() : match.end()], match.span(), anchor, event)
        )
    for name, match in sorted(at_events, key=lambda item: item[1].start()):
        if not any(low <= match.start() < high for low, high in covered):
            phrase = text[match.start() : match.end()]
            scan.timings.append(Timing(0.0, phrase, match.span(), phrase, name))


def _event_alone(text: str, clause: str, start: int, end: int, lex: Lexicon) -> Timing | None:
    """A clause that is only a declared event ("at <event>", or the event's words alone): time 0
    from that event."""
    prefix = _ALONE_PREFIX.match(clause, start)
    body_start = prefix.end() if prefix else start
    body = clause[body_start:end].strip(" .")
    if not body:
        return None
    for name, expression, _ in lex.events:
        if expression.fullmatch(body):
            span = (start + (len(clause[start:end]) - len(clause[start:end].lstrip())), end)
            phrase = text[span[0] : span[1]].strip()
            return Timing(0.0, phrase, span, phrase, name)
    return None


def _is_duration(
    clause: str, clause_start: int, chain: list[tuple[_TimeNumber, str | None]], lex: Lexicon
) -> bool:
    """Rules 1 and 2: a length of the model ("90-min occlusion") or a "for 24 h" length."""
    first, last = chain[0][0], chain[-1][0]
    if _DURATION_BEFORE.search(clause, clause_start, first.start):
        return True
    if lex.duration_after is None or last.unit_hours is None:
        return False
    return lex.duration_after.match(clause, last.end) is not None


def _time_number(match: re.Match[str]) -> _TimeNumber:
    if match.group("prefix") is not None:
        return _TimeNumber(
            start=match.start(),
            end=match.end(),
            value=Decimal(match.group("prefix_number")),
            unit_hours=_HOURS_PER_UNIT["d"],
            day_prefix=True,
        )
    if match.group("word") is not None:
        value = Decimal(_NUMBER_WORDS[match.group("word").lower()])
        unit = match.group("word_unit")
    else:
        value = Decimal(match.group("number"))
        unit = match.group("unit")
    return _TimeNumber(
        start=match.start(),
        end=match.end(),
        value=value,
        unit_hours=_unit_hours(unit) if unit else None,
    )


def _unit_hours(unit: str) -> Decimal:
    word = unit.lower()
    if word.startswith("mi"):
        return _HOURS_PER_UNIT["min"]
    if word.startswith("mo"):
        return _HOURS_PER_UNIT["mo"]
    if word.startswith("w"):
        return _HOURS_PER_UNIT["w"]
    return _HOURS_PER_UNIT[word[0]]


def _resolve_time_chain(
    text: str,
    clause: str,
    clause_start: int,
    chain: list[tuple[_TimeNumber, str | None]],
    next_start: int,
    covered: list[tuple[int, int]],
    lex: Lexicon,
) -> list[Timing]:
    """Units along the list, anchor, rule 3, then the Timings (merging "mean +/- SD")."""
    numbers = [number for number, _ in chain]
    first, last = numbers[0], numbers[-1]
    units = _time_units(numbers)
    if all(unit is None for unit in units):
        return []  # bare numbers ("median 6", "exp 1"): checked at the end of the text
    for number, unit in zip(numbers, units, strict=True):
        if unit is None:
            raise UnitParseError(
                text,
                f"{text[number.start : number.end]!r} has no time unit",
                span=(number.start, number.end),
                hint="write the unit after each value or after the list, e.g. '24 h or 48 h'",
            )
    if relative := _RELATIVE.match(clause, last.end):
        raise UnitParseError(
            text,
            f"{text[first.start : relative.end()].strip()!r} counts from an earlier step, not "
            "from the disease event",
            span=(first.start, relative.end()),
            hint="restate it as time after the event, e.g. '13-19 days after <event>'",
        )
    anchor, event, anchor_span = _anchor_after(clause, last.end, next_start, lex)
    if event in lex.follow_up:
        return []  # rule 3: "6 h after infusion" is a follow-up time
    if anchor_span is not None:
        covered.append(anchor_span)
    sign = -1 if anchor is not None and re.match(r"(?i)before|prior", anchor) else 1
    hours = [number.value * unit * sign for number, unit in zip(numbers, units, strict=True)]
    # Merge "mean +/- spread" pairs into one element: (start, end, hours, spread, join).
    elements: list[tuple[int, int, Decimal, Decimal | None, str | None]] = []
    for index, (number, join) in enumerate(chain):
        if join == "spread":
            start, _, mean, previous_spread, previous_join = elements.pop()
            if previous_spread is not None:
                raise UnitParseError(
                    text, "two '+/-' in a row", span=(start, number.end), hint="write 'mean +/- SD'"
                )
            elements.append((start, number.end, mean, abs(hours[index]), previous_join))
        else:
            elements.append((number.start, number.end, hours[index], None, join))
    spans = [(start, end) for start, end, _, _, _ in elements]
    roles = _range_roles(text, spans, [join for _, _, _, _, join in elements])
    before = clause[clause_start : first.start]
    between = _BETWEEN_BEFORE.search(before)
    if between and len(elements) == 2 and elements[1][4] == "list":
        roles = ["low", "high"]
    _check_range_order(text, spans, roles, [abs(float(h)) for _, _, h, _, _ in elements])
    timings = [
        Timing(
            hours=_float_hours(text, value, (start, end)),
            text=text[start:end],
            span=(start, end),
            anchor=anchor,
            event=event,
            range_role=role,
            spread_hours=None if spread is None else _float_hours(text, spread, (start, end)),
        )
        for (start, end, value, spread, _), role in zip(elements, roles, strict=True)
    ]
    window = _WITHIN_BEFORE.search(before)
    if window and len(timings) == 1 and timings[0].spread_hours is None:
        span = (clause_start + window.start(), timings[0].span[1])
        phrase = text[span[0] : span[1]]
        return [
            Timing(0.0, phrase, span, anchor, event, "low"),
            Timing(timings[0].hours, phrase, span, anchor, event, "high"),
        ]
    return timings


def _time_units(numbers: Sequence[_TimeNumber]) -> list[Decimal | None]:
    """Each number's unit: its own, a "day N" before it, or the next stated one in the list."""
    units: list[Decimal | None] = []
    for index, number in enumerate(numbers):
        unit = number.unit_hours
        if unit is None:
            for earlier in reversed(numbers[:index]):
                if earlier.day_prefix:
                    unit = earlier.unit_hours
                    break
                if earlier.unit_hours is not None:
                    break
        if unit is None:
            unit = next(
                (
                    later.unit_hours
                    for later in numbers[index + 1 :]
                    if later.unit_hours is not None
                ),
                None,
            )
        units.append(unit)
    return units


def _anchor_after(
    clause: str, position: int, stop: int, lex: Lexicon
) -> tuple[str | None, str | None, tuple[int, int] | None]:
    """The "after <event>" phrase right after a timing, up to the next timing or clause end."""
    match = _ANCHOR.match(clause, position)
    if match is None:
        return None, None, None
    phrase_start = match.start("preposition")
    phrase = clause[phrase_start:stop]
    phrase = _ANCHOR_TAIL.sub("", phrase.rstrip())
    phrase = re.sub(r"\s{2,}", " ", phrase)
    if not phrase:
        return None, None, None
    return phrase, _event(phrase[len(match.group("preposition")) :], lex), (phrase_start, stop)


def _event(phrase: str, lex: Lexicon) -> str:
    """The declared event the anchor phrase names (its first event word), else "other"."""
    expression = lex.event_expression
    match = None if expression is None else expression.search(phrase)
    if match is None:
        return "other"
    for index, (name, _, _) in enumerate(lex.events):
        if match.group(f"e{index}") is not None:
            return name
    return "other"


def _float_hours(text: str, hours: Decimal, span: tuple[int, int]) -> float:
    value = _finite(text, hours, span)
    return 0.0 if value == 0 else value  # no -0.0 from "0 days before"


def _finite(text: str, value: Decimal, span: tuple[int, int]) -> float:
    as_float = float(value)
    if not math.isfinite(as_float):
        raise UnitParseError(
            text,
            f"{text[span[0] : span[1]]!r} is too large to be a number",
            span=span,
            hint="check the exponent",
        )
    return as_float
