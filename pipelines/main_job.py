"""The main job in-process: every report in the inbox through its per-file run, then the store.

This is what `shrinkage run` (and `shrinkage demo`) do on a machine with no Dagster services:
the same definitions, jobs and lineage as the UI, sensor and schedule use, executed in this
process against the instance under ``DAGSTER_HOME`` (a project-local folder by default).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from assets.metadata import LAUNCHED_BY_TAG, REPORT_PATHS, SUMMARY, USER_TAG
from pipelines.definitions import STORE_JOB_NAME, build_definitions
from pipelines.inbox import inbox_files, not_a_report
from pipelines.lineage import record_run_lineage, root_cause
from resources import DatabaseResource, InboxResource, SettingsResource
from resources.inbox import partition_key_for, source_files
from shrinkage.app.ingest import content_hash, prior_outcome
from shrinkage.config import get_settings

log = logging.getLogger(__name__)
# In-process runs log to Dagster's console logger; the CLI shows a progress bar instead.
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
# Written into a new DAGSTER_HOME: local storage, no telemetry banner.
INSTANCE_YAML = "telemetry:\n  enabled: false\n"


@dataclass
class FileRun:
    path: Path
    partition_key: str | None
    status: str  # ingested | unchanged | failed | skipped
    message: str = ""
    run_id: str | None = None


@dataclass
class MainJobSummary:
    files: list[FileRun] = field(default_factory=list)
    store_run_id: str | None = None
    store_ok: bool = True
    store_error: str = ""
    figures: dict[str, int] = field(default_factory=dict)
    report_paths: list[str] = field(default_factory=list)

    @property
    def failed_files(self) -> list[FileRun]:
        return [f for f in self.files if f.status == "failed"]

    @property
    def ok(self) -> bool:
        return self.store_ok and not self.failed_files


def dagster_instance() -> dg.DagsterInstance:
    """The persistent instance; DAGSTER_HOME defaults to ``.dagster_home`` in the project home."""
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        home = str(get_settings().dagster_home)
        os.environ["DAGSTER_HOME"] = home
    Path(home).mkdir(parents=True, exist_ok=True)
    config = Path(home) / "dagster.yaml"
    if not config.exists():
        config.write_text(INSTANCE_YAML)
    return dg.DagsterInstance.get()


def _first_error(result: dg.ExecuteInProcessResult) -> str:
    for event in result.all_events:
        if event.is_step_failure:
            return root_cause(event.step_failure_data)
    return "the run failed"


def run_main_job(inbox: Path, database: DatabaseResource, *, user: str,
                 on_file: Callable[[FileRun], None] | None = None,
                 instance: dg.DagsterInstance | None = None) -> MainJobSummary:
    instance = instance or dagster_instance()
    inbox_resource = InboxResource(path=str(inbox))
    defs = build_definitions(resources={"database": database, "inbox": inbox_resource,
                                        "settings": SettingsResource()})
    engine = database.engine()
    tags = {USER_TAG: user, LAUNCHED_BY_TAG: "shrinkage run"}
    summary = MainJobSummary()

    ingest_job = defs.resolve_job_def("ingest_file_job")
    for path in inbox_files(inbox):
        reason = not_a_report(path)
        if reason:
            summary.files.append(FileRun(path, None, "skipped", reason))
            continue
        digest = content_hash(path)
        key = partition_key_for(path, digest)
        known = prior_outcome(engine, path, digest)
        if known is not None:  # no run for content already loaded
            file_run = FileRun(path, key, "unchanged", known.message)
        else:
            if not instance.has_dynamic_partition(source_files.name, key):
                instance.add_dynamic_partitions(source_files.name, [key])
            result = ingest_job.execute_in_process(partition_key=key, instance=instance, run_config=QUIET,
                                                   raise_on_error=False, tags=tags)
            record_run_lineage(instance, result.run_id, engine)
            file_run = (FileRun(path, key, "ingested", run_id=result.run_id) if result.success
                        else FileRun(path, key, "failed", _first_error(result), result.run_id))
        summary.files.append(file_run)
        if on_file:
            on_file(file_run)

    store_job = defs.resolve_job_def(STORE_JOB_NAME)
    if store_job is not None:
        result = store_job.execute_in_process(instance=instance, run_config=QUIET, raise_on_error=False,
                                             tags=tags)
        record_run_lineage(instance, result.run_id, engine)
        summary.store_run_id = result.run_id
        summary.store_ok = result.success
        if not result.success:
            summary.store_error = _first_error(result)
        for event in result.get_asset_materialization_events():
            materialization = event.step_materialization_data.materialization
            for name, value in materialization.metadata.items():
                if name.startswith(SUMMARY):
                    summary.figures[name.removeprefix(SUMMARY)] = int(value.value)
                if name == REPORT_PATHS:
                    summary.report_paths.extend(str(value.value).split("\n"))
    return summary
