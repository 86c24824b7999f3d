"""A local NCBI E-utilities server for tests, benchmarks and offline rebuilds.

It answers ``/esearch.fcgi`` and ``/efetch.fcgi`` (GET and POST) on 127.0.0.1 the way NCBI does
for PubMed, closely enough for ``litreview.entrez`` and ``Bio.Entrez`` to take it for the real
thing: esearch XML per the esearch DTD (Count, RetMax, RetStart, QueryKey/WebEnv, IdList newest
PMID first, QueryTranslation), the 9,999-ID retrieval cap, mindate/maxdate/datetype, WebEnv
history for efetch, PubmedArticleSet payloads with the pubmed_250101 DOCTYPE, NCBI's rate limit
(3/s, 10/s with ``api_key``) answered with HTTP 429, and injected faults.

Records come from a *store*: a folder of PubMed XML files (``*.xml``/``*.xml.gz``, each a
PubmedArticleSet) whose PubmedArticle/PubmedBookArticle elements are served back byte for byte,
or a synthetic store of N small valid records (``synthetic=N``).

Which PMIDs a term matches: ``queries.json`` in the store folder may map a query string to a
list of PMIDs (served for that exact string); ``translations.json`` may map a query string to
the QueryTranslation to answer (PubMed's term mapping drifting between two searches);
``replaced.json`` may map an old PMID to the one that replaced it (efetch of the old serves
the new record, as PubMed does for merged records). Otherwise the term is evaluated here:

- Boolean operators ``AND``, ``OR``, ``NOT`` (upper case, as in PubMed), applied left to right
  as PubMed does, with parentheses for grouping; terms side by side are ANDed.
- A term is a word, a ``"quoted phrase"`` or a word ending in ``*`` (prefix wildcard), with an
  optional field tag: ``[tiab]``/``[Title/Abstract]``, ``[ti]``, ``[ab]``, ``[mh]``/``[MeSH
  Terms]``, ``[pt]``, ``[la]``, ``[dp]`` (publication date: ``2020[dp]``,
  ``2019/06:2020/03[dp]``), ``[edat]`` (Entrez date, the same way), ``[pmid]``/``[uid]``,
  ``[doi]`` (the live path looks other sources' DOIs up with ``"10.x/y"[doi]``), ``[all]``. Untagged terms search title, abstract, MeSH headings and
  keywords. Matching is on whole words (letters and digits), case-insensitive; a phrase must sit
  inside one heading or keyword, not across two.
- A record's publication date (``pdat``) is its journal issue date (missing month/day = 1);
  ``edat`` is its "entrez" history date, else the publication date. A stored record with no
  date at all (possible only in a store rendered from partial metadata: every real PubMed
  record has one) is inside every mindate/maxdate window, since nothing says it is outside.

Also a CLI: ``litreview fake-eutils --store DIR | --synthetic N [--port N] [--rate-limit]
[--fault SPEC ...]`` prints its base URL and serves until Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import logging
import math
import random
import re
import signal
import socket
import struct
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

from defusedxml import ElementTree as SafeET

from litreview.errors import InputFileError, LitReviewError
from litreview.xmlsafe import check_no_declarations

__all__ = [
    "FAULT_KINDS",
    "PAYLOAD_FAULT_KINDS",
    "EutilsServer",
    "FaultPlan",
    "RecordStore",
    "RequestRecord",
    "add_arguments",
    "evaluate_query",
    "load_store",
    "run",
    "synthetic_store",
]

logger = logging.getLogger(__name__)

MAX_RETRIEVABLE = 9999
MAX_RETMAX = 10_000
# Transient faults (also drawn at random by ``--fault-rate``): a retry gets a good answer.
FAULT_KINDS = ("500", "502", "503", "429", "truncate", "error", "hang", "reset")
# Faults only scheduled, never random. efetch: "short" drops the payload's last record;
# "undeclared" adds an element the DTD lacks; "entity" answers a billion-laughs payload (an
# internal DTD subset declaring nested entities); "expire" forgets the WebEnv history (NCBI's
# "Unable to obtain query #1"); "drift" changes the stored result under the WebEnv (a record
# added since the esearch, newest first). esearch: "drift" adds a record to the query's result
# after this page, so the later pages shift by one.
PAYLOAD_FAULT_KINDS = ("short", "undeclared", "entity", "expire", "drift")
BILLION_LAUGHS = (
    b'<?xml version="1.0" ?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, '
    b'1st January 2025//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd" [\n'
    b'<!ENTITY lol "lol">\n'
    + b"".join(
        b'<!ENTITY lol%d "%s">\n'
        % (level, (b"&lol%d;" % (level - 1) if level > 1 else b"&lol;") * 10)
        for level in range(1, 10)
    )
    + b"]>\n<PubmedArticleSet>&lol9;</PubmedArticleSet>\n"
)

ESEARCH_HEADER = (
    '<?xml version="1.0" encoding="UTF-8" ?>\n'
    '<!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD esearch 20060628//EN" '
    '"https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20060628/esearch.dtd">\n'
)
PUBMED_HEADER = (
    b'<?xml version="1.0" ?>\n'
    b'<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" '
    b'"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n'
)
EFETCH_ERROR_HEADER = (
    '<?xml version="1.0" encoding="UTF-8" ?>\n'
    '<!DOCTYPE eFetchResult PUBLIC "-//NLM//DTD efetch 20131226//EN" '
    '"https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20131226/efetch.dtd">\n'
)
RETSTART_CAP_ERROR = (
    "Search Backend failed: Exception:\n'retstart' cannot be larger than 9998. For PubMed, "
    "ESearch can only retrieve the first 9,999 records matching the query. To obtain more than "
    "9,999 PubMed records, consider using EDirect that contains additional logic to batch "
    "PubMed search results automatically so that an arbitrary number can be retrieved. For "
    "details see https://www.ncbi.nlm.nih.gov/books/NBK25499/"
)

# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------

SEARCH_FIELDS = ("ti", "ab", "mh", "kw", "pt", "la")
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}
_LANGUAGE_NAMES = {
    "eng": "english",
    "fre": "french",
    "ger": "german",
    "spa": "spanish",
    "ita": "italian",
    "jpn": "japanese",
    "chi": "chinese",
    "rus": "russian",
    "por": "portuguese",
    "dut": "dutch",
}
_WORD = re.compile(r"[^\W_]+")


def _tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _field_text(segments: Iterable[str]) -> str:
    """Segments as one searchable string: '| tok tok | tok |' (phrases cannot cross a '|')."""
    return "|" + "".join(f" {' '.join(_tokens(segment))} |" for segment in segments)


@dataclass
class StoredRecord:
    """One record the server can find (``texts``) and serve (``raw``, or built on demand)."""

    pmid: int
    pdat: date | None
    edat: date | None
    texts: dict[str, str]
    raw: bytes | None = None
    mdat: date | None = None  # PubMed's modification date (DateRevised), else the Entrez date


class RecordStore:
    """Records by PMID, with the query lists of ``queries.json`` when the folder has one."""

    def __init__(
        self,
        records: Iterable[StoredRecord],
        *,
        queries: Mapping[str, Sequence[int]] | None = None,
        render: Callable[[int], bytes] | None = None,
        description: str = "records",
    ) -> None:
        self.records: dict[int, StoredRecord] = {}
        for record in records:
            self.records[record.pmid] = record
        self.queries = {key.strip(): list(value) for key, value in (queries or {}).items()}
        # query -> the QueryTranslation to answer (``translations.json``: PubMed's term mapping
        # changing between two searches of the same query)
        self.translations: dict[str, str] = {}
        # old PMID -> the PMID that replaced it (``replaced.json``: PubMed merging records)
        self.replaced: dict[int, int] = {}
        self._render = render
        self.description = description

    def __len__(self) -> int:
        return len(self.records)

    def raw(self, pmid: int) -> bytes | None:
        """The record's XML element as served, or None if the store lacks it."""
        record = self.records.get(pmid)
        if record is None:
            return None
        if record.raw is not None:
            return record.raw
        if self._render is None:
            raise LitReviewError(f"record {pmid} has no XML and the store cannot render it")
        return self._render(pmid)


_ARTICLE_PATTERN = re.compile(
    rb"<(PubmedArticle|PubmedBookArticle)(?:\s[^>]*)?>.*?</\1>", re.DOTALL
)


def _date_from(element: ET.Element | None) -> date | None:
    if element is None:
        return None
    year_text = element.findtext("Year")
    if not year_text:
        medline = element.findtext("MedlineDate") or ""
        match = re.match(r"\s*(\d{4})", medline)
        if not match:
            return None
        return date(int(match.group(1)), 1, 1)
    month_text = (element.findtext("Month") or "1").strip()
    month = int(month_text) if month_text.isdigit() else _MONTHS.get(month_text[:3].lower(), 1)
    day_text = (element.findtext("Day") or "1").strip()
    day = int(day_text) if day_text.isdigit() else 1
    try:
        return date(int(year_text), month, day)
    except ValueError:  # an impossible day such as 31 Jun: the record counts as of the 1st
        return date(int(year_text), month, 1)


def _record_from_xml(raw: bytes, source: Path) -> StoredRecord:
    element = SafeET.fromstring(raw)
    if element.tag == "PubmedArticle":
        citation = element.find("MedlineCitation")
        article = citation.find("Article") if citation is not None else None
        pmid_text = citation.findtext("PMID") if citation is not None else None
        title_element = article.find("ArticleTitle") if article is not None else None
        title = "".join(title_element.itertext()) if title_element is not None else None
        abstract_parts = element.findall("MedlineCitation/Article/Abstract/AbstractText")
        pdat = _date_from(element.find("MedlineCitation/Article/Journal/JournalIssue/PubDate"))
        if pdat is None:
            pdat = _date_from(element.find("MedlineCitation/Article/ArticleDate"))
        languages = [
            item.text or "" for item in element.findall("MedlineCitation/Article/Language")
        ]
        types = element.findall("MedlineCitation/Article/PublicationTypeList/PublicationType")
    else:
        pmid_text = element.findtext("BookDocument/PMID")
        title = element.findtext("BookDocument/ArticleTitle") or element.findtext(
            "BookDocument/Book/BookTitle"
        )
        abstract_parts = element.findall("BookDocument/Abstract/AbstractText")
        pdat = _date_from(element.find("BookDocument/Book/PubDate"))
        languages = [item.text or "" for item in element.findall("BookDocument/Language")]
        types = element.findall("BookDocument/PublicationType")
    if not pmid_text or not pmid_text.strip().isdigit():
        raise InputFileError(source, f"a <{element.tag}> without a numeric PMID")
    entrez = None
    for history_date in element.findall("PubmedData/History/PubMedPubDate"):
        if history_date.get("PubStatus") == "entrez":
            entrez = _date_from(history_date)
    mesh = ["".join(item.itertext()) for item in element.iter("DescriptorName")]
    keywords = ["".join(item.itertext()) for item in element.iter("Keyword")]
    language_words = [f"{code} {_LANGUAGE_NAMES.get(code.lower(), '')}" for code in languages]
    texts = {
        "ti": _field_text([title or ""]),
        "ab": _field_text(["".join(part.itertext()) for part in abstract_parts]),
        "mh": _field_text(mesh),
        "kw": _field_text(keywords),
        "pt": _field_text(["".join(item.itertext()) for item in types]),
        "la": _field_text(language_words),
        "doi": _record_doi(element),
    }
    revised = _date_from(element.find("MedlineCitation/DateRevised"))
    return StoredRecord(int(pmid_text), pdat, entrez or pdat, texts, raw, revised or entrez or pdat)


def _record_doi(element: ET.Element) -> str:
    """The record's DOI, lower case ("" when it has none), as [doi] matches it."""
    for path in ("PubmedData/ArticleIdList/ArticleId", ".//ELocationID"):
        for item in element.findall(path):
            if (item.get("IdType") or item.get("EIdType")) == "doi" and item.text:
                return item.text.strip().lower()
    return ""


def _json_file(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise InputFileError(path, f"not valid JSON ({error})") from None


def load_store(folder: str | Path) -> RecordStore:
    """Index every PubmedArticle/PubmedBookArticle of the *.xml / *.xml.gz files in ``folder``."""
    root = Path(folder)
    if not root.is_dir():
        raise InputFileError(root, "the store folder does not exist", hint="give --store DIR")
    paths = sorted([*root.glob("*.xml"), *root.glob("*.xml.gz")])
    if not paths:
        raise InputFileError(root, "no *.xml or *.xml.gz PubMed files in the store folder")
    records: list[StoredRecord] = []
    for path in paths:
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
        check_no_declarations(data, str(path))
        found = 0
        for match in _ARTICLE_PATTERN.finditer(data):
            try:
                records.append(_record_from_xml(match.group(0), path))
            except ET.ParseError as error:
                raise InputFileError(path, f"a record is not well-formed XML ({error})") from None
            found += 1
        if found == 0:
            raise InputFileError(path, "holds no <PubmedArticle> or <PubmedBookArticle>")
    queries: dict[str, list[int]] = {}
    queries_path = root / "queries.json"
    if queries_path.is_file():
        raw_queries = _json_file(queries_path)
        if not isinstance(raw_queries, dict):
            raise InputFileError(queries_path, "must map query strings to lists of PMIDs")
        known = {record.pmid for record in records}
        for query, pmids in raw_queries.items():
            if not isinstance(pmids, list) or not all(str(p).isdigit() for p in pmids):
                raise InputFileError(queries_path, f"query {query!r}: expected a list of PMIDs")
            missing = [str(p) for p in pmids if int(p) not in known]
            if missing:
                raise InputFileError(
                    queries_path,
                    f"query {query!r} lists PMIDs absent from the store: {', '.join(missing)}",
                    hint="add their records to the store or remove them from the list",
                )
            queries[query] = [int(p) for p in pmids]
    translations: dict[str, str] = {}
    translations_path = root / "translations.json"
    if translations_path.is_file():
        raw_translations = _json_file(translations_path)
        if not isinstance(raw_translations, dict) or not all(
            isinstance(v, str) for v in raw_translations.values()
        ):
            raise InputFileError(translations_path, "must map query strings to translations")
        translations = {key.strip(): value for key, value in raw_translations.items()}
    store = RecordStore(records, queries=queries, description=f"store {root}")
    store.translations = translations
    replaced_path = root / "replaced.json"
    if replaced_path.is_file():
        try:
            raw_replaced = json.loads(replaced_path.read_text(encoding="utf-8"))
            store.replaced = {int(old): int(new) for old, new in raw_replaced.items()}
        except (json.JSONDecodeError, ValueError, AttributeError) as error:
            raise InputFileError(
                replaced_path, f"must map old PMIDs to new ones ({error})"
            ) from None
    return store


# Synthetic records: cheap, deterministic, valid per pubmed_250101.dtd.
SYNTHETIC_FIRST_PMID = 30_000_001
SYNTHETIC_FIRST_DAY = date(1975, 1, 1)
SYNTHETIC_LAST_DAY = date(2024, 12, 31)
_TOPICS = ("asthma", "diabetes", "sepsis", "migraine", "obesity", "dementia", "gout", "anaemia")
_DESIGNS = ("randomized controlled trial", "cohort study", "case report", "systematic review")
_DESIGN_TYPES = ("Randomized Controlled Trial", None, "Case Reports", "Systematic Review")
_LANGS = ("eng",) * 8 + ("fre", "ger")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class _SyntheticFacts:
    pmid: int
    index: int
    day: date
    topic: str
    design: str
    design_type: str | None
    language: str


def synthetic_store(count: int) -> RecordStore:
    """``count`` small valid records, PMIDs 30000001.., dates spread over 1975-2024.

    The newest record has the highest PMID. Every title holds "synthetic record", so the term
    ``synthetic`` matches them all; topics (asthma, diabetes, ...) cycle every 8 records.
    """
    if count < 0:
        raise ValueError("synthetic count must not be negative")
    span = (SYNTHETIC_LAST_DAY - SYNTHETIC_FIRST_DAY).days + 1
    facts: dict[int, _SyntheticFacts] = {}

    def describe(index: int) -> _SyntheticFacts:
        design_index = (index // len(_TOPICS)) % len(_DESIGNS)
        return _SyntheticFacts(
            pmid=SYNTHETIC_FIRST_PMID + index,
            index=index,
            day=SYNTHETIC_FIRST_DAY + timedelta(days=(index * span) // max(count, 1)),
            topic=_TOPICS[index % len(_TOPICS)],
            design=_DESIGNS[design_index],
            design_type=_DESIGN_TYPES[design_index],
            language=_LANGS[index % len(_LANGS)],
        )

    records = []
    for index in range(count):
        item = describe(index)
        facts[item.pmid] = item
        types = ["Journal Article"] + ([item.design_type] if item.design_type else [])
        texts = {
            "ti": f"| synthetic record {item.pmid} {item.design} of {item.topic} outcomes |",
            "ab": f"| this synthetic abstract describes a {item.design} about {item.topic} "
            f"in adults record number {index} |",
            "mh": f"| humans | {item.topic} |",
            "kw": f"| {item.topic} | synthetic |",
            "pt": _field_text(types),
            "la": f"| {item.language} {_LANGUAGE_NAMES[item.language]} |",
            "doi": f"10.5555/synthetic.{item.pmid}",
        }
        records.append(StoredRecord(item.pmid, item.day, item.day, texts))

    def render(pmid: int) -> bytes:
        return _synthetic_xml(facts[pmid])

    return RecordStore(records, render=render, description=f"synthetic store of {count}")


def _synthetic_xml(item: _SyntheticFacts) -> bytes:
    day = item.day
    types = '<PublicationType UI="D016428">Journal Article</PublicationType>'
    if item.design_type:
        types += f'<PublicationType UI="D000000">{item.design_type}</PublicationType>'
    return (
        f'<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM">'
        f'<PMID Version="1">{item.pmid}</PMID>'
        f'<Article PubModel="Print"><Journal><ISSN IssnType="Print">0000-0000</ISSN>'
        f'<JournalIssue CitedMedium="Print"><Volume>{day.year - 1974}</Volume>'
        f"<Issue>{day.month}</Issue><PubDate><Year>{day.year}</Year>"
        f"<Month>{_MONTH_NAMES[day.month - 1]}</Month><Day>{day.day:02d}</Day></PubDate>"
        f"</JournalIssue><Title>Journal of synthetic records</Title>"
        f"<ISOAbbreviation>J Synth Rec</ISOAbbreviation></Journal>"
        f"<ArticleTitle>Synthetic record {item.pmid}: {item.design} of {item.topic} outcomes."
        f"</ArticleTitle><Pagination><MedlinePgn>{item.index % 90 + 1}-{item.index % 90 + 9}"
        f"</MedlinePgn></Pagination><Abstract><AbstractText>This synthetic abstract describes "
        f"a {item.design} about {item.topic} in adults. Record number {item.index}."
        f'</AbstractText></Abstract><AuthorList CompleteYN="Y"><Author ValidYN="Y">'
        f"<LastName>Author{item.index % 997}</LastName><ForeName>Sam</ForeName>"
        f"<Initials>S</Initials></Author></AuthorList><Language>{item.language}</Language>"
        f"<PublicationTypeList>{types}</PublicationTypeList></Article>"
        f"<MedlineJournalInfo><Country>United States</Country><MedlineTA>J Synth Rec</MedlineTA>"
        f"<NlmUniqueID>0000000</NlmUniqueID></MedlineJournalInfo><MeshHeadingList>"
        f'<MeshHeading><DescriptorName UI="D006801" MajorTopicYN="N">Humans</DescriptorName>'
        f'</MeshHeading><MeshHeading><DescriptorName UI="D000000" MajorTopicYN="Y">'
        f"{item.topic.capitalize()}</DescriptorName></MeshHeading></MeshHeadingList>"
        f'<KeywordList Owner="NOTNLM"><Keyword MajorTopicYN="N">{item.topic}</Keyword>'
        f'<Keyword MajorTopicYN="N">synthetic</Keyword></KeywordList></MedlineCitation>'
        f'<PubmedData><History><PubMedPubDate PubStatus="entrez"><Year>{day.year}</Year>'
        f"<Month>{day.month}</Month><Day>{day.day}</Day></PubMedPubDate></History>"
        f"<PublicationStatus>ppublish</PublicationStatus><ArticleIdList>"
        f'<ArticleId IdType="pubmed">{item.pmid}</ArticleId>'
        f'<ArticleId IdType="doi">10.5555/synthetic.{item.pmid}</ArticleId></ArticleIdList>'
        f"</PubmedData></PubmedArticle>"
    ).encode()


# --------------------------------------------------------------------------------------------
# Query evaluation
# --------------------------------------------------------------------------------------------


class QuerySyntaxError(LitReviewError):
    """The term cannot be parsed by this server's evaluator."""


_FIELD_TAGS: dict[str, tuple[str, str]] = {
    # tag (lower case) -> (internal field, name in QueryTranslation)
    "tiab": ("tiab", "Title/Abstract"),
    "title/abstract": ("tiab", "Title/Abstract"),
    "ti": ("ti", "Title"),
    "title": ("ti", "Title"),
    "ab": ("ab", "Abstract"),
    "abstract": ("ab", "Abstract"),
    "mh": ("mh", "MeSH Terms"),
    "mesh": ("mh", "MeSH Terms"),
    "mesh terms": ("mh", "MeSH Terms"),
    "pt": ("pt", "Publication Type"),
    "publication type": ("pt", "Publication Type"),
    "la": ("la", "Language"),
    "language": ("la", "Language"),
    "dp": ("dp", "Date - Publication"),
    "pdat": ("dp", "Date - Publication"),
    "publication date": ("dp", "Date - Publication"),
    "all": ("all", "All Fields"),
    "all fields": ("all", "All Fields"),
    "pmid": ("pmid", "PMID"),
    "uid": ("pmid", "UID"),
    "doi": ("doi", "DOI"),
    "lid": ("doi", "Location ID"),
    "edat": ("edat", "Date - Entrez"),
    "date - entrez": ("edat", "Date - Entrez"),
}
_FIELD_GROUPS = {
    "all": ("ti", "ab", "mh", "kw"),
    "tiab": ("ti", "ab"),
    "ti": ("ti",),
    "ab": ("ab",),
    "mh": ("mh",),
    "pt": ("pt",),
    "la": ("la",),
}
_QUERY_TOKEN = re.compile(r'\s*(?:(\()|(\))|"([^"]*)"|(\[[^\]]*\])|([^\s()"\[\]]+))')


@dataclass(frozen=True)
class _Term:
    text: str
    field: str
    label: str


@dataclass(frozen=True)
class _Group:
    items: tuple[Any, ...]  # node, (operator, node), (operator, node), ...


def _lex(term: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    stripped = term.rstrip()
    while position < len(stripped):
        match = _QUERY_TOKEN.match(stripped, position)
        if not match or match.end() == position:
            raise QuerySyntaxError(f"cannot read the term at {stripped[position:]!r}")
        position = match.end()
        if match.group(1):
            tokens.append(("(", "("))
        elif match.group(2):
            tokens.append((")", ")"))
        elif match.group(3) is not None:
            tokens.append(("phrase", match.group(3)))
        elif match.group(4):
            tokens.append(("tag", match.group(4)[1:-1].strip()))
        else:
            word = match.group(5)
            tokens.append(("op", word) if word in ("AND", "OR", "NOT") else ("word", word))
    return tokens


def parse_query(term: str) -> _Group:
    """Parse a PubMed-style term into nested groups evaluated left to right."""
    tokens = _lex(term)
    position = 0

    def parse_group(closing: bool) -> _Group:
        nonlocal position
        items: list[Any] = []
        expect_operand = True
        pending_op = "AND"
        while position < len(tokens):
            kind, value = tokens[position]
            if kind == ")":
                if not closing:
                    raise QuerySyntaxError("a ')' without its '('")
                break
            if kind == "op":
                if expect_operand:
                    raise QuerySyntaxError(f"{value} needs a term before it")
                pending_op = value
                expect_operand = True
                position += 1
                continue
            if kind == "tag":
                raise QuerySyntaxError(f"field tag [{value}] must follow a term")
            if kind == "(":
                position += 1
                node: Any = parse_group(closing=True)
                if position >= len(tokens) or tokens[position][0] != ")":
                    raise QuerySyntaxError("a '(' without its ')'")
                position += 1
            else:
                position += 1
                tag = "all"
                if position < len(tokens) and tokens[position][0] == "tag":
                    tag = tokens[position][1].lower()
                    position += 1
                if tag not in _FIELD_TAGS:
                    raise QuerySyntaxError(f"unknown field tag [{tag}]")
                field_name, label = _FIELD_TAGS[tag]
                node = _Term(value, field_name, label)
            items.append(node if not items else (pending_op, node))
            pending_op = "AND"
            expect_operand = False
        if expect_operand:
            raise QuerySyntaxError("the term ends with an operator, or is empty")
        return _Group(tuple(items))

    group = parse_group(closing=False)
    if position != len(tokens):
        raise QuerySyntaxError("a ')' without its '('")
    return group


def _translate(node: Any, top: bool = True) -> str:
    if isinstance(node, _Term):
        return f'"{node.text}"[{node.label}]'
    parts = [_translate(node.items[0], top=False)]
    for operator, child in node.items[1:]:
        parts.append(f"{operator} {_translate(child, top=False)}")
    text = " ".join(parts)
    return text if top or len(node.items) == 1 else f"({text})"


def _parse_date(text: str, *, end: bool) -> date:
    match = re.fullmatch(r"(\d{4})(?:[/-](\d{1,2})(?:[/-](\d{1,2}))?)?", text.strip())
    if not match:
        raise QuerySyntaxError(f"{text!r} is not a date (YYYY, YYYY/MM or YYYY/MM/DD)")
    year = int(match.group(1))
    month = int(match.group(2)) if match.group(2) else (12 if end else 1)
    if match.group(3):
        return date(year, month, int(match.group(3)))
    if not end:
        return date(year, month, 1)
    return date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)


def _date_range(text: str) -> tuple[date, date]:
    low, _, high = text.partition(":")
    return _parse_date(low, end=False), _parse_date(high or low, end=True)


def _term_matcher(term: _Term) -> Callable[[StoredRecord], bool]:
    if term.field in ("dp", "edat"):
        low, high = _date_range(term.text)
        attribute = "pdat" if term.field == "dp" else "edat"

        def in_window(record: StoredRecord) -> bool:
            value = getattr(record, attribute)
            return value is not None and low <= value <= high

        return in_window
    if term.field == "pmid":
        wanted = term.text.strip()
        if not wanted.isdigit():
            raise QuerySyntaxError(f"{term.text!r} is not a PMID")
        return lambda record: record.pmid == int(wanted)
    if term.field == "doi":
        doi = term.text.strip().lower()
        return lambda record: record.texts.get("doi") == doi
    text = term.text.strip()
    wildcard = text.endswith("*")
    words = _tokens(text.rstrip("*"))
    if not words:
        raise QuerySyntaxError(f"term {term.text!r} has no letters or digits")
    needle = " " + " ".join(words) + ("" if wildcard else " ")
    fields = _FIELD_GROUPS[term.field]
    return lambda record: any(needle in record.texts[name] for name in fields)


def _evaluate(node: Any, records: Sequence[StoredRecord]) -> set[int]:
    if isinstance(node, _Term):
        matches = _term_matcher(node)
        return {record.pmid for record in records if matches(record)}
    result = _evaluate(node.items[0], records)
    for operator, child in node.items[1:]:
        other = _evaluate(child, records)
        if operator == "AND":
            result &= other
        elif operator == "OR":
            result |= other
        else:
            result -= other
    return result


def evaluate_query(store: RecordStore, term: str) -> tuple[list[int], str]:
    """PMIDs matching ``term`` (newest = highest PMID first) and the QueryTranslation."""
    key = term.strip()
    if key in store.queries:
        return sorted(store.queries[key], reverse=True), store.translations.get(key, key)
    tree = parse_query(key)
    pmids = _evaluate(tree, list(store.records.values()))
    return sorted(pmids, reverse=True), store.translations.get(key, _translate(tree))


# --------------------------------------------------------------------------------------------
# Faults
# --------------------------------------------------------------------------------------------


@dataclass
class FaultPlan:
    """Which requests fail, and how.

    ``schedule`` maps a request number to a fault kind: an int counts every esearch/efetch
    request in arrival order (1-based); ("efetch", 3) counts that endpoint's requests only.
    ``probability`` adds random faults (drawn from ``kinds`` with a generator seeded by
    ``seed``, so a run is repeatable). Kinds: see FAULT_KINDS.
    """

    schedule: dict[int | tuple[str, int], str] = field(default_factory=dict)
    probability: float = 0.0
    seed: int = 0
    kinds: tuple[str, ...] = FAULT_KINDS

    def __post_init__(self) -> None:
        for kind in self.kinds:
            if kind not in FAULT_KINDS:
                raise ValueError(f"unknown random fault kind {kind!r}; use one of {FAULT_KINDS}")
        for kind in self.schedule.values():
            if kind not in (*FAULT_KINDS, *PAYLOAD_FAULT_KINDS):
                raise ValueError(
                    f"unknown fault kind {kind!r}; use one of {FAULT_KINDS + PAYLOAD_FAULT_KINDS}"
                )
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError("fault probability must be between 0 and 1")
        self._rng = random.Random(self.seed)

    @classmethod
    def from_specs(
        cls,
        specs: Iterable[str],
        *,
        probability: float = 0.0,
        seed: int = 0,
        kinds: Sequence[str] = FAULT_KINDS,
    ) -> FaultPlan:
        """Build from CLI-style specs: "N:KIND" (Nth request) or "efetch@N:KIND"."""
        schedule: dict[int | tuple[str, int], str] = {}
        for spec in specs:
            match = re.fullmatch(r"(?:(esearch|efetch)@)?(\d+):(\w+)", spec.strip())
            if not match:
                raise ValueError(f"fault spec {spec!r} is not N:KIND or esearch|efetch@N:KIND")
            endpoint, number, kind = match.group(1), int(match.group(2)), match.group(3)
            schedule[(endpoint, number) if endpoint else number] = kind
        return cls(schedule, probability=probability, seed=seed, kinds=tuple(kinds))

    def pick(self, sequence: int, endpoint: str, endpoint_sequence: int) -> str | None:
        """The fault for this request, if any (call once per request, in arrival order)."""
        kind = self.schedule.get((endpoint, endpoint_sequence)) or self.schedule.get(sequence)
        if kind is None and self.probability and self._rng.random() < self.probability:
            kind = self._rng.choice(self.kinds)
        return kind


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestRecord:
    """One request the server received (api_key value not kept; ``has_api_key`` says if sent)."""

    sequence: int
    endpoint: str
    method: str
    params: dict[str, str]
    has_api_key: bool
    status: int
    fault: str | None
    received_at: float


@dataclass
class _History:
    pmids: list[int]


class _State:
    """What the handler threads share; every mutation is under ``lock``."""

    def __init__(self, server: EutilsServer) -> None:
        self.owner = server
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.sequence = 0
        self.endpoint_sequence: Counter[str] = Counter()
        self.log: list[RequestRecord] = []
        self.api_keys_seen: set[str] = set()
        self.rate_windows: dict[str | None, deque[float]] = {}
        self.histories: dict[str, dict[str, _History]] = {}
        self.query_cache: dict[str, tuple[list[int], str]] = {}


class EutilsServer:
    """A local E-utilities server on 127.0.0.1; use as a context manager.

    >>> with EutilsServer(synthetic=1000) as server:   # doctest: +SKIP
    ...     settings = EntrezSettings(email="me@example.org", base_url=server.base_url)
    """

    def __init__(
        self,
        store: str | Path | RecordStore | None = None,
        *,
        synthetic: int | None = None,
        port: int = 0,
        rate_limit: bool = False,
        faults: FaultPlan | Iterable[str] | None = None,
        retry_after: str | None = "1",
        hang_seconds: float = 5.0,
        delay: float = 0.0,
    ) -> None:
        if (store is None) == (synthetic is None):
            raise ValueError("give a store (folder or RecordStore) or synthetic=N, not both")
        if isinstance(store, RecordStore):
            self.store = store
        elif store is not None:
            self.store = load_store(store)
        else:
            self.store = synthetic_store(int(synthetic or 0))
        if faults is None or isinstance(faults, FaultPlan):
            self.faults = faults or FaultPlan()
        else:
            self.faults = FaultPlan.from_specs(faults)
        self.rate_limit = rate_limit
        self.retry_after = retry_after
        self.hang_seconds = hang_seconds
        self.delay = delay
        self._requested_port = port
        self._state = _State(self)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle --------------------------------------------------------------------------------

    def start(self) -> EutilsServer:
        if self._httpd is not None:
            return self
        handler = type("BoundEutilsHandler", (_Handler,), {"state": self._state})
        self._httpd = _QuietServer(("127.0.0.1", self._requested_port), handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},  # quick shutdown: tests start many servers
            name="eutils-server",
            daemon=True,
        )
        self._thread.start()
        logger.info("local E-utilities serving %s at %s", self.store.description, self.base_url)
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._state.stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> EutilsServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # inspection -------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the server is not started")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def requests(self) -> list[RequestRecord]:
        with self._state.lock:
            return list(self._state.log)

    def counts(self) -> dict[str, int]:
        """Requests received, by endpoint ("esearch", "efetch", "other")."""
        with self._state.lock:
            return dict(Counter(record.endpoint for record in self._state.log))

    def status_counts(self) -> dict[int, int]:
        """Responses sent, by HTTP status (0 = none: connection reset or hang)."""
        with self._state.lock:
            return dict(Counter(record.status for record in self._state.log))

    def saw_api_key(self, value: str) -> bool:
        """Whether any request carried this api_key (the value is not logged anywhere)."""
        with self._state.lock:
            return value in self._state.api_keys_seen

    def reset_log(self) -> None:
        with self._state.lock:
            self._state.log.clear()


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout) or a reset we caused: not worth a traceback.
        logger.debug("connection from %s ended abruptly", client_address, exc_info=True)


class _HTTPResponseError(Exception):
    """Raised inside a handler to send an HTTP error response."""

    def __init__(self, status: int, body: bytes, content_type: str, headers: dict[str, str]):
        super().__init__(status)
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers


class _Handler(BaseHTTPRequestHandler):
    state: _State
    server_version = "litreview-fake-eutils/1"

    def log_message(self, format: str, *args: Any) -> None:
        line = re.sub(r"(api_key=)[^&\s\"']+", r"\g<1>***", format % args)
        logger.debug("%s - %s", self.address_string(), line)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    # request handling -------------------------------------------------------------------------

    def _dispatch(self, method: str) -> None:
        state = self.state
        server = state.owner
        path = urlsplit(self.path).path
        endpoint = path.rsplit("/", 1)[-1].removesuffix(".fcgi")
        params = {key: values[-1] for key, values in parse_qs(urlsplit(self.path).query).items()}
        if method == "POST":
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8", "replace")
            params.update({key: values[-1] for key, values in parse_qs(body).items()})
        api_key = params.pop("api_key", None)
        if endpoint not in ("esearch", "efetch"):
            self._finish(
                endpoint="other",
                method=method,
                params=params,
                api_key=api_key,
                status=404,
                body=b"not found",
                content_type="text/plain",
            )
            return
        now = time.monotonic()
        with state.lock:
            state.sequence += 1
            state.endpoint_sequence[endpoint] += 1
            sequence = state.sequence
            endpoint_sequence = state.endpoint_sequence[endpoint]
            if api_key:
                state.api_keys_seen.add(api_key)
            limited = self._rate_limited(api_key, now) if server.rate_limit else None
            fault = None
            if limited is None:
                fault = server.faults.pick(sequence, endpoint, endpoint_sequence)
        record = {
            "sequence": sequence,
            "endpoint": endpoint,
            "method": method,
            "params": params,
            "api_key": api_key,
        }
        if limited is not None:
            count, limit, wait = limited
            body = json.dumps(
                {"error": "API rate limit exceeded", "count": str(count), "limit": str(limit)}
            ).encode()
            self._finish(
                **record,
                status=429,
                body=body,
                content_type="application/json",
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
            return
        if server.delay:
            state.stop.wait(server.delay)
        if fault in ("500", "502", "503", "429"):
            self._send_fault_status(record, fault)
            return
        if fault == "hang":
            self._log(record, status=0, fault=fault)
            state.stop.wait(server.hang_seconds)
            self.close_connection = True
            return
        if fault == "reset":
            self._log(record, status=0, fault=fault)
            # SO_LINGER 0 makes close() send RST: the client sees "connection reset by peer".
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.rfile.close()
            self.wfile.close()
            self.connection.close()
            self.close_connection = True
            return
        if fault == "error":
            self._finish(
                **record,
                status=200,
                body=_error_body(endpoint),
                content_type="text/xml; charset=UTF-8",
                fault=fault,
            )
            return
        if endpoint == "efetch" and fault in ("expire", "drift"):
            self._disturb_history(params, fault)
        try:
            body = self._esearch(params) if endpoint == "esearch" else self._efetch(params)
        except _HTTPResponseError as response:
            self._finish(
                **record,
                status=response.status,
                body=response.body,
                content_type=response.content_type,
                headers=response.headers,
            )
            return
        if endpoint == "esearch" and fault == "drift":
            self._drift_query(params.get("term", "").strip())
        if fault == "truncate":
            body = body[: max(1, len(body) // 2)]
        elif endpoint == "efetch" and fault in ("short", "undeclared", "entity"):
            body = _spoil_payload(body, fault)
        self._finish(
            **record, status=200, body=body, content_type="text/xml; charset=UTF-8", fault=fault
        )

    def _drift_query(self, term: str) -> None:
        """After this esearch page, a record joins the query's result at its head: the pages
        that follow shift by one, as PubMed's do when a record is added mid-search."""
        with self.state.lock:
            cached = self.state.query_cache.get(term)
            if cached is None:
                return
            pmids, translation = cached
            newcomer = self._newcomer(set(pmids))
            if newcomer is not None:
                self.state.query_cache[term] = ([newcomer, *pmids], translation)

    def _newcomer(self, held: set[int]) -> int | None:
        """The newest stored record outside ``held`` (a record 'added' to PubMed)."""
        store = self.state.owner.store.records
        return next((pmid for pmid in sorted(store, reverse=True) if pmid not in held), None)

    def _disturb_history(self, params: Mapping[str, str], fault: str) -> None:
        """ "expire": forget the WebEnv; "drift": a record joins the stored result at its head."""
        webenv = params.get("WebEnv")
        with self.state.lock:
            if fault == "expire":
                self.state.histories.pop(str(webenv), None)
                return
            history = self.state.histories.get(str(webenv), {}).get(str(params.get("query_key")))
            if history is None:
                return
            newcomer = self._newcomer(set(history.pmids))
            if newcomer is not None:
                history.pmids.insert(0, newcomer)

    def _rate_limited(self, api_key: str | None, now: float) -> tuple[int, int, float] | None:
        """(count, limit, seconds to wait) if this request exceeds NCBI's limit, else None."""
        limit = 10 if api_key else 3
        window = self.state.rate_windows.setdefault(api_key, deque())
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) >= limit:
            return len(window) + 1, limit, window[0] + 1.0 - now
        window.append(now)
        return None

    def _send_fault_status(self, record: dict[str, Any], fault: str) -> None:
        status = int(fault)
        headers: dict[str, str] = {}
        if status == 429:
            body = json.dumps(
                {"error": "API rate limit exceeded", "count": "4", "limit": "3"}
            ).encode()
            content_type = "application/json"
            if self.state.owner.retry_after is not None:
                headers["Retry-After"] = self.state.owner.retry_after
        else:
            reason = self.responses.get(status, ("Error",))[0]
            body = f"<html><body><h1>{status} {reason}</h1></body></html>".encode()
            content_type = "text/html"
        self._finish(
            **record,
            status=status,
            body=body,
            content_type=content_type,
            headers=headers,
            fault=fault,
        )

    def _finish(
        self,
        *,
        sequence: int = 0,
        endpoint: str,
        method: str,
        params: dict[str, str],
        api_key: str | None,
        status: int,
        body: bytes,
        content_type: str,
        headers: Mapping[str, str] | None = None,
        fault: str | None = None,
    ) -> None:
        record = {
            "sequence": sequence,
            "endpoint": endpoint,
            "method": method,
            "params": params,
            "api_key": api_key,
        }
        self._log(record, status=status, fault=fault)
        full_length = len(body)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(full_length))
        self.send_header("Date", formatdate(usegmt=True))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)

    def _log(self, record: Mapping[str, Any], *, status: int, fault: str | None) -> None:
        entry = RequestRecord(
            sequence=record["sequence"],
            endpoint=record["endpoint"],
            method=record["method"],
            params=dict(record["params"]),
            has_api_key=bool(record["api_key"]),
            status=status,
            fault=fault,
            received_at=time.time(),
        )
        with self.state.lock:
            self.state.log.append(entry)

    # esearch ----------------------------------------------------------------------------------

    def _esearch(self, params: Mapping[str, str]) -> bytes:
        state = self.state
        if params.get("db", "pubmed") != "pubmed":
            return _esearch_error(f"Invalid db name specified: {params.get('db')}")
        if params.get("retmode", "xml") != "xml":
            raise _bad_request("this test server only answers retmode=xml")
        term = params.get("term", "").strip()
        if not term:
            return _esearch_error("Empty term and query_key - nothing todo")
        try:
            retstart = int(params.get("retstart", "0"))
            retmax = int(params.get("retmax", "20"))
        except ValueError:
            raise _bad_request("retstart and retmax must be integers") from None
        try:
            with state.lock:
                cached = state.query_cache.get(term)
            if cached is None:
                cached = evaluate_query(state.owner.store, term)
                with state.lock:
                    state.query_cache[term] = cached
            pmids, translation = cached
            pmids, date_clause = self._filter_dates(pmids, params)
        except QuerySyntaxError as error:
            return _esearch_error(f"Invalid query: {error}")
        if date_clause:
            translation = f"({translation}) AND {date_clause}" if translation else date_clause
        if retstart > MAX_RETRIEVABLE - 1:
            return _esearch_error(RETSTART_CAP_ERROR)
        retmax = max(0, min(retmax, MAX_RETMAX))
        count = len(pmids)
        end = min(retstart + retmax, count, MAX_RETRIEVABLE)
        ids = pmids[retstart:end] if retstart < end else []
        warnings = []
        if retstart + retmax > MAX_RETRIEVABLE and count > MAX_RETRIEVABLE:
            warnings.append(
                f"Restrictions achieved. start and count adjusted to {retstart}, {len(ids)}"
            )
        history = ""
        if params.get("usehistory", "").lower() == "y":
            webenv, query_key = self._remember(params.get("WebEnv"), pmids)
            history = f"<QueryKey>{query_key}</QueryKey><WebEnv>{webenv}</WebEnv>"
        id_list = "".join(f"<Id>{pmid}</Id>\n" for pmid in ids)
        warning_list = ""
        if warnings:
            warning_list = (
                "<WarningList>"
                + "".join(f"<OutputMessage>{escape(text)}</OutputMessage>" for text in warnings)
                + "</WarningList>"
            )
        elif count == 0:
            warning_list = (
                "<WarningList><OutputMessage>No items found.</OutputMessage></WarningList>"
            )
        text = (
            f"{ESEARCH_HEADER}<eSearchResult><Count>{count}</Count><RetMax>{len(ids)}</RetMax>"
            f"<RetStart>{retstart}</RetStart>{history}<IdList>\n{id_list}</IdList>"
            f"<TranslationSet/><QueryTranslation>{escape(translation)}</QueryTranslation>"
            f"{warning_list}</eSearchResult>\n"
        )
        return text.encode("utf-8")

    def _filter_dates(
        self, pmids: list[int], params: Mapping[str, str]
    ) -> tuple[list[int], str | None]:
        mindate, maxdate = params.get("mindate"), params.get("maxdate")
        if not mindate and not maxdate:
            return pmids, None
        datetype = params.get("datetype", "pdat")
        if datetype not in ("pdat", "edat", "mdat"):
            raise QuerySyntaxError(f"datetype {datetype!r} is not served (use pdat, edat or mdat)")
        low = _parse_date(mindate or "1000", end=False)
        high = _parse_date(maxdate or "3000", end=True)
        records = self.state.owner.store.records
        kept = []
        for pmid in pmids:
            record = records[pmid]
            day = {"pdat": record.pdat, "edat": record.edat, "mdat": record.mdat}[datetype]
            # an undated record is in every publication window (nothing says it is outside),
            # but was modified in none
            if (day is None and datetype != "mdat") or (day is not None and low <= day <= high):
                kept.append(pmid)
        label = {
            "pdat": "Date - Publication",
            "edat": "Date - Entry",
            "mdat": "Date - Modification",
        }[datetype]
        clause = f"{low:%Y/%m/%d}:{high:%Y/%m/%d}[{label}]"
        return kept, clause

    def _remember(self, webenv: str | None, pmids: list[int]) -> tuple[str, str]:
        with self.state.lock:
            histories = self.state.histories
            if not webenv or webenv not in histories:
                webenv = f"MCID_{len(histories) + 1:024d}"
                histories[webenv] = {}
            query_key = str(len(histories[webenv]) + 1)
            histories[webenv][query_key] = _History(list(pmids))
        return webenv, query_key

    # efetch -----------------------------------------------------------------------------------

    def _efetch(self, params: Mapping[str, str]) -> bytes:
        if params.get("db", "pubmed") != "pubmed":
            raise _bad_request(f"Invalid db name specified: {params.get('db')}")
        if params.get("retmode", "xml") != "xml":
            raise _bad_request("this test server only answers retmode=xml")
        store = self.state.owner.store
        if "id" in params:
            wanted = []
            for item in params["id"].split(","):
                item = item.strip()
                if not item.isdigit():
                    raise _bad_request(f"Invalid uid {item!r} at position 0")
                wanted.append(int(item))
            pmids = list(dict.fromkeys(wanted))
        elif "WebEnv" in params and "query_key" in params:
            with self.state.lock:
                history = self.state.histories.get(params["WebEnv"], {}).get(params["query_key"])
            if history is None:
                body = (
                    f"{EFETCH_ERROR_HEADER}<eFetchResult>\n\t<ERROR>Unable to obtain query "
                    f"#{escape(params['query_key'])}</ERROR>\n</eFetchResult>\n"
                ).encode()
                raise _HTTPResponseError(400, body, "text/xml; charset=UTF-8", {})
            try:
                retstart = int(params.get("retstart", "0"))
                retmax = int(params.get("retmax", "20"))
            except ValueError:
                raise _bad_request("retstart and retmax must be integers") from None
            pmids = history.pmids[retstart : retstart + max(0, retmax)]
        else:
            raise _bad_request("give id=... or WebEnv and query_key")
        parts = [PUBMED_HEADER, b"<PubmedArticleSet>\n"]
        for pmid in pmids:
            # a PMID PubMed merged into another serves the record it was replaced by
            raw = store.raw(store.replaced.get(pmid, pmid))
            if raw is not None:
                parts += [raw, b"\n"]
        parts.append(b"</PubmedArticleSet>\n")
        return b"".join(parts)


def _spoil_payload(body: bytes, fault: str) -> bytes:
    """An efetch payload spoilt as ``fault`` says (see PAYLOAD_FAULT_KINDS)."""
    if fault == "entity":
        return BILLION_LAUGHS
    if fault == "undeclared":
        return body.replace(
            b"</MedlineCitation>", b"<NotInTheDTD>x</NotInTheDTD></MedlineCitation>", 1
        )
    matches = list(_ARTICLE_PATTERN.finditer(body))
    if not matches:
        return body
    last = matches[-1]
    return body[: last.start()] + body[last.end() :]


def _bad_request(message: str) -> _HTTPResponseError:
    body = (
        f"{EFETCH_ERROR_HEADER}<eFetchResult>\n\t<ERROR>{escape(message)}</ERROR>\n"
        "</eFetchResult>\n"
    ).encode()
    return _HTTPResponseError(400, body, "text/xml; charset=UTF-8", {})


def _esearch_error(message: str) -> bytes:
    return (
        f"{ESEARCH_HEADER}<eSearchResult><ERROR>{escape(message)}</ERROR></eSearchResult>\n"
    ).encode()


def _error_body(endpoint: str) -> bytes:
    """The <ERROR> answer NCBI gives when its backend hiccups."""
    if endpoint == "esearch":
        return _esearch_error("Search Backend failed: temporarily unavailable, try again")
    return (
        f"{EFETCH_ERROR_HEADER}<eFetchResult>\n\t<ERROR>Unable to fetch records: backend "
        "temporarily unavailable</ERROR>\n</eFetchResult>\n"
    ).encode()


# --------------------------------------------------------------------------------------------
# CLI: litreview fake-eutils
# --------------------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``litreview fake-eutils``."""
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--store",
        type=Path,
        metavar="DIR",
        help="folder of PubMed XML files (*.xml, *.xml.gz), optional queries.json",
    )
    source.add_argument(
        "--synthetic", type=int, metavar="N", help="serve N generated records instead of a store"
    )
    source.add_argument(
        "--snapshot",
        type=Path,
        metavar="DIR",
        help="serve a litreview snapshot folder: its payloads, and its query answered with its "
        "PMIDs (a live run against it reproduces the snapshot)",
    )
    parser.add_argument(
        "--port", type=int, default=0, help="port on 127.0.0.1 (default 0: any free port)"
    )
    parser.add_argument(
        "--rate-limit",
        action="store_true",
        help="enforce NCBI's 3 requests/s (10/s with api_key) with HTTP 429",
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="SPEC",
        help="fail a request: N:KIND or esearch@N:KIND / efetch@N:KIND; "
        f"KIND in {', '.join(FAULT_KINDS + PAYLOAD_FAULT_KINDS)} (repeatable)",
    )
    parser.add_argument(
        "--fault-rate",
        type=float,
        default=0.0,
        metavar="P",
        help="also fail each request with probability P",
    )
    parser.add_argument("--fault-seed", type=int, default=0, help="seed of the random faults")
    parser.add_argument(
        "--retry-after",
        default="1",
        help="Retry-After header sent with injected 429s (seconds or HTTP-date)",
    )
    parser.add_argument(
        "--hang-seconds",
        type=float,
        default=5.0,
        help="how long a 'hang' fault holds the connection",
    )


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted; print the base URL first so scripts can read it."""
    try:
        faults = FaultPlan.from_specs(args.fault, probability=args.fault_rate, seed=args.fault_seed)
    except ValueError as error:
        raise LitReviewError(f"--fault: {error}") from None
    with contextlib.ExitStack() as stack:
        store = args.store
        if args.snapshot is not None:
            import tempfile

            store = store_from_snapshot(
                args.snapshot, Path(stack.enter_context(tempfile.TemporaryDirectory()))
            )
        return _serve(args, store, faults)


def store_from_snapshot(snapshot: Path, folder: Path) -> Path:
    """A store in `folder` from a snapshot: its PubMed payloads, and queries.json mapping the
    snapshot's query to its PMIDs (so the server answers exactly as the search did)."""
    manifest_path = snapshot / "manifest.json"
    if not manifest_path.is_file():
        raise InputFileError(snapshot, "not a litreview snapshot (no manifest.json)")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    # records an incremental snapshot takes from earlier payloads first, its own after (a
    # record both hold is served in its newer version)
    payloads = [
        snapshot.parent / str(entry["snapshot"]) / str(entry["file"])
        for entry in manifest.get("reused") or []
    ]
    payloads += [
        path
        for path in sorted(snapshot.rglob("*.xml.gz"))
        if path.relative_to(snapshot).parts[0] != "esearch"
    ]
    for number, path in enumerate(payloads, 1):
        (folder / f"{number:05d}-{path.name}").write_bytes(path.read_bytes())
    ids = [int(line) for line in (snapshot / "ids.txt").read_text().split() if line.strip()]
    (folder / "queries.json").write_text(json.dumps({manifest["query"]: ids}), encoding="utf-8")
    return folder


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _serve(args: argparse.Namespace, store: Path | None, faults: FaultPlan) -> int:
    server = EutilsServer(
        store,
        synthetic=args.synthetic,
        port=args.port,
        rate_limit=args.rate_limit,
        faults=faults,
        retry_after=args.retry_after,
        hang_seconds=args.hang_seconds,
    )
    # Ctrl-C (and SIGTERM) stop the server even when it was started in the background of a
    # script, where SIGINT is inherited as ignored
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    with server:
        try:  # Ctrl-C at any point once serving (even while printing) stops it cleanly
            print(server.base_url, flush=True)
            print(
                f"serving {server.store.description} ({len(server.store)} records); Ctrl-C to stop",
                file=sys.stderr,
                flush=True,
            )
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            print("stopped", file=sys.stderr)
    return 0
