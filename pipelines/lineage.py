"""data_lineage from Dagster's own records: one row per step (and partition) of a finished run.

Reads the run's event log and step statistics from the instance, so it sees every run —
launched from the UI, by a sensor, a schedule or in-process — including steps that never
started. Counts follow the metadata contract of ``assets.metadata``. Rows are keyed by
``run_id:step_key:partition_key`` and upserted, so recording a run twice changes nothing.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import dagster as dg
from dagster import DagsterEventType
from sqlalchemy.engine import Engine

from assets.metadata import (
    CODE_VERSION_TAG,
    FIRST_FAILURE,
    INPUT_RECORDS,
    PARTITION_TAG,
    ROW_COUNT,
    SOURCE_DATA_ID,
    SOURCE_FILE,
    SOURCE_FILE_TAG,
    launcher_of,
)
from shrinkage import __version__
from shrinkage.db.engine import session_scope
from shrinkage.db.lineage import LineageRecord, write_lineage

log = logging.getLogger(__name__)

FINISHED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}
_QUALIFIED_CLASS = re.compile(r"^(?:[A-Za-z_][\w]*\.)+(?=[A-Za-z_]\w*: )")


@dataclass
class StepFacts:
    """What the event log says about one step."""

    asset_keys: list[str] = field(default_factory=list)
    input_records: int | None = None
    output_records: int | None = None
    source_file: str | None = None
    source_data_id: int | None = None
    code_version: str | None = None
    error: str | None = None
    failed_checks: list[str] = field(default_factory=list)
    skipped: bool = False


def record_run_lineage(instance: dg.DagsterInstance, run_id: str, engine: Engine) -> list[LineageRecord]:
    """Write (idempotently) and return the data_lineage rows of one run."""
    records = lineage_records(instance, run_id)
    with session_scope(engine) as session:
        write_lineage(session, records)
    log.info("run %s: %d lineage rows recorded", run_id, len(records))
    return records


def lineage_records(instance: dg.DagsterInstance, run_id: str) -> list[LineageRecord]:
    run = instance.get_run_by_id(run_id)
    if run is None:
        raise LookupError(f"no run {run_id} in the Dagster instance; check DAGSTER_HOME points at the right instance")
    partition = run.tags.get(PARTITION_TAG)
    user = launcher_of(run)
    stats = {s.step_key: s for s in instance.get_run_step_stats(run_id)}
    facts = _step_facts(instance.all_logs(run_id))
    planned = _planned_steps(instance, run)
    for step_key, asset_keys in planned.items():
        if not facts[step_key].asset_keys:  # nothing materialised: name the step by what it was to produce
            facts[step_key].asset_keys = list(asset_keys)

    failed_steps = [key for key, s in stats.items() if _step_status(s) == "FAILURE"]
    records = []
    for step_key in _ordered(planned, facts, stats):
        fact = facts.get(step_key, StepFacts())
        step = stats.get(step_key)
        status, error = _status(run, step, fact, failed_steps)
        started = step.start_time if step is not None and step.start_time else run_start(instance, run)
        records.append(LineageRecord(
            lineage_key=f"{run_id}:{step_key}:{partition or ''}",
            process_name=", ".join(fact.asset_keys) or step_key,
            status=status,
            process_timestamp=datetime.fromtimestamp(started) if started else None,
            run_id=run_id, step_key=step_key, partition_key=partition, user_id=user,
            input_records=fact.input_records, output_records=fact.output_records,
            error_message=error,
            execution_time_ms=_duration_ms(step),
            version=fact.code_version or __version__,
            source_file_id=fact.source_data_id,
            source_file_name=fact.source_file or run.tags.get(SOURCE_FILE_TAG),
        ))
    if run.status in {dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED} and not stats:
        records.append(_run_level_record(instance, run, partition, user))
    return records


def run_start(instance: dg.DagsterInstance, run: dg.DagsterRun) -> float | None:
    record = instance.get_run_record_by_id(run.run_id)
    return record.start_time or record.create_timestamp.timestamp() if record is not None else None


def _step_facts(entries) -> dict[str, StepFacts]:
    facts: dict[str, StepFacts] = defaultdict(StepFacts)
    for entry in entries:
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        fact = facts[event.step_key]
        if event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
            _add_materialization(fact, event.step_materialization_data.materialization)
        elif event.event_type == DagsterEventType.STEP_FAILURE:
            fact.error = root_cause(event.step_failure_data)
        elif event.event_type == DagsterEventType.STEP_SKIPPED:
            fact.skipped = True
        elif event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            if not evaluation.passed and evaluation.blocking and evaluation.severity == dg.AssetCheckSeverity.ERROR:
                example = evaluation.metadata.get(FIRST_FAILURE)
                text = f"{evaluation.check_name} — {evaluation.description or 'failed'}"
                fact.failed_checks.append(f"{text} E.g. {example.value}" if example is not None else text)
    return facts


def _add_materialization(fact: StepFacts, materialization: dg.AssetMaterialization) -> None:
    key = materialization.asset_key.to_user_string()
    if key not in fact.asset_keys:
        fact.asset_keys.append(key)
    meta = {name: getattr(value, "value", value) for name, value in materialization.metadata.items()}
    if isinstance(meta.get(INPUT_RECORDS), int):
        fact.input_records = max(fact.input_records or 0, meta[INPUT_RECORDS])
    if isinstance(meta.get(ROW_COUNT), int):
        fact.output_records = (fact.output_records or 0) + meta[ROW_COUNT]
    if meta.get(SOURCE_FILE):
        fact.source_file = str(meta[SOURCE_FILE])
    if isinstance(meta.get(SOURCE_DATA_ID), int):
        fact.source_data_id = meta[SOURCE_DATA_ID]
    fact.code_version = materialization.tags.get(CODE_VERSION_TAG, fact.code_version) if materialization.tags \
        else fact.code_version


def root_cause(failure) -> str:
    """The message a user can act on: a raised dg.Failure's description, else the innermost error."""
    if failure is None:
        return "the step failed without an error record"
    user = failure.user_failure_data
    if user is not None and user.description:
        return user.description
    error = failure.error
    if error is None:
        return "the step failed without an error record"
    while error.cause is not None:
        error = error.cause
    return _QUALIFIED_CLASS.sub("", error.message.strip())


def _status(run: dg.DagsterRun, step, fact: StepFacts, failed_steps: list[str]) -> tuple[str, str | None]:
    if _step_status(step) == "SUCCESS":
        return "success", None
    if _step_status(step) == "FAILURE":
        if fact.failed_checks:  # the checks say why; Dagster's own message only names them
            where = f"{fact.source_file}: " if fact.source_file else ""
            return "failed", f"{where}blocked by validation: " + "; ".join(fact.failed_checks)
        return "failed", fact.error or "the step failed"
    if step is not None and _step_status(step) in {None, "IN_PROGRESS"} and run.status not in FINISHED:
        return "running", None
    if failed_steps:
        return "skipped", f"not executed: upstream step {', '.join(failed_steps)} failed"
    if run.status == dg.DagsterRunStatus.CANCELED:
        return "skipped", "not executed: the run was canceled"
    if run.status == dg.DagsterRunStatus.FAILURE:
        return "skipped", "not executed: the run failed before this step started"
    return "skipped", "not executed"


def _step_status(step) -> str | None:
    """The step's status name from its stats (StepEventStatus is not part of Dagster's public API)."""
    status = getattr(step, "status", None)
    return getattr(status, "value", None)


def _duration_ms(step) -> int | None:
    if step is None or not step.start_time or not step.end_time:
        return None
    return max(int(round((step.end_time - step.start_time) * 1000)), 0)


def _planned_steps(instance: dg.DagsterInstance, run: dg.DagsterRun) -> dict[str, list[str]]:
    """step key -> asset keys, for the steps the run meant to execute."""
    if not run.execution_plan_snapshot_id:
        return {}
    snapshot = instance.get_execution_plan_snapshot(run.execution_plan_snapshot_id)
    wanted = set(snapshot.step_keys_to_execute or [s.key for s in snapshot.steps])
    planned = {}
    for step in snapshot.steps:
        if step.key not in wanted:
            continue
        planned[step.key] = [
            out.properties.asset_key.to_user_string() for out in step.outputs
            if out.properties is not None and out.properties.asset_key is not None
            and out.properties.asset_check_key is None
        ]
    return planned


def _ordered(planned: dict, facts: dict, stats: dict) -> list[str]:
    keys = list(planned)
    for key in [*stats, *facts]:
        if key not in keys:
            keys.append(key)
    return keys


def _run_level_record(instance: dg.DagsterInstance, run: dg.DagsterRun, partition: str | None,
                      user: str) -> LineageRecord:
    """A run that ended before any step started: the reason is on the run, not on a step."""
    message = "the run was canceled before any step started" if run.status == dg.DagsterRunStatus.CANCELED \
        else "the run failed before any step started"
    for entry in instance.all_logs(run.run_id, of_type={DagsterEventType.RUN_FAILURE, DagsterEventType.RUN_CANCELED}):
        data = entry.dagster_event.event_specific_data if entry.dagster_event else None
        error = getattr(data, "error", None)
        detail = _QUALIFIED_CLASS.sub("", error.message.strip()) if error is not None else entry.message
        if detail:
            message = f"{message}: {detail}"
        break
    started = run_start(instance, run)
    return LineageRecord(
        lineage_key=f"{run.run_id}::{partition or ''}", process_name=run.job_name, status="failed",
        process_timestamp=datetime.fromtimestamp(started) if started else None,
        run_id=run.run_id, step_key=None, partition_key=partition, user_id=user, error_message=message,
        version=__version__, source_file_name=run.tags.get(SOURCE_FILE_TAG),
    )
