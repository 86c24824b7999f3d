"""The one set of identifier normalisers, and every stage using it."""

from __future__ import annotations

import pytest

from litreview import dedup, identify, ids, importers

DOI_FORMS = [
    "https://doi.org/10.1000/ABC%28x%29",
    "http://dx.doi.org/10.1000/abc(x)",
    "doi:10.1000/ABC(x).",
    "DOI: 10.1000/abc(x)",
    "10.1000%2Fabc%28x%29",
    "10.1000/abc(x)",
]


@pytest.mark.parametrize("text", DOI_FORMS)
def test_every_form_of_a_doi_is_one_doi_in_every_stage(text):
    forms = {
        ids.normalize_doi(text),
        ids.doi_in(text),
        importers.normalize_doi(text),
        dedup.normalise_doi(text),
        identify.normalise_doi(text),
    }
    assert forms == {"10.1000/abc(x)"}


def test_a_doi_keeps_the_brackets_it_opened_and_drops_the_ones_it_did_not():
    assert ids.doi_in("(see 10.1016/0005-2795(76)90109-4)") == "10.1016/0005-2795(76)90109-4"
    assert ids.doi_in("cited as (10.1000/xyz)") == "10.1000/xyz"


@pytest.mark.parametrize("text", ["doi.org", "10.1000", "see the paper", "10.12/x"])
def test_a_doi_field_without_a_doi_is_an_error_and_text_without_one_is_none(text):
    with pytest.raises(ValueError, match="is not a DOI"):
        ids.normalize_doi(text)
    assert ids.doi_in(text) is None


def test_pmid_pmcid_issn_and_year():
    assert ids.normalize_pmid("PMID: 00123") == "123" == ids.pmid_in("PMID: 00123")
    assert ids.normalize_pmid("24807059.0") == "24807059"
    with pytest.raises(ValueError):
        ids.normalize_pmid("12a")
    assert ids.normalize_pmcid("pmc 0042") == "PMC42" == ids.pmcid_in("PMC0042")
    assert ids.normalize_issn("00175749 (ISSN)") == "0017-5749"
    assert ids.normalize_issn("1557-2064 1557-2072 1557-2064") == "1557-2064; 1557-2072"
    assert ids.normalize_issn("2049-363x") == "2049-363X"
    assert ids.normalize_issn("none") is None
    assert ids.parse_year("2013 Dec-2014 Jan") == 2013
    with pytest.raises(ValueError):
        ids.parse_year("n.d.")


def test_every_stage_uses_the_one_module():
    assert importers.normalize_author is ids.normalize_author
    assert importers.normalize_doi is ids.normalize_doi
    assert importers.parse_year is ids.parse_year
    assert dedup.normalise_title is ids.normalise_title
    assert dedup.normalise_doi is ids.doi_in
    assert dedup.parse_year is ids.year_in
    assert ids.normalise_title("[Étude <i>in vitro</i> des cellules]. [Article in French]") == (
        "etude in vitro des cellules"
    )
    assert ids.normalize_authors(["Müller, Jürgen", "van der Berg, A.", ""]) == [
        "Müller J", "van der Berg A",
    ]  # fmt: skip
