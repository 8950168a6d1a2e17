"""Extraction sheets: one row per finding, study columns repeated.

Why this module exists: curators extract in spreadsheets. ``import_sheet`` validates every row (types,
allowed values, units, designs known to the review's scheme, DOI/PMID syntax, rows of one study
agreeing, rows against what is stored) and reports every bad row with its column and reason before
anything is written; then it writes everything in the caller's single transaction, set-based, and
regrades once. Exports of the same columns are :mod:`evidencedb.io.sheet.rows`.

Re-importing: a row whose finding identity (study, biomarker, outcome and category, measure, timepoint,
specimen, assay, threshold comparator/value/upper value/unit, analysis, effect measure) is already
stored is either the same finding (counted as present, not stored twice) or a correction of it: the
stored finding is updated, with an audit row old → new, and a dry run lists it as "would change". A
stored study's own columns are never changed by an import: a disagreement is reported as a bad row.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from evidencedb import queries
from evidencedb.collector import collector_paused
from evidencedb.errors import ImportValidationError
from evidencedb.io.sheet.parse import parse_rows
from evidencedb.io.sheet.tables import read_table
from evidencedb.io.sheet.types import ImportReport
from evidencedb.models import Biomarker, Review


def _review_and_scheme(session: Session, review_slug: str | None) -> tuple[Review | None, Any]:
    from evidencedb.scoring import default_scheme

    if review_slug:
        review = queries.find_review(review_slug, session=session)
    else:  # the default review: the first one, if the database holds any
        review = next(iter(queries.list_reviews(session=session)), None)
    if review is None:
        return None, default_scheme()
    row = queries.get_scheme(None, session=session, review=review)
    return review, queries.load_scheme(row, session=session)


def known_biomarkers(*, session: Session) -> dict[str, tuple[int, str]]:
    """Lower-cased names and synonyms of stored biomarkers → (id, category), in two queries."""
    categories: dict[int, str] = dict(session.execute(sa.select(col(Biomarker.id), col(Biomarker.category))).all())
    return {key: (bid, categories[bid]) for key, bid in queries.biomarker_ids_by_key(session=session).items()}


def import_sheet(path: Path, *, session: Session, review_slug: str | None = None, dry_run: bool = False,
                 actor: str = "") -> ImportReport:
    """Validate a whole sheet, then write it in the caller's transaction and regrade the review once.

    A study_id already in the review receives the sheet's findings; a finding identical to a stored
    one is not stored twice; a stored finding with the same identity but other values is updated (and
    audited). With ``dry_run`` the report says what would be added and changed, and nothing is written.
    Without ``review_slug`` the default review is used, or a review ``default`` is created in an empty
    database.

    Raises:
        ValidationError: the file cannot be read as a table (names the file and the place).
        ImportValidationError: listing every bad row, column and reason; nothing is written.
    """
    with collector_paused():  # rows in memory stay alive until the import ends
        return _import(path, session=session, review_slug=review_slug, dry_run=dry_run, actor=actor)


def _import(path: Path, *, session: Session, review_slug: str | None, dry_run: bool, actor: str) -> ImportReport:
    from evidencedb.io.sheet import plan as sheet_plan
    from evidencedb.io.sheet import write as sheet_write

    table = read_table(path)
    review, scheme = _review_and_scheme(session, review_slug)
    known = known_biomarkers(session=session)
    parsed, problems = parse_rows(table, designs=set(scheme.designs), scheme=scheme.label, known=known)
    source, n_rows = table.source, len(table.rows)
    del table  # every cell as read: its memory is reused by the writing below
    plan = sheet_plan.plan_import(parsed, review, known, session=session)
    problems += plan.problems
    if problems:
        raise ImportValidationError(source, sorted(problems, key=lambda p: p.row))
    report = ImportReport(source, review.slug if review else (review_slug or "default"), rows=n_rows,
                          dry_run=dry_run, review_created=review is None)
    report.biomarkers_added = sorted(m.name for m in parsed.new_markers.values())
    report.studies_added = len(plan.new_studies)
    report.papers_added = plan.n_new_papers
    report.findings_added = len(plan.new_findings)
    report.findings_present = plan.n_present
    report.changes = plan.changes
    report.findings_changed = len(plan.changes)
    if not dry_run:
        sheet_write.apply_import(plan, parsed, review, scheme, report, known, session=session, actor=actor)
    return report
