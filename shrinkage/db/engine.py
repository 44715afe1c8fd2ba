"""Engines and sessions: one place that turns settings into a working connection.

SQLite gets WAL, foreign keys and the curve functions (``shrinkage_curve`` ...: PostgreSQL
stores them, SQLite needs them registered per connection) on every connection; PostgreSQL
gets the pool settings.
Connection failures become :class:`DatabaseUnavailable` with a message that names host,
port and database and never the password.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event, text
from sqlalchemy.engine import URL, Engine, create_engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from shrinkage.config import Settings, get_settings, mask_url, scrub_secrets
from shrinkage.db.curve_functions import register_sqlite_functions

log = logging.getLogger(__name__)


class DatabaseUnavailable(RuntimeError):
    """The configured database cannot be reached or used; the message says what to check."""


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
    register_sqlite_functions(dbapi_connection)


def make_engine(url: URL | str | None = None, settings: Settings | None = None, *,
                null_pool: bool = False) -> Engine:
    """An engine for ``url`` (default: the configured one) with the right per-dialect setup."""
    settings = settings or get_settings()
    try:
        url = make_url(url) if url is not None else settings.url()
    except (ArgumentError, ValueError) as exc:
        raise DatabaseUnavailable(
            f"database URL is not valid ({scrub_secrets(str(exc))}); "
            "set SHRINKAGE_DATABASE_URL to e.g. postgresql://user@host:5432/db (password in DB_PASSWORD) or sqlite:///data/shrinkage.db"
        ) from None
    try:
        if url.get_backend_name() == "sqlite":
            database = url.database
            if database and database != ":memory:" and not database.startswith("file:"):
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, future=True)
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            kwargs: dict = {"pool_pre_ping": settings.pool_pre_ping}
            if url.get_backend_name() == "postgresql":
                kwargs["connect_args"] = {
                    "connect_timeout": settings.connect_timeout,
                    "application_name": "shrinkage",
                }
            if null_pool:
                kwargs["poolclass"] = NullPool
            else:
                kwargs.update(
                    pool_size=settings.pool_size,
                    max_overflow=settings.max_overflow,
                    pool_recycle=settings.pool_recycle,
                )
            engine = create_engine(url, **kwargs)
    except (NoSuchModuleError, ImportError) as exc:
        raise DatabaseUnavailable(
            f"no driver for {mask_url(url)}: {exc}; use postgresql:// (psycopg2) or sqlite:///"
        ) from None
    log.debug("engine for %s", mask_url(url))
    return engine


def describe_target(url: URL) -> str:
    """Where a URL points, for messages: host, port and database, no credentials."""
    if url.get_backend_name() == "sqlite":
        return f"SQLite file {url.database or ':memory:'}"
    return (f"{url.get_backend_name()} database '{url.database}' on host "
            f"{url.host or 'localhost'} port {url.port or 5432} as user '{url.username}'")


def check_connection(engine: Engine) -> None:
    """Open one connection; raise DatabaseUnavailable with a specific hint when it fails."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except DBAPIError as exc:
        raise unavailable(engine.url, exc) from None


def unavailable(url: URL, exc: BaseException) -> DatabaseUnavailable:
    """Turn a driver error into one clear, secret-free sentence."""
    detail = str(getattr(exc, "orig", exc) or exc).strip().splitlines()
    first = detail[0] if detail else type(exc).__name__
    first = scrub_secrets(first, url.password if isinstance(url.password, str) else None)
    if url.get_backend_name() == "sqlite":
        hint = "check that the folder exists and is writable"
    else:
        hint = ("check that the server is running and reachable, the host/port are right, "
                "the database exists and the user/password (DB_USER/DB_PASSWORD or "
                "SHRINKAGE_DATABASE_URL) are correct")
    return DatabaseUnavailable(f"cannot use the {describe_target(url)}: {first}. {hint}.")


_session_factories: dict[int, sessionmaker[Session]] = {}


def session_factory(engine: Engine) -> sessionmaker[Session]:
    factory = _session_factories.get(id(engine))
    if factory is None or factory.kw.get("bind") is not engine:
        factory = sessionmaker(bind=engine, expire_on_commit=False, future=True)
        _session_factories[id(engine)] = factory
    return factory


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: commit on success, roll back everything on any error."""
    session = session_factory(engine)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
