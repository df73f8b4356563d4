"""docs/security.md names the tests that prove each defence: they must exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _tests_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test")
    }


def test_every_test_the_threat_model_names_exists():
    text = (ROOT / "docs" / "security.md").read_text()
    current = None
    missing, checked = [], 0
    tables = text.split("## People", 1)[1].split("## Configuration", 1)[0]
    for cell in re.findall(r"`([^`]+)`", tables):
        for part in re.finditer(r"(?:([\w/]+\.py))?::(\w+)|([\w/]+\.py)", cell):
            file, test, bare = part.groups()
            current = file or bare or current
            path = ROOT / "tests" / current
            if not path.exists():
                missing.append(current)
            elif test and test not in _tests_in(path):
                missing.append(f"{current}::{test}")
            checked += 1
    assert checked > 40
    assert missing == []


def test_the_threat_model_points_to_the_network_section():
    assert "security-network.md" in (ROOT / "docs" / "security.md").read_text()
