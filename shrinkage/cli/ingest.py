"""`shrinkage ingest` (files into the database) and `shrinkage demo-data` (statements of a simulated store)."""

from __future__ import annotations

from pathlib import Path

import click

from shrinkage.cli.common import EXIT_FILE_FAILED, CliError, progress_bar, state


@click.command("demo-data")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="Folder to write into.")
@click.option("--weeks", default=12, show_default=True, type=click.IntRange(1, 520))
@click.option("--products", default=30, show_default=True, type=click.IntRange(1, 5000))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--realistic", is_flag=True,
              help="A chain of two stores as real exports look (no-batch lines, 7/14/28-day counts, a missing week).")
def demo_data(out: Path, weeks: int, products: int, seed: int, realistic: bool) -> None:
    """Write weekly 1C batch statements of a simulated store (or chain), with its ground truth."""
    from shrinkage.demo import main_demo_data

    try:
        files = main_demo_data(out, weeks=weeks, products=products, seed=seed, realistic=realistic)
    except ValueError as exc:  # e.g. too few weeks for the realistic chain's events
        raise click.BadParameter(str(exc)) from exc
    click.echo(f"wrote {len(files)} files to {out}")


@click.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def ingest(paths: tuple[Path, ...]) -> None:
    """Load 1C report files (or every report in the given folders) into the database.

    Exit code 0 when every file was read (validation errors are recorded, not fatal),
    1 when a file could not be read or was rejected by a blocking check.
    """
    from shrinkage.app.ingest import collect_files, ingest_paths

    files = collect_files(paths)
    missing = [p for p in files if not p.exists()]
    if missing:
        raise CliError(f"no such file: {', '.join(map(str, missing))}")
    current = state()
    engine = current.engine(migrate=True)
    with progress_bar(len(files), "ingest", "file") as bar:
        outcomes = ingest_paths(engine, files, user=current.user, on_file=lambda _o: bar.update())
    failed = echo_ingest_summary(outcomes)
    if failed:
        raise CliError(f"{failed} of {len(outcomes)} file(s) not loaded (see above)", EXIT_FILE_FAILED)


def echo_ingest_summary(outcomes) -> int:
    """The per-file table and a total line; returns how many files failed."""
    click.echo(f"{'file':<44} {'status':<10} {'products':>8} {'docs':>6} {'batches':>8} {'counts':>6}  errors")
    for o in outcomes:
        errors = ", ".join(f"{k}:{v}" for k, v in sorted(o.errors_by_severity.items())) or "-"
        click.echo(f"{o.path.name[:44]:<44} {o.status:<10} {o.products:>8} {o.documents:>6} "
                   f"{o.batches:>8} {o.counts:>6}  {errors}")
        if o.message and not o.ok:
            click.echo(f"    {o.message}", err=True)
    bad = sum(not o.ok for o in outcomes)
    click.echo(f"{len(outcomes)} file(s): {len(outcomes) - bad} ok, {bad} failed")
    return bad


COMMANDS = [demo_data, ingest]
