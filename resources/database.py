"""The application database as a Dagster resource: one engine per URL and process, migrated once."""

from __future__ import annotations

import logging
import os
import threading

import dagster as dg
from pydantic import Field
from sqlalchemy.engine import Engine

from shrinkage.config import get_settings, mask_url
from shrinkage.db.engine import make_engine
from shrinkage.db.migrate import upgrade

log = logging.getLogger(__name__)

DATABASE_URL_ENV = "SHRINKAGE_DATABASE_URL"

# Engines outlive a single step or sensor tick: a code server evaluates sensors every 30 s
# and must neither reconnect nor re-run the migrations each time.
_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


class DatabaseResource(dg.ConfigurableResource):
    """Where the application tables live (not Dagster's own storage).

    ``url`` comes from ``SHRINKAGE_DATABASE_URL``; left empty, the settings module decides
    (the plan's ``DB_*`` variables, else the embedded SQLite file).
    """

    url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the application database; empty: DB_* variables or the SQLite default.",
    )
    migrate: bool = Field(default=True, description="Upgrade the schema to head on first use.")

    def engine(self) -> Engine:
        """A working engine for this URL, migrated to head on its first use in this process."""
        url = self.url or get_settings().url().render_as_string(hide_password=False)
        with _engines_lock:  # the key holds the password: it is never logged
            engine = _engines.get(url)
            if engine is None:
                engine = make_engine(url)
                if self.migrate:
                    upgrade(engine)
                log.info("application database: %s", mask_url(engine.url))
                _engines[url] = engine
        return engine

    def masked_url(self) -> str:
        """The URL for logs and metadata: the password replaced by ***."""
        return mask_url(self.url or get_settings().url())


def database_from_environment() -> DatabaseResource:
    """The resource as the code location configures it: the URL read from the env at run time.

    ``dg.EnvVar`` keeps the value out of the UI, but fails when the variable is unset; then
    the settings fallback applies instead.
    """
    if os.environ.get(DATABASE_URL_ENV):
        return DatabaseResource(url=dg.EnvVar(DATABASE_URL_ENV))
    return DatabaseResource()


def dispose_engines() -> None:
    """Close every cached engine (tests that delete their database files call this)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
