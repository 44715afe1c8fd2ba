"""Sensors: new files in the inbox start per-file runs; every finished run records its lineage."""

import time

import dagster as dg

from assets.metadata import SOURCE_FILE_TAG
from pipelines.inbox import poll_inbox, read_cursor
from pipelines.jobs import ingest_file_job
from pipelines.lineage import record_run_lineage
from resources import DatabaseResource, InboxResource
from resources.inbox import hash_prefix_of, source_files
from shrinkage.config import CONFIG


@dg.sensor(
    name="inbox_sensor",
    job=ingest_file_job,
    minimum_interval_seconds=CONFIG.intake.poll_interval_seconds,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Picks up complete new .xls/.xlsx/.csv reports from the inbox: one source_files partition "
                "and one run per file content (run_key = sha256), so a renamed copy is not processed twice.",
)
def inbox_sensor(context: dg.SensorEvaluationContext, inbox: InboxResource):
    folder = inbox.folder()
    if not folder.is_dir():
        return dg.SkipReason(f"the inbox folder {folder.resolve()} does not exist: create it or set SHRINKAGE_INBOX")
    known = set()
    for key in context.instance.get_dynamic_partitions(source_files.name):
        try:
            known.add(hash_prefix_of(key))
        except ValueError:
            continue  # a partition added by hand with another naming: it cannot match a hash
    poll = poll_inbox(folder, read_cursor(context.cursor), known, now=time.time(),
                      min_age_seconds=inbox.min_age_seconds, max_files=inbox.max_files_per_poll)
    for reason in poll.skipped:
        context.log.warning(f"skipped {reason}")
    for note in poll.known:
        context.log.info(note)
    requests = [
        dg.RunRequest(run_key=new.digest, partition_key=new.partition_key,
                      tags={SOURCE_FILE_TAG: new.path.name})
        for new in poll.new_files
    ]
    if requests:
        context.log.info(poll.summary())
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=[source_files.build_add_request([new.partition_key for new in poll.new_files])]
        if requests else None,
        cursor=poll.cursor(),
        skip_reason=None if requests else f"no new complete report: {poll.summary()}",
    )


def lineage_sensor(status: dg.DagsterRunStatus) -> dg.RunStatusSensorDefinition:
    """A run-status sensor writing data_lineage for every run of this code location ending in ``status``."""

    @dg.run_status_sensor(
        run_status=status,
        name=f"lineage_on_{status.value.lower()}",
        minimum_interval_seconds=CONFIG.intake.poll_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Records data_lineage (one row per step and partition) for runs ending in {status.value}.",
    )
    def record_lineage(context: dg.RunStatusSensorContext, database: DatabaseResource):
        run = context.dagster_run
        records = record_run_lineage(context.instance, run.run_id, database.engine())
        failed = sum(r.status == "failed" for r in records)
        context.log.info(f"run {run.run_id} ({run.job_name}): {len(records)} lineage rows, {failed} failed")

    return record_lineage


LINEAGE_SENSORS = [lineage_sensor(status) for status in (
    dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)]
