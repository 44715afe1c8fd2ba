"""Jobs of the code location."""

import dagster as dg

from assets import INGESTION_ASSETS
from resources.inbox import source_files

ingest_file_job = dg.define_asset_job(
    "ingest_file_job",
    selection=dg.AssetSelection.assets(*INGESTION_ASSETS),
    partitions_def=source_files,
    description="One source file: parse, validate (asset checks), write the normalised tables.",
)
