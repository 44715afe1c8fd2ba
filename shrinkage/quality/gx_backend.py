"""A thin wrapper over Great Expectations Core (1.x): one ephemeral context, suites built once.

``dagster-ge`` does not support GX 1.x, so the pipeline talks to GX directly. Building a
context and suites costs far more than validating a frame, so both are cached for the
process; a lock serialises use because a GX context is not thread-safe.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from shrinkage.config import Config
from shrinkage.quality.frames import FRAME_NAMES
from shrinkage.quality.rules import EXPECTATIONS

logger = logging.getLogger(__name__)

# Before GX is imported: no usage statistics leave the machine.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import great_expectations as gx  # noqa: E402  (the environment must be set first)
from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: E402

# COMPLETE gives every failing row's index, so each failure maps back to a worksheet row;
# the pandas query string GX would also build costs a full-frame filter and is not needed.
RESULT_FORMAT = {
    "result_format": "COMPLETE", "include_unexpected_rows": False, "return_unexpected_index_query": False,
}
# A first pass only asks pass or fail: COMPLETE costs a third of validation even when every
# expectation passes (it collects the failing rows of each one). Only the expectations that
# failed run again with RESULT_FORMAT, on the same batch.
VERDICT_FORMAT = {"result_format": "BOOLEAN_ONLY"}

_lock = threading.RLock()


@dataclass(frozen=True)
class ExpectationOutcome:
    rule: str
    # The check frame, or for structural expectations the table they are about.
    frame: str
    expectation_type: str
    success: bool
    # Positions (the frames carry a RangeIndex) of the failing rows.
    unexpected_positions: tuple[int, ...]
    # Table-level observations (e.g. missing columns) and GX errors, as text.
    observed: str = ""


class _GxRuntime:
    """The ephemeral context with one pandas dataframe asset per check frame."""

    def __init__(self) -> None:
        logging.getLogger("great_expectations").setLevel(logging.WARNING)
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        source = self.context.data_sources.add_pandas(name="shrinkage_reports")
        self.batch_definitions = {
            frame: source.add_dataframe_asset(name=frame).add_batch_definition_whole_dataframe(f"{frame}_whole")
            for frame in FRAME_NAMES
        }


@lru_cache(maxsize=1)
def _runtime() -> _GxRuntime:
    logger.debug("building the Great Expectations context")
    return _GxRuntime()


@dataclass(frozen=True)
class _Suite:
    suite: gx.ExpectationSuite
    # The frame columns the expectations read: GX copies and filters whole frames, so it
    # gets only these (10-20x less copying on wide frames).
    columns: tuple[str, ...]


@lru_cache(maxsize=128)  # main suites plus the detail suites of the failure sets seen
def _suite(frame: str, rules: tuple[str, ...], config: Config, only: frozenset[int] | None = None) -> _Suite:
    """The frame's expectations for the given rules, built once per (frame, rules, config).

    ``only`` narrows the suite to those positions of EXPECTATIONS (the detail pass).
    """
    expectations = []
    columns: list[str] = []
    for position, spec in enumerate(EXPECTATIONS):
        if spec.frame == frame and spec.rule in rules and (only is None or position in only):
            expectation = spec.build(config)
            expectation.meta = {**(expectation.meta or {}), "rule": spec.rule, _POSITION: position}
            expectations.append(expectation)
            for column in [getattr(expectation, "column", None), *(getattr(expectation, "column_list", None) or [])]:
                if column and column not in columns:
                    columns.append(column)
    name = f"shrinkage_{frame}" if only is None else f"shrinkage_{frame}_detail"
    suite = gx.ExpectationSuite(name=name, expectations=expectations)
    return _Suite(suite=suite, columns=tuple(columns))


_POSITION = "expectation_position"  # meta key: the expectation's position in EXPECTATIONS


def run_suite(frame: str, data: pd.DataFrame, rules: tuple[str, ...], config: Config) -> list[ExpectationOutcome]:
    """Validate one check frame against the expectations of ``rules``."""
    if not rules:
        return []
    with _lock:
        runtime = _runtime()
        cached = _suite(frame, rules, config)
        if frame != "structure":
            # A fresh, consolidated frame (one block per dtype) of just the columns read.
            data = data[[column for column in cached.columns if column in data.columns]].copy()
        batch = runtime.batch_definitions[frame].get_batch(batch_parameters={"dataframe": data})
        results = batch.validate(cached.suite, result_format=VERDICT_FORMAT).results
        failed = frozenset(_position(r) for r in results if not r.success or _raised(r.exception_info or {}))
        if failed:
            detail = batch.validate(_suite(frame, rules, config, failed).suite, result_format=RESULT_FORMAT)
            detailed = {_position(r): r for r in detail.results}
            results = [detailed.get(_position(r), r) for r in results]
    return [_outcome(frame, result) for result in results]


def _position(result) -> int:
    return result.expectation_config.meta[_POSITION]


def _raised(info: dict) -> bool:
    return bool(info.get("raised_exception")) or any(
        isinstance(value, dict) and value.get("raised_exception") for value in info.values()
    )


def _outcome(frame: str, result) -> ExpectationOutcome:
    config = result.expectation_config
    meta = config.meta or {}
    rule = meta.get("rule", config.type)
    table = meta.get("table", frame)
    details = result.result or {}
    positions = tuple(int(position) for position in np.asarray(details.get("unexpected_index_list") or [], dtype=int))
    observed = ""
    info = result.exception_info or {}
    raised = _raised(info)
    if raised:
        messages = [info.get("exception_message")] + [
            value.get("exception_message") for value in info.values() if isinstance(value, dict)
        ]
        observed = "; ".join(message for message in messages if message)
        logger.warning("expectation %s on %s raised: %s", config.type, frame, observed)
    elif "details" in details and isinstance(details["details"], dict):
        missing = details["details"].get("mismatched", {}).get("missing")
        if missing:
            observed = "missing columns: " + ", ".join(sorted(missing))
    elif "observed_value" in details and not positions:
        observed = f"observed {details['observed_value']}"
    return ExpectationOutcome(
        rule=rule, frame=table, expectation_type=config.type, success=bool(result.success) and not raised,
        unexpected_positions=positions, observed=observed,
    )


def warm_up(config: Config) -> None:
    """Build the context and every suite now (e.g. at process start), not on the first report."""
    _runtime()
    for frame in FRAME_NAMES:
        _suite(frame, tuple(sorted({spec.rule for spec in EXPECTATIONS if spec.frame == frame})), config)
