"""Deciding, poll by poll, which inbox files are complete new reports (no Dagster here).

A file is complete when its size and modification time did not change since the previous
poll, or when it was last modified long enough ago. Complete files are hashed; content
already known (under any name) is not picked up again; files that are not 1C reports are
set aside with a reason. What was decided is remembered in the sensor cursor, keyed by
file name, so an unchanged file costs one ``stat`` per poll.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

from resources.inbox import HASH_CHARS, partition_key_for
from shrinkage.app.ingest import content_hash
from shrinkage.sources import REPORT_SUFFIXES, ReportError, report_kind

log = logging.getLogger(__name__)

PENDING = "pending"      # seen, not yet known to be complete
PICKED = "picked"        # a partition and a run were requested
KNOWN = "known"          # the same content is already a partition
SKIPPED = "skipped"      # not a report


@dataclass
class FileState:
    size: int
    mtime_ns: int
    state: str
    note: str = ""


@dataclass(frozen=True)
class NewFile:
    path: Path
    digest: str
    partition_key: str


@dataclass
class Poll:
    """The outcome of one poll: what to request, what to tell the user, the next cursor."""

    new_files: list[NewFile] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)      # reasons, one per file set aside this poll
    known: list[str] = field(default_factory=list)
    deferred: int = 0                                      # complete files left for the next poll
    files: dict[str, FileState] = field(default_factory=dict)

    def cursor(self) -> str:
        return json.dumps({"files": {name: asdict(state) for name, state in self.files.items()}},
                          ensure_ascii=False, sort_keys=True)

    def summary(self) -> str:
        parts = [f"{len(self.new_files)} new"]
        if self.waiting:
            parts.append(f"{len(self.waiting)} still being written ({', '.join(self.waiting[:5])})")
        if self.deferred:
            parts.append(f"{self.deferred} left for the next tick")
        if self.known:
            parts.append(f"{len(self.known)} already known")
        if self.skipped:
            parts.append(f"{len(self.skipped)} skipped: " + "; ".join(self.skipped[:5]))
        return ", ".join(parts)


def read_cursor(cursor: str | None) -> dict[str, FileState]:
    if not cursor:
        return {}
    try:
        raw = json.loads(cursor)["files"]
        return {name: FileState(**state) for name, state in raw.items()}
    except (ValueError, KeyError, TypeError):
        log.warning("inbox sensor cursor is unreadable; starting afresh (files already processed are "
                    "recognised by their content hash)")
        return {}


def not_a_report(path: Path) -> str | None:
    """Why a complete file is not a 1C report we read, or None when it is one (or a damaged one).

    A damaged workbook is still requested: its run fails and says what to do.
    """
    if path.suffix.lower() not in REPORT_SUFFIXES:
        return (f"{path.name}: not a report file type ('{path.suffix or 'no extension'}'); "
                "the inbox reads 1C exports saved as .xls, .xlsx, .ods, .csv, HTML or Excel XML")
    try:
        if report_kind(path) is not None:
            return None
    except ReportError:
        return None
    return (f"{path.name}: not a 1C batch or turnover statement (no sheet has the report captions); "
            "remove it from the inbox or export the right report from 1C")


def inbox_files(folder: Path) -> list[Path]:
    """Every regular file of the inbox (recursively), oldest first; hidden and Office lock files excluded."""
    if not folder.is_dir():
        return []
    files = [p for p in folder.rglob("*") if p.is_file() and not p.name.startswith((".", "~$"))]
    return sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.name))


def poll_inbox(folder: Path, previous: dict[str, FileState], known_hashes: set[str], *, now: float,
               min_age_seconds: float, max_files: int) -> Poll:
    """One poll of the inbox: ``known_hashes`` holds the hash prefixes of existing partitions."""
    poll = Poll()
    known = set(known_hashes)
    budget = max_files
    for path in inbox_files(folder):
        name = path.relative_to(folder).as_posix()
        try:
            stat = path.stat()
        except OSError:
            continue  # removed while we looked
        before = previous.get(name)
        unchanged = before is not None and (before.size, before.mtime_ns) == (stat.st_size, stat.st_mtime_ns)
        if unchanged and before.state != PENDING:
            poll.files[name] = before  # decided earlier; nothing changed since
            continue
        old_enough = now - stat.st_mtime_ns / 1e9 >= min_age_seconds
        if not (unchanged or old_enough) or stat.st_size == 0 and not old_enough:
            poll.files[name] = FileState(stat.st_size, stat.st_mtime_ns, PENDING)
            poll.waiting.append(name)
            continue
        if budget <= 0:
            # Complete, but over this poll's budget: keep it pending with the same size/mtime,
            # so the next poll takes it at once.
            poll.files[name] = FileState(stat.st_size, stat.st_mtime_ns, PENDING)
            poll.deferred += 1
            continue
        budget -= 1
        poll.files[name] = _decide(path, stat, known, poll)
    return poll


def _decide(path: Path, stat, known: set[str], poll: Poll) -> FileState:
    # Hash first: a renamed copy of known content is recognised without opening the workbook.
    try:
        digest = content_hash(path) if path.suffix.lower() in REPORT_SUFFIXES else ""
    except OSError as exc:
        return FileState(stat.st_size, stat.st_mtime_ns, PENDING, f"cannot read: {exc.strerror or exc}")
    prefix = digest[:HASH_CHARS]
    if prefix and prefix in known:
        note = f"{path.name}: same content as a file already picked up (sha256 {prefix}…); nothing to do"
        poll.known.append(note)
        return FileState(stat.st_size, stat.st_mtime_ns, KNOWN, note)
    reason = not_a_report(path)
    if reason is not None:
        log.info("inbox: %s", reason)
        poll.skipped.append(reason)
        return FileState(stat.st_size, stat.st_mtime_ns, SKIPPED, reason)
    known.add(prefix)
    key = partition_key_for(path, digest)
    poll.new_files.append(NewFile(path, digest, key))
    return FileState(stat.st_size, stat.st_mtime_ns, PICKED, key)
