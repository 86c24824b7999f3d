"""Amount and time parsers on the wordings reviewers write, with the first review's declared
words: every real wording of its public reconstruction (shared/review/reconstruction/*.csv),
plus property tests."""

from __future__ import annotations

import math
from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from litreview.errors import LitReviewError, ParseError
from litreview.quantities.parse import Dose, UnitParseError
from litreview.quantities.parse import parse_dose as parse_dose_with
from litreview.quantities.parse import parse_timing as parse_timing_with
from tests.reviews import first_review_form

# The first review's words (units, events, recipients...) come from its config: the parser
# knows none of them.
_FORM = first_review_form()
DOSE_LEXICON = _FORM.field("dose").quantity.lexicon()
TIMING_LEXICON = _FORM.field("timing").quantity.lexicon()


def parse_dose(text: object) -> list[Dose]:
    return parse_dose_with(text, DOSE_LEXICON)  # type: ignore[arg-type]


def parse_timing(text: object) -> list:
    return parse_timing_with(text, TIMING_LEXICON)  # type: ignore[arg-type]


def _doses(text: str) -> list[tuple[float, str, str | None, bool]]:
    return [(d.value, d.unit, d.range_role, d.unit_stated) for d in parse_dose(text)]


def _timings(text: str) -> list[tuple[float, str | None, str | None]]:
    return [(t.hours, t.event, t.range_role) for t in parse_timing(text)]


# --- doses ---------------------------------------------------------------------------------

C, CK = "cells", "cells/kg"

DOSE_WORDINGS = [
    ("1 x 10^6 cells", [(1e6, C, None, True)]),
    ("1x10^6", [(1e6, C, None, False)]),
    ("1 × 10⁶", [(1e6, C, None, False)]),
    ("1·10⁶ cells", [(1e6, C, None, True)]),
    ("1*10^6 cells", [(1e6, C, None, True)]),
    ("1X10^6 cells", [(1e6, C, None, True)]),
    ("1 x 10 ^ 6 cells", [(1e6, C, None, True)]),
    ("1 x 10^(6) cells", [(1e6, C, None, True)]),
    ("2.5 x 10^{6} cells", [(2.5e6, C, None, True)]),
    ("1·5 × 10⁶ cells", [(1.5e6, C, None, True)]),  # Lancet decimal point
    ("1e6", [(1e6, C, None, False)]),
    ("1E+06", [(1e6, C, None, False)]),
    ("10^6 cells", [(1e6, C, None, True)]),
    ("10⁶", [(1e6, C, None, False)]),
    ("5×10⁵ cells/kg", [(5e5, CK, None, True)]),
    ("2 million", [(2e6, C, None, False)]),
    ("2.5 million cells/kg", [(2.5e6, CK, None, True)]),
    ("2 billion particles", [(2e9, "particles", None, True)]),
    ("5 thousand cells", [(5e3, C, None, True)]),
    ("1,000,000", [(1e6, C, None, False)]),
    ("1,000,000 cells/kg", [(1e6, CK, None, True)]),
    ("500 cells", [(500.0, C, None, True)]),
    ("3 x 10^5/kg", [(3e5, CK, None, True)]),
    ("3 x 10^5 per kg", [(3e5, CK, None, True)]),
    ("1x10^6 cells/kg body weight", [(1e6, CK, None, True)]),
    ("1x10^6 cells per kg of body weight", [(1e6, CK, None, True)]),
    ("1x10^6 cells/kg BW", [(1e6, CK, None, True)]),
    ("1 x 10^6 cells per kilogram", [(1e6, CK, None, True)]),
    ("1x10^6 cells kg-1", [(1e6, CK, None, True)]),
    ("1x10^6 cells/m2", [(1e6, "cells/m2", None, True)]),
    ("1.0x10^6 cells/100 uL", [(1e6, C, None, True)]),  # a count in a volume: still 1e6 cells
    ("1.0x10^6 cells/100 µL", [(1e6, C, None, True)]),
    ("3 x 10^5 cells per rat", [(3e5, C, None, True)]),
    ("0 to 1.0x10^6", [(0.0, C, "low", False), (1e6, C, "high", False)]),
    ("1-5 x 10^6", [(1e6, C, "low", False), (5e6, C, "high", False)]),
    ("1–5 × 10⁶ cells", [(1e6, C, "low", True), (5e6, C, "high", True)]),
    (
        "1x10^6, 5x10^5 and 2x10^5",
        [(1e6, C, None, False), (5e5, C, None, False), (2e5, C, None, False)],
    ),
    (
        "1x10^6, 5x10^5 and 2x10^5 cells/kg",
        [(1e6, CK, None, True), (5e5, CK, None, True), (2e5, CK, None, True)],
    ),
    (
        "1-2 x 10^6 and 3-4 x 10^6 cells",
        [
            (1e6, C, "low", True),
            (2e6, C, "high", True),
            (3e6, C, "low", True),
            (4e6, C, "high", True),
        ],
    ),
    # FACTS.md: "an MRI study (26 vs 1 and 8 ×10^5/kg)": one power of ten for the list.
    (
        "26 vs 1 and 8 ×10^5/kg",
        [(2.6e6, CK, None, True), (1e5, CK, None, True), (8e5, CK, None, True)],
    ),
    ("≤3.5×10^5/kg", [(3.5e5, CK, None, True)]),
    ("9.1x10^4 cells", [(91000.0, C, None, True)]),  # decimal arithmetic: exactly 91000
    ("1 x 10^11 EVs", [(1e11, "particles", None, True)]),
    ("2 x 10^9 exosomes/kg", [(2e9, "particles/kg", None, True)]),
    ("1x10^6 hBM-MSC-derived EVs", [(1e6, "particles", None, True)]),
    ("100 ug/kg", [(100.0, "ug/kg", None, True)]),
    ("50 µg exosomes", [(50.0, "ug", None, True)]),
    ("1 mg/kg", [(1.0, "mg/kg", None, True)]),  # masses keep their unit; pint converts
    ("200 ng", [(200.0, "ng", None, True)]),
    ("20 million NR1 cells", [(2e7, C, None, True)]),
    ("1 x 10^6 cells (n = 6)", [(1e6, C, None, True)]),
    ("", []),
    ("not reported", []),
    ("low vs high dose", []),
    ("2 x 100 uL", []),  # a volume, not a dose
]


@pytest.mark.parametrize(("text", "expected"), DOSE_WORDINGS, ids=[t for t, _ in DOSE_WORDINGS])
def test_dose_wordings(text: str, expected: list) -> None:
    assert _doses(text) == expected


# Every dose wording in shared/review/reconstruction/*.csv (study_id in the comment). Where the
# CSV's own dose_cells column has numbers, they agree with these.
RECONSTRUCTION_DOSES = [
    # FukudaND
    ("low 1x10^4 cells vs high 1x10^6 cells", [(1e4, C, None, True), (1e6, C, None, True)]),
    # Yavagal2014: no unit word, cells assumed and flagged; "MTD 1x10^5" repeats an arm.
    (
        "de-escalating single IA doses 1x10^6, 5x10^5, 2x10^5, 1x10^5, 5x10^4; MTD 1x10^5",
        [(v, C, None, False) for v in (1e6, 5e5, 2e5, 1e5, 5e4, 1e5)],
    ),
    # Cui2015 (twice): the volumes and infusion times are not doses.
    (
        "0 to 1.0x10^6 cells in 0.5-1.0 mL over 3-6 min",
        [(0.0, C, "low", True), (1e6, C, "high", True)],
    ),
    (
        "0 to 1.0 x 10^6 cells; 0.5-1.0 mL over 3-6 min",
        [(0.0, C, "low", True), (1e6, C, "high", True)],
    ),
    # Toyoshima2015
    ("1x10^6 cells in 1 mL PBS", [(1e6, C, None, True)]),
    # Yang2013
    ("low vs high dose (numbers not in blog)", []),
    # CanineIAsafety2021
    (
        "2x10^6, 1x10^7, 2x10^7, 1x10^8 cells in 10-20 mL over ~11-40 min",
        [(v, C, None, True) for v in (2e6, 1e7, 2e7, 1e8)],
    ),
    # CD34ia2022, Wong2023, AutoMNC_LongEvans_ND, IntracarotidMSC_ND, Chua2011 (twice)
    ("1x10^4 cells in 50 uL PBS", [(1e4, C, None, True)]),
    ("9.1x10^4 cells", [(9.1e4, C, None, True)]),
    ("10 million or 4 million cells", [(1e7, C, None, True), (4e6, C, None, True)]),
    ("2x10^6 MSC in 200 uL PBS", [(2e6, C, None, True)]),
    ("1x10^6 NPCs", [(1e6, C, None, True)]),
    ("1 x 10^6 NPCs", [(1e6, C, None, True)]),
    # Okuma2013
    ("1 x 10^6 cells/100 uL", [(1e6, C, None, True)]),
    # Seyfried2008: the control arm's fibroblasts have no unit word (cells assumed).
    (
        "1 million hBMSC IA (controls: 1 million human fibroblasts IA; mannitol alone)",
        [(1e6, C, None, True), (1e6, C, None, False)],
    ),
    # Yong2009: one power of ten for the three arms.
    (
        "1.0, 1.5 or 2 x 10^6 GFP-hMSCs into the carotid artery (distribution experiment)",
        [(1e6, C, None, True), (1.5e6, C, None, True), (2e6, C, None, True)],
    ),
    # Srinivasan2021: each end is a count in a volume.
    (
        "escalating 2 x 10^6 cells/20 mL to 1 x 10^8 cells/10 mL",
        [(2e6, C, "low", True), (1e8, C, "high", True)],
    ),
    # Janowski2013: the infusion rates are not doses.
    (
        "MSC 1 x 10^6 vs 2 x 10^6; infusion 0.2 vs >1 mL/min",
        [(1e6, C, None, False), (2e6, C, None, False)],
    ),
    # Dabrowska2019
    (
        "1.3 x 10^9 EVs (cells: 5 x 10^5 hBM-MSCs)",
        [(1.3e9, "particles", None, True), (5e5, C, None, True)],
    ),
    # Xin2017_nd, Teng2024
    ("review summary: 3 x 10^11 particles (NOT verified)", [(3e11, "particles", None, True)]),
    ("1 x 10^11 particles/injection", [(1e11, "particles", None, True)]),
    # Sung2018, Lin2024, Lee2012
    ("3.0 x 10^7 cells/patient", [(3e7, C, None, True)]),
    ("4 x 10^7 cells per injection, IA then IV", [(4e7, C, None, True)]),
    # BarbosaDaFonseca2010: a range, and the labelled subset.
    (
        "1.25 x 10^8 to 5 x 10^8 cells (about 2 x 10^7 labelled)",
        [(1.25e8, C, "low", True), (5e8, C, "high", True), (2e7, C, None, False)],
    ),
    # Battistella2011, RosadoDeCastro2013
    ("1-5 x 10^8 cells", [(1e8, C, "low", True), (5e8, C, "high", True)]),
    # Lee2008
    ("IA then 3 repeated IV (dose not in excerpt)", []),
    # dose_per_kg_as_reported: Greggio_nd, Bhatia2018, Moniche2023, Chung2021
    (
        "review summary: 500e6 vs 50e6 cells/kg (NOT verified)",
        [(5e8, CK, None, True), (5e7, CK, None, True)],
    ),
    ("review summary: high-dose arm 83e6 cells/kg (NOT verified)", [(8.3e7, CK, None, True)]),
    ("2 x 10^6/kg or 5 x 10^6/kg", [(2e6, CK, None, True), (5e6, CK, None, True)]),
    (
        "3.0, 6.0, 9.0 x 10^5 cells/kg (single IA)",
        [(3e5, CK, None, True), (6e5, CK, None, True), (9e5, CK, None, True)],
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"), RECONSTRUCTION_DOSES, ids=[t[:40] for t, _ in RECONSTRUCTION_DOSES]
)
def test_reconstruction_dose_wordings(text: str, expected: list) -> None:
    assert _doses(text) == expected


def test_dose_keeps_the_matched_span_and_text() -> None:
    text = "low 1x10^4 cells vs high 1.0x10^6 cells/100 uL"
    low, high = parse_dose(text)
    assert (low.text, high.text) == ("1x10^4 cells", "1.0x10^6 cells/100 uL")
    assert text[low.span[0] : low.span[1]] == low.text
    assert text[high.span[0] : high.span[1]] == high.text
    assert not low.is_range


def test_range_ends_are_flagged_low_then_high() -> None:
    low, high = parse_dose("1-5 x 10^6 cells")
    assert (low.is_range, high.is_range) == (True, True)
    assert (low.range_role, high.range_role) == ("low", "high")
    assert (low.text, high.text) == ("1", "5 x 10^6 cells")


@pytest.mark.parametrize("missing", [None, pd.NA, float("nan")])
def test_missing_dose_cell_is_no_dose(missing: object) -> None:
    assert parse_dose(missing) == []  # type: ignore[arg-type]


DOSE_ERRORS = [
    # CanineHUCBMSC_ND, as reported: the superscript was lost.
    ("'1 x 10^? ' (exponent lost in extracted text)", r"exponent in '1 x 10\^\?' is missing"),
    ("36.4×10?", r"exponent in '36\.4×10\?' is missing"),
    ("1 x 10^ cells", r"no exponent"),
    ("1 x 106 cells", r"reads as 10\^6 with the superscript flattened"),
    ("2x107", r"reads as 10\^7"),
    ("x10^6 cells", r"power of ten with no number before it"),
    ("1,5 x 10^6 cells", r"decimal comma"),
    ("1x10^6 cells/mL", r"concentration, not a dose"),
    ("1x10^6 cells/well", r"unknown denominator '/well'"),
    ("1x10^6/5x10^5", r"unknown denominator"),
    ("5 x 10^6 mL", r"not a dose"),
    ("1x10^6 cells, 2", r"'2' stands in a list of doses"),
    ("5-1 x 10^6 cells", r"runs from high to low"),
    ("1-2-3 x 10^6 cells", r"three ends"),
]


@pytest.mark.parametrize(("text", "message"), DOSE_ERRORS, ids=[t for t, _ in DOSE_ERRORS])
def test_malformed_doses_raise_saying_what(text: str, message: str) -> None:
    with pytest.raises(UnitParseError, match=message) as caught:
        parse_dose(text)
    assert caught.value.text == text
    assert isinstance(caught.value, ParseError)
    assert isinstance(caught.value, LitReviewError)


def test_dose_must_be_text() -> None:
    with pytest.raises(UnitParseError, match="must be text"):
        parse_dose(1e6)  # type: ignore[arg-type]


# --- timings -------------------------------------------------------------------------------

TIMING_WORDINGS = [
    ("24 h", [(24.0, None, None)]),
    ("1 h", [(1.0, None, None)]),
    ("24h", [(24.0, None, None)]),
    ("90 min", [(1.5, None, None)]),
    ("48 hours", [(48.0, None, None)]),
    ("6 hrs", [(6.0, None, None)]),
    ("day 1", [(24.0, None, None)]),
    ("Day 0", [(0.0, None, None)]),
    ("on day 3 after MCAO", [(72.0, "stroke", None)]),
    ("1 d after reperfusion", [(24.0, "reperfusion", None)]),
    ("2 weeks", [(336.0, None, None)]),
    ("two weeks after stroke", [(336.0, "stroke", None)]),
    ("7 days", [(168.0, None, None)]),
    ("3 days", [(72.0, None, None)]),
    ("1 month", [(720.0, None, None)]),
    ("1 year", [(8760.0, None, None)]),
    ("immediately", [(0.0, None, None)]),
    ("immediately after recanalization", [(0.0, "reperfusion", None)]),
    ("at reperfusion", [(0.0, "reperfusion", None)]),
    ("1 h vs 24 h", [(1.0, None, None), (24.0, None, None)]),
    ("1, 6 and 24 h", [(1.0, None, None), (6.0, None, None), (24.0, None, None)]),
    ("1, 6, and 24 h", [(1.0, None, None), (6.0, None, None), (24.0, None, None)]),
    ("day 2 and day 7", [(48.0, None, None), (168.0, None, None)]),
    (
        "days 1, 3 and 7 after MCAO",
        [(24.0, "stroke", None), (72.0, "stroke", None), (168.0, "stroke", None)],
    ),
    ("1-6 h after recanalization", [(1.0, "reperfusion", "low"), (6.0, "reperfusion", "high")]),
    ("between 1 and 6 h after MCAO", [(1.0, "stroke", "low"), (6.0, "stroke", "high")]),
    ("up to 72 h", [(0.0, None, "low"), (72.0, None, "high")]),
    ("24h post-stroke", [(24.0, "stroke", None)]),
    ("24 h after injury", [(24.0, "injury", None)]),
    ("12 h after ICH", [(12.0, "stroke", None)]),
    ("3 days after glioma implantation", [(72.0, "tumour", None)]),
    ("1 day before stroke", [(-24.0, "stroke", None)]),
    ("4 h after a new word", [(4.0, "other", None)]),
    # Durations that are not timings (rules 1-4 of the module docstring).
    ("dose-finding 1 h after 90-min rMCAo", [(1.0, "stroke", None)]),
    ("3 h after 2 h of occlusion", [(3.0, "stroke", None)]),
    ("infused over 10 min 24 h after MCAO", [(24.0, "stroke", None)]),
    ("24 h after stroke; cells preconditioned for 24 h in hypoxia", [(24.0, "stroke", None)]),
    ("6 h after reperfusion, assessed at 28 days", [(6.0, "reperfusion", None)]),
    ("7 days after injection", []),
    ("", []),
    ("subacute", []),
    ("D1", []),
]


@pytest.mark.parametrize(("text", "expected"), TIMING_WORDINGS, ids=[t for t, _ in TIMING_WORDINGS])
def test_timing_wordings(text: str, expected: list) -> None:
    assert _timings(text) == expected


# Every timing wording in shared/review/reconstruction/*.csv. Hours agree with the CSV's
# timing_hours except where noted.
RECONSTRUCTION_TIMINGS = [
    ("24 h after MCAO and reperfusion", [(24.0, "stroke", None)]),  # FukudaND
    # Yavagal2014: "90-min" is the occlusion, not a timing.
    (
        "dose-finding 1 h after 90-min rMCAo; efficacy arms 1 h vs 24 h after rMCAo",
        [(1.0, "stroke", None), (1.0, "stroke", None), (24.0, "stroke", None)],
    ),
    ("48 h after sham-MCAO", [(48.0, "stroke", None)]),  # Cui2015
    # Toyoshima2015
    (
        "1, 6, 24 or 48 h after 90-min MCAO; mechanism cohort at 24 h after recanalization",
        [
            (1.0, "stroke", None),
            (6.0, "stroke", None),
            (24.0, "stroke", None),
            (48.0, "stroke", None),
            (24.0, "reperfusion", None),
        ],
    ),
    ("24 h after transient MCAO", [(24.0, "stroke", None)]),  # MitkariND
    ("3 days after photothrombotic infarction", [(72.0, "stroke", None)]),  # Byun2013
    ("3 days after MCAO", [(72.0, "stroke", None)]),  # Ngn1MSC_ND
    # hUCBMNC_hyperacute2017: the CSV keeps only 1 h; both readings are kept, anchored.
    (
        "immediately after reperfusion (60 min after ischemia onset)",
        [(0.0, "reperfusion", None), (1.0, "stroke", None)],
    ),
    ("after complete MCA recanalization", []),  # CanineMSC_MRI2013: no time stated
    ("4 weeks after stroke", [(672.0, "stroke", None)]),  # CD34ia2022
    ("3 h from start of MCAO", [(3.0, "stroke", None)]),  # Wong2023
    ("24 h after stroke (tibial marrow harvest then re-injection)", [(24.0, "stroke", None)]),
    # Yang2012: the harvest days are another step.
    (
        "24 h after stroke (MNC harvested 1 day before or 1 day after stroke)",
        [(24.0, "stroke", None)],
    ),
    ("immediately after reperfusion", [(0.0, "reperfusion", None)]),  # Kamiya2008
    ("1 day after 2-h MCAO", [(24.0, "stroke", None)]),  # IntracarotidMSC_ND
    ("1 day after 2-h MCAo", [(24.0, "stroke", None)]),  # Li2009
    ("24 h after 2-h MCAo", [(24.0, "stroke", None)]),  # Karlupia2014
    ("24 h after stroke onset", [(24.0, "stroke", None)]),  # hUTCroutes2012
    (
        "1, 3, 5 or 7 days after pMCAO",  # RAC_mouse_ND
        [
            (24.0, "stroke", None),
            (72.0, "stroke", None),
            (120.0, "stroke", None),
            (168.0, "stroke", None),
        ],
    ),
    ("7 days after cortical freezing injury", [(168.0, "injury", None)]),  # Osanai2012
    ("24 h after TBI", [(24.0, "injury", None)]),  # Okuma2013
    ("7 days after tumour implantation (distribution experiment)", [(168.0, "tumour", None)]),
    # Lee2016: sacrifice times after the infusion are follow-up, not treatment timing.
    ("sacrifice 6 h (exp 1) or 5 min (exp 2) after infusion", []),
    ("2 days after brain insult", [(48.0, "injury", None)]),  # Dabrowska2019
    # Teng2024: 0 h after reperfusion (the CSV's 3 h counts from occlusion onset); "3 h tMCAO"
    # is the occlusion and "30 min of occlusion" the IV arm's time within it.
    (
        "immediately upon reperfusion after 3 h tMCAO (second arm: IV at 30 min of occlusion "
        "+ IA at reperfusion)",
        [(0.0, "reperfusion", None), (0.0, "reperfusion", None)],
    ),
    (
        "with tPA 4 h after eMCAO; upon reperfusion after 2 h tMCAO",  # CECsEV_JCBFM_nd
        [(4.0, "stroke", None), (0.0, "reperfusion", None)],
    ),
    # Bhatia2018: the inclusion window is skipped.
    (
        "0-15 days post ictus (inclusion 0-14 days)",
        [(0.0, "stroke", "low"), (360.0, "stroke", "high")],
    ),
    ("1-7 days (median 6)", [(24.0, None, "low"), (168.0, None, "high")]),  # Moniche2023
    ("day 5-9 after onset", [(120.0, "onset", "low"), (216.0, "onset", "high")]),  # Moniche2012
    ("3-7 days", [(72.0, None, "low"), (168.0, None, "high")]),  # Friedrich2012
    ("within 7 days", [(0.0, None, "low"), (168.0, None, "high")]),  # Banerjee2014
    ("subacute", []),  # Ghali2016
    ("mean 8.6 +/- 6.4 years after stroke", [(75336.0, "stroke", None)]),  # Sung2018
    ("14 +/- 7 days after stroke", [(336.0, "stroke", None)]),  # Lin2024
    ("59-82 days after stroke", [(1416.0, "stroke", "low"), (1968.0, "stroke", "high")]),
    ("within 90 days of onset", [(0.0, "onset", "low"), (2160.0, "onset", "high")]),
    ("19-89 days after stroke", [(456.0, "stroke", "low"), (2136.0, "stroke", "high")]),
    ("7-40 days from onset", [(168.0, "onset", "low"), (960.0, "onset", "high")]),  # VN_ICA
]


@pytest.mark.parametrize(
    ("text", "expected"),
    RECONSTRUCTION_TIMINGS,
    ids=[t[:40] for t, _ in RECONSTRUCTION_TIMINGS],
)
def test_reconstruction_timing_wordings(text: str, expected: list) -> None:
    assert _timings(text) == expected


def test_timing_anchor_is_the_phrase_after_it() -> None:
    dose_finding, efficacy_1h, efficacy_24h = parse_timing(
        "dose-finding 1 h after 90-min rMCAo; efficacy arms 1 h vs 24 h after rMCAo"
    )
    assert dose_finding.anchor == "after 90-min rMCAo"
    assert efficacy_1h.anchor == efficacy_24h.anchor == "after rMCAo"
    (timing,) = parse_timing("3 h from start of MCAO")
    assert (timing.anchor, timing.text, timing.span) == ("from start of MCAO", "3 h", (0, 3))


def test_mean_and_spread_are_one_timing() -> None:
    (timing,) = parse_timing("14 +/- 7 days after stroke")
    assert (timing.hours, timing.spread_hours, timing.text) == (336.0, 168.0, "14 +/- 7 days")
    (timing,) = parse_timing("8.6 ± 6.4 years")
    assert timing.spread_hours == pytest.approx(6.4 * 8760)


def test_within_is_a_range_from_zero() -> None:
    low, high = parse_timing("within 90 days of onset")
    assert (low.hours, high.hours) == (0.0, 2160.0)
    assert low.text == high.text == "within 90 days"
    assert low.anchor == "of onset"


@pytest.mark.parametrize("missing", [None, pd.NA, float("nan")])
def test_missing_timing_cell_is_no_timing(missing: object) -> None:
    assert parse_timing(missing) == []  # type: ignore[arg-type]


TIMING_ERRORS = [
    # Savitz2019, as reported: the infusion is counted from the harvest.
    (
        "harvest 11-17 days after stroke, infusion 2 days later",
        r"'2 days later' counts from an earlier step",
    ),
    ("24 h later", r"counts from an earlier step"),
    ("24", r"a number with no time unit"),
    ("24-48", r"a number with no time unit"),
    ("24 h or 48", r"'48' has no time unit"),
    ("7-3 days", r"runs from high to low"),
    ("1-3-7 days", r"three ends"),
    ("24 h after MCAO (", r"never closed"),
    ("24 h after MCAO)", r"closing bracket"),
    ("14 +/- 7 +/- 2 days", r"two '\+/-'"),
]


@pytest.mark.parametrize(("text", "message"), TIMING_ERRORS, ids=[t for t, _ in TIMING_ERRORS])
def test_malformed_timings_raise_saying_what(text: str, message: str) -> None:
    with pytest.raises(UnitParseError, match=message):
        parse_timing(text)


# --- properties ----------------------------------------------------------------------------

SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
NOTATIONS = [
    "{m} x 10^{e}",
    "{m}x10^{e}",
    "{m} X 10^{e}",
    "{m} × 10^{e}",
    "{m}×10{sup}",
    "{m} · 10{sup}",
    "{m}*10^{e}",
    "{m} x 10^({e})",
    "{m}e{e}",
    "{m}E+{e:02d}",
]
UNIT_SUFFIXES = [
    ("", "cells"),
    (" cells", "cells"),
    (" MSCs", "cells"),
    (" cells/kg", "cells/kg"),
    ("/kg", "cells/kg"),
    (" cells per kg body weight", "cells/kg"),
    (" particles", "particles"),
    (" EVs/kg", "particles/kg"),
    (" cells/100 uL", "cells"),
    (" cells/patient", "cells"),
]
mantissas = st.decimals(
    min_value=Decimal("0.001"), max_value=Decimal("999.999"), places=3, allow_nan=False
).map(lambda d: d.normalize())
exponents = st.integers(min_value=0, max_value=15)


def _format(mantissa: Decimal, exponent: int, notation: str) -> str:
    return notation.format(
        m=format(mantissa, "f"), e=exponent, sup=str(exponent).translate(SUPERSCRIPT)
    )


@settings(max_examples=300, deadline=None)
@given(mantissas, exponents, st.sampled_from(NOTATIONS), st.sampled_from(UNIT_SUFFIXES))
def test_any_notation_parses_back(
    mantissa: Decimal, exponent: int, notation: str, suffix: tuple[str, str]
) -> None:
    text = _format(mantissa, exponent, notation) + suffix[0]
    (dose,) = parse_dose(text)
    assert dose.value == float(mantissa.scaleb(exponent))
    assert dose.unit == suffix[1]
    assert dose.unit_stated == bool(suffix[0])


@settings(max_examples=100, deadline=None)
@given(
    st.decimals(min_value=Decimal("0.1"), max_value=Decimal("999.9"), places=1),
    st.sampled_from([("thousand", 3), ("million", 6), ("billion", 9)]),
)
def test_word_multipliers_parse_back(mantissa: Decimal, word: tuple[str, int]) -> None:
    (dose,) = parse_dose(f"{format(mantissa.normalize(), 'f')} {word[0]} cells/kg")
    assert dose.value == float(mantissa.scaleb(word[1]))
    assert dose.unit == "cells/kg"


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=1000, max_value=10**12))
def test_thousands_separators_parse_back(count: int) -> None:
    (dose,) = parse_dose(f"{count:,}")
    assert dose.value == count


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(mantissas, exponents), min_size=2, max_size=5),
    st.sampled_from([", ", " and ", " vs ", " or ", ", or "]),
    st.sampled_from(NOTATIONS),
)
def test_lists_keep_every_arm_and_share_the_unit(
    arms: list[tuple[Decimal, int]], separator: str, notation: str
) -> None:
    text = separator.join(_format(m, e, notation) for m, e in arms) + " cells/kg"
    doses = parse_dose(text)
    assert [d.value for d in doses] == [float(m.scaleb(e)) for m, e in arms]
    assert {d.unit for d in doses} == {"cells/kg"}
    assert not any(d.is_range for d in doses)


@settings(max_examples=100, deadline=None)
@given(st.lists(mantissas, min_size=2, max_size=4), exponents)
def test_bare_mantissas_share_the_last_power_of_ten(
    mantissas_: list[Decimal], exponent: int
) -> None:
    written = [format(m, "f") for m in mantissas_]
    text = ", ".join(written[:-1]) + f" or {written[-1]} x 10^{exponent} cells"
    assert [d.value for d in parse_dose(text)] == [float(m.scaleb(exponent)) for m in mantissas_]


@settings(max_examples=100, deadline=None)
@given(mantissas, mantissas, exponents, st.sampled_from(["-", " - ", " to ", "–"]))
def test_ranges_give_both_ends(low: Decimal, high: Decimal, exponent: int, dash: str) -> None:
    low, high = min(low, high), max(low, high)
    text = f"{format(low, 'f')}{dash}{format(high, 'f')} x 10^{exponent} cells"
    first, second = parse_dose(text)
    assert (first.value, second.value) == (
        float(low.scaleb(exponent)),
        float(high.scaleb(exponent)),
    )
    assert (first.range_role, second.range_role) == ("low", "high")


HOUR_UNITS = [
    ("min", Decimal(1) / 60),
    ("minutes", Decimal(1) / 60),
    ("h", Decimal(1)),
    ("hr", Decimal(1)),
    ("hours", Decimal(1)),
    ("d", Decimal(24)),
    ("days", Decimal(24)),
    ("wk", Decimal(168)),
    ("weeks", Decimal(168)),
    ("months", Decimal(720)),
    ("years", Decimal(8760)),
]
ANCHORS = [
    ("", None),
    (" after reperfusion", "reperfusion"),
    (" after MCAO", "stroke"),
    (" after recanalization", "reperfusion"),
    (" after injury", "injury"),
    (" post-stroke", "stroke"),
]


@settings(max_examples=200, deadline=None)
@given(
    st.decimals(min_value=0, max_value=1000, places=2).map(lambda d: d.normalize()),
    st.sampled_from(HOUR_UNITS),
    st.sampled_from(["", " ", "-"]),
    st.sampled_from(ANCHORS),
)
def test_times_parse_back_to_hours(
    amount: Decimal, unit: tuple[str, Decimal], joiner: str, anchor: tuple[str, str | None]
) -> None:
    (timing,) = parse_timing(f"{format(amount, 'f')}{joiner}{unit[0]}{anchor[0]}")
    assert timing.hours == pytest.approx(float(amount * unit[1]), rel=1e-12, abs=1e-12)
    assert timing.event == anchor[1]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=60), min_size=1, max_size=5))
def test_day_n_is_n_times_24_hours(days: list[int]) -> None:
    text = " and ".join(f"day {n}" for n in days) + " after MCAO"
    assert [t.hours for t in parse_timing(text)] == [24.0 * n for n in days]
    shared = "days " + ", ".join(str(n) for n in days) + " after MCAO"
    assert [t.hours for t in parse_timing(shared)] == [24.0 * n for n in days]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.integers(min_value=1, max_value=96), min_size=2, max_size=5),
    st.sampled_from(HOUR_UNITS),
)
def test_a_list_shares_its_last_time_unit(amounts: list[int], unit: tuple[str, Decimal]) -> None:
    text = ", ".join(str(n) for n in amounts[:-1]) + f" or {amounts[-1]} {unit[0]}"
    hours = [t.hours for t in parse_timing(text)]
    assert hours == pytest.approx([float(n * unit[1]) for n in amounts])


FRAGMENTS = [
    *"0123456789 .,;:-–x×*^/()+±e",
    *("10", "10^6", "⁶", " cells", " h", " days", " day ", " mL", " kg", " million"),
    *(" after ", " MCAO", " vs ", " to ", " and ", " per ", "immediately", "within "),
]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=25).map("".join))
def test_any_text_parses_or_raises_a_unit_parse_error(text: str) -> None:
    for parse in (parse_dose, parse_timing):
        try:
            result = parse(text)
        except UnitParseError:
            continue
        for item in result:
            start, end = item.span
            assert 0 <= start < end <= len(text)
            value = item.value if isinstance(item, Dose) else item.hours
            assert not math.isnan(value)
