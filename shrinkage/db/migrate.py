"""Alembic, reachable from the installed package (no alembic.ini needed)."""

from __future__ import annotations

import io
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from shrinkage.config import mask_url

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(engine: Engine, stdout: io.TextIOBase | None = None) -> Config:
    cfg = Config(stdout=stdout) if stdout is not None else Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Masked: alembic may echo it; the live connection below is what it actually uses.
    cfg.set_main_option("sqlalchemy.url", mask_url(engine.url).replace("%", "%%"))
    return cfg


def _with_connection(engine: Engine, fn, *args, **kwargs):
    stdout = kwargs.pop("stdout", None)
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite alters a table by rebuilding it (batch mode), and with foreign keys on its
            # DROP TABLE first deletes the rows, cascading to the children. Off for the
            # migration (the pragma only works outside a transaction), checked before commit.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                cfg = alembic_config(engine, stdout)
                cfg.attributes["connection"] = connection
                result = fn(cfg, *args, **kwargs)
                if sqlite:
                    _check_foreign_keys(connection)
            return result
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def _check_foreign_keys(connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        sample = ", ".join(f"{table} row {rowid} -> {parent}" for table, rowid, parent, _ in broken[:5])
        raise RuntimeError(f"the migration left {len(broken)} row(s) pointing at missing rows ({sample}); "
                           "nothing was changed")


def upgrade(engine: Engine, revision: str = "head") -> None:
    _with_connection(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str) -> None:
    _with_connection(engine, command.downgrade, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_script_config()).get_current_head()


def history() -> list[tuple[str, str | None, str]]:
    """(revision, down_revision, message) from newest to oldest."""
    script = ScriptDirectory.from_config(_script_config())
    return [(s.revision, s.down_revision, (s.doc or "").strip()) for s in script.walk_revisions()]


def _script_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def existing_tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())
