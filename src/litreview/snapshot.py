"""Frozen search snapshots: what a live search received, written once and verified on every read.

Layout: ``<root>/pubmed/<YYYYMMDDTHHMMSSZ>/`` holding ``manifest.json`` (the query, counts,
parameters without any key, software versions, origin, and the sha256 of every other file),
``ids.txt`` (one PMID a line, in the order NCBI gave them) and the responses exactly as received,
gzipped deterministically (``esearch/esearch-0001.xml.gz``, ``efetch/batch-0001.xml.gz``...).

A snapshot is built in a dot-prefixed temporary folder next to its final place and renamed when
complete, so a failed or killed run leaves nothing a reader would take for a snapshot. Readers
ignore dot-prefixed folders; the next writer removes those whose process is gone. A snapshot is
never overwritten.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import platform
import re
import secrets
import shutil
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import Bio

from litreview import __version__
from litreview.errors import SnapshotError

__all__ = [
    "DATABASE",
    "MANIFEST_NAME",
    "Snapshot",
    "SnapshotWriter",
    "available_snapshots",
    "load_snapshot",
    "resolve_snapshot",
    "snapshot_name",
]

DATABASE = "pubmed"
FORMAT = "litreview-snapshot/1"
MANIFEST_NAME = "manifest.json"
IDS_NAME = "ids.txt"
TEMP_PREFIX = ".incomplete-"
# A temp folder untouched this long belongs to no running writer, whatever its process id says.
STALE_AFTER = 24 * 3600.0
_NAME_PATTERN = re.compile(r"^\d{8}T\d{6}Z$")
_TEMP_PATTERN = re.compile(r"^\.incomplete-.*-(\d+)-[0-9a-f]+$")


def snapshot_name(moment: datetime) -> str:
    """The folder name of a snapshot taken at ``moment``: its UTC time as YYYYMMDDTHHMMSSZ."""
    if moment.tzinfo is None:
        raise ValueError("snapshot times must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _gzip(data: bytes) -> bytes:
    """Deterministic gzip: no file name, mtime 0, so equal payloads give equal files."""
    return gzip.compress(data, compresslevel=6, mtime=0)


def _write_durably(path: Path, data: bytes) -> None:
    with path.open("xb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_folder(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temp_folders(parent: Path, *, max_age_seconds: float = STALE_AFTER) -> list[Path]:
    """Delete temp folders left by writers that died; return them.

    A folder is stale when the process named in it is gone, or when nothing in it changed for
    ``max_age_seconds`` (its process id may have been reused since). A live writer's folder
    is left alone.
    """
    removed: list[Path] = []
    if not parent.is_dir():
        return removed
    now = time.time()
    for child in sorted(parent.iterdir()):
        match = _TEMP_PATTERN.match(child.name)
        if not match or not child.is_dir():
            continue
        last_change = max(
            [child.stat().st_mtime, *(item.stat().st_mtime for item in child.rglob("*"))]
        )
        if not _process_alive(int(match.group(1))) or now - last_change > max_age_seconds:
            shutil.rmtree(child)
            removed.append(child)
    return removed


class SnapshotWriter:
    """Writes one snapshot; use as a context manager so a failure leaves no folder behind.

    >>> with SnapshotWriter(root, started_at=now) as writer:   # doctest: +SKIP
    ...     writer.add_esearch(payload)
    ...     writer.add_efetch(batch_payload)
    ...     folder = writer.commit(manifest_fields, ids)
    """

    def __init__(
        self, root: str | Path, *, started_at: datetime | None = None, database: str = DATABASE
    ) -> None:
        self.started_at = (started_at or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
        self.parent = Path(root) / database
        self.name = snapshot_name(self.started_at)
        self.final_path = self.parent / self.name
        if self.final_path.exists():
            raise SnapshotError(
                f"snapshot {self.final_path} already exists; snapshots are never overwritten "
                "(wait a second and rerun, or move the old one away)"
            )
        self.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temp_folders(self.parent)
        token = secrets.token_hex(4)
        self.temp_path = self.parent / f"{TEMP_PREFIX}{self.name}-{os.getpid()}-{token}"
        self.temp_path.mkdir()
        self._files: dict[str, str] = {}
        self._esearch: list[str] = []
        self._efetch: list[str] = []
        self._resolved: list[str] = []
        self._reused: list[dict[str, Any]] = []
        self._gone: list[str] = []
        self._committed = False

    def __enter__(self) -> SnapshotWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if not self._committed:
            self.abort()

    def abort(self) -> None:
        """Remove the temporary folder (nothing of this run stays on disk)."""
        if self.temp_path.exists():
            shutil.rmtree(self.temp_path)

    def _add(self, relative: str, data: bytes) -> str:
        if self._committed:
            raise SnapshotError(f"snapshot {self.final_path} is already committed")
        target = self.temp_path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        _write_durably(target, data)
        self._files[relative] = _sha256(data)
        return relative

    def add_esearch(self, payload: bytes) -> str:
        """Keep one esearch response as received (gzipped); returns its relative path."""
        relative = f"esearch/esearch-{len(self._esearch) + 1:04d}.xml.gz"
        self._esearch.append(self._add(relative, _gzip(payload)))
        return relative

    def add_efetch(self, payload: bytes) -> str:
        """Keep one efetch response as received (gzipped); returns its relative path."""
        relative = f"efetch/batch-{len(self._efetch) + 1:04d}.xml.gz"
        self._efetch.append(self._add(relative, _gzip(payload)))
        return relative

    def add_resolved(self, payload: bytes) -> str:
        """Keep one efetch response for records asked for by identifier (other sources), apart
        from the search's own records; returns its relative path."""
        relative = f"resolved/batch-{len(self._resolved) + 1:04d}.xml.gz"
        self._resolved.append(self._add(relative, _gzip(payload)))
        return relative

    def add_gone(self, payload: bytes) -> str:
        """Keep one efetch response for PMIDs the query no longer returns (to say why they are
        gone); returns its relative path."""
        relative = f"gone/batch-{len(self._gone) + 1:04d}.xml.gz"
        self._gone.append(self._add(relative, _gzip(payload)))
        return relative

    def reuse(self, snapshot: str, file: str, sha256: str, pmids: Sequence[str]) -> None:
        """Reference records of an earlier snapshot's efetch payload (by its sha256) instead of
        fetching them again: `pmids` are the ones this snapshot takes from it."""
        if pmids:
            self._reused.append(
                {"snapshot": snapshot, "file": file, "sha256": sha256, "pmids": list(pmids)}
            )

    def commit(self, fields: Mapping[str, Any], ids: Sequence[str]) -> Path:
        """Write ids.txt and manifest.json, then move the folder to its final name."""
        reserved = {
            "format",
            "retrieved_at",
            "software",
            "id_count",
            "esearch",
            "efetch",
            "resolved",
            "reused",
            "gone_files",
            "files",
        }
        clash = reserved & set(fields)
        if clash:
            raise ValueError(f"manifest fields {sorted(clash)} are written by SnapshotWriter")
        self._add(IDS_NAME, "".join(f"{pmid}\n" for pmid in ids).encode("ascii"))
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "retrieved_at": self.started_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            **fields,
            "id_count": len(ids),
            "software": {
                "python": platform.python_version(),
                "litreview": __version__,
                "biopython": Bio.__version__,
            },
            "esearch": list(self._esearch),
            "efetch": list(self._efetch),
            "resolved": list(self._resolved),
            "reused": list(self._reused),
            "gone_files": list(self._gone),
            "files": dict(sorted(self._files.items())),
        }
        text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
        _write_durably(self.temp_path / MANIFEST_NAME, text.encode("utf-8"))
        _fsync_folder(self.temp_path)
        if self.final_path.exists():
            raise SnapshotError(
                f"snapshot {self.final_path} appeared while this run was writing; "
                "snapshots are never overwritten (rerun to take a new one)"
            )
        os.rename(self.temp_path, self.final_path)
        _fsync_folder(self.parent)
        self._committed = True
        return self.final_path


@dataclass(frozen=True)
class Snapshot:
    """A verified snapshot: its manifest, its PMIDs, and its raw responses on demand."""

    path: Path
    manifest: dict[str, Any]
    ids: tuple[str, ...]
    efetch_files: tuple[Path, ...]
    esearch_files: tuple[Path, ...]
    resolved_files: tuple[Path, ...] = ()
    # records taken from earlier snapshots' payloads: (file, sha256, pmids taken)
    reused: tuple[tuple[Path, str, frozenset[str]], ...] = ()

    @property
    def name(self) -> str:
        return self.path.name

    def record_payloads(self) -> Iterator[tuple[bytes, frozenset[str] | None]]:
        """Every payload holding this snapshot's search records, with the PMIDs to take from it
        (None: all): its own efetch payloads, then the earlier payloads it references."""
        for payload in self.payloads():
            yield payload, None
        for path, sha256, pmids in self.reused:
            data = path.read_bytes()
            if _sha256(data) != sha256:
                raise SnapshotError(f"{path}: checksum changed since the snapshot was loaded")
            yield gzip.decompress(data), pmids

    def payloads(self) -> Iterator[bytes]:
        """The efetch payloads exactly as received, in batch order (checksums re-checked)."""
        for path in self.efetch_files:
            yield self._read(path)

    def gone_payloads(self) -> Iterator[bytes]:
        """efetch payloads of PMIDs the search no longer returns (an incremental search)."""
        for relative in self.manifest.get("gone_files") or []:
            yield self._read(self.path / relative)

    def resolved_payloads(self) -> Iterator[bytes]:
        """efetch payloads of records fetched by identifier for other sources (not the search)."""
        for path in self.resolved_files:
            yield self._read(path)

    def esearch_payloads(self) -> Iterator[bytes]:
        """The esearch responses exactly as received, in request order."""
        for path in self.esearch_files:
            yield self._read(path)

    def _read(self, path: Path) -> bytes:
        relative = path.relative_to(self.path).as_posix()
        data = path.read_bytes()
        if _sha256(data) != self.manifest["files"][relative]:
            raise SnapshotError(f"{path}: checksum changed since the snapshot was loaded")
        return gzip.decompress(data)


def load_snapshot(path: str | Path) -> Snapshot:
    """Open a snapshot folder after checking every file against the manifest's sha256."""
    folder = Path(path)
    manifest_path = folder / MANIFEST_NAME
    if not folder.is_dir():
        raise SnapshotError(f"{folder}: no such snapshot folder (see resolve_snapshot)")
    if folder.name.startswith("."):
        raise SnapshotError(f"{folder}: an incomplete snapshot (its run did not finish)")
    if not manifest_path.is_file():
        raise SnapshotError(f"{manifest_path}: missing; {folder} is not a complete snapshot")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SnapshotError(f"{manifest_path}: not valid JSON ({error})") from None
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or IDS_NAME not in files:
        raise SnapshotError(f"{manifest_path}: no 'files' checksum table listing {IDS_NAME}")
    for relative, expected in files.items():
        target = folder / relative
        if Path(relative).is_absolute() or ".." in Path(relative).parts:
            raise SnapshotError(f"{manifest_path}: file entry {relative!r} leaves the folder")
        if not target.is_file():
            raise SnapshotError(f"{target}: listed in the manifest but missing")
        if _sha256(target.read_bytes()) != expected:
            raise SnapshotError(
                f"{target}: sha256 does not match the manifest; the snapshot was altered. "
                "Restore it from version control or take a new snapshot."
            )
    present = {
        item.relative_to(folder).as_posix()
        for item in folder.rglob("*")
        if item.is_file() and item.name != MANIFEST_NAME
    }
    extra = sorted(present - set(files))
    if extra:
        raise SnapshotError(f"{folder}: files not in the manifest: {', '.join(extra)}")
    ids_path = folder / IDS_NAME
    ids = tuple(ids_path.read_text(encoding="ascii").split())
    for line_number, pmid in enumerate(ids, start=1):
        if not pmid.isdigit():
            raise SnapshotError(f"{ids_path}, row {line_number}: {pmid!r} is not a PMID")
    if manifest.get("id_count") != len(ids):
        raise SnapshotError(
            f"{ids_path}: {len(ids)} PMIDs but the manifest says {manifest.get('id_count')}"
        )
    reused = []
    for number, entry in enumerate(manifest.get("reused") or [], 1):
        name, relative = str(entry.get("snapshot", "")), str(entry.get("file", ""))
        if "/" in name or name.startswith(".") or ".." in Path(relative).parts:
            raise SnapshotError(
                f"{manifest_path}: reused entry {number} leaves the snapshots folder"
            )
        target = folder.parent / name / relative
        if not target.is_file():
            raise SnapshotError(
                f"{target}: snapshot {folder.name} takes records from it but it is missing; keep "
                "the earlier snapshots a snapshot references (or take a new, complete one)"
            )
        if _sha256(target.read_bytes()) != entry.get("sha256"):
            raise SnapshotError(
                f"{target}: sha256 does not match what snapshot {folder.name} references; the "
                "earlier snapshot was altered"
            )
        reused.append(
            (target, str(entry["sha256"]), frozenset(str(p) for p in entry.get("pmids", [])))
        )
    return Snapshot(
        path=folder,
        manifest=manifest,
        ids=ids,
        reused=tuple(reused),
        efetch_files=tuple(folder / item for item in manifest.get("efetch", [])),
        esearch_files=tuple(folder / item for item in manifest.get("esearch", [])),
        resolved_files=tuple(folder / item for item in manifest.get("resolved", [])),
    )


def available_snapshots(root: str | Path, *, database: str = DATABASE) -> list[str]:
    """Names of the complete snapshots under ``<root>/<database>/``, oldest first."""
    parent = Path(root) / database
    if not parent.is_dir():
        return []
    return sorted(
        child.name
        for child in parent.iterdir()
        if child.is_dir() and not child.name.startswith(".") and (child / MANIFEST_NAME).is_file()
    )


def resolve_snapshot(root: str | Path, name: str = "latest", *, database: str = DATABASE) -> Path:
    """The folder of snapshot ``name`` ("latest" = newest complete one) under ``root``."""
    names = available_snapshots(root, database=database)
    parent = Path(root) / database
    if not names:
        raise SnapshotError(
            f"{parent}: no complete snapshot yet: take the first one with `litreview run "
            "--cores 1 --config search.mode=live` (or point search.snapshots_dir at the folder "
            "that holds pubmed/<timestamp>/ snapshots)"
        )
    if name == "latest":
        timestamped = [item for item in names if _NAME_PATTERN.match(item)]
        return parent / max(timestamped or names)
    if name in names:
        return parent / name
    raise SnapshotError(
        f"{parent / name}: no such snapshot. Available: {', '.join(names)} (or 'latest')"
    )
