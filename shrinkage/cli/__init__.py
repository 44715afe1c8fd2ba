"""The `shrinkage` command: thin over ``shrinkage.app`` (parse, call, print).

Every command is declared at module level in one of this package's modules and added to
``main`` here; plugins (the Dagster layer's ``run`` / ``demo``) register through the
``shrinkage.commands`` entry point group so that this core package never imports Dagster.
Shared state (settings, a lazily created engine) travels in ``ctx.obj`` (:class:`CliState`);
every expected failure becomes one :class:`CliError` with its exit code, shown as one line
by one handler (:class:`ShrinkageGroup`), never a traceback.
"""

from __future__ import annotations

import logging
from importlib.metadata import entry_points

import click

from shrinkage.cli.common import CliError, CliState, ShrinkageGroup
from shrinkage.logs import setup_logging

__all__ = ["CliError", "CliState", "main"]


@click.group(cls=ShrinkageGroup)
@click.option("-v", "--verbose", is_flag=True, help="Show the detailed log.")
@click.version_option(package_name="shrinkage")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """Measure and forecast storage shrinkage of fish products from 1C reports."""
    # Library progress lines go to the log at INFO; the CLI shows bars and summaries instead.
    setup_logging(logging.DEBUG if verbose else logging.WARNING)
    ctx.ensure_object(CliState)


def _register() -> None:
    from shrinkage.cli import db, ingest, model, reports

    for module in (db, ingest, model, reports):
        for command in module.COMMANDS:
            main.add_command(command)
    for entry in entry_points(group="shrinkage.commands"):
        entry.load()(main)


_register()
