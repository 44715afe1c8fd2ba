"""The metadata and tag keys every part of the Dagster layer shares, and small presentation helpers.

Every asset step reports how many records it consumed (``INPUT_RECORDS``) and produced
(``ROW_COUNT``, Dagster's own key); per-file steps also name their file. The lineage
recorder (``pipelines.lineage``) reads exactly these keys from the run's events, and the
main job the summary figures. One place, so a writer and its readers cannot drift apart.
"""

from __future__ import annotations

import dagster as dg
import pandas as pd

from shrinkage import __version__

# --- asset metadata ----------------------------------------------------------------------
INPUT_RECORDS = "shrinkage/input_records"
ROW_COUNT = "dagster/row_count"
SOURCE_FILE = "shrinkage/source_file"
SOURCE_DATA_ID = "shrinkage/source_data_id"
# What happened to a file (loaded / replaced / unchanged / rejected), in words.
OUTCOME = "outcome"
# On a failed asset check: the first failing row, in words (file row, product, what to do).
FIRST_FAILURE = "shrinkage/first_failure"
# Figures the main job prints after a run (prefix + name), and the report files written.
SUMMARY = "shrinkage/summary/"
REPORT_PATHS = "shrinkage/report_paths"

# --- run tags ----------------------------------------------------------------------------
PARTITION_TAG = "dagster/partition"
CODE_VERSION_TAG = "dagster/code_version"
SOURCE_FILE_TAG = "shrinkage/source_file"
USER_TAG = "shrinkage/user"
LAUNCHED_BY_TAG = "shrinkage/launched_by"
TRIGGER_TAG = "shrinkage/trigger"
# Who launched a run, in order of preference; the CLI sets shrinkage/user.
USER_TAGS = (USER_TAG, "dagster/user", "user")
LAUNCHER_TAGS = (("dagster/sensor_name", "sensor"), ("dagster/schedule_name", "schedule"),
                 ("dagster/backfill", "backfill"))

# One code version for the whole core: a release changes what the assets compute.
CODE_VERSION = __version__

PREVIEW_ROWS = 10


def launcher_of(run: dg.DagsterRun) -> str:
    """Who or what started the run: a user tag, else the sensor / schedule / backfill, else 'manual'."""
    for tag in USER_TAGS:
        if run.tags.get(tag):
            return run.tags[tag]
    for tag, kind in LAUNCHER_TAGS:
        if run.tags.get(tag):
            return f"{kind}:{run.tags[tag]}"
    return "manual"


def markdown_preview(frame: pd.DataFrame, columns: list[str] | None = None, rows: int = PREVIEW_ROWS) -> str:
    """The first rows of a frame as a markdown table (shown in the asset's metadata panel)."""
    if frame.empty:
        return "_no rows_"
    shown = frame[columns] if columns else frame
    text = shown.head(rows).to_markdown(index=False, floatfmt=".3f")
    if len(frame) > rows:
        text += f"\n\n_{rows} of {len(frame)} rows_"
    return text
