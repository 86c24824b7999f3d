"""The Entrez client: pure request building and parsing, then retries against a local server."""

from __future__ import annotations

import itertools
import random
import socket
import threading
import time
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from Bio import Entrez

from litreview.entrez import (
    API_KEY_ENV,
    EntrezClient,
    EntrezSettings,
    RateLimiter,
    _PermanentResponseError,
    _RetryableResponseError,
    backoff_delay,
    build_request,
    check_batch,
    describe_request,
    format_ncbi_date,
    parse_efetch,
    parse_esearch,
    parse_ncbi_date,
    parse_retry_after,
    redact,
)
from litreview.errors import (
    ConfigError,
    EntrezError,
    HistoryError,
    IncompleteResultError,
    RateLimitError,
)
from litreview.search import run_search
from litreview.snapshot import load_snapshot
from litreview.testing.eutils import RecordStore, StoredRecord, synthetic_store

DATA = Path(__file__).parent / "data" / "eutils"
KEY = "KEY-e7c1d0-litreview-secret"


@pytest.fixture(autouse=True)
def no_api_key(monkeypatch):
    monkeypatch.delenv(API_KEY_ENV, raising=False)


def fast_settings(server, **overrides) -> EntrezSettings:
    """Settings for a local server: no real waiting between requests."""
    values = {
        "email": "tester@example.org",
        "base_url": server.base_url,
        "requests_per_second": 1000.0,
        "timeout": 2.0,
        "max_tries": 4,
    }
    values.update(overrides)
    return EntrezSettings(**values)


class RecordingSleep:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


# -- settings ------------------------------------------------------------------------------------


def test_settings_validate_and_pick_ncbi_rates():
    settings = EntrezSettings(email="me@example.org")
    assert settings.base_url == "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
    assert settings.rate_for(has_api_key=False) == 3.0
    assert settings.rate_for(has_api_key=True) == 10.0
    assert (
        EntrezSettings(email="me@example.org", requests_per_second=50).rate_for(has_api_key=False)
        == 50
    )
    with pytest.raises(ConfigError, match="email"):
        EntrezSettings(email="nobody")
    with pytest.raises(ConfigError, match="batch_size"):
        EntrezSettings(email="me@example.org", batch_size=0)
    assert "api_key" not in repr(settings) and "api_key" not in str(settings.public_parameters())


# -- request building (pure) ---------------------------------------------------------------------


def test_build_request_get_carries_tool_and_email_and_targets_base_url():
    settings = EntrezSettings(email="me@example.org", base_url="http://mirror.test/eutils")
    request = build_request(settings, "esearch", {"db": "pubmed", "term": "stem cells[tiab]"})
    assert request.get_method() == "GET"
    assert request.full_url.startswith("http://mirror.test/eutils/esearch.fcgi?")
    assert "term=stem+cells%5Btiab%5D" in request.full_url
    assert "tool=litreview" in request.full_url and "email=me%40example.org" in request.full_url
    assert "api_key" not in request.full_url


def test_build_request_ignores_biopython_globals(monkeypatch):
    monkeypatch.setattr(Entrez, "api_key", "GLOBAL-KEY")
    monkeypatch.setattr(Entrez, "tool", "someone-else")
    settings = EntrezSettings(email="me@example.org")
    request = build_request(settings, "esearch", {"db": "pubmed", "term": "x"})
    assert "GLOBAL-KEY" not in request.full_url and "tool=litreview" in request.full_url


def test_build_request_posts_id_lists_and_long_terms():
    settings = EntrezSettings(email="me@example.org")
    ids = ",".join(str(n) for n in range(1, 300))
    posted = build_request(settings, "efetch", {"db": "pubmed", "id": ids}, post=True)
    assert posted.get_method() == "POST"
    assert posted.full_url == "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/efetch.fcgi"
    body = posted.data.decode()
    assert "id=1%2C2%2C3" in body and "tool=litreview" in body and "email=" in body
    long_term = " OR ".join(f"term{n}" for n in range(200))
    assert build_request(settings, "esearch", {"term": long_term}).get_method() == "POST"


def test_build_request_adds_the_key_and_refuses_reserved_params():
    settings = EntrezSettings(email="me@example.org")
    request = build_request(settings, "esearch", {"term": "x"}, api_key=KEY)
    assert f"api_key={KEY}" in request.full_url
    with pytest.raises(ValueError, match="api_key"):
        build_request(settings, "esearch", {"term": "x", "api_key": "sneaky"})


def test_redact_and_describe_hide_the_key():
    settings = EntrezSettings(email="me@example.org")
    get_request = build_request(settings, "esearch", {"term": "x"}, api_key=KEY)
    post_request = build_request(settings, "efetch", {"id": "1"}, api_key=KEY, post=True)
    for request in (get_request, post_request):
        text = describe_request(request, KEY)
        assert KEY not in text and "api_key=***" in text
    assert redact(f"url?api_key={KEY}&x=1 and {KEY}", KEY) == "url?api_key=***&x=1 and ***"
    assert redact("api_key=unknownvalue", None) == "api_key=***"


# -- small pure helpers --------------------------------------------------------------------------


def test_backoff_is_full_jitter_capped():
    rng = random.Random(3)
    delays = [backoff_delay(attempt, 1.0, 8.0, rng) for attempt in range(1, 8) for _ in range(50)]
    assert all(0.0 <= delay <= 8.0 for delay in delays)
    assert max(backoff_delay(1, 1.0, 8.0, rng) for _ in range(200)) <= 1.0
    assert max(backoff_delay(6, 1.0, 8.0, rng) for _ in range(200)) > 4.0  # grows, then capped


def test_parse_retry_after_seconds_and_http_date():
    now = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("5", now) == 5.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now) == 30
    assert parse_retry_after(format_datetime(now - timedelta(seconds=30), usegmt=True), now) == 0
    assert parse_retry_after(None, now) is None
    assert parse_retry_after("soon", now) is None


def test_dates_and_window_halving():
    assert parse_ncbi_date("2020") == date(2020, 1, 1)
    assert parse_ncbi_date("2020", end=True) == date(2020, 12, 31)
    assert parse_ncbi_date("2024/02", end=True) == date(2024, 2, 29)
    assert parse_ncbi_date("2021/3/7") == date(2021, 3, 7)
    assert format_ncbi_date(date(2021, 3, 7)) == "2021/03/07"
    with pytest.raises(ConfigError):
        parse_ncbi_date("March 2020")


# -- parsing recorded NCBI responses -------------------------------------------------------------


def test_parse_esearch_recorded_ncbi_history_response():
    page = parse_esearch((DATA / "recorded" / "esearch2.xml").read_bytes(), {"term": "cancer"})
    assert page.count == 42249 and len(page.ids) == 100 and page.ids[0] == "41297076"
    assert page.webenv == "MCID_6927d6e7fee3e90f880ec190" and page.query_key == "1"
    assert page.query_translation.endswith("2025/09/27:2025/11/26[Date - Entry]")
    assert page.params == {"term": "cancer"}


def test_parse_esearch_recorded_no_hits_keeps_ncbi_messages():
    page = parse_esearch((DATA / "recorded" / "esearch8.xml").read_bytes())
    assert page.count == 0 and page.ids == ()
    assert page.messages == {"PhraseNotFound": ["abcXYZ"], "OutputMessage": ["No items found."]}


def test_parse_esearch_error_elements():
    header = (DATA / "recorded" / "esearch1.xml").read_bytes().split(b"<eSearchResult>")[0]
    transient = header + b"<eSearchResult><ERROR>Search Backend failed</ERROR></eSearchResult>"
    with pytest.raises(_RetryableResponseError, match="Search Backend failed"):
        parse_esearch(transient)
    capped = header + (
        b"<eSearchResult><ERROR>'retstart' cannot be larger than 9998.</ERROR></eSearchResult>"
    )
    with pytest.raises(_PermanentResponseError, match="9998"):
        parse_esearch(capped)


def test_parse_efetch_recorded_articles_and_truncation():
    payload = (DATA / "store" / "pubmed1.xml").read_bytes()
    assert parse_efetch(payload) == ["12091962", "9997"]
    older_dtd = (DATA / "store" / "pubmed4.xml").read_bytes()  # pubmed_180101.dtd
    assert parse_efetch(older_dtd) == ["27797938"]
    with pytest.raises(_RetryableResponseError, match="truncated"):
        parse_efetch(payload[: len(payload) // 2])
    with pytest.raises(_RetryableResponseError):
        parse_efetch(b"")


def test_parse_efetch_counts_book_articles_and_rejects_unknown_dtds():
    header = (DATA / "store" / "pubmed1.xml").read_bytes().split(b"<PubmedArticleSet>")[0]
    book = header + (
        b'<PubmedArticleSet><PubmedBookArticle><BookDocument><PMID Version="1">20301295</PMID>'
        b"<ArticleTitle>A chapter</ArticleTitle></BookDocument></PubmedBookArticle>"
        b"</PubmedArticleSet>"
    )
    assert parse_efetch(book) == ["20301295"]
    unknown = book.replace(b"pubmed_250101.dtd", b"pubmed_990101.dtd")
    with pytest.raises(_PermanentResponseError, match=r"pubmed_990101\.dtd"):
        parse_efetch(unknown)  # Bio.Entrez would download it: we refuse instead
    error = b'<?xml version="1.0"?>\n<eFetchResult><ERROR>Unable to fetch</ERROR></eFetchResult>'
    with pytest.raises(_RetryableResponseError, match="Unable to fetch"):
        parse_efetch(error)


def test_check_batch_names_missing_and_unexpected():
    check_batch(["2", "1"], ["1", "2"])
    with pytest.raises(_RetryableResponseError, match="missing PMIDs 3") as caught:
        check_batch(["1", "2"], ["1", "2", "3"])
    assert caught.value.missing == ("3",)
    with pytest.raises(_RetryableResponseError, match="unexpected PMIDs 9"):
        check_batch(["1", "9"], ["1", "2"])
    with pytest.raises(_RetryableResponseError, match="more than once"):
        check_batch(["1", "1", "2"], ["1", "2"])


# -- rate limiter --------------------------------------------------------------------------------


def test_rate_limiter_spaces_requests_with_a_fake_clock():
    now = [100.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(3.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(4):
        limiter.wait()
    assert sleeps == pytest.approx([1.1 / 3] * 3)
    now[0] += 10  # idle time is not banked as a burst
    limiter.wait()
    assert len(sleeps) == 3


def test_rate_limiter_is_thread_safe():
    limiter = RateLimiter(200.0, safety=0.0)
    starts: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(5):
            limiter.wait()
            with lock:
                starts.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    starts.sort()
    assert len(starts) == 20
    assert starts[-1] - starts[0] >= 19 * 0.005 * 0.9  # 20 slots, 5 ms apart


# -- the client against the local server ---------------------------------------------------------


def test_search_pages_and_fetches_through_history(eutils_server):
    server = eutils_server(synthetic=120)
    client = EntrezClient(fast_settings(server, esearch_page_size=50, batch_size=40))
    result = client.search("asthma OR stroke OR synthetic")
    assert result.count == 120 and len(result.ids) == 120 and not result.split
    assert result.ids == tuple(str(30000120 - n) for n in range(120))  # NCBI order kept
    assert result.fetch_mode == "history" and len(result.pages) == 3
    batches = list(client.fetch(result, progress=False))
    assert [len(batch.pmids) for batch in batches] == [40, 40, 40]
    assert [pmid for batch in batches for pmid in batch.pmids] == list(result.ids)
    assert batches[1].params["retstart"] == "40" and "WebEnv" in batches[1].params
    assert server.counts() == {"esearch": 3, "efetch": 3}
    assert client.requests_sent == 6


def test_every_request_carries_tool_and_email(eutils_server):
    server = eutils_server(synthetic=30)
    client = EntrezClient(fast_settings(server, batch_size=10))
    list(client.fetch_pmids([str(30000001 + n) for n in range(25)], progress=False))
    client.search("synthetic")
    assert len(server.requests) == 4
    for record in server.requests:
        assert record.params["tool"] == "litreview"
        assert record.params["email"] == "tester@example.org"


def test_fetch_pmids_posts_batches(eutils_server):
    server = eutils_server(synthetic=30)
    client = EntrezClient(fast_settings(server, batch_size=12))
    wanted = [str(30000001 + n) for n in range(30)]
    batches = list(client.fetch_pmids(wanted + wanted[:3], progress=False))  # duplicates dropped
    assert [len(batch.pmids) for batch in batches] == [12, 12, 6]
    assert {record.method for record in server.requests} == {"POST"}
    assert batches[0].params == {"db": "pubmed", "retmode": "xml", "id_count": "12"}
    with pytest.raises(ConfigError, match="digits"):
        list(client.fetch_pmids(["12a"], progress=False))


def test_query_over_9999_is_split_by_date_and_checked(eutils_server):
    server = eutils_server(synthetic=12_000)
    client = EntrezClient(fast_settings(server))
    result = client.search("synthetic", mindate="1975", maxdate="2024")
    assert result.split and result.count == 12_000
    assert set(result.ids) == {str(pmid) for pmid in server.store.records}
    assert sum(window.count for window in result.windows) == 12_000
    assert all(window.count <= 9999 for window in result.windows)
    assert result.fetch_mode == "id-list"
    windows = sorted((w.start, w.end) for w in result.windows)
    assert windows[0][0] == date(1975, 1, 1) and windows[-1][1] == date(2024, 12, 31)
    for (_, end), (start, _) in itertools.pairwise(windows):
        assert start == end + timedelta(days=1)  # no gap, no overlap


def _growing_store(count: int, first_year: int = 1990, last_year: int = 2025) -> RecordStore:
    """``count`` records whose yearly number grows 8% a year, as PubMed's do."""
    rng = random.Random(count)
    years = list(range(first_year, last_year + 1))
    weights = [1.08 ** (year - first_year) for year in years]
    records = []
    for pmid, year in enumerate(sorted(rng.choices(years, weights, k=count)), start=1):
        day = date(year, 1, 1) + timedelta(days=rng.randrange(365))
        texts = {"ti": "| growing field |", "ab": "|", "mh": "|", "kw": "|", "pt": "|", "la": "|"}
        records.append(StoredRecord(pmid, day, day, texts))
    return RecordStore(records)


@pytest.mark.parametrize("count", [10_500, 31_000])
def test_split_windows_are_planned_near_the_floor(eutils_server, count):
    """Windows sized from the counts already seen: every record once, and at most two
    requests beyond one per window the cap forces (the first count, one overflow)."""
    server = eutils_server(_growing_store(count))
    client = EntrezClient(fast_settings(server))
    result = client.search("growing", mindate="1990", maxdate="2025")
    assert sorted(result.ids, key=int) == [str(pmid) for pmid in range(1, count + 1)]
    assert all(window.count <= 9999 for window in result.windows)
    floor = -(-count // 9999)
    assert floor <= len(result.windows) <= floor + 1
    assert server.counts()["esearch"] <= len(result.windows) + 2


def test_a_rerun_tries_the_earlier_windows_first(eutils_server):
    """A monthly rerun starts from the windows the last search was split into: no window
    overflows, so the requests are the first count and one per window."""
    store = _growing_store(20_000)
    first = EntrezClient(fast_settings(eutils_server(store))).search(
        "growing", mindate="1990", maxdate="2025"
    )
    newest = max(record.pdat for record in store.records.values())
    texts = {"ti": "| growing field |", "ab": "|", "mh": "|", "kw": "|", "pt": "|", "la": "|"}
    added = [StoredRecord(pmid, newest, newest, texts) for pmid in range(20_001, 20_051)]
    server = eutils_server(RecordStore([*store.records.values(), *added]))  # a month later
    rerun = EntrezClient(fast_settings(server)).search(
        "growing", mindate="1990", maxdate="2025", windows_hint=first.windows
    )
    assert len(rerun.ids) == 20_050
    assert [w.start for w in rerun.windows] == [w.start for w in first.windows]
    assert server.counts()["esearch"] == 1 + len(first.windows)


def test_split_that_loses_records_raises(eutils_server):
    store = synthetic_store(10_020)
    for pmid in (30000005, 30000006):
        # Dated before the client's earliest split window (1700): counted, never windowed.
        store.records[pmid].pdat = date(1600, 1, 1)
    server = eutils_server(store)
    client = EntrezClient(fast_settings(server))
    with pytest.raises(IncompleteResultError, match=r"10020 records .* 10018 distinct PMIDs"):
        client.search("synthetic")


def test_more_than_9999_on_one_day_cannot_be_split(eutils_server):
    day = date(2020, 5, 5)
    records = [
        StoredRecord(
            pmid,
            day,
            day,
            {"ti": "| crowded day |", "ab": "|", "mh": "|", "kw": "|", "pt": "|", "la": "|"},
        )
        for pmid in range(1, 10_001)
    ]
    server = eutils_server(RecordStore(records))
    client = EntrezClient(fast_settings(server))
    with pytest.raises(IncompleteResultError, match="single day 2020/05/05"):
        client.search("crowded", mindate="2020/05/05", maxdate="2020/05/06")


def test_missing_records_in_a_batch_are_retried_then_named(eutils_server):
    store = synthetic_store(10)
    serve = store.raw
    store.raw = lambda pmid: None if pmid == 30000004 else serve(pmid)
    server = eutils_server(store)
    sleep = RecordingSleep()
    client = EntrezClient(fast_settings(server, max_tries=3), sleep=sleep)
    result = client.search("synthetic")
    with pytest.raises(IncompleteResultError, match="Missing PMIDs: 30000004"):
        list(client.fetch(result, progress=False))
    # three tries through the history server, then three more by PMID before giving up
    assert server.counts()["efetch"] == 6
    assert [r.method for r in server.requests if r.endpoint == "efetch"][3:] == ["POST"] * 3


@pytest.mark.parametrize("kind", ["500", "502", "503", "429", "truncate", "error", "reset"])
def test_each_fault_is_survived(eutils_server, kind):
    server = eutils_server(synthetic=15, faults=[f"esearch@1:{kind}", f"efetch@1:{kind}"])
    sleep = RecordingSleep()
    # a seeded jitter: unseeded, both backoffs fall under 0.01 s once in 10,000 runs
    client = EntrezClient(fast_settings(server, batch_size=10), sleep=sleep, rng=random.Random(1))
    result = client.search("synthetic")
    batches = list(client.fetch(result, progress=False))
    assert sorted(pmid for batch in batches for pmid in batch.pmids) == sorted(result.ids)
    assert server.counts() == {"esearch": 2, "efetch": 3}
    assert len([s for s in sleep.calls if s > 0.01]) >= 1


def test_a_hang_times_out_and_is_retried(eutils_server):
    server = eutils_server(synthetic=3, faults=["1:hang"], hang_seconds=3.0)
    client = EntrezClient(fast_settings(server, timeout=0.3), sleep=RecordingSleep())
    started = time.monotonic()
    assert client.search("synthetic").count == 3
    assert time.monotonic() - started < 2.5
    assert server.counts() == {"esearch": 2}


def test_retry_after_seconds_is_honoured(eutils_server):
    server = eutils_server(synthetic=3, faults=["1:429"], retry_after="7")
    sleep = RecordingSleep()
    client = EntrezClient(fast_settings(server, backoff_base=0.01), sleep=sleep)
    client.search("synthetic")
    assert 7.0 in sleep.calls


def test_retry_after_http_date_is_honoured(eutils_server):
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    server = eutils_server(synthetic=3, faults=["1:429"], retry_after=when)
    sleep = RecordingSleep()
    EntrezClient(fast_settings(server, backoff_base=0.01), sleep=sleep).search("synthetic")
    assert any(17.0 <= seconds <= 21.0 for seconds in sleep.calls)


def test_persistent_429_raises_rate_limit_error_with_advice(eutils_server):
    server = eutils_server(synthetic=3, faults=[f"{n}:429" for n in range(1, 10)])
    client = EntrezClient(fast_settings(server, max_tries=3), sleep=RecordingSleep())
    with pytest.raises(RateLimitError, match="NCBI_API_KEY") as caught:
        client.search("synthetic")
    assert "3 tries" in str(caught.value)
    assert server.counts() == {"esearch": 3}


def test_persistent_5xx_raises_entrez_error_naming_the_request(eutils_server):
    server = eutils_server(synthetic=3, faults=[f"{n}:503" for n in range(1, 10)])
    client = EntrezClient(fast_settings(server, max_tries=2), sleep=RecordingSleep())
    with pytest.raises(EntrezError, match="HTTP 503") as caught:
        client.search("synthetic")
    assert "esearch.fcgi" in str(caught.value) and "term=synthetic" in str(caught.value)
    assert not isinstance(caught.value, RateLimitError)


def test_client_errors_are_not_retried(eutils_server):
    server = eutils_server(synthetic=3)
    client = EntrezClient(fast_settings(server), sleep=RecordingSleep())
    with pytest.raises(EntrezError, match="9998"):
        client.esearch("synthetic", retstart=10_000)  # permanent <ERROR>
    with pytest.raises(HistoryError, match=r"HTTP 400.*Unable to obtain query #1"):
        client._call("efetch", {"db": "pubmed", "WebEnv": "nope", "query_key": "1"}, bytes)
    assert client.requests_sent == 2


def test_unreachable_server_fails_after_max_tries():
    with socket.socket() as probe:  # a port nothing listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = EntrezSettings(
        email="me@example.org",
        base_url=f"http://127.0.0.1:{port}/",
        requests_per_second=1000,
        max_tries=2,
        timeout=1,
    )
    client = EntrezClient(settings, sleep=RecordingSleep())
    with pytest.raises(EntrezError, match="failed 2 times; last problem: network error"):
        client.search("x")


def test_api_key_is_sent_but_never_shown(eutils_server, monkeypatch):
    monkeypatch.setenv(API_KEY_ENV, KEY)
    server = eutils_server(synthetic=3, faults=[f"{n}:503" for n in range(1, 10)])
    client = EntrezClient(fast_settings(server, max_tries=2), sleep=RecordingSleep())
    assert client.has_api_key and KEY not in repr(client)
    assert EntrezClient(EntrezSettings(email="a@b.org")).limiter.interval == pytest.approx(0.11)
    with pytest.raises(EntrezError) as caught:
        client.search("synthetic")
    assert server.saw_api_key(KEY)
    assert KEY not in str(caught.value) and "api_key=***" in str(caught.value)


def test_limiter_keeps_a_rate_limited_server_from_answering_429(eutils_server):
    server = eutils_server(synthetic=40, rate_limit=True)
    client = EntrezClient(
        EntrezSettings(email="me@example.org", base_url=server.base_url, batch_size=10)
    )
    result = client.search("synthetic")
    list(client.fetch(result, progress=False))  # 1 esearch + 4 efetch at NCBI's 3/s
    assert server.status_counts() == {200: 5}


def test_limiter_at_ten_per_second_with_a_key(eutils_server, monkeypatch):
    monkeypatch.setenv(API_KEY_ENV, KEY)
    server = eutils_server(synthetic=120, rate_limit=True)
    client = EntrezClient(
        EntrezSettings(email="me@example.org", base_url=server.base_url, batch_size=10)
    )
    list(client.fetch(client.search("synthetic"), progress=False))  # 13 requests
    assert server.status_counts() == {200: 13}


@pytest.mark.live
def test_live_tiny_query_against_ncbi(tmp_path):
    """Run with --live: a real query of a handful of records, fetched into a snapshot."""
    settings = EntrezSettings(email="litreview-tests@example.org")
    folder = run_search(
        settings,
        "biopython[tiab]",
        mindate="2009/01/01",
        maxdate="2010/12/31",
        snapshots_root=tmp_path,
        progress=False,
    )
    snapshot = load_snapshot(folder)
    assert 0 < snapshot.manifest["count"] == len(snapshot.ids) < 50
    fetched = [pmid for payload in snapshot.payloads() for pmid in parse_efetch(payload)]
    assert sorted(fetched) == sorted(snapshot.ids)
