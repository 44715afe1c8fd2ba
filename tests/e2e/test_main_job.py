"""`shrinkage run` / `shrinkage demo` as a user runs them: a real process, a real database."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from tests.dagster_helpers import demo_statements

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "reports"


def shrinkage(*args: str, cwd: Path, url: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "SHRINKAGE_", "DAGSTER_"))}
    env.update(SHRINKAGE_DATABASE_URL=url, DAGSTER_HOME=str(cwd / "dagster_home"))
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
