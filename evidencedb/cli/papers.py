"""Commands on a review's papers and its PRISMA 2020 flow."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from evidencedb.cli.common import (
    Format,
    FormatOpt,
    ReviewOpt,
    app,
    emit,
    open_session,
)


@app.command()
def papers(review: ReviewOpt = None, fmt: FormatOpt = Format.table) -> None:
    """Papers of a review: imported, screened or included."""
    from evidencedb import papers as paper_reads
    from evidencedb import queries

    with open_session() as session:
        r = queries.get_review(review, session=session)
        rows = paper_reads.list_papers(r, session=session)
    emit([asdict(p) for p in rows], fmt, title=f"Papers of {r.slug}")


@app.command()
def prisma(review: ReviewOpt = None, fmt: FormatOpt = Format.table,
           diagram: Annotated[Path | None, typer.Option(metavar="FILE",
                                                        help="Also draw the flow diagram (.png or .svg).")] = None
           ) -> None:
    """PRISMA 2020 flow counts of a review, and its diagram.

    Counts come from the review's citation imports and screening decisions.
    """
    import json
    from dataclasses import asdict

    from evidencedb import prisma as flow
    from evidencedb import queries

    with open_session() as session:
        r = queries.get_review(review, session=session)
        counts = flow.prisma_counts(r, session=session)
    if diagram is not None:
        flow.draw_prisma(counts, diagram)
    if fmt is Format.json:
        typer.echo(json.dumps({**asdict(counts), "identified_total": counts.identified_total}, indent=2,
                              ensure_ascii=False))
    else:
        emit([{k: ("not reported" if v is None and fmt is Format.table else v) for k, v in row.items()}
              for row in flow.count_rows(counts)], fmt, title=f"PRISMA 2020 flow of {r.slug}")
    if diagram is not None:
        typer.echo(f"wrote {diagram}", err=fmt is not Format.table)
