"""What every command shares: the state in ``ctx.obj``, the one error type and its handler."""

from __future__ import annotations

import getpass
from dataclasses import dataclass, field
from pathlib import Path

import click
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from shrinkage.config import Settings, get_settings, scrub_secrets

# Exit codes: a file failed (read, validated or loaded), or the configuration / database /
# a request the user can correct is wrong.
EXIT_FILE_FAILED = 1
EXIT_USAGE = 2


class CliError(click.ClickException):
    """An expected failure: one line on stderr (secrets scrubbed) and its exit code."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE):
        super().__init__(message)
        self.exit_code = exit_code

    def format_message(self) -> str:
        from shrinkage.logs import configured_secrets

        return scrub_secrets(self.message, *configured_secrets())

    def show(self, file=None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


def _expected_errors() -> tuple[type[BaseException], ...]:
    """Failures a user can act on, from every layer the commands call (imported when needed)."""
    from shrinkage.app.review import AlreadyResolved
    from shrinkage.db.catalog import OpsError
    from shrinkage.db.engine import DatabaseUnavailable
    from shrinkage.db.services import NotFound
    from shrinkage.db.sqlfiles import SqlFileMissing
    from shrinkage.db.table_export import UnknownTable
    from shrinkage.reference_data import ReferenceImportError
    from shrinkage.reports.template import TemplateError

    return (DatabaseUnavailable, OpsError, SqlFileMissing, NotFound, AlreadyResolved, UnknownTable,
            ReferenceImportError, TemplateError, ValueError)


class ShrinkageGroup(click.Group):
    """The root group: the one place where failures turn into a :class:`CliError`."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except DBAPIError as exc:
            from shrinkage.db.engine import unavailable

            raise CliError(str(unavailable(get_settings().url(), exc))) from None
        except _expected_errors() as exc:
            raise CliError(str(exc)) from None


@dataclass
class CliState:
    """Settings, and an engine created on first use (a caller such as a test may hand one in)."""

    settings: Settings = field(default_factory=get_settings)
    provided_engine: Engine | None = None
    keywords_file: Path | None = None
    _engine: Engine | None = field(default=None, repr=False)
    _migrated: bool = field(default=False, repr=False)

    def engine(self, *, migrate: bool = False) -> Engine:
        """A connected engine (DatabaseUnavailable when not); ``migrate``: upgraded to head first."""
        from shrinkage.db import migrate as migrations
        from shrinkage.db.engine import check_connection, make_engine

        if self.provided_engine is not None:
            return self.provided_engine
        if self._engine is None:
            self._engine = make_engine(settings=self.settings)
            check_connection(self._engine)
        if migrate and not self._migrated:
            migrations.upgrade(self._engine)
            self._migrated = True
        return self._engine

    @property
    def user(self) -> str:
        try:
            return getpass.getuser()
        except (KeyError, OSError):
            return "unknown"


def state(ctx: click.Context | None = None) -> CliState:
    """The shared state of the running command."""
    ctx = ctx or click.get_current_context()
    return ctx.ensure_object(CliState)


def progress_bar(total: int | None, desc: str, unit: str):
    """The progress bar of long commands (hidden when stdout is not a terminal)."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, disable=None)
