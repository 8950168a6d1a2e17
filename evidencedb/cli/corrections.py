"""Commands that correct curated data: remove a study or a finding, and read the audit log.

Why this module exists: curators make mistakes; removing a study or a finding must regrade in the same
transaction, say which grades moved, and leave the removed values in the audit log, where `audit`
shows every change with who made it and when.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from evidencedb.cli.common import Format, FormatOpt, ReviewOpt, app, command_group, emit, open_session

if TYPE_CHECKING:
    from evidencedb.grading import GradeChange

study_app = command_group("A review's included studies: remove one.")
finding_app = command_group("Findings: remove one.")
app.add_typer(study_app, name="study")
app.add_typer(finding_app, name="finding")

CuratorOpt = Annotated[str, typer.Option("--curator", metavar="NAME", help="Who removes it (audit log).")]


def _print_moved(changes: Sequence[GradeChange], what: str) -> None:
    typer.echo(what)
    typer.echo(f"grades moved: {len(changes)}" if changes else "grades moved: none")
    for change in changes:
        typer.echo(f"  {change}")


@study_app.command("delete")
def study_delete(label: Annotated[str, typer.Argument(metavar="STUDY", help="The study's label (study_id).")],
                 review: ReviewOpt = None, curator: CuratorOpt = "") -> None:
    """Remove a study with its findings; regrade and print what moved."""
    from evidencedb import curation, queries
    from evidencedb.errors import NotFoundError

    with open_session(write=True) as session:
        r = queries.get_review(review, session=session)
        assert r.id is not None
        study = queries.find_study(r.id, label, session=session)
        if study is None:
            raise NotFoundError(f"no study {label!r} in review {r.slug} (`evidencedb studies -r {r.slug}` lists them)")
        with curation.track_grades(r, session=session) as tracker:
            curation.delete_study(study, session=session, actor=curator)
    _print_moved(tracker.changes, f"study {label} removed from {r.slug} (its values are in the audit log)")


@finding_app.command("delete")
def finding_delete(finding_id: Annotated[int, typer.Argument(metavar="ID", help="The finding's id (`marker NAME "
                                                                                 "--format json` shows ids).")],
                   curator: CuratorOpt = "") -> None:
    """Remove one finding; regrade and print what moved."""
    from evidencedb import curation
    from evidencedb.errors import NotFoundError
    from evidencedb.models import Finding, Review, Study

    with open_session(write=True) as session:
        finding = session.get(Finding, finding_id)
        study = session.get(Study, finding.study_id) if finding is not None else None
        if finding is None or study is None:
            raise NotFoundError(f"no finding {finding_id}")
        r = session.get(Review, study.review_id)
        assert r is not None
        with curation.track_grades(r, session=session) as tracker:
            curation.delete_finding(finding, session=session, actor=curator)
    _print_moved(tracker.changes, f"finding {finding_id} of {study.label} removed (its values are in the audit log)")


@app.command()
def audit(since: Annotated[str | None, typer.Option("--since", metavar="YYYY-MM-DD[THH:MM]",
                                                    help="Only changes at or after this time (UTC).")] = None,
          table: Annotated[str | None, typer.Option("--table", metavar="TABLE",
                                                    help="Only changes to this table (study, finding, review …).")]
          = None,
          actor: Annotated[str | None, typer.Option("--actor", metavar="NAME", help="Only changes by this curator.")]
          = None,
          limit: Annotated[int, typer.Option("--limit", metavar="N", help="At most this many, newest first.")] = 50,
          fmt: FormatOpt = Format.table) -> None:
    """The audit log: who changed what, when, old → new."""
    from evidencedb import queries
    from evidencedb.errors import ValidationError

    try:
        start = datetime.fromisoformat(since) if since else None
    except ValueError:
        raise ValidationError(f"--since {since!r} is not a date or time (YYYY-MM-DD or YYYY-MM-DDTHH:MM)") from None
    with open_session() as session:
        rows = queries.audit_entries(session=session, since=start, table=table, actor=actor, limit=limit)
    emit([{"id": e.id, "at": e.at.isoformat(timespec="seconds"), "actor": e.actor, "action": e.action,
           "table": e.table_name, "row": e.row_key, "old": e.old, "new": e.new} for e in rows], fmt,
         title="Audit log")
