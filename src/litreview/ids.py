"""The one set of normalisers: DOI, PMID, PMCID, ISSN, year, author names and titles.

Records (PubMed XML), importers (every export format), identification, deduplication and
screening all compare identifiers through these, so one identifier has one form everywhere:
``https://doi.org/10.1000/ABC%28x%29``, ``doi:10.1000/abc(x).`` and ``10.1000/abc(x)`` are all
``10.1000/abc(x)``.

Two flavours: ``normalize_*`` for a field that must hold the identifier (empty -> None, text
that is not one -> ValueError, which importers turn into an error naming the file, row and
field); ``*_in`` for text that may hold one among other words (None when it holds none).
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable
from urllib.parse import unquote

__all__ = [
    "DOI_IN_TEXT",
    "ISSN",
    "NON_WORD",
    "WHOLE_BRACKETS",
    "YEAR",
    "author_surname",
    "doi_from_url",
    "doi_in",
    "normalise_text",
    "normalise_title",
    "normalize_author",
    "normalize_authors",
    "normalize_doi",
    "normalize_issn",
    "normalize_pmcid",
    "normalize_pmid",
    "parse_year",
    "pmcid_in",
    "pmid_in",
    "split_author_list",
    "strip_title_notes",
    "year_in",
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


def year_in(text: object) -> int | None:
    """The first plausible four-digit year in a value ("2015 Mar" -> 2015); None if none."""
    if text is None or not isinstance(text, str | int):
        return None
    found = YEAR.search(str(text))
    return int(found.group(1)) if found else None


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


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# -- author names -------------------------------------------------------------------------------

_PARTICLES = frozenset(
    _words("al bin da das de del della den der di dos du el ibn la le st ten ter van von")
)
_SUFFIXES = {"jr", "sr", "2nd", "3rd"}
_COLLECTIVE_WORDS = frozenset(
    _words(
        "agency alliance and association board center centre collaboration collaborative "
        "collaborators committee consortium council department editors for foundation group groups "
        "initiative institute investigators network of on organisation organization panel society "
        "study team the trial university working writing"
    )
)


def _is_initials(token: str) -> bool:
    letters = token.replace(".", "").replace("-", "")
    return bool(letters) and letters.isalpha() and letters.isupper() and len(letters) <= 4


def _initials(given: str) -> str:
    """Initials of given names: ``Dileep R.`` -> ``DR``, ``J.-P.`` -> ``JP``, ``DR`` -> ``DR``."""
    initials = ""
    for token in re.split(r"[\s.,]+", given):
        if not token:
            continue
        if token.lower() in _SUFFIXES and not token.isupper():  # "Jr", not the initials "SR"
            continue
        if _is_initials(token) and "-" not in token.strip("-"):
            initials += token.replace("-", "")
            continue
        for part in token.split("-"):
            if part:
                initials += part[0].upper()
    return initials


def _looks_collective(name: str) -> bool:
    words = re.findall(r"[^\W\d_]+|\d+", name.lower())
    return any(word.isdigit() or word in _COLLECTIVE_WORDS for word in words) or len(words) > 4


def normalize_author(name: str | None) -> str | None:
    """Return an author as ``Surname Initials`` (MEDLINE style), or None when ``name`` is empty.

    Reads ``Surname, Given Names`` (RIS, Zotero, WoS ``AF``), ``Surname, GN`` (WoS ``AU``),
    ``Surname G.N.`` (Scopus, Embase), ``Surname GN`` (MEDLINE) and ``Given Names Surname``.
    Particles stay with the surname (``van der Berg``), diacritics are kept. Group names
    (``Canadian Respiratory Research Network``; EndNote writes them with a trailing comma) are
    returned as written.
    """
    if name is None:
        return None
    raw = re.sub(r"\s+", " ", str(name)).strip()
    if not raw:
        return None
    if raw.endswith(",") and raw.count(",") == 1:
        return raw[:-1].strip() or None
    value = raw.rstrip(";").strip()
    if value.endswith(".") and not _is_initials(value.rsplit(" ", 1)[-1]):
        value = value[:-1].rstrip()
    if "," in value:
        surname, given = value.split(",", 1)
        surname = surname.strip()
        initials = _initials(given)
        if not surname:
            raise ValueError(f"author {name!r} has no surname before the comma")
        return f"{surname} {initials}" if initials else surname
    tokens = value.split(" ")
    if len(tokens) == 1:
        return value
    if _is_initials(tokens[-1]):
        return f"{' '.join(tokens[:-1])} {_initials(tokens[-1])}"
    if _looks_collective(value):
        return value
    start = len(tokens) - 1
    while start > 1 and tokens[start - 1].lower() in _PARTICLES:
        start -= 1
    surname = " ".join(tokens[start:])
    initials = _initials(" ".join(tokens[:start]))
    return f"{surname} {initials}" if initials else surname


def author_surname(author: str | None) -> str | None:
    """Return the surname of a normalised author (``De Vivo I`` -> ``De Vivo``).

    A group name has no initials and is returned whole.
    """
    if not author:
        return None
    tokens = author.split(" ")
    if len(tokens) > 1 and _is_initials(tokens[-1]):
        return " ".join(tokens[:-1])
    return author


def split_author_list(text: str | None) -> list[str]:
    """Split one field holding several authors into names (not yet normalised).

    ``;`` separates names where a name may itself hold a comma (``Bao, Y; Prescott, J``), and
    so does BibTeX's `` and `` (``Zuna, R E and Wang, S S``). Otherwise ``,`` separates names
    when every piece looks like ``Surname Initials`` or a group name (``Bao Y., Prescott J.``
    as Embase and older Scopus write them; ``Bao Y, Prescott J, Some Study Group.`` as
    PubMed's CSV does). A lone ``Surname, Given`` stays one name.
    """
    if text is None:
        return []
    value = str(text).strip()
    if not value:
        return []
    if ";" in value:
        return [part.strip() for part in value.split(";") if part.strip()]
    joined_by_and = [part.strip() for part in re.split(r"\s+and\s+", value) if part.strip()]
    if len(joined_by_and) > 1 and all(
        "," in part or _is_surname_initials(part) for part in joined_by_and
    ):
        return joined_by_and
    pieces = [part.strip() for part in value.split(",") if part.strip()]
    personal = [_is_surname_initials(piece) for piece in pieces]
    if (
        len(pieces) > 1
        and any(personal)
        and all(ok or _looks_collective(piece) for ok, piece in zip(personal, pieces, strict=True))
    ):
        return pieces
    return [value]


def _is_surname_initials(piece: str) -> bool:
    tokens = piece.rstrip(".").split(" ")
    if len(tokens) == 1:
        return False
    return _is_initials(tokens[-1].rstrip(".") or tokens[-1])


def normalize_authors(names: Iterable[str]) -> list[str]:
    """Normalise names with :func:`normalize_author`, dropping empty ones."""
    authors = []
    for name in names:
        author = normalize_author(name)
        if author:
            authors.append(author)
    return authors


# -- titles -----------------------------------------------------------------------------------

_GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ζ": "zeta",
    "η": "eta", "θ": "theta", "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu", "ν": "nu",
    "ξ": "xi", "ο": "omicron", "π": "pi", "ρ": "rho", "σ": "sigma", "ς": "sigma", "τ": "tau",
    "υ": "upsilon", "φ": "phi", "ϕ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega",
}  # fmt: skip
# Letters NFKD does not decompose into a base letter plus accent.
_LETTERS = {"æ": "ae", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "œ": "oe", "ı": "i"}
_TRANSLATE = str.maketrans({**_GREEK, **_LETTERS, "&": " and "})
_LATEX_LETTERS = {"ss": "ss", "o": "o", "ae": "ae", "oe": "oe", "aa": "a", "l": "l", "i": "i"}
_GREEK_NAMES = frozenset(_GREEK.values())

_HTML_TAG = re.compile(r"</?[a-zA-Z][^<>]{0,40}>")
_LATEX_ACCENT = re.compile(r"\\[\"'`^~=.]")
_LATEX_COMMAND = re.compile(r"\\([a-zA-Z]+)\*?")
NON_WORD = re.compile(r"[\W_]+")

WHOLE_BRACKETS = re.compile(r"^\s*\[(?P<inner>[^\[\]]+)\]\s*[.]?\s*$")
_TRAILING_NOTE = re.compile(
    r"""\s*(?:
        \[[^\[\]]{1,60}\]                                    # [Article in Chinese], [French]
      | \[\s*(?:published\s+)?(?:erratum|errata|corrigendum|comment|retraction|retracted|
            summary\s+for\s+patients|update|see)\b.*      # [Erratum appears in ... [corrected]]
      | \((?:author'?s'?\s+transl\w*|article\s+in\s+\w+|[\w\s]{0,20}\babstract)\.?\)
    )\s*\.?\s*$""",
    re.IGNORECASE | re.VERBOSE | re.DOTALL,
)


def normalise_text(value: str) -> str:
    """Lower-case words without accents, markup or punctuation, single-spaced.

    Used for titles and journals: HTML entities and tags, LaTeX accents and commands, Greek
    letters (to their names) and diacritics are folded so that exports of the same record from
    different databases compare equal.
    """
    text = html.unescape(value)
    text = _HTML_TAG.sub(" ", text)
    if "\\" in text:
        text = _LATEX_ACCENT.sub("", text)
        text = _LATEX_COMMAND.sub(_latex_command, text)
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(char for char in text if not unicodedata.combining(char))
    text = text.casefold().translate(_TRANSLATE)
    return " ".join(NON_WORD.sub(" ", text).split())


def _latex_command(match: re.Match[str]) -> str:
    """A LaTeX command becomes its letter (\\ss), Greek name (\\alpha) or nothing (\\textit)."""
    name = match.group(1)
    if name in _LATEX_LETTERS:
        return _LATEX_LETTERS[name]
    if name.lower() in _GREEK_NAMES:
        return f" {name.lower()} "
    return " "


def normalise_title(value: str | None) -> str | None:
    """The comparable form of a title: trailing notes ("[Article in Chinese]") removed.

    A title wholly in square brackets (PubMed's translated titles) is unwrapped.
    """
    if value is None:
        return None
    text = strip_title_notes(value)
    whole = WHOLE_BRACKETS.match(text)
    if whole:
        text = strip_title_notes(whole.group("inner"))
    return normalise_text(text) or None


def strip_title_notes(value: str) -> str:
    """A title without trailing bracketed notes ("[Review] [33 refs]", "[Erratum appears...]")."""
    text = html.unescape(value).strip().strip('"“”')
    for _ in range(4):
        stripped = _TRAILING_NOTE.sub("", text)
        if stripped == text or not stripped.strip():
            break
        text = stripped
    return text
