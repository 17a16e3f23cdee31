"""The README's component table cannot drift from the code."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from blueprint.topology import TOPOLOGY
from ecomctl.local.platform import component_names
from ecomctl.settings import DEFAULT_PORTS, REPO_ROOT

README = (REPO_ROOT / "README.md").read_text()


def _rows() -> dict[str, str]:
    rows = {}
    for line in README.splitlines():
        m = re.match(r"\| `([a-z-]+)`(?: … `[a-z-]+`)? \| .+ \| (.+) \|$", line)
        if m:
            rows[m.group(1)] = m.group(2)
    return rows


def test_every_component_is_in_the_readme_with_its_default_port() -> None:
    rows = _rows()
    services = [s.name for s in TOPOLOGY.services]
    for name in component_names():
        key = services[0] if name in services else name
        assert key in rows, f"{name} missing from the README's component table"
    for name in ("mariadb", "kafka", "dynamodb", "awsapi"):
        assert rows[name].split()[0] == str(DEFAULT_PORTS[name])
    first, last = TOPOLOGY.services[0].port, TOPOLOGY.services[-1].port
    assert rows[services[0]] == f"{first}–{last}"


def test_the_quick_start_is_two_commands_that_exist() -> None:
    block = README.split("```sh", 1)[1].split("```", 1)[0]
    commands = [ln.split("#")[0].strip() for ln in block.strip().splitlines()]
    assert commands == ["bin/ecomctl up", "bin/test"]
    for cmd in commands:
        assert Path(REPO_ROOT, cmd.split()[0]).stat().st_mode & 0o111
    assert "bin/test" in (REPO_ROOT / ".ci" / "run").read_text()


# -- module tables: every module a docs table names exists, every module of its folder is named --

MODULE_TABLE_HEADERS = ("module", "file")


def _module_tables() -> list[tuple[str, str, set[str]]]:
    """``(doc, folder, named paths)`` for each table whose first column is ``module``/``file``,
    under a heading that names its folder in backticks (e.g. ``## The local runtime (`ecomctl/local/`)``).
    A cell's backticked names are paths relative to that folder, or to the repository when they
    contain a slash."""
    tables = []
    for doc in sorted((REPO_ROOT / "docs").glob("*.md")):
        folder = None
        named: set[str] | None = None
        for line in doc.read_text().splitlines():
            heading = re.match(r"#+ .*`([\w./-]+/)`", line)
            if heading:
                folder = heading.group(1)
                continue
            cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
            if cells and cells[0] in MODULE_TABLE_HEADERS and folder is not None:
                named = set()
                tables.append((doc.name, folder, named))
            elif cells and named is not None:
                for name in re.findall(r"`([\w./-]+)`", cells[0]):
                    named.add(name if "/" in name else folder + name)
            else:
                named = None
    return tables


def test_docs_have_module_tables() -> None:
    folders = {folder for _doc, folder, _named in _module_tables()}
    assert {"ecomctl/local/", "stream/"} <= folders


def test_every_module_a_docs_table_names_exists() -> None:
    for doc, _folder, named in _module_tables():
        missing = sorted(n for n in named if not (REPO_ROOT / n).exists())
        assert not missing, f"docs/{doc} names modules that do not exist: {missing}"


def test_every_module_of_a_documented_folder_is_in_its_table() -> None:
    for doc, folder, named in _module_tables():
        modules = {f"{folder}{p.name}" for p in (REPO_ROOT / folder).glob("*.py") if p.name != "__init__.py"}
        unnamed = sorted(modules - named)
        assert not unnamed, f"docs/{doc}: the table of {folder} does not name {unnamed}"


def test_the_local_runtime_docstring_names_its_modules() -> None:
    import ecomctl.local

    named = set(re.findall(r"``([a-z_]+)[.\w]*``", ecomctl.local.__doc__ or ""))
    folder = REPO_ROOT / "ecomctl" / "local"
    modules = {p.stem for p in folder.glob("*.py") if p.name != "__init__.py"}
    assert named == modules, f"names no module: {sorted(named - modules)}; unnamed: {sorted(modules - named)}"


# -- the README: every doc linked, every link resolves, the repository map matches the folders --

def test_the_readme_links_every_doc_and_every_link_resolves() -> None:
    links = set(re.findall(r"\]\(([^)#]+\.md)\)", README))
    for link in links:
        assert (REPO_ROOT / link).is_file(), f"the README links {link}, which does not exist"
    docs = {f"docs/{p.name}" for p in (REPO_ROOT / "docs").glob("*.md")}
    assert not docs - links, f"docs not linked from the README: {sorted(docs - links)}"


def test_the_readme_repository_map_names_the_top_level_folders() -> None:
    block = README.split("## Repository", 1)[1].split("```", 2)[1]
    listed = {m.group(1) for m in re.finditer(r"^([\w.-]+)/ ", block, re.MULTILINE)}
    files = subprocess.run(["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    if files.returncode != 0:
        pytest.skip("not a git checkout: the repository's folders are what git tracks")
    folders = {line.split("/", 1)[0] for line in files.stdout.splitlines() if "/" in line}
    folders = {f for f in folders if not f.startswith(".")}
    assert listed == folders, (f"the README's repository map lists {sorted(listed - folders)}, "
                               f"which do not exist, and omits {sorted(folders - listed)}")


def test_every_ecomctl_variable_is_in_the_configuration_doc() -> None:
    """The ``ECOMCTL_*`` variables the code reads, and no other, are in docs/configuration.md."""
    # the supervisor's process marker, and the digest of Prometheus's files in its environment (a
    # changed rule or scrape list restarts it): neither is a setting
    internal = {"ECOMCTL_COMPONENT", "ECOMCTL_PROMETHEUS_FILES"}
    code = "\n".join(p.read_text() for p in (REPO_ROOT / "ecomctl").rglob("*.py"))
    read = {_family(v.rstrip("_")) for v in re.findall(r"ECOMCTL_[A-Z_]+", code)} - internal
    doc = (REPO_ROOT / "docs" / "configuration.md").read_text()
    documented = set(re.findall(r"^\| `(ECOMCTL_[A-Z_<>]+)` \|", doc, re.MULTILINE))
    assert read == documented


def _family(variable: str) -> str:
    """``ECOMCTL_PORT_KAFKA`` and the like are one documented row, ``ECOMCTL_PORT_<NAME>``."""
    if variable == "ECOMCTL_PORT" or (variable.startswith("ECOMCTL_PORT_") and variable != "ECOMCTL_PORT_OFFSET"):
        return "ECOMCTL_PORT_<NAME>"
    return variable
