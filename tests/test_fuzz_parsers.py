"""Fuzzing the parsers of outside text: RIS, MEDLINE/nbib, PubMed XML (the records stage and the
live client's scan), and the quantity parser. Whatever the input, a parser returns records or
raises one of litreview's errors naming the input; it never crashes with another exception,
never hangs, and what it returns is well formed."""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from litreview.entrez import _PermanentResponseError, _RetryableResponseError, parse_efetch
from litreview.errors import LitReviewError
from litreview.importers import read_medline, read_ris
from litreview.quantities.parse import parse_dose, parse_timing
from litreview.records import RECORD_COLUMNS, parse_pubmed_xml
from tests.reviews import first_review_form

DATA = Path(__file__).parent / "data"
RIS = (DATA / "importers" / "scopus.ris").read_bytes()
NBIB = (DATA / "importers" / "pubmed_export.nbib").read_bytes()
XML = (DATA / "eutils" / "store" / "pubmed1.xml").read_bytes()
_FORM = first_review_form()
DOSE = _FORM.field("dose").quantity.lexicon()
TIMING = _FORM.field("timing").quantity.lexicon()

# The same examples on every CI run (derandomized); FUZZ_EXAMPLES=N explores N random ones.
FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "120")),
    deadline=None,
    derandomize="FUZZ_EXAMPLES" not in os.environ,
    suppress_health_check=[HealthCheck.too_slow],
)


@st.composite
def mutated(draw, original: bytes) -> bytes:
    """The original with a few slices deleted, duplicated or replaced by random bytes."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        start = draw(st.integers(0, len(data) - 1))
        end = min(len(data), start + draw(st.integers(0, 200)))
        action = draw(st.sampled_from(["delete", "duplicate", "replace", "truncate"]))
        if action == "delete":
            del data[start:end]
        elif action == "duplicate":
            data[start:start] = data[start:end]
        elif action == "replace":
            data[start:end] = draw(st.binary(min_size=0, max_size=40))
        else:
            del data[end:]
    return bytes(data)


def _read_file(reader, data: bytes, suffix: str) -> pd.DataFrame | None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"export{suffix}"
        path.write_bytes(data)
        try:
            return reader(path)
        except LitReviewError as error:
            assert str(path) in str(error) or path.name in str(error)
            return None


def _well_formed(table: pd.DataFrame | None) -> None:
    if table is None:
        return
    assert isinstance(table, pd.DataFrame)
    for column in ("title", "doi", "pmid"):
        if column in table:
            assert all(value is pd.NA or isinstance(value, str) for value in table[column])


@FUZZ
@given(mutated(RIS))
def test_a_mutated_ris_export_is_read_or_refused_by_name(data):
    _well_formed(_read_file(read_ris, data, ".ris"))


@FUZZ
@given(st.binary(max_size=400))
def test_random_bytes_as_ris_are_read_or_refused_by_name(data):
    _well_formed(_read_file(read_ris, data, ".ris"))


@FUZZ
@given(mutated(NBIB))
def test_a_mutated_nbib_export_is_read_or_refused_by_name(data):
    _well_formed(_read_file(read_medline, data, ".nbib"))


@FUZZ
@given(mutated(XML))
def test_mutated_pubmed_xml_is_parsed_or_refused_by_the_records_stage(data):
    try:
        records = parse_pubmed_xml(data, source="fuzzed payload")
    except LitReviewError as error:
        assert "fuzzed payload" in str(error)
        return
    for record in records:
        assert set(record) == set(RECORD_COLUMNS)
        assert record["pmid"] is None or str(record["pmid"]).isdigit()


@FUZZ
@given(mutated(XML))
def test_mutated_pubmed_xml_is_scanned_or_refused_by_the_live_client(data):
    try:
        pmids = parse_efetch(data)
    except (_RetryableResponseError, _PermanentResponseError):
        return
    assert all(pmid.isdigit() for pmid in pmids)


_TOKENS = [*"0123456789 .,-+x×/:;()~<>≥≤µ%"]
_TOKENS += ["mg", "kg", "cells", "h", "min", "days", "after", "before", "onset", "IU", "mL"]
_TOKENS += ["e", "10^", "to", "and", "or", "per", "weeks"]
_CELL = st.lists(st.sampled_from(_TOKENS), max_size=16).map("".join)


@FUZZ
@given(_CELL)
def test_any_dose_cell_is_read_or_refused(text):
    try:
        doses = parse_dose(text, DOSE)
    except LitReviewError:
        return
    for dose in doses:
        assert math.isfinite(dose.value) and dose.value >= 0
        assert dose.unit


@FUZZ
@given(_CELL)
def test_any_timing_cell_is_read_or_refused(text):
    try:
        timings = parse_timing(text, TIMING)
    except LitReviewError:
        return
    for timing in timings:
        assert math.isfinite(timing.hours)
