"""The ``evidencedb`` entry point: every command group registered, errors turned into one line."""

from __future__ import annotations

import typer

# Each command module registers its commands on the shared app when imported.
from evidencedb.cli import database, files, grades, papers, reviews, schemes, terminal  # noqa: F401
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
    from evidencedb.errors import EvidenceDBError, describe_database_error

    try:
        app(args=argv, prog_name="evidencedb", standalone_mode=True)
    except EvidenceDBError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(1) from None
    except Exception as exc:
        from sqlalchemy.exc import SQLAlchemyError

        if isinstance(exc, SQLAlchemyError):
            typer.echo(f"error: {describe_database_error(exc)}", err=True)
            raise SystemExit(1) from None
        if isinstance(exc, OSError):
            typer.echo(f"error: {exc.strerror or exc}: {getattr(exc, 'filename', '') or ''}".rstrip(": "), err=True)
            raise SystemExit(1) from None
        raise
