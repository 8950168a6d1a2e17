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
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from evidencedb.formatting import json_number, score_text

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlmodel import Session




def command_group(help: str) -> typer.Typer:
    """A Typer app with the settings every group shares.

    Help is plain text (``rich_markup_mode=None``): square brackets in help strings, such as an
    extra's name, are printed as written instead of being read as markup, flags show no value
    placeholder, and lines wrap between words at any terminal width.
    """
    return typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                       rich_markup_mode=None, help=help)


app = command_group("A living, recomputable evidence database of CAR-T cell therapy biomarkers.")
scheme_app = command_group("Scoring schemes: list, show and add versions.")
db_app = command_group("Schema migrations.")
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

ReviewOpt = Annotated[str | None, typer.Option("--review", "-r", metavar="SLUG",
                                               help="Review slug (default: the first review).")]
SchemeOpt = Annotated[str | None, typer.Option("--scheme", metavar="NAME[@VERSION]",
                                               help="Scoring scheme (default: the review's).")]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", metavar="table|csv|json", help="Output format.")]


@app.callback()
def _main(db: Annotated[str | None, typer.Option("--db", envvar="EVIDENCEDB_URL", show_envvar=True, metavar="URL",
                                                help="Database URL or SQLite file path.")] = None) -> None:
    state["db"] = db


def open_engine(create_dirs: bool = False) -> Engine:
    from evidencedb.db import make_engine

    return make_engine(state["db"], create_dirs=create_dirs)


@contextmanager
def open_session(write: bool = False) -> Iterator[Session]:
    """One transaction on the command's database, after checking that it exists at this code's schema.

    Raises:
        DatabaseError: no database file there (nothing is created), or its schema is missing, older or
            newer than this version's (see :mod:`evidencedb.schema`).
    """
    from evidencedb import schema
    from evidencedb.db import session_scope

    engine = open_engine()
    try:
        where = engine.url.render_as_string(hide_password=True)
        path = engine.url.database if engine.dialect.name == "sqlite" else None
        if path and path != ":memory:" and not Path(path).exists():
            from evidencedb.errors import DatabaseError

            raise DatabaseError(f"no database at {path}: `evidencedb init` (with the same --db) creates it")
        with session_scope(engine, write=write) as session:
            schema.check_revision(schema.stored_revision(session.connection()), where=where)
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
    print_table(rows, title=title)


#: Column headers as a reader says them; other keys are shown with spaces for underscores.
HEADERS = {"n_studies": "studies", "n_conflicting": "conflicting", "n_patients": "N", "n_findings": "findings",
           "study_id": "study", "grade_class": "class", "old_score": "old score", "old_level": "old level",
           "new_score": "new score", "new_level": "new level", "min_score": "from score"}
#: Columns this narrow are never cut; wider ones may be cut (with "…") down to _NARROWEST characters.
_SHORT = 12
_NARROWEST = 10


def header(key: str) -> str:
    """The header of a column: :data:`HEADERS`, else the key with spaces for underscores."""
    return HEADERS.get(key, key.replace("_", " "))


def print_table(rows: Sequence[dict[str, Any]], *, title: str | None = None) -> None:
    """Print rows as a table that keeps one line per row at the terminal's width.

    Short columns keep their whole width; long text (quotes, titles, citations) shares what is
    left and is cut with "…", and a caption says where to read it whole. Rows too wide for any table
    at this width are printed as records, one "header: value" line each. No rows: one line saying so.
    """
    if not rows:
        typer.echo(f"{title}: none" if title else "none")
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    names = [header(k) for k in rows[0]]
    cells = [["" if v is None else str(_plain(v)) for v in r.values()] for r in rows]
    natural = [max(len(name), *(len(c[i]) for c in cells)) for i, name in enumerate(names)]
    # Columns up to _SHORT characters keep their width; wider ones may be cut down to _NARROWEST.
    least = [w if w <= _SHORT else max(_NARROWEST, len(name)) for w, name in zip(natural, names, strict=True)]
    room = console.width - 3 * len(names) - 1  # each column's padding and rule, and the last rule
    if sum(least) > room:
        _print_records(console, names, cells, title)
        return
    widths = list(least)
    spare = room - sum(least)
    while spare > 0:  # widen the cut columns a character at a time, narrowest first, up to their natural width
        open_ = [i for i, w in enumerate(widths) if w < natural[i]]
        if not open_:
            break
        widths[min(open_, key=lambda i: widths[i])] += 1
        spare -= 1
    cut = widths != natural
    table = Table(title=title, title_justify="left", caption_justify="left",
                  caption="long text is cut here; --format json or csv shows it whole" if cut else None)
    for name, width in zip(names, widths, strict=True):
        table.add_column(name, no_wrap=True, overflow="ellipsis", width=width)
    for row in cells:
        table.add_row(*row)
    console.print(table)


def _print_records(console: Any, names: list[str], cells: list[list[str]], title: str | None) -> None:
    """Rows as blocks of "header: value" lines, each cut to the terminal's width."""
    from rich.text import Text

    if title:
        console.print(Text(title, style="bold"))
    label = max(len(n) for n in names)
    for number, row in enumerate(cells, 1):
        console.print(Text(f"— {number} —", style="dim"))
        for name, value in zip(names, row, strict=True):
            line = Text(f"{name:>{label}}: {value}")
            line.truncate(console.width, overflow="ellipsis")
            console.print(line, no_wrap=True)
