"""The ``evidencedb`` command line: a thin layer over ``queries``, ``curation`` and ``sheet``.

Why this module exists: to turn commands into library calls and library errors into one clear line
and a non-zero exit. Heavy libraries (Alembic, pandas, YAML) are imported inside the commands that
need them, so ``evidencedb markers`` starts as fast as its own imports allow.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from evidencedb.scoring import json_number, score_text

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



_state: dict[str, str | None] = {"db": None}

ReviewOpt = Annotated[str | None, typer.Option("--review", "-r", help="Review slug (default: the first review).")]
SchemeOpt = Annotated[str | None, typer.Option("--scheme", help="Scheme NAME or NAME@VERSION (default: the review's).")]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]


@app.callback()
def _main(db: Annotated[str | None, typer.Option("--db", envvar="EVIDENCEDB_URL", show_envvar=True,
                                                help="Database URL or SQLite file path.")] = None) -> None:
    _state["db"] = db


def _engine(create_dirs: bool = False) -> Engine:
    from evidencedb.db import make_engine

    return make_engine(_state["db"], create_dirs=create_dirs)


@contextmanager
def _session(write: bool = False) -> Iterator[Session]:
    from evidencedb.db import session_scope

    engine = _engine()
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


# --------------------------------------------------------------------------------------------------
# Commands


@app.command()
def init(
    empty: Annotated[bool, typer.Option("--empty", help="Create the schema only; load no seeds.")] = False,
) -> None:
    """Create or migrate the database to the newest schema and load the bundled knowledge base."""
    from evidencedb import curation, migrate, seeds
    from evidencedb.db import session_scope
    from evidencedb.scoring import default_scheme

    engine = _engine(create_dirs=True)
    try:
        before = migrate.current_revision(engine)
        migrate.upgrade(engine)
        after = migrate.current_revision(engine)
        with session_scope(engine, write=True) as session:
            curation.ensure_scheme(default_scheme(), session=session)
            report = None if empty else seeds.load_seeds(session=session)
    finally:
        engine.dispose()
    typer.echo(f"database: {engine.url.render_as_string(hide_password=True)}")
    typer.echo(f"schema: {before or 'empty'} → {after}" if before != after else f"schema: at {after} (unchanged)")
    if report is not None:
        if report.changed:
            typer.echo(f"seeds: added {report.studies_added} studies, {report.findings_added} findings, "
                       f"{report.biomarkers_added} biomarkers ({', '.join(report.reviews)})")
        else:
            typer.echo(f"seeds: already loaded ({report.studies_present} studies present)")


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Migrate the schema up (to the newest revision by default)."""
    from evidencedb import migrate

    engine = _engine(create_dirs=True)
    try:
        migrate.upgrade(engine, revision)
        typer.echo(f"schema at {migrate.current_revision(engine)}")
    finally:
        engine.dispose()


@db_app.command("current")
def db_current() -> None:
    """Print the schema revision of the database and the newest one this version ships."""
    from evidencedb import migrate

    engine = _engine()
    try:
        typer.echo(f"current: {migrate.current_revision(engine) or 'empty'}; head: {migrate.head_revision(engine)}")
    finally:
        engine.dispose()


@app.command()
def reviews(fmt: FormatOpt = Format.table) -> None:
    """List the reviews in the database."""
    from evidencedb import queries

    with _session() as session:
        rows = [{"review": r.slug, "title": r.title, "disease": r.disease_scope, "doi": r.doi}
                for r in queries.list_reviews(session=session)]
    emit(rows, fmt, title="Reviews")


@app.command()
def markers(
    review: ReviewOpt = None,
    min_level: Annotated[str | None, typer.Option("--min-level", help="Only this level or stronger (e.g. A).")] = None,
    grade_class: Annotated[GradeClass | None, typer.Option("--class", help="dual, efficacy or toxicity.")] = None,
    scheme: SchemeOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Graded biomarkers, strongest first."""
    from evidencedb import queries

    with _session() as session:
        r = queries.get_review(review, session=session)
        s = queries.get_scheme(scheme, session=session, review=r)
        rows = queries.list_markers(r, session=session, scheme=s, min_level=min_level,
                                    grade_class=grade_class.value if grade_class else None)
    emit([{"biomarker": m.biomarker, "category": m.category, "score": m.score, "level": m.level,
           "n_studies": m.n_studies, "n_conflicting": m.n_conflicting, "class": m.grade_class} for m in rows],
         fmt, title=f"{r.slug} · {s.name}@{s.version}")


@app.command()
def marker(name: Annotated[str, typer.Argument(help="Biomarker name or synonym.")], review: ReviewOpt = None,
           scheme: SchemeOpt = None, fmt: FormatOpt = Format.table) -> None:
    """Explain one grade: contributing studies, conflicting studies, thresholds and quotes."""
    from evidencedb import queries

    with _session() as session:
        r = queries.get_review(review, session=session)
        s = queries.get_scheme(scheme, session=session, review=r)
        ex = queries.explain_marker(r, name, session=session, scheme=s)
    res = ex.result
    if fmt is not Format.table:
        data = {
            "biomarker": ex.biomarker.name, "category": ex.biomarker.category, "synonyms": list(ex.synonyms),
            "review": ex.review, "scheme": ex.scheme, "scheme_hash": ex.scheme_hash, "score": res.score,
            "level": res.level, "class": res.grade_class, "n_studies": res.n_studies,
            "contributions": [{"study": c.study, "design": c.design, "coefficient": c.coefficient,
                               "categories": list(c.categories)} for c in res.contributions],
            "conflicting": list(res.conflicting),
            "findings": [asdict(f) for f in ex.findings],
        }
        if fmt is Format.json:
            typer.echo(json.dumps(data, default=json_number, ensure_ascii=False, indent=2))
        else:
            emit([{k: v for k, v in asdict(f).items()} for f in ex.findings], fmt)
        return
    from rich.console import Console

    console = Console()
    console.print(f"[bold]{ex.biomarker.name}[/bold] ({ex.biomarker.category}) — {ex.review}, {ex.scheme}")
    if ex.synonyms:
        console.print(f"synonyms: {', '.join(ex.synonyms)}")
    console.print(f"score [bold]{res.score}[/bold] → level [bold]{res.level}[/bold], class {res.grade_class}, "
                  f"{res.n_studies} supporting studies, {len(res.conflicting)} conflicting")
    emit([{"study": c.study, "design": c.design, "coefficient": c.coefficient, "outcomes": ", ".join(c.categories)}
          for c in res.contributions], Format.table, title="Contributing studies")
    if res.conflicting:
        console.print("conflicting (no association, add nothing): " + ", ".join(res.conflicting))
    emit([{"study": f.study, "measure": f.measure, "threshold": f.threshold,
           "outcome": f.outcome, "category": f.outcome_category, "association": f.association,
           "result": f.group_results or f.effect or "", "p": f.p_value, "quote": f.quote} for f in ex.findings],
         Format.table, title="Findings and thresholds")


@app.command()
def studies(review: ReviewOpt = None, fmt: FormatOpt = Format.table) -> None:
    """Included studies of a review."""
    from evidencedb import queries

    with _session() as session:
        r = queries.get_review(review, session=session)
        rows = queries.list_studies(r, session=session)
    emit([{"study_id": s.study_id, "citation": s.citation, "doi": s.doi, "pmid": s.pmid, "year": s.year,
           "design": s.design, "n_patients": s.n_patients, "population": s.population, "target": s.target,
           "n_findings": s.n_findings} for s in rows], fmt, title=f"Studies of {r.slug}")


@app.command()
def grade(review: ReviewOpt = None, scheme: SchemeOpt = None,
          rebuild: Annotated[bool, typer.Option(
              "--rebuild", help="Also recompute the evidence tallies from findings.")] = False,
          fmt: FormatOpt = Format.table) -> None:
    """Recompute the grades of a review and print what changed."""
    from evidencedb import curation, grading, queries

    with _session(write=True) as session:
        r = queries.get_review(review, session=session)
        s = queries.get_scheme(scheme, session=session, review=r)
        assert r.id is not None
        with curation.track_grades(r, session=session, scheme=s) as tracker:
            if rebuild:
                grading.rebuild(session, r.id)
            grading.regrade(session, r.id, s)
    changes = tracker.changes
    if fmt is Format.table and not changes:
        typer.echo(f"{tracker.n_after} grades of {r.slug} under {s.name}@{s.version}: nothing changed")
        return
    emit([{"biomarker": c.biomarker, "old_score": c.old_score, "old_level": c.old_level, "new_score": c.new_score,
           "new_level": c.new_level} for c in changes], fmt, title=f"Grades changed ({s.name}@{s.version})")


@scheme_app.command("list")
def scheme_list(fmt: FormatOpt = Format.table) -> None:
    """Stored scoring schemes."""
    from evidencedb import queries

    with _session() as session:
        rows = [{"scheme": s.name, "version": s.version, "hash": s.content_hash[:12], "description": s.description}
                for s in queries.list_schemes(session=session)]
    emit(rows, fmt, title="Scoring schemes")


@scheme_app.command("show")
def scheme_show(spec: Annotated[str | None, typer.Argument(help="NAME or NAME@VERSION.")] = None,
                fmt: FormatOpt = Format.table) -> None:
    """A scheme's coefficients, level cut-offs and content hash."""
    from evidencedb import queries

    with _session() as session:
        row = queries.get_scheme(spec, session=session)
        scheme = queries.load_scheme(row, session=session)
    if fmt is Format.json:
        typer.echo(json.dumps({**scheme.canonical(), "content_hash": scheme.content_hash,
                               "description": scheme.description, "source": scheme.source}, indent=2))
        return
    typer.echo(f"{scheme.label}  sha256 {scheme.content_hash}")
    emit([{"design": d, "coefficient": c} for d, c in sorted(scheme.designs.items(), key=lambda kv: -kv[1])], fmt,
         title="Study-design coefficients")
    emit([{"level": lv.level, "min_score": lv.min_score, "meaning": lv.meaning} for lv in scheme.levels], fmt,
         title="Levels (half-open: min_score ≤ score < next)")


@scheme_app.command("add")
def scheme_add(path: Annotated[Path, typer.Argument(help="Scheme JSON file (see evidencedb/data).")]) -> None:
    """Store a new scheme version (an existing name@version is never rewritten)."""
    from evidencedb import curation
    from evidencedb.scoring import Scheme

    scheme = Scheme.from_file(path)
    with _session(write=True) as session:
        row = curation.ensure_scheme(scheme, session=session)
    typer.echo(f"scheme {row.name}@{row.version} stored (sha256 {row.content_hash})")


@app.command()
def tui(review: ReviewOpt = None) -> None:
    """Open the curation terminal UI (needs the ``tui`` extra: pip install 'evidencedb[tui]')."""
    try:
        from tui.app import run
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] == "textual":
            from evidencedb.errors import EvidenceDBError

            raise EvidenceDBError("the terminal UI needs Textual: pip install 'evidencedb[tui]'") from None
        raise
    run(_state["db"], review=review)  # turns the garbage collector back on once its first screen is drawn


# --------------------------------------------------------------------------------------------------
# Entry point: errors become one line


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


# The file commands (import, export, template …) live in their own module and register on ``app``.
from evidencedb import cli_files  # noqa: E402,F401

if __name__ == "__main__":
    main()
