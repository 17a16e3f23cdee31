"""The processor is deployed alone as a Lambda zip: only the stdlib, boto3/botocore and itself.

The files checked are the ones the aws program puts in the archive (``handler_files``)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from programs.aws._files import handler_files

PACKAGE = Path(__file__).resolve().parents[2] / "services" / "file_processor"
ALLOWED = {"boto3", "botocore", "services"}


def imported_roots(path: Path) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {(a.name.split(".")[0], a.name) for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add((node.module.split(".")[0], node.module))
    return found


def test_imports_only_stdlib_boto3_and_itself() -> None:
    shipped = [path for path in handler_files().values() if path.parent == PACKAGE]
    assert PACKAGE / "handler.py" in shipped and PACKAGE / "runner.py" not in shipped
    for source in shipped:
        for root, full in imported_roots(source):
            if root == "services":
                assert full.startswith("services.file_processor"), f"{source.name} imports {full}"
            else:
                assert root in sys.stdlib_module_names or root in ALLOWED or root == "__future__", (
                    f"{source.name} imports {full}")
