"""The local E-utilities server answers like NCBI: checked with plain HTTP and Bio.Entrez."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from Bio import Entrez

from litreview.errors import InputFileError
from litreview.testing.eutils import (
    FaultPlan,
    evaluate_query,
    load_store,
    parse_query,
    synthetic_store,
)

STORE = Path(__file__).parent / "data" / "eutils" / "store"
STORE_PMIDS = {9997, 11700088, 11748933, 12091962, 27797938, 28775130, 29963580, 30108519}


def get(server, endpoint: str, **params: str) -> bytes:
    url = f"{server.base_url}{endpoint}.fcgi?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read()


def post(server, endpoint: str, **params: str) -> bytes:
    data = urllib.parse.urlencode(params).encode()
    with urllib.request.urlopen(f"{server.base_url}{endpoint}.fcgi", data, timeout=5) as response:
        return response.read()


def read(payload: bytes):
    return Entrez.read(io.BytesIO(payload))


@pytest.fixture(scope="module")
def store():
    return load_store(STORE)


# -- store ---------------------------------------------------------------------------------------


def test_store_indexes_every_article_of_xml_and_gz_files(store):
    assert set(store.records) == STORE_PMIDS
    # pubmed7.xml.gz holds 29963580: the gzipped file was read too
    assert 29963580 in store.records


def test_store_serves_each_article_byte_for_byte(store):
    original = (STORE / "pubmed1.xml").read_bytes()
    raw = store.raw(9997)
    assert raw.startswith(b"<PubmedArticle>") and raw.endswith(b"</PubmedArticle>")
    assert raw in original


def test_store_errors_name_the_file(tmp_path):
    with pytest.raises(InputFileError, match=r"no \*\.xml"):
        load_store(tmp_path)
    (tmp_path / "a.xml").write_text("<PubmedArticleSet></PubmedArticleSet>")
    with pytest.raises(InputFileError, match=r"a\.xml"):
        load_store(tmp_path)


def test_queries_json_must_name_stored_records(tmp_path):
    (tmp_path / "one.xml").write_bytes((STORE / "pubmed1.xml").read_bytes())
    (tmp_path / "queries.json").write_text(json.dumps({"my query": [9997, 123]}))
    with pytest.raises(InputFileError, match="123"):
        load_store(tmp_path)


def test_queries_json_overrides_evaluation(tmp_path):
    (tmp_path / "one.xml").write_bytes((STORE / "pubmed1.xml").read_bytes())
    (tmp_path / "queries.json").write_text(json.dumps({"stem cells AND brain": [9997]}))
    assert evaluate_query(load_store(tmp_path), "stem cells AND brain")[0] == [9997]


def test_synthetic_store_is_cheap_unique_and_spread_over_years():
    started = time.perf_counter()
    store = synthetic_store(30_000)
    assert time.perf_counter() - started < 3.0
    assert len(store.records) == 30_000
    years = {record.pdat.year for record in store.records.values()}
    assert min(years) == 1975 and max(years) == 2024
    newest = max(store.records.values(), key=lambda record: record.pdat)
    assert newest.pmid == max(store.records)  # highest PMID is the newest record
    assert b'<PMID Version="1">30000001</PMID>' in store.raw(30000001)


# -- query evaluation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("magnetic", {9997, 29963580}),  # title of one, keyword of the other
        ("MAGNETIC[ti]", {9997}),
        ("magnetic[tiab]", {9997, 29963580}),
        ("magnetic[ab]", {9997, 29963580}),
        ("magnetic[mh]", set()),  # the heading is "Magnetics": whole words only
        ("magnetic*[mh]", {9997}),
        ("asthma[ti]", set()),  # only a keyword of 29963580
        ('"heme flavin interaction"', {9997}),
        ('"flavin heme"', set()),
        ("cryopreserv*", {11748933}),
        ("cryopreservation[mh]", {11748933}),
        ('"Cryopreservation"[MeSH Terms]', {11748933}),
        ('"spin resonance spectroscopy"[mh]', {9997}),
        ('"binding sites chromatium"[mh]', set()),  # a phrase never spans two headings
        ("review[pt]", {12091962}),
        ("english[la]", STORE_PMIDS),
        ("1976[dp]", {9997}),
        ("2018/01:2018/03[dp]", {28775130, 30108519}),
        ("magnetic AND 1976[dp]", {9997}),
        ("magnetic NOT 1976[dp]", {29963580}),
        ("magnetic OR cryopreservation", {9997, 29963580, 11748933}),
        ("magnetic asthma", {29963580}),  # side by side = AND
        ("(magnetic OR lactate) AND 2018[dp]", {29963580, 30108519}),
        ("magnetic OR lactate AND 2018[dp]", {29963580, 30108519}),  # left to right, as PubMed
        ("magnetic OR (lactate AND 2018[dp])", {9997, 29963580, 30108519}),
        ('"pancreatic cancer"', {27797938}),  # an author keyword (untagged terms search them)
    ],
)
def test_evaluator(store, term, expected):
    pmids, _translation = evaluate_query(store, term)
    assert set(pmids) == expected
    assert pmids == sorted(pmids, reverse=True)  # newest PMID first


def test_translation_names_fields_and_keeps_groups():
    translation = evaluate_query(
        synthetic_store(0), '(stem cell* OR exosome[tiab]) AND "brain"[mh]'
    )
    assert translation[1] == (
        '("stem"[All Fields] AND "cell*"[All Fields] OR "exosome"[Title/Abstract]) '
        'AND "brain"[MeSH Terms]'
    )


@pytest.mark.parametrize("term", ["(a OR b", "a OR", "AND a", "a)", "a[nosuchtag]", "[ti]"])
def test_evaluator_rejects_bad_syntax(term):
    from litreview.testing.eutils import QuerySyntaxError

    with pytest.raises(QuerySyntaxError):
        parse_query(term)


# -- esearch -------------------------------------------------------------------------------------


def test_esearch_matches_ncbi_shape_and_validates(eutils_server):
    server = eutils_server(STORE)
    payload = get(server, "esearch", db="pubmed", term="magnetic OR cryopreservation")
    assert payload.startswith(b'<?xml version="1.0" encoding="UTF-8" ?>\n<!DOCTYPE eSearchResult')
    record = read(payload)  # validates against Biopython's copy of the esearch DTD
    assert record["Count"] == "3"
    assert record["IdList"] == ["29963580", "11748933", "9997"]
    assert record["RetMax"] == "3" and record["RetStart"] == "0"
    assert record["QueryTranslation"] == '"magnetic"[All Fields] OR "cryopreservation"[All Fields]'
    assert "WebEnv" not in record


def test_esearch_paging_defaults_and_date_window(eutils_server):
    server = eutils_server(synthetic=50)
    record = read(get(server, "esearch", term="synthetic"))
    assert record["Count"] == "50" and len(record["IdList"]) == 20  # NCBI's default retmax
    page = read(get(server, "esearch", term="synthetic", retstart="45", retmax="20"))
    assert page["IdList"] == [str(30000001 + index) for index in range(4, -1, -1)]
    windowed = read(
        get(
            server,
            "esearch",
            term="synthetic",
            mindate="1980",
            maxdate="1984/12/31",
            datetype="pdat",
            retmax="100",
        )
    )
    store = server.store
    expected = {p for p, r in store.records.items() if 1980 <= r.pdat.year <= 1984}
    assert {int(pmid) for pmid in windowed["IdList"]} == expected
    assert windowed["QueryTranslation"].endswith("AND 1980/01/01:1984/12/31[Date - Publication]")


def test_esearch_9999_cap_like_ncbi(eutils_server):
    server = eutils_server(synthetic=10_050)
    clipped = read(get(server, "esearch", term="synthetic", retstart="9000", retmax="5000"))
    assert clipped["Count"] == "10050" and len(clipped["IdList"]) == 999
    assert clipped["WarningList"]["OutputMessage"]
    last = read(get(server, "esearch", term="synthetic", retstart="9998", retmax="10"))
    assert len(last["IdList"]) == 1
    with pytest.raises(RuntimeError, match="cannot be larger than 9998"):
        read(get(server, "esearch", term="synthetic", retstart="9999"))
    capped = read(get(server, "esearch", term="synthetic", retmax="20000"))
    assert len(capped["IdList"]) == 9999


def test_esearch_bad_query_gives_an_error_element(eutils_server):
    server = eutils_server(STORE)
    with pytest.raises(RuntimeError, match="Invalid query"):
        read(get(server, "esearch", term="(magnetic"))


# -- efetch --------------------------------------------------------------------------------------


def test_efetch_by_ids_get_and_post_validates_with_pubmed_dtd(eutils_server):
    server = eutils_server(STORE)
    ids = ",".join(str(pmid) for pmid in sorted(STORE_PMIDS))
    for payload in (
        get(server, "efetch", db="pubmed", id=ids, retmode="xml"),
        post(server, "efetch", db="pubmed", id=ids, retmode="xml"),
    ):
        assert b"pubmed_250101.dtd" in payload[:300]
        record = read(payload)  # full DTD validation by Biopython
        assert len(record["PubmedArticle"]) == len(STORE_PMIDS)
    assert server.counts() == {"efetch": 2}
    assert [r.method for r in server.requests] == ["GET", "POST"]


def test_efetch_through_history_follows_esearch_order(eutils_server):
    server = eutils_server(synthetic=30)
    search = read(get(server, "esearch", term="asthma OR stroke", usehistory="y", retmax="100"))
    payload = get(
        server,
        "efetch",
        WebEnv=search["WebEnv"],
        query_key=search["QueryKey"],
        retstart="2",
        retmax="3",
    )
    record = read(payload)
    fetched = [str(article["MedlineCitation"]["PMID"]) for article in record["PubmedArticle"]]
    assert fetched == search["IdList"][2:5]


def test_efetch_unknown_history_is_a_400(eutils_server):
    server = eutils_server(synthetic=3)
    with pytest.raises(urllib.error.HTTPError) as caught:
        get(server, "efetch", WebEnv="MCID_nope", query_key="1")
    assert caught.value.code == 400
    assert b"<ERROR>" in caught.value.read()


# -- rate limit ----------------------------------------------------------------------------------


def test_rate_limit_answers_excess_with_429_json_and_retry_after(eutils_server):
    server = eutils_server(synthetic=5, rate_limit=True)
    statuses, refused = [], None
    for _ in range(5):
        try:
            get(server, "esearch", term="synthetic")
            statuses.append(200)
        except urllib.error.HTTPError as error:
            statuses.append(error.code)
            refused = error
    assert statuses[:3] == [200, 200, 200] and 429 in statuses[3:]
    assert json.loads(refused.read()) == {
        "error": "API rate limit exceeded",
        "count": "4",
        "limit": "3",
    }
    assert int(refused.headers["Retry-After"]) >= 1


def test_rate_limit_is_ten_per_second_with_an_api_key(eutils_server):
    server = eutils_server(synthetic=5, rate_limit=True)
    codes = []
    for _ in range(11):
        try:
            get(server, "esearch", term="synthetic", api_key="k-123")
            codes.append(200)
        except urllib.error.HTTPError as error:
            codes.append(error.code)
    assert codes[:10] == [200] * 10 and codes[10] == 429
    assert server.saw_api_key("k-123")
    assert all("api_key" not in record.params for record in server.requests)


# -- faults --------------------------------------------------------------------------------------


def test_fault_plan_schedule_and_seeded_probability():
    plan = FaultPlan.from_specs(["2:503", "efetch@1:truncate"])
    assert plan.pick(1, "esearch", 1) is None
    assert plan.pick(2, "esearch", 2) == "503"
    assert plan.pick(3, "efetch", 1) == "truncate"
    first, second = FaultPlan(probability=0.5, seed=7), FaultPlan(probability=0.5, seed=7)
    draws = [first.pick(n, "efetch", n) for n in range(1, 50)]
    assert draws == [second.pick(n, "efetch", n) for n in range(1, 50)]  # repeatable
    assert None in draws and {"hang", "reset"} & set(draws)
    with pytest.raises(ValueError, match="unknown fault kind"):
        FaultPlan.from_specs(["1:teapot"])


@pytest.mark.parametrize("kind", ["500", "502", "503"])
def test_fault_server_errors(eutils_server, kind):
    server = eutils_server(synthetic=3, faults=[f"1:{kind}"])
    with pytest.raises(urllib.error.HTTPError) as caught:
        get(server, "esearch", term="synthetic")
    assert caught.value.code == int(kind)
    assert read(get(server, "esearch", term="synthetic"))["Count"] == "3"  # next one is fine


def test_fault_429_carries_retry_after(eutils_server):
    server = eutils_server(synthetic=3, faults=["1:429"], retry_after="7")
    with pytest.raises(urllib.error.HTTPError) as caught:
        get(server, "esearch", term="synthetic")
    assert caught.value.code == 429 and caught.value.headers["Retry-After"] == "7"


def test_fault_truncate_and_error_bodies(eutils_server):
    server = eutils_server(synthetic=3, faults=["1:truncate", "2:error", "efetch@1:error"])
    from Bio.Entrez.Parser import CorruptedXMLError

    with pytest.raises(CorruptedXMLError):
        read(get(server, "esearch", term="synthetic"))
    with pytest.raises(RuntimeError, match="Search Backend failed"):
        read(get(server, "esearch", term="synthetic"))
    assert b"<ERROR>" in get(server, "efetch", id="30000001")


def test_fault_hang_and_reset(eutils_server):
    server = eutils_server(synthetic=3, faults=["1:hang", "2:reset"], hang_seconds=2.0)
    url = f"{server.base_url}esearch.fcgi?term=synthetic"
    with pytest.raises((TimeoutError, urllib.error.URLError)):
        urllib.request.urlopen(url, timeout=0.3).read()
    with pytest.raises((ConnectionResetError, urllib.error.URLError)):
        urllib.request.urlopen(url, timeout=2).read()
    assert read(get(server, "esearch", term="synthetic"))["Count"] == "3"
    faults = [record.fault for record in server.requests]
    assert "reset" in faults


def test_request_log_counts_by_endpoint(eutils_server):
    server = eutils_server(synthetic=3)
    get(server, "esearch", term="synthetic")
    get(server, "efetch", id="30000001")
    get(server, "efetch", id="30000002")
    with pytest.raises(urllib.error.HTTPError):
        get(server, "einfo")
    assert server.counts() == {"esearch": 1, "efetch": 2, "other": 1}
    assert server.status_counts() == {200: 3, 404: 1}


# -- CLI -----------------------------------------------------------------------------------------


def test_cli_prints_base_url_and_serves_until_interrupted(tmp_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "litreview.cli",
            "fake-eutils",
            "--synthetic",
            "12",
            "--port",
            "0",
            "--rate-limit",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        base_url = process.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:")
        # the "serving ..." line is printed just before the wait that Ctrl-C ends: once read,
        # an interrupt cannot land between the two
        assert process.stderr.readline().startswith("serving ")
        with urllib.request.urlopen(f"{base_url}esearch.fcgi?term=synthetic", timeout=5) as reply:
            assert read(reply.read())["Count"] == "12"
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    assert process.returncode == 0


def test_cli_rejects_a_bad_fault_spec():
    from litreview.cli import main

    assert main(["fake-eutils", "--synthetic", "1", "--fault", "x:500"]) == 1


def test_server_binds_loopback_only(eutils_server):
    server = eutils_server(synthetic=1)
    assert server.base_url.startswith("http://127.0.0.1:")
    with socket.create_connection(("127.0.0.1", server.port), timeout=2):
        pass


def test_synthetic_payload_is_valid_pubmed_xml(eutils_server):
    server = eutils_server(synthetic=20)
    record = read(post(server, "efetch", id=",".join(str(30000001 + i) for i in range(20))))
    assert len(record["PubmedArticle"]) == 20
    article = record["PubmedArticle"][0]["MedlineCitation"]["Article"]
    assert article["ArticleTitle"].startswith("Synthetic record 30000001")


def test_the_field_tags_the_live_path_sends(tmp_path):
    """[doi] (other sources' DOIs), [pmid]/[uid] and [edat] ranges, as NCBI reads them: the
    README's local stand-in recipe resolves the shipped review's other sources."""
    from litreview.testing.eutils import evaluate_query, load_store
    from litreview.testing.pubmed_xml import render_article_set

    records = [
        {"pmid": 11, "title": "One", "year": 2019, "doi": "10.1000/ABC.1"},
        {"pmid": 12, "title": "Two", "year": 2021, "doi": "10.1000/xyz.2"},
    ]
    (tmp_path / "store.xml").write_bytes(render_article_set(records))
    store = load_store(tmp_path)
    assert evaluate_query(store, '"10.1000/abc.1"[doi]')[0] == [11]
    assert evaluate_query(store, "10.1000/XYZ.2[doi]")[0] == [12]
    assert evaluate_query(store, "12[pmid] OR 11[uid]")[0] == [12, 11]
    assert evaluate_query(store, "2020:2022[edat]")[0] == [12]
    assert evaluate_query(store, "2019[dp] AND 11[pmid]")[0] == [11]
    assert evaluate_query(store, '"10.9999/none"[doi]')[0] == []


def test_a_snapshot_served_back_answers_its_query_with_its_pmids(tmp_path):
    """`litreview fake-eutils --snapshot DIR`: the README's local stand-in for this review."""
    import json
    from pathlib import Path

    from litreview.testing.eutils import evaluate_query, load_store, store_from_snapshot

    snapshot = Path(__file__).resolve().parents[1] / "resources/snapshots/pubmed/20261127T024748Z"
    store = load_store(store_from_snapshot(snapshot, tmp_path))
    manifest = json.loads((snapshot / "manifest.json").read_text())
    ids = [int(line) for line in (snapshot / "ids.txt").read_text().split()]
    assert len(store) == manifest["count"] == 26
    assert evaluate_query(store, manifest["query"])[0] == sorted(ids, reverse=True)
