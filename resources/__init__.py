"""Dagster resources: the application database and the inbox folder."""

from resources.database import DatabaseResource, database_from_environment
from resources.inbox import InboxResource, inbox_from_environment

__all__ = ["DatabaseResource", "InboxResource", "database_from_environment", "inbox_from_environment"]
