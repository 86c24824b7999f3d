"""Write this review's PubMed records (run once; pubmed.xml is committed).

A made-up review of antibiotic prophylaxis in surgery, in a field far from the first review's:
12 records, of which 6 randomised trials and 3 observational studies are included, 1 review is
excluded automatically and 2 paediatric studies by the reviewer.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parents[2] / "src"))

from litreview.testing.pubmed_xml import render_article_set  # noqa: E402

RCT, COHORT, REVIEW = ["Randomized Controlled Trial"], ["Observational Study"], ["Review"]
RECORDS = [
    (
        3001,
        "Adams J",
        2015,
        "Cefazolin timing and surgical site infection after hernia repair: a randomized trial",
        RCT,
    ),
    (
        3002,
        "Brown K",
        2016,
        "Weight-based cefazolin prophylaxis and surgical site infection: a randomized trial",
        RCT,
    ),
    (
        3003,
        "Clark L",
        2017,
        "Repeated cefuroxime prophylaxis and surgical site infection in colorectal surgery",
        RCT,
    ),
    (
        3004,
        "Davis M",
        2018,
        "Vancomycin infusion prophylaxis and surgical site infection in cardiac surgery",
        RCT,
    ),
    (
        3005,
        "Evans N",
        2019,
        "Cefazolin after cord clamping at caesarean delivery and wound infection",
        RCT,
    ),
    (
        3006,
        "Fox O",
        2020,
        "Cefazolin before incision or after cord clamping at caesarean delivery: surgical site infection",
        RCT,
    ),
    (
        3007,
        "Green P",
        2018,
        "Cefazolin dose and surgical site infection after arthroplasty: a cohort study",
        COHORT,
    ),
    (
        3008,
        "Hall Q",
        2019,
        "Clindamycin prophylaxis and surgical site infection: a cohort study",
        COHORT,
    ),
    (
        3009,
        "Irwin R",
        2021,
        "Cefazolin at skin incision and wound infection after caesarean delivery: a case-control study",
        COHORT,
    ),
    (3010, "Jones S", 2020, "Antibiotic prophylaxis and surgical site infection: a review", REVIEW),
    (
        3011,
        "King T",
        2019,
        "Surgical site infection after paediatric appendectomy with prophylaxis",
        RCT,
    ),
    (
        3012,
        "Lee U",
        2022,
        "Wound infection in children after prophylaxis for hernia repair",
        COHORT,
    ),
]


def main() -> None:
    records = [
        {
            "pmid": pmid,
            "title": title,
            "authors": [author],
            "year": year,
            "journal": "Journal of Surgical Prophylaxis",
            "languages": ["eng"],
            "publication_types": ["Journal Article", *types],
            "doi": f"10.5555/jsp.{pmid}",
        }
        for pmid, author, year, title, types in RECORDS
    ]
    (HERE / "pubmed.xml").write_bytes(render_article_set(records))


if __name__ == "__main__":
    main()
