"""The package layout keeps its shape: dependencies point inward (docs/architecture.md).

core imports no framework and no other part of the service; the features import the core and each
other, never the web package or the commands; only web and cli import Flask.
"""
import ast
from pathlib import Path

import pytest

SERVICE = Path(__file__).resolve().parents[2] / "service"
FEATURES = ("audit", "db", "events", "keys", "ledger", "policies", "reports")
FRAMEWORKS = ("flask", "flask_smorest", "werkzeug", "webargs", "marshmallow", "apispec")
ORM = ("sqlalchemy", "alembic")


def imports(source: str, module: str) -> list[tuple[int, str]]:
    """(line, imported module) for every import in `source`, relative ones resolved against `module`
    (a package's own name ends in .__init__, so that `from . import x` stays inside it)."""
    package = module.split(".")
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[:len(package) - node.level] + ([base] if base else []))
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names if base.startswith("service")]
    return found


def layer(module: str) -> str:
    """core, a feature's name, web, cli, or "top" for the package's own entry points and settings."""
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in ("core", "web", "cli"):
        return parts[1]
    if len(parts) > 1 and parts[1] in FEATURES:
        return "feature"
    return "top"


def _is(imported: str, roots: tuple[str, ...]) -> bool:
    return imported.split(".")[0] in roots


def violations(modules: dict[str, str], packages: frozenset[str] = frozenset()) -> list[str]:
    """What breaks the layering in `modules` (module name -> source; `packages` are those that are
    packages): one line per offending import."""
    found = {}
    for module, source in sorted(modules.items()):
        where = layer(module)
        for line, imported in imports(source, module + (".__init__" if module in packages else "")):
            if (module, line) in found:
                continue  # one line per import statement
            target = layer(imported) if imported.startswith("service.") else None
            if where == "core" and (_is(imported, FRAMEWORKS + ORM) or target not in (None, "core")):
                found[module, line] = f"{module}:{line} imports {imported}: the core imports no framework and no feature"
            elif where == "feature" and (_is(imported, FRAMEWORKS) or target in ("web", "cli")):
                found[module, line] = f"{module}:{line} imports {imported}: a feature never imports the web package"
            elif where == "top" and module != "service" and _is(imported, FRAMEWORKS):
                found[module, line] = f"{module}:{line} imports {imported}: only service.web and service.cli import Flask"
    return list(found.values())


def service_modules() -> tuple[dict[str, str], frozenset[str]]:
    modules, packages = {}, set()
    for path in SERVICE.rglob("*.py"):
        parts = path.relative_to(SERVICE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path.read_text(encoding="utf-8")
        if parts[-1] == "__init__":
            packages.add(name)
    return modules, frozenset(packages)


def test_the_service_keeps_its_layers():
    modules, packages = service_modules()
    assert {"service.core.rules.engine", "service.events.intake", "service.web.app", "service.cli.keys"} <= set(modules)
    assert violations(modules, packages) == []


@pytest.mark.parametrize(("module", "source"), [
    ("service.core.geo", "from flask import current_app"),
    ("service.core.rules.engine", "import sqlalchemy"),
    ("service.core.time", "from service.events.tables import Event"),
    ("service.core.ledger.checks", "from ...ledger import sequencer"),  # relative: service.ledger
    ("service.events.intake", "from service.web.metrics import count_ingested"),
    ("service.reports.store", "from service.web import context"),
    ("service.audit.exports", "from flask import Response"),
    ("service.ledger.verify", "from service.cli import ledger"),
    ("service.config", "import flask"),
])
def test_a_wrong_import_is_named(module, source):
    [line] = violations({module: source})
    assert line.startswith(f"{module}:1 imports ")


def test_relative_imports_resolve_from_the_package():
    assert violations({"service.core.ledger": "from . import merkle\nfrom .. import time"},
                      frozenset({"service.core.ledger"})) == []
    [line] = violations({"service.core": "from ..events import intake"}, frozenset({"service.core"}))
    assert "service.events" in line


def test_allowed_imports_are_not_named():
    assert violations({
        "service.core.geo": "import shapely\nfrom service.core.rules.model import Geography",
        "service.events.intake": "from sqlalchemy import select\nfrom service.policies.store import current_rules",
        "service.web.api.events": "from flask import g\nfrom service.events import intake",
        "service.cli.keys": "from flask.cli import AppGroup\nfrom service.web.context import sessions",
        "service": "def create_app():\n    from service.web.app import create_web_app",
    }) == []
