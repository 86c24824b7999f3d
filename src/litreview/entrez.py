"""The one client of NCBI E-utilities: build requests, send them politely, check what came back.

Shape (after Biopython's ``Bio.Entrez``): requests are built by pure functions
(:func:`build_request`, on top of Biopython's own request builder, pointed at
``EntrezSettings.base_url``); *all* network work - the rate limit, retries with backoff,
``Retry-After`` - sits in :meth:`EntrezClient._call`; responses are checked by pure functions:
:func:`parse_esearch` with ``Bio.Entrez.read`` (DTD-validated), :func:`parse_efetch` with a
streaming expat scan that only counts the records and reads their PMIDs (the payloads are kept
as received; the records stage's parser reads each before the snapshot is committed).

Biopython's ``Bio.Entrez.esearch``/``efetch`` are not used to *send*: in 1.88 they hard-code
NCBI's URL and go through ``Bio.Entrez._open``, whose rate limit is a process-wide global and
which retries HTTP 429 at once, with no pause. We build with ``Bio.Entrez._build_request(cgi,
params, post=...)`` (the URL is ours) and send with ``urllib`` ourselves.

The API key is read only from the environment variable ``NCBI_API_KEY``. It is sent to the
server and kept nowhere else: it is not a settings field, it is redacted from every message and
log line (:func:`redact`), and :class:`SearchResult`/:class:`FetchedBatch` record request
parameters without it.
"""

from __future__ import annotations

import http.client
import io
import logging
import os
import random
import re
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, TypeVar
from xml.parsers import expat

from Bio import Entrez
from Bio.Entrez.Parser import CorruptedXMLError, DataHandler, NotXMLError
from Bio.Entrez.Parser import ValidationError as EntrezValidationError
from tqdm import tqdm

from litreview.errors import (
    ConfigError,
    EntrezError,
    HistoryError,
    IncompleteResultError,
    RateLimitError,
    UnsafeXMLError,
)
from litreview.xmlsafe import check_no_declarations

__all__ = [
    "API_KEY_ENV",
    "BUDGET_ENV",
    "ESEARCH_MAX_RETRIEVABLE",
    "NCBI_BASE_URL",
    "DateWindow",
    "EntrezClient",
    "EntrezSettings",
    "EsearchPage",
    "FetchedBatch",
    "RateLimiter",
    "SearchResult",
    "SharedRateLimiter",
    "api_key_from_environment",
    "backoff_delay",
    "budget_file",
    "build_request",
    "describe_request",
    "format_ncbi_date",
    "parse_efetch",
    "parse_esearch",
    "parse_ncbi_date",
    "parse_retry_after",
    "redact",
]

logger = logging.getLogger(__name__)

NCBI_BASE_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
API_KEY_ENV = "NCBI_API_KEY"
# PubMed's esearch returns at most the first 9,999 IDs of a result (retstart > 9998 fails).
ESEARCH_MAX_RETRIEVABLE = 9999
# Bounds used to split a query that has no date window of its own. Anything outside them is
# not lost silently: the union of the windows is checked against the query's Count.
SPLIT_EARLIEST = date(1700, 1, 1)
SPLIT_YEARS_AHEAD = 5
# Date windows are sized to hold about this share of the 9,999 cap: a window that overflows is
# a wasted request, and the next (older) window is sized from the last one's density.
WINDOW_FILL = 0.85
# Before any window is counted, a query's records are taken to lie in its last 30 years.
RECENT_DAYS = 30 * 365
REDACTED = "***"
# <ERROR> texts that no retry will fix.
PERMANENT_ERROR_MARKERS = ("cannot be larger than", "Invalid", "invalid")
_ALLOWED_DATETYPES = ("pdat", "edat", "mdat")

T = TypeVar("T")


# --------------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntrezSettings:
    """How to reach E-utilities. Holds no secret: the API key comes only from NCBI_API_KEY."""

    email: str
    tool: str = "litreview"
    base_url: str = NCBI_BASE_URL
    batch_size: int = 500
    max_tries: int = 6
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    timeout: float = 60.0
    requests_per_second: float | None = None
    esearch_page_size: int = ESEARCH_MAX_RETRIEVABLE

    def __post_init__(self) -> None:
        problems = []
        if "@" not in self.email or self.email.strip() != self.email:
            problems.append(f"email {self.email!r} is not an e-mail address (NCBI requires one)")
        if not self.tool or any(char.isspace() for char in self.tool):
            problems.append(f"tool {self.tool!r} must be a non-empty word without spaces")
        if not self.base_url.startswith(("http://", "https://")):
            problems.append(f"base_url {self.base_url!r} must start with http:// or https://")
        if not 1 <= self.batch_size <= 10_000:
            problems.append(f"batch_size {self.batch_size} must be between 1 and 10000")
        if not 1 <= self.esearch_page_size <= ESEARCH_MAX_RETRIEVABLE:
            problems.append(f"esearch_page_size {self.esearch_page_size} must be 1..9999")
        if self.max_tries < 1:
            problems.append(f"max_tries {self.max_tries} must be at least 1")
        if self.backoff_base < 0 or self.backoff_max < 0:
            problems.append("backoff_base and backoff_max must not be negative")
        if self.timeout <= 0:
            problems.append(f"timeout {self.timeout} must be positive")
        if self.requests_per_second is not None and self.requests_per_second <= 0:
            problems.append(f"requests_per_second {self.requests_per_second} must be positive")
        if problems:
            raise ConfigError("Entrez settings: " + "; ".join(problems))

    @classmethod
    def from_config(cls, entrez: Mapping[str, Any], **overrides: Any) -> EntrezSettings:
        """Settings from the workflow's `entrez:` section (plus overrides, e.g. base_url)."""
        keys = ("email", "tool", "base_url", "batch_size", "max_tries", "timeout")
        values = {key: entrez[key] for key in keys if key in entrez}
        return cls(**{**values, **overrides})

    @property
    def normalized_base_url(self) -> str:
        """The base URL with exactly one trailing slash, so endpoint names can be appended."""
        return self.base_url.rstrip("/") + "/"

    def rate_for(self, *, has_api_key: bool) -> float:
        """Requests per second we allow ourselves: NCBI's 3/s, or 10/s with a key."""
        if self.requests_per_second is not None:
            return self.requests_per_second
        return 10.0 if has_api_key else 3.0

    def public_parameters(self) -> dict[str, Any]:
        """The settings as recorded in a snapshot manifest (there is no key among them)."""
        return {
            "tool": self.tool,
            "email": self.email,
            "base_url": self.normalized_base_url,
            "batch_size": self.batch_size,
            "esearch_page_size": self.esearch_page_size,
            "max_tries": self.max_tries,
            "timeout": self.timeout,
            "requests_per_second": self.requests_per_second,
        }


def api_key_from_environment(environ: Mapping[str, str] | None = None) -> str | None:
    """The NCBI API key from NCBI_API_KEY, or None when unset or blank."""
    value = (os.environ if environ is None else environ).get(API_KEY_ENV, "").strip()
    return value or None


# --------------------------------------------------------------------------------------------
# Pure helpers: requests, redaction, backoff, dates, parsing
# --------------------------------------------------------------------------------------------


def redact(text: str, api_key: str | None) -> str:
    """``text`` with the API key (and any ``api_key=`` parameter value) replaced by ***."""
    if api_key:
        text = text.replace(api_key, REDACTED)
    return re.sub(r"(api_key=)[^&\s\"']+", rf"\g<1>{REDACTED}", text)


def build_request(
    settings: EntrezSettings,
    endpoint: str,
    params: Mapping[str, Any],
    *,
    api_key: str | None = None,
    post: bool | None = None,
) -> urllib.request.Request:
    """The HTTP request for one E-utility call (pure: no I/O).

    ``endpoint`` is "esearch" or "efetch". ``tool`` and ``email`` are always added, and
    ``api_key`` when given. ``post=None`` lets Biopython choose (POST for long parameter
    strings or 200+ IDs), as NCBI asks.
    """
    full_params: dict[str, Any] = {key: value for key, value in params.items()}
    for reserved in ("tool", "email", "api_key"):
        if reserved in full_params:
            raise ValueError(f"{reserved!r} is added by build_request; do not pass it in params")
    full_params["tool"] = settings.tool
    full_params["email"] = settings.email
    full_params["api_key"] = api_key  # None is dropped by Biopython, overriding its global
    cgi = f"{settings.normalized_base_url}{endpoint}.fcgi"
    return Entrez._build_request(cgi, full_params, post=post)


def request_parameters(request: urllib.request.Request) -> str:
    """The URL-encoded parameter string of a request (query string or POST body)."""
    if request.data is not None:
        data = request.data
        return data.decode("utf-8") if isinstance(data, bytes) else str(data)
    return request.full_url.partition("?")[2]


def describe_request(request: urllib.request.Request, api_key: str | None, limit: int = 300) -> str:
    """A one-line, key-free description of a request for messages and logs."""
    url = request.full_url.partition("?")[0]
    params = redact(request_parameters(request), api_key)
    if len(params) > limit:
        params = params[:limit] + f"... ({len(params)} characters)"
    return f"{request.get_method()} {url} [{params}]"


def backoff_delay(attempt: int, base: float, maximum: float, rng: random.Random) -> float:
    """Full-jitter exponential backoff: uniform in [0, min(maximum, base * 2**(attempt-1))]."""
    ceiling = min(maximum, base * (2 ** max(0, attempt - 1)))
    return rng.uniform(0.0, ceiling)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None if absent.

    An unparseable value is treated as absent: the normal backoff then applies.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        logger.warning("ignoring unparseable Retry-After header %r", text)
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    current = now or datetime.now(UTC)
    return max(0.0, (moment - current).total_seconds())


_DATE_PATTERN = re.compile(r"^(\d{4})(?:[/-](\d{1,2})(?:[/-](\d{1,2}))?)?$")


def parse_ncbi_date(text: str, *, end: bool = False) -> date:
    """An E-utilities date (YYYY, YYYY/MM or YYYY/MM/DD) as a day.

    Partial dates stand for a span: its first day, or its last day when ``end`` is true.
    """
    match = _DATE_PATTERN.match(text.strip())
    if not match:
        raise ConfigError(f"date {text!r} is not YYYY, YYYY/MM or YYYY/MM/DD")
    year = int(match.group(1))
    month = int(match.group(2)) if match.group(2) else (12 if end else 1)
    try:
        if match.group(3):
            return date(year, month, int(match.group(3)))
        if end:
            next_month = date(year + (month == 12), month % 12 + 1, 1)
            return next_month - timedelta(days=1)
        return date(year, month, 1)
    except ValueError as error:
        raise ConfigError(f"date {text!r} is not a calendar date: {error}") from None


def format_ncbi_date(day: date) -> str:
    """A day as E-utilities writes it: YYYY/MM/DD."""
    return f"{day.year:04d}/{day.month:02d}/{day.day:02d}"


@dataclass(frozen=True)
class DateWindow:
    """An inclusive range of days and how many records PubMed counts in it."""

    start: date
    end: date
    count: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "mindate": format_ncbi_date(self.start),
            "maxdate": format_ncbi_date(self.end),
            "count": self.count,
        }


@dataclass(frozen=True)
class EsearchPage:
    """One esearch response, parsed, with the raw bytes and the key-free parameters."""

    count: int
    ids: tuple[str, ...]
    retstart: int
    retmax: int
    webenv: str | None
    query_key: str | None
    query_translation: str | None
    messages: dict[str, list[str]]
    params: dict[str, str]
    payload: bytes


class _RetryableResponseError(Exception):
    """A response that may be fine next time (ERROR body, truncated XML, short batch)."""

    def __init__(self, problem: str, *, missing: Sequence[str] = ()) -> None:
        super().__init__(problem)
        self.problem = problem
        self.missing = tuple(missing)


class _PermanentResponseError(Exception):
    """A response no retry will fix (bad request, unsupported DTD, invalid query)."""


class _HistoryResponseError(Exception):
    """The WebEnv history cannot serve the result esearch counted (expired, or changed)."""

    def __init__(self, problem: str, *, unexpected: Sequence[str] = ()) -> None:
        super().__init__(problem)
        self.unexpected = tuple(unexpected)


HISTORY_LOST_MARKER = "Unable to obtain query"


class _CountDriftError(IncompleteResultError):
    """A search's pages did not add up to its Count: PubMed changed between two pages."""


_ROOT_PATTERN = re.compile(rb"<([A-Za-z_][\w.:-]*)[\s/>]")
_DOCTYPE_PATTERN = re.compile(
    rb"<!DOCTYPE\s+\w+\s+(?:PUBLIC\s+\"[^\"]*\"\s+|SYSTEM\s+)\"([^\"]+)\""
)
_ERROR_PATTERN = re.compile(rb"<ERROR>(.*?)</ERROR>", re.S)


def _root_element(payload: bytes) -> str | None:
    """Name of the first element of an XML payload (the prolog's <?...> and <!...> never match)."""
    match = _ROOT_PATTERN.search(payload)
    return match.group(1).decode("ascii", "replace") if match else None


def _check_envelope(payload: bytes, expected_root: str) -> None:
    """Reject before Biopython parses: wrong root, <ERROR> bodies, DTDs Biopython lacks.

    The DTD check matters: ``Bio.Entrez`` downloads a DTD it does not ship, and a client that
    talks to a mirror or a test server must not reach out to the internet behind our back.
    """
    if not payload.strip():
        raise _RetryableResponseError("empty response body")
    try:
        check_no_declarations(payload, f"<{expected_root}> response")
    except UnsafeXMLError as error:
        raise _PermanentResponseError(str(error)) from None
    root = _root_element(payload)
    if root != expected_root:
        error = _ERROR_PATTERN.search(payload)
        if error is not None:
            _raise_for_error_text(error.group(1).decode("utf-8", "replace"))
        snippet = payload[:120].decode("utf-8", "replace")
        raise _RetryableResponseError(
            f"expected a <{expected_root}> XML document, got {root and f'<{root}>'!s} "
            f"(starts {snippet!r})"
        )
    doctype = _DOCTYPE_PATTERN.search(payload[:2000])
    if doctype is None:
        raise _RetryableResponseError(f"<{expected_root}> response without a DOCTYPE")
    dtd_name = Path(doctype.group(1).decode("ascii", "replace")).name
    if not _dtd_available(dtd_name):
        raise _PermanentResponseError(
            f"the response uses DTD {dtd_name}, which this Biopython does not ship; "
            "upgrade Biopython (it ships the DTDs NCBI currently uses)"
        )


def _dtd_available(name: str) -> bool:
    folders = [DataHandler.global_dtd_dir, DataHandler.local_dtd_dir]
    return any(folder and Path(folder, name).is_file() for folder in folders)


def _raise_for_error_text(text: str) -> None:
    message = " ".join(text.split())
    if HISTORY_LOST_MARKER in message:
        raise _HistoryResponseError(f"E-utilities answered <ERROR>: {message}")
    if any(marker in message for marker in PERMANENT_ERROR_MARKERS):
        raise _PermanentResponseError(f"E-utilities answered <ERROR>: {message}")
    raise _RetryableResponseError(f"E-utilities answered <ERROR>: {message}")


def _entrez_read(payload: bytes) -> Any:
    try:
        return Entrez.read(io.BytesIO(payload), validate=True, ignore_errors=True)
    except (CorruptedXMLError, NotXMLError) as error:
        raise _RetryableResponseError(f"truncated or malformed XML ({error})") from None
    except EntrezValidationError as error:
        raise _PermanentResponseError(
            f"XML element <{error}> is not in the DTD the response declares; "
            "upgrade Biopython or report the response to the litreview maintainers"
        ) from None


def parse_esearch(payload: bytes, params: Mapping[str, str] | None = None) -> EsearchPage:
    """Parse one esearch XML response (raises the internal retry/permanent signals)."""
    _check_envelope(payload, "eSearchResult")
    record = _entrez_read(payload)
    if "ERROR" in record:
        _raise_for_error_text(str(record["ERROR"]))
    if "Count" not in record:
        raise _RetryableResponseError("esearch response without <Count>")
    messages: dict[str, list[str]] = {}
    for group in ("ErrorList", "WarningList"):
        for name, values in (record.get(group) or {}).items():
            if values:
                messages[name] = [str(value) for value in values]
    return EsearchPage(
        count=int(record["Count"]),
        ids=tuple(str(pmid) for pmid in record.get("IdList", [])),
        retstart=int(record.get("RetStart", 0)),
        retmax=int(record.get("RetMax", 0)),
        webenv=str(record["WebEnv"]) if "WebEnv" in record else None,
        query_key=str(record["QueryKey"]) if "QueryKey" in record else None,
        query_translation=(
            str(record["QueryTranslation"]) if "QueryTranslation" in record else None
        ),
        messages=messages,
        params=dict(params or {}),
        payload=payload,
    )


def parse_efetch(payload: bytes) -> list[str]:
    """PMIDs of the PubmedArticle and PubmedBookArticle records of one efetch payload, in order.

    A streaming expat scan that only counts records and reads their PMIDs. It rejects truncated
    or malformed XML; the search then parses each payload with the records stage's own parser
    before the snapshot is committed. (An entity the external DTD would define is skipped here,
    not an error, as XML allows.)
    """
    _check_envelope(payload, "PubmedArticleSet")
    pmids: list[str] = []
    path: list[str] = []
    text: list[str] = []
    records_without_pmid: list[int] = []
    record_tags = ("PubmedArticle", "PubmedBookArticle")

    def start(name: str, attributes: dict[str, str]) -> None:
        path.append(name)
        text.clear()
        if len(path) == 2 and name in record_tags:
            pmids.append("")

    def end(name: str) -> None:
        if (
            name == "PMID"
            and len(path) == 4
            and path[1] in record_tags
            and path[2] in ("MedlineCitation", "BookDocument")
        ):
            pmids[-1] = "".join(text).strip()
        elif len(path) == 2 and name in record_tags and not pmids[-1]:
            records_without_pmid.append(len(pmids))
        path.pop()

    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text.append
    try:
        parser.Parse(payload, True)
    except expat.ExpatError as error:
        raise _RetryableResponseError(f"truncated or malformed XML ({error})") from None
    if records_without_pmid:
        raise _RetryableResponseError(
            f"record(s) number {_preview([str(n) for n in records_without_pmid])} have no PMID"
        )
    return pmids


def check_batch(received: Sequence[str], requested: Sequence[str]) -> None:
    """Raise (retryable) unless a batch holds exactly the records asked for, once each."""
    if len(received) == len(requested) and set(received) == set(requested):
        return
    received_set = set(received)
    missing = [pmid for pmid in requested if pmid not in received_set]
    unexpected = sorted(received_set - set(requested))
    problem = f"asked for {len(requested)} records, got {len(received)}"
    if missing:
        problem += f"; missing PMIDs {_preview(missing)}"
    if unexpected:
        problem += f"; unexpected PMIDs {_preview(unexpected)}"
    if not missing and not unexpected:
        problem += "; some records came more than once"
    raise _RetryableResponseError(problem, missing=missing)


def _preview(values: Sequence[str], limit: int = 20) -> str:
    shown = ", ".join(values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")


# --------------------------------------------------------------------------------------------
# Rate limiting
# --------------------------------------------------------------------------------------------


class RateLimiter:
    """Spaces request starts evenly so that no second holds more than ``rate`` of them.

    ``safety`` widens the spacing a little (as Biopython's 0.37 s for 3/s does), so jitter in
    when requests reach the server does not push a second over NCBI's limit. Thread-safe: each
    caller reserves the next free slot under a lock, then sleeps outside it.
    """

    def __init__(
        self,
        rate: float,
        *,
        safety: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.interval = (1.0 + safety) / rate
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_slot: float | None = None

    def wait(self) -> float:
        """Block until this caller may send; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            slot = now if self._next_slot is None else max(now, self._next_slot)
            self._next_slot = slot + self.interval
        delay = slot - now
        if delay > 0:
            self._sleep(delay)
        return delay


# NCBI's limit is per API key and address, not per process: searches running at once on one
# machine (reviews of one `litreview run-many`, or cron jobs that overlap) share one budget, a
# file holding the next free request slot, reserved under an exclusive lock (flock).
BUDGET_ENV = "LITREVIEW_NCBI_BUDGET"  # a folder for the budget files, or "off"


def budget_file(base_url: str, *, has_api_key: bool, environ: Mapping[str, str] | None = None):
    """The budget file shared by every client of this server with (or without) a key; None when
    sharing is off. One file per host and port, so a local test server has its own."""
    environ = os.environ if environ is None else environ
    setting = environ.get(BUDGET_ENV, "")
    if setting.lower() == "off":
        return None
    if setting:
        folder = Path(setting)
    else:
        runtime = environ.get("XDG_RUNTIME_DIR")
        folder = Path(runtime) / "litreview" if runtime else Path.home() / ".cache" / "litreview"
    address = urllib.parse.urlsplit(base_url).netloc or "ncbi"
    name = re.sub(r"[^A-Za-z0-9.-]+", "_", address)
    return folder / f"ncbi-budget-{name}-{'key' if has_api_key else 'nokey'}"


class SharedRateLimiter:
    """RateLimiter across processes: the next free slot lives in a file every client of the
    same server and key state reserves from under flock, so N concurrent searches together
    send no more than ``rate`` a second. The file holds one number (a Unix time); a missing,
    unreadable or stale one means "now". Falls back to the in-process limiter if the file
    cannot be used (a read-only home)."""

    def __init__(
        self,
        rate: float,
        path: str | Path,
        *,
        safety: float = 0.1,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._local = RateLimiter(rate, safety=safety, sleep=sleep)  # checks rate; the fallback
        self.interval = self._local.interval
        self.path = Path(path)
        self._clock = clock
        self._sleep = sleep

    def _reserve(self) -> tuple[float, float]:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file is closed
            handle.seek(0)
            text = handle.read(64).decode("ascii", "replace").strip()
            now = self._clock()
            try:
                next_slot = float(text)
            except ValueError:
                next_slot = now
            if not now - 3600 < next_slot < now + 3600:  # a clock change, or garbage
                next_slot = now
            slot = max(now, next_slot)
            handle.seek(0)
            handle.truncate()
            handle.write(repr(slot + self.interval).encode("ascii"))
            handle.flush()
        return slot, now

    def wait(self) -> float:
        """Block until this caller may send; returns the seconds waited."""
        try:
            slot, now = self._reserve()
        except OSError as error:
            logger.warning("shared NCBI budget %s unusable (%s): limiting this process only",
                           self.path, error)  # fmt: skip
            return self._local.wait()
        delay = slot - now
        if delay > 0:
            self._sleep(delay)
        return delay


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchResult:
    """Every PMID of a query, with what is needed to fetch them and to record how."""

    query: str
    query_translation: str | None
    count: int
    ids: tuple[str, ...]
    webenv: str | None
    query_key: str | None
    datetype: str
    mindate: str | None
    maxdate: str | None
    windows: tuple[DateWindow, ...]
    pages: tuple[EsearchPage, ...] = field(repr=False)

    @property
    def split(self) -> bool:
        """True when the query was cut into date windows (more than 9,999 hits)."""
        return bool(self.windows)

    @property
    def fetch_mode(self) -> str:
        """ "history" (efetch pages through WebEnv/query_key) or "id-list" (POSTed PMIDs)."""
        if self.split or self.webenv is None or self.query_key is None:
            return "id-list"
        return "history"


@dataclass(frozen=True)
class FetchedBatch:
    """One efetch response as received, and which PMIDs it holds."""

    number: int
    requested: tuple[str, ...]
    pmids: tuple[str, ...]
    params: dict[str, str]
    payload: bytes = field(repr=False)


# --------------------------------------------------------------------------------------------
# The client
# --------------------------------------------------------------------------------------------

Opener = Callable[..., Any]


class EntrezClient:
    """Sends E-utilities requests under one rate limit and one retry policy.

    ``clock``, ``sleep`` and ``rng`` are injectable so tests can check the waiting without
    waiting; ``opener`` is ``urllib.request.urlopen`` unless a test replaces it.
    """

    def __init__(
        self,
        settings: EntrezSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        opener: Opener | None = None,
    ) -> None:
        self.settings = settings
        self._api_key = api_key_from_environment()
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._opener = opener or _default_opener(settings.normalized_base_url)
        rate = settings.rate_for(has_api_key=self._api_key is not None)
        shared = budget_file(settings.normalized_base_url, has_api_key=self._api_key is not None)
        self.limiter: RateLimiter | SharedRateLimiter
        if shared is not None and clock is time.monotonic:  # (tests inject a clock: local)
            self.limiter = SharedRateLimiter(rate, shared, sleep=sleep)
        else:
            self.limiter = RateLimiter(rate, clock=clock, sleep=sleep)
        self._count_lock = threading.Lock()
        self.requests_sent = 0
        # each time the history server could not serve a search and IDs were POSTed instead
        self.history_fallbacks: list[dict[str, Any]] = []
        # each search made again because its pages did not add up to its count
        self.search_repeats: list[dict[str, Any]] = []

    def __repr__(self) -> str:
        key_state = "set" if self._api_key else "not set"
        return f"EntrezClient(base_url={self.settings.normalized_base_url!r}, api_key {key_state})"

    @property
    def has_api_key(self) -> bool:
        return self._api_key is not None

    # -- the one place that touches the network ------------------------------------------------

    def _call(
        self,
        endpoint: str,
        params: Mapping[str, Any],
        parse: Callable[[bytes], T],
        *,
        post: bool | None = None,
    ) -> tuple[T, bytes]:
        """Send one request (retrying as needed) and return (parsed, raw payload)."""
        request = build_request(self.settings, endpoint, params, api_key=self._api_key, post=post)
        description = describe_request(request, self._api_key)
        last_problem = "no attempt made"
        last_was_rate_limit = False
        last_missing: tuple[str, ...] = ()
        tries = self.settings.max_tries
        for attempt in range(1, tries + 1):
            self.limiter.wait()
            with self._count_lock:
                self.requests_sent += 1
            retry_after: float | None = None
            last_missing = ()
            try:
                payload = self._send(request)
                return parse(payload), payload
            except urllib.error.HTTPError as error:
                body = _read_error_body(error)
                last_problem = f"HTTP {error.code} {error.reason}"
                if body:
                    error_text = re.search(r"<ERROR>(.*?)</ERROR>", body, re.S)
                    last_problem += f": {error_text.group(1) if error_text else body[:200]}"
                last_was_rate_limit = error.code == 429
                if HISTORY_LOST_MARKER in body:
                    raise HistoryError(
                        f"{endpoint}: the history server lost the search "
                        f"({redact(last_problem, self._api_key)}) for {description}"
                    ) from None
                if error.code != 429 and error.code < 500:
                    raise EntrezError(
                        f"{endpoint} was refused ({redact(last_problem, self._api_key)}) for "
                        f"{description}. Check the query and the settings (base_url, email)."
                    ) from None
                retry_after = parse_retry_after(error.headers.get("Retry-After"))
            except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
                reason = getattr(error, "reason", error)
                last_problem = f"network error: {type(reason).__name__}: {reason}"
                last_was_rate_limit = False
            except http.client.HTTPException as error:
                last_problem = f"broken HTTP response: {type(error).__name__}: {error}"
                last_was_rate_limit = False
            except _RetryableResponseError as error:
                last_problem = error.problem
                last_missing = error.missing
                last_was_rate_limit = False
            except _HistoryResponseError as error:
                lost = HistoryError(
                    f"{endpoint}: {redact(str(error), self._api_key)} for {description}"
                )
                lost.unexpected = error.unexpected
                raise lost from None
            except _PermanentResponseError as error:
                raise EntrezError(
                    f"{endpoint} failed for {description}: {redact(str(error), self._api_key)}"
                ) from None
            if attempt == tries:
                break
            delay = backoff_delay(
                attempt, self.settings.backoff_base, self.settings.backoff_max, self._rng
            )
            if retry_after is not None:
                delay = max(delay, retry_after)
            logger.warning(
                "%s try %d/%d failed (%s); retrying in %.2f s: %s",
                endpoint,
                attempt,
                tries,
                redact(last_problem, self._api_key),
                delay,
                description,
            )
            self._sleep(delay)
        problem = redact(last_problem, self._api_key)
        if last_was_rate_limit:
            raise RateLimitError(
                f"{endpoint} was rate-limited by the server (HTTP 429) on all {tries} tries of "
                f"{description}. Wait a few minutes and rerun; lower "
                f"requests_per_second; or set NCBI_API_KEY to a key from your NCBI account "
                f"(10 requests/s instead of 3)."
            )
        if last_missing:
            short = IncompleteResultError(
                f"{endpoint} did not return every record asked for after {tries} tries "
                f"({problem}) for {description}. Missing PMIDs: {', '.join(last_missing)}. "
                "They may have been deleted from PubMed; rerun later, or report them."
            )
            short.missing = last_missing
            raise short
        raise EntrezError(
            f"{endpoint} failed {tries} times; last problem: {problem}; request: "
            f"{description}. Check the network and https://www.ncbi.nlm.nih.gov/ status, "
            "then rerun (raise max_tries or timeout for a slow connection)."
        )

    def _send(self, request: urllib.request.Request) -> bytes:
        with self._opener(request, timeout=self.settings.timeout) as response:
            return response.read()

    # -- esearch --------------------------------------------------------------------------------

    def esearch(
        self,
        term: str,
        *,
        retstart: int = 0,
        retmax: int | None = None,
        usehistory: bool = False,
        mindate: str | None = None,
        maxdate: str | None = None,
        datetype: str = "pdat",
    ) -> EsearchPage:
        """One esearch request on PubMed."""
        params: dict[str, str] = {"db": "pubmed", "term": term}
        params["retstart"] = str(retstart)
        params["retmax"] = str(self.settings.esearch_page_size if retmax is None else retmax)
        if usehistory:
            params["usehistory"] = "y"
        if mindate is not None or maxdate is not None:
            params.update(datetype=datetype, mindate=mindate or "", maxdate=maxdate or "")
        page, _ = self._call("esearch", params, lambda payload: parse_esearch(payload, params))
        return page

    def search(
        self,
        term: str,
        *,
        mindate: str | None = None,
        maxdate: str | None = None,
        datetype: str = "pdat",
        windows_hint: Sequence[DateWindow] = (),
    ) -> SearchResult:
        """Every PMID of ``term``, splitting into date windows past NCBI's 9,999-ID cap.

        Windows are planned newest first from counts already seen: each from the density of
        the last (sized to hold ~85% of the cap), the rest of the range in one window as soon
        as what remains of the Count fits, and ``windows_hint`` (an earlier search's windows)
        tried first. A window that overflows is re-planned from its own count.

        When the pages do not add up to PubMed's Count (PubMed changed between two pages of
        the search: records added or removed shift the later pages), the whole search is made
        once more and the first attempt recorded in :attr:`search_repeats`; a second mismatch
        raises IncompleteResultError, naming the PMIDs the pages repeated.
        """
        if (mindate is None) != (maxdate is None):
            raise ConfigError("give both mindate and maxdate, or neither (NCBI needs both)")
        if datetype not in _ALLOWED_DATETYPES:
            raise ConfigError(f"datetype {datetype!r} must be one of {_ALLOWED_DATETYPES}")
        try:
            return self._search_once(term, mindate, maxdate, datetype, windows_hint)
        except _CountDriftError as drift:
            logger.warning("%s; searching again", drift)
            self.search_repeats.append({"query": term, "problem": str(drift)})
        try:
            return self._search_once(term, mindate, maxdate, datetype, ())
        except _CountDriftError as drift:
            raise IncompleteResultError(
                f"{drift}. A second search found the same: PubMed is changing under the query "
                "right now; rerun later (report it if it persists)"
            ) from None

    def _search_once(
        self,
        term: str,
        mindate: str | None,
        maxdate: str | None,
        datetype: str,
        windows_hint: Sequence[DateWindow],
    ) -> SearchResult:
        pages: list[EsearchPage] = []
        first = self.esearch(
            term, usehistory=True, mindate=mindate, maxdate=maxdate, datetype=datetype
        )
        pages.append(first)
        windows: list[DateWindow] = []
        if first.count <= ESEARCH_MAX_RETRIEVABLE:
            ids = self._page_through(first, pages, term, mindate, maxdate, datetype)
        else:
            start = parse_ncbi_date(mindate) if mindate else SPLIT_EARLIEST
            end = (
                parse_ncbi_date(maxdate, end=True)
                if maxdate
                else date(datetime.now(UTC).year + SPLIT_YEARS_AHEAD, 12, 31)
            )
            ids = self._collect_windows(
                term, start, end, first.count, datetype, pages, windows, windows_hint
            )
        unique = tuple(dict.fromkeys(ids))
        if len(unique) != first.count or len(ids) != len(unique):  # a shifted page repeats IDs
            where = f"date windows ({datetype})" if windows else "result pages"
            repeated = [pmid for pmid, times in Counter(ids).items() if times > 1]
            raise _CountDriftError(
                f"PubMed counted {first.count} records for {term!r} but the {where} gave "
                f"{len(unique)} distinct PMIDs"
                + (f" (PMIDs given twice: {_preview(repeated)})" if repeated else "")
                + ": PubMed changed during the search, or records lack a date in the window "
                "searched (give mindate/maxdate covering them)"
            )
        logger.info(
            "esearch: %d PMIDs for %r in %d request(s)%s",
            len(unique),
            term,
            len(pages),
            f", {len(windows)} date windows" if windows else "",
        )
        return SearchResult(
            query=term,
            query_translation=first.query_translation,
            count=first.count,
            ids=unique,
            webenv=first.webenv,
            query_key=first.query_key,
            datetype=datetype,
            mindate=mindate,
            maxdate=maxdate,
            windows=tuple(windows),
            pages=tuple(pages),
        )

    def _page_through(
        self,
        first: EsearchPage,
        pages: list[EsearchPage],
        term: str,
        mindate: str | None,
        maxdate: str | None,
        datetype: str,
    ) -> list[str]:
        """All IDs of a result of at most 9,999, paging with retstart."""
        ids = list(first.ids)
        while len(ids) < first.count:
            page = self.esearch(
                term, retstart=len(ids), mindate=mindate, maxdate=maxdate, datetype=datetype
            )
            pages.append(page)
            if not page.ids:
                raise _CountDriftError(
                    f"esearch for {term!r} stopped giving IDs at {len(ids)} of {first.count} "
                    f"(retstart={len(ids)}). PubMed may have changed during the run: rerun."
                )
            ids.extend(page.ids)
        return ids

    def _collect_windows(
        self,
        term: str,
        start: date,
        end: date,
        count: int,
        datetype: str,
        pages: list[EsearchPage],
        windows: list[DateWindow],
        hint: Sequence[DateWindow] = (),
    ) -> list[str]:
        """IDs of a range known to hold ``count`` > 9,999 records, in date windows newest first.

        Each window's esearch is also its page of IDs, so the only requests beyond one per
        window are those of windows that overflow the cap (re-planned from their own count).
        The loop stops once the windows hold the whole Count; records outside every window
        (no date) leave it short, and the caller's check names that."""
        target = ESEARCH_MAX_RETRIEVABLE * WINDOW_FILL
        today = datetime.now(UTC).date()

        def days_of(lower: date, upper: date) -> int:  # future days hold (almost) nothing
            return max(1, (min(upper, today) - lower).days + 1)

        density = count / RECENT_DAYS  # records per day, until a window is counted
        planned = [window.start for window in hint if window.start <= end]
        # an overflowed window's start, and how many of its records are still to get
        overflowed: tuple[date, int] | None = None
        last_overflow: date | None = None  # the start of the window just searched, if too full
        collected = 0
        upper = end
        ids: list[str] = []
        while upper >= start and collected < count:
            if count - collected <= ESEARCH_MAX_RETRIEVABLE:
                lower = start  # the rest fits in one window
            elif overflowed and overflowed[1] <= ESEARCH_MAX_RETRIEVABLE:
                lower = overflowed[0]  # what is left of an overflowed window, counted: it fits
            elif planned:
                lower = max(start, min(planned.pop(0), upper))
            else:
                reach = (min(upper, today) - start).days + 1  # days back to the range's start
                days = max(1, min(int(target / density), reach))
                lower = max(start, min(upper, today) - timedelta(days=days - 1))
                if last_overflow and lower <= last_overflow:
                    # no narrower than the window that overflowed (it lies in the future): halve
                    lower = last_overflow + timedelta(days=(upper - last_overflow).days // 2 + 1)
            mindate, maxdate = format_ncbi_date(lower), format_ncbi_date(upper)
            page = self.esearch(term, mindate=mindate, maxdate=maxdate, datetype=datetype)
            pages.append(page)
            if page.count > ESEARCH_MAX_RETRIEVABLE:
                if lower == upper:
                    raise IncompleteResultError(
                        f"{page.count} records for {term!r} share the single day {mindate} "
                        f"({datetype}); PubMed gives at most {ESEARCH_MAX_RETRIEVABLE} IDs per "
                        "search. Narrow the query (e.g. split it by another field) and merge "
                        "the results."
                    )
                planned = []
                overflowed = (lower, page.count)
                last_overflow = lower
                span = days_of(lower, upper)
                # strictly narrower next time: target / density < the span searched
                density = max(page.count / span, target / max(1, span - 1))
                continue
            last_overflow = None
            windows.append(DateWindow(lower, upper, page.count))
            ids += self._page_through(page, pages, term, mindate, maxdate, datetype)
            collected += page.count
            if overflowed:
                overflowed = (overflowed[0], overflowed[1] - page.count)
                if lower <= overflowed[0]:
                    overflowed = None
            if page.count:
                density = page.count / days_of(lower, upper)
            else:  # an empty window: look further back next time
                density /= 2
            upper = lower - timedelta(days=1)
        return ids

    # -- efetch ---------------------------------------------------------------------------------

    def fetch(self, search: SearchResult, *, progress: bool = True) -> Iterator[FetchedBatch]:
        """The records of a search, batch by batch (WebEnv paging, or POSTed IDs when split).

        When the history cannot serve what esearch counted (the WebEnv expired; a batch holds
        PMIDs the esearch did not return, the stored result having changed; a batch stays short
        after every retry), the rest is fetched by the esearch's own PMIDs, POSTed, and the
        fallback is recorded in :attr:`history_fallbacks` (with the PMIDs concerned). A PMID
        PubMed then still does not serve stops the run (IncompleteResultError, naming it).
        """
        if search.fetch_mode == "id-list":
            yield from self.fetch_pmids(search.ids, progress=progress)
            return
        size = self.settings.batch_size
        with _progress_bar(len(search.ids), progress) as bar:
            for number, retstart in enumerate(range(0, len(search.ids), size), start=1):
                requested = search.ids[retstart : retstart + size]
                params = {
                    "db": "pubmed",
                    "retmode": "xml",
                    "WebEnv": str(search.webenv),
                    "query_key": str(search.query_key),
                    "retstart": str(retstart),
                    "retmax": str(size),
                }
                try:
                    batch = self._fetch_batch(number, requested, params, post=None, history=True)
                except (HistoryError, IncompleteResultError) as error:
                    remaining = search.ids[retstart:]
                    self.history_fallbacks.append(
                        {
                            "batch": number,
                            "retstart": retstart,
                            "problem": redact(str(error), self._api_key),
                            "unexpected_pmids": list(getattr(error, "unexpected", ())),
                            "missing_pmids": list(getattr(error, "missing", ())),
                            "fetched_by_id": len(remaining),
                        }
                    )
                    logger.warning(
                        "efetch batch %d through the history server failed (%s); fetching the "
                        "remaining %d PMIDs of the esearch by ID list",
                        number,
                        redact(str(error), self._api_key),
                        len(remaining),
                    )
                    yield from self.fetch_pmids(remaining, progress=False, first_number=number)
                    return
                yield batch
                bar.update(len(requested))

    def fetch_pmids(
        self,
        pmids: Iterable[str],
        *,
        progress: bool = True,
        allow_missing: bool = False,
        first_number: int = 1,
    ) -> Iterator[FetchedBatch]:
        """Records for given PMIDs, POSTed in batches of ``batch_size``. ``allow_missing``:
        a PMID PubMed does not return (deleted) is no fault (asking about gone PMIDs)."""
        wanted = tuple(dict.fromkeys(str(pmid).strip() for pmid in pmids))
        bad = [pmid for pmid in wanted if not pmid.isdigit()]
        if bad:
            raise ConfigError(f"PMIDs must be digits only; got {_preview(bad)}")
        size = self.settings.batch_size
        with _progress_bar(len(wanted), progress) as bar:
            for number, retstart in enumerate(range(0, len(wanted), size), start=first_number):
                requested = wanted[retstart : retstart + size]
                params = {"db": "pubmed", "retmode": "xml", "id": ",".join(requested)}
                yield self._fetch_batch(
                    number, requested, params, post=True, allow_missing=allow_missing
                )
                bar.update(len(requested))

    def _fetch_batch(
        self,
        number: int,
        requested: tuple[str, ...],
        params: dict[str, str],
        *,
        post: bool | None,
        allow_missing: bool = False,
        history: bool = False,
    ) -> FetchedBatch:
        def parse_and_check(payload: bytes) -> list[str]:
            received = parse_efetch(payload)
            unexpected = sorted(set(received) - set(requested), key=int)
            if history and unexpected:  # the stored result moved: no retry will bring it back
                raise _HistoryResponseError(
                    f"the history server's batch holds PMIDs other than those the esearch "
                    f"listed at its positions ({_preview(unexpected)}): PubMed's stored result "
                    "changed since the esearch",
                    unexpected=unexpected,
                )
            if allow_missing:  # missing: deleted; another PMID: the one that replaced it
                if len(received) != len(set(received)):
                    check_batch(received, requested)
            else:
                check_batch(received, requested)
            return received

        received, payload = self._call("efetch", params, parse_and_check, post=post)
        recorded = {key: value for key, value in params.items() if key != "id"}
        if "id" in params:
            recorded["id_count"] = str(len(requested))
        return FetchedBatch(number, requested, tuple(received), recorded, payload)


def _default_opener(base_url: str) -> Opener:
    """urlopen, except that a loopback server (a local mirror or test server) skips proxies."""
    if urllib.parse.urlsplit(base_url).hostname in ("127.0.0.1", "localhost", "::1"):
        return urllib.request.build_opener(urllib.request.ProxyHandler({})).open
    return urllib.request.urlopen


def _read_error_body(error: urllib.error.HTTPError, limit: int = 1000) -> str:
    """The first characters of an HTTP error's body (NCBI explains 429s there)."""
    try:
        body = error.read(limit)
    except (OSError, http.client.HTTPException):
        return ""
    return " ".join(body.decode("utf-8", "replace").split())


def _progress_bar(total: int, progress: bool) -> tqdm:
    """A tqdm bar on stderr, shown only when asked for and stderr is a terminal."""
    enabled = progress and sys.stderr.isatty() and total > 0
    return tqdm(total=total, unit="rec", desc="efetch", disable=not enabled, leave=False)
