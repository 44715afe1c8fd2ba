"""Dagster resources: the application database, the inbox folder, run-wide settings."""

from resources.database import DatabaseResource, database_from_environment
from resources.inbox import InboxResource, inbox_from_environment
from resources.settings import SettingsResource, settings_from_environment

__all__ = ["DatabaseResource", "InboxResource", "SettingsResource", "database_from_environment",
           "inbox_from_environment", "settings_from_environment"]
