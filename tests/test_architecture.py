"""The shape of the package (../shared/STYLE.md): no review's words in src/, and the import rules
(no Snakemake in the package, the network only in its own modules, the local E-utilities
server only behind `litreview fake-eutils`)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "litreview"
MODULES = sorted(PACKAGE.rglob("*.py"))
# every text file the package ships: code, the workflow's rules, schema, captions and profiles
TEXT_FILES = sorted(
    path
    for path in PACKAGE.rglob("*")
    if path.is_file()
    and (path.suffix in {".py", ".smk", ".rst", ".yaml", ".yml", ".md"} or path.name == "Snakefile")
)

# Words of the first review's field (and of fields like it): they belong in a review's config
# and sheets, never in the package's code, comments or docstrings.
DOMAIN_WORDS = [
    r"stroke",
    r"stem[\s_-]?cells?",
    r"exosom\w*",
    r"mcao",
    r"reperfus\w*",
    r"recanali\w*",
    r"isch(?:a)?emi\w*",
    r"infarct\w*",
    r"tissue[\s_]source",
    r"cells?/kg",
    r"\bcells?\b(?=\s*(?:/|per)\s*kg)",
    r"\bmice\b",
    r"\bmouse\b",
    r"\brats?\b",
    r"\bdogs?\b",
    r"\bmonkeys?\b",
    r"\bsheep\b",
    r"\bpigs?\b",
    r"\brabbits?\b",
    r"\bTBI\b",
    r"glioma",
    r"figure\s*[1-3]\b",
    r"table\s*S1\b",
    r"honda",
    r"kawabori",
    r"intra-?arterial",
    r"mesenchymal",
    r"\bMSCs?\b",
    r"antibiotic",
    r"cefazolin",
    r"incision",
]
_DOMAIN = re.compile("|".join(f"(?:{word})" for word in DOMAIN_WORDS), re.IGNORECASE)


def test_the_package_speaks_of_no_review_domain() -> None:
    found = []
    assert any(path.suffix == ".smk" for path in TEXT_FILES)
    for path in TEXT_FILES:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in _DOMAIN.finditer(line):
                found.append(
                    f"{path.relative_to(PACKAGE)}:{number}: {match.group(0)!r}: {line.strip()}"
                )
    assert not found, "review words in src/litreview:\n" + "\n".join(found)


def test_the_domain_word_check_can_fail() -> None:
    sample = "Figure 1. Cell sources in the ischemic-stroke studies (cells/kg, rat)"
    assert len(_DOMAIN.findall(sample)) >= 4


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and re.fullmatch(r"litreview(\.\w+)+", node.value)
        ):
            names.add(node.value)  # lazily imported modules named as text
    return names


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(PACKAGE)) for p in MODULES])
def test_the_package_never_imports_snakemake(path: Path) -> None:
    assert not {name for name in _imports(path) if name.split(".")[0] == "snakemake"}


NETWORK = {"litreview.entrez", "litreview.search", "urllib.request", "http.client", "socket"}
# The modules allowed to reach the network: the client, the live search, the step that runs a
# live search (only in live mode), and the local server that stands in for NCBI.
NETWORK_MODULES = {"entrez.py", "search.py", "stages.py", "cli.py"}


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(PACKAGE)) for p in MODULES])
def test_stage_modules_never_import_the_network(path: Path) -> None:
    relative = path.relative_to(PACKAGE)
    if str(relative) in NETWORK_MODULES or relative.parts[0] == "testing":
        return
    assert not (_imports(path) & NETWORK), f"{relative} imports the network"


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(PACKAGE)) for p in MODULES])
def test_only_the_fake_eutils_command_loads_the_local_server(path: Path) -> None:
    relative = path.relative_to(PACKAGE)
    if str(relative) == "cli.py" or relative.parts[0] == "testing":
        return
    assert not {n for n in _imports(path) if n.startswith("litreview.testing")}, relative


def test_the_cli_loads_the_local_server_for_fake_eutils_only() -> None:
    source = (PACKAGE / "cli.py").read_text(encoding="utf-8")
    lines = [line for line in source.splitlines() if "litreview.testing" in line]
    assert len(lines) == 1
    before = source[: source.index(lines[0])].splitlines()[-3:]
    assert any("fake-eutils" in line for line in before + lines)
