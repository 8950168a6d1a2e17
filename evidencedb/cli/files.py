"""File commands: import, export and extraction-sheet templates."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from evidencedb.cli.common import (
    ReviewOpt,
    SchemeOpt,
    app,
    open_session,
)


class ImportFormat(str, Enum):
    """Formats ``import`` reads: citation files, or extraction sheets."""

    ris = "ris"
    bibtex = "bibtex"
    medline = "medline"
    pubmed_xml = "pubmed-xml"
    csv = "csv"
    xlsx = "xlsx"


@app.command("import")
def import_(path: Annotated[Path, typer.Argument(metavar="FILE",
                                                 help="Citation file (.ris .bib .nbib .txt .xml) or extraction "
                                                      "sheet (.csv .xlsx).")], review: ReviewOpt = None,
            dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and report; write nothing.")] = False,
            curator: Annotated[str, typer.Option(metavar="NAME", help="Curator name recorded on the findings.")] = "",
            fmt: Annotated[ImportFormat | None, typer.Option("--format", "-f", metavar="FORMAT",
                                                             help="ris, bibtex, medline, pubmed-xml, csv or xlsx "
                                                                  "(default: from the extension).")]
            = None,
            source: Annotated[str | None, typer.Option(metavar="NAME",
                                                       help="PRISMA source of citations (default: from the file).")]
            = None) -> None:
    """Import a citation file or an extraction sheet into a review.

    Everything is validated first; one transaction writes all of it or nothing. Citation files
    (RIS, BibTeX, MEDLINE, PubMed XML) add the review's papers; sheets (CSV, XLSX) add studies and
    findings and regrade. --review picks the review (default: the first one).
    """
    from evidencedb.errors import ImportValidationError
    from evidencedb.io.citations.importer import CitationImportReport
    from evidencedb.io.importing import import_file

    try:
        with open_session(write=True) as session:
            report = import_file(path, session=session, fmt=fmt.value if fmt else None, review_slug=review,
                                 dry_run=dry_run, actor=curator, source=source)
    except ImportValidationError as exc:  # every bad row on stderr (if more than the error line names)
        if len(exc.problems) > 1:
            for problem in exc.problems:
                typer.echo(f"{exc.source}: {problem}", err=True)
        raise
    if isinstance(report, CitationImportReport):
        for warning in report.warnings:
            typer.echo(f"warning: {report.file}: {warning}", err=True)
        typer.echo(report.summary())
        for duplicate in report.duplicates:
            typer.echo(f"  duplicate: {duplicate}")
        return
    typer.echo(report.summary())
    for change in report.changes:
        typer.echo(f"  {'would change' if report.dry_run else 'changed'} {change}")


class Table(str, Enum):
    """What can be exported: a table, or ``figures`` (Figure 3 as PNG and SVG into a directory)."""

    studies = "studies"
    findings = "findings"
    grades = "grades"
    markers = "markers"
    summary = "summary"
    figures = "figures"


@app.command()
def export(table: Annotated[Table, typer.Argument(metavar="TABLE",
                                                  help="studies, findings, grades, markers, summary or figures.")],
           path: Annotated[Path, typer.Argument(metavar="PATH",
                                                help="File: .csv, .xlsx, .json or .md; for figures a directory.")],
           review: ReviewOpt = None, scheme: SchemeOpt = None) -> None:
    """Export a table, or the figures into a directory.

    A table's format comes from the file's extension; figures writes figure3 and prisma as PNG and SVG.

    findings is the extraction sheet (it imports back); grades has one row per biomarker × study with
    each study's contribution; summary is the review's Table 1.
    """
    from evidencedb import queries
    from evidencedb.io import export as exporting

    if table is Table.figures:
        from evidencedb import figures, prisma

        with open_session() as session:
            r = queries.get_review(review, session=session)
            s = queries.get_scheme(scheme, session=session, review=r)
            data = figures.figure3_data(r, session=session, scheme=s)
            flow = prisma.prisma_counts(r, session=session)
        for written in figures.draw_figure3(data, path):
            typer.echo(str(written))
        flow_paths = (path / "prisma.png", path / "prisma.svg")
        prisma.draw_prisma(flow, *flow_paths)
        for written in flow_paths:
            typer.echo(str(written))
        return
    exporting.format_of(path)
    with open_session() as session:
        r = queries.get_review(review, session=session)
        s = queries.get_scheme(scheme, session=session, review=r)
        built = exporting.build_table(table.value, r, session=session, scheme=s)
    exporting.write_table(built, path)
    typer.echo(f"wrote {len(built.rows)} {table.value} rows of {r.slug} to {path}")


@app.command()
def template(path: Annotated[Path, typer.Argument(metavar="FILE", help="Where to write the sheet (.csv or .xlsx).")],
             review: Annotated[str | None, typer.Option("--review", "-r", metavar="SLUG",
                                                        help="Offer the designs of this review's "
                                                        "scheme (default: the bundled ke-zhou-2025 scheme).")]
             = None) -> None:
    """Write an extraction-sheet template with every column.

    .csv writes the sheet and NAME.columns.txt describing the columns; .xlsx writes drop-down lists
    for columns with allowed values and a "columns" worksheet describing every column.
    """
    from evidencedb.io.sheet.tables import write_template

    designs: list[str] = []
    if review is not None:
        from evidencedb import queries

        with open_session() as session:
            r = queries.get_review(review, session=session)
            designs = sorted(queries.load_scheme(queries.get_scheme(None, session=session, review=r),
                                                 session=session).designs)
    written = write_template(path, designs=designs)
    typer.echo(f"wrote {', '.join(str(p) for p in written)}")
