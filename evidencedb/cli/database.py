"""Commands that create, migrate and inspect the database schema."""

from __future__ import annotations

from typing import Annotated

import typer

from evidencedb.cli.common import app, db_app, open_engine


@app.command()
def init(
    empty: Annotated[bool, typer.Option("--empty", help="Create the schema only; load no seeds.")] = False,
) -> None:
    """Create or migrate the database and load the seed reviews.

    Migrates the schema to the newest revision, then loads the bundled knowledge base (unless
    --empty). Running it again changes nothing.
    """
    from evidencedb import curation, migrate, seeds
    from evidencedb.db import session_scope
    from evidencedb.scoring import default_scheme

    engine = open_engine(create_dirs=True)
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
def db_upgrade(revision: Annotated[str, typer.Argument(metavar="REVISION", help="Target revision.")] = "head") -> None:
    """Migrate the schema up (to the newest revision by default)."""
    from evidencedb import migrate

    engine = open_engine(create_dirs=True)
    try:
        migrate.upgrade(engine, revision)
        typer.echo(f"schema at {migrate.current_revision(engine)}")
    finally:
        engine.dispose()


@db_app.command("current")
def db_current() -> None:
    """Print the database's schema revision and the newest one."""
    from evidencedb import migrate

    engine = open_engine()
    try:
        typer.echo(f"current: {migrate.current_revision(engine) or 'empty'}; head: {migrate.head_revision(engine)}")
    finally:
        engine.dispose()
