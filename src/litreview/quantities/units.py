"""Units and conversions (pint), with a review's counted things as units of their own.

pint knows masses, volumes and times; a review declares what it counts (units, particles,
tablets...) in `extraction.units`, and each becomes a base dimension of its own, so "vials"
never converts to "tablets" and "mg" converts to "g" exactly as pint says. International units
(IU) are a dimension of their own too: they convert to nothing else.
"""

from __future__ import annotations

import math
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
    registry = pint.UnitRegistry()
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
        """`value` in `unit` expressed in `target` (decimal arithmetic), or None."""
        factor = self.factor(unit, target)
        if factor is None:
            return None
        if factor == 1:
            return value
        result = float(Decimal(repr(value)) * factor)
        return 0.0 if result == 0 else result

    def is_time(self, unit: str) -> bool:
        return (
            self.pint_unit(unit).dimensionality == self.registry.parse_units("hour").dimensionality
        )


def parse_offset(text: object, system: UnitSystem, *, where: str) -> float:
    """An event offset such as "0 h", "+8 min", "-1 d", in hours."""
    if isinstance(text, int | float) and not isinstance(text, bool) and text == 0:
        return 0.0
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(f"{where} is {text!r}: write a signed time such as '0 h' or '+8 min'")
    try:
        quantity = system.registry.Quantity(text.strip().replace("+", ""))
        hours = float(quantity.to("hour").magnitude)
    except (pint.errors.PintError, ValueError, AttributeError, TypeError) as error:
        raise ConfigError(
            f"{where} is {text!r}: write a signed time such as '0 h' or '+8 min'"
        ) from error
    if not math.isfinite(hours):
        raise ConfigError(f"{where} is {text!r}: not a finite time")
    return hours
