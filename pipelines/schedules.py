"""The whole-store refresh: its job, the nightly schedule, and the refresh after each new file."""

import dagster as dg

from assets.metadata import TRIGGER_TAG
from assets.store import STORE_ASSETS
from pipelines.jobs import ingest_file_job
from shrinkage.config import get_settings

STORE_JOB_NAME = "refresh_store_job"

refresh_store_job = dg.define_asset_job(
    STORE_JOB_NAME,
    selection=dg.AssetSelection.assets(*STORE_ASSETS),
    description="Observations, coefficients and registry, forecasts, surplus, analytics and reports "
                "from everything stored so far.",
)

nightly_refresh = dg.ScheduleDefinition(
    name="nightly_refresh",
    job=refresh_store_job,
    cron_schedule="0 2 * * *",
    execution_timezone=get_settings().timezone,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every night at 02:00 (SHRINKAGE_TIMEZONE): refit, forecast and rewrite the reports.",
)


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[ingest_file_job],
    request_job=refresh_store_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,
    description="After a new file is ingested, refresh the coefficients, forecasts and reports.",
)
def refresh_after_ingest(context: dg.RunStatusSensorContext):
    # One refresh per ingested run; files arriving together queue behind each other.
    return dg.RunRequest(run_key=f"after:{context.dagster_run.run_id}",
                         tags={TRIGGER_TAG: context.dagster_run.run_id})
