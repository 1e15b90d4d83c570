"""The program's layers import downwards only (issue 20, item 8): the catalog, the access model,
the placement and the neutral settings at the bottom (pure data), the estate computed from them,
the backend seam translating an estate, and the stack loader, the program and the CLI on top.
Every import counts, at module level or inside a function: a lazy import is still a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from .conftest import ROOT

INFRA = ROOT / "infra"

#: module -> the infra modules it may import (anything else of infra/ is a layer above it).
ALLOWED: dict[str, set[str]] = {
    "infra.catalog": {"infra.rotation.contract"},
    "infra.access": {"infra.catalog"},
    "infra.placement": {"infra.catalog"},
    "infra.settings": {"infra.catalog", "infra.placement", "infra.access"},
    "infra.estate": {
        "infra.access",
        "infra.catalog",
        "infra.placement",
        "infra.settings",
        "infra.rotation",
        "infra.rotation.contract",
    },
}


def infra_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("infra"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("infra"))
    return found


@pytest.mark.parametrize("module", sorted(ALLOWED))
def test_the_bottom_layers_import_nothing_above_them(module: str) -> None:
    path = ROOT / (module.replace(".", "/") + ".py")
    above = infra_imports(path) - ALLOWED[module]
    assert not above, f"{module} imports {sorted(above)}"


def test_no_backend_imports_the_loader_or_the_program() -> None:
    for path in sorted((INFRA / "backends").rglob("*.py")):
        found = infra_imports(path) & {"infra.stack", "infra.program"}
        assert not found, f"{path.relative_to(ROOT)} imports {sorted(found)}"


def test_the_checker_sees_a_lazy_import(tmp_path: Path) -> None:
    """Control: an import inside a function is found like any other."""
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from infra.backends import registry\n", encoding="utf-8")
    assert infra_imports(module) == {"infra.backends"}
