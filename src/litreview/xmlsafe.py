"""The one check every XML input passes first: no entity declarations, no internal DTD subset.

NCBI's payloads name an external DTD (``<!DOCTYPE PubmedArticleSet PUBLIC ... "...dtd">``) and
never declare anything inline. An internal subset (``<!DOCTYPE x [ ... ]>``) is where entity
bombs (billion laughs) and external entities (XXE: ``<!ENTITY e SYSTEM "file:///etc/passwd">``)
live, so a payload with one is refused before any parser that might expand it sees it. Only
the prolog is read: expat stops at the first element, so the check costs microseconds whatever
the payload's size. Everything else that reads XML (openpyxl for XLSX sheets, the local
E-utilities server's store) goes through defusedxml; an XLSX workbook's XML parts are also
checked here first (`check_xlsx`), since openpyxl parses with lxml, not defusedxml, wherever lxml
is installed.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.parsers import expat

from litreview.errors import UnsafeXMLError

__all__ = ["check_no_declarations", "check_xlsx"]


class _FirstElementError(Exception):
    """The first element started: the prolog held nothing to refuse."""


def _checker(source: str):
    parser = expat.ParserCreate()

    def doctype(name: str, system_id: str | None, public_id: str | None, internal: int) -> None:
        if internal:
            raise UnsafeXMLError(
                f"{source}: the XML declares an internal DTD subset (<!DOCTYPE {name} [...]>), "
                "where entity bombs and external-entity (XXE) attacks live; it is refused "
                "unread. NCBI never sends one: check where this payload came from"
            )

    def entity(name: str, *_: object) -> None:
        raise UnsafeXMLError(
            f"{source}: the XML declares the entity {name!r} (<!ENTITY ...>); entity "
            "declarations are refused unread (entity bombs, XXE)"
        )

    def first_element(name: str, attributes: object) -> None:
        raise _FirstElementError

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = entity
    parser.StartElementHandler = first_element
    return parser


def check_xlsx(path: str | Path) -> None:
    """Raise UnsafeXMLError when an XML part of the XLSX (zip) at ``path`` has an internal DTD
    subset or declares an entity. Each part is read only up to its first element."""
    with zipfile.ZipFile(path) as archive:
        for member in archive.infolist():
            if not member.filename.endswith((".xml", ".rels", ".vml")):
                continue
            parser = _checker(f"{path} (part {member.filename})")
            with archive.open(member) as handle:
                try:
                    while chunk := handle.read(65536):
                        parser.Parse(chunk, False)
                    parser.Parse(b"", True)
                except _FirstElementError:
                    continue
                except expat.ExpatError:
                    continue  # malformed: openpyxl names that fault


def check_no_declarations(payload: bytes, source: str) -> None:
    """Raise UnsafeXMLError when ``payload`` has an internal DTD subset or declares an entity.

    Malformed XML is not this check's business: the parser that follows names that fault.
    """
    parser = _checker(source)
    try:
        parser.Parse(payload, True)
    except _FirstElementError:
        return
    except expat.ExpatError:
        return
