"""Run-wide settings the assets need besides the database and the inbox: where reports go."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
from pydantic import Field

from shrinkage.config import get_settings

REPORTS_ENV = "SHRINKAGE_REPORTS"


class SettingsResource(dg.ConfigurableResource):
    """Where reports are written (``SHRINKAGE_REPORTS``, default reports/ in the project home)."""

    reports_dir: str | None = Field(default=None,
                                    description="Reports folder; empty: SHRINKAGE_REPORTS or <home>/reports.")

    def reports_folder(self) -> Path:
        folder = Path(self.reports_dir) if self.reports_dir else get_settings().reports_dir
        folder.mkdir(parents=True, exist_ok=True)
        return folder


def settings_from_environment() -> SettingsResource:
    if os.environ.get(REPORTS_ENV):
        return SettingsResource(reports_dir=dg.EnvVar(REPORTS_ENV))
    return SettingsResource()
