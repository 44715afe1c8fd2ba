"""Ingestion end to end on SQLite and PostgreSQL: read, validate, normalise, store."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from shrinkage.app.ingest import collect_files, ingest_file, ingest_paths
from shrinkage.db import models as m
from shrinkage.demo import simulate_store, write_statements
from shrinkage.sources import read_report

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "reports"
VOLATILE = {"id", "created_at", "updated_at", "upload_date", "process_timestamp", "file_path",
            "file_hash", "file_name", "execution_time_ms", "lineage_key", "source_file_name",
            "detection_date", "created_date"}


@pytest.fixture(scope="module")
def statements(tmp_path_factory) -> list[Path]:
    out = tmp_path_factory.mktemp("demo")
    files = write_statements(simulate_store(weeks=3, products=8, seed=11), out)
    return sorted(p for p in files if p.suffix == ".xlsx")


def snapshot(engine, drop_volatile: bool = False) -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order."""
    result = {}
    with engine.connect() as conn:
        for table in m.Base.metadata.sorted_tables:
            columns = [c for c in table.c if not (drop_volatile and (c.name in VOLATILE or c.name.endswith("_id")))]
            if not columns:
                continue
            rows = conn.execute(sa.select(*columns)).all()
            result[table.name] = sorted(tuple(map(repr, r)) for r in rows)
    return result


def test_a_statement_lands_whole(engine, statements):
    path = statements[0]
    report = read_report(path)
    outcome = ingest_file(engine, path)
    assert outcome.status == "loaded", outcome.message
    with engine.connect() as conn:
        def count(t):
            return conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
        assert count(m.SourceData) == 1
        assert count(m.CalculationData) == report.products["product"].nunique()
        assert count(m.BatchMovement) == len(report.batches)
        assert count(m.Nomenclature) == report.products["product"].nunique()
        lineage = conn.execute(sa.select(m.DataLineage.status, m.DataLineage.output_records,
                                         m.DataLineage.source_file_id)).all()
    assert len(lineage) == 1 and lineage[0].status == "success" and lineage[0].source_file_id is not None
    # the movements keep the batch balances exactly as the statement had them
    with engine.connect() as conn:
        stored = pd.read_sql(sa.select(m.BatchMovement.opening, m.BatchMovement.incoming,
                                       m.BatchMovement.outgoing, m.BatchMovement.closing), conn)
    read = report.batches[["opening", "incoming", "outgoing", "closing"]]
    assert stored.sum().round(3).tolist() == read.sum().round(3).tolist()


def test_count_shortage_and_storage_days(engine, statements):
    path = statements[1]
    report = read_report(path)
    ingest_file(engine, path)
    counts = report.documents[report.documents["doc_kind"] == "count"]
    expected = (counts["outgoing"] - counts["incoming"]).groupby(counts["product"]).sum()
    with engine.connect() as conn:
        rows = conn.execute(sa.select(m.Nomenclature.name, m.CalculationData.inventory_shrinkage_total,
                                      m.CalculationData.storage_days, m.CalculationData.fifo_batch_sequence,
                                      m.CalculationData.is_valid_inventory_period)
                            .join(m.Nomenclature)).all()
    by_name = {r.name: r for r in rows}
    for product, shortage in expected.items():
        assert by_name[product].inventory_shrinkage_total == pytest.approx(shortage, abs=1e-6)
        assert by_name[product].is_valid_inventory_period
    for row in rows:
        if row.fifo_batch_sequence:
            ages = [b["age_days"] for b in row.fifo_batch_sequence if b["age_days"] is not None]
            assert ages == sorted(ages, reverse=True)  # oldest first
            assert row.storage_days is not None and 0 <= row.storage_days <= max(ages) + 1


def test_same_content_twice_or_renamed_changes_nothing(engine, statements, tmp_path):
    ingest_paths(engine, statements)
    before = snapshot(engine)
    renamed = tmp_path / "переименован.xlsx"
    shutil.copy(statements[0], renamed)
    outcomes = ingest_paths(engine, [*statements, renamed])
    assert {o.status for o in outcomes} == {"unchanged"}
    assert snapshot(engine) == before


def test_changed_file_with_the_same_name_replaces_the_old_version(engine, statements, tmp_path):
    target = tmp_path / "week.xlsx"
    shutil.copy(statements[0], target)
    first = ingest_file(engine, target)
    shutil.copy(statements[1], target)
    second = ingest_file(engine, target)
    assert second.status == "replaced" and str(first.source_data_id) in second.message
    with engine.connect() as conn:
        sources = conn.execute(sa.select(m.SourceData.id)).scalars().all()
        movement_sources = set(conn.execute(sa.select(m.BatchMovement.source_data_id)).scalars())
    assert sources == [second.source_data_id] and movement_sources == {second.source_data_id}


def test_corrupt_file_among_good_ones(engine, statements, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for path in statements:
        shutil.copy(path, inbox / path.name)
    shutil.copy(FIXTURES / "corrupt.xlsx", inbox / "broken.xlsx")
    outcomes = {o.path.name: o for o in ingest_paths(engine, collect_files([inbox]))}
    assert outcomes["broken.xlsx"].status == "unreadable"
    assert "broken.xlsx" in outcomes["broken.xlsx"].message
    assert all(o.status == "loaded" for name, o in outcomes.items() if name != "broken.xlsx")
    with engine.connect() as conn:
        names = set(conn.execute(sa.select(m.SourceData.file_name)).scalars())
        failed = conn.execute(sa.select(m.DataLineage).where(m.DataLineage.status == "failed")).all()
    assert "broken.xlsx" not in names and len(names) == len(statements)
    assert len(failed) == 1 and failed[0].source_file_name == "broken.xlsx" and failed[0].error_message


def test_xls_and_xlsx_give_identical_content(db_url, db_kind, request, tmp_path):
    from shrinkage.db.engine import make_engine
    if db_kind == "sqlite":
        second = sa.make_url(f"sqlite:///{tmp_path / 'second.db'}")
        shutil.copy(request.getfixturevalue("sqlite_head_template"), second.database)
    else:
        second = request.getfixturevalue("pg_server").create_database(
            template=request.getfixturevalue("pg_head_template"))
    contents = []
    for suffix, url in (("xls", db_url), ("xlsx", second)):
        engine = make_engine(url)
        assert ingest_file(engine, FIXTURES / f"batch_clean.{suffix}").status == "loaded"
        contents.append(snapshot(engine, drop_volatile=True))
        engine.dispose()
    assert contents[0] == contents[1]
    assert contents[0]["batch_movements"]


def test_a_failure_mid_load_leaves_nothing(engine, statements, monkeypatch):
    import shrinkage.db.sources as load

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(load, "insert_frame", explode)
    with pytest.raises(RuntimeError, match="disk full"):
        ingest_file(engine, statements[0])
    assert all(not rows for rows in snapshot(engine).values())


def test_blocked_file_keeps_only_its_failure(engine, tmp_path):
    from tests import sources_helpers as h
    rows = [list(r) for r in h.HERRING_ROWS]
    rows[1][3] = rows[2][3] = -1.950  # a sale booked as negative outgoing
    grid = h.batch_statement_grid([(h.HERRING_GROUP, *h.HERRING_TOTALS), *map(tuple, rows)],
                                  warehouse_totals=h.HERRING_TOTALS)
    path = tmp_path / "negative.xlsx"
    h.write_xlsx(path, grid)
    outcome = ingest_file(engine, path)
    assert outcome.status == "rejected" and "negative" in outcome.message.lower()
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(m.CalculationData)).scalar_one() == 0
        assert conn.execute(sa.select(sa.func.count()).select_from(m.BatchMovement)).scalar_one() == 0
        errors = conn.execute(sa.select(m.ValidationError.severity_level, m.ValidationError.source_data_id)).all()
        lineage = conn.execute(sa.select(m.DataLineage.status, m.DataLineage.error_message)).all()
    assert any(e.severity_level == "critical" and e.source_data_id for e in errors)
    assert lineage[0].status == "failed" and "blocked by validation" in lineage[0].error_message


def test_cli_ingest_reports_each_file_and_fails_on_a_bad_one(statements, tmp_path):
    import subprocess
    import sys
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(statements[0], inbox / statements[0].name)
    shutil.copy(FIXTURES / "password_protected.xlsx", inbox / "locked.xlsx")
    env = {"SHRINKAGE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "PATH": "/usr/bin:/bin"}
    run = subprocess.run([sys.executable, "-m", "shrinkage.cli", "ingest", str(inbox)], env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 1
    assert "locked.xlsx" in run.stdout and "failed" in run.stdout
    assert "password" in run.stderr.lower() and "Traceback" not in run.stderr
    assert "1 ok, 1 failed" in run.stdout
    again = subprocess.run([sys.executable, "-m", "shrinkage.cli", "ingest", str(inbox / statements[0].name)],
                           env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "unchanged" in again.stdout
