"""The Dagster code location (loaded by workspace.yaml)."""

from collections.abc import Mapping

import dagster as dg

from assets import INGESTION_ASSETS
from pipelines.jobs import ingest_file_job
from pipelines.sensors import LINEAGE_SENSORS, inbox_sensor
from resources import database_from_environment, inbox_from_environment

# Whole-store assets (coefficients, forecasts, surplus, analytics, reports) join here, with
# their job and the nightly schedule, once the modelling core lands.
STORE_ASSETS: list = []
STORE_JOBS: list = []
SCHEDULES: list = []
# The job the main job and the nightly schedule run after the per-file runs (None until it exists).
STORE_JOB_NAME: str | None = None


def build_definitions(resources: Mapping[str, object] | None = None) -> dg.Definitions:
    """The code location; ``resources`` replaces the environment-configured ones (tests, the CLI)."""
    return dg.Definitions(
        assets=[*INGESTION_ASSETS, *STORE_ASSETS],
        jobs=[ingest_file_job, *STORE_JOBS],
        sensors=[inbox_sensor, *LINEAGE_SENSORS],
        schedules=SCHEDULES,
        resources=dict(resources) if resources is not None else {
            "database": database_from_environment(),
            "inbox": inbox_from_environment(),
        },
    )


defs = build_definitions()
