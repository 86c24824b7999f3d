"""Importers of other sources' exports, on files written in each export's real layout.

The PubMed records in tests/data/ncbi/pubmed*.xml (recorded NCBI efetch XML) are the
reference: their nbib, RIS and CSV versions must give the same fields. See the data README.
"""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from litreview import importers
from litreview.errors import InputFileError
from litreview.importers import (
    IMPORT_COLUMNS,
    author_surname,
    decode_text,
    join_pages,
    normalize_author,
    normalize_doi,
    normalize_entry_type,
    normalize_language,
    normalize_pages,
    normalize_pmcid,
    normalize_pmid,
    parse_publication_date,
    parse_year,
    publication_type_flags,
    read_bibliographic_file,
    read_delimited,
    read_medline,
    read_ris,
    split_author_list,
)
from litreview.records import RECORD_COLUMNS, records_table

DATA = Path(__file__).parent / "data" / "importers"
NCBI = Path(__file__).parent / "data" / "ncbi"
XML_PMIDS = [
    "12091962",
    "9997",
    "11748933",
    "11700088",
    "27797938",
    "28775130",
    "30108519",
    "29963580",
]


# -- the reference: the PubMed XML, read independently of the code under test ---------------------


def _text(element: ET.Element | None) -> str | None:
    if element is None:
        return None
    text = re.sub(r"\s+", " ", "".join(element.itertext())).strip()
    return text or None


def _xml_records() -> dict[str, dict[str, Any]]:
    records = {}
    for path in (NCBI / f"pubmed{n}.xml" for n in (1, 2, 4, 5, 6, 7)):
        for article in ET.parse(path).getroot().findall("PubmedArticle"):
            citation = article.find("MedlineCitation")
            body = citation.find("Article")
            names = []
            for author in body.findall("AuthorList/Author"):
                if author.find("CollectiveName") is not None:
                    names.append(_text(author.find("CollectiveName")))
                else:
                    names.append(f"{author.findtext('LastName')} {author.findtext('Initials')}")
            ids = {
                item.get("IdType"): item.text
                for item in article.findall("PubmedData/ArticleIdList/ArticleId")
            }
            entrez = next(
                item
                for item in article.findall("PubmedData/History/PubMedPubDate")
                if item.get("PubStatus") == "entrez"
            )
            pmid = citation.findtext("PMID")
            records[pmid] = {
                "pmid": pmid,
                "doi": ids.get("doi", "").lower() or None,
                "pmcid": ids.get("pmc"),
                "title": _text(body.find("ArticleTitle")),
                "journal": body.findtext("Journal/Title"),
                "journal_abbrev": citation.findtext("MedlineJournalInfo/MedlineTA"),
                "volume": body.findtext("Journal/JournalIssue/Volume"),
                "issue": body.findtext("Journal/JournalIssue/Issue"),
                "pages": body.findtext("Pagination/MedlinePgn"),
                "year": int(body.findtext("Journal/JournalIssue/PubDate/Year")),
                "authors": "; ".join(names),
                "first_author": names[0].rsplit(" ", 1)[0],
                "languages": "; ".join(item.text for item in body.findall("Language")),
                "publication_types": "; ".join(
                    item.text for item in body.findall("PublicationTypeList/PublicationType")
                ),
                "mesh": "; ".join(
                    item.text
                    for item in citation.findall("MeshHeadingList/MeshHeading/DescriptorName")
                )
                or None,
                "keywords": "; ".join(_text(k) for k in citation.findall("KeywordList/Keyword"))
                or None,
                "entrez_date": "{}-{:02d}-{:02d}".format(
                    *(int(entrez.findtext(part)) for part in ("Year", "Month", "Day"))
                ),
            }
    return records


XML = _xml_records()


def _value(frame: pd.DataFrame, pmid: str, column: str) -> Any:
    value = frame.loc[frame["pmid"] == pmid, column].iloc[0]
    return None if pd.isna(value) else value


def _row(frame: pd.DataFrame, **where: Any) -> dict[str, Any]:
    mask = pd.Series(True, index=frame.index)
    for column, value in where.items():
        mask &= frame[column] == value
    assert mask.sum() == 1, f"{where} matches {int(mask.sum())} rows"
    row = frame[mask].iloc[0].to_dict()
    return {key: (None if value is pd.NA else value) for key, value in row.items()}


def _bare_title(title: str) -> str:
    return title.rstrip(".").casefold()


# -- shape of every import ------------------------------------------------------------------------

ALL_FILES = sorted(path.name for path in DATA.iterdir() if path.is_file() and path.suffix != ".md")


@pytest.mark.parametrize("name", ALL_FILES)
def test_every_sample_has_the_record_columns_and_types(name: str) -> None:
    frame = read_bibliographic_file(DATA / name)
    assert list(frame.columns) == list(IMPORT_COLUMNS)
    assert list(frame.columns[: len(RECORD_COLUMNS)]) == list(RECORD_COLUMNS)
    assert str(frame["year"].dtype) == "Int64"
    assert all(str(frame[column].dtype) == "boolean" for column in importers.FLAG_COLUMNS)
    assert frame["source_file"].eq(str(DATA / name)).all()
    assert frame["source_line"].is_monotonic_increasing and (frame["source_line"] >= 1).all()
    text_columns = [c for c in IMPORT_COLUMNS if str(frame[c].dtype) == "string"]
    for column in text_columns:  # missing is pd.NA, never "" or "nan"
        values = frame[column].dropna()
        assert not values.eq("").any() and not values.str.lower().eq("nan").any(), column
    assert frame["title"].notna().all()
    assert set(frame["entry_type"].dropna()) <= set(importers.ENTRY_TYPES)
    for authors in frame["authors"].dropna():
        assert all(re.fullmatch(r"\S.*\S|\S", name) for name in authors.split("; "))


def test_imported_tables_concatenate_with_the_pubmed_record_table() -> None:
    imported = read_bibliographic_file(DATA / "scopus.ris")[list(RECORD_COLUMNS)]
    pubmed = records_table([])
    assert imported.dtypes.to_dict() == pubmed.dtypes.to_dict()
    assert pd.concat([pubmed, imported]).dtypes.to_dict() == pubmed.dtypes.to_dict()


# -- PubMed nbib / MEDLINE ------------------------------------------------------------------------


def test_nbib_agrees_with_the_pubmed_xml_field_by_field() -> None:
    frame = read_medline(DATA / "pubmed_export.nbib")
    assert frame["pmid"].tolist() == XML_PMIDS
    for pmid, expected in XML.items():
        for column, value in expected.items():
            assert _value(frame, pmid, column) == value, (pmid, column)


def test_nbib_record_read_literally() -> None:
    frame = read_medline(DATA / "pubmed_export.nbib")
    olivero = _row(frame, pmid="12091962")
    assert olivero["source_line"] == 2  # PubMed's file opens with a blank line
    assert olivero["title"] == "The treatment of AIDS behind the walls of correctional facilities."
    assert olivero["authors"] == "Olivero JM" and olivero["first_author"] == "Olivero"
    assert olivero["doi"] is None and olivero["abstract"] is None
    assert (olivero["year"], olivero["publication_date"]) == (1990, "1990")  # "1990 Spring"
    assert olivero["pages"] == "113-25"  # as PubMed writes it (the XML parser keeps it too)
    assert olivero["keywords"] == "Health Care and Public Health; Legal Approach"
    assert olivero["publication_types"] == "Journal Article; Review"
    assert olivero["entry_type"] == "article"
    assert not any(olivero[flag] for flag in importers.FLAG_COLUMNS)
    assert olivero["is_retracted"] is False  # PubMed's types are complete: False, not unknown

    strekas = _row(frame, pmid="9997")
    assert strekas["doi"] == "10.1016/0005-2795(76)90109-4"  # from "AID - ... [doi]"
    assert strekas["publication_date"] == "1976-09-28"
    assert strekas["mesh"].split("; ")[1] == "Chromatium"  # "Chromatium/*enzymology"
    assert strekas["title"].endswith("A mechanism for heme-flavin interaction.")  # wrapped TI

    bao = _row(frame, pmid="27797938")
    assert bao["doi"] == "10.1136/gutjnl-2016-312510" and bao["pmcid"] == "PMC5442267"
    assert bao["abstract"].startswith("OBJECTIVE: Telomere shortening")
    assert "CONCLUSIONS: Prediagnostic" in bao["abstract"]
    assert bao["authors"].split("; ")[19] == "De Vivo I"
    assert bao["entrez_date"] == "2016-11-01" and bao["publication_date"] == "2017-06"
    assert bao["languages"] == "eng"

    guo = _row(frame, pmid="29963580")
    assert guo["authors"].endswith("; Parraga G; Canadian Respiratory Research Network")
    assert guo["keywords"].split("; ")[2] == "image processing, biomarkers"
    assert guo["pages"] == "026002"


CONSTRUCTED_NBIB = """\
PMID- 1
TI  - A retracted article.
DP  - 2001
PT  - Journal Article
PT  - Retracted Publication

PMID- 2
TI  - Retraction note.
DP  - 2010 Feb 6
PT  - Retraction of Publication

PMID- 3
TI  - Erratum.
DP  - 2011
PT  - Published Erratum

PMID- 4
TI  - Expression of concern.
DP  - 2012
PT  - Expression of Concern
PT  - Editorial
"""


def test_nbib_publication_types_set_the_flags(tmp_path: Path) -> None:
    # Constructed records: only the PT lines matter here.
    path = tmp_path / "flags.nbib"
    path.write_text(CONSTRUCTED_NBIB, encoding="utf-8")
    frame = read_medline(path).set_index("pmid")
    flags = frame[list(importers.FLAG_COLUMNS)].astype(bool)
    assert flags.to_numpy().tolist() == [
        [True, False, False, False],
        [False, True, False, False],
        [False, False, True, False],
        [False, False, False, True],
    ]
    assert frame.loc["2", "publication_date"] == "2010-02-06"
    assert frame["source_line"].tolist() == [1, 7, 12, 17]


def test_nbib_errors_name_file_and_line(tmp_path: Path) -> None:
    lines = (DATA / "pubmed_export.nbib").read_text(encoding="utf-8").splitlines()
    path = tmp_path / "garbage.nbib"
    path.write_text("\n".join([*lines[:20], "this line is not MEDLINE", *lines[20:]]) + "\n")
    with pytest.raises(InputFileError) as caught:
        read_medline(path)
    assert caught.value.row == 21 and str(path) in str(caught.value)
    assert "not a MEDLINE field line" in str(caught.value)

    no_pmid = tmp_path / "no_pmid.nbib"
    no_pmid.write_text("TI  - A title without its PMID line.\nDP  - 2001\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"row 1, column 'TI': record does not start"):
        read_medline(no_pmid)


# -- RIS ------------------------------------------------------------------------------------------


def test_endnote_ris_of_pubmed_records_agrees_with_the_xml() -> None:
    frame = read_ris(DATA / "endnote_pubmed.ris")
    assert frame["pmid"].tolist() == XML_PMIDS  # AN with DB NLM; also the PubMed URL in UR
    columns = ["doi", "pmcid", "title", "journal", "journal_abbrev", "volume", "issue", "pages"]
    columns += ["year", "authors", "first_author", "languages"]
    for pmid, expected in XML.items():
        for column in columns:
            assert _value(frame, pmid, column) == expected[column], (pmid, column)
    olivero = _row(frame, pmid="12091962")
    # EndNote writes full given names ("Olivero, J Michael") and the season as DA.
    assert olivero["authors"] == "Olivero JM" and olivero["publication_date"] == "1990"
    assert olivero["source_line"] == 1
    assert olivero["keywords"].startswith("AIDS Serodiagnosis; Acquired Immunodeficiency")
    assert olivero["publication_types"] is None and olivero["is_retracted"] is None  # unknown
    assert _row(frame, pmid="27797938")["pages"] == "1116-1122"


def test_scopus_ris() -> None:
    frame = read_ris(DATA / "scopus.ris")  # starts with a byte-order mark
    assert frame["source_line"].tolist() == [1, 43, 76]
    bao = _row(frame, pmid="27797938")  # C2 carries the PMID in Scopus RIS
    assert _bare_title(bao["title"]) == _bare_title(XML["27797938"]["title"])
    assert bao["authors"] == XML["27797938"]["authors"]
    assert (bao["pages"], bao["volume"], bao["issue"], bao["year"]) == (
        "1116-1122",
        "66",
        "6",
        2017,
    )
    assert bao["publication_types"] == "Article" and bao["languages"] == "eng"
    aureliano = _row(frame, pmid="36971057")
    assert aureliano["authors"] == (
        "Aureliano T; Ghilardi AM; Müller RT; Kerber L; Fernandes MA; Ricardi-Branco F; Wedel MJ"
    )
    assert aureliano["doi"] == "10.1002/ar.25209"
    assert (aureliano["journal"], aureliano["journal_abbrev"]) == (
        "Anatomical Record",
        "Anat. Rec.",
    )
    assert aureliano["keywords"] == (
        "bone histology; ornithodira; respiratory system; South America; Triassic"
    )
    riguetti = _row(frame, pmid="35953515")
    assert riguetti["pages"] == "11621"  # C7, the article number
    assert riguetti["authors"] == "Riguetti FJ; Apesteguía S; Pereda-Suberbiola X"
    assert riguetti["abstract"].endswith("© 2022, The Author(s).")


def test_web_of_science_ris() -> None:
    frame = read_ris(DATA / "wos.ris")
    sampson = _row(frame, doi="10.1371/journal.pone.0012292")
    assert sampson["pmid"] is None  # AN is a WOS accession number, not a PMID
    assert (sampson["journal"], sampson["journal_abbrev"]) == ("PLOS ONE", "PLoS One")
    assert sampson["publication_date"] == "2010-09-22"  # DA "SEP 22" completed with PY
    assert sampson["pages"] == "e12292"
    # The three indented continuation lines belong to the abstract.
    assert "landmasses. The western" in sampson["abstract"]
    assert " Methodology/Principal Findings: Here we describe" in sampson["abstract"]
    assert sampson["abstract"].endswith("intracontinental endemism within dinosaurs.")
    riggs = _row(frame, first_author="Riggs")
    assert (riggs["year"], riggs["pages"], riggs["abstract"]) == (1904, "423-424", None)
    muller = _row(frame, doi="10.4202/app.00369.2017")
    assert muller["authors"] == (
        "Müller RT; Pretto FA; Stefanello M; Silva-Neves E; Dias-da-Silva S"
    )
    assert muller["first_author"] == "Müller" and muller["source_line"] == 66


def test_endnote_ris_of_embase_records() -> None:
    frame = read_ris(DATA / "endnote_embase.ris")
    boisvert = _row(frame, doi="10.1002/ar.25520")
    assert boisvert["publication_types"] == "Article in Press"
    assert boisvert["volume"] is None and boisvert["pages"] is None
    assert boisvert["keywords"].split("; ")[:3] == ["article", "biostratigraphy", "Colorado"]
    erratum = _row(frame, doi="10.1186/s12862-024-02216-3")
    assert erratum["is_erratum"] is True and erratum["is_retracted"] is None
    assert erratum["authors"] == "Brownstein CD" and erratum["source_line"] == 33
    pol = _row(frame, doi="10.1111/cla.12583")
    assert pol["authors"] == "Pol D; Baiano MA; Černý D; Novas FE; Cerda IA; Pittman M"
    assert pol["pages"] == "307-356" and pol["pmid"] is None


def _ris_lines() -> list[str]:
    return (DATA / "scopus.ris").read_text(encoding="utf-8-sig").split("\n")


def _write(tmp_path: Path, name: str, lines: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def test_ris_record_without_er_is_an_error_naming_both_lines(tmp_path: Path) -> None:
    lines = _ris_lines()
    er_of_first = lines.index("ER  - ")  # line 41 ends the record that starts on line 1
    path = _write(tmp_path, "no_er.ris", lines[:er_of_first] + lines[er_of_first + 1 :])
    with pytest.raises(InputFileError) as caught:
        read_ris(path)
    error = caught.value
    assert error.path == path and error.row == 42 and error.column == "TY"
    assert "record starting at line 1 has no ER" in str(error)
    assert "add 'ER  - '" in str(error)


def test_ris_last_record_without_er_is_an_error(tmp_path: Path) -> None:
    lines = _ris_lines()
    last_er = len(lines) - 1 - lines[::-1].index("ER  - ")
    path = _write(tmp_path, "cut.ris", lines[:last_er])
    with pytest.raises(InputFileError) as caught:
        read_ris(path)
    assert caught.value.row == 76 and "end of file" in str(caught.value)


def test_ris_garbage_between_records_is_an_error(tmp_path: Path) -> None:
    lines = _ris_lines()
    path = _write(tmp_path, "garbage.ris", [*lines[:42], "<1. >", *lines[42:]])
    with pytest.raises(InputFileError) as caught:
        read_ris(path)
    assert caught.value.row == 43 and "text outside any RIS record" in str(caught.value)
    assert str(path) in str(caught.value)


def test_ris_garbage_inside_a_record_is_an_error(tmp_path: Path) -> None:
    lines = _ris_lines()
    py = lines.index("PY  - 2017")
    path = _write(tmp_path, "garbage.ris", [*lines[: py + 1], "#### 2017 ####", *lines[py + 1 :]])
    with pytest.raises(InputFileError) as caught:
        read_ris(path)
    assert caught.value.row == py + 2  # the inserted line, right after "PY  - 2017"
    assert "unexpected text '#### 2017 ####' after the PY field" in str(caught.value)
    path = _write(tmp_path, "tag.ris", [*lines[:3], "TI- A title with a bad tag", *lines[3:]])
    with pytest.raises(InputFileError, match=r"row 4: malformed RIS tag line"):
        read_ris(path)
    path = _write(tmp_path, "binary.ris", [*lines[:3], "AB  - \x01\x02\x1b", *lines[3:]])
    with pytest.raises(InputFileError, match=r"row 4: has control characters"):
        read_ris(path)


def test_ris_record_without_ty_is_an_error(tmp_path: Path) -> None:
    lines = _ris_lines()
    path = _write(tmp_path, "no_ty.ris", lines[1:])
    with pytest.raises(InputFileError) as caught:
        read_ris(path)
    assert (caught.value.row, caught.value.column) == (1, "AU")
    assert "record without TY" in str(caught.value)


def test_ris_conflicting_pmids_are_an_error(tmp_path: Path) -> None:
    lines = _ris_lines()
    c2 = lines.index("C2  - 27797938")
    conflicting = "UR  - https://www.ncbi.nlm.nih.gov/pubmed/12345678"
    path = _write(tmp_path, "pmids.ris", [*lines[: c2 + 1], conflicting, *lines[c2 + 1 :]])
    with pytest.raises(InputFileError, match=r"conflicting PubMed IDs: 27797938 \(C2\), 12345678"):
        read_ris(path)


def test_ris_bad_doi_names_line_and_tag(tmp_path: Path) -> None:
    lines = _ris_lines()
    do = lines.index("DO  - 10.1136/gutjnl-2016-312510")
    lines[do] = "DO  - not available"
    other = lines.index("DO  - 10.1002/ar.25209")
    lines[other] = "DO  - 10.231/JIM.0b013e3181c87db3"  # a registrant of 3 digits is a typo
    with pytest.raises(InputFileError) as caught:
        read_ris(_write(tmp_path, "doi.ris", lines))
    assert (caught.value.row, caught.value.column) == (do + 1, "DO")
    assert "is not a DOI" in str(caught.value)
    assert f"1 more bad values: row {other + 1} 'DO'" in str(caught.value)


# -- delimited exports ----------------------------------------------------------------------------


def test_scopus_csv() -> None:
    frame = read_bibliographic_file(DATA / "scopus_export.csv")
    assert frame["pmid"].tolist() == [*XML_PMIDS[4:], "36971057", "35953515"]
    assert frame["source_line"].tolist() == [2, 3, 4, 5, 6, 7]
    for pmid in XML_PMIDS[4:]:
        expected = XML[pmid]
        assert _bare_title(_value(frame, pmid, "title")) == _bare_title(expected["title"])
        assert _value(frame, pmid, "doi") == expected["doi"]
        # Scopus lists personal authors only (no group name).
        assert _value(frame, pmid, "authors") == expected["authors"].replace(
            "; Canadian Respiratory Research Network", ""
        )
        assert _value(frame, pmid, "year") == expected["year"]
        assert _value(frame, pmid, "volume") == expected["volume"]
    bao = _row(frame, pmid="27797938")
    assert bao["pages"] == "1116-1122" and bao["journal"] == "Gut"
    assert bao["entry_type"] == "article" and bao["languages"] == "eng"
    assert _row(frame, pmid="29963580")["pages"] == "026002"  # from "Art. No."
    aureliano = _row(frame, pmid="36971057")
    assert aureliano["authors"].split("; ")[2] == "Müller RT"
    assert aureliano["keywords"].startswith("bone histology; ornithodira;")
    assert "Air Sacs" in aureliano["keywords"]  # index keywords too
    assert aureliano["journal_abbrev"] == "Anat. Rec." and aureliano["pages"] == "1084-1092"
    riguetti = _row(frame, pmid="35953515")
    assert riguetti["authors"] == "Riguetti FJ; Apesteguía S; Pereda-Suberbiola X"


def test_scopus_csv_older_comma_separated_authors_and_no_abstract(tmp_path: Path) -> None:
    header = (
        '"Authors","Title","Year","Source title","DOI","Abstract","Document Type","Source","EID"'
    )
    row = (
        '"Aureliano T., Ghilardi A.M., Müller R.T.","The origin of an invasive air sac system in '
        'sauropodomorph dinosaurs","2024","Anatomical Record","10.1002/ar.25209",'
        '"[No abstract available]","Conference Paper","Scopus",""'
    )
    path = tmp_path / "scopus_old.csv"
    path.write_text(f"{header}\n{row}\n", encoding="utf-8")
    record = _row(read_bibliographic_file(path, "scopus"), doi="10.1002/ar.25209")
    assert record["authors"] == "Aureliano T; Ghilardi AM; Müller RT"
    assert record["abstract"] is None  # Scopus's placeholder is not an abstract
    assert record["entry_type"] == "conference"


def test_web_of_science_tab_delimited() -> None:
    frame = read_bibliographic_file(DATA / "wos_savedrecs.txt")
    assert frame["pmid"].tolist()[:4] == XML_PMIDS[4:]
    for pmid in XML_PMIDS[4:]:
        expected = XML[pmid]
        assert _value(frame, pmid, "authors") == expected["authors"]  # CA holds the group
        assert _value(frame, pmid, "doi") == expected["doi"]
        assert _value(frame, pmid, "issue") == expected["issue"]
    bao = _row(frame, pmid="27797938")
    assert (bao["journal"], bao["journal_abbrev"]) == ("GUT", "Gut")
    assert (bao["pages"], bao["publication_date"], bao["source_line"]) == (
        "1116-1122",
        "2017-06",
        2,
    )
    garcia = _row(frame, pmid="30108519")
    assert (garcia["pages"], garcia["publication_date"]) == ("1034", "2018-07-31")
    assert garcia["authors"] == "Garcia-Tabar I; Gorostiaga EM"
    assert garcia["title"].startswith('A "Blood Relationship" Between')  # quotes, unquoted TSV
    muller = _row(frame, doi="10.4202/app.00369.2017")
    assert muller["first_author"] == "Müller" and muller["pmid"] is None
    assert muller["keywords"].startswith("SANTA-MARIA FORMATION; SOUTHERN BRAZIL")
    assert muller["pages"] == "543-548" and muller["year"] == 2017


def test_web_of_science_utf16_export_reads_the_same(tmp_path: Path) -> None:
    # Older Web of Science "Tab-delimited (Win)" files are UTF-16 with a byte-order mark.
    text = (DATA / "wos_savedrecs.txt").read_text(encoding="utf-8-sig")
    path = tmp_path / "savedrecs.txt"
    path.write_bytes(text.encode("utf-16"))
    utf16 = read_bibliographic_file(path).drop(columns="source_file")
    utf8 = read_bibliographic_file(DATA / "wos_savedrecs.txt").drop(columns="source_file")
    pd.testing.assert_frame_equal(utf16, utf8)


def test_embase_csv() -> None:
    frame = read_bibliographic_file(DATA / "embase_export.csv")
    assert frame["source_line"].tolist() == [2, 3, 4, 5]
    bao = _row(frame, pmid="27797938")
    assert bao["authors"] == XML["27797938"]["authors"]
    assert (bao["pages"], bao["publication_date"]) == ("1116-1122", "2017-06-01")
    lerro = _row(frame, pmid="28775130")
    assert lerro["keywords"] == XML["28775130"]["keywords"]
    assert lerro["authors"].split("; ")[9] == "Alavanja MCR"
    pol = _row(frame, doi="10.1111/cla.12583")
    assert pol["authors"] == "Pol D; Baiano MA; Černý D; Novas FE; Cerda IA; Pittman M"
    assert pol["first_author"] == "Pol" and pol["year"] == 2024 and pol["pmid"] is None
    boisvert = _row(frame, doi="10.1002/ar.25520")
    assert boisvert["publication_types"] == "Article in Press" and boisvert["volume"] is None


def test_pubmed_csv_uses_the_generic_layout() -> None:
    frame = read_bibliographic_file(DATA / "pubmed_export.csv")
    assert frame["pmid"].tolist() == XML_PMIDS
    for pmid, expected in XML.items():
        for column in (
            "doi",
            "pmcid",
            "title",
            "journal_abbrev",
            "year",
            "authors",
            "first_author",
        ):
            assert _value(frame, pmid, column) == expected[column], (pmid, column)


def test_cross_source_agreement_on_one_article() -> None:
    """The same article from six exports: identifiers, names and numbers agree."""
    sources = [
        read_medline(DATA / "pubmed_export.nbib"),
        read_ris(DATA / "endnote_pubmed.ris"),
        read_ris(DATA / "scopus.ris"),
        read_bibliographic_file(DATA / "scopus_export.csv"),
        read_bibliographic_file(DATA / "wos_savedrecs.txt"),
        read_bibliographic_file(DATA / "embase_export.csv"),
    ]
    rows = [_row(frame, pmid="27797938") for frame in sources]
    for column in ("doi", "year", "authors", "first_author", "volume", "issue", "pages"):
        assert len({row[column] for row in rows}) == 1, column
    assert len({_bare_title(row["title"]) for row in rows}) == 1


# -- a reference list, encodings ------------------------------------------------------------------


def test_latin1_reference_list_is_detected_and_decoded() -> None:
    frame = read_bibliographic_file(DATA / "reference_list_latin1.csv")
    aureliano = _row(frame, pmid="36971057")
    assert aureliano["authors"].split("; ")[2] == "Müller RT"
    assert aureliano["pages"] == "1084-92"  # as typed; normalize_pages compares it
    riguetti = _row(frame, pmid="35953515")
    assert riguetti["authors"] == "Riguetti FJ; Apesteguía S; Pereda-Suberbiola X"
    assert riguetti["doi"] == "10.1038/s41598-022-15535-6"  # from a doi.org link
    ge = _row(frame, pmid="24390934")
    assert (ge["authors"], ge["first_author"], ge["pages"]) == ("Ge", "Ge", "295-303")
    yavagal = _row(frame, pmid="24807059")
    assert yavagal["volume"] is None and yavagal["year"] == 2014
    explicit = read_bibliographic_file(DATA / "reference_list_latin1.csv", encoding="latin-1")
    pd.testing.assert_frame_equal(explicit, frame)


def test_wrong_encoding_names_file_and_line() -> None:
    path = DATA / "reference_list_latin1.csv"
    with pytest.raises(InputFileError) as caught:
        read_bibliographic_file(path, encoding="utf-8")
    error = caught.value
    assert error.path == path and error.row == 2  # "Müller" is on line 2
    assert "cannot be decoded as utf-8 (byte 0xfc)" in str(error)
    assert "encoding=" in str(error)


def test_undetectable_encoding_names_the_first_bad_line(monkeypatch: pytest.MonkeyPatch) -> None:
    class NoMatch:
        def best(self) -> None:
            return None

    monkeypatch.setattr(importers.charset_normalizer, "from_bytes", lambda data: NoMatch())
    data = "Title,DOI\nok,10.1/a\nM\xfcller,10.1/b\n".encode("latin-1")
    with pytest.raises(InputFileError, match=r"x\.csv, row 3: is not UTF-8 \(byte 0xfc\)"):
        decode_text(data, "x.csv")


def test_binary_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)))
    with pytest.raises(InputFileError, match="binary file"):
        read_bibliographic_file(path)


# -- mappings and their errors --------------------------------------------------------------------


def test_user_mapping_overrides_the_layout(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text(
        "Ref,Article,Who,When,Identifier,Notes\n"
        "1,The origin of an invasive air sac system in sauropodomorph dinosaurs,"
        '"Aureliano, T.; Müller, R. T.",2024,10.1002/ar.25209,"DOI: 10.9999/other"\n',
        encoding="utf-8",
    )
    mapping = {"title": "Article", "authors": "Who", "year": "When", "doi": "Identifier"}
    record = _row(read_bibliographic_file(path, mapping=mapping), year=2024)
    assert record["authors"] == "Aureliano T; Müller RT" and record["doi"] == "10.1002/ar.25209"
    # Override a built-in layout's column choice.
    scopus = read_bibliographic_file(
        DATA / "scopus_export.csv", "scopus", mapping={"journal": "Abbreviated Source Title"}
    )
    assert _value(scopus, "28775130", "journal") == "Occup. Environ. Med."


def test_mapping_to_an_unknown_record_column_is_an_error() -> None:
    with pytest.raises(InputFileError) as caught:
        read_bibliographic_file(DATA / "scopus_export.csv", mapping={"jornal": "Source title"})
    error = caught.value
    assert str(DATA / "scopus_export.csv") in str(error)
    assert error.column == "Source title" and "'jornal', which is not a record column" in str(error)
    assert "map to one of" in str(error)
    with pytest.raises(InputFileError, match="is_retracted', which is not a record column"):
        read_bibliographic_file(DATA / "scopus_export.csv", mapping={"is_retracted": "Title"})


def test_mapped_column_missing_from_the_file_is_an_error() -> None:
    with pytest.raises(InputFileError) as caught:
        read_bibliographic_file(DATA / "pubmed_export.csv", mapping={"title": "Article Title"})
    error = caught.value
    assert str(DATA / "pubmed_export.csv") in str(error)
    assert (error.row, error.column) == (1, "Article Title")
    assert "which the file does not have" in str(error) and "'Journal/Book'" in str(error)


def test_no_recognisable_columns_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_text("Study,Comment\nFukuda,low dose\n", encoding="utf-8")
    with pytest.raises(InputFileError) as caught:
        read_bibliographic_file(path)
    assert caught.value.row == 1 and "no recognisable columns" in str(caught.value)
    assert "['Study', 'Comment']" in str(caught.value)


def test_wrong_builtin_layout_is_an_error() -> None:
    with pytest.raises(InputFileError, match="has no 'Title' column, which a scopus export has"):
        read_bibliographic_file(DATA / "wos_savedrecs.txt", "scopus")


def test_bad_cells_and_ragged_rows_name_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "refs.csv"
    path.write_text("Title,Year,PMID\nOne,2014,24807059\nTwo,n.d.,123\nThree,2015,x4\n")
    with pytest.raises(InputFileError) as caught:
        read_bibliographic_file(path)
    assert (caught.value.row, caught.value.column) == (3, "Year")
    assert "'n.d.' holds no four-digit year" in str(caught.value)
    assert "; 1 more bad values: row 4 'PMID'" in str(caught.value)  # all reported at once
    path.write_text("Title,Year,PMID\nOne,2014,24807059\nThree,2015,4,extra\n")
    with pytest.raises(InputFileError, match=r"row 3: has 4 fields where the header has 3"):
        read_bibliographic_file(path)
    path.write_text("Title,Year,PMID\nOne,2014,PMC123\n")
    with pytest.raises(InputFileError, match=r"row 2, column 'PMID': 'PMC123' is not a PubMed ID"):
        read_bibliographic_file(path)


def test_generic_csv_semicolons_bibtex_authors_and_na_cells(tmp_path: Path) -> None:
    # A European-locale spreadsheet (";"), BibTeX-style names, R's "NA" for empty cells.
    path = tmp_path / "refs.csv"
    path.write_text(
        "ID;title;year;author;doi;ENTRYTYPE\n"
        "r1;Dinosaur footprints from Arizona;1904;Riggs, E. S.;NA;article\n"
        "r2;On a dinosaur axis;2017;Müller, Rodrigo T. and Pretto, Flávio A.;"
        "10.4202/app.00369.2017;inproceedings\n",
        encoding="utf-8",
    )
    frame = read_bibliographic_file(path)
    assert frame["doi"].isna().iloc[0] and frame["authors"].iloc[0] == "Riggs ES"
    assert frame["authors"].iloc[1] == "Müller RT; Pretto FA"
    assert frame["entry_type"].tolist() == ["article", "conference"]


def test_multiline_quoted_cells_keep_the_record_start_line(tmp_path: Path) -> None:
    path = tmp_path / "refs.csv"
    path.write_text('Title,Abstract\nOne,"first line\nsecond line"\nTwo,\n', encoding="utf-8")
    frame = read_bibliographic_file(path)
    assert frame["source_line"].tolist() == [2, 4]
    assert frame["abstract"].iloc[0] == "first line second line"
    assert frame["abstract"].isna().iloc[1]


def test_trailing_tab_of_web_of_science_rows_is_tolerated(tmp_path: Path) -> None:
    lines = (DATA / "wos_savedrecs.txt").read_text(encoding="utf-8-sig").splitlines()
    path = tmp_path / "savedrecs.txt"
    path.write_text("\n".join([lines[0], *(line + "\t" for line in lines[1:])]) + "\n")
    assert len(read_bibliographic_file(path)) == 5


# -- choosing the importer ------------------------------------------------------------------------


def test_format_is_sniffed_from_content_when_the_extension_says_little(tmp_path: Path) -> None:
    nbib_as_txt = tmp_path / "pubmed-export.txt"
    shutil.copy(DATA / "pubmed_export.nbib", nbib_as_txt)
    ris_as_txt = tmp_path / "citations.txt"
    shutil.copy(DATA / "scopus.ris", ris_as_txt)
    assert read_bibliographic_file(nbib_as_txt)["pmid"].tolist() == XML_PMIDS
    assert len(read_bibliographic_file(ris_as_txt)) == 3
    assert len(read_bibliographic_file(DATA / "pubmed_export.nbib", "medline")) == 8
    assert len(read_bibliographic_file(DATA / "wos_savedrecs.txt", "wos")) == 5
    assert len(read_bibliographic_file(DATA / "embase_export.csv", "embase")) == 4


def test_format_errors(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="unknown format 'bibtex'"):
        read_bibliographic_file(DATA / "scopus.ris", "bibtex")
    with pytest.raises(InputFileError, match="column mappings apply to CSV/TSV exports only"):
        read_bibliographic_file(DATA / "scopus.ris", mapping={"title": "TI"})
    plain = tmp_path / "savedrecs.txt"  # Web of Science plain text: read, detected by content
    plain.write_text("FN Clarivate Analytics Web of Science\nVR 1.0\nPT J\nAU Riggs, ES\nER\n")
    assert read_bibliographic_file(plain)["authors"].tolist() == ["Riggs ES"]
    with pytest.raises(InputFileError, match="does not exist"):
        read_bibliographic_file(tmp_path / "missing.ris")
    with pytest.raises(InputFileError, match="holds no RIS record"):
        read_ris(_write(tmp_path, "empty.ris", ["", ""]))


def test_read_delimited_with_explicit_layout() -> None:
    frame = read_delimited(DATA / "embase_export.csv", "embase")
    assert frame["doi"].tolist()[2] == "10.1111/cla.12583"
    with pytest.raises(InputFileError, match="unknown layout 'medline'"):
        read_delimited(DATA / "embase_export.csv", "medline")


# -- normalisers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "doi"),
    [
        ("10.1371/journal.pone.0093735", "10.1371/journal.pone.0093735"),
        ("https://doi.org/10.1038/S41598-022-15535-6", "10.1038/s41598-022-15535-6"),
        ("http://dx.doi.org/10.1002/ar.25520", "10.1002/ar.25520"),
        ("doi: 10.1117/1.JMI.5.2.026002.", "10.1117/1.jmi.5.2.026002"),
        ("DOI:10.1016/0005-2795(76)90109-4", "10.1016/0005-2795(76)90109-4"),
        ("10.1002/ar.25209)", "10.1002/ar.25209"),
        ("  ", None),
        (None, None),
    ],
)
def test_normalize_doi(text: str | None, doi: str | None) -> None:
    assert normalize_doi(text) == doi


def test_normalize_doi_refuses_what_is_not_a_doi() -> None:
    with pytest.raises(ValueError, match="is not a DOI"):
        normalize_doi("n/a")
    with pytest.raises(ValueError, match="nothing follows the prefix"):
        normalize_doi("https://doi.org/10.1000/.")


@given(
    registrant=st.integers(1000, 99999),
    suffix=st.from_regex(r"[a-z0-9][a-z0-9.\-_()/]{0,29}", fullmatch=True),
    form=st.sampled_from(["{}", "https://doi.org/{}", "doi: {}", "DOI:{}"]),
)
def test_normalize_doi_is_stable(registrant: int, suffix: str, form: str) -> None:
    written = form.format(f"10.{registrant}/{suffix}").upper()
    doi = normalize_doi(written)
    assert doi is not None and doi.startswith(f"10.{registrant}/")
    assert doi == doi.lower() and normalize_doi(doi) == doi


@pytest.mark.parametrize(
    ("name", "author"),
    [
        ("Olivero JM", "Olivero JM"),
        ("Olivero, J Michael", "Olivero JM"),
        ("Olivero JM.", "Olivero JM"),
        ("Yavagal D.R.", "Yavagal DR"),
        ("Yavagal, Dileep R.", "Yavagal DR"),
        ("Dileep R. Yavagal", "Yavagal DR"),
        ("Müller, RT", "Müller RT"),
        ("Černý, D.", "Černý D"),
        ("Apesteguía S.", "Apesteguía S"),
        ("Brownstein, C. D.", "Brownstein CD"),
        ("De Vivo I", "De Vivo I"),
        ("Beane Freeman, Laura E", "Beane Freeman LE"),
        ("Dias-da-Silva, S", "Dias-da-Silva S"),
        ("Ludwig van Beethoven", "van Beethoven L"),
        ("Dupont, Jean-Pierre", "Dupont JP"),
        ("Dupont J.-P.", "Dupont JP"),
        ("King, Martin Luther, Jr.", "King ML"),
        ("Canadian Respiratory Research Network,", "Canadian Respiratory Research Network"),
        ("Canadian Respiratory Research Network", "Canadian Respiratory Research Network"),
        ("Ge", "Ge"),
        ("Nguyen, SR", "Nguyen SR"),
        ("", None),
    ],
)
def test_normalize_author(name: str, author: str | None) -> None:
    assert normalize_author(name) == author


@given(
    surname=st.sampled_from(["Bao", "De Vivo", "Müller", "Černý", "Dias-da-Silva", "van der Berg"]),
    initials=st.text(alphabet="ABCDEFGHJKLMNPRSTVWZ", min_size=1, max_size=3),
)
def test_normalized_author_is_stable_and_gives_back_the_surname(
    surname: str, initials: str
) -> None:
    for written in (
        f"{surname}, {'. '.join(initials)}.",
        f"{surname} {initials}",
        f"{surname}, {initials}",
    ):
        author = normalize_author(written)
        assert author == f"{surname} {initials}"
        assert normalize_author(author) == author
        assert author_surname(author) == surname


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Bao, Y; Prescott, J", ["Bao, Y", "Prescott, J"]),
        ("Bao Y., Prescott J., Qian Z.R.", ["Bao Y.", "Prescott J.", "Qian Z.R."]),
        (
            "Guo F, Parraga G, Canadian Respiratory Research Network.",
            ["Guo F", "Parraga G", "Canadian Respiratory Research Network."],
        ),
        ("Yavagal, Dileep R.", ["Yavagal, Dileep R."]),
        ("Zuna, R E and Wang, S S and Solomon, D", ["Zuna, R E", "Wang, S S", "Solomon, D"]),
        ("Committee on Safety and Efficacy", ["Committee on Safety and Efficacy"]),
        ("", []),
    ],
)
def test_split_author_list(text: str, names: list[str]) -> None:
    assert split_author_list(text) == names


@pytest.mark.parametrize(
    ("text", "year"),
    [
        ("2014", 2014),
        ("2014 May 3", 2014),
        ("2014///", 2014),
        ("2014/05/09/", 2014),
        ("1990 Spring", 1990),
        ("2013 Dec-2014 Jan", 2013),
        ("7 May 2014", 2014),
        ("2014.0", 2014),
        (2017, 2017),
        ("", None),
    ],
)
def test_parse_year(text: str | int, year: int | None) -> None:
    assert parse_year(text) == year


def test_parse_year_refuses_text_without_a_year() -> None:
    with pytest.raises(ValueError, match="holds no four-digit year"):
        parse_year("in press")


@pytest.mark.parametrize(
    ("text", "year", "date"),
    [
        ("2014 May 3", None, "2014-05-03"),
        ("2014/05/09/", None, "2014-05-09"),
        ("2014-05-09T06:00", None, "2014-05-09"),
        ("20140509", None, "2014-05-09"),
        ("2014///", None, "2014"),
        ("1990 Spring", None, "1990"),
        ("2014 May-Jun", None, "2014-05"),
        ("1 Jun 2017", None, "2017-06-01"),
        ("SEP 22", 2010, "2010-09-22"),
        ("JUN", 2017, "2017-06"),
        ("Spring", 1990, "1990"),
        ("", 2000, None),
    ],
)
def test_parse_publication_date(text: str, year: int | None, date: str | None) -> None:
    assert parse_publication_date(text, year=year) == date


@pytest.mark.parametrize(
    ("text", "pages"),
    [
        ("113-25", "113-125"),
        ("1084-92", "1084-1092"),
        ("295-303", "295-303"),
        ("e123-e30", "e123-e130"),
        ("pp. 12\u201315", "12-15"),
        ("e93735", "e93735"),
        ("026002", "026002"),
        ("199-1", "199-1"),
        ("", None),
    ],
)
def test_normalize_pages(text: str, pages: str | None) -> None:
    assert normalize_pages(text) == pages


@given(st.integers(1, 99999), st.integers(1, 500))
def test_normalize_pages_undoes_medline_abbreviation(start: int, length: int) -> None:
    first, last = str(start), str(start + length)
    if len(first) == len(last):  # MEDLINE drops the leading digits the two pages share
        shared = 0
        while shared < len(last) - 1 and first[shared] == last[shared]:
            shared += 1
        abbreviated = f"{first}-{last[shared:]}"
    else:
        abbreviated = f"{first}-{last}"
    assert normalize_pages(abbreviated) == f"{first}-{last}"
    assert normalize_pages(f"{first}-{last}") == f"{first}-{last}"


def test_join_pages() -> None:
    assert join_pages("1084", "1092") == "1084-1092"
    assert join_pages("549-565", None) == "549-565"
    assert join_pages("32", "32") == "32"
    assert join_pages(None, None) is None


@pytest.mark.parametrize(
    ("text", "pmid"),
    [
        ("24807059", "24807059"),
        ("PMID: 24807059", "24807059"),
        ("24807059.0", "24807059"),
        ("", None),
    ],
)
def test_normalize_pmid(text: str, pmid: str | None) -> None:
    assert normalize_pmid(text) == pmid


def test_normalize_pmid_and_pmcid_refuse_other_ids() -> None:
    with pytest.raises(ValueError, match="is not a PubMed ID"):
        normalize_pmid("WOS:000412863300006")
    with pytest.raises(ValueError, match="is not a PubMed Central ID"):
        normalize_pmcid("NIHMS857349")
    assert normalize_pmcid("pmc5442267") == "PMC5442267"


def test_normalize_language_and_entry_type() -> None:
    assert [normalize_language(x) for x in ("English", "eng", "en", "Klingon")] == [
        "eng",
        "eng",
        "eng",
        "Klingon",
    ]
    assert normalize_entry_type("JOUR") == "article"
    assert normalize_entry_type("CPAPER") == "conference"
    assert normalize_entry_type("Book Chapter") == "chapter"
    assert normalize_entry_type("inproceedings") == "conference"
    assert normalize_entry_type("GEN") is None
    assert normalize_entry_type("DATA") == "other"


def test_publication_type_flags_complete_or_not() -> None:
    assert publication_type_flags(["Journal Article"], complete=True) == dict.fromkeys(
        importers.FLAG_COLUMNS, False
    )
    unknown = publication_type_flags(["Article"], complete=False)
    assert all(value is pd.NA for value in unknown.values())
    assert publication_type_flags(["Retracted"], complete=False)["is_retracted"] is True
    assert publication_type_flags(["Correction"], complete=False)["is_erratum"] is True


ZOTERO_STYLE_RIS = """\
Provider: Frontiers
Database: Frontiers
Content: text/plain; charset="UTF-8"

TY  - JOUR
TI  - A "Blood Relationship" Between the Overlooked Minimum Lactate Equivalent and Maximal \
Lactate Steady State in Trained Runners. Back to the Old Days?
AU  - Garcia-Tabar, Ibai
AU  - Gorostiaga, Esteban M.
T2  - Frontiers in Physiology
DA  - 2018/07/31/
PY  - 2018
DO  - 10.3389/fphys.2018.01034
DP  - PubMed
VL  - 9
SP  - 1034
J2  - Front Physiol
LA  - eng
N1  - PMID: 30108519
N1  - PMCID: PMC6079548
ER  -
"""


def test_ris_with_a_provider_preamble_and_ids_in_notes(tmp_path: Path) -> None:
    # The XML record 30108519 written as a publisher/Zotero RIS export writes it.
    path = tmp_path / "frontiers.txt"  # the preamble must not hide that this is RIS
    path.write_text(ZOTERO_STYLE_RIS, encoding="utf-8")
    record = _row(read_bibliographic_file(path), pmid="30108519")
    expected = XML["30108519"]
    for column in ("doi", "pmcid", "title", "authors", "year", "volume", "pages", "languages"):
        assert record[column] == expected[column], column
    assert record["publication_date"] == "2018-07-31" and record["source_line"] == 5


def test_nbib_bad_value_names_its_own_line(tmp_path: Path) -> None:
    text = (DATA / "pubmed_export.nbib").read_text(encoding="utf-8")
    path = tmp_path / "bad_date.nbib"
    path.write_text(text.replace("DP  - 1976 Sep 28", "DP  - undated"), encoding="utf-8")
    line = text.split("\n").index("DP  - 1976 Sep 28") + 1
    with pytest.raises(InputFileError) as caught:
        read_medline(path)
    assert (caught.value.row, caught.value.column) == (line, "DP")
    assert "'undated' holds no four-digit year" in str(caught.value)


def test_a_short_medline_tag_line_is_refused_naming_its_row(tmp_path):
    """Found by the fuzzer: "PM -" (a tag line shorter than five characters) crashed."""
    path = tmp_path / "export.nbib"
    path.write_text("PMID- 1\nTI  - A title\nPM -\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"export\.nbib, row 3: not a MEDLINE field line"):
        read_medline(path)
