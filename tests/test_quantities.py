"""Declared quantities in another field (drug doses in surgery): masses, volumes, IU, per-kg
doses, repeated doses, infusions, diluents, ambiguous decimals, times from declared events with
offsets; and their normalisation with pint."""

from __future__ import annotations

import pytest

from litreview.errors import ConfigError
from litreview.quantities.parse import UnitParseError, parse_dose, parse_timing
from litreview.quantities.spec import ConversionError, build_vocabulary, quantity_spec
from litreview.quantities.units import UnitSystem, parse_offset

SURGERY = {
    "units": {"tablets": {"words": ["tablet", "tablets"]}},
    "events": {
        "incision": {"words": ["incision", "skin incision"], "offset": "0 min", "at": True},
        "surgery": {"words": ["surgery", "operation"], "offset": "0 min"},
        "induction": {
            "words": ["induction", "anaesthesia induction"],
            "offset": "-20 min",
            "at": True,
        },
        "cord_clamping": {"words": ["cord clamp*"], "offset": "+8 min", "at": True},
        "treatment": {"words": ["infusion", "injection"], "follow_up": True},
    },
    "subject_words": ["patient", "patients"],
    "other_step_words": ["follow-up"],
}
VOCABULARY = build_vocabulary(SURGERY)
DOSE = quantity_spec(
    {
        "measures": "amount",
        "unit": "mg",
        "per_weight": "kg",
        "weight": "weight_kg",
        "reference_by": "population",
        "reference_weights_kg": {"adult": 70, "obstetric": 80},
        "accept": ["tablets"],
    },
    VOCABULARY,
    where="test.dose",
)
TIMING = quantity_spec(
    {"measures": "time_from_event", "unit": "min", "default_event": "incision"},
    VOCABULARY,
    where="test.timing",
)
DOSE_LEX, TIME_LEX = DOSE.lexicon(), TIMING.lexicon()


def doses(text: str) -> list[tuple[float, str]]:
    return [(d.value, d.unit) for d in parse_dose(text, DOSE_LEX)]


def amounts_mg(text: str) -> list[float | None]:
    return [
        DOSE.amount(d, weight_kg=None, weight_basis=None, group="adult").amount
        for d in parse_dose(text, DOSE_LEX)
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("500 mg", [(500.0, "mg")]),
        ("2 g", [(2.0, "g")]),
        ("2 grams IV", [(2.0, "g")]),
        ("1500 mcg", [(1500.0, "ug")]),
        ("20 mg/kg", [(20.0, "mg/kg")]),
        ("20 mg kg-1", [(20.0, "mg/kg")]),
        ("1-2 g", [(1.0, "g"), (2.0, "g")]),
        ("1 g or 2 g", [(1.0, "g"), (2.0, "g")]),
        ("2 g in 100 mL saline", [(2.0, "g")]),  # the diluent volume is not a dose
        ("600 mg per patient", [(600.0, "mg")]),
        ("2 tablets", [(2.0, "tablets")]),
    ],
)
def test_amounts_as_papers_write_them(text: str, expected: list) -> None:
    assert doses(text) == expected


def test_masses_convert_into_the_declared_unit() -> None:
    assert amounts_mg("2 g") == [2000.0]
    assert amounts_mg("1500 mcg") == [1.5]
    assert amounts_mg("200 ng") == [0.0002]


def test_repeated_doses_keep_the_single_dose_and_the_count() -> None:
    (dose,) = parse_dose("3 x 500 mg", DOSE_LEX)
    assert (dose.value, dose.unit, dose.repeats) == (500.0, "mg", 3)
    (dose,) = parse_dose("2 × 1 g", DOSE_LEX)
    assert (dose.value, dose.unit, dose.repeats) == (1.0, "g", 2)
    (power,) = parse_dose("3 x 10^6 tablets", DOSE_LEX)  # a power of ten is no repeat
    assert (power.value, power.repeats) == (3e6, None)


def test_an_infusion_is_its_rate_times_its_duration() -> None:
    (dose,) = parse_dose("500 mg/h for 2 h", DOSE_LEX)
    assert (dose.value, dose.unit, dose.from_rate) == (1000.0, "mg", True)
    (minute,) = parse_dose("10 mg/min over 30 min", DOSE_LEX)
    assert minute.value == 300.0


def test_a_bolus_then_an_infusion_is_one_dose_their_sum() -> None:
    (dose,) = parse_dose("1 g bolus, then 500 mg/h for 2 h", DOSE_LEX)
    assert (dose.value, dose.unit) == (2.0, "g")
    assert DOSE.amount(dose, weight_kg=None, weight_basis=None, group="adult").amount == 2000.0


def test_a_bolus_and_infusion_in_one_unit_sum_exactly() -> None:
    (dose,) = parse_dose("1000 mg bolus then 500 mg/h for 2 h", DOSE_LEX)
    assert (dose.value, dose.unit) == (2000.0, "mg")
    assert dose.text == "1000 mg bolus then 500 mg/h for 2 h"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1,5e6 tablets", "ambiguous"),
        ("1,5 x 10^6 tablets", "ambiguous"),
        ("500 mg/h", "rate with no duration"),
        ("2 g/mL", "concentration"),
        ("5 x 10^6 mL", "not a dose"),
    ],
)
def test_unreadable_amounts_say_why(text: str, message: str) -> None:
    with pytest.raises(UnitParseError, match=message):
        parse_dose(text, DOSE_LEX)


def test_a_bare_number_with_no_declared_default_unit_is_an_error() -> None:
    with pytest.raises(UnitParseError, match="no unit"):
        parse_dose("2 x 10^6", DOSE_LEX)


def minutes(text: str) -> list[tuple[float, str | None]]:
    return [(v.value, v.event) for v in (TIMING.time(t) for t in parse_timing(text, TIME_LEX))]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30 min before incision", [(-30.0, "incision")]),
        ("60 min before surgery", [(-60.0, "surgery")]),
        ("15 min after cord clamping", [(23.0, "cord_clamping")]),  # +8 min offset
        ("at induction", [(-20.0, "induction")]),
        ("at cord clamping", [(8.0, "cord_clamping")]),
        ("cord clamping", [(8.0, "cord_clamping")]),  # a named event alone
        ("skin incision", [(0.0, "incision")]),
        ("1 h before incision", [(-60.0, "incision")]),
        ("30 min", [(30.0, "incision")]),  # no anchor: the default event
        ("2 h after injection", []),  # a follow-up time
        ("30-60 min before incision", [(-30.0, "incision"), (-60.0, "incision")]),
    ],
)
def test_times_from_declared_events_with_offsets(text: str, expected: list) -> None:
    assert minutes(text) == expected


def test_durations_are_every_time_written() -> None:
    duration = quantity_spec({"measures": "duration", "unit": "h"}, VOCABULARY, where="t")
    values = [duration.time(t).value for t in parse_timing("2 weeks", duration.lexicon())]
    assert values == [336.0]


def test_per_kg_from_the_weight_or_a_reference_weight_of_the_group() -> None:
    (dose,) = parse_dose("2 g", DOSE_LEX)
    weighed = DOSE.amount(dose, weight_kg=80.0, weight_basis="study weight", group="adult")
    assert (weighed.per_weight, weighed.estimated, weighed.basis) == (
        25.0,
        False,
        "study weight 80 kg",
    )
    estimated = DOSE.amount(dose, weight_kg=None, weight_basis=None, group="obstetric")
    assert (estimated.per_weight, estimated.estimated) == (25.0, True)
    assert estimated.basis == "reference weight obstetric 80 kg"
    (per_kg,) = parse_dose("30 mg/kg", DOSE_LEX)
    reported = DOSE.amount(per_kg, weight_kg=None, weight_basis=None, group=None)
    assert (reported.amount, reported.per_weight, reported.estimated) == (None, 30.0, False)


def test_a_total_with_no_weight_and_no_reference_says_what_to_fill_in() -> None:
    (dose,) = parse_dose("2 g", DOSE_LEX)
    with pytest.raises(
        ConversionError, match="no reference weight for population 'neonate'"
    ) as caught:
        DOSE.amount(dose, weight_kg=None, weight_basis=None, group="neonate")
    assert "reference_weights_kg" in (caught.value.hint or "")


def test_counted_units_are_dimensions_of_their_own() -> None:
    system = UnitSystem(["tablets", "vials"])
    assert system.convert(2.0, "tablets", "tablets") == 2.0
    assert system.factor("tablets", "vials") is None
    assert system.factor("mg", "tablets") is None
    assert system.convert(1.0, "g/kg", "mg/kg") == 1000.0
    assert system.convert(90.0, "min", "h") == 1.5
    assert system.factor("IU", "mg") is None


def test_event_offsets_are_signed_times() -> None:
    system = UnitSystem(())
    assert parse_offset("+8 min", system, where="x") == pytest.approx(8 / 60)
    assert parse_offset("-1 d", system, where="x") == -24.0
    with pytest.raises(ConfigError, match=r"extraction\.events\.x\.offset"):
        parse_offset("soon", system, where="extraction.events.x.offset")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"measures": "weight", "unit": "mg"}, "measures is 'weight'"),
        ({"measures": "amount", "unit": "h"}, "is a time"),
        ({"measures": "time_from_event", "unit": "mg"}, "not a time unit"),
        ({"measures": "amount", "unit": "bananas"}, "is not a unit"),
        ({"measures": "amount", "unit": "mg", "per_weight": "lb"}, "per kg"),
        ({"measures": "amount", "unit": "mg", "weight": "w"}, "need per_weight"),
        ({"measures": "time_from_event", "unit": "min", "default_event": "lunch"}, "not an event"),
        ({"measures": "amount", "unit": "mg", "assume_unit": "tablets"}, "assume_unit"),
    ],
)
def test_quantity_declarations_are_checked(entry: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        quantity_spec(entry, VOCABULARY, where="extraction.fields[1] (dose)")


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"units": {"tablets": {}}}, "needs words"),
        ({"units": {"2x": {"words": ["x"]}}}, "a unit name"),
        ({"events": {"incision": {"offset": "0 min"}}}, "needs words"),
        ({"events": {"incision": {"words": ["incision"], "when": 1}}}, "unknown key"),
        ({"events": {"incision": {"words": ["incision"], "offset": "later"}}}, "offset"),
        ({"units": {"tablets": {"regex": ["("]}}}, "not a regular expression"),
    ],
)
def test_review_words_are_checked(section: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build_vocabulary(section)
