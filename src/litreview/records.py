"""PubMed records: MEDLINE/PubMed XML (as efetch returns it) parsed into one flat table.

The table (`results/records.tsv`) is the common currency of every later stage. Multi-valued
fields are joined with ``"; "``; a missing value is ``pd.NA`` (empty in the TSV), never ``""``.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

import pandas as pd

from litreview.errors import ParseError
from litreview.ids import doi_in
from litreview.xmlsafe import check_no_declarations

# Column order of records.tsv. Other sources (RIS, nbib, CSV exports) are mapped onto the same
# columns, so identification and deduplication work on one shape.
RECORD_COLUMNS: tuple[str, ...] = (
    "pmid",
    "doi",
    "pmcid",
    "title",
    "abstract",
    "journal",
    "journal_abbrev",
    "volume",
    "issue",
    "pages",
    "year",
    "publication_date",
    "authors",
    "first_author",
    "languages",
    "publication_types",
    "mesh",
    "keywords",
    "entrez_date",
    "is_retracted",
    "is_retraction_notice",
    "is_erratum",
    "is_expression_of_concern",
    "has_erratum",
    "is_updated",
)

MULTI_VALUE_SEPARATOR = "; "


_MONTHS = {
    name: number
    for number, name in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
_FLAG_PUBLICATION_TYPES = {
    "is_retracted": {"retracted publication"},
    "is_retraction_notice": {"retraction of publication"},
    "is_erratum": {"published erratum"},
    "is_expression_of_concern": {"expression of concern"},
    "has_erratum": set(),
    "is_updated": set(),
}
# CommentsCorrections reference types that say the same as the publication types above: the
# record was retracted (RetractionIn), is a notice (RetractionOf, ErratumFor), or is or carries an
# expression of concern.
_FLAG_REFERENCE_TYPES = {
    "is_retracted": {"RetractionIn"},
    "is_retraction_notice": {"RetractionOf"},
    "is_erratum": {"ErratumFor"},
    "is_expression_of_concern": {"ExpressionOfConcernFor", "ExpressionOfConcernIn"},
    # the record itself is sound but an erratum corrects it (ErratumIn), or a later version
    # updates it (UpdateIn)
    "has_erratum": {"ErratumIn"},
    "is_updated": {"UpdateIn"},
}


def parse_pubmed_xml(payload: bytes, *, source: str = "<payload>") -> list[dict[str, Any]]:
    """Parse one efetch payload (a PubmedArticleSet) into record dicts keyed by RECORD_COLUMNS.

    Streams (ElementTree's C parser, one record element at a time, each cleared once read), so
    memory stays flat in the payload's size. Checked as it goes, so a payload that is not
    PubMed XML fails here, naming `source`, rather than yielding empty records downstream: a
    declaration of entities or an internal DTD subset is refused unread (UnsafeXMLError); the
    root must be PubmedArticleSet; every element must be one the DTD the payload names declares
    (or inline markup: i, b, sup, sub, MathML); every record must have its PMID.
    """
    check_no_declarations(payload, source)
    known = _declared_elements(payload)
    articles: list[dict[str, Any]] = []
    books: list[dict[str, Any]] = []
    events = ET.iterparse(io.BytesIO(payload), events=("start", "end"))
    try:
        _, root = next(events)
        if root.tag != "PubmedArticleSet":
            raise ParseError(
                f"{source}: the root element is <{root.tag}>, not <PubmedArticleSet>: not a "
                "PubMed efetch payload; re-fetch the records"
            )
        for event, element in events:
            if event == "start":
                if element.tag not in known and not _INLINE_TAG.fullmatch(element.tag):
                    raise ParseError(
                        f"{source}: element <{element.tag}> is not in the PubMed DTD the "
                        "payload names; re-fetch the records, or upgrade Biopython if NCBI has "
                        "a newer DTD"
                    )
                continue
            if element.tag == "PubmedArticle":
                articles.append(_article_record(element, source))
                root.clear()
            elif element.tag == "PubmedBookArticle":
                books.append(_book_record(element, source))
                root.clear()
    except ET.ParseError as error:
        line, column = getattr(error, "position", (None, None))
        raise ParseError(
            f"{source}: not readable PubMed XML (line {line}, column {column}: {error}); "
            "re-fetch the records or restore the snapshot from version control"
        ) from None
    except StopIteration:
        raise ParseError(f"{source}: an empty payload; re-fetch the records") from None
    return articles + books


# Inline markup PubMed keeps in titles and abstracts, whatever its DTD module declares.
_INLINE_TAG = re.compile(
    r"(?:i|b|u|sup|sub|(?:mml:)?(?:math|m[a-z]{1,15}|none|semantics|annotation)|\{[^}]*\}.*)"
)
_DOCTYPE_DTD = re.compile(rb"<!DOCTYPE\s+\w+\s+(?:PUBLIC\s+\"[^\"]*\"\s+|SYSTEM\s+)\"([^\"]+)\"")


def _declared_elements(payload: bytes) -> frozenset[str]:
    """The element names the payload's DTD declares (the newest shipped PubMed DTD when it
    names none, or one Biopython does not ship)."""
    found = _DOCTYPE_DTD.search(payload[:2000])
    name = found.group(1).decode("ascii", "replace").rsplit("/", 1)[-1] if found else ""
    return _dtd_elements(name)


@lru_cache(maxsize=16)
def _dtd_elements(name: str) -> frozenset[str]:
    from pathlib import Path

    from Bio.Entrez.Parser import DataHandler

    folder = Path(DataHandler.global_dtd_dir)
    path = folder / name
    if not name or not path.is_file():
        path = max(folder.glob("pubmed_*.dtd"))
    return frozenset(re.findall(r"<!ELEMENT\s+([\w.:-]+)", path.read_text(encoding="utf-8")))


def records_table(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Records as a DataFrame with RECORD_COLUMNS in order, typed, sorted by PMID (stable)."""
    table = pd.DataFrame.from_records(list(records), columns=list(RECORD_COLUMNS))
    for column in RECORD_COLUMNS:
        if column.startswith(("is_", "has_")):
            table[column] = table[column].astype("boolean")
        elif column == "year":
            table[column] = pd.to_numeric(table[column]).astype("Int64")
        else:
            table[column] = table[column].astype("string")
    order = pd.to_numeric(table["pmid"], errors="coerce")
    table = table.iloc[order.argsort(kind="stable")].reset_index(drop=True)
    return table


# Inline markup PubMed keeps inside titles and abstracts (Bio.Entrez passes it through as text).
# MathML arrives with or without its mml: prefix (<mml:math>, <msub>, <mrow>, <mi>...).
_INLINE_MARKUP = re.compile(
    r"</?(?:i|b|u|sup|sub|(?:mml:)?(?:math|m[a-z]{1,15}|none|semantics|annotation))(?:\s[^<>]*)?/?>"
)


def _text(value: Any) -> str | None:
    """Element text with inline markup removed and whitespace folded; None for missing or blank."""
    if value is None:
        return None
    text = str(value)
    if "<" in text:
        text = _INLINE_MARKUP.sub("", text)
    return " ".join(text.split()) or None  # str.split's whitespace is the regex's \s


def _join(values: Iterable[Any]) -> str | None:
    return _join_texts(_text(value) for value in values)


def _month_number(month: Any) -> int | None:
    text = _text(month)
    if not text:
        return None
    if text.isdigit():
        return int(text)
    return _MONTHS.get(text[:3].lower())


def _flags(publication_types: Iterable[str], reference_types: set[str]) -> dict[str, bool]:
    lowered = {value.lower() for value in publication_types}
    return {
        flag: bool(lowered & _FLAG_PUBLICATION_TYPES[flag])
        or bool(reference_types & _FLAG_REFERENCE_TYPES[flag])
        for flag in _FLAG_PUBLICATION_TYPES
    }


# --- streaming parse: one record element at a time -----------------------------------------


def _t(element) -> str | None:
    if element is None:
        return None
    return _text("".join(element.itertext()))


def _date(element) -> tuple[str | None, int | None]:
    if element is None:
        return None, None
    year = _t(element.find("Year"))
    if not year:
        medline = _t(element.find("MedlineDate"))
        match = re.match(r"(\d{4})(?:\s+([A-Za-z]{3}))?", medline or "")
        if not match:
            return None, None
        month = _month_number(match.group(2))
        return (f"{match.group(1)}-{month:02d}" if month else match.group(1)), int(match.group(1))
    month = _month_number(_t(element.find("Month")))
    day = _t(element.find("Day"))
    text = year
    if month:
        text += f"-{month:02d}"
        if day and day.isdigit():
            text += f"-{int(day):02d}"
    return text, int(year)


def _ids(id_list) -> dict[str, str | None]:
    ids: dict[str, str | None] = {"doi": None, "pmcid": None}
    names = {"doi": "doi", "pmc": "pmcid", "pmcid": "pmcid"}
    if id_list is not None:
        for item in id_list.findall("ArticleId"):
            kind = names.get(item.get("IdType"))
            if kind is not None and ids[kind] is None:
                ids[kind] = _t(item)
    ids["doi"] = doi_in(ids["doi"])
    return ids


def _join_texts(values: Iterable[str | None]) -> str | None:
    """Distinct non-empty texts joined with the shared separator, first occurrence kept."""
    texts = [text for text in values if text]
    return MULTI_VALUE_SEPARATOR.join(dict.fromkeys(texts)) if texts else None


def _abstract(abstract) -> str | None:
    if abstract is None:
        return None
    parts = []
    for section in abstract.findall("AbstractText"):
        text = _t(section)
        if not text:
            continue
        label = section.get("Label")
        parts.append(f"{label}: {text}" if label else text)
    return " ".join(parts) or None


def _authors(authors) -> tuple[str | None, str | None]:
    names, first = [], None
    for author in authors:
        collective = author.find("CollectiveName")
        last = _t(author.find("LastName"))
        if collective is not None:
            name = _t(collective)
        else:
            name = " ".join(p for p in (last, _t(author.find("Initials"))) if p) or None
        if name:
            names.append(name)
        if first is None:
            first = last or _t(collective)
    return (MULTI_VALUE_SEPARATOR.join(names) if names else None), first


def _history(history, status) -> str | None:
    if history is None:
        return None
    for entry in history.findall("PubMedPubDate"):
        if entry.get("PubStatus") == status:
            return _date(entry)[0]
    return None


def _keywords(element) -> str | None:
    return _join_texts(
        _t(k) for group in element.findall("KeywordList") for k in group.findall("Keyword")
    )


def _article_record(article: ET.Element, source: str) -> dict[str, Any]:
    citation = article.find("MedlineCitation")
    body = citation.find("Article") if citation is not None else None
    if body is None or not _t(citation.find("PMID")):
        raise ParseError(
            f"{source}: a PubmedArticle without MedlineCitation/PMID and Article; re-fetch the "
            "records"
        )
    journal = body.find("Journal")
    issue = journal.find("JournalIssue") if journal is not None else None
    data = article.find("PubmedData")
    ids = _ids(data.find("ArticleIdList") if data is not None else None)
    if ids["doi"] is None:
        for location in body.findall("ELocationID"):
            if location.get("EIdType") == "doi":
                ids["doi"] = doi_in(_t(location))
                break
    publication_date, year = _date(issue.find("PubDate") if issue is not None else None)
    if year is None and body.find("ArticleDate") is not None:
        publication_date, year = _date(body.find("ArticleDate"))
    author_list = body.find("AuthorList")
    authors, first = _authors(author_list.findall("Author") if author_list is not None else [])
    types = [_t(v) or "" for v in body.findall("PublicationTypeList/PublicationType")]
    refs = {
        c.get("RefType") for c in citation.findall("CommentsCorrectionsList/CommentsCorrections")
    }
    pagination = body.find("Pagination")
    info = citation.find("MedlineJournalInfo")
    return {
        "pmid": _t(citation.find("PMID")),
        **ids,
        "title": _t(body.find("ArticleTitle")) or _t(body.find("VernacularTitle")),
        "abstract": _abstract(body.find("Abstract")),
        "journal": _t(journal.find("Title")) if journal is not None else None,
        "journal_abbrev": (_t(journal.find("ISOAbbreviation")) if journal is not None else None)
        or (_t(info.find("MedlineTA")) if info is not None else None),
        "volume": _t(issue.find("Volume")) if issue is not None else None,
        "issue": _t(issue.find("Issue")) if issue is not None else None,
        "pages": _t(pagination.find("MedlinePgn")) if pagination is not None else None,
        "year": year,
        "publication_date": publication_date,
        "authors": authors,
        "first_author": first,
        "languages": _join_texts(_t(v) for v in body.findall("Language")),
        "publication_types": _join_texts(
            _t(v) for v in body.findall("PublicationTypeList/PublicationType")
        ),
        "mesh": _join_texts(
            _t(h.find("DescriptorName")) for h in citation.findall("MeshHeadingList/MeshHeading")
        ),
        "keywords": _keywords(citation),
        "entrez_date": _history(data.find("History") if data is not None else None, "entrez"),
        **_flags(types, refs),
    }


def _book_record(book: ET.Element, source: str) -> dict[str, Any]:
    document = book.find("BookDocument")
    if document is None or not _t(document.find("PMID")):
        raise ParseError(f"{source}: a PubmedBookArticle without BookDocument/PMID")
    info = document.find("Book")
    authors, first = _authors(
        [a for group in document.findall("AuthorList") for a in group.findall("Author")]
    )
    publication_date, year = _date(info.find("PubDate") if info is not None else None)
    types = [_t(v) or "" for v in document.findall("PublicationType")]
    data = book.find("PubmedBookData")
    ids = _ids(data.find("ArticleIdList") if data is not None else None)
    return {
        "pmid": _t(document.find("PMID")),
        **ids,
        "title": _t(document.find("ArticleTitle"))
        or (_t(info.find("BookTitle")) if info is not None else None),
        "abstract": _abstract(document.find("Abstract")),
        "journal": _t(info.find("BookTitle")) if info is not None else None,
        "journal_abbrev": None,
        "volume": None,
        "issue": None,
        "pages": None,
        "year": year,
        "publication_date": publication_date,
        "authors": authors,
        "first_author": first,
        "languages": _join_texts(_t(v) for v in document.findall("Language")),
        "publication_types": _join_texts(_t(v) for v in document.findall("PublicationType")),
        "mesh": None,
        "keywords": _keywords(document),
        "entrez_date": _history(data.find("History") if data is not None else None, "entrez"),
        **_flags(types, set()),
    }
