"""Shared fixtures: every database test runs on SQLite and on a real PostgreSQL 15 server."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from shrinkage.config import HOME_ENV
from shrinkage.db import migrate
from shrinkage.db.engine import make_engine
from shrinkage.db.services import DatabaseService
from tests.pg_server import PgServer, start_pg_server
from tests.tsdb_server import TsdbServer, start_tsdb_server

DATABASE_KINDS = ["sqlite", "postgresql"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture(scope="session", autouse=True)
def project_home(tmp_path_factory) -> Path:
    """Default folders (data/, inbox/, reports/, backups/, the keyword file) of a throwaway home,
    so no test writes into the checkout; processes the tests start inherit it."""
    home = tmp_path_factory.mktemp("home")
    previous = os.environ.get(HOME_ENV)
    os.environ[HOME_ENV] = str(home)
    yield home
    if previous is None:
        os.environ.pop(HOME_ENV, None)
    else:
        os.environ[HOME_ENV] = previous


@pytest.fixture(scope="session")
def pg_server() -> PgServer:
    server = start_pg_server()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def tsdb(tmp_path_factory) -> Iterator[TsdbServer]:
    """The TimescaleDB test double, one per module (it serves one database; a module's tests
    run in file order against it)."""
    with start_tsdb_server(tmp_path_factory.mktemp("tsdb")) as server:
        yield server


@pytest.fixture(scope="session")
def pg_head_template(pg_server: PgServer) -> str:
    """A database migrated to head, cloned by CREATE DATABASE ... TEMPLATE for each test."""
    url = pg_server.create_database()
    engine = make_engine(url, null_pool=True)
    migrate.upgrade(engine)
    engine.dispose()
    return url.database


@pytest.fixture(scope="session")
def sqlite_head_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "head.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(params=DATABASE_KINDS)
def db_kind(request) -> str:
    if request.param == "postgresql":
        request.applymarker(pytest.mark.postgres)
    return request.param


@pytest.fixture
def empty_db_url(db_kind: str, request, tmp_path: Path) -> sa.URL:
    """An empty database (no tables) of the parametrised kind."""
    if db_kind == "sqlite":
        return sa.make_url(f"sqlite:///{tmp_path / 'empty.db'}")
    return request.getfixturevalue("pg_server").create_database()


@pytest.fixture
def db_url(db_kind: str, request, tmp_path: Path) -> sa.URL:
    """A database already migrated to head, of the parametrised kind."""
    if db_kind == "sqlite":
        path = tmp_path / "head.db"
        shutil.copy(request.getfixturevalue("sqlite_head_template"), path)
        return sa.make_url(f"sqlite:///{path}")
    server: PgServer = request.getfixturevalue("pg_server")
    return server.create_database(template=request.getfixturevalue("pg_head_template"))


@pytest.fixture
def engine(db_url: sa.URL):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_engine(request, tmp_path: Path):
    """A migrated SQLite database, for tests of what only SQLite has (query plans, file size)."""
    path = tmp_path / "sqlite-only.db"
    shutil.copy(request.getfixturevalue("sqlite_head_template"), path)
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


@pytest.fixture
def pg_engine(pg_server: PgServer, pg_head_template: str):
    """A migrated PostgreSQL database, for tests of what only PostgreSQL has (JSONB, statistics)."""
    engine = make_engine(pg_server.create_database(template=pg_head_template))
    yield engine
    engine.dispose()


@pytest.fixture
def service(engine) -> DatabaseService:
    return DatabaseService(engine)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def realistic_demo(tmp_path_factory):
    """The realistic demo chain (2 stores x 30 products x 12 weeks, seed 0, with its re-export),
    written once per session: see tests.demo_helpers.RealisticFiles."""
    from tests.demo_helpers import write_realistic

    return write_realistic(tmp_path_factory.mktemp("realistic-demo"))
