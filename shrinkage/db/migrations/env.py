"""Alembic environment: runs against the connection the caller hands over, or the configured URL."""

from __future__ import annotations

from alembic import context

from shrinkage.db.engine import make_engine
from shrinkage.db.models import Base

config = context.config
target_metadata = Base.metadata


def include_object(obj, name, type_, reflected, compare_to):
    """Leave relations the SQL files own (views, TimescaleDB internals) out of autogenerate."""
    if type_ == "table" and reflected and compare_to is None:
        return name in target_metadata.tables
    return True


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        compare_server_default=False,
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=include_object,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or None, null_pool=True)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline SQL generation is not supported: run against a database")
run_migrations_online()
