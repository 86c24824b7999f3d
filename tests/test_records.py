"""The PubMed XML parser on real NCBI efetch responses (tests/data/ncbi, from Biopython)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from litreview.errors import ParseError
from litreview.records import RECORD_COLUMNS, parse_pubmed_xml, records_table

NCBI = Path(__file__).parent / "data" / "ncbi"
PAYLOADS = sorted(NCBI.glob("pubmed*.xml"))


def _records(name: str) -> list[dict]:
    return parse_pubmed_xml((NCBI / name).read_bytes(), source=name)


@pytest.mark.parametrize("path", PAYLOADS, ids=lambda path: path.name)
def test_every_recorded_article_parses_with_identity_fields(path: Path) -> None:
    payload = path.read_bytes()
    records = parse_pubmed_xml(payload, source=path.name)
    assert len(records) == payload.count(b"<PubmedArticle>") + payload.count(b"<PubmedBookArticle>")
    for record in records:
        assert set(record) == set(RECORD_COLUMNS)
        assert record["pmid"].isdigit()
        assert record["title"]
        assert record["year"] is not None and 1900 < record["year"] < 2100
        assert record["languages"]
        assert record["publication_types"]


def test_fields_of_a_structured_abstract_record() -> None:
    (record,) = _records("pubmed4.xml")
    assert record["pmid"] == "27797938"
    assert record["doi"] == "10.1136/gutjnl-2016-312510"
    assert record["title"].startswith("Leucocyte telomere length, genetic variants at the TERT")
    assert "<i>" not in record["title"]
    assert record["abstract"].startswith("OBJECTIVE: Telomere shortening")
    assert "DESIGN:" in record["abstract"]
    assert record["journal"] == "Gut"
    assert record["first_author"] == "Bao"
    assert record["authors"].split("; ")[:3] == ["Bao Y", "Prescott J", "Yuan C"]
    assert record["languages"] == "eng"
    assert record["publication_types"].startswith("Journal Article")
    assert not any(record[flag] for flag in RECORD_COLUMNS if flag.startswith("is_"))


def test_dates_volume_pages_mesh_and_entrez_date() -> None:
    by_pmid = {record["pmid"]: record for record in _records("pubmed1.xml")}
    record = by_pmid["12091962"]
    assert record["year"] == 1990
    assert record["publication_date"] == "1990"  # PubDate has a Season, no month
    assert record["volume"] == "17"
    assert record["issue"] == "1"
    assert record["pages"] == "113-25"
    assert record["journal_abbrev"] == "Soc Justice"
    assert "Prisoners" in record["mesh"].split("; ")
    assert record["keywords"] == "Health Care and Public Health; Legal Approach"
    assert record["publication_types"] == "Journal Article; Review"
    assert record["entrez_date"] == "1990-04-01"
    assert record["first_author"] == "Olivero"
    assert record["authors"] == "Olivero JM"


def test_retraction_and_erratum_flags_from_publication_types_and_links() -> None:
    payload = (NCBI / "pubmed5.xml").read_bytes()
    retracted = payload.replace(
        b'<PublicationType UI="D016428">Journal Article</PublicationType>',
        b'<PublicationType UI="D016428">Journal Article</PublicationType>'
        b'<PublicationType UI="D016441">Retracted Publication</PublicationType>',
    )
    assert retracted != payload
    (record,) = parse_pubmed_xml(retracted)
    assert record["is_retracted"] is True
    assert record["is_retraction_notice"] is False

    notice = payload.replace(b'RefType="Cites"', b'RefType="RetractionOf"', 1)
    assert notice != payload
    (record,) = parse_pubmed_xml(notice)
    assert record["is_retraction_notice"] is True
    assert record["is_retracted"] is False

    erratum = payload.replace(b">Journal Article<", b">Published Erratum<")
    (record,) = parse_pubmed_xml(erratum)
    assert record["is_erratum"] is True


def test_a_payload_that_is_not_pubmed_xml_is_an_error_naming_the_source() -> None:
    with pytest.raises(ParseError, match=r"batch-0007\.xml\.gz"):
        parse_pubmed_xml(b"<html>Service unavailable</html>", source="batch-0007.xml.gz")
    truncated = (NCBI / "pubmed4.xml").read_bytes()[:5000]
    with pytest.raises(ParseError, match=r"truncated\.xml"):
        parse_pubmed_xml(truncated, source="truncated.xml")


def test_records_table_is_typed_ordered_and_uses_na_for_missing() -> None:
    records = [record for path in PAYLOADS for record in parse_pubmed_xml(path.read_bytes())]
    table = records_table(records)
    assert list(table.columns) == list(RECORD_COLUMNS)
    assert len(table) == len(records) == 8
    pmids = table["pmid"].astype(int).tolist()
    assert pmids == sorted(pmids)
    assert table["year"].dtype == "Int64"
    assert table["is_retracted"].dtype == "boolean"
    assert table["pmcid"].dropna().str.fullmatch(r"PMC\d+").all()
    assert table["pmcid"].notna().sum() >= 1
    assert not (table.astype("string") == "").any().any()
    assert pd.isna(table.loc[table["pmid"] == "12091962", "doi"]).all()


def test_mathml_is_removed_from_abstracts() -> None:
    for path in PAYLOADS:
        for record in parse_pubmed_xml(path.read_bytes()):
            for text in (record["title"], record["abstract"]):
                assert text is None or "<m" not in text, (path.name, text[:200])


def test_comments_corrections_set_the_typed_flags() -> None:
    """RetractionIn, ExpressionOfConcernIn, ErratumIn and UpdateIn, as PubMed links them."""
    from litreview.records import parse_pubmed_xml, records_table
    from litreview.testing.pubmed_xml import render_article_set

    links = {
        1: [("RetractionIn", "91")],
        2: [("ExpressionOfConcernIn", "92")],
        3: [("ErratumIn", "93")],
        4: [("UpdateIn", "94")],
        5: [],
    }
    payload = render_article_set(
        [
            {"pmid": pmid, "title": f"T{pmid}", "year": 2020, "comments_corrections": refs}
            for pmid, refs in links.items()
        ]
    )
    table = records_table(parse_pubmed_xml(payload)).set_index("pmid")
    flags = ["is_retracted", "is_expression_of_concern", "has_erratum", "is_updated", "is_erratum"]
    assert table[flags].astype(bool).values.tolist() == [
        [True, False, False, False, False],
        [False, True, False, False, False],
        [False, False, True, False, False],
        [False, False, False, True, False],
        [False, False, False, False, False],
    ]


def _pubmed_payloads():
    import glob
    import gzip

    root = Path(__file__).parent
    paths = sorted(
        [*root.glob("data/ncbi/*.xml"), *root.glob("data/eutils/store/*.xml*"),
         *root.glob("reviews/*/pubmed.xml"), *root.glob("review/pubmed.xml"),
         *(root.parent / "resources" / "snapshots").glob("pubmed/*/*/*.xml.gz")]
        + [Path(p) for p in glob.glob(str(root.parents[1] / "shared" / "ncbi-samples" / "*.xml"))]
    )  # fmt: skip
    for path in paths:
        data = path.read_bytes()
        data = gzip.decompress(data) if path.suffix == ".gz" else data
        if b"<PubmedArticleSet" in data[:3000]:
            yield path, data


def test_the_streaming_parser_gives_exactly_the_records_bio_entrez_gave():
    """Every PubMed payload in the repository (recorded NCBI responses, the stores, the test
    reviews, the committed snapshot): the same record dicts as the former Bio.Entrez parser."""
    from litreview.testing.eutils import PUBMED_HEADER, synthetic_store
    from tests.pubmed_reference import parse_with_bio_entrez

    payloads = list(_pubmed_payloads())
    store = synthetic_store(300)
    payloads.append(
        ("synthetic", PUBMED_HEADER + b"<PubmedArticleSet>\n"
         + b"\n".join(store.raw(p) for p in sorted(store.records)) + b"\n</PubmedArticleSet>\n")
    )  # fmt: skip
    compared = 0
    for name, data in payloads:
        assert parse_pubmed_xml(data, source=str(name)) == parse_with_bio_entrez(data), name
        compared += 1
    assert compared >= 10


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"<?xml version='1.0'?><eSearchResult/>", r"root element is <eSearchResult>"),
        (
            b"<?xml version='1.0'?><PubmedArticleSet><PubmedArticle><Oops/></PubmedArticle>"
            b"</PubmedArticleSet>",
            r"element <Oops> is not in the PubMed DTD",
        ),
        (
            b"<?xml version='1.0'?><PubmedArticleSet><PubmedArticle></PubmedArticle>"
            b"</PubmedArticleSet>",
            r"a PubmedArticle without MedlineCitation/PMID",
        ),
        (b"<?xml version='1.0'?><PubmedArticleSet><PubmedArticle>", r"line 1, column \d+"),
        (b"", r"empty payload|line"),
    ],
)
def test_a_payload_that_is_not_pubmed_xml_is_refused_naming_it(payload, message):
    with pytest.raises(ParseError, match=message):
        parse_pubmed_xml(payload, source="the payload")
