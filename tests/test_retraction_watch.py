"""The Retraction Watch CSV as Crossref publishes it: latin-1, `0` / `unavailable` for a missing
identifier, a retraction followed by a reinstatement; matched to included studies by DOI and
PMID beside PubMed's own flags."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from litreview.errors import ConfigError, InputFileError
from litreview.retraction_watch import read_retraction_watch, watch_included

HEADER = (
    "Record ID,Title,Journal,Author,RetractionDate,RetractionDOI,RetractionPubMedID,"
    "OriginalPaperDate,OriginalPaperDOI,OriginalPaperPubMedID,RetractionNature,Reason\n"
)
ROWS = [
    "101,Étude sur la prophylaxie,J Chir,Müller A,3/1/2024 0:00,10.1/r1,0,1/1/2020 0:00,10.5555/A.1,5001,Retraction,+Data;\n",
    "102,Second,J Chir,Núñez B,5/1/2024 0:00,unavailable,0,1/1/2020 0:00,unavailable,5002,Expression of concern,+Concern;\n",
    "103,Third,J Chir,C,2/1/2023 0:00,10.1/r3,0,1/1/2019 0:00,10.5555/c.3,0,Retraction,+Error;\n",
    "104,Third,J Chir,C,6/1/2024 0:00,10.1/r4,0,1/1/2019 0:00,10.5555/c.3,0,Reinstatement,+Reinstated;\n",
]


@pytest.fixture
def watch_file(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "retraction_watch.csv"
    path.write_bytes((HEADER + "".join(ROWS)).encode("latin-1"))
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


def test_notices_by_pmid_and_doi_the_latest_deciding(watch_file) -> None:
    path, digest = watch_file
    notices = read_retraction_watch(path, digest)
    assert notices["pmid:5001"].status == "retracted"
    assert notices["doi:10.5555/a.1"].status == "retracted"  # DOIs normalised
    assert notices["pmid:5002"].status == "expression_of_concern"
    assert "doi:unavailable" not in notices and "pmid:0" not in notices
    assert notices["doi:10.5555/c.3"].status == "reinstated"  # retracted 2023, reinstated 2024
    assert notices["doi:10.5555/c.3"].date == "2024-06-01"


def test_the_copy_read_is_checked(watch_file) -> None:
    path, digest = watch_file
    with pytest.raises(
        ConfigError, match="retraction_watch.sha256 is not set: set it to " + digest
    ):
        read_retraction_watch(path, None)
    with pytest.raises(InputFileError, match=r"differs from config retraction_watch\.sha256"):
        read_retraction_watch(path, "0" * 64)


def test_included_studies_are_watched_from_both_sources(watch_file) -> None:
    path, digest = watch_file
    screened = pd.DataFrame(
        {
            "record_id": ["pubmed:5001", "pubmed:5003", "pubmed:5004", "other:x"],
            "status": ["included", "included", "included", "excluded_title_abstract"],
        }
    )
    records = pd.DataFrame(
        {
            "record_id": ["pubmed:5001", "pubmed:5003", "pubmed:5004", "other:x"],
            "pmid": ["5001", "5003", "5004", None],
            "doi": ["10.5555/a.1", "10.5555/c.3", None, None],
            "title": ["A", "C", "D", "X"],
            "is_retracted": ["False", "False", "True", "False"],
            "is_expression_of_concern": ["False"] * 4,
            "has_erratum": ["False", "False", "False", "False"],
        }
    )
    watch = watch_included(screened, records, read_retraction_watch(path, digest))
    assert watch[["record_id", "status", "source"]].values.tolist() == [
        ["pubmed:5001", "retracted", "Retraction Watch"],
        ["pubmed:5003", "reinstated", "Retraction Watch"],
        ["pubmed:5004", "retracted", "PubMed"],
    ]


def test_a_retracted_included_study_heads_the_audit(tmp_path: Path) -> None:
    from litreview import stages

    (tmp_path / "metrics.tsv").write_text(
        "metric\tvalue\tunit\tn\tdetail\ncounts.total\t3\tstudies\t3\tall\n"
    )
    (tmp_path / "studies.tsv").write_text("record_id\tcategory\npubmed:1\ta\n")
    (tmp_path / "published.yaml").write_text("included: 3\n")
    (tmp_path / "watch.tsv").write_text(
        "record_id\tpmid\tdoi\ttitle\tstatus\tsource\tdate\tdetail\n"
        "pubmed:1\t1\t\tA\tretracted\tRetraction Watch\t2024-03-01\tr\n"
        "pubmed:2\t2\t\tB\terratum\tPubMed\t\thas_erratum\n"
    )
    audit = {
        "published": str(tmp_path / "published.yaml"),
        "targets": [{"id": "included", "published": "included", "metric": "counts.total"}],
    }
    stages.audit_outputs(
        tmp_path / "metrics.tsv", tmp_path / "studies.tsv", audit, tmp_path / "audit.csv",
        tmp_path / "audit.md", origin=None, title="T", watch_path=tmp_path / "watch.tsv",
    )  # fmt: skip
    lines = (tmp_path / "audit.md").read_text().splitlines()
    assert lines[2] == "ALARM: included study pubmed:1 is retracted (Retraction Watch)."
    assert not any("pubmed:2" in line for line in lines[:6])  # an erratum is not alarmed
