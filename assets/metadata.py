"""The metadata contract between assets and the lineage recorder, and small presentation helpers.

Every asset step reports how many records it consumed (``INPUT_RECORDS``) and produced
(``ROW_COUNT``, Dagster's own key); per-file steps also name their file. The lineage
recorder (``pipelines.lineage``) reads exactly these keys from the run's events.
"""

from __future__ import annotations

import pandas as pd

from shrinkage import __version__

INPUT_RECORDS = "shrinkage/input_records"
ROW_COUNT = "dagster/row_count"
SOURCE_FILE = "shrinkage/source_file"
SOURCE_DATA_ID = "shrinkage/source_data_id"
# On a failed asset check: the first failing row, in words (file row, product, what to do).
FIRST_FAILURE = "shrinkage/first_failure"

# One code version for the whole core: a release changes what the assets compute.
CODE_VERSION = __version__

PREVIEW_ROWS = 10


def markdown_preview(frame: pd.DataFrame, columns: list[str] | None = None, rows: int = PREVIEW_ROWS) -> str:
    """The first rows of a frame as a markdown table (shown in the asset's metadata panel)."""
    if frame.empty:
        return "_no rows_"
    shown = frame[columns] if columns else frame
    text = shown.head(rows).to_markdown(index=False, floatfmt=".3f")
    if len(frame) > rows:
        text += f"\n\n_{rows} of {len(frame)} rows_"
    return text
