"""`shrinkage db ...`: migrations and status, and the operations (backup, copy, archive, stats, roles)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path

import click
from sqlalchemy import func, select

from shrinkage.cli.common import CliError, progress_bar, state
from shrinkage.config import CONFIG, mask_url
from shrinkage.db import migrate


@click.group("db")
def db() -> None:
    """Schema migrations, database status and operations."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the schema up to REVISION (default: head)."""
    from shrinkage.db.backup import backup_before_upgrade

    engine = state().engine()
    if migrate.current_revision(engine) != migrate.head_revision():
        backup = backup_before_upgrade(engine)  # PostgreSQL holding data: a pg_dump first
        if backup is not None:
            click.echo(f"backup before the upgrade: {backup}")
    migrate.upgrade(engine, revision)
    click.echo(f"database {mask_url(engine.url)} is at revision {migrate.current_revision(engine)}")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Migrate the schema down to REVISION ('base' removes every table)."""
    engine = state().engine()
    migrate.downgrade(engine, revision)
    click.echo(f"database {mask_url(engine.url)} is at revision {migrate.current_revision(engine) or 'base'}")


@db.command("current")
def db_current() -> None:
    """Show the schema revision of the configured database."""
    engine = state().engine()
    current = migrate.current_revision(engine)
    head = migrate.head_revision()
    status = "up to date" if current == head else f"head is {head}: run `shrinkage db upgrade`"
    click.echo(f"{mask_url(engine.url)}: revision {current or 'base (empty)'} ({status})")


@db.command("history")
def db_history() -> None:
    """List the migrations, newest first."""
    for revision, down, message in migrate.history():
        click.echo(f"{down or 'base'} -> {revision}: {message.splitlines()[0] if message else ''}")


@db.command("status")
def db_status() -> None:
    """Schema revision and row counts of the contract tables."""
    from shrinkage.db.models import CONTRACT_TABLES, Base

    engine = state().engine()
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


def _human_bytes(n: int | None) -> str:
    if n is None:
        return "-"
    size = float(n)
    for unit in ("B", "kB", "MB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


@db.command("backup")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Backup file (default: backups/<database>-<time>.dump in the project home).")
def db_backup(out: Path | None) -> None:
    """Back up the database (pg_dump -Fc on PostgreSQL, the backup API on SQLite)."""
    from shrinkage.db.backup import backup

    click.echo(f"backup written to {backup(state().engine(), out)}")


@db.command("restore")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--clean", is_flag=True, help="Replace the contents of a non-empty database.")
def db_restore(file: Path, clean: bool) -> None:
    """Restore a backup made by `shrinkage db backup` into the configured database."""
    from shrinkage.db.backup import restore

    engine = state().engine()
    restore(engine, file, clean=clean)
    click.echo(f"restored {file} into {mask_url(engine.url)}")


@db.command("copy")
@click.option("--from", "source", required=True, help="Source database URL (e.g. sqlite:///data/shrinkage.db).")
@click.option("--to", "target", required=True, help="Empty target database URL (e.g. postgresql://user@host/db).")
def db_copy(source: str, target: str) -> None:
    """Copy all data into an empty database, verified by row counts and checksums."""
    from shrinkage.db.copy import copy_database

    with progress_bar(None, "copy", "row") as bar:
        report = copy_database(source, target, progress=lambda _t, n: bar.update(n))
    for table, rows in report.tables.items():
        click.echo(f"  {table:<28} {rows:>10} rows  checksum {report.fingerprints[table].checksum[:16]}")
    click.echo(f"copied {sum(report.tables.values())} rows to {mask_url(target)}: counts and checksums match")


@db.command("archive")
@click.option("--before", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Move calculation rows dated before this day (and their dependants) to the archive.")
@click.option("--restore", "restore_", is_flag=True, help="Move every archived row back.")
def db_archive(before: datetime | None, restore_: bool) -> None:
    """Move old time-series rows to the archive (schema `archive` / `archive_*` tables), or back."""
    from shrinkage.db.archive import archive, restore_archive

    if restore_ == (before is not None):
        raise CliError("give either --before YYYY-MM-DD or --restore")
    engine = state().engine()
    moved = restore_archive(engine) if restore_ else archive(engine, before)
    for table, rows in moved.items():
        click.echo(f"  {table:<28} {rows:>10} rows")
    click.echo(f"{'restored' if restore_ else 'archived'} {sum(moved.values())} rows")


@db.command("cleanup")
@click.option("--older-than-days", default=CONFIG.operations.cleanup_after_days, show_default=True,
              type=click.IntRange(0))
@click.option("--dry-run", is_flag=True, help="Only report what would be deleted.")
def db_cleanup(older_than_days: int, dry_run: bool) -> None:
    """Delete obsolete rows: resolved errors, replaced rejected files, unused products."""
    from shrinkage.db.archive import cleanup

    found = cleanup(state().engine(), older_than_days=older_than_days, dry_run=dry_run)
    for what, n in found.items():
        click.echo(f"  {what:<52} {n:>8}")
    click.echo(("would delete" if dry_run else "deleted") + f" {sum(found.values())} rows")


@db.command("stats")
def db_stats() -> None:
    """Table sizes and row counts, index usage, slowest statements, connection pool."""
    from shrinkage.db.stats import stats

    result = stats(state().engine())
    click.echo(f"database {result.database} ({result.backend}), {_human_bytes(result.size_bytes)}")
    click.echo("tables:")
    for t in result.tables:
        click.echo(f"  {t.name:<28} {t.rows:>10} rows  {_human_bytes(t.total_bytes):>10}  {t.kind}")
    if result.indexes:
        click.echo("least used indexes:")
        for i in result.indexes:
            click.echo(f"  {i.index:<52} {i.scans:>8} scans  {_human_bytes(i.total_bytes):>10}")
    click.echo(f"slow statements: {result.slow_queries_note}")
    for q in result.slow_queries or []:
        click.echo(f"  {q.mean_ms:>9.2f} ms x {q.calls:<6} {q.query[:100]}")
    click.echo(f"pool: {result.pool['class']}: {result.pool['status']} (configured {result.pool['configured']})")


@db.command("roles")
@click.option("--grant", "grants", multiple=True, metavar="ROLE=USER",
              help="Grant owner|app|reporting to an existing login user (repeatable).")
def db_roles(grants: tuple[str, ...]) -> None:
    """Create the owner / application / reporting roles (sql/roles.sql); run as a superuser."""
    from shrinkage.db.roles import ROLES, apply_roles

    members: dict[str, list[str]] = {}
    for item in grants:
        role, sep, user = item.partition("=")
        if not sep:
            raise CliError(f"--grant {item!r}: write ROLE=USER, e.g. --grant app=pipeline")
        members.setdefault(role, []).append(user)
    apply_roles(state().engine(), members)
    click.echo("roles " + ", ".join(ROLES.values()) + " are in place")


@db.command("policies")
@click.option("--compress-after-days", type=click.IntRange(1),
              default=CONFIG.timeseries.compress_after_days, show_default=True)
@click.option("--retention-days", type=click.IntRange(1), default=None,
              help="Drop chunks older than this many days (default: keep everything).")
def db_policies(compress_after_days: int, retention_days: int | None) -> None:
    """TimescaleDB: set the compression and retention policy ages of the hypertables."""
    from shrinkage.db.timeseries import set_policies

    policies = dataclasses.replace(CONFIG.timeseries, compress_after_days=compress_after_days,
                                   retention_days=retention_days)
    jobs = set_policies(state().engine(), policies)
    if jobs is None:
        raise CliError("this database has no hypertables (TimescaleDB is not in use): nothing to set")
    for job_id, proc, relation in jobs:
        click.echo(f"  job {job_id:<6} {proc:<40} {relation}")


@db.command("refresh")
def db_refresh() -> None:
    """Refresh the analytical relations (materialized views / continuous aggregates)."""
    from shrinkage.db.analytics_views import refresh_analytics

    kind = refresh_analytics(state().engine())
    click.echo(f"analytics refreshed ({kind})" if kind else "nothing to refresh (plain views)")


COMMANDS = [db]
