"""Deduplication: each hard case on small hand-made records."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from litreview.dedup import (
    DedupSettings,
    deduplicate,
    given_initial,
    is_conference_record,
    journal_tokens,
    journals_agree,
    normalise_doi,
    normalise_title,
    page_ranges,
    record_kind,
    surname_tokens,
)
from litreview.errors import ConfigError, ValidationError

TITLE = "Liraglutide inhibits progression of vascular disease in an ApoE knockout mouse model"
BASE = {
    "title": TITLE,
    "authors": "Gaspari T; Welungoda I; Dear AE",
    "year": "2013",
    "journal": "Diabetes and Vascular Disease Research",
    "volume": "10",
    "pages": "353-360",
}


def records(*rows: dict[str, str | None]) -> pd.DataFrame:
    """A record table; each row is BASE updated by the given fields (None removes a field)."""
    table = []
    for number, changes in enumerate(rows, start=1):
        row = {"record_id": f"r{number}", **BASE, **changes}
        table.append({key: value for key, value in row.items() if value is not None})
    return pd.DataFrame(table, dtype=object)


def clusters(table: pd.DataFrame, settings: DedupSettings | None = None) -> list[set[str]]:
    """Groups of record ids that deduplication put together (singletons included)."""
    result = deduplicate(table, settings)
    groups: dict[str, set[str]] = {}
    for record_id, cluster_id in zip(
        result.records["record_id"], result.records["cluster_id"], strict=True
    ):
        groups.setdefault(cluster_id, set()).add(record_id)
    return sorted(groups.values(), key=sorted)


def reason_of(table: pd.DataFrame, record_id: str, settings: DedupSettings | None = None) -> str:
    result = deduplicate(table, settings).records.set_index("record_id")
    return str(result.loc[record_id, "reason"])


# ------------------------------------------------------------------------------------------
# Normalisation
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "10.1177/1479164113481817",
        "https://doi.org/10.1177/1479164113481817",
        "http://dx.doi.org/10.1177/1479164113481817.",
        "doi:10.1177/1479164113481817",
        "DOI: 10.1177/1479164113481817 [doi]",
        "10.1177%2F1479164113481817",
    ],
)
def test_doi_forms_normalise_to_one(raw: str) -> None:
    assert normalise_doi(raw) == "10.1177/1479164113481817"


def test_doi_keeps_its_own_brackets_but_not_surrounding_ones() -> None:
    assert normalise_doi("10.1016/0140-6736(92)90001-X") == "10.1016/0140-6736(92)90001-x"
    assert normalise_doi("(10.1000/xyz)") == "10.1000/xyz"
    assert normalise_doi("not a doi") is None


def test_title_normalisation_folds_case_accents_markup_and_notes() -> None:
    plain = normalise_title("Etude of TNF-alpha in Apoe-/- mice")
    assert (
        normalise_title("Étude of TNF-α in Apoe<sup>-/-</sup> mice. [Article in French]") == plain
    )
    assert normalise_title(r"\'Etude of TNF-$\alpha$ in Apoe-/- mice") == plain
    assert normalise_title("[Étude of TNF-alpha in Apoe-/- mice]") == plain
    assert (
        normalise_title("Etude of TNF-alpha in Apoe-/- mice.[Erratum appears in X 2005]") == plain
    )
    assert normalise_title("Cats &amp; dogs") == "cats and dogs"


def test_pages_and_names_parse_the_usual_layouts() -> None:
    assert page_ranges("295-3") == ((295, 303, False),)
    assert page_ranges("295-303") == ((295, 303, False),)
    assert page_ranges("1324-7") == ((1324, 1327, False),)
    assert page_ranges("e1234") == ((1234, None, True),)
    assert page_ranges("Suppl-29") == page_ranges("01-Oct") == ()
    assert page_ranges("233-8, 230-5") == ((233, 238, False), (230, 235, False))
    assert surname_tokens("Smith JA") == surname_tokens("Smith, John A.") == ("smith",)
    assert surname_tokens("J. A. Smith") == ("smith",)
    assert given_initial("Smith, John") == given_initial("Smith JA") == "j"


def test_journal_abbreviations_agree_with_full_names() -> None:
    def agree(first: str, second: str) -> bool:
        return journals_agree(journal_tokens(first), journal_tokens(second))

    assert agree("J Parenter Enteral Nutr", "Journal of Parenteral and Enteral Nutrition")
    assert agree("Curr Opin Lipidol", "Current opinion in lipidology")
    assert agree("Dtsch Med Wochenschr", "Deutsche medizinische Wochenschrift")
    assert agree("Lancet", "Lancet (London, England)")
    assert agree("ICIS", "International Conference on Information Systems")
    assert not agree("Cancer", "Journal of Clinical Oncology")


def test_kind_comes_from_flags_publication_types_and_title_wording() -> None:
    assert record_kind("Erratum: X", None, {}) == "erratum"
    assert record_kind("Correction to: X", None, {}) == "erratum"
    assert record_kind("X", "Journal Article; Published Erratum", {}) == "erratum"
    assert record_kind("X", None, {"is_retraction_notice": "true"}) == "retraction_notice"
    assert record_kind("Retraction note: X", None, {}) == "retraction_notice"
    assert record_kind("Reply to letter by Smith", None, {}) == "reply"
    assert record_kind("Comment on: X", None, {}) == "comment"
    assert record_kind("Correction of scoliosis in adults", None, {}) == "article"
    assert record_kind("Response to treatment in asthma", None, {}) == "article"
    assert record_kind("X.[Erratum appears in Y 2005;1:2]", None, {}) == "article"


def test_conference_detection_leaves_journals_named_proceedings_alone() -> None:
    assert is_conference_record("inproceedings", None, ())
    assert is_conference_record(None, "Congress", ())
    assert is_conference_record(None, None, ("Diabetes. Conference: 70th Scientific Sessions",))
    assert is_conference_record(None, None, ("Amcis 2017 Proceedings",))
    assert not is_conference_record(None, None, ("Proceedings of the National Academy of Sci",))
    assert not is_conference_record("article", "Journal Article", ("Diabetes",))


# ------------------------------------------------------------------------------------------
# Exact stage
# ------------------------------------------------------------------------------------------


def test_doi_variants_merge_exactly() -> None:
    table = records(
        {"doi": "10.1177/ABC.1", "title": TITLE.upper() + "!", "authors": None},
        {"doi": "https://doi.org/10.1177/abc.1."},
        {"doi": "doi:10.1177/abc.1", "year": "2019"},
    )
    assert clusters(table) == [{"r1", "r2", "r3"}]
    assert reason_of(table, "r3") == "exact:doi"


def test_pmid_and_pmcid_merge_exactly() -> None:
    table = records(
        {"pmid": "12345", "title": "A title"},
        {"pmid": "PMID: 012345", "title": "Another title"},
        {"pmcid": "PMC999", "title": "Third"},
        {"pmcid": "pmc999", "title": "Fourth"},
    )
    assert clusters(table) == [{"r1", "r2"}, {"r3", "r4"}]
    assert reason_of(table, "r2") == "exact:pmid"


def test_a_supplement_doi_shared_by_different_abstracts_does_not_merge_them() -> None:
    table = records(
        {"doi": "10.2337/db16-1-381", "title": "Role of bile acid signalling in lipids"},
        {"doi": "10.2337/db16-1-381", "title": "Suppressive effects of GIP on the heart"},
    )
    assert clusters(table) == [{"r1"}, {"r2"}]
    merged = DedupSettings(shared_doi_title_similarity=0.0)
    assert clusters(table, merged) == [{"r1", "r2"}]


# ------------------------------------------------------------------------------------------
# Fuzzy stage
# ------------------------------------------------------------------------------------------


def test_title_typos_case_and_abbreviated_journal_merge() -> None:
    table = records(
        {},
        {
            "title": TITLE.upper().replace("PROGRESSION", "PROGRESION"),
            "journal": "Diab Vasc Dis Res",
            "pages": "353-60",
            "authors": "Gaspari, T. and Welungoda, I.",
        },
    )
    assert clusters(table) == [{"r1", "r2"}]
    assert reason_of(table, "r2").startswith("fuzzy:title+author+year")


def test_year_one_apart_merges_two_apart_does_not() -> None:
    assert clusters(records({}, {"year": "2014"})) == [{"r1", "r2"}]
    assert clusters(records({}, {"year": "2015"})) == [{"r1"}, {"r2"}]
    assert clusters(records({}, {"year": "2015"}), DedupSettings(year_tolerance=2)) == [
        {"r1", "r2"}
    ]


def test_truncated_title_merges() -> None:
    long_title = TITLE + " treated for twelve weeks with a high fat diet and daily injections"
    assert clusters(records({"title": long_title}, {"title": long_title[:90]})) == [{"r1", "r2"}]


def test_titles_differing_in_their_numbers_stay_apart() -> None:
    table = records(
        {"title": TITLE + ": part 1"}, {"title": TITLE + ": part 2", "pages": "361-370"}
    )
    assert clusters(table) == [{"r1"}, {"r2"}]
    table = records(
        {"title": "Screening 10,000 women " + TITLE}, {"title": "Screening 10 000 women " + TITLE}
    )
    assert clusters(table) == [{"r1", "r2"}]
    assert clusters(
        records({"title": "Type 2 diabetes " + TITLE}, {"title": "Type II diabetes " + TITLE})
    ) == [{"r1", "r2"}]


def test_translated_title_merges_on_the_whole_citation() -> None:
    table = records(
        {"title": "Antibiotic prophylaxis in pulmonary surgery: a double blind study"},
        {"title": "[Comparison of amoxicillin and cefamandole before lung surgery]"},
    )
    assert clusters(table) == [{"r1", "r2"}]
    assert reason_of(table, "r2") == "fuzzy:author+year+journal+volume+pages"


def test_different_first_authors_and_venues_stay_apart() -> None:
    table = records(
        {}, {"authors": "Smith J", "journal": "Atherosclerosis", "volume": "3", "pages": "1-9"}
    )
    assert clusters(table) == [{"r1"}, {"r2"}]


# ------------------------------------------------------------------------------------------
# Rules that keep distinct works distinct
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "notice",
    [
        {"title": "Erratum: " + TITLE},
        {"publication_types": "Published Erratum"},
        {"title": "Retraction notice: " + TITLE},
        {"publication_types": "Retraction of Publication"},
        {"is_retraction_notice": "true"},
        {"title": "Comment on: " + TITLE},
        {"publication_types": "Comment"},
        {"title": "Reply to comment on: " + TITLE},
    ],
)
def test_notices_never_merge_with_their_article(notice: dict[str, str]) -> None:
    assert clusters(records({}, notice)) == [{"r1"}, {"r2"}]


def test_a_retracted_article_is_still_the_article() -> None:
    table = records({}, {"title": TITLE + ". [Retraction in: X 2015]"})
    assert clusters(table) == [{"r1", "r2"}]


def test_conference_abstract_and_full_paper_follow_the_switch() -> None:
    table = records(
        {},
        {
            "year": "2012",
            "journal": "Diabetes. Conference: 72nd Scientific Sessions",
            "volume": "61",
            "pages": "A12",
        },
        {"year": "2012", "entry_type": "inproceedings", "volume": None, "pages": None},
    )
    assert clusters(table) == [{"r1"}, {"r2", "r3"}]
    together = DedupSettings(conference_abstract_merges_with_article=True)
    assert clusters(table, together) == [{"r1", "r2", "r3"}]


def test_a_conference_marker_on_one_export_of_the_same_issue_does_not_split_it() -> None:
    table = records({}, {"journal": "Diabetes and Vascular Disease Research. Conference: ASM"})
    assert clusters(table) == [{"r1", "r2"}]


def test_different_dois_never_merge_by_default() -> None:
    table = records({"doi": "10.1000/a"}, {"doi": "10.1000/b"}, {})
    groups = clusters(table)
    assert not any({"r1", "r2"} <= group for group in groups)
    assert clusters(
        records({"doi": "10.1000/a"}, {"doi": "10.1000/b"}),
        DedupSettings(merge_different_dois=True),
    ) == [{"r1", "r2"}]


def test_a_column_repeated_in_every_issue_stays_apart() -> None:
    table = records(
        {"title": "Editor's comments on the state of the field", "issue": "1", "pages": None},
        {"title": "Editor's comments on the state of the field", "issue": "2", "pages": None},
    )
    assert clusters(table) == [{"r1"}, {"r2"}]


def test_no_chaining_through_a_record_in_between() -> None:
    # r2 (no DOI) matches both r1 and r3, which have different DOIs: it may join one only.
    table = records({"doi": "10.1000/a"}, {}, {"doi": "10.1000/b"})
    groups = clusters(table)
    assert not any({"r1", "r3"} <= group for group in groups)
    assert len(groups) == 2
    # Years 2012, 2013, 2014: each neighbour within tolerance, the ends not.
    table = records({"year": "2012"}, {"year": "2013"}, {"year": "2014"})
    assert not any({"r1", "r3"} <= group for group in clusters(table))


def test_a_large_group_still_respects_identifiers_of_all_members() -> None:
    copies = [{} for _ in range(40)]
    table = records(*copies, {"doi": "10.1000/a"}, {"doi": "10.1000/b"})
    groups = clusters(table)
    assert not any({"r41", "r42"} <= group for group in groups)
    assert max(len(group) for group in groups) == 41


def test_thousands_of_copies_make_one_group() -> None:
    result = deduplicate(records(*({} for _ in range(1500))))
    assert result.records_out == 1
    assert result.duplicates["rule"].str.startswith("fuzzy:title+author+year").all()


# ------------------------------------------------------------------------------------------
# Result
# ------------------------------------------------------------------------------------------


def test_the_richest_record_is_kept_pubmed_first() -> None:
    table = records(
        {"doi": "10.1000/x", "abstract": "Long abstract", "issue": "3"},
        {"doi": "10.1000/x", "source": "pubmed"},
        {"doi": "10.1000/x", "abstract": "Long abstract", "issue": "3", "keywords": "k"},
    )
    kept = deduplicate(table).deduplicated["record_id"].tolist()
    assert kept == ["r2"]
    table = table.drop(columns=["source"])
    assert deduplicate(table).deduplicated["record_id"].tolist() == ["r3"]
    ties = records({"doi": "10.1000/x"}, {"doi": "10.1000/x"})
    assert deduplicate(ties.iloc[::-1]).deduplicated["record_id"].tolist() == ["r1"]


def test_result_tables_and_prisma_counts() -> None:
    table = records({"doi": "10.1000/x"}, {"doi": "10.1000/x"}, {"title": "Something else"})
    result = deduplicate(table)
    assert list(result.records.columns) == ["record_id", "cluster_id", "kept", "reason", "score"]
    assert result.records["reason"].tolist() == ["kept", "exact:doi", "unique"]
    assert result.records["kept"].tolist() == [True, False, True]
    assert result.duplicates.to_dict("records") == [
        {
            "group_id": "r1",
            "kept_record": "r1",
            "merged_record": "r2",
            "matched_record": "r1",
            "rule": "exact:doi",
            "score": 1.0,
        }
    ]
    assert result.prisma_counts == {"records_in": 3, "duplicates_removed": 1, "records_out": 2}
    assert result.deduplicated["record_id"].tolist() == ["r1", "r3"]


def test_missing_fields_are_filled_from_duplicates_when_asked() -> None:
    table = records({"doi": "10.1000/x", "abstract": None}, {"doi": "10.1000/x", "abstract": "A"})
    table.loc[0, "keywords"] = "k1"
    result = deduplicate(table, DedupSettings(fill_missing_fields=True))
    assert result.deduplicated["abstract"].tolist() == ["A"]
    assert result.filled.to_dict("records") == [
        {"record_id": "r1", "column": "abstract", "from_record": "r2"}
    ]
    assert deduplicate(table).filled.empty


def test_nullable_string_input_and_few_columns_work() -> None:
    table = pd.DataFrame(
        {"record_id": ["a", "b", "c"], "title": [TITLE, TITLE, pd.NA]}, dtype="string"
    )
    assert clusters(table) == [{"a", "b"}, {"c"}]


def test_bad_record_ids_fail_clearly() -> None:
    with pytest.raises(ValidationError, match="'r1' occurs more than once"):
        deduplicate(pd.DataFrame({"record_id": ["r1", "r1"], "title": ["a", "b"]}))
    with pytest.raises(ValidationError, match="no 'record_id' column"):
        deduplicate(pd.DataFrame({"title": ["a"]}))
    with pytest.raises(ValidationError, match="record 2 has no record_id"):
        deduplicate(pd.DataFrame({"record_id": ["r1", None], "title": ["a", "b"]}))


def test_settings_from_config_reject_unknown_keys_and_wrong_types() -> None:
    assert DedupSettings.from_mapping({"year_tolerance": 2}).year_tolerance == 2
    assert DedupSettings.from_mapping({"title_similarity": 1}).title_similarity == 1.0
    with pytest.raises(ConfigError, match="unknown setting"):
        DedupSettings.from_mapping({"year_tolerence": 2})
    with pytest.raises(ConfigError, match="expected bool"):
        DedupSettings.from_mapping({"merge_different_dois": "yes"})
    with pytest.raises(ConfigError, match="not between 0 and 1"):
        DedupSettings(title_similarity=90.0)


_DETERMINISM_SCRIPT = """
import pandas as pd, sys
from litreview.dedup import deduplicate
table = pd.read_pickle(sys.argv[1])
result = deduplicate(table)
sys.stdout.write(result.records.to_csv(index=False) + result.duplicates.to_csv(index=False))
"""


def test_output_is_byte_identical_across_runs_and_hash_seeds(tmp_path: Path) -> None:
    rows = []
    for number in range(40):
        words = f"Study {number % 7} of vascular disease in mice and rats cohort {number % 5}"
        rows.append(
            {"title": words, "year": str(2000 + number % 3), "authors": f"Lee{number % 4} A"}
        )
    table = records(*rows)
    first = deduplicate(table)
    second = deduplicate(table.copy())
    assert first.records.to_csv() == second.records.to_csv()
    assert first.duplicates.to_csv() == second.duplicates.to_csv()
    pickle = tmp_path / "records.pkl"
    table.to_pickle(pickle)
    outputs = set()
    for seed in ("1", "2"):
        completed = subprocess.run(
            [sys.executable, "-c", _DETERMINISM_SCRIPT, str(pickle)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        outputs.add(completed.stdout)
    assert len(outputs) == 1
    assert "cluster_id" in outputs.pop()


TRAPS = Path(__file__).parent / "data" / "dedup" / "traps"


def test_the_trap_set_keeps_different_works_apart_and_joins_versions() -> None:
    """tests/data/dedup/traps: supplement abstracts on one page, population and subgroup
    variants of one sponsor's trials, interim/final and 12/52-week reports stay apart; a
    preprint and its journal version two years later, subtitle and capitalised copies join."""
    from itertools import combinations

    from litreview.dedup_cli import read_bibliographic_csv

    records, _ = read_bibliographic_csv(TRAPS / "records_pre_merged.csv")
    gold = pd.read_csv(TRAPS / "merged_record_ids.csv", dtype=str)
    true_pairs = {
        frozenset(pair) for ids in gold["merged_ids"] for pair in combinations(ids.split(";"), 2)
    }
    result = deduplicate(records)
    clusters = result.records.groupby("cluster_id")["record_id"].apply(list)
    found = {frozenset(pair) for members in clusters for pair in combinations(members, 2)}
    assert found == true_pairs
    reasons = dict(zip(result.records["record_id"], result.records["reason"], strict=True))
    assert reasons["pre1"].startswith("fuzzy:preprint+")
