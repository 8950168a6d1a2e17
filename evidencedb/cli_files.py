"""File commands of the ``evidencedb`` CLI: import, export and templates.

Why this module exists: moving data in and out of files is the largest group of commands; keeping it
apart keeps ``cli.py`` to the query and grading commands. Commands register on the shared ``app``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from evidencedb.cli import ReviewOpt, _session, app


@app.command("import")
def import_(path: Annotated[Path, typer.Argument(help="Extraction sheet (.csv or .xlsx).")], review: ReviewOpt = None,
            dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and report; write nothing.")] = False,
            curator: Annotated[str, typer.Option(help="Curator name recorded on the findings.")] = "") -> None:
    """Import an extraction sheet: every row is validated first; one bad row and nothing is written."""
    from evidencedb import sheet

    with _session(write=True) as session:
        report = sheet.import_sheet(path, session=session, review_slug=review, dry_run=dry_run, actor=curator)
    verb = "would add" if report.dry_run else "added"
    typer.echo(f"{report.source}: {report.rows} rows; {verb} {report.studies_added} studies, "
               f"{report.findings_added} findings, {len(report.biomarkers_added)} biomarkers"
               + (f" ({', '.join(report.biomarkers_added)})" if report.biomarkers_added else "")
               + (f"; {report.findings_present} findings already present" if report.findings_present else "")
               + f" → review {report.review}")


class Table(str, Enum):
    """Tables that can be exported."""

    findings = "findings"
    studies = "studies"
    markers = "markers"


@app.command()
def export(table: Annotated[Table, typer.Argument(help="What to export.")],
           path: Annotated[Path, typer.Argument(help="Output file: .csv or .json.")], review: ReviewOpt = None) -> None:
    """Export findings (as an extraction sheet), studies or graded markers to CSV or JSON."""
    from evidencedb import queries, sheet

    with _session() as session:
        r = queries.get_review(review, session=session)
        if table is Table.findings:
            rows = list(sheet.finding_rows(r, session=session))
            columns: Sequence[str] = sheet.COLUMNS
        elif table is Table.studies:
            rows = [asdict(s) for s in queries.list_studies(r, session=session)]
            columns = list(rows[0]) if rows else ["study_id"]
        else:
            rows = [asdict(m) for m in queries.list_markers(r, session=session)]
            columns = list(rows[0]) if rows else ["biomarker"]
    sheet.write_table(rows, path, columns)
    typer.echo(f"wrote {len(rows)} {table.value} of {r.slug} to {path}")


@app.command()
def template(path: Annotated[Path, typer.Argument(help="Where to write the empty sheet (.csv).")]) -> None:
    """Write an empty extraction sheet with every column and one example row."""
    from evidencedb import sheet

    sheet.write_template(path)
    typer.echo(f"wrote {path} (allowed values in {path.with_suffix('.columns.txt')})")
