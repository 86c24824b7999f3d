"""The records stage's former parser (Bio.Entrez's validating reader), kept as the oracle the
streaming parser is compared with, record for record (tests/test_records.py, bench/parse.py)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping
from typing import Any

from Bio import Entrez

from litreview.ids import doi_in
from litreview.records import (
    MULTI_VALUE_SEPARATOR,
    _flags,
    _join,
    _month_number,
    _text,
)


def parse_with_bio_entrez(payload: bytes) -> list[dict[str, Any]]:
    """Record dicts as the records stage made them with Bio.Entrez.read(validate=True)."""
    parsed = Entrez.read(io.BytesIO(payload), validate=True)
    records = [_article_record(article) for article in parsed.get("PubmedArticle", [])]
    records += [_book_record(book) for book in parsed.get("PubmedBookArticle", [])]
    return records


def _abstract(abstract: Mapping[str, Any] | None) -> str | None:
    if not abstract:
        return None
    parts = []
    for section in abstract.get("AbstractText", []):
        text = _text(section)
        if not text:
            continue
        label = getattr(section, "attributes", {}).get("Label")
        parts.append(f"{label}: {text}" if label else text)
    return " ".join(parts) or None


def _author_name(author: Mapping[str, Any]) -> str | None:
    if "CollectiveName" in author:
        return _text(author["CollectiveName"])
    last = _text(author.get("LastName"))
    initials = _text(author.get("Initials"))
    return " ".join(part for part in (last, initials) if part) or None


def _authors(author_list: Iterable[Mapping[str, Any]]) -> tuple[str | None, str | None]:
    names = [name for name in (_author_name(author) for author in author_list) if name]
    first_surname = None
    for author in author_list:
        first_surname = _text(author.get("LastName")) or _text(author.get("CollectiveName"))
        if first_surname:
            break
    return (MULTI_VALUE_SEPARATOR.join(names) if names else None), first_surname


def _date_text(date: Mapping[str, Any] | None) -> tuple[str | None, int | None]:
    """ISO date text (YYYY, YYYY-MM or YYYY-MM-DD) and year from a PubMed date element."""
    if not date:
        return None, None
    year_text = _text(date.get("Year"))
    if not year_text:
        medline = _text(date.get("MedlineDate"))
        match = re.match(r"(\d{4})(?:\s+([A-Za-z]{3}))?", medline or "")
        if not match:
            return None, None
        year_text, month = match.group(1), _month_number(match.group(2))
        return (f"{year_text}-{month:02d}" if month else year_text), int(year_text)
    month = _month_number(date.get("Month"))
    day = _text(date.get("Day"))
    text = year_text
    if month:
        text += f"-{month:02d}"
        if day and day.isdigit():
            text += f"-{int(day):02d}"
    return text, int(year_text)


def _article_ids(id_list: Iterable[Any]) -> dict[str, str | None]:
    ids: dict[str, str | None] = {"doi": None, "pmcid": None}
    names = {"doi": "doi", "pmc": "pmcid", "pmcid": "pmcid"}  # PubMed says IdType="pmc"
    for article_id in id_list:
        kind = names.get(getattr(article_id, "attributes", {}).get("IdType"))
        if kind is not None and ids[kind] is None:
            ids[kind] = _text(article_id)
    ids["doi"] = doi_in(ids["doi"])
    return ids


def _keywords(element: Mapping[str, Any]) -> str | None:
    return _join(keyword for group in element.get("KeywordList", []) for keyword in group)


def _history_date(history: Iterable[Any], status: str) -> str | None:
    for entry in history:
        if getattr(entry, "attributes", {}).get("PubStatus") == status:
            return _date_text(entry)[0]
    return None


def _article_record(article: Mapping[str, Any]) -> dict[str, Any]:
    citation = article["MedlineCitation"]
    body = citation["Article"]
    journal = body.get("Journal", {})
    issue = journal.get("JournalIssue", {})
    pubmed_data = article.get("PubmedData", {})
    ids = _article_ids(pubmed_data.get("ArticleIdList", []))
    if ids["doi"] is None:
        for location in body.get("ELocationID", []):
            if getattr(location, "attributes", {}).get("EIdType") == "doi":
                ids["doi"] = doi_in(_text(location))
    publication_date, year = _date_text(issue.get("PubDate"))
    if year is None and body.get("ArticleDate"):
        publication_date, year = _date_text(body["ArticleDate"][0])
    authors, first_author = _authors(body.get("AuthorList", []))
    publication_types = [str(value) for value in body.get("PublicationTypeList", [])]
    reference_types = {
        getattr(reference, "attributes", {}).get("RefType")
        for reference in citation.get("CommentsCorrectionsList", [])
    }
    pagination = body.get("Pagination", {})
    return {
        "pmid": _text(citation["PMID"]),
        **ids,
        "title": _text(body.get("ArticleTitle")) or _text(body.get("VernacularTitle")),
        "abstract": _abstract(body.get("Abstract")),
        "journal": _text(journal.get("Title")),
        "journal_abbrev": _text(journal.get("ISOAbbreviation"))
        or _text(citation.get("MedlineJournalInfo", {}).get("MedlineTA")),
        "volume": _text(issue.get("Volume")),
        "issue": _text(issue.get("Issue")),
        "pages": _text(pagination.get("MedlinePgn")) if isinstance(pagination, dict) else None,
        "year": year,
        "publication_date": publication_date,
        "authors": authors,
        "first_author": first_author,
        "languages": _join(body.get("Language", [])),
        "publication_types": _join(publication_types),
        "mesh": _join(heading["DescriptorName"] for heading in citation.get("MeshHeadingList", [])),
        "keywords": _keywords(citation),
        "entrez_date": _history_date(pubmed_data.get("History", []), "entrez"),
        **_flags(publication_types, reference_types),
    }


def _book_record(book: Mapping[str, Any]) -> dict[str, Any]:
    document = book["BookDocument"]
    book_info = document.get("Book", {})
    authors, first_author = _authors(
        author for group in document.get("AuthorList", []) for author in group
    )
    publication_date, year = _date_text(book_info.get("PubDate"))
    publication_types = [str(value) for value in document.get("PublicationType", [])]
    ids = _article_ids(book.get("PubmedBookData", {}).get("ArticleIdList", []))
    return {
        "pmid": _text(document["PMID"]),
        **ids,
        "title": _text(document.get("ArticleTitle")) or _text(book_info.get("BookTitle")),
        "abstract": _abstract(document.get("Abstract")),
        "journal": _text(book_info.get("BookTitle")),
        "journal_abbrev": None,
        "volume": None,
        "issue": None,
        "pages": None,
        "year": year,
        "publication_date": publication_date,
        "authors": authors,
        "first_author": first_author,
        "languages": _join(document.get("Language", [])),
        "publication_types": _join(publication_types),
        "mesh": None,
        "keywords": _keywords(document),
        "entrez_date": _history_date(book.get("PubmedBookData", {}).get("History", []), "entrez"),
        **_flags(publication_types, set()),
    }
