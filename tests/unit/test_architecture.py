"""The rules of the house, checked on the source: which package may import which, and the one
place where the ingest decision is taken."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def python_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at module level or inside functions (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def offenders(folder: str, forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    bad = {}
    for path in python_files(folder):
        hits = sorted(m for m in imported_modules(path) if any(m == f or m.startswith(f + ".") for f in forbidden))
        if hits:
            bad[str(path.relative_to(ROOT))] = hits
    return bad


def test_the_rule_checker_sees_imports_of_every_kind(tmp_path, monkeypatch):
    sample = ROOT / "shrinkage" / "db" / "engine.py"
    assert "shrinkage.config" in imported_modules(sample)
    probe = tmp_path / "probe.py"
    probe.write_text("import dagster as dg\ndef f():\n    from shrinkage.modeling import fitting\n")
    monkeypatch.setattr("tests.unit.test_architecture.ROOT", tmp_path)
    assert {"dagster", "shrinkage.modeling", "shrinkage.modeling.fitting"} <= imported_modules(probe)


def test_the_persistence_layer_never_imports_the_numerics():
    assert offenders("shrinkage/db", ("shrinkage.modeling",)) == {}


def test_the_core_never_imports_dagster():
    assert offenders("shrinkage", ("dagster", "dagster_webserver", "dagster_postgres")) == {}


@pytest.mark.parametrize("folder", ["assets", "resources"])
def test_assets_and_resources_never_import_the_pipelines(folder):
    assert offenders(folder, ("pipelines",)) == {}


def test_resources_never_import_the_assets():
    assert offenders("resources", ("assets",)) == {}


def test_the_core_never_imports_the_dagster_layer():
    assert offenders("shrinkage", ("assets", "resources", "pipelines")) == {}


def test_the_ingest_decision_lives_in_one_function():
    """Only ``shrinkage.app.ingest`` asks whether content is already stored, and only ``decide``
    turns that and the validation verdict into an outcome."""
    callers = {}
    for folder in ("shrinkage", "assets", "resources", "pipelines"):
        for path in python_files(folder):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            names = {n.func.id if isinstance(n.func, ast.Name) else getattr(n.func, "attr", None)
                     for n in ast.walk(tree) if isinstance(n, ast.Call)}
            if "find_stored" in names:
                callers[str(path.relative_to(ROOT))] = sorted(names & {"find_stored"})
    assert set(callers) - {"shrinkage/db/sources.py"} == {"shrinkage/app/ingest.py"}  # db: find-or-insert
    tree = ast.parse((ROOT / "shrinkage" / "app" / "ingest.py").read_text(encoding="utf-8"))
    deciding = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)
                and any(isinstance(n, ast.Return) and isinstance(n.value, ast.Name)
                        and n.value.id in {"UNCHANGED", "REJECTED", "LOADED", "REPLACED"} for n in ast.walk(node))}
    assert deciding == {"decide"}
