"""Writing a planned extraction-sheet import: bulk inserts, audited updates, one regrade.

Why this module exists: an import of 100,000 rows must be one transaction that takes seconds, not one
ORM object and one flush per row.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from sqlmodel import Session

from evidencedb import curation
from evidencedb.bulk import (
    bulk_insert,
    ids_by,
    indexes_deferred,
    insert_columns,
    insert_papers,
    page_cache,
    table_of,
)
from evidencedb.io.sheet.plan import ImportPlan, NewPaper
from evidencedb.io.sheet.types import ImportReport, ParsedSheet
from evidencedb.models import (
    Biomarker,
    Finding,
    Review,
    Study,
    utcnow,
)
from evidencedb.schemas import FindingIn
from evidencedb.scoring import Scheme


def apply_import(plan: ImportPlan, parsed: ParsedSheet, review: Review | None, scheme: Scheme,
                 report: ImportReport, known: dict[str, tuple[int, str]], *, session: Session, actor: str) -> Review:
    """Write a planned import in the caller's transaction, then regrade the review once.

    Returns:
        The review written to (created when the database had none).
    """
    with page_cache(session):
        return _apply(plan, parsed, review, scheme, report, known, session=session, actor=actor)


def _apply(plan: ImportPlan, parsed: ParsedSheet, review: Review | None, scheme: Scheme,
           report: ImportReport, known: dict[str, tuple[int, str]], *, session: Session, actor: str) -> Review:
    if review is None:
        scheme_row = curation.ensure_scheme(scheme, session=session)
        review = curation.create_review(session=session, slug=report.review, title=f"Review {report.review}",
                                        scheme=scheme_row, actor=actor)
    assert review.id is not None
    session.flush()
    now = utcnow()
    audits: list[dict[str, Any]] = []  # curation.audit_row's arguments; the rows (and their JSON) are built later

    def audit(table: str, key: str, new: dict[str, Any], action: str = "insert",
              old: dict[str, Any] | None = None) -> None:
        audits.append({"actor": actor, "action": action, "table": table, "key": key, "old": old, "new": new,
                       "at": now})

    rows: list[dict[str, Any]] = [{"name": m.name, "category": m.category, "description": m.description}
                                  for m in parsed.new_markers.values()]
    bulk_insert(session, table_of(Biomarker), rows)
    names = [r["name"] for r in rows]
    marker_ids = {k.lower(): v for k, v in ids_by(session, Biomarker.id, Biomarker.name, names).items()}
    marker_ids.update({k: v[0] for k, v in known.items()})
    for row in rows:
        audit("biomarker", row["name"], row)

    new_paper_ids, paper_rows = _insert_papers(session, plan, parsed, now)
    paper_id = {label: (new_paper_ids[k] if isinstance(k, NewPaper) else k) for label, k in plan.paper_of.items()}
    for key, pid in new_paper_ids.items():
        audit("paper", str(pid), {**paper_rows[key], "id": pid})
    rows = [{**parsed.studies[label].study.model_dump(), "review_id": review.id, "paper_id": paper_id[label],
             "created_at": now, "updated_at": now} for label in plan.new_studies]
    bulk_insert(session, table_of(Study), rows)
    study_ids = ids_by(session, Study.id, Study.label, plan.new_studies, Study.review_id == review.id)
    for row in rows:
        audit("study", row["label"], row)
    study_ids.update({label: s.id for label, s in plan.stored_studies.items() if s.id is not None})
    curation.include_at_full_text(review.id, [paper_id[label] for label in plan.new_studies], session=session,
                                  actor=actor, reason=f"imported from {report.source}", at=now)

    models = [e.finding for e in plan.new_findings]
    with ThreadPoolExecutor(max_workers=1) as encoder:
        if models:
            # A validated model keeps its field values in its __dict__: read them as items, a row at a time, in C.
            fields = [n for n in FindingIn.model_fields if n not in ("biomarker", "curator")]
            columns: dict[str, Sequence[Any]] = dict(zip(
                fields, zip(*map(operator.itemgetter(*fields), map(vars, models)), strict=True), strict=True))
            columns["study_id"] = [study_ids[e.label] for e in plan.new_findings]
            columns["biomarker_id"] = [marker_ids[e.marker] for e in plan.new_findings]
            curator = actor[:curation.ACTOR_LENGTH]
            columns["curator"] = [m.curator or curator for m in models]
            columns["created_at"] = columns["updated_at"] = [now] * len(models)
            with indexes_deferred(session, table_of(Finding), len(models)):
                insert_columns(session, table_of(Finding), columns)
                del columns
                # From here on the database works in long single statements (building the indexes,
                # regrading), during which SQLite lets go of the interpreter: meanwhile a second thread
                # builds the audit rows gathered so far (their JSON).
                built = encoder.submit(_audit_rows, list(audits))
        else:
            built = encoder.submit(_audit_rows, list(audits))
        for finding, entry, changed in plan.updates:
            old = {n: getattr(finding, n) for n in changed}
            for name in changed:
                setattr(finding, name, getattr(entry.finding, name))
            finding.updated_at = now
            session.add(finding)
            audit("finding", str(finding.id), {n: getattr(finding, n) for n in changed}, action="update", old=old)
        audit("finding", report.source, {"review": review.slug, "rows": report.rows, "findings_added": len(models),
                                         "findings_changed": len(plan.updates), "studies_added": len(plan.new_studies),
                                         "papers_added": len(new_paper_ids), "biomarkers_added": len(names)},
              action="import")
        session.flush()
        curation.refresh_review(review, session=session)
        ready = built.result()
    curation.write_audit(session, ready + _audit_rows(audits[len(ready):]))
    return review


def _audit_rows(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [curation.audit_row(**entry) for entry in entries]


def _insert_papers(session: Session, plan: ImportPlan, parsed: ParsedSheet, now: datetime
                   ) -> tuple[dict[NewPaper, int], dict[NewPaper, dict[str, Any]]]:
    """Insert the sheet's new papers; their ids and rows by paper key."""
    keys = list(dict.fromkeys(k for k in plan.paper_of.values() if isinstance(k, NewPaper)))
    first_study = {key: label for label, key in reversed(plan.paper_of.items())}
    rows = {k: {**parsed.studies[first_study[k]].paper.model_dump(), "created_at": now} for k in keys}
    return dict(zip(keys, insert_papers(session, [rows[k] for k in keys]), strict=True)), rows
