"""Versions of a living review: recorded once when the included set or PRISMA numbers
change, never rewritten; a replay of an earlier version is that version."""

from __future__ import annotations

import json
from pathlib import Path

from litreview.versions import cumulative_svg, cumulative_table, read_versions, record_version

BOXES = {"database_results": 10, "records_screened": 10, "new_studies": 3, "total_studies": 3}


def test_versions_are_recorded_when_something_changes(tmp_path: Path) -> None:
    sheets = {"config/screening.csv": "ab" * 32}
    first, new = record_version(tmp_path, date="2026-10-01", snapshot="S1", sheets=sheets,
                                included=["pubmed:2", "pubmed:1", "pubmed:3"], prisma=BOXES)  # fmt: skip
    assert (first["version"], new) == ("v1", True)
    same, new = record_version(tmp_path, date="2026-10-02", snapshot="S1", sheets=sheets,
                               included=["pubmed:1", "pubmed:2", "pubmed:3"], prisma=BOXES)  # fmt: skip
    assert (same["version"], new) == ("v1", False)
    moved = {
        **BOXES,
        "database_results": 12,
        "records_screened": 12,
        "new_studies": 4,
        "total_studies": 4,
    }
    second, new = record_version(tmp_path, date="2026-11-01", snapshot="S2", sheets=sheets,
                                 included=["pubmed:1", "pubmed:2", "pubmed:3", "pubmed:9"], prisma=moved)  # fmt: skip
    assert (second["version"], new) == ("v2", True)
    assert second["changed"].startswith("+1 included; PRISMA: database_results")
    # replaying v1 from its snapshot is v1, not a third version
    replay, new = record_version(tmp_path, date="2026-12-01", snapshot="S1", sheets=sheets,
                                 included=["pubmed:1", "pubmed:2", "pubmed:3"], prisma=BOXES)  # fmt: skip
    assert (replay["version"], new) == ("v1", False)
    assert [v["version"] for v in read_versions(tmp_path)] == ["v1", "v2"]
    assert json.loads((tmp_path / "v1.json").read_text())["date"] == "2026-10-01"  # not rewritten
    table = cumulative_table(read_versions(tmp_path))
    assert list(table.columns) == ["box", "v1 (2026-10-01)", "v2 (2026-11-01)"]
    assert table.set_index("box").loc["total_studies"].tolist() == [3, 4]
    cumulative_svg(read_versions(tmp_path), tmp_path / "flow.svg")
    assert "v2 (2026-11-01)" in (tmp_path / "flow.svg").read_text()


def test_an_update_counts_only_records_the_previous_version_had_not_seen() -> None:
    import pandas as pd

    from litreview.stages import new_since

    previous = {"records": ["pubmed:1", "other:ref-1"], "keys": ["pmid:1", "doi:10.1000/ref.1"]}
    identified = pd.DataFrame(
        {
            "record_id": ["pubmed:1", "pubmed:2", "other:ref-9", "other:ref-7"],
            "pmid": ["1", "2", None, None],
            "doi": [None, None, "10.1000/REF.1", "10.1000/new"],  # ref-9: ref-1 found again
        }
    )
    clusters = pd.DataFrame(
        {
            "record_id": identified["record_id"],
            "cluster_id": identified["record_id"],
            "kept": "True",
        }
    )
    screened = identified.assign(status="included")
    kept, _, screened_new = new_since(previous, identified, clusters, screened)
    assert kept["record_id"].tolist() == ["pubmed:2", "other:ref-7"]
    assert screened_new["record_id"].tolist() == ["pubmed:2", "other:ref-7"]
