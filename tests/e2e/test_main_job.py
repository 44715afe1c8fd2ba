"""`shrinkage run` / `shrinkage demo` as a user runs them: a real process, a real database."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.dagster_helpers import demo_statements

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "reports"


def shrinkage(*args: str, cwd: Path, url: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "SHRINKAGE_", "DAGSTER_"))}
    env.update(SHRINKAGE_DATABASE_URL=url, DAGSTER_HOME=str(cwd / "dagster_home"), SHRINKAGE_HOME=str(cwd))
    return subprocess.run([sys.executable, "-m", "shrinkage.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def test_run_with_a_corrupt_file_among_good_ones(tmp_path):
    inbox = tmp_path / "inbox"
    good = demo_statements(inbox, weeks=2, products=3)
    shutil.copy(FIXTURES / "corrupt.xlsx", inbox / "broken.xlsx")
    url = f"sqlite:///{tmp_path / 'app.db'}"
    result = shrinkage("run", "--inbox", str(inbox), cwd=tmp_path, url=url)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "broken.xlsx" in result.stderr and "corrupt" in result.stderr
    assert "Traceback" not in result.stderr
    assert f"{len(good)} ingested" in result.stdout and "1 failed" in result.stdout
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        names = set(conn.execute(sa.text("SELECT file_name FROM source_data")).scalars())
        failed = conn.execute(sa.text(
            "SELECT process_name, error_message, run_id FROM data_lineage WHERE status = 'failed'")).all()
        steps = conn.execute(sa.text("SELECT count(*) FROM data_lineage WHERE status = 'success'")).scalar_one()
    assert names == {p.name for p in good}
    assert any("broken.xlsx" in (row.error_message or "") and "corrupt" in row.error_message for row in failed)
    assert all(row.run_id for row in failed)
    assert steps >= 3 * len(good)  # every asset step of every good file

    again = shrinkage("run", "--inbox", str(inbox), cwd=tmp_path, url=url)
    assert f"{len(good)} unchanged" in again.stdout


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_demo_leaves_results_and_lineage(kind, tmp_path, request):
    """The README's run command on 12 weekly statements, on each database."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'data' / 'shrinkage.db'}"
    else:
        url = request.getfixturevalue("pg_server").create_database().render_as_string(hide_password=False)
    result = shrinkage("demo", "--weeks", "12", "--products", "30", cwd=tmp_path, url=url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "12 ingested" in result.stdout and "report:" in result.stdout
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        def count(sql):
            return conn.execute(sa.text(sql)).scalar_one()
        assert count("SELECT count(*) FROM source_data WHERE processed") == 12
        assert count("SELECT count(DISTINCT c.nomenclature_id) FROM coefficients k "
                     "JOIN calculation_data c ON c.id = k.calculation_data_id") == 30
        assert count("SELECT count(*) FROM forecasts") > 0
        assert count("SELECT count(*) FROM surplus_recommendations") > 0
        assert count("SELECT count(DISTINCT run_id) FROM data_lineage") == 13  # 12 files + the store
        assert count("SELECT count(*) FROM data_lineage WHERE status <> 'success'") == 0
    assert (tmp_path / "data" / "demo_ground_truth.json").exists()
    assert list((tmp_path / "reports").glob("*.pdf"))
