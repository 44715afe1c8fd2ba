"""The reference-data cache: TTL expiry, per-database entries, invalidation."""

from __future__ import annotations

from shrinkage.db.cache import TTLCache


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_values_are_reused_until_the_ttl_passes():
    clock = Clock()
    cache = TTLCache(ttl=60, clock=clock)
    calls = []

    def load():
        calls.append(1)
        return len(calls)

    assert cache.get("db1", "names", load) == 1
    clock.now += 59
    assert cache.get("db1", "names", load) == 1
    clock.now += 2
    assert cache.get("db1", "names", load) == 2
    assert cache.loads == 2


def test_entries_are_per_database_and_invalidation_is_targeted():
    cache = TTLCache(ttl=60, clock=Clock())
    cache.get("db1", "names", lambda: "a")
    cache.get("db2", "names", lambda: "b")
    cache.get("db1", "registry", lambda: "r")
    assert cache.get("db2", "names", lambda: "other") == "b"
    assert cache.invalidate("db1", "names") == 1
    assert cache.get("db1", "names", lambda: "a2") == "a2"
    assert cache.get("db1", "registry", lambda: "r2") == "r"
    assert cache.invalidate() == 3
    assert cache.get("db2", "names", lambda: "b2") == "b2"
