"""The inbox folder users drop 1C exports into, as a Dagster resource, and its file partitions.

Source files are dynamic partitions, one per file content. A key reads like the file it came
from and ends with the content hash, e.g. ``Ведомость_по_партиям_2025-03-03_2025-03-09-1a2b3c4d5e6f``:
the same content under another name is recognised by the hash; a changed file under the same
name gets a new key. The inbox resource finds a partition's file again by that hash.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import dagster as dg
from pydantic import Field

from shrinkage.app.ingest import collect_files, content_hash
from shrinkage.config import CONFIG, get_settings
from shrinkage.db.sources import SourceFile

INBOX_ENV = "SHRINKAGE_INBOX"
_INTAKE = CONFIG.intake

source_files = dg.DynamicPartitionsDefinition(name="source_files")

HASH_CHARS = 12
MAX_STEM_CHARS = 80
_UNSAFE = re.compile(r"[^\w.-]+")  # commas, spaces, slashes, control characters …
_DOT_RUNS = re.compile(r"\.{2,}")  # Dagster refuses "..." in partition keys
_KEY = re.compile(rf"^(?P<stem>.*)-(?P<hash>[0-9a-f]{{{HASH_CHARS}}})$")


class SourceFileMissing(LookupError):
    """The inbox no longer holds the content a partition was created for."""


def partition_stem(path: Path) -> str:
    stem = _DOT_RUNS.sub(".", _UNSAFE.sub("_", path.stem)).strip("_.-")
    return stem[:MAX_STEM_CHARS] or "file"


def partition_key_for(path: Path, digest: str) -> str:
    """The partition key of a file whose sha256 is ``digest``."""
    return f"{partition_stem(path)}-{digest[:HASH_CHARS]}"


def hash_prefix_of(partition_key: str) -> str:
    match = _KEY.match(partition_key)
    if match is None:
        raise ValueError(
            f"'{partition_key}' is not a source file partition key (expected <name>-<{HASH_CHARS} hex digits>); "
            "partitions are added by the inbox sensor or `shrinkage run`"
        )
    return match.group("hash")


def find_source_file(folder: Path, partition_key: str) -> SourceFile:
    """The inbox file holding the content of ``partition_key`` (found by hash, so renames do not matter)."""
    prefix = hash_prefix_of(partition_key)
    stem = _KEY.match(partition_key).group("stem")
    candidates = collect_files([folder]) if folder.is_dir() else []
    # The file that gave the key its name is the likely one: hash it first.
    candidates.sort(key=lambda p: partition_stem(p) != stem)
    for path in candidates:
        try:
            digest = content_hash(path)
        except OSError:
            continue  # vanished or unreadable meanwhile: it is not the one we can read
        if digest.startswith(prefix):
            return SourceFile(path.name, str(path.resolve()), digest)
    raise SourceFileMissing(
        f"partition {partition_key}: no file in the inbox {folder} has this content (sha256 {prefix}…); "
        "the file was changed or removed after it was picked up — drop the file into the inbox again, "
        "or delete this partition in the Dagster UI"
    )


class InboxResource(dg.ConfigurableResource):
    """Where new report files arrive, and how eagerly the sensor picks them up."""

    path: str | None = Field(default=None, description="Inbox folder; empty: SHRINKAGE_INBOX or <home>/inbox.")
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
