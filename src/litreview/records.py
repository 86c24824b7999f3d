"""PubMed records: MEDLINE/PubMed XML (as efetch returns it) parsed into one flat table.

The table (`results/records.tsv`) is the common currency of every later stage. Multi-valued
fields are joined with ``"; "``; a missing value is ``pd.NA`` (empty in the TSV), never ``""``.
"""

from __future__ import annotations

# Column order of records.tsv. Other sources (RIS, nbib, CSV exports) are mapped onto the same
# columns, so identification and deduplication work on one shape.
RECORD_COLUMNS: tuple[str, ...] = (
    "pmid",
    "doi",
    "pmcid",
    "title",
    "abstract",
    "journal",
    "journal_abbrev",
    "volume",
    "issue",
    "pages",
    "year",
    "publication_date",
    "authors",
    "first_author",
    "languages",
    "publication_types",
    "mesh",
    "keywords",
    "entrez_date",
    "is_retracted",
    "is_retraction_notice",
    "is_erratum",
    "is_expression_of_concern",
)

MULTI_VALUE_SEPARATOR = "; "
