"""Render bibliographic metadata as PubMed XML (PubmedArticleSet), the way efetch returns it.

Used to build a local E-utilities store from public metadata (the embedded reconstructed
snapshot) and by tests. It writes only the fields it is given: nothing is invented, so an
element the data lacks is simply absent (or empty where the DTD needs the element).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from xml.sax.saxutils import escape

PUBMED_DOCTYPE = (
    '<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" '
    '"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">'
)


def _element(name: str, value: object | None, attributes: str = "") -> str:
    if value is None or value == "":
        return ""
    return f"<{name}{attributes}>{escape(str(value))}</{name}>"


def _author(name: str) -> str:
    """'Seyfried DM' -> LastName Seyfried, Initials DM; a bare surname gives LastName only."""
    parts = name.split()
    if len(parts) > 1 and parts[-1].isupper() and len(parts[-1]) <= 3:
        last, initials = " ".join(parts[:-1]), parts[-1]
    else:
        last, initials = name, None
    return (
        '<Author ValidYN="Y">'
        + _element("LastName", last)
        + _element("Initials", initials)
        + "</Author>"
    )


def _comments_corrections(links: Iterable[tuple[str, str]]) -> str:
    """<CommentsCorrectionsList> from (RefType, PMID) pairs: ("RetractionIn", "123")."""
    items = "".join(
        f'<CommentsCorrections RefType="{escape(kind)}"><RefSource>ref</RefSource>'
        f'<PMID Version="1">{escape(str(pmid))}</PMID></CommentsCorrections>'
        for kind, pmid in links
    )
    return f"<CommentsCorrectionsList>{items}</CommentsCorrectionsList>" if items else ""


def _date_element(name: str, value: object | None) -> str:
    """<DateRevised><Year>..</Year><Month>..</Month><Day>..</Day></DateRevised> from YYYY-MM-DD."""
    if not value:
        return ""
    year, month, day = str(value).split("-")
    return f"<{name}><Year>{year}</Year><Month>{month}</Month><Day>{day}</Day></{name}>"


def _history(entrez_date: object | None) -> str:
    """<History> with the record's Entrez date ("2024-03-05"), when given."""
    if not entrez_date:
        return ""
    year, month, day = str(entrez_date).split("-")
    return (
        '<History><PubMedPubDate PubStatus="entrez">'
        f"<Year>{year}</Year><Month>{int(month)}</Month><Day>{int(day)}</Day>"
        "</PubMedPubDate></History>"
    )


def render_article(record: Mapping[str, object | None]) -> str:
    """One <PubmedArticle> from a mapping with any of: pmid (required), title, abstract, journal,
    journal_abbrev, volume, issue, pages, year, authors (list of 'Surname Initials'), languages
    (list), publication_types (list), mesh (list), doi, pmcid, entrez_date (YYYY-MM-DD), comments_corrections ([(RefType, PMID)]),
    revised_date (YYYY-MM-DD, PubMed's modification date)."""
    pmid = record["pmid"]
    authors: Iterable[str] = record.get("authors") or []  # type: ignore[assignment]
    author_list = "".join(_author(name) for name in authors)
    journal_issue = (
        '<JournalIssue CitedMedium="Internet">'
        + _element("Volume", record.get("volume"))
        + _element("Issue", record.get("issue"))
        + "<PubDate>"
        + _element("Year", record.get("year"))
        + "</PubDate></JournalIssue>"
    )
    article_ids = _element("ArticleId", pmid, ' IdType="pubmed"')
    article_ids += _element("ArticleId", record.get("doi"), ' IdType="doi"')
    article_ids += _element("ArticleId", record.get("pmcid"), ' IdType="pmc"')
    mesh = "".join(
        f'<MeshHeading><DescriptorName MajorTopicYN="N">{escape(term)}</DescriptorName>'
        "</MeshHeading>"
        for term in record.get("mesh") or []  # type: ignore[union-attr]
    )
    abstract = record.get("abstract")
    return (
        '<PubmedArticle><MedlineCitation Status="PubMed-not-MEDLINE" Owner="NLM">'
        f'<PMID Version="1">{escape(str(pmid))}</PMID>'
        + _date_element("DateRevised", record.get("revised_date"))
        + '<Article PubModel="Print"><Journal>'
        + journal_issue
        + _element("Title", record.get("journal"))
        + _element("ISOAbbreviation", record.get("journal_abbrev"))
        + "</Journal>"
        + f"<ArticleTitle>{escape(str(record.get('title') or ''))}</ArticleTitle>"
        + (
            f"<Pagination><MedlinePgn>{escape(str(record['pages']))}</MedlinePgn></Pagination>"
            if record.get("pages")
            else ""
        )
        + _element("ELocationID", record.get("doi"), ' EIdType="doi" ValidYN="Y"')
        + (
            f"<Abstract><AbstractText>{escape(str(abstract))}</AbstractText></Abstract>"
            if abstract
            else ""
        )
        + (f'<AuthorList CompleteYN="N">{author_list}</AuthorList>' if author_list else "")
        + "".join(_element("Language", language) for language in record.get("languages") or [])  # type: ignore[union-attr]
        + "<PublicationTypeList>"
        + "".join(
            _element("PublicationType", value)
            for value in record.get("publication_types") or []  # type: ignore[union-attr]
        )
        + "</PublicationTypeList></Article>"
        + _comments_corrections(record.get("comments_corrections") or [])
        + (f"<MeshHeadingList>{mesh}</MeshHeadingList>" if mesh else "")
        + "</MedlineCitation><PubmedData>"
        + _history(record.get("entrez_date"))
        + f"<ArticleIdList>{article_ids}</ArticleIdList>"
        + "</PubmedData></PubmedArticle>"
    )


def render_article_set(records: Iterable[Mapping[str, object | None]]) -> bytes:
    """A complete efetch-like payload with the real PubMed DOCTYPE (Bio.Entrez validates it)."""
    body = "\n".join(render_article(record) for record in records)
    header = f'<?xml version="1.0" ?>\n{PUBMED_DOCTYPE}\n'
    return f"{header}<PubmedArticleSet>\n{body}\n</PubmedArticleSet>\n".encode()
