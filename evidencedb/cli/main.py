"""The ``evidencedb`` entry point: every command group registered, errors turned into one line."""

from __future__ import annotations

import typer

# Each command module registers its commands on the shared app when imported.
from evidencedb.cli import corrections, database, files, grades, papers, reviews, schemes, terminal  # noqa: F401
from evidencedb.cli.common import app


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; library and database errors exit 1 with one line on stderr.

    The cyclic garbage collector is off while a command runs. A command is one short process that
    imports a few hundred thousand objects living as long as it does, which the collector would scan
    again and again for nothing (about 6% of an ``evidencedb markers`` process); reference counting
    still frees everything else, and the TUI turns the collector back on once its first screen is
    drawn. The collector's previous state is restored when the command ends.
    """
    from evidencedb.collector import collector_paused

    with collector_paused():
        _run(argv)


def _run(argv: list[str] | None) -> None:
    try:
        app(args=argv, prog_name="evidencedb", standalone_mode=True)
    except Exception as exc:
        from evidencedb.errors import describe, is_user_error

        if not is_user_error(exc):
            raise
        typer.echo(f"error: {describe(exc)}", err=True)
        raise SystemExit(1) from None
