"""PubMed XML parsing: records/s, MB/s and peak memory of the records stage's parser, beside
the former Bio.Entrez parser and a bare ElementTree scan of the same file (the floor: records
counted, no fields read), and lxml's iterparse reading the main fields (PMID, title, abstract,
journal, year, authors, MeSH, publication types, language, DOI) when lxml is installed (it is
not a dependency: `pip install lxml` to see that row).

    python bench/parse.py                    # 5,000, 20,000 and 50,000 synthetic records
    python bench/parse.py --sizes 30000

Each measurement runs in its own interpreter, so peak MB is that process's maximum resident set.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PARSERS = ("litreview", "bio_entrez", "lxml_fields", "elementtree_scan")


def lxml_fields(data: bytes) -> int:
    """lxml iterparse with clear, reading the main fields of each record into a dict."""
    from lxml import etree

    records = []
    for _, element in etree.iterparse(io.BytesIO(data), events=("end",), tag="PubmedArticle"):
        citation = element.find("MedlineCitation")
        article = citation.find("Article")
        records.append(
            {
                "pmid": citation.findtext("PMID"),
                "title": "".join(article.find("ArticleTitle").itertext()),
                "abstract": " ".join(
                    "".join(part.itertext()) for part in article.iterfind("Abstract/AbstractText")
                ),
                "journal": article.findtext("Journal/Title"),
                "year": article.findtext("Journal/JournalIssue/PubDate/Year"),
                "authors": [
                    f"{a.findtext('LastName')} {a.findtext('Initials')}"
                    for a in article.iterfind("AuthorList/Author")
                ],
                "mesh": [
                    m.text for m in citation.iterfind("MeshHeadingList/MeshHeading/DescriptorName")
                ],
                "types": [t.text for t in article.iterfind("PublicationTypeList/PublicationType")],
                "language": article.findtext("Language"),
                "doi": element.findtext("PubmedData/ArticleIdList/ArticleId[@IdType='doi']"),
            }
        )
        element.clear()
        while element.getprevious() is not None:
            del element.getparent()[0]
    return len(records)


def build(size: int, path: Path) -> None:
    from litreview.testing.eutils import PUBMED_HEADER, synthetic_store

    store = synthetic_store(size)
    with path.open("wb") as handle:
        handle.write(PUBMED_HEADER + b"<PubmedArticleSet>\n")
        for pmid in sorted(store.records):
            handle.write(store.raw(pmid) + b"\n")
        handle.write(b"</PubmedArticleSet>\n")


def measure(parser: str, path: Path) -> dict:
    data = path.read_bytes()
    started = time.process_time()
    if parser == "litreview":
        from litreview.records import parse_pubmed_xml

        count = len(parse_pubmed_xml(data))
    elif parser == "bio_entrez":
        sys.path.insert(0, str(REPO))
        from tests.pubmed_reference import parse_with_bio_entrez

        count = len(parse_with_bio_entrez(data))
    elif parser == "lxml_fields":
        count = lxml_fields(data)
    else:
        count = 0
        for _, element in ET.iterparse(io.BytesIO(data), events=("end",)):
            if element.tag == "PubmedArticle":
                count += 1
                element.clear()
    seconds = time.process_time() - started
    return {
        "records": count,
        "seconds": seconds,
        "mb": len(data) / 1e6,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="*", type=int, default=[5_000, 20_000, 50_000])
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child[0], Path(args.child[1]))))
        return
    print(f"{'parser':<18}{'records':>8}{'file MB':>9}{'seconds':>9}{'records/s':>11}"
          f"{'MB/s':>7}{'peak MB':>9}")  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes:
            path = Path(folder) / f"pubmed_{size}.xml"
            build(size, path)
            for name in PARSERS:
                if name == "lxml_fields" and importlib.util.find_spec("lxml") is None:
                    print(f"{name:<18}  (lxml not installed: pip install lxml)")
                    continue
                completed = subprocess.run(
                    [sys.executable, __file__, "--child", name, str(path)],
                    capture_output=True, text=True, check=True,
                )  # fmt: skip
                row = json.loads(completed.stdout)
                print(
                    f"{name:<18}{row['records']:>8}{row['mb']:>9.1f}{row['seconds']:>9.2f}"
                    f"{row['records'] / row['seconds']:>11.0f}{row['mb'] / row['seconds']:>7.1f}"
                    f"{row['peak_mb']:>9.0f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
