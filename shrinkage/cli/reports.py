"""CLI commands for reports, review workflows, exports and reference data."""

from __future__ import annotations

from pathlib import Path

import click

from shrinkage.cli.common import progress_bar, state
from shrinkage.cli.model import export_coefficients_cmd
from shrinkage.config import CONFIG

REVIEW_KINDS = ("errors", "rows")
SEVERITIES = ("low", "medium", "high", "critical")
SEPARATORS = (";", ",", "tab")


def _separator(choice: str) -> str:
    return "\t" if choice == "tab" else choice


# --- review -------------------------------------------------------------------------------

@click.group("review")
def review() -> None:
    """Rows flagged for manual review and validation errors: list and resolve them."""


@review.command("list")
@click.option("--kind", type=click.Choice(REVIEW_KINDS), default="errors", show_default=True)
@click.option("--page", type=click.IntRange(1), default=1, show_default=True)
@click.option("--page-size", type=click.IntRange(1, 1000), default=CONFIG.reports.review_page_size,
              show_default=True)
@click.option("--severity", "severities", multiple=True, type=click.Choice(SEVERITIES),
              help="Only errors of this severity (repeatable).")
@click.option("--all", "include_resolved", is_flag=True, help="Include resolved errors / cleared rows.")
def review_list(kind: str, page: int, page_size: int, severities: tuple[str, ...], include_resolved: bool) -> None:
    """List validation errors (--kind errors) or rows flagged for review (--kind rows)."""
    from shrinkage.app.review import list_errors, list_rows
    from shrinkage.reports.tables import text_table

    engine = state().engine()
    if kind == "errors":
        listing = list_errors(engine, page, page_size, severities, include_resolved)
        noun = "validation error(s)"
    else:
        if severities:
            raise click.UsageError("--severity applies to --kind errors only")
        listing = list_rows(engine, page, page_size, include_resolved)
        noun = "flagged row(s)"
    click.echo(text_table(listing.frame))
    footer = f"page {listing.page} of {listing.pages} ({listing.total} {noun})"
    if listing.page < listing.pages:
        footer += f"; next: --page {listing.page + 1}"
    click.echo(footer)
    if listing.total:
        click.echo(f"resolve one with: shrinkage review resolve ID --kind {kind} --note \"...\"")


@review.command("resolve")
@click.argument("item_id", metavar="ID", type=int)
@click.option("--kind", type=click.Choice(REVIEW_KINDS), default="errors", show_default=True,
              help="errors: mark a validation error resolved; rows: clear a row's review flag.")
@click.option("--note", default=None, help="Why it is fine (kept with the record).")
def review_resolve(item_id: int, kind: str, note: str | None) -> None:
    """Resolve validation error ID, or clear the review flag of calculation row ID (--kind rows)."""
    from shrinkage.app.review import clear_review_flag, resolve_validation_error

    current = state()
    action = resolve_validation_error if kind == "errors" else clear_review_flag
    click.echo(action(current.engine(), item_id, note=note, user=current.user).message)


# --- report -------------------------------------------------------------------------------

@click.command("report")
@click.option("--format", "formats", multiple=True, type=click.Choice(("xlsx", "csv", "pdf")),
              help="Output format (repeatable; default: all three).")
@click.option("--period", default=None, metavar="START:END",
              help="e.g. 2025-03-03:2025-05-25 (default: the span of the data).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder to write into (default: SHRINKAGE_REPORTS, else reports/ in the project home).")
@click.option("--template", default=None, metavar="PATH|NAME",
              help="Report template: a built-in name (default, manager) or a JSON/YAML file.")
@click.option("--separator", type=click.Choice(SEPARATORS), default=CONFIG.reports.csv_separator,
              show_default=True, help="CSV field separator.")
@click.option("--decimal-comma/--decimal-point", default=CONFIG.reports.csv_decimal == ",",
              show_default=True, help="CSV decimal mark.")
def report(formats: tuple[str, ...], period: str | None, out_dir: Path | None, template: str | None,
           separator: str, decimal_comma: bool) -> None:
    """Write the shrinkage report (Excel, CSV, PDF) with the period in the file names."""
    from shrinkage.app.reports import FORMATS, report_steps, write_report

    chosen = formats or FORMATS
    folder = out_dir or state().settings.reports_dir
    with progress_bar(report_steps(chosen), "report", "step") as bar:
        def progress(step: str) -> None:
            bar.set_postfix_str(step)
            bar.update()

        paths = write_report(state().engine(), folder, chosen, template, period, separator=_separator(separator),
                             decimal="," if decimal_comma else ".", on_progress=progress)
    for path in paths:
        click.echo(str(path))
    click.echo(f"{len(paths)} file(s) written to {folder}")


# --- export -------------------------------------------------------------------------------

class ExportGroup(click.Group):
    """`shrinkage export TABLE ...` for any table; named exports (e.g. `coefficients`) win."""

    def resolve_command(self, ctx, args):
        if args and args[0] not in self.commands and "table" in self.commands and not args[0].startswith("-"):
            args = ["table", *args]
        return super().resolve_command(ctx, args)


@click.group("export", cls=ExportGroup)
def export() -> None:
    """Write a table (`export TABLE --format csv|xlsx`) or the coefficients summary to a file."""


@export.command("table")
@click.argument("table_name", metavar="TABLE")
@click.option("--format", "fmt", type=click.Choice(("csv", "xlsx")), default="csv", show_default=True)
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write (default: <reports folder>/<TABLE>.<format>).")
@click.option("--separator", type=click.Choice(SEPARATORS), default=CONFIG.reports.csv_separator,
              show_default=True)
def export_table(table_name: str, fmt: str, out_file: Path | None, separator: str) -> None:
    """Export any table to CSV (UTF-8 with BOM) or Excel, streaming it in pages."""
    from shrinkage.app import reports

    engine = state().engine()
    with progress_bar(reports.table_rows(engine, table_name), table_name, "row") as bar:
        path, written = reports.export_table(engine, table_name, fmt, out_file, separator=_separator(separator),
                                             advance=bar.update)
    click.echo(f"{written} row(s) of {table_name} written to {path}")


export.add_command(export_coefficients_cmd)


# --- import ---------------------------------------------------------------------------------

@click.command("import")
@click.argument("kind", type=click.Choice(("surplus-specifications", "priority-periods", "product-type-keywords")))
@click.argument("file", type=click.Path(path_type=Path))
def import_reference(kind: str, file: Path) -> None:
    """Import reference data from CSV/XLSX; the whole file or nothing, with row-level errors."""
    from shrinkage.app.reference import import_reference_file

    current = state()
    outcome = import_reference_file(current.engine(), kind, file, user=current.user,
                                    keywords_file=current.keywords_file)
    click.echo(outcome.message)


COMMANDS = [review, report, export, import_reference]
