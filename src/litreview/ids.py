"""The one set of identifier normalisers: DOI, PMID, PMCID, ISSN and year.

Records (PubMed XML), importers (every export format), identification, deduplication and
screening all compare identifiers through these, so one identifier has one form everywhere:
``https://doi.org/10.1000/ABC%28x%29``, ``doi:10.1000/abc(x).`` and ``10.1000/abc(x)`` are all
``10.1000/abc(x)``.

Two flavours: ``normalize_*`` for a field that must hold the identifier (empty -> None, text
that is not one -> ValueError, which importers turn into an error naming the file, row and
field); ``*_in`` for text that may hold one among other words (None when it holds none).
"""

from __future__ import annotations

import re
from urllib.parse import unquote

__all__ = [
    "DOI_IN_TEXT",
    "ISSN",
    "YEAR",
    "doi_from_url",
    "doi_in",
    "normalize_doi",
    "normalize_issn",
    "normalize_pmcid",
    "normalize_pmid",
    "parse_year",
    "pmcid_in",
    "pmid_in",
]

DOI_IN_TEXT = re.compile(r"10\.\d{4,9}/\S+")
ISSN = re.compile(r"\b(\d{4})-?(\d{3}[\dXx])\b")
YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|2[01]\d\d)(?!\d)")
_DOI_URL = re.compile(r"^(?:https?://)?(?:dx\.)?doi\.org/", re.IGNORECASE)
_DOI_PREFIX = re.compile(r"^(?:doi\s*:?\s*)", re.IGNORECASE)
_PERCENT = re.compile(r"%[0-9a-fA-F]{2}")
_OPENING = {")": "(", "]": "[", "}": "{"}
_PMID_PREFIX = re.compile(r"^(?:pmid|pubmed\s*id|medline)\s*[:=]?\s*", re.IGNORECASE)


def _bare(text: str) -> str:
    """Text with a doi.org link, a ``doi:`` prefix and %-encoding taken off."""
    value = _DOI_URL.sub("", text.strip())
    value = _DOI_PREFIX.sub("", value).strip()
    if _PERCENT.search(value):  # "10.1016/s0025-7753%2817%2930624-3", "10.1000%2Fabc"
        value = unquote(value)
    return value


def _canonical(found: str) -> str:
    """A DOI found in text, without trailing punctuation or a bracket it did not open."""
    doi = found.rstrip(".,;:")
    while doi and doi[-1] in ")]}" and doi.count(doi[-1]) > doi.count(_OPENING[doi[-1]]):
        doi = doi[:-1].rstrip(".,;:")
    return doi.lower()


def normalize_doi(text: str | None) -> str | None:
    """A DOI field as lower-case bare ``10.xxxx/...``; None when empty.

    DOIs are case-insensitive, and exports write them bare, as ``doi:``/``DOI:``, %-encoded or
    as ``https://doi.org/`` / ``http://dx.doi.org/`` links. Raises ValueError when non-empty
    text does not start with a DOI.
    """
    if text is None:
        return None
    value = str(text).strip()
    if not value:
        return None
    match = DOI_IN_TEXT.match(_bare(value))
    if match is None:
        raise ValueError(f"{text!r} is not a DOI (a DOI looks like 10.1371/journal.pone.0093735)")
    doi = _canonical(match.group(0))
    if not DOI_IN_TEXT.fullmatch(doi):
        raise ValueError(f"{text!r} is not a DOI (nothing follows the prefix {doi!r})")
    return doi


def doi_in(text: object) -> str | None:
    """The first DOI anywhere in ``text`` (a note, a URL, a citation), normalised; else None."""
    if text is None or not isinstance(text, str):
        return None
    found = DOI_IN_TEXT.search(_bare(text))
    if found is None:
        return None
    doi = _canonical(found.group(0))
    return doi if DOI_IN_TEXT.fullmatch(doi) else None


def doi_from_url(url: str | None) -> str | None:
    """The DOI of a doi.org link (``https://doi.org/10...``), else None.

    Some exports (EndNote from Embase, Ovid) carry the DOI only as such a link in ``UR``.
    """
    if not url:
        return None
    value = url.strip()
    if not _DOI_URL.match(value):
        return None
    return normalize_doi(value)


def normalize_pmid(text: str | None) -> str | None:
    """A PMID field as a string of digits; None when empty.

    Accepts ``PMID: 123``-style prefixes and the ``123.0`` a spreadsheet makes of a number.
    Raises ValueError when non-empty text is not a PMID.
    """
    if text is None:
        return None
    value = _PMID_PREFIX.sub("", str(text).strip())
    if not value:
        return None
    value = re.sub(r"\.0$", "", value)
    if not re.fullmatch(r"\d{1,9}", value) or int(value) == 0:
        raise ValueError(f"{text!r} is not a PubMed ID (PMIDs are whole numbers such as 24807059)")
    return str(int(value))


def pmid_in(text: object) -> str | None:
    """The first number of a PMID field, without leading zeros ("PMID: 00123" -> "123")."""
    if text is None or not isinstance(text, str):
        return None
    found = re.search(r"\d+", text)
    return (found.group(0).lstrip("0") or None) if found else None


def normalize_pmcid(text: str | None) -> str | None:
    """A PubMed Central ID as ``PMC`` + digits; None when empty; ValueError when not one."""
    if text is None:
        return None
    value = str(text).strip()
    if not value:
        return None
    match = re.fullmatch(r"(?:PMC)?\s*(\d{1,9})", value, flags=re.IGNORECASE)
    if match is None:
        raise ValueError(f"{text!r} is not a PubMed Central ID (they look like PMC4012944)")
    return f"PMC{int(match.group(1))}"


def pmcid_in(text: object) -> str | None:
    """``PMC`` + the digits of a PMCID field; None when it has none."""
    if text is None or not isinstance(text, str):
        return None
    digits = re.sub(r"\D", "", text)
    return f"PMC{digits.lstrip('0')}" if digits.strip("0") else None


def normalize_issn(text: str | None) -> str | None:
    """The ISSNs of a field as ``NNNN-NNNX`` joined by "; " (exports write ``00175749 (ISSN)``,
    ``0017-5749``, or print and electronic ISSNs together); None when it holds none."""
    if text is None:
        return None
    found = [f"{a}-{b.upper()}" for a, b in ISSN.findall(str(text))]
    unique = list(dict.fromkeys(found))
    return "; ".join(unique) if unique else None


def parse_year(text: str | int | None) -> int | None:
    """The (first) four-digit year in ``text``; None when empty.

    Covers the shapes exports use: ``2014``, ``2014 May 3``, ``2014///``, ``2014/05/09/``,
    ``1990 Spring``, ``2013 Dec-2014 Jan``, ``7 May 2014``. Raises ValueError when non-empty
    text holds no year.
    """
    if text is None:
        return None
    value = str(text).strip()
    if not value:
        return None
    if re.fullmatch(r"\d{4}\.0", value):
        value = value[:4]
    match = YEAR.search(value)
    if match is None:
        raise ValueError(f"{text!r} holds no four-digit year")
    return int(match.group(1))
