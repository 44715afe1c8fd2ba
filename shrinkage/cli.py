"""The `shrinkage` command: database management, ingestion, fitting, reports, the main job."""

from __future__ import annotations

import functools
import logging
import sys
from pathlib import Path

import click
from tqdm import tqdm
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from shrinkage.config import get_settings, mask_url, scrub_secrets
from shrinkage.db import migrate
from shrinkage.db.engine import DatabaseUnavailable, check_connection, make_engine, unavailable
from shrinkage.db.models import CONTRACT_TABLES, Base
from shrinkage.logs import configured_secrets, setup_logging

log = logging.getLogger("shrinkage.cli")


def fail(message: str, code: int = 2) -> None:
    click.echo(f"error: {scrub_secrets(message, *configured_secrets())}", err=True)
    sys.exit(code)


def friendly_errors(fn):
    """Turn expected failures into one clear line and a non-zero exit, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except DatabaseUnavailable as exc:
            fail(str(exc))
        except DBAPIError as exc:
            fail(str(unavailable(get_settings().url(), exc)))

    return wrapper


def connected_engine():
    engine = make_engine()
    check_connection(engine)
    return engine


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Show the detailed log.")
@click.version_option(package_name="shrinkage")
def main(verbose: bool) -> None:
    """Measure and forecast storage shrinkage of fish products from 1C reports."""
    # Library progress lines go to the log at INFO; the CLI shows bars and summaries instead.
    setup_logging(logging.DEBUG if verbose else logging.WARNING)


@main.group()
def db() -> None:
    """Schema migrations and database status."""


@db.command("upgrade")
@click.argument("revision", default="head")
@friendly_errors
def db_upgrade(revision: str) -> None:
    """Migrate the schema up to REVISION (default: head)."""
    from shrinkage.db.ops import backup_before_upgrade

    engine = connected_engine()
    if migrate.current_revision(engine) != migrate.head_revision():
        backup = backup_before_upgrade(engine)  # PostgreSQL holding data: a pg_dump first
        if backup is not None:
            click.echo(f"backup before the upgrade: {backup}")
    migrate.upgrade(engine, revision)
    click.echo(f"database {mask_url(engine.url)} is at revision {migrate.current_revision(engine)}")


@db.command("downgrade")
@click.argument("revision")
@friendly_errors
def db_downgrade(revision: str) -> None:
    """Migrate the schema down to REVISION ('base' removes every table)."""
    engine = connected_engine()
    migrate.downgrade(engine, revision)
    click.echo(f"database {mask_url(engine.url)} is at revision {migrate.current_revision(engine) or 'base'}")


@db.command("current")
@friendly_errors
def db_current() -> None:
    """Show the schema revision of the configured database."""
    engine = connected_engine()
    current = migrate.current_revision(engine)
    head = migrate.head_revision()
    state = "up to date" if current == head else f"head is {head}: run `shrinkage db upgrade`"
    click.echo(f"{mask_url(engine.url)}: revision {current or 'base (empty)'} ({state})")


@db.command("history")
def db_history() -> None:
    """List the migrations, newest first."""
    for revision, down, message in migrate.history():
        click.echo(f"{down or 'base'} -> {revision}: {message.splitlines()[0] if message else ''}")


@db.command("status")
@friendly_errors
def db_status() -> None:
    """Schema revision and row counts of the contract tables."""
    engine = connected_engine()
    echo_schema_status(engine)


def echo_schema_status(engine) -> None:
    click.echo(f"database: {mask_url(engine.url)}")
    click.echo(f"revision: {migrate.current_revision(engine) or 'base (empty)'} (head {migrate.head_revision()})")
    present = migrate.existing_tables(engine)
    with engine.connect() as conn:
        for name in CONTRACT_TABLES:
            if name in present:
                count = conn.execute(select(func.count()).select_from(Base.metadata.tables[name])).scalar_one()
                click.echo(f"  {name:<26} {count:>10} rows")
            else:
                click.echo(f"  {name:<26}    missing")


@main.command("demo-data")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="Folder to write into.")
@click.option("--weeks", default=12, show_default=True, type=click.IntRange(1, 520))
@click.option("--products", default=30, show_default=True, type=click.IntRange(1, 5000))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--realistic", is_flag=True,
              help="A chain of two stores as real exports look (no-batch lines, 7/14/28-day counts, a missing week).")
def demo_data(out: Path, weeks: int, products: int, seed: int, realistic: bool) -> None:
    """Write realistic weekly 1C batch statements of a simulated store, with its ground truth."""
    from shrinkage.demo import main_demo_data

    try:
        files = main_demo_data(out, weeks=weeks, products=products, seed=seed, realistic=realistic)
    except ValueError as exc:  # e.g. too few weeks for the realistic chain's events
        raise click.BadParameter(str(exc)) from exc
    click.echo(f"wrote {len(files)} files to {out}")


@main.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@friendly_errors
def ingest(paths: tuple[Path, ...]) -> None:
    """Load 1C report files (or every report in the given folders) into the database.

    Exit code 0 when every file was read (validation errors are recorded, not fatal),
    1 when a file could not be read or was rejected by a blocking check.
    """
    from shrinkage.ingest import collect_files, ingest_paths

    files = collect_files(paths)
    missing = [p for p in files if not p.exists()]
    if missing:
        fail(f"no such file: {', '.join(map(str, missing))}")
    engine = connected_engine()
    migrate.upgrade(engine)
    with tqdm(total=len(files), unit="file", desc="ingest", disable=None) as bar:
        outcomes = ingest_paths(engine, files, user=current_user(), on_file=lambda _o: bar.update())
    echo_ingest_summary(outcomes)
    if not all(o.ok for o in outcomes):
        sys.exit(1)


def current_user() -> str:
    import getpass
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def echo_ingest_summary(outcomes) -> None:
    header = f"{'file':<44} {'status':<10} {'products':>8} {'docs':>6} {'batches':>8} {'counts':>6}  errors"
    click.echo(header)
    for o in outcomes:
        errors = ", ".join(f"{k}:{v}" for k, v in sorted(o.errors_by_severity.items())) or "-"
        click.echo(f"{o.path.name[:44]:<44} {o.status:<10} {o.products:>8} {o.documents:>6} "
                   f"{o.batches:>8} {o.counts:>6}  {errors}")
        if o.message and not o.ok:
            click.echo(f"    {o.message}", err=True)
    bad = sum(not o.ok for o in outcomes)
    click.echo(f"{len(outcomes)} file(s): {len(outcomes) - bad} ok, {bad} failed")


class ExportGroup(click.Group):
    """`shrinkage export TABLE ...` for any table; named exports (e.g. `coefficients`) win."""

    def resolve_command(self, ctx, args):
        if args and args[0] not in self.commands and "table" in self.commands and not args[0].startswith("-"):
            args = ["table", *args]
        return super().resolve_command(ctx, args)


@main.group("export", cls=ExportGroup)
def export() -> None:
    """Write a table (`export TABLE --format csv|xlsx`) or the coefficients summary to a file."""


def _register_commands() -> None:
    """Commands of other modules: the core's own, then plugins (the Dagster layer adds `run`, `demo`).

    The orchestration layer registers through the ``shrinkage.commands`` entry point group so
    that this core package never imports Dagster.
    """
    from importlib import import_module
    from importlib.metadata import entry_points

    for module in ("shrinkage.cli_ops", "shrinkage.cli_model", "shrinkage.cli_reports"):
        try:
            register = import_module(module).register
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        register(db if module.endswith("_ops") else main)
    for entry in entry_points(group="shrinkage.commands"):
        entry.load()(main)


_register_commands()

if __name__ == "__main__":  # pragma: no cover
    main()
