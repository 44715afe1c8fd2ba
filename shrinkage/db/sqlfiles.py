"""The plain SQL files of the top-level ``sql/`` folder, found and run from Python.

Views, continuous aggregates, trigger functions and roles are easier to read (and review
with a DBA) as SQL than as Python strings; migrations and operations run them from here.
The project is installed editable, so ``sql/`` sits beside the package in the checkout.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy.engine import Connection

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"
_STATEMENT_END = re.compile(r";[ \t]*(?:--[^\n]*)?\n")


class SqlFileMissing(FileNotFoundError):
    """The sql/ folder (or a file in it) is not where the package expects it."""


def sql_path(name: str) -> Path:
    path = SQL_DIR / name
    if not path.is_file():
        raise SqlFileMissing(
            f"SQL file {path} is missing: the migrations need the repository's sql/ folder "
            f"beside the shrinkage package (install the project editable from its checkout: "
            f"pip install -e .)")
    return path


def read_sql(name: str) -> str:
    return sql_path(name).read_text(encoding="utf-8")


def split_statements(script: str) -> list[str]:
    """Statements of a script without procedural bodies (SQLite executes one at a time)."""
    parts = _STATEMENT_END.split(script + "\n")
    statements = []
    for part in parts:
        lines = [ln for ln in part.splitlines() if ln.strip() and not ln.strip().startswith("--")]
        if lines:
            statements.append("\n".join(lines))
    return statements


def run_sql_file(connection: Connection, name: str) -> None:
    """Run one file in the caller's transaction (PostgreSQL: as one multi-statement batch)."""
    script = read_sql(name)
    if connection.dialect.name == "postgresql":
        # no_parameters: the driver must not treat % in the SQL as a placeholder.
        connection.exec_driver_sql(script, execution_options={"no_parameters": True})
        return
    for statement in split_statements(script):
        connection.exec_driver_sql(statement)
