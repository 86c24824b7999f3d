"""XXE and billion laughs on every XML entry point: refused unread, the secret never shown."""

from __future__ import annotations

import io as stdio
import re
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from litreview.entrez import _PermanentResponseError, parse_efetch, parse_esearch
from litreview.errors import InputFileError, UnsafeXMLError
from litreview.records import parse_pubmed_xml
from litreview.sheets import read_sheet
from litreview.testing.eutils import BILLION_LAUGHS, load_store
from litreview.xmlsafe import check_no_declarations

SECRET = "canary-7f3a-never-to-be-read"
SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "ncbi-samples"


@pytest.fixture
def secret_file(tmp_path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET, encoding="utf-8")
    return path


def _xxe(root: str, secret: Path, body: str = "&xxe;") -> bytes:
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE {root} [\n'
        f'<!ENTITY xxe SYSTEM "file://{secret}">\n]>\n<{root}>{body}</{root}>\n'
    ).encode()


def _bomb(root: str) -> bytes:
    return BILLION_LAUGHS.replace(b"PubmedArticleSet", root.encode())


def _attacks(root: str, secret: Path) -> list[bytes]:
    return [
        _xxe(root, secret),
        _bomb(root),
        # an external parameter entity (the DTD-fetching variant of XXE)
        f'<?xml version="1.0"?><!DOCTYPE {root} [<!ENTITY % ext SYSTEM "file://{secret}"> '
        f"%ext;]><{root}/>".encode(),
        # the attack in UTF-16, past any byte-pattern filter
        _xxe(root, secret)
        .decode()
        .replace('version="1.0"', 'version="1.0" encoding="UTF-16"')
        .encode("utf-16"),
    ]


@pytest.mark.parametrize("attack", range(4))
def test_the_prolog_check_refuses_each_attack(secret_file, attack):
    payload = _attacks("PubmedArticleSet", secret_file)[attack]
    with pytest.raises(UnsafeXMLError) as raised:
        check_no_declarations(payload, "payload")
    assert SECRET not in str(raised.value)


@pytest.mark.parametrize("attack", range(4))
def test_efetch_and_esearch_responses_are_refused_permanently(secret_file, attack):
    for root, parse in (("PubmedArticleSet", parse_efetch), ("eSearchResult", parse_esearch)):
        payload = _attacks(root, secret_file)[attack]
        with pytest.raises(_PermanentResponseError) as raised:
            parse(payload)
        assert SECRET not in str(raised.value)


@pytest.mark.parametrize("attack", range(4))
def test_the_records_stage_refuses_each_attack(secret_file, attack):
    payload = _attacks("PubmedArticleSet", secret_file)[attack]
    with pytest.raises(UnsafeXMLError, match="snapshot/efetch #1") as raised:
        parse_pubmed_xml(payload, source="snapshot/efetch #1")
    assert SECRET not in str(raised.value)


def test_a_real_payload_passes(tmp_path):
    payload = next(iter(sorted(SAMPLES.glob("**/efetch*.xml")) or [None]), None)
    data = (
        payload.read_bytes()
        if payload
        else (Path(__file__).parent / "data" / "eutils" / "store" / "pubmed1.xml").read_bytes()
    )
    check_no_declarations(data, "real")
    assert parse_pubmed_xml(data)


@pytest.mark.parametrize("attack", range(4))
def test_the_local_server_store_refuses_each_attack(tmp_path, secret_file, attack):
    store = tmp_path / "store"
    store.mkdir()
    (store / "bad.xml").write_bytes(_attacks("PubmedArticleSet", secret_file)[attack])
    with pytest.raises(UnsafeXMLError) as raised:
        load_store(store)
    assert SECRET not in str(raised.value)


@pytest.mark.parametrize("part", ["xl/workbook.xml", "xl/worksheets/sheet1.xml"])
@pytest.mark.parametrize("kind", ["xxe", "bomb"])
def test_an_xlsx_sheet_carrying_entities_is_refused(tmp_path, secret_file, part, kind):
    workbook = Workbook()
    workbook.active.append(["record", "decision"])
    workbook.active.append(["r1", "include"])
    plain = stdio.BytesIO()
    workbook.save(plain)
    path = tmp_path / "screening.xlsx"
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == part:
                text = data.decode()
                prolog, _, rest = text.rpartition("?>")
                root = re.match(r"\s*<([A-Za-z][\w:]*)", rest).group(1)
                declaration = (
                    f'<!DOCTYPE {root} [<!ENTITY xxe SYSTEM "file://{secret_file}">]>'
                    if kind == "xxe"
                    else _bomb(root).decode().split("?>", 1)[1].split("]>", 1)[0] + "]>"
                )
                data = ((prolog + "?>" if prolog else "") + declaration + rest).encode()
            target.writestr(item, data)
    before = path.read_bytes()
    with pytest.raises(InputFileError, match=r"screening\.xlsx") as raised:
        read_sheet(path)
    assert SECRET not in str(raised.value)
    assert path.read_bytes() == before
