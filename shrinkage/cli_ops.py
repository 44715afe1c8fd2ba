"""`shrinkage db backup|restore|copy|archive|cleanup|stats|roles|policies|refresh`: operations.

``register(db)`` adds these to the existing ``db`` group (cli.py calls it), so the
operations live beside, not inside, the everyday commands. All work is done by
``shrinkage.db.ops``; this module parses options and prints results, with every message
scrubbed of secrets.
"""

from __future__ import annotations

import dataclasses
import functools
from datetime import datetime
from pathlib import Path

import click
from tqdm import tqdm

from shrinkage.config import CONFIG, mask_url
from shrinkage.db import ops
from shrinkage.db.sqlfiles import SqlFileMissing


def _human_bytes(n: int | None) -> str:
    if n is None:
        return "-"
    size = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover


def register(db_group: click.Group) -> None:
    """Add the operations subcommands to ``db_group``."""
    from shrinkage.cli import connected_engine, fail, friendly_errors

    def ops_errors(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except (ops.OpsError, SqlFileMissing) as exc:
                fail(str(exc))
        return friendly_errors(wrapper)

    @db_group.command("backup")
    @click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
                  help=f"Backup file (default: {CONFIG.operations.backup_dir}/<database>-<time>.dump).")
    @ops_errors
    def db_backup(out: Path | None) -> None:
        """Back up the database (pg_dump -Fc on PostgreSQL, the backup API on SQLite)."""
        path = ops.backup(connected_engine(), out)
        click.echo(f"backup written to {path}")

    @db_group.command("restore")
    @click.argument("file", type=click.Path(path_type=Path))
    @click.option("--clean", is_flag=True, help="Replace the contents of a non-empty database.")
    @ops_errors
    def db_restore(file: Path, clean: bool) -> None:
        """Restore a backup made by `shrinkage db backup` into the configured database."""
        engine = connected_engine()
        ops.restore(engine, file, clean=clean)
        click.echo(f"restored {file} into {mask_url(engine.url)}")

    @db_group.command("copy")
    @click.option("--from", "source", required=True, help="Source database URL (e.g. sqlite:///data/shrinkage.db).")
    @click.option("--to", "target", required=True, help="Empty target database URL (e.g. postgresql://user@host/db).")
    @ops_errors
    def db_copy(source: str, target: str) -> None:
        """Copy all data into an empty database, verified by row counts and checksums."""
        with tqdm(unit="row", desc="copy", disable=None) as bar:
            report = ops.copy_database(source, target, progress=lambda _t, n: bar.update(n))
        for table, rows in report.tables.items():
            click.echo(f"  {table:<28} {rows:>10} rows  checksum {report.fingerprints[table].checksum[:16]}")
        click.echo(f"copied {sum(report.tables.values())} rows to {mask_url(target)}: counts and checksums match")

    @db_group.command("archive")
    @click.option("--before", type=click.DateTime(formats=["%Y-%m-%d"]),
                  help="Move calculation rows dated before this day (and their dependants) to the archive.")
    @click.option("--restore", "restore_", is_flag=True, help="Move every archived row back.")
    @ops_errors
    def db_archive(before: datetime | None, restore_: bool) -> None:
        """Move old time-series rows to the archive (schema `archive` / `archive_*` tables), or back."""
        if restore_ == (before is not None):
            fail("give either --before YYYY-MM-DD or --restore")
        engine = connected_engine()
        moved = ops.restore_archive(engine) if restore_ else ops.archive(engine, before)
        for table, rows in moved.items():
            click.echo(f"  {table:<28} {rows:>10} rows")
        click.echo(f"{'restored' if restore_ else 'archived'} {sum(moved.values())} rows")

    @db_group.command("cleanup")
    @click.option("--older-than-days", default=CONFIG.operations.cleanup_after_days, show_default=True,
                  type=click.IntRange(0))
    @click.option("--dry-run", is_flag=True, help="Only report what would be deleted.")
    @ops_errors
    def db_cleanup(older_than_days: int, dry_run: bool) -> None:
        """Delete obsolete rows: resolved errors, replaced rejected files, unused products."""
        found = ops.cleanup(connected_engine(), older_than_days=older_than_days, dry_run=dry_run)
        for what, n in found.items():
            click.echo(f"  {what:<52} {n:>8}")
        click.echo(("would delete" if dry_run else "deleted") + f" {sum(found.values())} rows")

    @db_group.command("stats")
    @ops_errors
    def db_stats() -> None:
        """Table sizes and row counts, index usage, slowest statements, connection pool."""
        result = ops.stats(connected_engine())
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

    @db_group.command("roles")
    @click.option("--grant", "grants", multiple=True, metavar="ROLE=USER",
                  help="Grant owner|app|reporting to an existing login user (repeatable).")
    @ops_errors
    def db_roles(grants: tuple[str, ...]) -> None:
        """Create the owner / application / reporting roles (sql/roles.sql); run as a superuser."""
        members: dict[str, list[str]] = {}
        for item in grants:
            role, sep, user = item.partition("=")
            if not sep:
                fail(f"--grant {item!r}: write ROLE=USER, e.g. --grant app=pipeline")
            members.setdefault(role, []).append(user)
        ops.apply_roles(connected_engine(), members)
        click.echo("roles " + ", ".join(ops.ROLES.values()) + " are in place")

    @db_group.command("policies")
    @click.option("--compress-after-days", type=click.IntRange(1),
                  default=CONFIG.timeseries.compress_after_days, show_default=True)
    @click.option("--retention-days", type=click.IntRange(1), default=None,
                  help="Drop chunks older than this many days (default: keep everything).")
    @ops_errors
    def db_policies(compress_after_days: int, retention_days: int | None) -> None:
        """TimescaleDB: set the compression and retention policy ages of the hypertables."""
        from shrinkage.db.timeseries import apply_policies, our_hypertables, policy_jobs

        engine = connected_engine()
        policies = dataclasses.replace(CONFIG.timeseries, compress_after_days=compress_after_days,
                                       retention_days=retention_days)
        with engine.begin() as conn:
            if not our_hypertables(conn):
                fail("this database has no hypertables (TimescaleDB is not in use): nothing to set")
            apply_policies(conn, policies)
            jobs = policy_jobs(conn)
        for job_id, proc, relation in jobs:
            click.echo(f"  job {job_id:<6} {proc:<40} {relation}")

    @db_group.command("refresh")
    @ops_errors
    def db_refresh() -> None:
        """Refresh the analytical relations (materialized views / continuous aggregates)."""
        from shrinkage.db.analytics_views import refresh_analytics

        kind = refresh_analytics(connected_engine())
        click.echo(f"analytics refreshed ({kind})" if kind else "nothing to refresh (plain views)")
