"""Every reviewer-written input, malformed in 20+ ways: refused at load naming where and how.

The inputs: the config, the other-sources sheet, the screening sheets, the extraction sheets and
the published numbers (with their audit targets). Each variant is applied to a copy of a small
valid review; the workflow's load-time steps (``load``, as ``common.smk`` runs them) must refuse
it with the file (or config key), the row and column where a sheet has them, and a hint; the
review's files must be byte-identical afterwards. The end-to-end tests at the bottom run the
real workflow on one variant of each input: exit status 1, one line, no results written.
"""

from __future__ import annotations

import contextlib
import hashlib
import io as stdio
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from openpyxl import Workbook
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from litreview.config import apply_dotted_overrides, check_at_load, dates_as_text, read_yaml
from litreview.errors import LitReviewError
from litreview.extract.sheets import check_sheets
from litreview.identify import read_other_sources
from litreview.report import report_from_config
from litreview.stages import extraction_form
from litreview.testing.pubmed_xml import render_article_set
from tests.reviews import REPO, take_snapshot

MINIMAL = Path(__file__).parent / "reviews" / "minimal" / "config"
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
COMMON = REPO / "workflow" / "rules" / "common.smk"

OTHER_SOURCES = (
    "source_id,method,found_via,pmid,doi,title,year\n"
    "os1,citation_searching,reference list of 4001,,10.1000/abc1,A trial found by hand,2021\n"
)
PUBLISHED = "counts:\n  included: 3\n  rct: 2\n  cohort: 1\n"
AUDIT = {
    "published": "config/published.yaml",
    "targets": [{"id": "included", "published": "counts.included", "metric": "designs.total"}],
    "consistency": [
        {
            "id": "parts",
            "kind": "sum",
            "parts": ["counts.rct", "counts.cohort"],
            "total": "counts.included",
        }
    ],
}


def load(folder: Path) -> None:
    """The workflow's load-time steps, in process and in common.smk's order."""
    with contextlib.chdir(folder):
        config = read_yaml("config/config.yaml")
        apply_dotted_overrides(config)
        dates_as_text(config)
        validate(config, str(SCHEMA))
        check_at_load(config)
        form = extraction_form(config) if config["extraction"]["fields"] else None
        if form and config["extraction"]["studies"]:
            check_sheets(form, config["extraction"]["studies"], config["extraction"]["arms"])
        if form:
            report_from_config(config["report"], form)
        if config["identify"]["other_sources"]:
            read_other_sources(config["identify"]["other_sources"])


def test_load_runs_the_steps_common_smk_runs():
    text = COMMON.read_text(encoding="utf-8")
    for step in (
        "read_yaml",
        "apply_dotted_overrides",
        "dates_as_text",
        "validate(",
        "check_at_load",
        "extraction_form",
        "check_extraction_sheets",
        "report_from_config",
        "read_other_sources",
    ):
        assert step in text, step


@pytest.fixture
def review(tmp_path) -> Path:
    """The minimal review with an other-sources sheet and published numbers: valid as is."""
    folder = tmp_path / "review"
    shutil.copytree(MINIMAL, folder / "config")
    (folder / "config" / "other_sources.csv").write_text(OTHER_SOURCES, encoding="utf-8")
    (folder / "config" / "published.yaml").write_text(PUBLISHED, encoding="utf-8")
    config = yaml.safe_load((folder / "config" / "config.yaml").read_text(encoding="utf-8"))
    config["identify"] = {"other_sources": "config/other_sources.csv"}
    config["audit"] = AUDIT
    config["screening"]["reviewers"] = ["A", "B"]
    (folder / "config" / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    load(folder)  # the base is valid
    return folder


def _fingerprint(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and ".snakemake" not in path.parts
    }


def _refused(folder: Path, *expected: str) -> str:
    before = _fingerprint(folder)
    with pytest.raises((LitReviewError, WorkflowError)) as raised:
        load(folder)
    message = str(raised.value)
    for text in expected:
        assert re.search(text, message), f"{text!r} not in: {message}"
    assert _fingerprint(folder) == before, "an input was modified"
    assert not (folder / "results").exists()
    return message


def _xlsx(
    rows: list[list[object]], *, sheets: tuple[str, ...] = ("Sheet1",), merged: str | None = None
) -> bytes:
    workbook = Workbook()
    workbook.active.title = sheets[0]
    for row in rows:
        workbook.active.append(row)
    for name in sheets[1:]:
        workbook.create_sheet(name)
    if merged:
        workbook.active.merge_cells(merged)
    buffer = stdio.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _set(folder: Path, name: str, content: str | bytes, *, key: str | None = None) -> None:
    """Write config/<name>; with `key`, point that config key at it."""
    path = folder / "config" / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    if key:
        config_path = folder / "config" / "config.yaml"
        config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
        node = config
        *parents, leaf = key.split(".")
        for part in parents:
            node = node[part]
        node[leaf] = [f"config/{name}"] if leaf == "sheets" else f"config/{name}"
        config_path.write_text(yaml.safe_dump(config), encoding="utf-8")


def _edit_config(folder: Path, change) -> None:
    path = folder / "config" / "config.yaml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(config)
    path.write_text(yaml.safe_dump(config), encoding="utf-8")


# --- the config ----------------------------------------------------------------------------

CONFIG_TEXT_VARIANTS = {
    "empty": (b"", [r"config\.yaml: the configuration file is empty"]),
    "comments only": (b"# nothing yet\n", [r"is empty \(or only comments\)"]),
    "tab indented": (None, [r"config\.yaml, line \d+: indented with a tab"]),
    "latin-1": (None, [r"config\.yaml, line 1: not UTF-8 text \(byte 0xe9"]),
    "duplicate section": (None, [r"line \d+: the key 'review' is given twice"]),
    "syntax error": (None, [r"config\.yaml, line \d+, column \d+: not valid YAML"]),
    "a list, not sections": (b"- review\n- search\n", [r"holds a list, not sections"]),
}


@pytest.mark.parametrize("variant", CONFIG_TEXT_VARIANTS)
def test_a_config_file_that_cannot_be_read(review, variant):
    content, expected = CONFIG_TEXT_VARIANTS[variant]
    path = review / "config" / "config.yaml"
    text = path.read_text(encoding="utf-8")
    if content is None:
        content = {
            "tab indented": lambda: text.replace("\n  ", "\n\t", 1).encode(),
            "latin-1": lambda: ("# café\n" + text).encode("latin-1"),
            "duplicate section": lambda: (text + "review: {id: again, title: Again}\n").encode(),
            "syntax error": lambda: (text + "extra: [unclosed\n").encode(),
        }[variant]()
    path.write_bytes(content)
    _refused(review, *expected)


def test_a_key_given_twice_in_a_nested_section(review):
    path = review / "config" / "config.yaml"
    path.write_text(
        path.read_text(encoding="utf-8")
        + "dedup:\n  title_similarity: 0.9\n  title_similarity: 0.5\n",
        encoding="utf-8",
    )
    _refused(review, r"the key 'title_similarity' is given twice .*first on line \d+")


def _window(section, start, end):
    def change(config):
        if section == "search":
            config["search"].update(mindate=start, maxdate=end)
        else:
            dates = {"from": start, "to": end, "reason": "off_topic"}
            config["screening"].setdefault("automatic", {})["dates"] = dates

    return change


CONFIG_VARIANTS = {
    "unknown top-level key": (lambda c: c.update(extra={}), [r"Additional properties.*extra"]),
    "misspelt key": (lambda c: c["screening"].update(reason={"x": "X"}), [r"reason"]),
    "wrong type": (lambda c: c["search"].update(query=["a", "b"]), [r"not of type 'string'"]),
    "Excel serial mindate": (
        _window("search", "45123", "2024/12/31"),
        [r"'45123' does not match", r"instance\['search'\]\['mindate'\]"],
    ),
    "US-style maxdate": (
        _window("search", "2000/01/01", "1/2/2024"),
        [r"does not match|search\.maxdate"],
    ),
    "impossible day": (
        _window("search", "2023/02/30", "2024/12/31"),
        [r"search\.mindate is '2023/02/30': not a date"],
    ),
    "reversed search window": (
        _window("search", "2024/12/31", "2000/01/01"),
        [r"config search: mindate '2024/12/31' is after maxdate"],
    ),
    "mindate alone": (_window("search", "2000/01/01", None), [r"go together"]),
    "screening date Excel serial": (
        _window("screening", "45123", None),
        [r"screening\.automatic\.dates\.from is '45123'"],
    ),
    "screening date month 13": (
        _window("screening", "2020-13-01", None),
        [r"dates\.from is '2020-13-01': not a date"],
    ),
    "screening date US style": (
        _window("screening", None, "1/2/2024"),
        [r"dates\.to is '1/2/2024': not a date"],
    ),
    "reversed screening window": (
        _window("screening", "2024-01-01", "2020-01-01"),
        [r"from '2024-01-01' is after to '2020-01-01'"],
    ),
    "label with a semicolon": (
        lambda c: c["screening"]["reasons"].update(off_topic="a; b"),
        [r"screening\.reasons\.off_topic .*no ';'"],
    ),
    "label too long": (
        lambda c: c["screening"]["reasons"].update(off_topic="x" * 80),
        [r"screening\.reasons\.off_topic is 80 characters long"],
    ),
    "category twice": (
        lambda c: c["screening"].update(categories=[{"name": "a"}, {"name": "a"}]),
        [r"screening\.categories: 'a' is listed twice"],
    ),
    "two default categories": (
        lambda c: c["screening"].update(
            categories=[{"name": "a", "default": True}, {"name": "b", "default": True}]
        ),
        [r"a, b are all marked default"],
    ),
    "empty keyword pattern": (
        lambda c: (
            c["screening"]
            .setdefault("automatic", {})
            .update(keywords=[{"name": "k", "reason": "off_topic", "any": ["stroke", "  "]}])
        ),
        [r"config screening\.automatic\.keywords\[1\]\.any\[2\] is '  '"],
    ),
    "sheet that does not exist": (
        lambda c: c["screening"].update(sheets=["config/nope.csv"]),
        [r"config screening\.sheets\[1\]: config/nope\.csv does not"],
    ),
    "arbiter not a reviewer": (
        lambda c: c["screening"].update(arbiter="Z"),
        [r"screening\.arbiter 'Z' is not one of screening\.reviewers"],
    ),
    "unknown conflict rule": (
        lambda c: c["screening"].update(conflicts={"full_text": "coin_toss"}),
        [r"coin_toss"],
    ),
    "a list where a section goes": (lambda c: c.update(dedup=[1, 2]), [r"not of type 'object'"]),
    "field of an unknown type": (
        lambda c: c["extraction"]["fields"].append({"name": "x", "type": "colour"}),
        [r"colour"],
    ),
    "report table on no field": (
        lambda c: c["report"]["tables"].append({"name": "t2", "kind": "counts", "by": ["nope"]}),
        [r"report\.tables.*'nope' is not a field of the form"],
    ),
    "placeholder email for a live run": (
        lambda c: c["search"].update(mode="live") or c["entrez"].update(email="you@example.org"),
        [r"entrez\.email is the placeholder"],
    ),
}


@pytest.mark.parametrize("variant", CONFIG_VARIANTS)
def test_a_malformed_config_is_refused_naming_its_key(review, variant):
    change, expected = CONFIG_VARIANTS[variant]
    _edit_config(review, change)
    _refused(review, *expected)


def test_an_unquoted_yaml_date_is_read_as_its_text(review):
    path = review / "config" / "config.yaml"
    path.write_text(
        path.read_text(encoding="utf-8") + "\n# dates as YAML writes them unquoted\n",
        encoding="utf-8",
    )
    _edit_config(review, _window("screening", "2000-01-01", "2024-12-31"))
    text = path.read_text(encoding="utf-8").replace("'2000-01-01'", "2000-01-01")
    path.write_text(text, encoding="utf-8")
    load(review)


# --- sheets: shared variants ---------------------------------------------------------------

SHEETS = {
    "other_sources": ("other_sources.csv", OTHER_SOURCES, "identify.other_sources"),
    "screening": (
        "screening.csv",
        (MINIMAL / "screening.csv").read_text(encoding="utf-8"),
        "screening.sheets",
    ),
    "extraction": (
        "studies.csv",
        (MINIMAL / "studies.csv").read_text(encoding="utf-8"),
        "extraction.studies",
    ),
}


def _header_and_rows(kind: str) -> tuple[list[str], list[list[str]]]:
    lines = SHEETS[kind][1].strip().splitlines()
    return lines[0].split(","), [line.split(",") for line in lines[1:]]


def _csv(header: list[str], rows: list[list[str]], separator: str = ",") -> str:
    return "".join(separator.join(row) + "\n" for row in [header, *rows])


def _common_variants(kind: str) -> dict[str, tuple[str | bytes, str, list[str]]]:
    """Variants every sheet refuses alike: (content, file name, expected patterns)."""
    header, rows = _header_and_rows(kind)
    first = header[0]
    return {
        "missing column": (
            _csv(header[1:], [r[1:] for r in rows]),
            "s.csv",
            [rf"s\.csv, row 1, column .*missing column\(s\) '{first}'"],
        ),
        "extra column": (
            _csv([*header, "colour"], [[*r, "red"] for r in rows]),
            "s.csv",
            [r"s\.csv, row 1, column 'colour': unknown column", r"allowed columns"],
        ),
        "misspelt column": (
            _csv([header[0], header[1] + "x", *header[2:]], rows),
            "s.csv",
            [rf"unknown column\(s\) '{header[1]}x'|missing column"],
        ),
        "column twice": (
            _csv([*header, header[1]], [[*r, r[1]] for r in rows]),
            "s.csv",
            [r"s\.csv.*appears twice|unknown column"],
        ),
        "latin-1": (
            _csv(header, [[*rows[0][:-1], "caf\xe9"], *rows[1:]]).encode("latin-1"),
            "s.csv",
            [r"s\.csv: not UTF-8 text", r"save it as UTF-8"],
        ),
        "semicolon separated": (
            _csv(header, rows, ";"),
            "s.csv",
            [r"s\.csv, row 1.*missing column|unknown column"],
        ),
        "empty file": (b"", "s.csv", [r"s\.csv"]),
        "xlsx with several sheets": (
            _xlsx([header, *rows], sheets=("one", "two")),
            "s.xlsx",
            [r"s\.xlsx: the workbook has several sheets", r"rename"],
        ),
        "xlsx with a formula": (
            _xlsx([header, *[[*r[:-1], "=1+1"] for r in rows]]),
            "s.xlsx",
            [r"s\.xlsx, row 2, column .*holds a formula", r"paste values"],
        ),
        "xlsx with merged cells": (
            _xlsx([header, *rows], merged="B2:C2"),
            "s.xlsx",
            [r"s\.xlsx, row 2: cells B2:C2 are merged", r"unmerge"],
        ),
    }


def _apply(review: Path, kind: str, content, name: str) -> None:
    _set(review, name, content, key=SHEETS[kind][2])


@pytest.mark.parametrize("kind", SHEETS)
@pytest.mark.parametrize("variant", list(_common_variants("screening")))
def test_a_malformed_sheet_is_refused_naming_file_row_and_column(review, kind, variant):
    content, name, expected = _common_variants(kind)[variant]
    _apply(review, kind, content, name)
    _refused(review, *expected)


# --- sheets: each its own ------------------------------------------------------------------


def _rows_variant(kind: str, change) -> str:
    header, rows = _header_and_rows(kind)
    header, rows = change(header, [list(r) for r in rows])
    return _csv(header, rows)


def _cell(column: str, value: str, row: int = 0):
    def change(header, rows):
        rows[row][header.index(column)] = value
        return header, rows

    return change


def _append(values: dict[str, str]):
    def change(header, rows):
        rows.append([values.get(column, "") for column in header])
        return header, rows

    return change


OWN_VARIANTS = {
    "other_sources": {
        "same source_id twice": (
            _append({"source_id": "os1", "method": "websites", "found_via": "x", "title": "T"}),
            [r"row 3, column 'source_id': source_id 'os1' already used"],
        ),
        "unknown method": (
            _cell("method", "hand_searching"),
            [r"row 2, column 'method': unknown method", r"use one of"],
        ),
        "PMID with a letter": (_cell("pmid", "12a45"), [r"row 2, column 'pmid': '12a45' is not"]),
        "Excel-mangled PMID": (_cell("pmid", "2.4807059E+07"), [r"column 'pmid'"]),
        "not a DOI": (_cell("doi", "doi.org"), [r"row 2, column 'doi': 'doi.org' is not a DOI"]),
        "two-digit year": (_cell("year", "21"), [r"row 2, column 'year': '21' is not a four"]),
        "Excel-mangled year": (_cell("year", "2.021E+03"), [r"row 2, column 'year'"]),
        "empty method": (_cell("method", ""), [r"row 2, column 'method': empty required value"]),
        "row naming nothing": (
            _append(
                {"source_id": "os2", "method": "websites", "found_via": "a website", "year": "2020"}
            ),
            [r"row 3: the row names no record \(it gives only year\)"],
        ),
        "file outside the review": (
            lambda h, r: ([*h, "file", "format"], [[*r[0], "../../etc/passwd", "ris"]]),
            [r"row 2, column 'file': bibliographic file '\.\./\.\./etc/passwd' lies outside"],
        ),
        "absolute file path": (
            lambda h, r: ([*h, "file", "format"], [[*r[0], "/etc/passwd", "ris"]]),
            [r"column 'file'.*lies outside the review folder"],
        ),
        "file that does not exist": (
            lambda h, r: ([*h, "file", "format"], [[*r[0], "export.ris", "ris"]]),
            [r"row 2, column 'file': bibliographic file 'export\.ris' not found"],
        ),
    },
    "screening": {
        "unknown stage": (_cell("stage", "abstract"), [r"row 2, column 'stage': unknown stage"]),
        "unknown decision": (_cell("decision", "yes"), [r"row 2, column 'decision': unknown"]),
        "exclusion without a reason": (
            _cell("decision", "exclude"),
            [r"row 2, column 'reason': an exclusion needs a reason"],
        ),
        "unknown reason": (
            _cell("reason", "boring", 3),
            [r"row 5, column 'reason': unknown reason 'boring'"],
        ),
        "unknown category": (_cell("category", "other"), [r"column 'category': unknown category"]),
        "Excel serial date": (_cell("date", "45123"), [r"row 2, column 'date': '45123' is not"]),
        "US-style date": (_cell("date", "1/2/2024"), [r"column 'date': '1/2/2024' is not a date"]),
        "reason without a decision": (
            _cell("decision", "", 3),
            [r"row 5, column 'decision': a reason with no decision"],
        ),
        "empty stage": (_cell("stage", ""), [r"row 2, column 'stage': empty required cell"]),
        "conflicting duplicate": (
            _append(
                {
                    "record": "4001",
                    "stage": "full_text",
                    "decision": "exclude",
                    "reason": "off_topic",
                    "reviewer": "A",
                }
            ),
            [r"row 6, column 'decision': reviewer 'A' decided record 4001 at full_text twice"],
        ),
        "reviewer not declared": (
            _cell("reviewer", "Q"),
            [r"reviewer\(s\) Q that config screening\.reviewers"],
        ),
    },
    "extraction": {
        "code not in the vocabulary": (
            _cell("design", "RCTx"),
            [r"row 2, column 'design': 'RCTx' is not a code", r"use"],
        ),
        "words for a number": (_cell("n", "ten"), [r"row 2, column 'n': 'ten' is not a whole"]),
        "negative count": (_cell("n", "-3"), [r"row 2, column 'n'"]),
        "decimal count": (_cell("n", "3.5"), [r"row 2, column 'n': '3\.5' is not a whole"]),
        "thousands separator": (_cell("n", "1 000"), [r"row 2, column 'n': '1 000' is not"]),
        "Excel-mangled number": (_cell("n", "1.2E+02"), [r"row 2, column 'n'"]),
        "same study twice": (
            _append({"study": "4001", "label": "Again", "design": "rct"}),
            [r"row 5, column 'study': study '4001' is record 4001, which"],
        ),
        "empty key": (_cell("study", ""), [r"row 2, column 'study'"]),
        "code with a comment": (
            _cell("design", "rct (blinded)"),
            [r"row 2, column 'design': 'rct \(blinded\)' is not a code"],
        ),
        "count with its unit": (_cell("n", "12 patients"), [r"'12 patients' is not a whole"]),
        "zero below the minimum": (_cell("n", "0"), [r"row 2, column 'n'.*0"]),
    },
}


@pytest.mark.parametrize(
    ("kind", "variant"), [(kind, name) for kind, table in OWN_VARIANTS.items() for name in table]
)
def test_a_sheet_with_a_bad_cell_is_refused_naming_it(review, kind, variant):
    change, expected = OWN_VARIANTS[kind][variant]
    name = SHEETS[kind][0]
    _apply(review, kind, _rows_variant(kind, change), name)
    _refused(review, *expected)


@pytest.mark.parametrize("kind", SHEETS)
def test_each_sheet_has_twenty_malformed_variants_or_more(kind):
    assert len(_common_variants(kind)) + len(OWN_VARIANTS[kind]) >= 20


def test_the_config_and_published_numbers_have_twenty_malformed_variants_or_more():
    assert len(CONFIG_TEXT_VARIANTS) + len(CONFIG_VARIANTS) + 1 >= 20
    refused_targets = [name for name, (_, expected) in TARGET_VARIANTS.items() if expected]
    refused_published = [name for name, (_, expected) in PUBLISHED_VARIANTS.items() if expected]
    assert len(refused_targets) + len(refused_published) + 2 >= 20


@pytest.mark.parametrize("kind", SHEETS)
def test_a_header_only_or_bom_sheet_is_accepted(review, kind):
    header, rows = _header_and_rows(kind)
    _apply(review, kind, "\ufeff" + _csv(header, rows), SHEETS[kind][0])
    load(review)
    if kind != "extraction":  # at load an empty studies sheet is fine; the rule counts it
        _apply(review, kind, _csv(header, []), SHEETS[kind][0])
        load(review)


# --- the published numbers -----------------------------------------------------------------

PUBLISHED_VARIANTS = {
    "empty": ("", [r"published\.yaml: the published numbers file is empty"]),
    "tab": ("counts:\n\tincluded: 3\n", [r"published\.yaml, line 2: indented with a tab"]),
    "key twice": (
        PUBLISHED + "  included: 78\n",
        [r"published\.yaml, line 5: the key 'included' is given twice .*line 2"],
    ),
    "syntax error": ("counts: {included: 3\n", [r"published\.yaml, line \d+, column \d+: not"]),
    "a list": ("- 3\n- 2\n", [r"published numbers file holds a list"]),
    "negative count": (
        PUBLISHED.replace("included: 3", "included: -3"),
        [
            r"published\.yaml, key counts\.included: -3 is negative",
            r"audit entry 'included'",
            r"signed: true",
        ],
    ),
    "negative part": (
        PUBLISHED.replace("rct: 2", "rct: -2"),
        [r"key counts\.rct: -2 is negative.*audit entry 'parts'"],
    ),
    "missing key": (
        "counts:\n  rct: 2\n  cohort: 1\n",
        [r"no key 'included' under counts", r"audit entry 'included'"],
    ),
    "section where a number goes": ("counts:\n  included: {n: 3}\n  rct: 2\n  cohort: 1\n", []),
}


@pytest.mark.parametrize("variant", PUBLISHED_VARIANTS)
def test_malformed_published_numbers_are_refused(review, variant):
    content, expected = PUBLISHED_VARIANTS[variant]
    (review / "config" / "published.yaml").write_text(content, encoding="utf-8")
    if variant == "section where a number goes":
        load(review)  # a section is a value the audit reports as unmatched, not a load error
        return
    _refused(review, *expected)


def test_a_published_file_that_does_not_exist_is_refused(review):
    _edit_config(review, lambda c: c["audit"].update(published="config/nope.yaml"))
    _refused(review, r"config audit\.published: config/nope\.yaml does not exist")


def test_latin1_published_numbers_are_refused(review):
    (review / "config" / "published.yaml").write_bytes(("# é\n" + PUBLISHED).encode("latin-1"))
    _refused(review, r"published\.yaml, line 1: not UTF-8")


TARGET_VARIANTS = {
    "unknown key": (
        {"id": "x", "published": "counts.rct", "metric": "m", "colour": 1},
        [r"Additional properties|colour"],
    ),
    "no metric": ({"id": "x", "published": "counts.rct"}, [r"'metric' is a required property"]),
    "empty path part": ({"id": "x", "published": "counts..rct", "metric": "m"}, [r"counts\.\.rct"]),
    "scale zero": (
        {"id": "x", "published": "counts.rct", "metric": "m", "scale": 0},
        [r"scale is 0"],
    ),
    "negative tolerance": (
        {"id": "x", "published": "counts.rct", "metric": "m", "tolerance": -1},
        [r"tolerance must be 0 or more"],
    ),
    "unknown compare": (
        {"id": "x", "published": "counts.rct", "metric": "m", "compare": "roughly"},
        [r"roughly"],
    ),
    "id used twice": (
        {"id": "included", "published": "counts.rct", "metric": "m"},
        [r"id 'included' is used twice"],
    ),
    "signed not a flag": (
        {"id": "x", "published": "counts.rct", "metric": "m", "signed": "yes"},
        [r"not of type 'boolean'|signed must be true"],
    ),
    "a signed target may be negative": (
        {"id": "x", "published": "counts.change", "metric": "m", "signed": True},
        [],
    ),
    "unknown consistency kind": ({"consistency": {"id": "c", "kind": "ratio"}}, [r"ratio"]),
    "percent without a denominator": (
        {"consistency": {"id": "p", "kind": "percent", "numerator": "counts.rct", "percent": 66}},
        [r"audit\.consistency entry 2 \(p\): missing key\(s\) denominator"],
    ),
    "path through a number": (
        {"id": "x", "published": "counts.rct.first", "metric": "m"},
        [r"counts\.rct is the value 2, not a section"],
    ),
}


@pytest.mark.parametrize("variant", TARGET_VARIANTS)
def test_malformed_audit_targets_are_refused(review, variant):
    entry, expected = TARGET_VARIANTS[variant]
    if "consistency" in entry:
        _edit_config(review, lambda c: c["audit"]["consistency"].append(entry["consistency"]))
    else:
        _edit_config(review, lambda c: c["audit"]["targets"].append(entry))
    if not expected:
        published = review / "config" / "published.yaml"
        published.write_text(published.read_text() + "  change: -4\n", encoding="utf-8")
        load(review)
        return
    _refused(review, *expected)


# --- end to end: the real workflow, one variant of each input ------------------------------

END_TO_END = {
    "config": (
        lambda f: (f / "config" / "config.yaml").write_text(
            (f / "config" / "config.yaml").read_text() + "review: {id: x, title: y}\n"
        ),
        r"(ConfigError|error): config/config\.yaml, line \d+: the key 'review' is given twice",
    ),
    "other sources": (
        lambda f: _apply(
            f,
            "other_sources",
            _rows_variant("other_sources", _cell("method", "hand_searching")),
            "other_sources.csv",
        ),
        r"InputFileError: config/other_sources\.csv, row 2, column 'method'",
    ),
    "screening": (
        lambda f: _apply(
            f, "screening", _rows_variant("screening", _cell("date", "45123")), "screening.csv"
        ),
        r"InputFileError: config/screening\.csv, row 2, column 'date'",
    ),
    "extraction": (
        lambda f: _apply(
            f, "extraction", _rows_variant("extraction", _cell("n", "ten")), "studies.csv"
        ),
        r"InputFileError: config/studies\.csv, row 2, column 'n'",
    ),
    "published": (
        lambda f: (f / "config" / "published.yaml").write_text(
            PUBLISHED.replace("included: 3", "included: -3")
        ),
        r"ConfigError: config/published\.yaml, key counts\.included: -3 is negative",
    ),
}


@pytest.mark.e2e
@pytest.mark.parametrize("variant", END_TO_END)
def test_the_workflow_stops_at_load_with_one_line_and_writes_nothing(review, variant):
    spoil, expected = END_TO_END[variant]
    records = [{"pmid": 4000 + i, "title": f"Study {i}", "year": 2020 + i} for i in range(1, 5)]
    take_snapshot(review, render_article_set(records), [str(4000 + i) for i in range(1, 5)], "t")
    spoil(review)
    before = _fingerprint(review)
    result = subprocess.run(
        [sys.executable, "-m", "litreview.cli", "run", "--cores", "1"],
        cwd=review,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    errors = [line for line in result.stderr.splitlines() if re.search(expected, line)]
    assert errors, result.stderr
    assert "Traceback" not in result.stderr and '  File "' not in result.stderr
    assert not (review / "results").exists()
    assert _fingerprint(review) == before


@pytest.mark.e2e
def test_a_new_review_with_header_only_sheets_and_commas_in_a_reason_runs_through(review):
    """A reason label with commas (the first review's 'Not original research (review, comment,
    notice)') and sheets holding only their headers: the whole run completes, PRISMA too."""
    label = "Not original research (review, comment, notice)"

    def change(config):
        config["screening"]["reasons"]["not_original_research"] = label
        config["screening"]["automatic"] = {
            "publication_types": [{"exclude": ["Review"], "reason": "not_original_research"}]
        }
        config["extraction"]["require_complete"] = False
        del config["audit"]

    _edit_config(review, change)
    for kind in ("screening", "extraction", "other_sources"):
        header, _ = _header_and_rows(kind)
        _apply(review, kind, _csv(header, []), SHEETS[kind][0])
    records = [
        {"pmid": 4000 + i, "title": f"Study {i}", "year": 2020 + i, "languages": ["eng"],
         "publication_types": ["Review"] if i == 1 else ["Journal Article"]}
        for i in range(1, 5)
    ]  # fmt: skip
    take_snapshot(review, render_article_set(records), [str(4000 + i) for i in range(1, 5)], "t")
    result = subprocess.run(
        [sys.executable, "-m", "litreview.cli", "run", "--cores", "1"],
        cwd=review, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = (review / "results" / "prisma" / "metrics.tsv").read_text(encoding="utf-8")
    line = next(row for row in metrics.splitlines() if "not_original_research" in row)
    assert line.split("\t")[1] == "1" and line.endswith(label)
