"""Whole-store assets, the nightly schedule and the refresh after ingestion, on real Dagster."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from pipelines.definitions import build_definitions
from pipelines.lineage import record_run_lineage
from pipelines.schedules import STORE_JOB_NAME, nightly_refresh, refresh_after_ingest
from resources.database import dispose_engines
from shrinkage.app.ingest import ingest_paths
from shrinkage.config import get_settings
from shrinkage.db import migrate
from shrinkage.db.engine import make_engine
from tests.dagster_helpers import demo_statements, resources_for

QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A database holding six weeks of a small store, and the definitions over it."""
    root = tmp_path_factory.mktemp("store")
    inbox = root / "inbox"
    statements = demo_statements(inbox, weeks=6, products=6, seed=3)
    url = f"sqlite:///{root / 'app.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    assert all(o.ok for o in ingest_paths(engine, statements))
    resources = resources_for(url, inbox)
    yield root, engine, build_definitions(resources=resources)
    engine.dispose()
    dispose_engines()


def test_nightly_schedule_refreshes_everything(store):
    root, engine, defs = store
    assert nightly_refresh.cron_schedule == "0 2 * * *"
    assert nightly_refresh.execution_timezone == get_settings().timezone
    assert nightly_refresh.default_status == dg.DefaultScheduleStatus.RUNNING

    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(instance=instance)
        requests = nightly_refresh.evaluate_tick(context).run_requests
        assert len(requests) == 1
        job = defs.resolve_job_def(STORE_JOB_NAME)
        result = job.execute_in_process(instance=instance, run_config=QUIET, tags=requests[0].tags)
        assert result.success

        materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
        assert {"shrinkage_observations", "coefficients", "forecasts", "surplus_recommendations",
                "analytics", "reports"} <= materialized
        coefficient_meta = result.asset_materializations_for_node("coefficients")[0].metadata
        assert "data:image/png;base64," in coefficient_meta["fitted curves"].value
        assert coefficient_meta["dagster/row_count"].value > 0
        assert "|" in coefficient_meta["coefficients"].value  # a markdown table
        forecast_meta = result.asset_materializations_for_node("forecasts")[0].metadata
        assert "data:image/png;base64," in forecast_meta["fitted curves"].value

        written = [Path(p) for p in result.asset_materializations_for_node("reports")[0]
                   .metadata["shrinkage/report_paths"].value.split("\n")]
        assert {p.suffix for p in written} == {".xlsx", ".csv", ".pdf"}
        assert all(p.exists() and p.stat().st_size > 0 for p in written)
        assert all(p.parent == root / "reports" for p in written)

        records = record_run_lineage(instance, result.run_id, engine)
        steps = {r.process_name for r in records}
        assert {"coefficients", "forecasts", "reports"} <= steps
        assert all(r.status == "success" and r.execution_time_ms is not None for r in records)

    with engine.connect() as conn:
        def count(t):
            return conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
        assert count("coefficients") > 0 and count("forecasts") > 0 and count("analytics") > 0
        assert conn.execute(sa.text("SELECT count(*) FROM ml_model_registry WHERE is_active")).scalar_one() >= 1


def test_refresh_follows_each_ingested_file():
    assert refresh_after_ingest.default_status == dg.DefaultSensorStatus.RUNNING
    with dg.instance_for_test() as instance:
        context = dg.build_run_status_sensor_context(
            sensor_name=refresh_after_ingest.name, dagster_instance=instance,
            dagster_run=dg.DagsterRun(job_name="ingest_file_job", run_id="abc"),
            dagster_event=dg.DagsterEvent(event_type_value="PIPELINE_SUCCESS", job_name="ingest_file_job"),
        )
        request = refresh_after_ingest(context)
        assert request.run_key == "after:abc"
