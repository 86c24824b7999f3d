"""One family of errors. A message names what failed (file, row, column, request) and what to do."""

from __future__ import annotations

from pathlib import Path


class LitReviewError(Exception):
    """Base of every error litreview raises on purpose."""


class ConfigError(LitReviewError):
    """The workflow configuration is invalid."""


class InputFileError(LitReviewError):
    """A user-supplied file (sheet, export, other-sources list) cannot be used as it is.

    The message always says which file, and where known the row (1-based, header = row 1) and
    column, then what to do about it.
    """

    def __init__(
        self,
        path: str | Path,
        problem: str,
        *,
        row: int | None = None,
        column: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.row = row
        self.column = column
        self.problem = problem
        self.hint = hint
        where = str(self.path)
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column {column!r}"
        message = f"{where}: {problem}"
        if hint:
            message += f" ({hint})"
        super().__init__(message)


class EntrezError(LitReviewError):
    """A request to NCBI E-utilities failed for good (after retries) or returned an error."""


class RateLimitError(EntrezError):
    """NCBI refused a request for exceeding the rate limit (HTTP 429) and retries ran out."""


class IncompleteResultError(EntrezError):
    """What came back does not add up (IDs retrieved != Count, records fetched != IDs asked).

    ``missing``: the PMIDs asked for and not received, when the fault is a short batch.
    """

    missing: tuple[str, ...] = ()


class HistoryError(EntrezError):
    """The history server lost a stored result (an expired WebEnv: "Unable to obtain query #1")
    or serves another set under it than esearch counted; the records are fetched by PMID.

    ``unexpected``: PMIDs the history served that the esearch had not returned.
    """

    unexpected: tuple[str, ...] = ()


class SnapshotError(LitReviewError):
    """A snapshot is missing, incomplete, altered (checksum mismatch) or would be overwritten."""


class ParseError(LitReviewError):
    """A payload (NCBI XML, RIS, MEDLINE text) could not be parsed."""


class ValidationError(LitReviewError):
    """Data failed a consistency check (PRISMA boxes, extraction coverage, audit strictness)."""


class UnsafeXMLError(ParseError):
    """XML that declares entities or carries an internal DTD subset (XXE, billion laughs).

    Permanent: no retry fixes a payload built that way, and none is made.
    """
