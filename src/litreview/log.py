"""Logging set-up shared by the workflow's scripts and the command line."""

from __future__ import annotations

import logging
import sys
from pathlib import Path


def configure(log_path: str | Path | None = None, *, level: int = logging.INFO) -> logging.Logger:
    """Send litreview's log to `log_path` (a rule's `log:` file) and to stderr.

    Records never carry secrets: the Entrez client redacts its API key before logging.
    """
    logger = logging.getLogger("litreview")
    logger.setLevel(level)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path is not None:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="w", encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(formatter)
        logger.addHandler(handler)
    logger.propagate = False
    return logger


def run_step(log_path: str | Path | None, step, *args, **kwargs):
    """Run one workflow step with logging set up; a LitReviewError ends the step with its
    message (file, row, column, what to do) instead of a traceback."""
    from litreview.errors import LitReviewError

    logger = configure(log_path)
    try:
        return step(*args, **kwargs)
    except LitReviewError as error:
        logger.error("%s", error)
        raise SystemExit(f"litreview: {error}") from None
