"""Web of Science tagged text, Ovid RIS and tagged, EndNote XML, CSL-JSON, PubMed XML: the real exports in
../shared/realdata/importers (skipped when absent) and edge cases written for these tests."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from litreview.errors import InputFileError, LitReviewError
from litreview.importers import detect_format, read_bibliographic_file

REAL = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "importers"
DATA = Path(__file__).parent / "data" / "importers"

# file -> (records its README counts, the format detected from content)
REAL_FILES = {
    "citesource_pubmed_176.ris": (176, "ris"),
    "citesource_scopus_255.ris": (255, "ris"),
    "asysd_wos_test.ris": (50, "ris"),
    "synthesisr_PubMed_example.txt": (3, "nbib"),
    "synthesisr_WoS_txt_example.txt": (4, "wos_tagged"),
    "synthesisr_Ovid_ris_example.ris": (4, "ris"),
}


@pytest.mark.skipif(not REAL.is_dir(), reason="../shared/realdata/importers is not here")
@pytest.mark.parametrize("name", REAL_FILES)
def test_every_real_export_imports_completely_with_its_format_detected(name):
    count, kind = REAL_FILES[name]
    assert detect_format(REAL / name) == kind
    table = read_bibliographic_file(REAL / name)
    assert len(table) == count
    assert table["title"].notna().all()
    assert table["year"].notna().mean() > 0.9


@pytest.mark.skipif(not REAL.is_dir(), reason="../shared/realdata/importers is not here")
def test_the_real_ovid_and_wos_records_keep_their_fields():
    ovid = read_bibliographic_file(REAL / "synthesisr_Ovid_ris_example.ris")
    assert ovid["doi"].tolist()[:2] == ["10.4236/ojf.2020.101008", "10.1098/rspb.2019.1969"]
    assert ovid["issn"].tolist()[0] == "2163-0429"
    wos = read_bibliographic_file(REAL / "synthesisr_WoS_txt_example.txt")
    first = wos.iloc[0]
    assert first["doi"] == "10.1080/20964129.2020.1722034"
    assert first["title"].startswith("Soil fauna diversity at different stages of reed")
    assert first["authors"].split("; ")[:3] == ["Li W", "Dou Z", "Cui L"]
    assert (first["issn"], first["database"], first["year"]) == (
        "2096-4129; 2332-8878", "Web of Science", 2020,
    )  # fmt: skip


WOS = """FN Clarivate Analytics Web of Science
VR 1.0
PT J
AU Müller, RT
   Garcia, MS
AF Müller, Rodrigo Temp
   Garcia, Mauricio S.
TI A new dinosaur from the Late Triassic of
   southern Brazil
SO JOURNAL OF SYSTEMATIC PALAEONTOLOGY
LA English
DT Article; Early Access
DE dinosaur; Triassic
ID EVOLUTION
SN 1477-2019
PD SEP 22
PY 2017
VL 15
IS 3
BP 201
EP 215
DI 10.1080/14772019.2016.1234567
PM 36971057
UT WOS:000412863300006
ER

PT C
AU Sampson, SD
TI A second record, a proceedings paper
SO PROCEEDINGS OF A MEETING
PY 2010
ER

EF
"""


def test_web_of_science_tagged_fields(tmp_path):
    path = tmp_path / "savedrecs.txt"
    path.write_text(WOS, encoding="utf-8")
    table = read_bibliographic_file(path)
    first = table.iloc[0]
    assert first["title"] == "A new dinosaur from the Late Triassic of southern Brazil"
    assert first["authors"] == "Müller RT; Garcia MS"
    assert (first["pages"], first["volume"], first["issue"]) == ("201-215", "15", "3")
    assert (first["pmid"], first["doi"]) == ("36971057", "10.1080/14772019.2016.1234567")
    assert first["publication_types"] == "Article; Early Access"
    assert first["keywords"] == "dinosaur; Triassic; EVOLUTION"
    assert first["languages"] == "eng"
    assert table["entry_type"].tolist() == ["article", "conference"]
    assert table["source_line"].tolist() == [3, 27]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda t: t.replace("ER\n\nPT C", "PT C", 1),
            r"row 25, column 'PT': a new record starts .*line 3 has no ER",
        ),
        (
            lambda t: t.replace("EF\n", "").rsplit("ER\n", 1)[0],
            r"row 27: the record starting at line 27 has no ER",
        ),
        (lambda t: t.replace("PT C\n", "XX C\n"), r"row 27, column 'XX': a record starts with XX"),
        (lambda t: t + "more text\n", r"row \d+: text after EF"),
        (lambda t: t.replace("PY 2017", "PY never"), r"row \d+, column 'PY': 'never' holds no"),
        (lambda t: t.replace("DI 10.1080", "DI 11.1080"), r"column 'DI': '11\.1080"),
        (lambda t: t.replace("TI A second", "T A second"), r"not a Web of Science field line"),
    ],
)
def test_web_of_science_tagged_faults_name_the_line(tmp_path, change, message):
    path = tmp_path / "savedrecs.txt"
    path.write_text(change(WOS), encoding="utf-8")
    with pytest.raises(InputFileError, match=message):
        read_bibliographic_file(path)


def test_ovid_tagged_medline_and_embase_records():
    table = read_bibliographic_file(DATA / "ovid_medline_embase.txt")
    assert detect_format(DATA / "ovid_medline_embase.txt") == "ovid_tagged"
    assert table["pmid"].tolist()[0] == "27797938"
    assert table["pmid"].isna().tolist() == [False, True]  # Embase's AN is not a PMID
    assert table["doi"].tolist() == ["10.1136/gutjnl-2016-312510", "10.1016/j.cretres.2023.105798"]
    assert table["title"].tolist()[0].endswith("TERT gene region and risk of pancreatic cancer.")
    assert table["database"].tolist() == ["Ovid MEDLINE(R) ALL", "Embase"]
    assert table["issn"].tolist() == ["0017-5749", "0195-6671; 1095-998X"]
    assert table["mesh"].tolist()[0] == "Pancreatic Neoplasms; Telomere Shortening"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.replace("<2. >", "<3. >"), r"row 25: Ovid record <3> where <2> comes next"),
        (lambda t: "stray line\n" + t, r"row 1: text before the first record"),
        (lambda t: t.replace("YR  - 2024", "YR  - soon"), r"column 'YR': 'soon' holds no"),
        (
            lambda t: t.replace("TI  - A new", "TI - A new").replace("TI - A", "TIx A"),
            r"not an Ovid field line",
        ),
    ],
)
def test_ovid_tagged_faults_name_the_line(tmp_path, change, message):
    path = tmp_path / "ovid.txt"
    path.write_text(change((DATA / "ovid_medline_embase.txt").read_text()), encoding="utf-8")
    with pytest.raises(InputFileError, match=message):
        read_bibliographic_file(path, "ovid_tagged")


def test_ovid_ris_numbering_is_checked(tmp_path):
    record = "{n}.\nTY  - JOUR\nTI  - Record {n}\nPY  - 2020\nER  -\n\nLink to the Ovid Full Text or citation: http://ovidsp.ovid.com/x\n\n"
    path = tmp_path / "ovid.ris"
    path.write_text("".join(record.format(n=n) for n in (1, 2, 3)), encoding="utf-8")
    assert read_bibliographic_file(path)["title"].tolist() == ["Record 1", "Record 2", "Record 3"]
    path.write_text("".join(record.format(n=n) for n in (1, 3)), encoding="utf-8")
    with pytest.raises(InputFileError, match=r"row 9: Ovid record number 3 where 2 comes next"):
        read_bibliographic_file(path)


def test_endnote_xml_records_with_styled_text():
    table = read_bibliographic_file(DATA / "endnote.xml")
    assert detect_format(DATA / "endnote.xml") == "endnote_xml"
    first, second = table.iloc[0], table.iloc[1]
    assert first["title"] == (
        "Leucocyte telomere length, genetic variants at the TERT gene region and risk of "
        "pancreatic cancer"
    )
    assert (first["pmid"], first["doi"], first["issn"]) == (
        "27797938", "10.1136/gutjnl-2016-312510", "1468-3288; 0017-5749",
    )  # fmt: skip
    assert (first["authors"], first["pages"], first["year"]) == (
        "Bao Y; Prescott J",
        "1116-1122",
        2017,
    )
    assert pd.isna(second["pmid"])  # an Embase accession number is not a PMID
    assert (second["doi"], second["entry_type"]) == ("10.1016/j.cretres.2023.105798", "conference")


def test_csl_json_as_zotero_exports_it():
    table = read_bibliographic_file(DATA / "zotero.json")
    assert detect_format(DATA / "zotero.json") == "csl_json"
    first = table.iloc[0]
    assert (first["pmid"], first["pmcid"], first["doi"]) == (
        "27797938", "PMC5442267", "10.1136/gutjnl-2016-312510",
    )  # fmt: skip
    assert first["authors"] == "Bao Y; Prescott J; Nurses' Health Study"
    assert first["keywords"] == "pancreatic cancer; telomere"
    assert table["entry_type"].tolist() == ["article", "conference"]
    assert table["doi"].tolist()[1] == "10.1016/j.cretres.2023.105798"  # from the URL
    assert table["year"].tolist() == [2017, 2024]


def test_a_pubmed_xml_export_is_read_as_the_records_stage_reads_it():
    table = read_bibliographic_file(Path(__file__).parent / "data" / "ncbi" / "pubmed1.xml")
    assert table["pmid"].tolist() == ["12091962", "9997"]
    assert table["database"].tolist() == ["PubMed", "PubMed"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "a.xml",
            '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            "<xml><records><record><titles><title>&x;</title></titles></record></records></xml>",
            r"internal DTD subset",
        ),
        (
            "b.xml",
            "<xml><records><record><titles><title>T</title></record></records></xml>",
            r"b\.xml, row 1: not well-formed EndNote XML",
        ),
        ("c.xml", "<xml><records></records></xml>", r"holds no EndNote <record>"),
        (
            "d.json",
            '[{"title": "T", "issued": {"date-parts": [["n.d."]]}}]',
            r"d\.json, row 1, column 'item 1 issued': 'n\.d\.' holds no four-digit year",
        ),
        ("e.json", '[{"title": "T", "DOI": "10.12"}]', r"column 'item 1 DOI'"),
        ("f.json", '[{"title": "T",', r"f\.json, row 1: not valid JSON"),
        ("g.json", '{"title": "T", "type": "book"}', r"CSL JSON holds a list of items"),
    ],
)
def test_endnote_xml_and_csl_json_faults_name_the_record(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    kind = "endnote_xml" if name.endswith(".xml") else "csl_json"
    with pytest.raises(LitReviewError, match=message):
        read_bibliographic_file(path, kind)


def test_zotero_csv_with_pubmed_ids_in_extra():
    table = read_bibliographic_file(DATA / "zotero_export.csv")
    assert detect_format(DATA / "zotero_export.csv") == "csv"
    first = table.iloc[0]
    assert (first["pmid"], first["pmcid"], first["doi"]) == (
        "27797938", "PMC5442267", "10.1136/gutjnl-2016-312510",
    )  # fmt: skip
    assert (first["authors"], first["issn"], first["database"]) == (
        "Bao Y; Prescott J; Yuan C", "1468-3288", "PubMed",
    )  # fmt: skip
    assert first["keywords"] == "Pancreatic Neoplasms; Telomere Shortening"
    assert table["entry_type"].tolist() == ["article", "conference"]
