"""Backup and restore: ``pg_dump -Fc`` / ``pg_restore`` on PostgreSQL, the backup API on SQLite."""

from __future__ import annotations

import glob
import logging
import os
import re
import shutil
import sqlite3
import subprocess
from datetime import datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import URL, Engine

from shrinkage.config import get_settings, mask_url
from shrinkage.db.catalog import OpsError, has_data, secret_free
from shrinkage.db.engine import describe_target
from shrinkage.db.timeseries import timescaledb_installed

log = logging.getLogger(__name__)


def find_pg_tool(name: str) -> str:
    """``pg_dump`` / ``pg_restore`` on PATH, else the newest /usr/lib/postgresql/*/bin one."""
    found = shutil.which(name)
    if found:
        return found

    def version(path: str) -> int:
        match = re.search(r"/postgresql/(\d+)/", path)
        return int(match.group(1)) if match else 0

    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=version, reverse=True)
    if not candidates:
        raise OpsError(f"{name} was not found on PATH or in /usr/lib/postgresql/*/bin: install the "
                       "PostgreSQL client tools (apt-get install postgresql-client) of the server's version")
    return candidates[0]


def _run_pg_tool(args: list[str], url: URL, what: str) -> subprocess.CompletedProcess:
    """Run a client tool with connection details as options and the password only in its env."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    env["PGCONNECT_TIMEOUT"] = str(get_settings().connect_timeout)
    connection_args = ["--host", url.host or "localhost", "--port", str(url.port or 5432),
                       "--username", url.username or "postgres", "--no-password"]
    result = subprocess.run([*args, *connection_args], env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = secret_free(result.stderr.strip() or result.stdout.strip(), url)
        raise OpsError(f"{what} of the {describe_target(url)} failed (exit {result.returncode}): {detail}")
    return result


def default_backup_path(url: URL, folder: Path | None = None) -> Path:
    """<backups folder of the project home>/<database>-<time>.dump (.sqlite for SQLite)."""
    folder = folder or get_settings().backup_dir
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    if url.get_backend_name() == "sqlite":
        stem = Path(url.database or "memory").stem
        return folder / f"{stem}-{stamp}.sqlite"
    return folder / f"{url.database}-{stamp}.dump"


def backup(engine: Engine, out: Path | None = None) -> Path:
    """A full backup: ``pg_dump -Fc`` on PostgreSQL, the online backup API on SQLite."""
    url = engine.url
    out = Path(out) if out is not None else default_backup_path(url)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            raise OpsError("an in-memory SQLite database cannot be backed up: use a file URL")
        with engine.connect() as conn:  # checkpoint the WAL so the copy is self-contained
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        source = sqlite3.connect(url.database)
        target = sqlite3.connect(partial)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
    else:
        _run_pg_tool([find_pg_tool("pg_dump"), "--format=custom", "--file", str(partial),
                      "--dbname", url.database or "postgres"], url, "pg_dump")
    partial.replace(out)
    log.info("backup of %s written to %s (%d bytes)", mask_url(url), out, out.stat().st_size)
    return out


def restore(engine: Engine, path: Path, *, clean: bool = False) -> None:
    """Load a backup made by :func:`backup` into the engine's database.

    Refuses a database that already holds tables unless ``clean`` (which replaces them).
    PostgreSQL: one transaction (``--single-transaction --exit-on-error``), owners and
    grants left out (apply ``shrinkage db roles`` afterwards).
    """
    path = Path(path)
    if not path.is_file():
        raise OpsError(f"backup file {path} does not exist: pass the path that `shrinkage db backup` printed")
    url = engine.url
    with engine.connect() as conn:
        tables = [t for t in conn.dialect.get_table_names(conn) if t != "alembic_version"]
        tsdb = timescaledb_installed(conn)
    if tables and not clean:
        raise OpsError(f"the {describe_target(url)} already holds {len(tables)} tables: restore only into an "
                       "empty database, or pass --clean to replace its contents with the backup")
    if url.get_backend_name() == "sqlite":
        try:
            source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            source.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as exc:
            raise OpsError(f"{path} is not a SQLite backup ({exc}): "
                           "pass a file made by `shrinkage db backup`") from None
        engine.dispose()
        target = sqlite3.connect(url.database)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        log.info("restored %s into %s", path, mask_url(url))
        return
    if tsdb:  # TimescaleDB's catalog must not fire its triggers while objects are recreated
        with engine.begin() as conn:
            conn.execute(text("SELECT timescaledb_pre_restore()"))
    try:
        args = [find_pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
                "--single-transaction", "--dbname", url.database or "postgres"]
        if clean:
            args += ["--clean", "--if-exists"]
        _run_pg_tool([*args, str(path)], url, "pg_restore")
    finally:
        if tsdb:
            with engine.begin() as conn:
                conn.execute(text("SELECT timescaledb_post_restore()"))
    log.info("restored %s into %s", path, mask_url(url))


def backup_before_upgrade(engine: Engine) -> Path | None:
    """Back up a non-empty PostgreSQL database before its schema changes; None when not needed."""
    if engine.url.get_backend_name() != "postgresql":
        return None
    with engine.connect() as conn:
        if not has_data(conn):
            return None
    return backup(engine)
