"""What every command of the ``evidencedb`` CLI shares: the app, its options, sessions and output.

Why this module exists: each command group has its own module and registers on the one ``app``
defined here; none of them imports another. Heavy libraries (Alembic, pandas, YAML) are imported
inside the commands that need them, so ``evidencedb markers`` starts as fast as its imports allow.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from evidencedb.formatting import json_number, score_text

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlmodel import Session


app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="A living, recomputable evidence database of CAR-T cell therapy biomarkers.")
scheme_app = typer.Typer(no_args_is_help=True, help="Scoring schemes: list and show versions.")
db_app = typer.Typer(no_args_is_help=True, help="Schema migrations.")
app.add_typer(scheme_app, name="scheme")
app.add_typer(db_app, name="db")


class Format(str, Enum):
    """Output formats of every listing."""

    table = "table"
    csv = "csv"
    json = "json"


class GradeClass(str, Enum):
    """Classes of biomarkers."""

    dual = "dual"
    efficacy = "efficacy"
    toxicity = "toxicity"



state: dict[str, str | None] = {"db": None}

ReviewOpt = Annotated[str | None, typer.Option("--review", "-r", help="Review slug (default: the first review).")]
SchemeOpt = Annotated[str | None, typer.Option("--scheme", help="Scheme NAME or NAME@VERSION (default: the review's).")]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]


@app.callback()
def _main(db: Annotated[str | None, typer.Option("--db", envvar="EVIDENCEDB_URL", show_envvar=True,
                                                help="Database URL or SQLite file path.")] = None) -> None:
    state["db"] = db


def open_engine(create_dirs: bool = False) -> Engine:
    from evidencedb.db import make_engine

    return make_engine(state["db"], create_dirs=create_dirs)


@contextmanager
def open_session(write: bool = False) -> Iterator[Session]:
    from evidencedb.db import session_scope

    engine = open_engine()
    try:
        with session_scope(engine, write=write) as session:
            yield session
    finally:
        engine.dispose()


# --------------------------------------------------------------------------------------------------
# Output


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return score_text(value)
    return value


def emit(rows: Sequence[dict[str, Any]], fmt: Format, *, title: str | None = None) -> None:
    """Print rows as a Rich table, CSV or JSON (a list of objects)."""
    if fmt is Format.json:
        typer.echo(json.dumps([{k: json_number(v) for k, v in r.items()} for r in rows], ensure_ascii=False, indent=2))
        return
    if fmt is Format.csv:
        import csv

        writer = csv.writer(sys.stdout, lineterminator="\n")
        if rows:
            writer.writerow(rows[0].keys())
        for r in rows:
            writer.writerow(["" if v is None else _plain(v) for v in r.values()])
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for key in rows[0].keys() if rows else ["(no rows)"]:
        table.add_column(key, overflow="fold")
    for r in rows:
        table.add_row(*("" if v is None else str(_plain(v)) for v in r.values()))
    Console().print(table)
