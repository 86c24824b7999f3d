"""Units and conversions (pint), with a review's counted things as units of their own.

pint knows masses, volumes and times; a review declares what it counts (units, particles,
tablets...) in `extraction.units`, and each becomes a base dimension of its own, so "vials"
never converts to "tablets" and "mg" converts to "g" exactly as pint says. International units
(IU) are a dimension of their own too: they convert to nothing else.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from decimal import Decimal
from functools import lru_cache

import pint

from litreview.errors import ConfigError

__all__ = ["UnitSystem", "parse_offset"]

_PARSER_UNITS = {"ug": "microgram", "ng": "nanogram", "mg": "milligram", "g": "gram"}
_PARSER_UNITS |= {"mL": "milliliter", "uL": "microliter", "L": "liter", "IU": "counted_IU"}


@lru_cache(maxsize=32)
def _registry(counted: tuple[str, ...]) -> pint.UnitRegistry:
    # the parsed definitions cached in the user's cache folder (5x faster; none if unwritable)
    registry = pint.UnitRegistry(cache_folder=":auto:")
    registry.define("counted_IU = [counted_IU]")
    for name in counted:
        registry.define(f"counted_{name} = [counted_{name}]")
    return registry


class UnitSystem:
    """Converts the parser's unit strings ("mg", "units/kg", "IU") into a declared target."""

    def __init__(self, counted: Iterable[str]) -> None:
        self.counted = tuple(sorted(set(counted)))
        self.registry = _registry(self.counted)

    def pint_unit(self, unit: str, *, where: str = "a unit") -> pint.Unit:
        """The pint unit of a unit string: a counted unit, a parser unit, or any pint unit."""
        parts = unit.split("/")
        expression = " / ".join(self._part(part.strip(), where) for part in parts)
        try:
            return self.registry.parse_units(expression)
        except (pint.UndefinedUnitError, pint.DefinitionSyntaxError, AttributeError) as error:
            raise ConfigError(
                f"{where}: {unit!r} is not a unit (declare counted things in extraction.units; "
                "masses, volumes and times are written as pint spells them: mg, mL, h)"
            ) from error

    def _part(self, part: str, where: str) -> str:
        if part in self.counted:
            return f"counted_{part}"
        if part == "m2":
            return "meter ** 2"
        return _PARSER_UNITS.get(part, part)

    def factor(self, unit: str, target: str) -> Decimal | None:
        """The factor taking a value in `unit` to `target`, or None for another dimension."""
        if unit == target:
            return Decimal(1)
        source, goal = self.pint_unit(unit), self.pint_unit(target)
        if source.dimensionality != goal.dimensionality:
            return None
        magnitude = self.registry.Quantity(1, source).to(goal).magnitude
        return Decimal(repr(float(magnitude)))

    def convert(self, value: float, unit: str, target: str) -> float | None:
        """`value` in `unit` expressed in `target`, or None for another dimension. pint's float
        factors are rounded to 15 significant digits, so 200 ng is 0.0002 mg exactly."""
        if unit == target:
            return value
        source, goal = self.pint_unit(unit), self.pint_unit(target)
        if source.dimensionality != goal.dimensionality:
            return None
        magnitude = float(self.registry.Quantity(value, source).to(goal).magnitude)
        result = float(f"{magnitude:.15g}")
        return 0.0 if result == 0 else result

    def is_time(self, unit: str) -> bool:
        return (
            self.pint_unit(unit).dimensionality == self.registry.parse_units("hour").dimensionality
        )


def parse_offset(text: object, system: UnitSystem, *, where: str) -> float:
    """An event offset such as "0 h", "+8 min", "-1 d", in hours."""
    magnitude, unit = parse_signed_time(text, system, where=where)
    hours = system.convert(magnitude, unit, "h")
    assert hours is not None
    return hours


def parse_signed_time(text: object, system: UnitSystem, *, where: str) -> tuple[float, str]:
    """ "+8 min" -> (8.0, "min"): a signed time as written, in its own unit (a bare 0 is 0 h)."""
    if isinstance(text, int | float) and not isinstance(text, bool) and text == 0:
        return 0.0, "h"
    hint = "write a signed time such as '0 h' or '+8 min'"
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(f"{where} is {text!r}: {hint}")
    match = re.fullmatch(r"\s*([+-]?\s*\d+(?:\.\d+)?)\s*([A-Za-z]+)\s*", text)
    if match is None:
        raise ConfigError(f"{where} is {text!r}: {hint}")
    magnitude = float(match.group(1).replace(" ", ""))
    unit = match.group(2)
    try:
        if not system.is_time(unit):
            raise ConfigError(f"{where} is {text!r}: {unit!r} is not a time unit; {hint}")
    except ConfigError as error:
        raise ConfigError(f"{where} is {text!r}: {hint}") from error
    if not math.isfinite(magnitude):
        raise ConfigError(f"{where} is {text!r}: not a finite time")
    return magnitude, unit
