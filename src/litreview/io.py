"""Atomic file output: nothing half-written is ever left where a reader would find it."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pandas as pd


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "w", **kwargs) -> Iterator[IO]:
    """Open a temp file beside `path`; on success rename it over `path`, on failure remove it."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(descriptor)
    try:
        with open(temp_name, mode, **kwargs) as handle:
            yield handle
        os.replace(temp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise


def write_text(path: str | Path, text: str) -> None:
    """Write UTF-8 text atomically, with Unix newlines."""
    with atomic_open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)


def write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_open(path, "wb") as handle:
        handle.write(data)


def write_table(path: str | Path, table: pd.DataFrame) -> None:
    """Write a DataFrame as TSV (or CSV for a .csv path) atomically; missing values are empty."""
    separator = "," if str(path).endswith(".csv") else "\t"
    with atomic_open(path, "w", encoding="utf-8", newline="") as handle:
        table.to_csv(handle, sep=separator, index=False, lineterminator="\n")


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a table written by `write_table`: every column as nullable strings, empty = <NA>."""
    separator = "," if str(path).endswith(".csv") else "\t"
    return pd.read_csv(path, sep=separator, dtype="string", keep_default_na=False, na_values=[""])
