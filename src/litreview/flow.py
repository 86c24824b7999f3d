"""PRISMA 2020 numbers computed from the pipeline's own tables.

Every box is a count over records: identified (results/identified.tsv), deduplication
(results/dedup/clusters.tsv: which record was kept) and screening (results/screening/
screened.tsv: each kept record's final status). Nothing is typed in.

Column of a record: the database column for records from a database or register search
(`source_type == "database"`), the other-methods column for the rest. Other-methods records that
duplicate a record found earlier are not new records: they are counted in
`other_duplicates` (reported beside the diagram) and not in the column's results.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import pandas as pd

from litreview.prisma import PrismaCounts

_OTHER_BOXES = {
    "websites": "website_results",
    "organisations": "organisation_results",
    "citation_searching": "citations_results",
}


def _reasons(rows: pd.DataFrame, reason_texts: Mapping[str, str]) -> list[tuple[str, int]]:
    counted = Counter(reason_texts.get(reason, reason) for reason in rows["reason"].dropna())
    return sorted(counted.items(), key=lambda item: (-item[1], item[0]))


def kept_mask(clusters: pd.DataFrame) -> pd.Series:
    """True for the record each cluster keeps (clusters.tsv writes True/False as text)."""
    return clusters["kept"].astype("string").str.lower().isin(["true", "1"]).astype(bool)


def prisma_counts(
    identified: pd.DataFrame,
    clusters: pd.DataFrame,
    screened: pd.DataFrame,
    *,
    reason_texts: Mapping[str, str],
    other_labels: Mapping[str, str] | None = None,
    previous_studies: int = 0,
    previous_reports: int = 0,
) -> tuple[PrismaCounts, dict[str, Any]]:
    """The PRISMA counts, and extra figures worth printing beside them (other_duplicates)."""
    kept = set(clusters.loc[kept_mask(clusters), "record_id"])
    records = identified.assign(kept=identified["record_id"].isin(kept))
    status = screened.set_index("record_id")["status"]
    records["status"] = records["record_id"].map(status)
    database = records[records["source_type"] == "database"]
    other = records[records["source_type"] != "database"]

    def specific(rows: pd.DataFrame) -> list[tuple[str, int]]:
        names = rows["record_id"].str.startswith("pubmed:").map({True: "PubMed", False: None})
        names = names.fillna(rows["found_via"].astype("string"))
        return sorted(Counter(names).items())

    registers = database[database["method"] == "register"]
    databases = database[database["method"] != "register"]
    database_kept = database[database["kept"]]
    excluded_automatic = database_kept[database_kept["status"] == "excluded_automatic"]
    screened_db = database_kept[database_kept["status"] != "excluded_automatic"]
    sought_statuses = {"included", "excluded_full_text", "not_retrieved", "awaiting_full_text"}
    sought_db = screened_db[screened_db["status"].isin(sought_statuses)]

    other_new = other[other["kept"]]
    other_by_method = Counter(other_new["method"])
    labels = dict(other_labels or {})
    other_results = sorted(
        (labels.get(method, method.replace("_", " ").capitalize()), n)
        for method, n in other_by_method.items()
        if method not in _OTHER_BOXES
    )
    # records from other methods excluded before retrieval: not reports sought (PRISMA 2020)
    other_screened_out = other_new[
        other_new["status"].isin({"excluded_title_abstract", "excluded_automatic"})
    ]
    other_reports = other_new[~other_new["record_id"].isin(set(other_screened_out["record_id"]))]
    other_excluded = other_reports[other_reports["status"] == "excluded_full_text"]
    included_db = int((sought_db["status"] == "included").sum())
    included_other = int((other_new["status"] == "included").sum())
    counts = PrismaCounts(
        previous_studies=previous_studies,
        previous_reports=previous_reports,
        database_results=len(databases),
        database_specific_results=specific(databases),
        register_results=len(registers),
        register_specific_results=specific(registers) if len(registers) else [],
        website_results=other_by_method.get("websites", 0),
        organisation_results=other_by_method.get("organisations", 0),
        citations_results=other_by_method.get("citation_searching", 0),
        other_results=other_results,
        duplicates=int((~database["kept"]).sum()),
        excluded_automatic=len(excluded_automatic),
        excluded_other=0,
        records_screened=len(screened_db),
        records_excluded=int((screened_db["status"] == "excluded_title_abstract").sum()),
        awaiting_screening=int((screened_db["status"] == "awaiting_title_abstract").sum()),
        dbr_sought_reports=len(sought_db),
        dbr_notretrieved_reports=int((sought_db["status"] == "not_retrieved").sum()),
        dbr_assessed=int((sought_db["status"] != "not_retrieved").sum()),
        dbr_excluded=_reasons(
            screened.set_index("record_id").loc[
                sought_db.loc[sought_db["status"] == "excluded_full_text", "record_id"]
            ],
            reason_texts,
        ),
        awaiting_assessment=int((sought_db["status"] == "awaiting_full_text").sum()),
        included_from_databases=included_db,
        other_records_excluded=len(other_screened_out),
        other_sought_reports=len(other_reports),
        other_notretrieved_reports=int((other_reports["status"] == "not_retrieved").sum()),
        other_assessed=int((other_reports["status"] != "not_retrieved").sum()),
        other_excluded=_reasons(
            screened.set_index("record_id").loc[other_excluded["record_id"]], reason_texts
        ),
        other_awaiting_assessment=int(
            other_reports["status"].isin({"awaiting_full_text", "awaiting_title_abstract"}).sum()
        ),
        included_from_other=included_other,
        new_studies=included_db + included_other,
        new_reports=included_db + included_other,
        total_studies=previous_studies + included_db + included_other,
        total_reports=previous_reports + included_db + included_other,
        other_duplicates=int((~other["kept"]).sum()),
    )
    reason_of = screened.set_index("record_id")["reason"]

    def by_reason(rows: pd.DataFrame) -> dict[str, int]:
        counted = Counter(str(r) for r in reason_of.reindex(rows["record_id"]).dropna())
        return dict(sorted(counted.items()))

    extras = {
        "other_duplicates": int((~other["kept"]).sum()),
        "other_identified": len(other),
        "records_excluded_by_reason": by_reason(
            screened_db[screened_db["status"] == "excluded_title_abstract"]
        ),
        "excluded_automatic_by_reason": by_reason(excluded_automatic),
    }
    return counts, extras
