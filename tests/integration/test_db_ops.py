"""Backup / restore, copy, archive, cleanup and stats on real SQLite and PostgreSQL databases.

The data carries hostile product names (SQL fragments, quotes, control characters, very
long text) so every path proves it passes values as data, never as SQL.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys

import pytest
import sqlalchemy as sa

from shrinkage.db import archive, backup, catalog, migrate, stats
from shrinkage.db import copy as copying
from shrinkage.db import models as m
from shrinkage.db.engine import make_engine
from tests.db_ops_helpers import HOSTILE_NAMES, LONG_TEXT, expected_analytics, read_analytics, seed_timeseries


def fingerprints_of(url) -> dict[str, copying.Fingerprint]:
    engine = make_engine(url, null_pool=True)
    with engine.connect() as conn:
        result = copying.fingerprints(conn)
    engine.dispose()
    return result


def hostile_data_intact(engine) -> None:
    with engine.connect() as conn:
        names = set(conn.execute(sa.text("SELECT name FROM nomenclature")).scalars())
        descriptions = set(conn.execute(sa.text("SELECT description FROM validation_errors")).scalars())
    assert set(HOSTILE_NAMES) <= names
    assert LONG_TEXT in descriptions


def test_fingerprint_ignores_row_order_and_sees_any_changed_value(engine):
    seed_timeseries(engine, weeks=2)
    table = m.Base.metadata.tables["calculation_data"]
    with engine.connect() as conn:
        before = copying.table_fingerprint(conn, table)
        rows = conn.execute(sa.select(*table.columns)).all()
        shuffled = sum(copying.row_digest(r) for r in reversed(rows)) % 2 ** 128
        conn.execute(sa.update(table).where(table.c.id == rows[3].id).values(incoming=rows[3].incoming + 1e-9))
        changed = copying.table_fingerprint(conn, table)
        conn.rollback()
    assert f"{shuffled:032x}" == before.checksum
    assert changed.rows == before.rows and changed.checksum != before.checksum


def test_backup_then_restore_into_an_empty_database_reproduces_every_table(engine, db_kind, empty_db_url, tmp_path):
    seed_timeseries(engine, weeks=3, names=HOSTILE_NAMES)
    expected = fingerprints_of(engine.url)
    path = backup.backup(engine, tmp_path / "backups" / "one.dump")
    assert path.is_file() and path.stat().st_size > 0
    target = make_engine(empty_db_url, null_pool=True)
    backup.restore(target, path)
    assert fingerprints_of(empty_db_url) == expected
    assert migrate.current_revision(target) == migrate.head_revision()
    hostile_data_intact(target)
    with pytest.raises(catalog.OpsError, match="already holds"):
        backup.restore(target, path)
    target.dispose()


def test_backup_before_upgrade_only_for_non_empty_postgresql(engine, db_kind, monkeypatch, tmp_path):
    monkeypatch.setenv("SHRINKAGE_HOME", str(tmp_path))  # the default backup folder is in the project home
    assert backup.backup_before_upgrade(engine) is None
    seed_timeseries(engine, weeks=1)
    made = backup.backup_before_upgrade(engine)
    if db_kind == "sqlite":
        assert made is None
    else:
        assert made is not None and made.is_file() and made.parent == tmp_path / "backups"


@pytest.mark.postgres
def test_copy_sqlite_to_postgresql_verified_and_refused_when_target_has_data(
        sqlite_head_template, pg_server, tmp_path):
    source_url = f"sqlite:///{tmp_path / 'src.db'}"
    shutil.copy(sqlite_head_template, tmp_path / "src.db")
    source = make_engine(source_url, null_pool=True)
    seeded = seed_timeseries(source, weeks=5, names=HOSTILE_NAMES)
    expected = fingerprints_of(source_url)
    target_url = pg_server.create_database()  # empty: copy migrates it

    report = copying.copy_database(source_url, target_url, chunk_rows=7)
    assert report.fingerprints == expected
    assert report.tables["calculation_data"] == len(seeded.calculations)
    target = make_engine(target_url, null_pool=True)
    hostile_data_intact(target)
    with target.connect() as conn:
        assert read_analytics(conn) == expected_analytics(seeded)  # materialized views refreshed
    with target.begin() as conn:  # sequences continue after the copied ids
        new_id = conn.execute(sa.insert(m.Nomenclature.__table__).values(name="new", normalized_name="new")
                              .returning(m.Nomenclature.id)).scalar_one()
    assert new_id > max(c["nomenclature_id"] for c in seeded.calculations)

    before = fingerprints_of(target_url)
    with pytest.raises(catalog.OpsError, match="already holds data"):
        copying.copy_database(source_url, target_url)
    assert fingerprints_of(target_url) == before
    target.dispose()
    source.dispose()


@pytest.mark.postgres
def test_copy_that_fails_midway_leaves_the_target_untouched(sqlite_head_template, pg_server, tmp_path):
    shutil.copy(sqlite_head_template, tmp_path / "src.db")
    source_url = f"sqlite:///{tmp_path / 'src.db'}"
    source = make_engine(source_url, null_pool=True)
    seed_timeseries(source, weeks=2)
    with source.begin() as conn:  # SQLite does not enforce varchar lengths; PostgreSQL does
        conn.execute(sa.update(m.Nomenclature.__table__).where(m.Nomenclature.id == 2)
                     .values(name="ИКРА " + "Щ" * 10_000))
    target_url = pg_server.create_database()
    with pytest.raises(catalog.OpsError, match="rolled back and is unchanged") as failure:
        copying.copy_database(source_url, target_url)
    assert "nomenclature" in str(failure.value)
    target = make_engine(target_url, null_pool=True)
    assert sa.inspect(target).get_table_names() == []  # even the migration was rolled back
    target.dispose()
    source.dispose()


def test_archive_moves_old_rows_and_restore_brings_them_back(engine, db_kind):
    seeded = seed_timeseries(engine, weeks=6, names=HOSTILE_NAMES)
    before = fingerprints_of(engine.url)
    cut = dt.datetime(2024, 1, 22)
    old = [c for c in seeded.calculations if c["calculation_date"] < cut]
    moved = archive.archive(engine, cut)
    assert moved["calculation_data"] == len(old) > 0
    assert moved["coefficients"] == len(old) and moved["forecasts"] == len(old)
    with engine.connect() as conn:
        oldest = conn.execute(sa.text("SELECT min(calculation_date) FROM calculation_data")).scalar_one()
        archived = conn.execute(sa.text(
            "SELECT count(*) FROM archive.calculation_data" if db_kind == "postgresql"
            else "SELECT count(*) FROM archive_calculation_data")).scalar_one()
    assert ops_datetime(oldest) >= cut and archived == len(old)
    # products of archived rows are not "unused": cleanup must keep them for the restore
    assert archive.cleanup(engine, older_than_days=0, dry_run=True)["products no row refers to"] == 0
    restored = archive.restore_archive(engine)
    assert restored == moved
    assert fingerprints_of(engine.url) == before
    hostile_data_intact(engine)


def ops_datetime(value):
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)


def test_cleanup_reports_with_dry_run_and_deletes_only_obsolete_rows(engine):
    seed_timeseries(engine, weeks=1)
    long_ago = dt.datetime.now() - dt.timedelta(days=400)
    t = m.Base.metadata.tables
    with engine.begin() as conn:
        conn.execute(sa.insert(t["nomenclature"]).values(name="unused", normalized_name="unused", created_at=long_ago))
        conn.execute(sa.insert(t["nomenclature"]).values(name="unused but new", normalized_name="unused new"))
        conn.execute(sa.insert(t["source_data"]), [
            {"file_name": "week.xls", "file_hash": "old", "processed": False, "upload_date": long_ago},
            {"file_name": "week.xls", "file_hash": "new", "processed": True,
             "upload_date": long_ago.replace(year=2099)},
            {"file_name": "lonely.xls", "file_hash": "lonely", "processed": False, "upload_date": long_ago}])
        conn.execute(sa.insert(t["validation_errors"]), [
            {"error_type": "x", "severity_level": "low", "resolved": True, "resolution_date": long_ago},
            {"error_type": "x", "severity_level": "low", "resolved": True, "resolution_date": dt.datetime.now()},
            {"error_type": "x", "severity_level": "low", "resolved": False, "resolution_date": None}])
    counts_before = fingerprints_of(engine.url)
    planned = archive.cleanup(engine, dry_run=True)
    assert planned == {"resolved validation errors": 1, "rejected source files replaced by a later version": 1,
                       "products no row refers to": 1}
    assert fingerprints_of(engine.url) == counts_before
    assert archive.cleanup(engine) == planned
    with engine.connect() as conn:
        names = set(conn.execute(sa.text("SELECT name FROM nomenclature")).scalars())
        files = set(conn.execute(sa.text("SELECT file_hash FROM source_data")).scalars())
    assert "unused" not in names and "unused but new" in names and len(names) == 5
    assert files >= {"new", "lonely"} and "old" not in files
    assert archive.cleanup(engine, dry_run=True) == dict.fromkeys(planned, 0)


@pytest.mark.postgres
def test_stats_on_postgresql_lists_sizes_indexes_slow_statements_and_pool(pg_server, pg_head_template):
    url = pg_server.create_database(template=pg_head_template)
    engine = make_engine(url)
    seed_timeseries(engine, weeks=2)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    result = stats.stats(engine)
    by_name = {t.name: t for t in result.tables}
    assert by_name["calculation_data"].rows > 0 and by_name["calculation_data"].total_bytes > 0
    assert result.backend == "postgresql" and result.size_bytes > 0
    assert any(i.index == "ix_batch_movements_store_product_time" for i in stats.stats(engine, top=1000).indexes)
    assert result.slow_queries and all(q.calls >= 1 for q in result.slow_queries)
    assert result.pool["class"] == "QueuePool" and result.pool["configured"]["pool_size"] >= 1
    engine.dispose()


def test_stats_on_sqlite(sqlite_engine):
    seed_timeseries(sqlite_engine, weeks=1)
    result = stats.stats(sqlite_engine)
    assert result.backend == "sqlite" and result.size_bytes > 0 and result.slow_queries is None
    assert {t.name for t in result.tables} >= {"calculation_data", "nomenclature"}


# --- the CLI, with a password in the URL -----------------------------------------------------

@pytest.fixture
def ops_cli(monkeypatch):
    """`db` operations through the real `shrinkage` command, against the URL of each call."""
    from click.testing import CliRunner

    from shrinkage.cli import main as root
    from shrinkage.config import get_settings

    for name in [k for k in os.environ if k.startswith(("DB_", "PG"))]:
        monkeypatch.delenv(name)

    def invoke(*args: str, url: str):
        monkeypatch.setenv("SHRINKAGE_DATABASE_URL", url)
        get_settings.cache_clear()
        return CliRunner().invoke(root, list(args), catch_exceptions=False)

    yield invoke
    get_settings.cache_clear()


@pytest.mark.postgres
def test_cli_operations_never_show_the_password(ops_cli, pg_server, pg_head_template, sqlite_head_template,
                                               tmp_path, caplog):
    caplog.set_level("DEBUG")
    url = pg_server.create_database(template=pg_head_template)
    password = url.password
    assert password
    seed_timeseries(make_engine(url, null_pool=True), weeks=1, names=HOSTILE_NAMES)
    plain = url.render_as_string(hide_password=False)
    empty = pg_server.create_database().render_as_string(hide_password=False)
    shutil.copy(sqlite_head_template, tmp_path / "src.db")
    copy_target = pg_server.create_database().render_as_string(hide_password=False)
    dump = str(tmp_path / "b.dump")
    results = [
        ops_cli("db", "backup", "--out", dump, url=plain),
        ops_cli("db", "restore", dump, url=empty),
        ops_cli("db", "stats", url=plain),
        ops_cli("db", "cleanup", "--dry-run", url=plain),
        ops_cli("db", "archive", "--before", "2024-01-10", url=plain),
        ops_cli("db", "archive", "--restore", url=plain),
        ops_cli("db", "copy", "--from", f"sqlite:///{tmp_path / 'src.db'}", "--to", copy_target, url=plain),
    ]
    for result in results:
        assert result.exit_code == 0, result.output
    failures = [  # a restore into a non-empty database, a copy into a database with data, no such database
        ops_cli("db", "restore", dump, url=plain),
        ops_cli("db", "copy", "--from", f"sqlite:///{tmp_path / 'src.db'}", "--to", plain, url=plain),
        ops_cli("db", "backup", url=url.set(database="no_such_db").render_as_string(hide_password=False)),
    ]
    for result in failures:
        assert result.exit_code != 0 and "Traceback" not in result.output
    assert "already holds" in failures[0].output and "already holds data" in failures[1].output
    assert "no_such_db" in failures[2].output
    assert "rows" in results[2].output and "pool:" in results[2].output
    everything = "\n".join(r.output for r in results + failures) + caplog.text
    assert password not in everything


@pytest.mark.postgres
def test_a_real_process_keeps_the_password_out_of_a_failing_backup(pg_server, tmp_path):
    url = pg_server.admin_url.set(database="no_such_db")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "PG"))}
    env["SHRINKAGE_DATABASE_URL"] = url.render_as_string(hide_password=False)
    command = [sys.executable, "-m", "shrinkage.cli", "-v", "db", "backup", "--out", str(tmp_path / "x.dump")]
    result = subprocess.run(command,
                            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "no_such_db" in result.stderr
    assert url.password not in result.stdout + result.stderr
