"""A small time-to-live cache for reference data read on every report and listing.

Product names and types, the active registry versions and the product-type keyword table
change rarely but are read on every report, review listing and chart. Entries live per
database (keyed by the engine's URL, password hidden) and per name; writers in this process
call :func:`invalidate` so that their own changes show at once, and the TTL bounds how long
a change made by another process (a Dagster run) can stay unseen.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.engine import Engine

from shrinkage.config import CONFIG

log = logging.getLogger(__name__)

T = TypeVar("T")

# Names of the cached reference data (one place, so writers invalidate the right entry).
NOMENCLATURE = "nomenclature"
ACTIVE_REGISTRY = "active_registry"
PRODUCT_TYPE_KEYWORDS = "product_type_keywords"


@dataclass
class _Entry:
    value: Any
    expires_at: float


class TTLCache:
    """Values by (database, name) that expire ``ttl`` seconds after they were loaded."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self.clock = clock
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._lock = threading.Lock()
        self.loads = 0  # how many times a loader ran (tests and logs read it)

    @staticmethod
    def database_key(engine: Engine | str) -> str:
        if isinstance(engine, str):
            return engine
        return engine.url.render_as_string(hide_password=True)

    def get(self, engine: Engine | str, name: str, loader: Callable[[], T]) -> T:
        """The cached value, or ``loader()`` when absent or expired (then cached)."""
        key = (self.database_key(engine), name)
        now = self.clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.expires_at > now:
                return entry.value
        value = loader()
        with self._lock:
            self._entries[key] = _Entry(value, self.clock() + self.ttl)
            self.loads += 1
        log.debug("cache: loaded %s for %s", name, key[0])
        return value

    def invalidate(self, engine: Engine | str | None = None, name: str | None = None) -> int:
        """Drop entries of one database and/or one name (both None: everything); how many went."""
        database = None if engine is None else self.database_key(engine)
        with self._lock:
            doomed = [k for k in self._entries
                      if (database is None or k[0] == database) and (name is None or k[1] == name)]
            for key in doomed:
                del self._entries[key]
        return len(doomed)


# The process-wide cache used by the report queries and listings.
reference_cache = TTLCache(CONFIG.reports.reference_cache_ttl_seconds)


def cached(engine: Engine | str, name: str, loader: Callable[[], T]) -> T:
    return reference_cache.get(engine, name, loader)


def invalidate(engine: Engine | str | None = None, name: str | None = None) -> int:
    """Forget cached reference data after a write (call it from any writer of those tables)."""
    return reference_cache.invalidate(engine, name)
