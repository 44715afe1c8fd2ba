"""The `shrinkage` command: database management, ingestion, fitting, reports, the main job."""

from __future__ import annotations

import functools
import logging
import sys

import click
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
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
@click.version_option(package_name="shrinkage")
def main(verbose: bool) -> None:
    """Measure and forecast storage shrinkage of fish products from 1C reports."""
    setup_logging(logging.DEBUG if verbose else logging.INFO)


@main.group()
def db() -> None:
    """Schema migrations and database status."""


@db.command("upgrade")
@click.argument("revision", default="head")
@friendly_errors
def db_upgrade(revision: str) -> None:
    """Migrate the schema up to REVISION (default: head)."""
    engine = connected_engine()
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


@main.command("run")
@friendly_errors
def run() -> None:
    """The main job. (Until the pipeline lands: migrate and print the schema status.)"""
    engine = connected_engine()
    migrate.upgrade(engine)
    echo_schema_status(engine)


if __name__ == "__main__":  # pragma: no cover
    main()
