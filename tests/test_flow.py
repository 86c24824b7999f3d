"""PRISMA numbers computed from random identification, deduplication and screening outcomes
always add up (hypothesis), and a hand-checked small case."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from litreview.flow import prisma_counts
from litreview.prisma import check
from litreview.screen import Criteria, ScreeningSettings, SheetDecision, screen

REASONS = {"a": "Reason A", "b": "Reason B", "not_retrieved": "Full text not retrieved"}
SETTINGS = ScreeningSettings(
    reasons=REASONS,
    criteria=Criteria(languages=("eng",), language_reason="a"),
    categories=(),
    conflict_rules={"title_abstract": "any_include", "full_text": "unanimous"},
)
DECISION = st.sampled_from([None, ("include", None), ("exclude", "a"), ("exclude", "b"),
                            ("maybe", None), ("exclude", "not_retrieved")])  # fmt: skip


@st.composite
def reviews(draw):
    size = draw(st.integers(1, 40))
    identified, clusters, decisions = [], [], []
    for number in range(size):
        source_type = draw(st.sampled_from(["database", "database", "other"]))
        method = (
            "database"
            if source_type == "database"
            else draw(st.sampled_from(["citation_searching", "websites", "organisations", "other"]))
        )
        record_id = f"r{number:03d}"
        identified.append(
            {
                "record_id": record_id,
                "source_type": source_type,
                "method": method,
                "found_via": draw(st.sampled_from(["PubMed search", "Embase export"])),
                "title": "t",
                "languages": draw(st.sampled_from(["eng", "fre", None])),
            }
        )
        # a record is a duplicate of an earlier one, or kept
        if number and draw(st.booleans()) and draw(st.booleans()):
            target = draw(st.integers(0, number - 1))
            cluster = clusters[target]["cluster_id"]
            clusters.append({"record_id": record_id, "cluster_id": cluster, "kept": "False"})
        else:
            clusters.append({"record_id": record_id, "cluster_id": record_id, "kept": "True"})
        for stage in ("title_abstract", "full_text"):
            for reviewer in ("A", "B"):
                decision = draw(DECISION)
                if decision is not None:
                    decisions.append(
                        SheetDecision(
                            record_id,
                            stage,
                            decision[0],
                            decision[1],
                            None,
                            reviewer,
                            None,
                            None,
                            "sheet.csv",
                            2,
                        )
                    )
    return pd.DataFrame(identified), pd.DataFrame(clusters), decisions


@settings(max_examples=150, deadline=None)
@given(reviews())
def test_prisma_boxes_add_up_for_random_reviews(review) -> None:
    identified, clusters, decisions = review
    kept_ids = set(clusters.loc[clusters["kept"] == "True", "record_id"])
    kept = identified[identified["record_id"].isin(kept_ids)]
    # only decisions on kept records reach screening (sheets name records by any key, and
    # the index maps merged ones to their kept record)
    decisions = [d for d in decisions if d.record_id in kept_ids]
    result = screen(kept, decisions, SETTINGS)
    counts, extras = prisma_counts(identified, clusters, result.screened, reason_texts=REASONS)
    assert check(counts) == []
    assert counts.new_studies == (result.screened["status"] == "included").sum()
    other_methods = (
        counts.website_results
        + counts.organisation_results
        + counts.citations_results
        + sum(n for _, n in counts.other_results)
    )
    identified_total = counts.database_results + counts.register_results + other_methods
    assert identified_total + extras["other_duplicates"] == len(identified)


def test_a_small_case_by_hand() -> None:
    identified = pd.DataFrame(
        [
            {
                "record_id": "pubmed:1",
                "source_type": "database",
                "method": "database",
                "found_via": "PubMed search",
            },
            {
                "record_id": "pubmed:2",
                "source_type": "database",
                "method": "database",
                "found_via": "PubMed search",
            },
            {
                "record_id": "emb:1",
                "source_type": "database",
                "method": "database",
                "found_via": "Embase",
            },
            {
                "record_id": "other:x",
                "source_type": "other",
                "method": "citation_searching",
                "found_via": "refs",
            },
            {
                "record_id": "other:y",
                "source_type": "other",
                "method": "citation_searching",
                "found_via": "refs",
            },
        ]
    )
    clusters = pd.DataFrame(
        [
            {"record_id": "pubmed:1", "cluster_id": "pubmed:1", "kept": "True"},
            {"record_id": "pubmed:2", "cluster_id": "pubmed:2", "kept": "True"},
            {"record_id": "emb:1", "cluster_id": "pubmed:1", "kept": "False"},
            {"record_id": "other:x", "cluster_id": "other:x", "kept": "True"},
            {"record_id": "other:y", "cluster_id": "pubmed:2", "kept": "False"},
        ]
    )
    screened = pd.DataFrame(
        [
            {"record_id": "pubmed:1", "status": "included", "reason": None},
            {"record_id": "pubmed:2", "status": "excluded_full_text", "reason": "b"},
            {"record_id": "other:x", "status": "included", "reason": None},
        ]
    )
    counts, extras = prisma_counts(identified, clusters, screened, reason_texts=REASONS)
    assert check(counts) == []
    assert counts.database_results == 3
    assert counts.database_specific_results == [("Embase", 1), ("PubMed", 2)]
    assert counts.duplicates == 1
    assert counts.records_screened == 2
    assert counts.dbr_sought_reports == 2
    assert counts.dbr_excluded == [("Reason B", 1)]
    assert counts.citations_results == 1
    assert counts.new_studies == 2
    assert extras["other_duplicates"] == 1 and extras["other_identified"] == 2


def test_other_method_records_excluded_on_title_abstract_are_not_reports_sought() -> None:
    identified = pd.DataFrame(
        {
            "record_id": ["pubmed:1", "other:a", "other:b"],
            "source_type": ["database", "other", "other"],
            "method": ["database", "citation_searching", "citation_searching"],
            "found_via": ["PubMed search", "reference list", "reference list"],
        }
    )
    clusters = pd.DataFrame(
        {
            "record_id": identified["record_id"],
            "cluster_id": identified["record_id"],
            "kept": "True",
        }
    )
    screened = pd.DataFrame(
        {
            "record_id": ["pubmed:1", "other:a", "other:b"],
            "status": ["included", "excluded_title_abstract", "included"],
            "reason": [None, "a", None],
        }
    )
    counts, _ = prisma_counts(identified, clusters, screened, reason_texts=REASONS)
    assert counts.citations_results == 2
    assert counts.other_records_excluded == 1
    assert counts.other_sought_reports == counts.other_assessed == 1
    assert counts.other_excluded == []
    assert check(counts) == []
