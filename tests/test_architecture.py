"""Imports between domain apps go one way (docs/ARCHITECTURE.md): an app may import only apps
below it in LAYERS. Project-level modules (api, urls, navigation, cli, settings) sit above all."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "communitas"
LAYERS = ["core", "accounts", "participants", "safety", "facilitators", "compliance", "programs",
          "community", "outcomes", "insights", "interop", "demo"]  # fmt: skip


def _imported_apps(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "communitas" and len(parts) > 1:
                found.add(parts[1])
    return found


@pytest.mark.parametrize("app", LAYERS)
def test_it_keeps_imports_one_way(app):
    allowed = set(LAYERS[: LAYERS.index(app) + 1])
    offenders = {
        f"{path.relative_to(PACKAGE)} imports communitas.{other}"
        for path in (PACKAGE / app).rglob("*.py")
        for other in _imported_apps(path)
        if other in LAYERS and other not in allowed
    }
    assert not offenders, sorted(offenders)


def test_it_knows_every_app():
    apps = {p.parent.name for p in PACKAGE.glob("*/apps.py")}
    assert apps == set(LAYERS)
