"""Versions of a living review: each run whose included set or PRISMA numbers change is a new
version (v1, v2...), recorded once, immutably, in `resources/versions/vN.json` beside the
snapshots: its date, snapshot, the sheets' sha256, the included studies and every PRISMA box.
A version replays exactly from its snapshot and sheets (`--config search.snapshot=<its
snapshot>` with the sheets at the recorded sha256, e.g. from version control).

`results/versions/versions.csv` lists them; `cumulative.csv` and `cumulative.svg` set their
PRISMA numbers side by side, one column per version (PRISMA for living reviews).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from litreview.io import write_bytes, write_text

__all__ = [
    "CUMULATIVE_BOXES",
    "VERSION_COLUMNS",
    "cumulative_table",
    "read_versions",
    "record_version",
]

VERSION_COLUMNS = ("version", "date", "snapshot", "sheets_sha256", "included", "changed")
CUMULATIVE_BOXES = (
    "database_results",
    "duplicates",
    "excluded_automatic",
    "records_screened",
    "records_excluded",
    "dbr_sought_reports",
    "dbr_assessed",
    "other_sought_reports",
    "other_assessed",
    "new_studies",
    "total_studies",
)


def sha256_of(paths: Sequence[str | Path]) -> dict[str, str]:
    return {str(path): hashlib.sha256(Path(path).read_bytes()).hexdigest() for path in paths}


def read_versions(folder: str | Path) -> list[dict[str, Any]]:
    """The recorded versions, v1 first."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = []
    for path in folder.glob("v*.json"):
        if path.stem[1:].isdigit():
            found.append(json.loads(path.read_text(encoding="utf-8")))
    return sorted(found, key=lambda version: int(version["version"][1:]))


def record_version(
    folder: str | Path,
    *,
    date: str,
    snapshot: str,
    sheets: Mapping[str, str],
    included: Sequence[str],
    prisma: Mapping[str, int],
    records: Sequence[str] = (),
    keys: Sequence[str] = (),
) -> tuple[dict[str, Any], bool]:
    """The version this state is: the latest recorded one when its included set and PRISMA
    numbers are the same (or an earlier one replayed from its own snapshot), else a new version
    written to `folder` (atomically). Returns (version, whether it is new)."""
    versions = read_versions(folder)
    included = sorted(included)
    boxes = {box: int(prisma[box]) for box in sorted(prisma)}
    for earlier in reversed(versions):  # a replay of a recorded version is that version
        if (
            earlier["included"] == included
            and earlier["prisma"] == boxes
            and (earlier is versions[-1] or earlier["snapshot"] == snapshot)
        ):
            return earlier, False
    changed = _changed(versions[-1], included, boxes) if versions else "first version"
    version = {
        "version": f"v{len(versions) + 1}",
        "date": date,
        "snapshot": snapshot,
        "sheets_sha256": dict(sorted(sheets.items())),
        "included": included,
        "records": sorted(records),
        "keys": sorted(keys),
        "prisma": boxes,
        "changed": changed,
    }
    path = Path(folder) / f"{version['version']}.json"
    write_text(path, json.dumps(version, indent=2, ensure_ascii=False) + "\n")
    return version, True


def previous_version(folder: str | Path, snapshot: str) -> dict[str, Any] | None:
    """The version an update builds on: the latest recorded from an earlier snapshot."""
    earlier = [v for v in read_versions(folder) if v["snapshot"] < snapshot]
    return earlier[-1] if earlier else None


def _changed(latest: Mapping[str, Any], included: Sequence[str], boxes: Mapping[str, int]) -> str:
    before, now = set(latest["included"]), set(included)
    parts = []
    if now - before:
        parts.append(f"+{len(now - before)} included")
    if before - now:
        parts.append(f"-{len(before - now)} included")
    moved = [box for box in boxes if latest["prisma"].get(box) != boxes[box]]
    if moved:
        parts.append("PRISMA: " + ", ".join(moved[:6]) + (" ..." if len(moved) > 6 else ""))
    return "; ".join(parts) or "changed"


def versions_table(versions: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    rows = [
        {
            "version": v["version"],
            "date": v["date"],
            "snapshot": v["snapshot"],
            "sheets_sha256": "; ".join(f"{k}={h[:12]}" for k, h in v["sheets_sha256"].items()),
            "included": len(v["included"]),
            "changed": v.get("changed"),
        }
        for v in versions
    ]
    table = pd.DataFrame(rows, columns=list(VERSION_COLUMNS))
    for box in CUMULATIVE_BOXES:
        table[f"prisma.{box}"] = [v["prisma"].get(box) for v in versions]
    return table


def cumulative_table(versions: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per PRISMA box, one column per version."""
    data = {"box": list(CUMULATIVE_BOXES)}
    for version in versions:
        data[f"{version['version']} ({version['date']})"] = [
            version["prisma"].get(box) for box in CUMULATIVE_BOXES
        ]
    return pd.DataFrame(data)


def cumulative_svg(versions: Sequence[Mapping[str, Any]], path: str | Path) -> None:
    """The cumulative flow as a deterministic SVG table: boxes down, versions across."""
    table = cumulative_table(versions)
    columns = list(table.columns)
    width, height = 220 + 150 * (len(columns) - 1), 40 + 26 * (len(table) + 1)
    cells = []
    for column_number, column in enumerate(columns):
        x = 10 if column_number == 0 else 220 + 150 * (column_number - 1)
        cells.append(f'<text x="{x}" y="30" font-weight="bold">{_escape(column)}</text>')
        for row_number, value in enumerate(table[column], start=1):
            y = 30 + 26 * row_number
            text = str(value).replace("_", " ") if column_number == 0 else str(value)
            cells.append(f'<text x="{x}" y="{y}">{_escape(text)}</text>')
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="DejaVu Sans, sans-serif" font-size="13">'
        f'<rect width="{width}" height="{height}" fill="white"/>' + "".join(cells) + "</svg>\n"
    )
    write_bytes(path, svg.encode("utf-8"))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
