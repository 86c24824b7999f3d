"""The wrapper every workflow rule runs its step in: the rule's log file, a clean error, and
(on request) the step's time and memory.

Records never carry secrets: the Entrez client redacts its API key before logging."""

from __future__ import annotations

import csv
import logging
import os
import resource
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["STEP_METRICS_ENV", "render_lock", "run_step"]

# When set to a path, every step appends one row there: its name, wall and CPU seconds, and the
# peak resident memory of the process while it ran (bench/pipeline.py reads it).
STEP_METRICS_ENV = "LITREVIEW_STEP_METRICS"
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# matplotlib's rcParams are global: figures drawn by two rules running at once in threads
# would see each other's rc_context. Rendering takes this lock.
render_lock = threading.Lock()

_STDERR = logging.StreamHandler(sys.stderr)
_STDERR.setFormatter(logging.Formatter(_FORMAT))


class _ThisThread(logging.Filter):
    """Pass only the records of one thread: rules run in threads of one process (Snakemake's
    --force-use-threads), and each rule's log file gets its own step's lines only."""

    def __init__(self) -> None:
        super().__init__()
        self.thread = threading.get_ident()

    def filter(self, record: logging.LogRecord) -> bool:
        return record.thread == self.thread


@contextmanager
def _step_log(log_path: str | Path | None) -> Iterator[logging.Logger]:
    logger = logging.getLogger("litreview")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    if _STDERR not in logger.handlers:  # once per process, for every step
        logger.addHandler(_STDERR)
    file_handler = None
    if log_path is not None:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        file_handler = logging.FileHandler(log_path, mode="w", encoding="utf-8")
        file_handler.setFormatter(logging.Formatter(_FORMAT))
        file_handler.addFilter(_ThisThread())
        logger.addHandler(file_handler)
    try:
        yield logger
    finally:
        if file_handler is not None:
            logger.removeHandler(file_handler)
            file_handler.close()


def _rss_mb() -> float:
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            pages = int(handle.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (OSError, ValueError, IndexError):  # not Linux: the process's peak so far
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


@contextmanager
def _measured(name: str) -> Iterator[None]:
    """Append the step's wall and CPU seconds and peak RSS to $LITREVIEW_STEP_METRICS."""
    target = os.environ.get(STEP_METRICS_ENV)
    if not target:
        yield
        return
    peak = [_rss_mb()]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.005):
            peak[0] = max(peak[0], _rss_mb())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    wall, cpu = time.perf_counter(), time.thread_time()
    try:
        yield
    finally:
        cpu = time.thread_time() - cpu
        wall = time.perf_counter() - wall
        done.set()
        sampler.join()
        peak[0] = max(peak[0], _rss_mb())
        with open(target, "a", encoding="utf-8", newline="") as handle:
            csv.writer(handle, delimiter="\t").writerow(
                [name, f"{wall:.3f}", f"{cpu:.3f}", f"{peak[0]:.1f}"]
            )


def _release_memory() -> None:
    """Hand the heap a finished step freed back to the system (glibc keeps it otherwise): the
    rules share one process, and the next step should not start from this one's peak."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


def run_step(log_path: str | Path | None, step: Callable[..., Any], *args: Any, **kwargs: Any):
    """Run one workflow step with its log file set up. A LitReviewError (its message names file,
    row, column and what to do) is logged to that file and raised on: the workflow turns it into
    the rule's one-line failure."""
    from litreview.errors import LitReviewError

    with _step_log(log_path) as logger, _measured(getattr(step, "__name__", str(step))):
        try:
            return step(*args, **kwargs)
        except LitReviewError as error:
            logger.error("%s", error)
            raise
        finally:
            _release_memory()
