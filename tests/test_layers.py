"""Each layer imports only the layers below it (architecture.md, "The flow").

    discovery, archive, networks (pure) ─► compose (pure) ─► identity ─► migration
        ─► portal ─► institutions ─► cli

Imports are read from the source (every `import`, also those inside
functions), so a lazy import against the flow is caught too. An upper layer
that must react to a lower one's events listens to its signals (e.g.
`identity.signals.impersonation_upheld`, received by the migration app).
"""

from __future__ import annotations

import ast
from pathlib import Path

import hirondelle

ROOT = Path(hirondelle.__file__).parent
#: What each top-level package or module may import from hirondelle, besides itself.
ALLOWED: dict[str, set[str]] = {
    "config": set(),
    "archive": set(),  # pure: not even the settings
    "networks": {"config", "discovery"},  # pure (config reads only the environment)
    "compose": {"archive", "networks"},  # pure
    "discovery": set(),  # pure: the claim and preselection rules
    "identity": {"config", "archive", "networks", "compose", "discovery"},
    "migration": {"config", "archive", "networks", "compose", "discovery", "identity"},
    "institutions": {
        "config",
        "archive",
        "networks",
        "compose",
        "discovery",
        "identity",
        "migration",
        "portal",
    },
    "portal": {
        "config",
        "archive",
        "networks",
        "compose",
        "discovery",
        "identity",
        "migration",
    },
    "cli": {
        "config",
        "archive",
        "networks",
        "compose",
        "discovery",
        "identity",
        "migration",
        "institutions",
        "portal",
    },
    "settings": {"config"},
    "urls": {"portal", "identity", "migration", "institutions"},
    "asgi": set(),
    "__main__": {"cli"},
    "__init__": set(),
}


def _imports(path: Path) -> set[str]:
    """The hirondelle top-level names a file imports."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            parts = node.module.split(".")
            if parts[0] == "hirondelle":
                if len(parts) > 1:
                    found.add(parts[1])
                else:
                    found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "hirondelle" and len(parts) > 1:
                    found.add(parts[1])
    return found


def test_every_layer_imports_only_the_layers_below() -> None:
    wrong = []
    for path in sorted(ROOT.rglob("*.py")):
        top = path.relative_to(ROOT).parts[0].removesuffix(".py")
        assert top in ALLOWED, f"new top-level module {top}: add it to ALLOWED"
        for name in _imports(path) - {top, "__version__"}:
            if name not in ALLOWED[top]:
                wrong.append(f"{path.relative_to(ROOT)} imports hirondelle.{name}")
    assert not wrong, "imports against the flow:\n" + "\n".join(wrong)


def test_the_check_sees_lazy_imports(tmp_path) -> None:
    """The check must be able to fail: an import inside a function is found."""
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from hirondelle.migration.models import PlanItem\n")
    assert _imports(sample) == {"migration"}
    assert "migration" not in ALLOWED["identity"]
