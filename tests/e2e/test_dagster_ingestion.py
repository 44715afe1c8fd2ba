"""Per-file ingestion through real Dagster runs, on a real SQLite database, and the lineage they leave."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import select

from assets import INGESTION_ASSETS
from pipelines.definitions import build_definitions
from pipelines.lineage import record_run_lineage
from pipelines.sensors import LINEAGE_SENSORS
from resources import DatabaseResource, database_from_environment
from resources.database import dispose_engines
from resources.inbox import partition_key_for, source_files
from shrinkage.app.ingest import content_hash
from shrinkage.db.engine import session_scope
from shrinkage.db.models import DataLineage, SourceData, ValidationError
from shrinkage.quality import RULES
from tests.dagster_helpers import demo_statements, resources_for, table_counts, with_negative_outgoing

ROOT = Path(__file__).resolve().parents[2]
NORMALISED = ["source_data", "nomenclature", "calculation_data", "batch_movements", "validation_errors"]
ASSET_STEPS = {"parsed_reports", "validated_reports", "normalised_tables"}


class Store:
    """One instance, one database, one inbox shared by the module's runs (runs cost ~2 s each)."""

    def __init__(self, root: Path, instance: dg.DagsterInstance):
        self.inbox = root / "inbox"
        self.statements = demo_statements(self.inbox, weeks=2, products=3)
        self.instance = instance
        self.resources = resources_for(f"sqlite:///{root / 'shrinkage.db'}", self.inbox)
        self.engine = self.resources["database"].engine()
        self.defs = build_definitions(self.resources)

    def add(self, path: Path) -> str:
        key = partition_key_for(path, content_hash(path))
        self.instance.add_dynamic_partitions(source_files.name, [key])
        return key

    def run_job(self, path: Path) -> dg.ExecuteInProcessResult:
        """The production job, as a sensor-launched run would execute it."""
        job = self.defs.resolve_job_def("ingest_file_job")
        return job.execute_in_process(partition_key=self.add(path), instance=self.instance, raise_on_error=False,
                                      tags={"dagster/sensor_name": "inbox_sensor"})

    def materialize(self, path: Path) -> dg.ExecuteInProcessResult:
        return dg.materialize(INGESTION_ASSETS, partition_key=self.add(path), instance=self.instance,
                              resources=self.resources, raise_on_error=False, tags={"shrinkage/user": "analyst"})

    def lineage(self, run_id: str) -> dict[str, DataLineage]:
        with session_scope(self.engine) as session:
            rows = session.scalars(select(DataLineage).where(DataLineage.run_id == run_id)).all()
        return {row.step_key: row for row in rows}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    with dg.instance_for_test() as instance:
        yield Store(tmp_path_factory.mktemp("dagster-ingest"), instance)
    dispose_engines()


@pytest.fixture(scope="module")
def good_run(store):
    return store.run_job(store.statements[0])


@pytest.fixture(scope="module")
def blocked_run(store, good_run):
    broken = with_negative_outgoing(store.statements[1], store.inbox / "broken statement.xlsx")
    return store.materialize(broken)


@pytest.fixture(scope="module")
def corrupt_run(store, good_run):
    corrupt = store.inbox / "cut off.xlsx"
    corrupt.write_bytes(store.statements[1].read_bytes()[:2000])
    return store.materialize(corrupt)


def materialized(result: dg.ExecuteInProcessResult) -> dict[str, dict]:
    return {event.asset_key.to_user_string(): {k: getattr(v, "value", v) for k, v in
                                               event.step_materialization_data.materialization.metadata.items()}
            for event in result.get_asset_materialization_events()}


# --- ingestion ---------------------------------------------------------------------------


def test_a_statement_is_parsed_validated_and_stored(store, good_run):
    assert good_run.success
    meta = materialized(good_run)
    assert set(meta) == {"parsed_reports", "validated_reports", *NORMALISED}
    counts = table_counts(store.engine, *NORMALISED)
    assert counts["source_data"] == 1
    assert counts["calculation_data"] == meta["calculation_data"]["dagster/row_count"] == 3
    assert counts["batch_movements"] == meta["batch_movements"]["dagster/row_count"] > 0
    assert meta["parsed_reports"]["products"] == 3
    assert meta["parsed_reports"]["shrinkage/input_records"] > 0
    assert "| product" in meta["parsed_reports"]["preview"]
    assert 0 < meta["validated_reports"]["quality_score"] <= 1
    evaluations = good_run.get_asset_check_evaluations()
    assert {e.check_name for e in evaluations} == set(RULES)
    assert all(e.passed for e in evaluations if e.blocking)


def test_checks_block_what_the_quality_rules_call_critical(store):
    checks = {spec.name: spec for spec in store.defs.resolve_assets_def("validated_reports").check_specs}
    assert checks["negative_quantity"].blocking and checks["required_columns"].blocking
    assert not checks["negative_balance"].blocking and not checks["unknown_document_type"].blocking


def test_a_blocking_failure_keeps_the_file_out_of_the_normalised_tables(store, good_run, blocked_run):
    before = table_counts(store.engine, "calculation_data", "batch_movements")
    assert not blocked_run.success
    failed = [e for e in blocked_run.get_asset_check_evaluations() if not e.passed]
    assert "negative_quantity" in {e.check_name for e in failed}
    negative = next(e for e in failed if e.check_name == "negative_quantity")
    assert negative.severity == dg.AssetCheckSeverity.ERROR and negative.blocking
    assert "row" in negative.metadata["shrinkage/first_failure"].value
    assert not set(materialized(blocked_run)) & set(NORMALISED)
    assert [e.step_key for e in blocked_run.get_step_failure_events()] == ["validated_reports"]
    # Recorded as rejected, with its reasons; the good file's rows are untouched.
    with session_scope(store.engine) as session:
        rejected = session.scalars(select(SourceData).where(SourceData.file_name == "broken statement.xlsx")).one()
        reasons = session.scalars(select(ValidationError.error_type)
                                  .where(ValidationError.source_data_id == rejected.id)).all()
    assert rejected.processed is False
    assert "negative_quantity" in reasons
    assert table_counts(store.engine, "calculation_data", "batch_movements") == before


def test_the_same_content_under_another_name_writes_nothing_new(store, good_run):
    copy = Path(shutil.copy(store.statements[0], store.inbox / "the same week again.xlsx"))
    before = table_counts(store.engine, *NORMALISED)
    result = store.materialize(copy)
    copy.unlink()
    assert result.success
    assert materialized(result)["calculation_data"]["outcome"].startswith("unchanged")
    assert table_counts(store.engine, *NORMALISED) == before


# --- lineage -----------------------------------------------------------------------------


def test_lineage_of_a_successful_run_has_every_step_with_counts_and_duration(store, good_run):
    record_run_lineage(store.instance, good_run.run_id, store.engine)
    rows = store.lineage(good_run.run_id)
    assert set(rows) == ASSET_STEPS
    for step, row in rows.items():
        assert row.status == "success", step
        assert row.input_records and row.input_records > 0, step
        assert row.output_records and row.output_records > 0, step
        assert row.execution_time_ms is not None and row.execution_time_ms >= 0, step
        assert row.user_id == "sensor:inbox_sensor"
        assert row.source_file_name == store.statements[0].name
        assert row.partition_key.endswith(content_hash(store.statements[0])[:12])
        assert row.lineage_key == f"{good_run.run_id}:{step}:{row.partition_key}"
        assert row.error_message is None
    assert rows["normalised_tables"].process_name.startswith("source_data")
    assert rows["normalised_tables"].source_file_id is not None
    assert rows["validated_reports"].version


def test_lineage_of_a_blocked_run_names_the_rule_and_row_and_skips_downstream(store, blocked_run):
    record_run_lineage(store.instance, blocked_run.run_id, store.engine)
    rows = store.lineage(blocked_run.run_id)
    assert rows["parsed_reports"].status == "success"
    failed = rows["validated_reports"]
    assert failed.status == "failed"
    assert failed.error_message.startswith("broken statement.xlsx: blocked by validation: negative_quantity")
    assert "row " in failed.error_message and "Traceback" not in failed.error_message
    assert failed.user_id == "analyst"
    skipped = rows["normalised_tables"]
    assert skipped.status == "skipped" and "validated_reports failed" in skipped.error_message
    assert skipped.execution_time_ms is None


def test_lineage_of_an_unreadable_file_carries_the_readers_message(store, corrupt_run):
    assert not corrupt_run.success
    record_run_lineage(store.instance, corrupt_run.run_id, store.engine)
    rows = store.lineage(corrupt_run.run_id)
    assert rows["parsed_reports"].status == "failed"
    assert rows["parsed_reports"].error_message.startswith("cut off.xlsx: the workbook is")
    assert {rows["validated_reports"].status, rows["normalised_tables"].status} == {"skipped"}


def test_recording_again_and_the_lineage_sensor_add_no_duplicates(store, good_run, blocked_run):
    for run in (good_run, blocked_run):
        record_run_lineage(store.instance, run.run_id, store.engine)
    before = table_counts(store.engine, "data_lineage")["data_lineage"]
    record_run_lineage(store.instance, blocked_run.run_id, store.engine)
    sensor = next(s for s in LINEAGE_SENSORS if s.name == "lineage_on_failure")
    run = store.instance.get_run_by_id(blocked_run.run_id)
    event = store.instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)[0].dagster_event
    with dg.build_run_status_sensor_context(sensor_name=sensor.name, dagster_event=event,
                                            dagster_instance=store.instance, dagster_run=run,
                                            resources={"database": store.resources["database"]}) as context:
        sensor(context)
    assert table_counts(store.engine, "data_lineage")["data_lineage"] == before


def test_a_run_that_fails_before_any_step_gets_a_run_level_row(store):
    job = store.defs.resolve_job_def("ingest_file_job")
    key = store.add(store.statements[1])
    run = store.instance.create_run_for_job(job_def=job, tags={"dagster/partition": key})
    store.instance.report_run_failed(run, "the code server could not be reached")
    records = record_run_lineage(store.instance, run.run_id, store.engine)
    run_level = [r for r in records if r.step_key is None]
    assert len(run_level) == 1
    assert run_level[0].status == "failed" and run_level[0].process_name == "ingest_file_job"
    assert "before any step started" in run_level[0].error_message
    assert {r.step_key for r in records if r.status == "skipped"} == ASSET_STEPS


# --- the code location -------------------------------------------------------------------


def test_the_code_location_loads_with_its_assets_checks_and_sensors(store):
    dg.Definitions.validate_loadable(store.defs)
    graph = store.defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert keys == {"parsed_reports", "validated_reports", *NORMALISED, "shrinkage_observations",
                    "coefficients", "forecasts", "surplus_recommendations", "analytics", "reports"}
    assert {check.name for check in graph.asset_check_keys} == set(RULES)
    assert {s.name for s in store.defs.sensors} == {
        "inbox_sensor", "refresh_after_ingest", "lineage_on_success", "lineage_on_failure",
        "lineage_on_canceled"}
    assert {s.name for s in store.defs.schedules} == {"nightly_refresh"}


def test_dagster_validates_the_workspace(tmp_path):
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "All code locations passed validation" in done.stderr + done.stdout


def test_the_database_url_never_shows_its_password(monkeypatch):
    resource = DatabaseResource(url="postgresql://shrinkage:s3cret@db.example:5432/shrinkage")
    assert "s3cret" not in resource.masked_url() and "***" in resource.masked_url()
    monkeypatch.setenv("SHRINKAGE_DATABASE_URL", "sqlite:///elsewhere.db")
    configured = database_from_environment()
    assert isinstance(configured.url, dg.EnvVar) and configured.url.env_var_name == "SHRINKAGE_DATABASE_URL"
    monkeypatch.delenv("SHRINKAGE_DATABASE_URL")
    assert database_from_environment().url is None
