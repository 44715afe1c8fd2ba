"""The Dagster code location (loaded by workspace.yaml)."""

from collections.abc import Mapping

import dagster as dg

from assets import INGESTION_ASSETS
from assets.store import STORE_ASSETS
from pipelines.jobs import ingest_file_job
from pipelines.schedules import STORE_JOB_NAME, nightly_refresh, refresh_after_ingest, refresh_store_job
from pipelines.sensors import LINEAGE_SENSORS, inbox_sensor
from resources import database_from_environment, inbox_from_environment, settings_from_environment

__all__ = ["STORE_JOB_NAME", "build_definitions", "defs"]


def build_definitions(resources: Mapping[str, object] | None = None) -> dg.Definitions:
    """The code location; ``resources`` replace the environment-configured ones key by key (tests, the CLI)."""
    configured = {
        "database": database_from_environment(),
        "inbox": inbox_from_environment(),
        "settings": settings_from_environment(),
    }
    return dg.Definitions(
        assets=[*INGESTION_ASSETS, *STORE_ASSETS],
        jobs=[ingest_file_job, refresh_store_job],
        sensors=[inbox_sensor, refresh_after_ingest, *LINEAGE_SENSORS],
        schedules=[nightly_refresh],
        resources={**configured, **(resources or {})},
    )


defs = build_definitions()
