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
    with engine.begin() as connection:
        cfg = alembic_config(engine, kwargs.pop("stdout", None))
        cfg.attributes["connection"] = connection
        return fn(cfg, *args, **kwargs)


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
