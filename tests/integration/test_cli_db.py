"""`shrinkage db ...` end to end, as a user runs it (a real process, real databases)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import sqlalchemy as sa

from tests.schema_contract import SEED_TABLES


def shrinkage(*args: str, url: str, cwd) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DB_")}
    env["SHRINKAGE_DATABASE_URL"] = url
    return subprocess.run([sys.executable, "-m", "shrinkage.cli", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_upgrade_current_downgrade(empty_db_url, tmp_path):
    url = empty_db_url.render_as_string(hide_password=False)
    password = empty_db_url.password
    up = shrinkage("db", "upgrade", url=url, cwd=tmp_path)
    assert up.returncode == 0, up.stderr
    tables = set(sa.inspect(sa.create_engine(url, poolclass=sa.pool.NullPool)).get_table_names())
    assert set(SEED_TABLES) <= tables
    current = shrinkage("db", "current", url=url, cwd=tmp_path)
    assert current.returncode == 0 and "up to date" in current.stdout
    status = shrinkage("db", "status", url=url, cwd=tmp_path)
    assert "calculation_data" in status.stdout and "missing" not in status.stdout
    down = shrinkage("db", "downgrade", "base", url=url, cwd=tmp_path)
    assert down.returncode == 0, down.stderr
    assert set(sa.inspect(sa.create_engine(url, poolclass=sa.pool.NullPool)).get_table_names()) <= {"alembic_version"}
    if password:
        for result in (up, current, status, down):
            assert password not in result.stdout + result.stderr


def test_history_lists_the_schema_migration(tmp_path):
    result = shrinkage("db", "history", url=f"sqlite:///{tmp_path}/x.db", cwd=tmp_path)
    assert result.returncode == 0 and "base -> 0001" in result.stdout


@pytest.mark.parametrize("url", [
    "postgresql://u:SECRETPW@127.0.0.1:1/x",
    "postgresql://u:SECRETPW@no-such-host.invalid:5432/x",
])
def test_unreachable_database_one_line_no_secret(url, tmp_path):
    result = shrinkage("db", "current", url=url, cwd=tmp_path)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "SECRETPW" not in result.stdout + result.stderr
    assert "host" in lines[0] and "port" in lines[0] and "'x'" in lines[0]


def test_wrong_password_on_the_real_server(pg_server, tmp_path):
    url = pg_server.admin_url.set(password="WRONGSECRET").render_as_string(hide_password=False)
    result = shrinkage("db", "current", url=url, cwd=tmp_path)
    assert result.returncode != 0
    assert "WRONGSECRET" not in result.stdout + result.stderr
    assert "password" in result.stderr.lower()


def test_malformed_url(tmp_path):
    result = shrinkage("db", "current", url="postgresql://u:SECRETPW@host:notaport/db", cwd=tmp_path)
    assert result.returncode != 0 and "SECRETPW" not in result.stderr and "Traceback" not in result.stderr


def test_upgrade_backs_up_a_postgresql_database_that_holds_data(pg_server, tmp_path):
    url = pg_server.create_database()
    plain = url.render_as_string(hide_password=False)
    assert shrinkage("db", "upgrade", "0001", url=plain, cwd=tmp_path).returncode == 0
    engine = sa.create_engine(plain, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO models (name, model_type, version) VALUES ('linear', 'curve', '1')"))
    result = shrinkage("db", "upgrade", url=plain, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    line = next(ln for ln in result.stdout.splitlines() if ln.startswith("backup before the upgrade: "))
    backup = tmp_path / line.removeprefix("backup before the upgrade: ").strip()
    assert backup.exists() and backup.stat().st_size > 0
    assert url.password not in result.stdout + result.stderr
