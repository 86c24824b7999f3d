"""Doses and timings as reviewers write them in extraction sheets, read into numbers.

A reviewer copies "1 × 10⁶ cells/kg", "low 1x10^4 cells vs high 1x10^6 cells" or
"1 h vs 24 h after 90-min rMCAo" from a paper; the report needs cells, cells/kg and hours. The
parsers here keep every value a cell holds (arms, range ends) with the span it came from, so the
sheet keeps the wording *and* the number can be audited against it. They read what is written
and nothing more: text with no dose or timing gives an empty list, and text that looks like one
but cannot be read (a lost superscript "1 x 10^?", a bare number with no unit, a time counted
from "2 days later") raises `UnitParseError` saying what is wrong and how to write it instead.
The extraction stage wraps that error with the sheet's file, row and column.

Doses (`parse_dose`)
    A number is a dose when it carries a power of ten ("1x10^6", "1 × 10⁶", "1·10^6", "1*10^6",
    "1e6", "1E+06", "10^6"), a word multiplier ("2 million", "billion", "thousand"), thousands
    separators ("1,000,000"), or is followed by a dose unit: cells (also cell abbreviations
    such as MSC, NPCs, GFP-hMSCs, hBM-MSCs: an upper-case word ending in C), particles (EVs,
    exosomes, vesicles), or a mass (ug, µg, mg, ng; mass is reported in ug). Up to three words
    may stand between a number and its unit ("1 million NR1 cells"). A number followed
    by a volume, time or length ("in 0.5-1.0 mL", "over 3-6 min") is not a dose.
    "/kg", "per kg", "cells/kg body weight", "cells kg-1" make the unit per kg. "/100 uL" after a
    count is the volume the count was given in (the count stays the dose); "/patient",
    "per injection" mark a total. A per-mL concentration with no volume is an error, as is an
    unknown denominator. A count with no unit word is taken as cells and flagged
    (`unit_stated=False`).
    Numbers joined by ",", "and", "or", "vs" form a list; "to", "-", "–" make a range (both ends
    returned, flagged low/high). In a list or range, bare numbers share the power of ten and
    the unit of the next number that states them ("1.0, 1.5 or 2 x 10^6 cells", "1-5 x 10^8",
    "3.0, 6.0, 9.0 x 10^5 cells/kg"); a number with no unit takes the unit of its neighbours.
    Values are computed in decimal arithmetic, so "9.1x10^4" is exactly 91000.0.

Timings (`parse_timing`)
    A timing is a number with a time unit (min, h, d, days, weeks, months, years; a month is 30
    days and a year 365 days, a convention), "day N" (= N x 24 h after the event), "immediately"
    (0 h), or "at/upon reperfusion" (0 h after reperfusion). Lists and ranges work as for doses
    ("1, 6 and 24 h", "3-7 days", "day 5-9", "between 1 and 6 h"); "within 7 days" (also "up
    to", "<") is the range 0-168 h; "14 +/- 7 days" is one timing with `spread_hours`. Number
    words one to twelve are read ("two weeks"); "D1" and "P7" are not. The phrase after the timing ("after MCAO",
    "post ictus", "from start of MCAO") is its `anchor`, classed into an `event`:
    reperfusion, stroke (MCAO and its variants, ischaemia, infarction, occlusion, ictus, ICH),
    injury (TBI, injury, insult), tumour, onset, or other; the first event word in the anchor
    decides. "before"/"prior to" give negative hours.
    Durations that are not timings are skipped, by these documented rules:
      1. an occlusion length: a time directly before a model or occlusion word, hyphenated or
         not ("90-min rMCAo", "2-h MCAO", "3 h tMCAO", "30 min of occlusion");
      2. a time after "for", "over", "during" or "lasting" (an infusion or culture length);
      3. a time counted from the treatment itself ("6 h after infusion"): a follow-up time;
      4. every time in a clause about another step: harvest, sacrifice, euthanasia, inclusion,
         eligibility, follow-up, culture, passage, preconditioning, or an assessment
         ("assessed", "evaluated", "imaged", "scanned", "measured", "analysed").
    Clauses are split at ";", " + ", parentheses, and at "," before a word other than
    "and"/"or"; a parenthesis is read on its own ("immediately after reperfusion (60 min
    after ischemia onset)" gives 0 h after reperfusion and 1 h after ischaemia onset).

Normalising (`to_cells_per_kg`, `timing_bin`)
    Total cells are divided by the study's weight when known, else by a reference weight per
    species from config (flagged as estimated); a species with no reference weight is an error
    naming it. Timing bins are half-open, [min_hours, max_hours).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, Protocol, TypeVar

import pandas as pd

from litreview.errors import ConfigError, LitReviewError, ParseError

__all__ = [
    "Dose",
    "MissingReferenceWeightError",
    "Timing",
    "UnitConversionError",
    "UnitParseError",
    "check_timing_bins",
    "parse_dose",
    "parse_timing",
    "timing_bin",
    "to_cells_per_kg",
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

    `unit` is "cells", "cells/kg", "cells/m2", "particles", "particles/kg", "ug" or "ug/kg".
    `unit_stated` is False when no unit was written and cells were assumed.
    """

    value: float
    unit: str
    text: str
    span: tuple[int, int]
    range_role: RangeRole | None = None
    unit_stated: bool = True

    @property
    def is_range(self) -> bool:
        """True for either end of a range ("1-5 x 10^6"): the pair is (low, the next high)."""
        return self.range_role is not None


@dataclass(frozen=True)
class Timing:
    """One timing read from a cell, in hours after the event named by `anchor` (if stated).

    `event` is the anchor's class: "reperfusion", "stroke", "injury", "tumour", "onset",
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
_FOREIGN_UNIT = (
    r"µl|μl|ul|ml|l|cc|dl|microlit(?:er|re)s?|millilit(?:er|re)s?|lit(?:er|re)s?"
    r"|minutes?|mins?|hours?|hrs?|h|days?|d|weeks?|wks?|months?|years?|s|sec|seconds?"
    r"|mm|cm|m|µm|μm|um|nm|g|kg|mmhg|rpm|fold|times|x"
    r"|doses?|injections?|infusions?|rats?|mice|mouse|dogs?|pigs?|animals?|patients?|subjects?"
)
_FOREIGN_AFTER_NUMBER = re.compile(rf"\s*-?\s*(?:(?:{_FOREIGN_UNIT})(?![\w])|%|°)", re.IGNORECASE)


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
_MASS_TO_UG = {"mg": Decimal(1000), "ug": Decimal(1), "ng": Decimal("0.001")}
_MASS_WORD = re.compile(r"(?P<mass>mg|µg|μg|ug|mcg|ng)", re.IGNORECASE)
_PARTICLE_WORD = re.compile(r"particles?|s?EVs?|exosomes?|vesicles?|vps?", re.IGNORECASE)
_CELL_WORD = re.compile(r"(?i:cells?)|(?:[A-Za-z0-9]+-)*[A-Za-z0-9]*[A-Z]Cs?")
_NOUN_TOKEN = re.compile(r"\s*-?\s*(?P<token>[A-Za-zµμ][\w\-µμ]*)")
_MAX_MODIFIERS = 3  # words allowed between a number and its unit ("1 million NR1 cells")
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
_PER_TOTAL = re.compile(
    r"(?:patient|subject|person|individual|animal|rat|mouse|mice|dog|pig|monkey|sheep"
    r"|injection|infusion|dose|administration|session|hemisphere|artery|treatment)s?(?![\w])",
    re.IGNORECASE,
)
_DENOMINATOR_WORD = re.compile(r"[^\s,;()]*")

_LOST_SUPERSCRIPT = re.compile(rf"(?<![\d.])\d+(?:\.\d+)?\s*{_TIMES_SIGN}\s*10\s*\^?\s*[?\ufffd]")
_EMPTY_CARET = re.compile(r"10\s*(?:\^|\*\*)(?!\s*[({]?\s*[+-]?\d)")
_FLAT_EXPONENT = re.compile(
    rf"\d\s*{_TIMES_SIGN}\s*10(?P<digits>\d{{1,2}})(?![\d.]|,\d{{3}})"
    rf"(?!\s*-?\s*(?:(?:{_FOREIGN_UNIT})(?![\w])|%))",
    re.IGNORECASE,
)
_NO_MANTISSA = re.compile(
    rf"(?:^|[^\d\s.])\s*(?P<sign>[x×])\s*10\s*(?:\^|\*\*|[{_SUPERSCRIPT_DIGITS}])"
)
_DECIMAL_COMMA = re.compile(rf"(?<![\d,.^])\d+,\d{{1,2}}(?!\d)\s*{_TIMES_SIGN}\s*10")


@dataclass
class _DoseNumber:
    """One number found in a dose text, with what follows it; resolved into a Dose later."""

    start: int
    number_end: int
    end: int
    mantissa: Decimal
    exponent: int | None  # its own power of ten, if written
    grouped: bool  # written with thousands separators
    kind: str | None = None  # "cells", "particles", "ug" from a unit word
    mass_factor: Decimal = Decimal(1)
    per: str | None = None  # "kg" or "m2"
    foreign: bool = False  # followed by a volume, time, length...

    @property
    def has_unit(self) -> bool:
        return self.kind is not None or self.per is not None


def parse_dose(text: str | None) -> list[Dose]:
    """Every dose value in a reported dose, in text order (see the module docstring for rules).

    A missing cell (None, pd.NA, NaN) or text with no dose gives []. Raises UnitParseError when
    something looks like a dose but cannot be read.
    """
    if _is_missing(text):
        return []
    if not isinstance(text, str):
        raise UnitParseError(repr(text), f"a dose must be text, got {type(text).__name__}")
    clean = _clean(text)
    _check_dose_text(text, clean)
    numbers = _scan_dose_numbers(text, clean)
    doses: list[Dose] = []
    for chain in _chains(clean, [number for number in numbers if not number.foreign]):
        doses.extend(_resolve_dose_chain(text, clean, chain))
    return doses


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
            hint="write e.g. '1 x 10^6 cells'",
        )
    if match := _DECIMAL_COMMA.search(clean):
        raise UnitParseError(
            text,
            f"{match.group(0)!r} has a decimal comma, which reads as a list",
            span=match.span(),
            hint="use a decimal point, e.g. '1.5 x 10^6'",
        )


def _scan_dose_numbers(text: str, clean: str) -> list[_DoseNumber]:
    """Every number in the text, left to right, each with the unit words it is followed by."""
    numbers: list[_DoseNumber] = []
    position = 0
    while match := _DOSE_NUMBER.search(clean, position):
        number = _dose_number(match)
        _read_dose_unit(text, clean, number)
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


def _read_dose_unit(text: str, clean: str, number: _DoseNumber) -> None:
    """Fill kind, per and end from the words after the number ("cells/kg", "MSC in", "mL")."""
    position = number.number_end
    counted = number.exponent is not None or number.grouped
    foreign = _FOREIGN_AFTER_NUMBER.match(clean, position)
    if foreign and not _KG_MINUS_ONE.match(clean, position) and not _dose_noun_at(clean, position):
        if counted:
            raise UnitParseError(
                text,
                f"{clean[number.start : foreign.end()].strip()!r} is a volume, time or other "
                "quantity, not a dose",
                span=(number.start, foreign.end()),
                hint="write the dose as a count (cells, particles) or a mass",
            )
        number.foreign = True
        return
    noun = _dose_noun_at(clean, position)
    if noun is not None:
        kind, mass_factor, position = noun
        number.kind = kind
        number.mass_factor = mass_factor
    if match := _KG_MINUS_ONE.match(clean, position):
        number.per = "kg"
        number.end = match.end()
        return
    per = _PER.match(clean, position)
    if per is None:
        number.end = position
        return
    denominator_start = per.end()
    if match := _PER_KG.match(clean, denominator_start):
        number.per = "kg"
        number.end = match.end()
        return
    if not (counted or number.kind is not None):
        number.end = position  # "1/3", "APP/PS1": a bare number is not read further
        return
    if match := _PER_M2.match(clean, denominator_start):
        number.per = "m2"
        number.end = match.end()
        return
    if match := _PER_VOLUME.match(clean, denominator_start):
        if match.group("volume") is None:
            raise UnitParseError(
                text,
                f"{clean[number.start : match.end()]!r} is a concentration, not a dose",
                span=(number.start, match.end()),
                hint="write the count given and its volume, e.g. '1 x 10^6 cells in 100 uL'",
            )
        number.end = match.end()
        return
    if match := _PER_TOTAL.match(clean, denominator_start):
        number.end = match.end()
        return
    word = _DENOMINATOR_WORD.match(clean, denominator_start)
    assert word is not None
    raise UnitParseError(
        text,
        f"unknown denominator {clean[per.start() : word.end()].strip()!r} after a dose",
        span=(number.start, word.end()),
        hint="use /kg, per kg, /m2, a volume such as /100 uL, or /patient; separate arms with "
        "',' or 'vs'",
    )


def _dose_noun_at(clean: str, position: int) -> tuple[str, Decimal, int] | None:
    """The unit word after a number, allowing a few modifiers ("GFP-labelled human cells")."""
    for index in range(_MAX_MODIFIERS + 1):
        match = _NOUN_TOKEN.match(clean, position)
        if match is None:
            return None
        token = match.group("token")
        if mass := _MASS_WORD.fullmatch(token):
            unit = mass.group("mass").lower().replace("µ", "u").replace("μ", "u")
            unit = "ug" if unit == "mcg" else unit
            return "ug", _MASS_TO_UG[unit], match.end()
        if _PARTICLE_WORD.fullmatch(token):
            return "particles", Decimal(1), match.end()
        if _CELL_WORD.fullmatch(token):
            return "cells", Decimal(1), match.end()
        if token.lower() in _STOP_WORDS or (index == 0 and _FOREIGN_AFTER_NUMBER.fullmatch(token)):
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
    text: str, clean: str, chain: list[tuple[_DoseNumber, str | None]]
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
                hint="write each value in full, e.g. '1 x 10^6 cells, 5 x 10^5 cells'",
            )
    spans = [(number.start, number.end) for number in numbers]
    roles = _range_roles(text, spans, [join for _, join in chain])
    doses: list[Dose] = []
    for index, number in enumerate(numbers):
        source = units[index]
        kind = source.kind if source is not None and source.kind is not None else "cells"
        factor = source.mass_factor if source is not None else Decimal(1)
        per = source.per if source is not None else None
        value = number.mantissa * factor
        if exponents[index] is not None:
            value = value.scaleb(exponents[index])
        doses.append(
            Dose(
                value=_finite(text, value, (number.start, number.end)),
                unit=f"{kind}/{per}" if per else kind,
                text=text[number.start : number.end].strip(),
                span=(number.start, number.end),
                range_role=roles[index],
                unit_stated=source is not None,
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
_AT_REPERFUSION = re.compile(
    r"\b(?:at|upon|on)\s+(?:the\s+(?:time|onset|start)\s+of\s+)?"
    r"(?:reperfusion|recanali[sz]ation)\b",
    re.IGNORECASE,
)
_OCCLUSION_AFTER = re.compile(
    r"\s*(?:(?:transient|permanent|focal|global|temporary)\s+)?(?:of\s+(?:\w+\s+)?)?"
    r"(?:[a-z]*mcao\w*|[a-z]*mcai\w*|bccao|occlu\w*|isch(?:a)?emi\w*|hypoxi\w*)\b",
    re.IGNORECASE,
)
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
_OTHER_STEP = re.compile(
    r"\b(?:harvest\w*|sacrific\w*|killed|euthan\w*|inclusion|included|eligib\w*"
    r"|follow(?:ed)?[\s-]*up|cultur\w*|passag\w*|precondition\w*"
    r"|assessed|evaluated|imaged|scanned|measured|analy[sz]ed)\b",
    re.IGNORECASE,
)
_EVENT_WORDS = (
    ("reperfusion", r"reperfus\w*|recanali[sz]\w*"),
    (
        "treatment",
        r"infus\w*|inject\w*|transplant\w*|administ\w*|treatment|engraft\w*|deliver\w*|ia",
    ),
    (
        "stroke",
        r"\w*mcao\w*|\w*mcai\w*|stroke|isch(?:a)?emi\w*|infarct\w*|ictus|occlu\w*"
        r"|photothromb\w*|embol\w*|ich|h(?:a)?emorrhag\w*|hypoxi\w*",
    ),
    ("injury", r"tbi|injur\w*|trauma\w*|insult|contusion"),
    ("tumour", r"tumou?r\w*|glioma\w*|glioblastoma\w*|xenograft\w*"),
    ("onset", r"onset"),
)
_EVENT = re.compile(
    r"\b(?:"
    + "|".join(f"(?P<e{index}>{words})" for index, (_, words) in enumerate(_EVENT_WORDS))
    + r")\b",
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


def parse_timing(text: str | None) -> list[Timing]:
    """Every treatment timing in a reported timing, in text order (rules: module docstring).

    A missing cell or text with no timing ("subacute", "after recanalization") gives [].
    Raises UnitParseError for numbers with no time unit, times counted from another step
    ("2 days later"), reversed ranges and unbalanced parentheses.
    """
    if _is_missing(text):
        return []
    if not isinstance(text, str):
        raise UnitParseError(repr(text), f"a timing must be text, got {type(text).__name__}")
    clean = _clean(text)
    scan = _TimingScan()
    for segment in _segments(text, clean):
        for start, end in _clauses(segment):
            _read_clause(text, segment, start, end, scan)
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


def _read_clause(text: str, segment: str, start: int, end: int, scan: _TimingScan) -> None:
    clause = segment[:end]  # offsets stay those of the whole text; read from `start`
    numbers = [_time_number(match) for match in _TIME_NUMBER.finditer(clause, start)]
    immediate = list(_IMMEDIATELY.finditer(clause, start))
    at_reperfusion = list(_AT_REPERFUSION.finditer(clause, start))
    scan.saw_number = scan.saw_number or bool(numbers)
    if immediate or at_reperfusion or any(n.unit_hours is not None for n in numbers):
        scan.saw_time_unit = True
    if _OTHER_STEP.search(clause, start):
        return  # rule 4: a clause about harvest, sacrifice, inclusion...
    chains = [
        chain
        for chain in _chains(clause, numbers, _TIME_SEPARATOR)
        if not _is_duration(clause, start, chain)
    ]
    covered: list[tuple[int, int]] = []
    for index, chain in enumerate(chains):
        next_start = chains[index + 1][0][0].start if index + 1 < len(chains) else end
        scan.timings.extend(_resolve_time_chain(text, clause, start, chain, next_start, covered))
    for match in immediate:
        following = [chain[0][0].start for chain in chains if chain[0][0].start > match.end()]
        anchor, event, anchor_span = _anchor_after(clause, match.end(), min(following, default=end))
        if event == "treatment":
            continue  # rule 3
        if anchor_span is not None:
            covered.append(anchor_span)
        scan.timings.append(
            Timing(0.0, text[match.start() : match.end()], match.span(), anchor, event)
        )
    for match in at_reperfusion:
        if not any(low <= match.start() < high for low, high in covered):
            phrase = text[match.start() : match.end()]
            scan.timings.append(Timing(0.0, phrase, match.span(), phrase, "reperfusion"))


def _is_duration(
    clause: str, clause_start: int, chain: list[tuple[_TimeNumber, str | None]]
) -> bool:
    """Rules 1 and 2: an occlusion length ("90-min rMCAo") or a "for 24 h" length."""
    first, last = chain[0][0], chain[-1][0]
    if _DURATION_BEFORE.search(clause, clause_start, first.start):
        return True
    return last.unit_hours is not None and _OCCLUSION_AFTER.match(clause, last.end) is not None


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
            hint="restate it as time after the event, e.g. '13-19 days after stroke'",
        )
    anchor, event, anchor_span = _anchor_after(clause, last.end, next_start)
    if event == "treatment":
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
    clause: str, position: int, stop: int
) -> tuple[str | None, str | None, tuple[int, int] | None]:
    """The "after MCAO" phrase right after a timing, up to the next timing or clause end."""
    match = _ANCHOR.match(clause, position)
    if match is None:
        return None, None, None
    phrase_start = match.start("preposition")
    phrase = clause[phrase_start:stop]
    phrase = _ANCHOR_TAIL.sub("", phrase.rstrip())
    phrase = re.sub(r"\s{2,}", " ", phrase)
    if not phrase:
        return None, None, None
    return phrase, _event(phrase[len(match.group("preposition")) :]), (phrase_start, stop)


def _event(phrase: str) -> str:
    match = _EVENT.search(phrase)
    if match is None:
        return "other"
    for index, (name, _) in enumerate(_EVENT_WORDS):
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


# --- normalising --------------------------------------------------------------------------


def to_cells_per_kg(
    dose: Dose,
    *,
    weight_kg: float | None = None,
    species: str | None = None,
    reference_weights: Mapping[str, float],
) -> tuple[float, bool, str]:
    """A cell dose in cells/kg, whether the weight was estimated, and how it was computed.

    cells/kg are kept as reported. Total cells are divided by the study's weight when given,
    else by config's reference weight for the species (estimated=True). Species are matched
    case-insensitively with parenthesised notes dropped ("rat (Wistar)" -> "rat"); no other
    guess is made ("neonatal rat" needs its own reference weight).
    """
    if dose.unit == "cells/kg":
        return dose.value, False, "reported per kg"
    if dose.unit != "cells":
        raise UnitConversionError(
            f"dose {dose.text!r} is in {dose.unit}, not a cell count: only cells and cells/kg "
            "convert to cells/kg"
        )
    if not _is_missing(weight_kg):
        weight = _checked_weight(weight_kg, f"the study weight for dose {dose.text!r}")
        return (
            _divide(dose.value, weight),
            False,
            f"{_format_number(dose.value)} cells / {_format_number(weight)} kg (study weight)",
        )
    if _is_missing(species) or not str(species).strip():
        raise MissingReferenceWeightError(
            f"dose {dose.text!r} is a total cell count with no body weight and no species: give "
            "the study's weight or the species"
        )
    key = _species_key(str(species))
    if re.search(r"[;,/&]|\b(?:and|or)\b", key):
        raise MissingReferenceWeightError(
            f"species {species!r} names more than one species: give the weight of the animals "
            f"that received dose {dose.text!r}, or split the study into one row per species"
        )
    weights = {_species_key(name): value for name, value in reference_weights.items()}
    if key not in weights:
        known = ", ".join(sorted(weights)) or "none"
        raise MissingReferenceWeightError(
            f"no reference body weight for species {key!r} (from {species!r}): add "
            f"'{key}: <kg>' to the reference body weights in config, or give the study's weight "
            f"(species with a reference weight: {known})"
        )
    weight = _checked_weight(weights[key], f"the reference weight of {key!r} in config")
    return (
        _divide(dose.value, weight),
        True,
        f"{_format_number(dose.value)} cells / {_format_number(weight)} kg "
        f"(reference weight for {key}, config)",
    )


def _species_key(species: str) -> str:
    without_notes = re.sub(r"\([^)]*\)", " ", species)
    return re.sub(r"\s+", " ", without_notes).strip().lower()


def _checked_weight(weight: object, what: str) -> float:
    if isinstance(weight, bool) or not isinstance(weight, int | float | Decimal):
        raise UnitConversionError(f"{what} is {weight!r}, not a number of kg")
    value = float(weight)
    if not math.isfinite(value) or value <= 0:
        raise UnitConversionError(f"{what} is {weight!r}: it must be a positive number of kg")
    return value


def _divide(value: float, weight: float) -> float:
    """value / weight on the decimal values as written (1e6 / 0.275 = 3636363.63...)."""
    return float(Decimal(repr(value)) / Decimal(repr(weight)))


def _format_number(value: float) -> str:
    return f"{value:g}"


def check_timing_bins(bins: Sequence[Mapping[str, Any]]) -> list[tuple[str, float, float]]:
    """Validate config's timing bins: (label, min_hours, max_hours) with [min, max) intervals.

    Each bin needs a unique non-empty label and numeric bounds with min < max; None for
    min_hours/max_hours means open-ended. Bins may not overlap. Raises ConfigError naming the
    bin (1-based) and what to fix.
    """
    if isinstance(bins, str | bytes) or not isinstance(bins, Sequence):
        raise ConfigError(
            f"timing bins must be a list of {{label, min_hours, max_hours}}, got {bins!r}"
        )
    checked: list[tuple[str, float, float]] = []
    for number, entry in enumerate(bins, 1):
        if not isinstance(entry, Mapping):
            raise ConfigError(f"timing bin {number} is {entry!r}: give label, min_hours, max_hours")
        unknown = set(entry) - {"label", "min_hours", "max_hours"}
        if unknown:
            raise ConfigError(
                f"timing bin {number} has unknown keys {sorted(unknown)}: use label, min_hours, max_hours"
            )
        label = entry.get("label")
        if not isinstance(label, str) or not label.strip():
            raise ConfigError(f"timing bin {number} needs a non-empty label, got {label!r}")
        low = _bin_bound(entry.get("min_hours"), -math.inf, number, "min_hours")
        high = _bin_bound(entry.get("max_hours"), math.inf, number, "max_hours")
        if not low < high:
            raise ConfigError(
                f"timing bin {number} ({label!r}): min_hours {low} must be below max_hours {high}"
            )
        checked.append((label, low, high))
    labels = [label for label, _, _ in checked]
    for label in labels:
        if labels.count(label) > 1:
            raise ConfigError(f"timing bin label {label!r} is used twice: labels must be unique")
    ordered = sorted(checked, key=lambda item: item[1])
    for (label, _, high), (next_label, next_low, _) in itertools.pairwise(ordered):
        if next_low < high:
            raise ConfigError(
                f"timing bins {label!r} and {next_label!r} overlap: bins are [min_hours, "
                "max_hours), so one bin's max_hours may equal the next one's min_hours"
            )
    return checked


def _bin_bound(value: object, open_end: float, number: int, key: str) -> float:
    if value is None:
        return open_end
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ConfigError(f"timing bin {number}: {key} is {value!r}, not a number of hours")
    return float(value)


def timing_bin(hours: float, bins: Sequence[Mapping[str, Any]], *, other: str = "other") -> str:
    """The label of the bin holding `hours` (bins are [min_hours, max_hours)), else `other`.

    E.g. bins [{"label": "day 1", "min_hours": 12, "max_hours": 36}, ...] put 24 h in "day 1"
    and 36 h in the next bin.
    """
    checked = check_timing_bins(bins)
    if other in {label for label, _, _ in checked}:
        raise ConfigError(f"the label for timings in no bin, {other!r}, is also a bin label")
    if isinstance(hours, bool) or not isinstance(hours, int | float) or math.isnan(hours):
        raise UnitConversionError(f"timing {hours!r} is not a number of hours")
    for label, low, high in checked:
        if low <= hours < high:
            return label
    return other
