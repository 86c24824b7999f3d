"""Find duplicate records (the same work found twice) and keep the richest copy of each.

Two stages, both explainable record by record:

1. exact: records sharing a normalised DOI, PMID or PMCID are the same work (union-find). A
   DOI shared by clearly different titles is a supplement's DOI given to each of its
   abstracts, and does not join them (`shared_doi_title_similarity`).
2. fuzzy: candidate pairs come from blocking keys (title prefix, title suffix, the two rarest
   title words, first author + initial + year, volume + first page); only records sharing a
   key are compared, and oversized blocks by sorted neighbourhood, so cost grows
   near-linearly with the number of records. A pair is a duplicate when its normalised
   titles are similar (rapidfuzz Indel; typos, case, accents, markup, truncation) and first
   author, year, journal (abbreviation-aware), volume and pages agree enough; or when the
   whole citation (author, year, journal, volume, pages) agrees and the titles are related
   (a translated or shortened title).

Rules keep distinct works apart: an erratum, retraction notice, expression of concern,
comment or reply never merges with an article; a conference abstract does not merge with a
full paper (unless configured); different DOIs or PMIDs never merge (unless configured);
titles that differ in their numbers ("part 1" / "part 2") or records in different issues do
not merge; and every fuzzy merge is checked against both whole groups (complete linkage on
the hard conflicts and a title floor), so a chain A~B~C cannot join two distinct works
through a record in between.

The module is pure: a DataFrame in, a `DedupResult` of DataFrames out, byte-identical for the
same input.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from rapidfuzz.distance import Indel

from litreview.errors import ConfigError, ValidationError
from litreview.ids import (
    WHOLE_BRACKETS as _WHOLE_BRACKETS,
)
from litreview.ids import (
    doi_in,
    normalise_text,
    normalise_title,
    pmcid_in,
    pmid_in,
    year_in,
)
from litreview.ids import strip_title_notes as _strip_notes


@dataclass(frozen=True)
class DedupSettings:
    """Every threshold and switch of deduplication (config section ``dedup:``)."""

    title_similarity: float = 0.90
    """Title similarity (0-1, rapidfuzz Indel) to merge when first author and year agree."""

    title_similarity_with_details: float = 0.80
    """Lower title similarity accepted when the first author and two of journal, volume and
    pages agree (all three if a record lacks authors)."""

    title_similarity_without_author: float = 0.95
    """Title similarity to merge when a record lacks authors (and no detail conflicts)."""

    title_similarity_author_conflict: float = 0.97
    """Title similarity to merge despite differing first authors (needs volume and page)."""

    group_title_similarity: float = 0.70
    """Every two titled records in a fuzzy-merged group must be this similar (unless their
    whole citation agrees or one title is a translation): no drifting chains."""

    year_tolerance: int = 1
    """Years may differ by this much (online vs print year); more is a hard conflict."""

    preprint_year_tolerance: int = 3
    """A preprint and its journal version may lie this many years apart (and have different
    DOIs); they merge when the first author agrees and the titles reach title_similarity."""

    short_title_words: int = 4
    """Titles with fewer words than this (e.g. "Editorial") need volume or page agreement."""

    truncated_title_min_length: int = 50
    """A title at least this long (characters) that is nearly the start of the other is
    compared with that start only: a truncated export, not a different work."""

    shared_doi_title_similarity: float = 0.70
    """Records sharing a DOI merge unless their titles are less similar than this (a
    supplement's DOI given to each of its abstracts); 0 merges every shared DOI."""

    merge_different_dois: bool = False
    """If true, two different DOIs do not prevent a fuzzy merge (a shared DOI merges anyway,
    see shared_doi_title_similarity)."""

    merge_different_pmids: bool = False
    """If true, two different PMIDs (or PMCIDs) do not prevent a fuzzy merge."""

    conference_abstract_merges_with_article: bool = False
    """If true, a conference abstract and a full paper with the same title may merge."""

    max_block_size: int = 30
    """Blocks larger than this are compared by sorted neighbourhood instead of all pairs."""

    neighbourhood_window: int = 10
    """In an oversized block, each record is compared with this many title-sorted neighbours."""

    fill_missing_fields: bool = False
    """If true, empty fields of a kept record are filled from its duplicates (listed in `filled`)."""

    def __post_init__(self) -> None:
        """Similarities lie in 0-1 and counts are not negative: a wrong value fails at once."""
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if isinstance(value, float) and not 0.0 <= value <= 1.0:
                raise ConfigError(f"dedup.{item.name}: {value} is not between 0 and 1")
            if isinstance(value, int) and not isinstance(value, bool) and value < 0:
                raise ConfigError(f"dedup.{item.name}: {value} is negative")
        if self.max_block_size < 2 or self.neighbourhood_window < 1:
            raise ConfigError("dedup: max_block_size must be >= 2 and neighbourhood_window >= 1")

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any] | None) -> DedupSettings:
        """Settings from a config mapping; an unknown key or a wrong type fails at once."""
        if not mapping:
            return cls()
        known = {item.name: item for item in dataclasses.fields(cls)}
        unknown = sorted(set(mapping) - set(known))
        if unknown:
            raise ConfigError(
                f"dedup: unknown setting(s) {', '.join(unknown)}; known: {', '.join(known)}"
            )
        values: dict[str, Any] = {}
        for name, value in mapping.items():
            expected = type(getattr(cls(), name))
            if expected is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
                raise ConfigError(f"dedup.{name}: expected {expected.__name__}, got {value!r}")
            values[name] = value
        return cls(**values)


@dataclass(frozen=True)
class DedupResult:
    """What deduplication decided, in tables a reviewer can read.

    `records`: one row per input record (record_id, cluster_id, kept, reason, score); the
    cluster of a record is named after its kept record. `duplicates`: one row per removed record
    (group_id, kept_record, merged_record, matched_record, rule, score), where `matched_record`
    is the record whose comparison brought it into the group. `deduplicated`: the kept input
    rows in input order. `filled`: the fields copied into kept records (when enabled).
    """

    records: pd.DataFrame
    duplicates: pd.DataFrame
    deduplicated: pd.DataFrame
    filled: pd.DataFrame
    records_in: int
    duplicates_removed: int
    records_out: int

    @property
    def prisma_counts(self) -> dict[str, int]:
        """The counts of the PRISMA identification box."""
        return {
            "records_in": self.records_in,
            "duplicates_removed": self.duplicates_removed,
            "records_out": self.records_out,
        }


# --------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------

# Words that set one work apart from a near-identical other: the population, the report, the
# state of the disease. Words of one concept are interchangeable (paediatric = children); two
# titles naming different concepts ("in paediatric participants" / "in adult participants",
# "interim" / "final results", "resistant to" / "on chronic") are different works, however
# similar the rest. Generic research vocabulary, not any one review's.
CONTRAST_CONCEPTS: dict[str, tuple[str, ...]] = {
    "children": ("paediatric", "pediatric", "child", "children", "childhood", "kids",
                 "schoolchildren", "boys", "girls"),
    "infants": ("infant", "infants", "neonatal", "neonate", "neonates", "newborn", "newborns",
                "preterm"),
    "adolescents": ("adolescent", "adolescents", "adolescence", "teenagers", "teens", "youth"),
    "adults": ("adult", "adults"),
    "older": ("elderly", "older", "geriatric", "seniors"),
    "women": ("women", "woman", "female", "females"),
    "men": ("men", "man", "male", "males"),
    "interim": ("interim", "preliminary"),
    "final": ("final",),
    "resistant": ("resistant", "refractory", "nonresponders", "intolerant"),
    "naive": ("naive", "untreated"),
    "chronic": ("chronic",),
    "acute": ("acute",),
    "relapsed": ("relapsed", "relapsing", "recurrent"),
    "advanced": ("advanced", "metastatic"),
    "early": ("early",),
}  # fmt: skip
_CONCEPT_OF = {word: concept for concept, words in CONTRAST_CONCEPTS.items() for word in words}
_PREPRINT = re.compile(
    r"\b(?:arxiv|biorxiv|medrxiv|psyarxiv|socarxiv|chemrxiv|edarxiv|research square|ssrn|"
    r"preprints?|osf preprints|authorea|techrxiv|eartharxiv)\b",
    re.IGNORECASE,
)

_ROMAN = {"ii": "2", "iii": "3", "iv": "4", "vi": "6", "vii": "7", "viii": "8", "ix": "9"}

_STOP_WORDS = frozenset(
    {"a", "an", "the", "of", "in", "on", "for", "and", "or", "to", "with", "by", "at", "from",
     "as", "is", "are", "be", "its", "their", "vs", "versus", "via", "de", "la", "le", "les",
     "des", "du", "et", "en", "el", "los", "las", "y", "del", "der", "die", "das", "und", "im"}
)  # fmt: skip


# Identifiers compare through the one set of normalisers (litreview.ids), lenient here: a field
# that holds no identifier is simply missing.
normalise_doi = doi_in
normalise_pmid = pmid_in
normalise_pmcid = pmcid_in
parse_year = year_in


_PAGE_RANGE = re.compile(
    r"^(?:pp?\.?\s*)?([a-z]{0,2})(\d+)[a-z]?(?:\s*[-\u2010-\u2015]+\s*([a-z]{0,2})(\d+)[a-z]?)?\b"
)


PageRange = tuple[int, int | None, bool]
_MONTH = re.compile(r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\b")


def page_ranges(value: str | None) -> tuple[PageRange, ...]:
    """(first, last, lettered) for each page range, "295-3" expanded to 295-303.

    "e1234", "S33" and "A12" give 1234, 33 and 12 with `lettered` true (an article number or
    a supplement page, not comparable with plain page numbers); "p. 63" is plain page 63.
    Several ranges ("233-8, 230-5") are kept.
    Values that are not page numbers give nothing: garbled exports ("Suppl-29", "t-8", "a")
    and what a spreadsheet made of pages ("2.05031E+15", "01-Oct" for 1-10).
    """
    if value is None:
        return ()
    text = value.strip().lower()
    if re.fullmatch(r"\d+(?:\.\d+)?e\+\d+", text) or _MONTH.search(text):
        return ()
    ranges: list[PageRange] = []
    for part in re.split(r"[,;+]", text):
        found = _PAGE_RANGE.search(part.strip())
        if not found or int(found.group(2)) < 1:
            continue
        first_text, last_text = found.group(2), found.group(4)
        last: int | None = None
        if last_text is not None:
            last = int(last_text)
            if len(last_text) < len(first_text):  # "1324-7" is 1324-1327, "295-3" is 295-303
                last = int(first_text[: len(first_text) - len(last_text)] + last_text)
                if last <= int(first_text):
                    last += 10 ** len(last_text)
            if last <= int(first_text):
                last = None
        ranges.append((int(first_text), last, bool(found.group(1))))
    return tuple(ranges)


def issue_number(value: str | None) -> str | None:
    """An issue number of one or two digits ("3", "03"); None for anything else ("Suppl 1",
    or a four-digit number, which in exports is more often a record number than an issue)."""
    if value is None:
        return None
    found = re.fullmatch(r"\s*(?:no\.?\s*)?0*(\d{1,2})\s*", value.lower())
    return found.group(1) if found else None


def first_number(value: str | None) -> str | None:
    """Leading number of a volume ("12 Suppl 1" -> "12")."""
    if value is None:
        return None
    found = re.search(r"\d+", value)
    return found.group(0).lstrip("0") or "0" if found else None


_INITIALS = re.compile(r"^(?:[A-Z]{1,3}|(?:[A-Z][a-z]?\.-?)+|[A-Z]\.?(?:-[A-Z]\.?)+)$")
_NAME_SUFFIX = re.compile(r"^(?:jr|sr|ii|iii|iv|2nd|3rd)\.?$", re.IGNORECASE)
_AUTHOR_SPLIT = re.compile(r"\s*;\s*|\s+and\s+")


@lru_cache(maxsize=262144)
def surname_tokens(name: str) -> tuple[str, ...]:
    """Normalised surname words of one author name, in any common layout.

    "Smith JA", "Smith, John A." and "J. A. Smith" all give ("smith",). A full "Given Surname"
    name without initials keeps both words: comparison is by any shared word.
    """
    name = name.strip()
    if not name:
        return ()
    if "," in name:
        surname = name.split(",", 1)[0]
    else:
        words = [word for word in name.split() if not _NAME_SUFFIX.match(word)]
        while len(words) > 1 and _INITIALS.match(words[-1]):
            words.pop()
        while len(words) > 1 and _INITIALS.match(words[0]):
            words.pop(0)
        surname = " ".join(words)
    return tuple(word for word in normalise_text(surname).split() if len(word) > 1)


@lru_cache(maxsize=262144)
def given_initial(name: str) -> str:
    """First initial of an author's given names ("Smith JA", "Smith, John", "J. A. Smith" -> "j");
    empty if the name shows none."""
    name = name.strip()
    if "," in name:
        given = normalise_text(name.split(",", 1)[1])
        return given[:1]
    words = [word for word in name.split() if not _NAME_SUFFIX.match(word)]
    if len(words) > 1 and _INITIALS.match(words[-1]):
        return normalise_text(words[-1])[:1]
    if len(words) > 1 and _INITIALS.match(words[0]):
        return normalise_text(words[0])[:1]
    return ""


@lru_cache(maxsize=65536)
def journal_tokens(value: str | None) -> tuple[str, ...]:
    """Journal words without stop words, for abbreviation-aware comparison."""
    if value is None:
        return ()
    return tuple(word for word in normalise_text(value).split() if word not in _STOP_WORDS)


@lru_cache(maxsize=65536)
def journals_agree(first: tuple[str, ...], second: tuple[str, ...]) -> bool:
    """True if two journal names are the same journal, one perhaps abbreviated.

    One word list must match, in order, words of the other, each word an abbreviation of its
    match (a prefix, "curr" ~ "current", or its letters in order, "dtsch" ~ "deutsche");
    extra words are allowed ("Lancet" ~ "Lancet (London, England)"). Names garbled by lost
    characters ("fran?aises") agree when their text is 90% similar.
    """
    if first == second:
        return True
    if _abbreviates(first, second) or _abbreviates(second, first):
        return True
    if _acronym_of(first, second) or _acronym_of(second, first):
        return True
    return Indel.normalized_similarity(" ".join(first), " ".join(second)) >= 0.9


def _acronym_of(acronyms: tuple[str, ...], words: tuple[str, ...]) -> bool:
    """True if a word of one name is the initials of consecutive words of the other
    ("icis" ~ "International Conference on Information Systems")."""
    initials = "".join(word[0] for word in words)
    return any(
        3 <= len(word) <= 8 and word.isalpha() and word in initials and word not in words
        for word in acronyms
    )


def _abbreviates(short: tuple[str, ...], long: tuple[str, ...]) -> bool:
    position = 0
    for word in short:
        while position < len(long) and not _abbreviates_word(word, long[position]):
            position += 1
        if position == len(long):
            return False
        position += 1
    return True


def _abbreviates_word(word: str, full: str) -> bool:
    if full.startswith(word):
        return True
    if word[0] != full[0] or len(word) < 3:
        return False
    remaining = iter(full)
    return all(letter in remaining for letter in word)


# --------------------------------------------------------------------------------------------
# Kinds of record that must stay apart
# --------------------------------------------------------------------------------------------

ARTICLE = "article"
_KIND_TITLE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "erratum",
        re.compile(
            r"^(?:erratum|errata|corrigendum|corrigenda|addendum)\b"
            r"|^(?:author|publisher)(?:'?s)? correction\b|^corrections?\s*(?:to\b|:|-|\[|$)"
            r"|\b(?:erratum|corrigendum|correction to)\b|\(vol\.? ?\d+,? (?:pg|p)\.? ?\d+"
            r"|^notice of correction\b"
        ),
    ),
    (
        "retraction_notice",
        re.compile(r"^(?:retraction(?: note| notice| statement)?|notice of retraction)\b(?!ed)"),
    ),
    ("expression_of_concern", re.compile(r"^(?:editorial )?expression of concern\b")),
    (
        "reply",
        re.compile(
            r"^(?:in )?reply\b|^(?:the )?authors?'?s?'? (?:reply|response)\b"
            r"|^response\s*(?::|to (?:the )?(?:letter|comments?|commentary|editorial|"
            r"correspondence|critique|dr\b|drs\b|reader|[\"'“‘]))"
        ),
    ),
    (
        "comment",
        re.compile(
            r"^(?:comments?|commentary)\s*(?:on\b|to\b|:|-)|^re\s*:|^letter to the editor\b"
            r"|^letter\s*:|^correspondence\s*:"
        ),
    ),
)
_KIND_PUBLICATION_TYPES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("erratum", ("published erratum", "erratum", "correction")),
    ("retraction_notice", ("retraction of publication", "retraction notice")),
    ("expression_of_concern", ("expression of concern",)),
    ("comment", ("comment",)),
)
_KIND_FLAGS = (
    ("is_erratum", "erratum"),
    ("is_retraction_notice", "retraction_notice"),
    ("is_expression_of_concern", "expression_of_concern"),
)
_TRUE_WORDS = frozenset({"true", "1", "yes", "y", "t"})


def record_kind(
    title: str | None, publication_types: str | None, flags: Mapping[str, str | None]
) -> str:
    """What a record is: "article" or a notice about another work (erratum, comment, ...)."""
    for column, kind in _KIND_FLAGS:
        value = flags.get(column)
        if value is not None and value.strip().lower() in _TRUE_WORDS:
            return kind
    if publication_types:
        types = {item.strip().lower() for item in publication_types.split(";")}
        for kind, names in _KIND_PUBLICATION_TYPES:
            if types.intersection(names):
                return kind
    if title:
        # "X [Erratum appears in Y]" is the article X, not an erratum.
        text = _strip_notes(title)
        if not text.isascii():
            text = unicodedata.normalize("NFKD", text)
        text = text.lower().strip(" [(\"'")
        for kind, pattern in _KIND_TITLE_PATTERNS:
            if pattern.search(text):
                return kind
    return ARTICLE


_CONFERENCE_ENTRY_TYPES = frozenset(
    {"inproceedings", "conference", "proceedings", "abstract", "conference paper",
     "conference abstract", "meeting abstract", "poster", "conference_paper"}
)  # fmt: skip
_CONFERENCE_PUBLICATION_TYPES = frozenset(
    {"congress", "meeting abstract", "conference paper", "conference abstract",
     "conference review", "clinical conference", "consensus development conference"}
)  # fmt: skip
_CONFERENCE_WORDS = re.compile(
    r"\b(?:meetings?|congress|abstracts?|astracts|conference|symposium|scientific sessions"
    r"|colloquium|workshop|supplement|suppl)\b"
)
_PROCEEDINGS_OF_EVENT = re.compile(
    r"\bproceedings\b.*(?:\b(?:19|20)\d\d\b|\b\d+(?:st|nd|rd|th)\b|\bannual\b|\binternational\b)"
    r"|(?:\b(?:19|20)\d\d\b|\b\d+(?:st|nd|rd|th)\b|\bannual\b).*\bproceedings\b"
)


def is_conference_record(
    entry_type: str | None,
    publication_types: str | None,
    venue_texts: Iterable[str | None],
) -> bool:
    """True for a conference abstract or paper: entry type, publication type or venue words.

    "Proceedings" counts only with an event marker (year, ordinal, "annual", "international"),
    so journals such as "Proceedings of the National Academy of Sciences" stay journals.
    """
    if entry_type and entry_type.strip().lower() in _CONFERENCE_ENTRY_TYPES:
        return True
    if publication_types:
        types = {item.strip().lower() for item in publication_types.split(";")}
        if types.intersection(_CONFERENCE_PUBLICATION_TYPES):
            return True
    return any(text and _names_an_event(text) for text in venue_texts)


@lru_cache(maxsize=65536)
def _names_an_event(text: str) -> bool:
    words = normalise_text(text)
    return bool(_CONFERENCE_WORDS.search(words) or _PROCEEDINGS_OF_EVENT.search(words))


_THOUSANDS = re.compile(r"\b\d{1,3}(?: \d{3})+\b")


def title_numbers(title: str) -> frozenset[str]:
    """Numbers in a normalised title ("beta3" and "beta 3" give 3), Roman numerals as digits
    ("part ii" -> "2", "type ii" = "type 2")."""
    title = _THOUSANDS.sub(lambda found: found.group(0).replace(" ", ""), title)  # "10 000"
    numbers = {number.lstrip("0") or "0" for number in re.findall(r"\d+", title)}
    numbers.update(_ROMAN[word] for word in title.split() if word in _ROMAN)
    return frozenset(numbers)


# --------------------------------------------------------------------------------------------
# Prepared records
# --------------------------------------------------------------------------------------------


@dataclass
class _Prepared:
    """Normalised fields of every record, as plain lists indexed like the input rows."""

    record_ids: list[str]
    titles: list[str | None]
    translated: list[bool]
    title_words: list[tuple[str, ...]]
    numbers: list[frozenset[str]]
    years: list[int | None]
    first_authors: list[tuple[str, ...]]
    first_initials: list[str]
    all_authors: list[frozenset[str]]
    journals: list[tuple[tuple[str, ...], ...]]
    volumes: list[str | None]
    issues: list[str | None]
    pages: list[tuple[PageRange, ...]]
    dois: list[str | None]
    pmids: list[str | None]
    pmcids: list[str | None]
    kinds: list[str]
    conference: list[bool]
    priority: list[tuple[int, int]] = field(default_factory=list)
    concepts: list[frozenset[str]] = field(default_factory=list)
    preprint: list[bool] = field(default_factory=list)


def _column(records: pd.DataFrame, name: str) -> list[str | None]:
    """A column as stripped strings, None where missing or blank; all None if absent."""
    if name not in records.columns:
        return [None] * len(records)
    values: list[str | None] = []
    for value in records[name].tolist():
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            values.append(None)
        else:
            text = str(value).strip()
            values.append(text or None)
    return values


def _prepare(records: pd.DataFrame) -> _Prepared:
    """Normalise every field the comparison uses, once per record."""
    columns = {name: _column(records, name) for name in records.columns}
    size = len(records)

    def get(name: str) -> list[str | None]:
        return columns.get(name) or [None] * size

    record_ids = [str(value) for value in records["record_id"].tolist()]
    raw_titles = get("title")
    stripped_titles = [None if value is None else _strip_notes(value) for value in raw_titles]
    translated = [
        value is not None and _WHOLE_BRACKETS.match(value) is not None for value in stripped_titles
    ]
    titles = [normalise_title(value) for value in stripped_titles]
    title_words = [tuple(title.split()) if title else () for title in titles]
    numbers = [title_numbers(title) if title else frozenset() for title in titles]
    first_author_column, authors_column = get("first_author"), get("authors")
    first_authors: list[tuple[str, ...]] = []
    first_initials: list[str] = []
    all_authors: list[frozenset[str]] = []
    for first, authors in zip(first_author_column, authors_column, strict=True):
        names = _AUTHOR_SPLIT.split(authors) if authors else []
        first_name = first if first and surname_tokens(first) else (names[0] if names else "")
        first_tokens = surname_tokens(first_name)
        first_authors.append(first_tokens)
        first_initials.append(given_initial(first_name) if first_tokens else "")
        everyone = set(first_tokens)
        for name in names:
            everyone.update(surname_tokens(name))
        all_authors.append(frozenset(everyone))
    journal_column, abbrev_column = get("journal"), get("journal_abbrev")
    journals = [
        tuple(tokens for tokens in (journal_tokens(a), journal_tokens(b)) if tokens)
        for a, b in zip(journal_column, abbrev_column, strict=True)
    ]
    publication_types = get("publication_types")
    flag_columns = {name: get(name) for name, _ in _KIND_FLAGS}
    kinds = [
        record_kind(
            stripped_titles[row],
            publication_types[row],
            {name: values[row] for name, values in flag_columns.items()},
        )
        for row in range(size)
    ]
    entry_types, volumes_raw, issues, pages_raw = (
        get("entry_type"),
        get("volume"),
        get("issue"),
        get("pages"),
    )
    conference = [
        is_conference_record(
            entry_types[row],
            publication_types[row],
            (journal_column[row], abbrev_column[row], volumes_raw[row], issues[row]),
        )
        for row in range(size)
    ]
    pmids = [normalise_pmid(value) for value in get("pmid")]
    sources = get("source")
    non_missing = [0] * size
    for values in columns.values():
        for row, value in enumerate(values):
            if value is not None:
                non_missing[row] += 1
    priority = [
        (
            2 if (sources[row] or "").lower() == "pubmed" else int(pmids[row] is not None),
            non_missing[row],
        )
        for row in range(size)
    ]
    concepts = [
        frozenset(_CONCEPT_OF[word] for word in words if word in _CONCEPT_OF)
        for words in title_words
    ]
    preprint = [
        any(
            value is not None and _PREPRINT.search(value)
            for value in (journal_column[row], abbrev_column[row], publication_types[row],
                          entry_types[row])
        )
        for row in range(size)
    ]  # fmt: skip
    return _Prepared(
        concepts=concepts,
        preprint=preprint,
        record_ids=record_ids,
        titles=titles,
        translated=translated,
        title_words=title_words,
        numbers=numbers,
        years=[parse_year(value) for value in get("year")],
        first_authors=first_authors,
        first_initials=first_initials,
        all_authors=all_authors,
        journals=journals,
        volumes=[first_number(value) for value in volumes_raw],
        issues=[issue_number(value) for value in issues],
        pages=[page_ranges(value) for value in pages_raw],
        dois=[normalise_doi(value) for value in get("doi")],
        pmids=pmids,
        pmcids=[normalise_pmcid(value) for value in get("pmcid")],
        kinds=kinds,
        conference=conference,
        priority=priority,
    )


# --------------------------------------------------------------------------------------------
# Blocking
# --------------------------------------------------------------------------------------------


def _blocking_keys(prepared: _Prepared) -> list[list[str]]:
    """Several keys per record; two records are compared if they share any key.

    Title prefix and suffix (content words), the two rarest title words, first author and
    initial + year (and year + 1, for the tolerance) and volume + first page: a typo or
    truncation defeats one key, rarely all.
    """
    content = [
        tuple(word for word in words if word not in _STOP_WORDS) for words in prepared.title_words
    ]
    frequency: Counter[str] = Counter()
    for words in content:
        frequency.update(set(words))
    keys: list[list[str]] = []
    for row, words in enumerate(content):
        row_keys: list[str] = []
        if words:
            row_keys.append("t:" + " ".join(words[:3]))
            row_keys.append("e:" + " ".join(words[-3:]))
            candidates = sorted(
                {word for word in words if len(word) > 2}, key=lambda w: (frequency[w], w)
            )
            if len(candidates) >= 2:
                row_keys.append("r:" + " ".join(sorted(candidates[:2])))
        author = "".join(prepared.first_authors[row]) + ":" + prepared.first_initials[row]
        year = prepared.years[row]
        if prepared.first_authors[row] and year is not None:
            row_keys.append(f"a:{author}:{year}")
            row_keys.append(f"a:{author}:{year + 1}")
        volume, pages = prepared.volumes[row], prepared.pages[row]
        if volume is not None and pages:
            row_keys.append(f"p:{volume}:{pages[0][0]}")
        keys.append(row_keys)
    return keys


def _candidate_pairs(prepared: _Prepared, settings: DedupSettings) -> np.ndarray:
    """Sorted unique candidate pairs as an (n, 2) array of row numbers, first < second."""
    blocks: dict[str, list[int]] = {}
    for row, row_keys in enumerate(_blocking_keys(prepared)):
        for key in row_keys:
            blocks.setdefault(key, []).append(row)
    size = len(prepared.record_ids)
    codes: list[int] = []
    window = settings.neighbourhood_window
    for members in blocks.values():
        count = len(members)
        if count < 2:
            continue
        if count > settings.max_block_size:  # sorted neighbourhood: similar titles sit together
            members = sorted(members, key=lambda row: (prepared.titles[row] or "", row))
            pairs: Iterable[tuple[int, int]] = (
                (members[position], members[position + offset])
                for offset in range(1, window + 1)
                for position in range(count - offset)
            )
        else:
            pairs = combinations(members, 2)
        codes.extend(min(a, b) * size + max(a, b) for a, b in pairs)
    if not codes:
        return np.empty((0, 2), dtype=np.int64)
    unique = np.unique(np.asarray(codes, dtype=np.int64))
    return np.stack([unique // size, unique % size], axis=1)


# --------------------------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------------------------


def _hard_conflict(p: _Prepared, i: int, j: int, settings: DedupSettings) -> bool:
    """True if the two records can never be one work, whatever their titles say."""
    preprint_pair = p.preprint[i] != p.preprint[j]  # a preprint and a journal version
    different_dois = _same(p.dois[i], p.dois[j]) < 0
    if not settings.merge_different_dois and different_dois and not preprint_pair:
        return True
    if not settings.merge_different_pmids and (
        _same(p.pmids[i], p.pmids[j]) < 0 or _same(p.pmcids[i], p.pmcids[j]) < 0
    ):
        return True
    year_i, year_j = p.years[i], p.years[j]
    tolerance = settings.preprint_year_tolerance if preprint_pair else settings.year_tolerance
    if year_i is not None and year_j is not None and abs(year_i - year_j) > tolerance:
        return True
    if _contrasting(p, i, j):
        return True
    if p.kinds[i] != p.kinds[j]:
        return True
    return (
        p.conference[i] != p.conference[j]
        and not settings.conference_abstract_merges_with_article
        and not _same_issue(p, i, j)
    )


def _contrasting(p: _Prepared, i: int, j: int) -> bool:
    """True when the titles name different populations, reports or disease states (see
    CONTRAST_CONCEPTS): each names a concept the other lacks, or one adds a concept to a title
    that is neither the other cut short nor the same citation (author, year, journal, volume,
    pages)."""
    concepts_i, concepts_j = p.concepts[i], p.concepts[j]
    if concepts_i == concepts_j or p.translated[i] or p.translated[j]:
        return False  # a translated title says it in other words
    if concepts_i - concepts_j and concepts_j - concepts_i:
        return True
    short, long = sorted((p.titles[i] or "", p.titles[j] or ""), key=len)
    if short and long.startswith(short):
        return False  # the other title cut short
    return not _same_citation(p, i, j)  # a word added to the title of one citation


def _same_issue(p: _Prepared, i: int, j: int) -> bool:
    """True if both records sit in the same journal, year and volume or pages.

    Then a conference marker on one only (a database that notes "Conference: ..." or a
    supplement) describes the same abstract or paper, not an abstract versus its full paper.
    """
    if p.years[i] is None or p.years[i] != p.years[j]:
        return False
    volume, pages = _same(p.volumes[i], p.volumes[j]), _pages_agree(p, i, j)
    if volume < 0 or pages < 0:
        return False
    if volume <= 0 and pages <= 0:
        return False  # nothing but a journal name: an abstract and its paper may share that
    # A book series and a proceedings title name one volume differently: then the volume and
    # pages must agree.
    return _journal_agreement(p, i, j) > 0 or (volume > 0 and pages > 0)


def _title_similarity(p: _Prepared, i: int, j: int, settings: DedupSettings) -> float:
    """Indel similarity of the normalised titles; a long title that is (nearly) the start of
    the other counts as truncated and is compared with that start only.

    Differing numbers ("part 1" vs "part 2", "type 1" vs "type 2") make the similarity 0.
    """
    title_i, title_j = p.titles[i], p.titles[j]
    if title_i is None or title_j is None:
        return 0.0
    similarity = Indel.normalized_similarity(title_i, title_j)
    short, long = sorted((title_i, title_j), key=len)
    if similarity < 1.0 and len(short) >= settings.truncated_title_min_length:
        start = long[: len(short)]
        prefix = Indel.normalized_similarity(short, start)
        if prefix > similarity:
            return prefix if title_numbers(short) == title_numbers(start) else 0.0
    return similarity if p.numbers[i] == p.numbers[j] else 0.0


def _authors_agree(p: _Prepared, i: int, j: int) -> int:
    """1 if first authors agree (any surname word, a close typo, or author order), -1 if they
    clearly differ, 0 if either record lacks authors."""
    first_i, first_j = p.first_authors[i], p.first_authors[j]
    if not first_i or not first_j:
        return 0
    if set(first_i).intersection(first_j):
        return 1
    for word_i in first_i:
        for word_j in first_j:
            if (
                min(len(word_i), len(word_j)) >= 4
                and Indel.normalized_similarity(word_i, word_j) >= 0.8
            ):
                return 1
    if p.all_authors[j].intersection(first_i) or p.all_authors[i].intersection(first_j):
        return 1
    return -1


def _same(first: str | None, second: str | None) -> int:
    """1 equal, -1 different, 0 unknown."""
    if first is None or second is None:
        return 0
    return 1 if first == second else -1


def _journal_agreement(p: _Prepared, i: int, j: int) -> int:
    """1 if any name of one journal matches any of the other, -1 if none does, 0 unknown."""
    if not p.journals[i] or not p.journals[j]:
        return 0
    for name_i in p.journals[i]:
        for name_j in p.journals[j]:
            if journals_agree(name_i, name_j):
                return 1
    return -1


def _pages_agree(p: _Prepared, i: int, j: int) -> int:
    """1 if the pages meet (same first or last page, or a single page inside the other range),
    -1 if they clearly differ, 0 if either lacks pages or they cannot be compared: an article
    number or lettered page against plain pages ("c1804" vs "1014-1018"), or a range starting
    at page 1 (often an e-article's own page count)."""
    if not p.pages[i] or not p.pages[j]:
        return 0
    for first_i, last_i, _ in p.pages[i]:
        for first_j, last_j, _ in p.pages[j]:
            if first_i == first_j or (last_i is not None and last_i == last_j):
                return 1
            if last_i is None and last_j is not None and first_j <= first_i <= last_j:
                return 1
            if last_j is None and last_i is not None and first_i <= first_j <= last_i:
                return 1
    lettered_i = any(lettered for _, _, lettered in p.pages[i])
    lettered_j = any(lettered for _, _, lettered in p.pages[j])
    if lettered_i != lettered_j or p.pages[i][0][0] == 1 or p.pages[j][0][0] == 1:
        return 0
    return -1


def _same_citation(p: _Prepared, i: int, j: int) -> bool:
    """Same first author, year, journal, volume and pages: one work even if the titles differ
    (a translated title, a dropped subtitle).

    The titles must still be related (similar, one a prefix of the other, or one a
    translation: PubMed brackets translated titles), since several abstracts share a page and
    exports do repeat one record's pages on another. Conference records need the whole page
    range to agree.
    """
    if p.years[i] is None or p.years[i] != p.years[j] or _authors_agree(p, i, j) <= 0:
        return False
    volume = _same(p.volumes[i], p.volumes[j])
    if volume < 0 or (volume == 0 and not (p.volumes[i] is None and p.volumes[j] is None)):
        return False
    if _journal_agreement(p, i, j) <= 0:
        return False
    full_range = single_page = False
    for first_i, last_i, _ in p.pages[i]:
        for first_j, last_j, _ in p.pages[j]:
            if first_i == first_j:
                if last_i is not None and last_i == last_j:
                    full_range = True
                elif last_i is None or last_j is None:
                    single_page = True
    if not (full_range or (single_page and not (p.conference[i] or p.conference[j]))):
        return False
    title_i, title_j = p.titles[i], p.titles[j]
    if title_i is None or title_j is None or p.translated[i] or p.translated[j]:
        return True
    short, long = sorted((title_i, title_j), key=len)
    return long.startswith(short + " ") or Indel.normalized_similarity(short, long) >= 0.6


def _compare(
    p: _Prepared, i: int, j: int, settings: DedupSettings
) -> tuple[str, float | None] | None:
    """The rule and score that make two records duplicates, or None.

    The rule names the fields that agreed ("fuzzy:title+author+year+journal"); the score is
    the title similarity (None if a record has no title).
    """
    if _hard_conflict(p, i, j, settings):
        return None
    author = _authors_agree(p, i, j)
    volume = _same(p.volumes[i], p.volumes[j])
    page = _pages_agree(p, i, j)
    journal = _journal_agreement(p, i, j)
    fields = []
    if author > 0:
        fields.append("author")
    if p.years[i] is not None and p.years[j] is not None:  # within tolerance, else conflict
        fields.append("year")
    fields += [
        name
        for name, agreement in (("journal", journal), ("volume", volume), ("pages", page))
        if agreement > 0
    ]
    has_titles = p.titles[i] is not None and p.titles[j] is not None
    title = _title_similarity(p, i, j, settings) if has_titles else 0.0
    if title >= settings.title_similarity_with_details:
        fields.insert(0, "title")
    rule = "fuzzy:" + "+".join(fields)
    if p.preprint[i] != p.preprint[j]:  # a preprint and its journal version: title and author
        if author > 0 and title >= settings.title_similarity:
            return "fuzzy:preprint+" + "+".join(fields), title
        return None
    if _same_citation(p, i, j):
        return rule, title if has_titles else None
    if not has_titles:
        return None
    # Volumes are often garbled ("1)" for "27 (Suppl 1)"): a differing volume counts only if
    # the first pages do not agree; differing first pages always count.
    if page < 0 or (volume < 0 and page <= 0):
        return None
    if page <= 0 and _same(p.issues[i], p.issues[j]) < 0:  # a column in every issue
        return None
    if journal < 0 and p.years[i] != p.years[j] and volume <= 0 and page <= 0:
        return None  # other venue, other year, nothing shared: a re-presented or re-used title
    short = min(len(p.title_words[i]), len(p.title_words[j])) < settings.short_title_words
    if short and volume <= 0 and page <= 0:
        return None
    details = (journal > 0) + (volume > 0) + (page > 0)
    if author > 0 and title >= settings.title_similarity:
        return rule, title
    if (
        author >= 0
        and title >= settings.title_similarity_with_details
        and details >= 2 + (author == 0)
    ):
        return rule, title
    if author == 0 and title >= settings.title_similarity_without_author:
        return rule, title
    if (
        author < 0
        and title >= settings.title_similarity_author_conflict
        and volume > 0
        and page > 0
    ):
        return rule, title
    return None


# --------------------------------------------------------------------------------------------
# Grouping
# --------------------------------------------------------------------------------------------


@dataclass
class _Summary:
    """What a group's members hold, so identifier, year and kind conflicts between two groups
    are checked at once instead of member by member."""

    dois: set[str]
    pmids: set[str]
    pmcids: set[str]
    years: list[int]  # [min, max], empty if no member has a year
    kinds: set[str]
    preprints: set[bool] = field(default_factory=set)  # True and/or False: which versions

    @classmethod
    def of(cls, p: _Prepared, row: int) -> _Summary:
        def values(value: str | None) -> set[str]:
            return set() if value is None else {value}

        year = p.years[row]
        return cls(
            dois=values(p.dois[row]),
            pmids=values(p.pmids[row]),
            pmcids=values(p.pmcids[row]),
            years=[] if year is None else [year, year],
            kinds={p.kinds[row]},
            preprints={p.preprint[row]},
        )

    def absorb(self, other: _Summary) -> None:
        self.dois |= other.dois
        self.pmids |= other.pmids
        self.pmcids |= other.pmcids
        if other.years:
            self.years = (
                [min(self.years[0], other.years[0]), max(self.years[1], other.years[1])]
                if self.years
                else list(other.years)
            )
        self.kinds |= other.kinds
        self.preprints |= other.preprints

    def conflicts(self, other: _Summary, settings: DedupSettings) -> bool:
        """True if some member of one group and some member of the other have a hard conflict
        on DOI, PMID, PMCID, year or kind."""

        def differ(first: set[str], second: set[str]) -> bool:
            return bool(first) and bool(second) and len(first | second) > 1

        # a preprint joining its journal version: other DOI, later year
        versions = self.preprints != other.preprints
        if not settings.merge_different_dois and differ(self.dois, other.dois) and not versions:
            return True
        if not settings.merge_different_pmids and (
            differ(self.pmids, other.pmids) or differ(self.pmcids, other.pmcids)
        ):
            return True
        if self.years and other.years:
            spread = max(self.years[1] - other.years[0], other.years[1] - self.years[0])
            tolerance = settings.preprint_year_tolerance if versions else settings.year_tolerance
            if spread > tolerance:
                return True
        return differ(self.kinds, other.kinds)


class _Groups:
    """Union-find that keeps member lists and summaries, so a merge can be checked against
    whole groups."""

    def __init__(self, p: _Prepared) -> None:
        self.p = p
        self.parent = list(range(len(p.record_ids)))
        self._members: dict[int, list[int]] = {}  # roots of groups of two or more
        self._summaries: dict[int, _Summary] = {}  # made when first needed

    def members(self, root: int) -> list[int]:
        return self._members.get(root) or [root]

    def summary(self, root: int) -> _Summary:
        if root not in self._summaries:
            self._summaries[root] = _Summary.of(self.p, root)
        return self._summaries[root]

    def find(self, row: int) -> int:
        root = row
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[row] != root:
            self.parent[row], row = root, self.parent[row]
        return root

    def union(self, first: int, second: int) -> None:
        root_a, root_b = self.find(first), self.find(second)
        if root_a == root_b:
            return
        if len(self.members(root_a)) < len(self.members(root_b)):
            root_a, root_b = root_b, root_a
        self.parent[root_b] = root_a
        self._members.setdefault(root_a, [root_a]).extend(self._members.pop(root_b, [root_b]))
        self.summary(root_a).absorb(self.summary(root_b))
        del self._summaries[root_b]

    def groups(self) -> list[list[int]]:
        """Every group's members (singletons included), ordered by their first row."""
        by_root: dict[int, list[int]] = {}
        for row in range(len(self.parent)):
            by_root.setdefault(self.find(row), []).append(row)
        return list(by_root.values())


def _exact_edges(p: _Prepared, settings: DedupSettings) -> list[tuple[int, int, str, float | None]]:
    """Edges between records sharing a DOI, PMID or PMCID (each to the first holder).

    A DOI shared by records with clearly different titles is a container DOI (a journal
    supplement's, given to each of its abstracts): such records are not joined by it.
    """
    edges: list[tuple[int, int, str, float | None]] = []
    # identifier -> sub-groups of its holders; a DOI sub-group holds mutually compatible titles
    holders: dict[tuple[str, str], list[list[int]]] = {}
    for row in range(len(p.record_ids)):
        partners: dict[int, list[str]] = {}
        for name, value in (("doi", p.dois[row]), ("pmid", p.pmids[row]), ("pmcid", p.pmcids[row])):
            if value is None:
                continue
            subgroups = holders.setdefault((name, value), [])
            joined = next(
                (
                    subgroup
                    for subgroup in subgroups
                    if name != "doi"
                    or all(_titles_compatible(p, other, row, settings) for other in subgroup)
                ),
                None,
            )
            if joined is None:
                subgroups.append([row])
            else:
                partners.setdefault(joined[0], []).append(name)
                joined.append(row)
        for holder, names in sorted(partners.items()):
            edges.append((holder, row, "exact:" + "+".join(names), 1.0))
    return edges


def _titles_compatible(p: _Prepared, i: int, j: int, settings: DedupSettings) -> bool:
    """False only when both records have titles and these are clearly different works."""
    title_i, title_j = p.titles[i], p.titles[j]
    if title_i is None or title_j is None:
        return True
    similarity = Indel.normalized_similarity(title_i, title_j)
    return similarity >= settings.shared_doi_title_similarity


# Title and conference checks compare this many members of each group (all, in groups this
# small); identifiers, years and kinds are checked over whole groups through their summaries.
_LINKAGE_SAMPLE = 12


def _may_join(
    p: _Prepared, groups: _Groups, root_a: int, root_b: int, settings: DedupSettings
) -> bool:
    """Complete linkage: no member of one group may conflict with any member of the other.

    Identifier, year and kind conflicts are checked over whole groups; title floor and
    conference status against the first members of each, so a pathological group of
    thousands of copies costs no more than a normal one.
    """
    if groups.summary(root_a).conflicts(groups.summary(root_b), settings):
        return False
    for i in groups.members(root_a)[:_LINKAGE_SAMPLE]:
        for j in groups.members(root_b)[:_LINKAGE_SAMPLE]:
            if _hard_conflict(p, i, j, settings) or _titles_too_different(p, i, j, settings):
                return False
    return True


def _titles_too_different(p: _Prepared, i: int, j: int, settings: DedupSettings) -> bool:
    """Below the group title floor, unless a title is missing or translated or the citation
    itself matches."""
    if p.titles[i] is None or p.titles[j] is None or p.translated[i] or p.translated[j]:
        return False
    return _title_similarity(p, i, j, settings) < settings.group_title_similarity and not (
        _same_citation(p, i, j)
    )


def _kept_row(p: _Prepared, members: list[int]) -> int:
    """The richest record: from PubMed first (else one with a PMID), then most non-missing
    fields, then lowest record_id."""
    return min(
        members, key=lambda row: (-p.priority[row][0], -p.priority[row][1], p.record_ids[row])
    )


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def _validate(records: pd.DataFrame) -> None:
    """Record ids must exist, be present and be unique: every output row is keyed by them."""
    if "record_id" not in records.columns:
        raise ValidationError("dedup: the records have no 'record_id' column")
    ids = records["record_id"]
    missing = ids.isna().to_numpy() | (ids.astype(str).str.strip() == "").to_numpy()
    if missing.any():
        row = int(np.flatnonzero(missing)[0]) + 1
        raise ValidationError(f"dedup: record {row} has no record_id")
    duplicated = ids.astype(str).duplicated()
    if duplicated.any():
        row = int(np.flatnonzero(duplicated.to_numpy())[0])
        raise ValidationError(
            f"dedup: record_id {ids.iloc[row]!r} occurs more than once; ids must be unique"
        )


def deduplicate(records: pd.DataFrame, settings: DedupSettings | None = None) -> DedupResult:
    """Group duplicate records and keep the richest of each group.

    `records` has a unique `record_id` and any of the record columns (plus optional `source`
    and `entry_type`). The result is the same, byte for byte, for the same input.
    """
    settings = settings or DedupSettings()
    _validate(records)
    with _garbage_collection_paused():
        return _deduplicate(records, settings)


@contextlib.contextmanager
def _garbage_collection_paused() -> Iterator[None]:
    """Pause Python's cycle collector: deduplication makes millions of small tuples and no
    reference cycles, and repeated full collections over them cost a third of the run time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _deduplicate(records: pd.DataFrame, settings: DedupSettings) -> DedupResult:
    """`deduplicate` without its checks."""
    p = _prepare(records)
    groups = _Groups(p)
    tree_edges: list[tuple[int, int, str, float | None]] = []
    for i, j, rule, score in _exact_edges(p, settings):
        if groups.find(i) != groups.find(j):
            groups.union(i, j)
            tree_edges.append((i, j, rule, score))

    fuzzy_edges: list[tuple[int, int, str, float | None]] = []
    for i, j in _candidate_pairs(p, settings).tolist():
        if groups.find(i) == groups.find(j):
            continue
        decision = _compare(p, i, j, settings)
        if decision is not None:
            fuzzy_edges.append((i, j, *decision))
    # Most similar pairs first, so a record joins the group it resembles most.
    fuzzy_edges.sort(key=lambda edge: (-(edge[3] or 0.0), edge[0], edge[1]))
    for i, j, rule, score in fuzzy_edges:
        root_i, root_j = groups.find(i), groups.find(j)
        if root_i == root_j:
            continue
        if _may_join(p, groups, root_i, root_j, settings):
            groups.union(i, j)
            tree_edges.append((i, j, rule, score))
    return _result(records, p, groups, tree_edges, settings)


def _result(
    records: pd.DataFrame,
    p: _Prepared,
    groups: _Groups,
    tree_edges: list[tuple[int, int, str, float | None]],
    settings: DedupSettings,
) -> DedupResult:
    """Turn groups and their spanning edges into the result tables."""
    size = len(p.record_ids)
    adjacency: dict[int, list[tuple[int, str, float | None]]] = {}
    for i, j, rule, score in tree_edges:
        adjacency.setdefault(i, []).append((j, rule, score))
        adjacency.setdefault(j, []).append((i, rule, score))
    kept_of = [0] * size
    link: dict[int, tuple[int, str, float | None]] = {}  # merged row -> (matched, rule, score)
    for members in groups.groups():
        kept = _kept_row(p, members)
        for row in members:
            kept_of[row] = kept
        stack = [kept]
        seen = {kept}
        while stack:  # walk the spanning tree from the kept record
            row = stack.pop()
            for other, rule, score in sorted(adjacency.get(row, []), key=lambda edge: edge[0]):
                if other not in seen:
                    seen.add(other)
                    link[other] = (row, rule, score)
                    stack.append(other)
    group_sizes = Counter(kept_of)
    cluster_ids, kept_flags, reasons, scores = [], [], [], []
    for row in range(size):
        kept = kept_of[row]
        cluster_ids.append(p.record_ids[kept])
        kept_flags.append(row == kept)
        if row in link:
            reasons.append(link[row][1])
            scores.append(_rounded(link[row][2]))
        else:
            reasons.append("kept" if group_sizes[kept] > 1 else "unique")
            scores.append(None)
    record_table = pd.DataFrame(
        {
            "record_id": pd.array(p.record_ids, dtype="string"),
            "cluster_id": pd.array(cluster_ids, dtype="string"),
            "kept": pd.array(kept_flags, dtype="boolean"),
            "reason": pd.array(reasons, dtype="string"),
            "score": pd.array(scores, dtype="Float64"),
        }
    )
    merged_rows = sorted(link, key=lambda row: (kept_of[row], row))
    duplicates = pd.DataFrame(
        {
            "group_id": pd.array([p.record_ids[kept_of[r]] for r in merged_rows], dtype="string"),
            "kept_record": pd.array(
                [p.record_ids[kept_of[r]] for r in merged_rows], dtype="string"
            ),
            "merged_record": pd.array([p.record_ids[r] for r in merged_rows], dtype="string"),
            "matched_record": pd.array(
                [p.record_ids[link[r][0]] for r in merged_rows], dtype="string"
            ),
            "rule": pd.array([link[r][1] for r in merged_rows], dtype="string"),
            "score": pd.array([_rounded(link[r][2]) for r in merged_rows], dtype="Float64"),
        }
    )
    kept_mask = np.asarray(kept_flags, dtype=bool)
    deduplicated = records.loc[kept_mask].reset_index(drop=True)
    filled = _empty_filled()
    if settings.fill_missing_fields:
        deduplicated, filled = _fill_missing(records, p, kept_of, kept_mask)
    return DedupResult(
        records=record_table,
        duplicates=duplicates,
        deduplicated=deduplicated,
        filled=filled,
        records_in=size,
        duplicates_removed=size - int(kept_mask.sum()),
        records_out=int(kept_mask.sum()),
    )


def _rounded(score: float | None) -> float | None:
    return None if score is None else round(score, 4)


def _empty_filled() -> pd.DataFrame:
    return pd.DataFrame(
        {name: pd.array([], dtype="string") for name in ("record_id", "column", "from_record")}
    )


def _fill_missing(
    records: pd.DataFrame, p: _Prepared, kept_of: list[int], kept_mask: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Copy each empty field of a kept record from its richest duplicate that has it."""
    donors: dict[int, list[int]] = {}
    for row, kept in enumerate(kept_of):
        if row != kept:
            donors.setdefault(kept, []).append(row)
    result = records.copy()
    filled_rows: list[tuple[str, str, str]] = []
    columns = [name for name in records.columns if name != "record_id"]
    for kept in sorted(donors):
        ordered = sorted(
            donors[kept], key=lambda r: (-p.priority[r][0], -p.priority[r][1], p.record_ids[r])
        )
        for name in columns:
            if not _is_missing(result.iat[kept, result.columns.get_loc(name)]):
                continue
            for donor in ordered:
                value = records.iat[donor, records.columns.get_loc(name)]
                if not _is_missing(value):
                    result.iat[kept, result.columns.get_loc(name)] = value
                    filled_rows.append((p.record_ids[kept], name, p.record_ids[donor]))
                    break
    filled = pd.DataFrame(
        {
            name: pd.array([item[index] for item in filled_rows], dtype="string")
            for index, name in enumerate(("record_id", "column", "from_record"))
        }
    )
    return result.loc[kept_mask].reset_index(drop=True), filled


def _is_missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return bool(pd.isna(value))


__all__ = [
    "DedupResult",
    "DedupSettings",
    "deduplicate",
    "given_initial",
    "is_conference_record",
    "issue_number",
    "journals_agree",
    "normalise_doi",
    "normalise_text",
    "normalise_title",
    "page_ranges",
    "parse_year",
    "record_kind",
    "surname_tokens",
]
