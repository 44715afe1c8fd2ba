"""The inbox folder users drop 1C exports into, as a Dagster resource."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
from pydantic import Field

from pipelines.partitions import find_source_file
from shrinkage.config import CONFIG, get_settings
from shrinkage.db.load import SourceFile

INBOX_ENV = "SHRINKAGE_INBOX"
_INTAKE = CONFIG.intake


class InboxResource(dg.ConfigurableResource):
    """Where new report files arrive, and how eagerly the sensor picks them up."""

    path: str | None = Field(default=None, description="Inbox folder; empty: SHRINKAGE_INBOX or ./inbox.")
    min_age_seconds: float = Field(
        default=_INTAKE.min_age_seconds,
        description="A file last modified this long ago counts as complete without waiting for a second poll.",
    )
    max_files_per_poll: int = Field(
        default=_INTAKE.max_files_per_poll, ge=1,
        description="Files hashed and identified per sensor tick at most; the rest wait for the next tick.",
    )

    def folder(self) -> Path:
        return Path(self.path) if self.path else get_settings().inbox_dir

    def locate(self, partition_key: str) -> SourceFile:
        """The file of a source_files partition; raises SourceFileMissing naming the key and the folder."""
        return find_source_file(self.folder(), partition_key)


def inbox_from_environment() -> InboxResource:
    """The resource as the code location configures it (``SHRINKAGE_INBOX`` when set)."""
    if os.environ.get(INBOX_ENV):
        return InboxResource(path=dg.EnvVar(INBOX_ENV))
    return InboxResource()
