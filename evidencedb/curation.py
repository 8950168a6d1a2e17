"""Curation writes: the only code that changes papers, studies, biomarkers and findings.

Why this module exists: every write validates first, leaves an audit row, and refreshes the grades it
touches before the caller's transaction commits, so no reader ever sees a stale grade. Functions take
a keyword-only ``session`` and never commit: the caller owns the transaction (``db.session_scope``),
so a batch of writes rolls back as one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError as PydanticValidationError
from sqlmodel import Session, SQLModel, col

from evidencedb import grading, queries
from evidencedb.bulk import bulk_insert, chunks, table_of
from evidencedb.errors import DuplicateError, NotFoundError, UnknownDesignError, ValidationError
from evidencedb.formatting import first_error
from evidencedb.models import (
    AuditLog,
    Biomarker,
    BiomarkerSynonym,
    Finding,
    Paper,
    Review,
    ReviewPaper,
    SchemeDesign,
    SchemeLevel,
    ScoringScheme,
    Screening,
    Study,
    utcnow,
)
from evidencedb.schemas import BiomarkerIn, FindingIn, PaperIn, ReviewFields, ReviewIn, StudyIn
from evidencedb.scoring import Scheme

#: Characters of an actor as stored (audit rows, a finding's curator, an import batch) and of an audit
#: row's key: their columns' length. Longer values are cut, the same way on every path and backend.
ACTOR_LENGTH = 80
#: Why a study's paper is included at full text when the path that added the study gives no reason.
INCLUDED_STUDY = "included study"


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):  # and datetime
        return value.isoformat()
    return value


def _row(obj: SQLModel) -> dict[str, Any]:
    return {k: _jsonable(v) for k, v in obj.model_dump().items()}


# --------------------------------------------------------------------------------------------------
# The audit log: one row builder for every path (single writes and bulk imports alike)


def audit_json(data: Mapping[str, Any]) -> str:
    """How the audit log stores a row's values: sorted JSON, decimals as exact text, times in ISO 8601."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, default=_jsonable)


def audit_row(*, actor: str, action: str, table: str, key: str, old: Mapping[str, Any] | None = None,
              new: Mapping[str, Any] | None = None, at: datetime | None = None) -> dict[str, Any]:
    """One audit-log row as column values: who, what, when, old → new.

    Every path builds its rows here, so that they agree: the actor and the row key are cut to their
    columns' length, and old and new values are canonical JSON (:func:`audit_json`). ``at`` defaults to now.
    """
    return {"at": at or utcnow(), "actor": actor[:ACTOR_LENGTH], "action": action, "table_name": table,
            "row_key": key[:ACTOR_LENGTH], "old": None if old is None else audit_json(old),
            "new": None if new is None else audit_json(new)}


def write_audit(session: Session, rows: list[dict[str, Any]]) -> None:
    """Write many rows built by :func:`audit_row` in one bulk insert (imports)."""
    bulk_insert(session, table_of(AuditLog), rows)


def audit(session: Session, *, actor: str, action: str, obj: SQLModel, key: str,
          old: Mapping[str, Any] | None = None, new: Mapping[str, Any] | None = None) -> None:
    """Record a change of one row (``obj``'s table) in the caller's transaction."""
    table = str(getattr(obj, "__tablename__", type(obj).__name__))
    session.add(AuditLog(**audit_row(actor=actor, action=action, table=table, key=key, old=old, new=new)))


def validate(model: type[Any], data: Mapping[str, Any]) -> Any:
    """Build a validated input model, turning pydantic's report into one line."""
    try:
        return model.model_validate(dict(data))
    except PydanticValidationError as exc:
        raise ValidationError(first_error(exc)) from None


# --------------------------------------------------------------------------------------------------
# Schemes and reviews


def ensure_scheme(scheme: Scheme, *, session: Session) -> ScoringScheme:
    """Store a scheme version unless the same content is already stored.

    Raises:
        DuplicateError: the name and version exist with different content (versions are immutable).
    """
    existing: ScoringScheme | None = session.execute(
        sa.select(ScoringScheme).where(col(ScoringScheme.name) == scheme.name,
                                       col(ScoringScheme.version) == scheme.version)
    ).scalar_one_or_none()
    if existing is not None:
        if existing.content_hash != scheme.content_hash:
            raise DuplicateError(
                f"scheme {scheme.label} already exists with different content; give the new one a new version"
            )
        return existing
    row = ScoringScheme(name=scheme.name, version=scheme.version, description=scheme.description,
                        source=scheme.source, content_hash=scheme.content_hash)
    session.add(row)
    session.flush()
    assert row.id is not None
    for design, coefficient in scheme.designs.items():
        session.add(SchemeDesign(scheme_id=row.id, design=design, coefficient=coefficient))
    for level in scheme.levels:
        session.add(SchemeLevel(scheme_id=row.id, level=level.level, min_score=level.min_score,
                                meaning=level.meaning))
    session.flush()
    return row


def create_review(*, session: Session, slug: str, title: str, scheme: ScoringScheme, question: str = "",
                  disease_scope: str = "", citation: str = "", doi: str | None = None,
                  records_identified: int | None = None, actor: str = "") -> Review:
    """Create a review graded by default with ``scheme``."""
    if queries.find_review(slug, session=session) is not None:
        raise DuplicateError(f"review {slug!r} already exists")
    assert scheme.id is not None
    review = Review(slug=slug, title=title, question=question, disease_scope=disease_scope, citation=citation,
                    doi=doi, default_scheme_id=scheme.id, records_identified=records_identified)
    session.add(review)
    session.flush()
    audit(session, actor=actor, action="insert", obj=review, key=slug, new=_row(review))
    return review


# --------------------------------------------------------------------------------------------------
# Papers, biomarkers


def add_paper(data: PaperIn, *, session: Session, actor: str = "") -> Paper:
    """Add a citation.

    Raises:
        DuplicateError: a paper with the same DOI or PMID exists (its id is in the message).
    """
    existing = queries.find_paper(doi=data.doi, pmid=data.pmid, session=session)
    if existing is not None:
        raise DuplicateError(
            f"paper already stored (id {existing.id}, doi {existing.doi}, pmid {existing.pmid}): {existing.title}"
        )
    paper = Paper(**data.model_dump())
    session.add(paper)
    session.flush()
    audit(session, actor=actor, action="insert", obj=paper, key=str(paper.id), new=_row(paper))
    return paper


def update_paper(paper: Paper, changes: Mapping[str, Any], *, session: Session, actor: str = "") -> Paper:
    """Change a citation; a DOI or PMID already used by another paper is refused.

    Raises:
        DuplicateError: the new DOI or PMID belongs to another paper.
    """
    old = _row(paper)
    merged = {k: v for k, v in old.items() if k in PaperIn.model_fields} | dict(changes)
    data: PaperIn = validate(PaperIn, merged)
    for key in ("doi", "pmid"):
        value = getattr(data, key)
        if value is not None and value != getattr(paper, key):
            other = queries.find_paper(**{"doi": None, "pmid": None, key: value}, session=session)
            if other is not None and other.id != paper.id:
                raise DuplicateError(f"{key} {value} is already used by paper {other.id}: {other.title}")
    for key, value in data.model_dump().items():
        setattr(paper, key, value)
    session.add(paper)
    session.flush()
    audit(session, actor=actor, action="update", obj=paper, key=str(paper.id), old=old, new=_row(paper))
    return paper


def add_biomarker(data: BiomarkerIn, *, session: Session, actor: str = "") -> Biomarker:
    """Add a biomarker and its synonyms; names and synonyms must not resolve to another biomarker."""
    for name in [data.name, *data.synonyms]:
        other = queries.find_biomarker(name, session=session)
        if other is not None:
            raise DuplicateError(f"biomarker name {name!r} is already used by {other.name!r}")
    marker = Biomarker(name=data.name, category=data.category, description=data.description)
    session.add(marker)
    session.flush()
    assert marker.id is not None
    seen = {data.name.lower()}
    for synonym in data.synonyms:
        if synonym.lower() in seen:
            continue
        seen.add(synonym.lower())
        session.add(BiomarkerSynonym(biomarker_id=marker.id, synonym=synonym, key=synonym.lower()))
    session.flush()
    audit(session, actor=actor, action="insert", obj=marker, key=marker.name,
          new={**_row(marker), "synonyms": data.synonyms})
    return marker


# --------------------------------------------------------------------------------------------------
# Studies


def _check_design(session: Session, review: Review, design: str) -> None:
    scheme = session.get(ScoringScheme, review.default_scheme_id)
    assert scheme is not None
    listed = session.get(SchemeDesign, (scheme.id, design))
    if listed is None:
        raise UnknownDesignError(scheme.label, {design: ["(this study)"]})


def include_at_full_text(review_id: int, paper_ids: Iterable[int], *, session: Session, actor: str = "",
                         reason: str = INCLUDED_STUDY, at: datetime | None = None) -> int:
    """Record that the papers of included studies are included at full text (PRISMA's "studies included").

    The rule of every path that adds a study (curation forms, seeds, sheets): its paper gets a full-text
    "include" screening decision, so that PRISMA counts every study listed. Set-based: one query per
    500 papers, then one bulk insert, for one study as for a sheet of thousands. A paper already
    included is left as it is; one excluded at full text is included now (the study is the later
    decision), its old decision kept in the audit log. Every decision written is audited.

    Returns:
        How many screening decisions were written.
    """
    ids = sorted(set(paper_ids))
    now = at or utcnow()
    stored: dict[int, Screening] = {}
    for chunk in chunks(ids):
        stored.update((s.paper_id, s) for s in session.execute(sa.select(Screening).where(
            col(Screening.review_id) == review_id, col(Screening.stage) == "full_text",
            col(Screening.paper_id).in_(chunk))).scalars())
    rows = [{"review_id": review_id, "paper_id": pid, "stage": "full_text", "decision": "include",
             "reason": reason, "decided_at": now} for pid in ids if pid not in stored]
    audits = [audit_row(actor=actor, action="insert", table="screening", key=f"{review_id}/{row['paper_id']}/full_text",
                        new=row, at=now) for row in rows]
    for pid, decision in stored.items():
        if decision.decision == "include":
            continue
        old = {"decision": decision.decision, "reason": decision.reason, "decided_at": decision.decided_at}
        decision.decision, decision.reason, decision.decided_at = "include", reason, now
        session.add(decision)
        audits.append(audit_row(actor=actor, action="update", table="screening", key=f"{review_id}/{pid}/full_text",
                                old=old, new={"decision": "include", "reason": reason, "decided_at": now}, at=now))
    session.flush()
    bulk_insert(session, table_of(Screening), rows)
    write_audit(session, audits)
    return len(audits)


def add_study(review: Review, paper: Paper, data: StudyIn, *, session: Session, actor: str = "",
              reason: str = INCLUDED_STUDY) -> Study:
    """Add an included study of ``review`` reported by ``paper``, its paper included at full text.

    Args:
        reason: why the paper is included (the full-text screening decision's reason), if it is not already.

    Raises:
        UnknownDesignError: the review's scheme does not weight the design.
        DuplicateError: the label is taken in this review.
    """
    _check_design(session, review, data.design)
    assert review.id is not None and paper.id is not None
    if queries.find_study(review.id, data.label, session=session) is not None:
        raise DuplicateError(f"study {data.label!r} already exists in review {review.slug}")
    study = Study(review_id=review.id, paper_id=paper.id, **data.model_dump())
    session.add(study)
    session.flush()
    audit(session, actor=actor, action="insert", obj=study, key=study.label, new=_row(study))
    include_at_full_text(review.id, [paper.id], session=session, actor=actor, reason=reason)
    return study


def update_study(study: Study, changes: Mapping[str, Any], *, session: Session, actor: str = "") -> Study:
    """Change fields of a study; a new design moves its evidence and regrades what it touches."""
    old = _row(study)
    merged = {k: v for k, v in old.items() if k in StudyIn.model_fields} | dict(changes)
    data: StudyIn = validate(StudyIn, merged)
    review = session.get(Review, study.review_id)
    assert review is not None
    if data.design != study.design:
        _check_design(session, review, data.design)
    if data.label != study.label and queries.find_study(review.id or 0, data.label, session=session):
        raise DuplicateError(f"study {data.label!r} already exists in review {review.slug}")
    design_changed = data.design != study.design
    for key, value in data.model_dump().items():
        setattr(study, key, value)
    study.updated_at = utcnow()
    session.add(study)
    session.flush()
    audit(session, actor=actor, action="update", obj=study, key=study.label, old=old, new=_row(study))
    if design_changed:
        touched = grading.refresh_study_design(session, study)
        grading.refresh_after_write(session, review, touched)
    return study


def delete_study(study: Study, *, session: Session, actor: str = "") -> None:
    """Delete a study and its findings (each recorded in the audit log), then regrade."""
    review = session.get(Review, study.review_id)
    assert review is not None and study.id is not None
    findings = list(session.execute(sa.select(Finding).where(col(Finding.study_id) == study.id)).scalars())
    touched = {f.biomarker_id for f in findings}
    for finding in findings:
        audit(session, actor=actor, action="delete", obj=finding, key=str(finding.id), old=_row(finding))
        session.delete(finding)
    audit(session, actor=actor, action="delete", obj=study, key=study.label, old=_row(study))
    session.delete(study)
    session.flush()
    assert review.id is not None
    grading.refresh_tally(session, review.id, touched)  # its support rows went with it (cascade)
    grading.refresh_after_write(session, review, touched)


# --------------------------------------------------------------------------------------------------
# Findings


def resolve_biomarker(name: str, *, session: Session) -> Biomarker:
    """The biomarker a name or synonym refers to.

    Raises:
        NotFoundError: no biomarker has that name or synonym.
    """
    marker = queries.find_biomarker(name, session=session)
    if marker is None:
        raise NotFoundError(f"unknown biomarker {name!r} (add it first, with a category)")
    return marker


def add_finding(study: Study, data: FindingIn, *, session: Session, actor: str = "",
                refresh: bool = True) -> Finding:
    """Record one finding of ``study`` and refresh the grades it touches.

    Args:
        refresh: ``False`` only for bulk loaders that call :func:`refresh_review` once at the end.
    """
    marker = resolve_biomarker(data.biomarker, session=session)
    assert study.id is not None and marker.id is not None
    fields = data.model_dump(exclude={"biomarker"})
    curator = fields.pop("curator") or actor[:ACTOR_LENGTH]
    finding = Finding(study_id=study.id, biomarker_id=marker.id, curator=curator, **fields)
    session.add(finding)
    session.flush()
    audit(session, actor=actor, action="insert", obj=finding, key=str(finding.id),
          new={**_row(finding), "biomarker": marker.name, "study": study.label})
    if refresh:
        _refresh(session, study.review_id, {(study.id, marker.id)})
    return finding


def update_finding(finding: Finding, changes: Mapping[str, Any], *, session: Session, actor: str = "") -> Finding:
    """Change fields of a finding (``biomarker`` may be renamed) and refresh both old and new grades."""
    study = session.get(Study, finding.study_id)
    assert study is not None and study.id is not None
    old = _row(finding)
    old_marker = session.get(Biomarker, finding.biomarker_id)
    assert old_marker is not None
    current = {k: v for k, v in finding.model_dump().items() if k in FindingIn.model_fields}
    current["biomarker"] = old_marker.name
    data: FindingIn = validate(FindingIn, current | dict(changes))
    marker = resolve_biomarker(data.biomarker, session=session)
    assert marker.id is not None
    before = (study.id, finding.biomarker_id)
    for key, value in data.model_dump(exclude={"biomarker"}).items():
        setattr(finding, key, value)
    finding.biomarker_id = marker.id
    finding.updated_at = utcnow()
    session.add(finding)
    session.flush()
    audit(session, actor=actor, action="update", obj=finding, key=str(finding.id), old=old, new=_row(finding))
    _refresh(session, study.review_id, {before, (study.id, marker.id)})
    return finding


def delete_finding(finding: Finding, *, session: Session, actor: str = "") -> None:
    """Delete a finding (kept in the audit log) and refresh the grade it touched."""
    study = session.get(Study, finding.study_id)
    assert study is not None and study.id is not None
    pair = (study.id, finding.biomarker_id)
    audit(session, actor=actor, action="delete", obj=finding, key=str(finding.id), old=_row(finding))
    session.delete(finding)
    session.flush()
    _refresh(session, study.review_id, {pair})


def _refresh(session: Session, review_id: int, pairs: set[tuple[int, int]]) -> None:
    review = session.get(Review, review_id)
    assert review is not None
    touched = grading.refresh_pairs(session, review_id, pairs)
    grading.refresh_after_write(session, review, touched)


def refresh_review(review: Review, *, session: Session) -> None:
    """Rebuild the materialised evidence of a review and regrade it under its schemes (bulk loads)."""
    assert review.id is not None
    grading.rebuild(session, review.id)
    for scheme in grading.graded_schemes(session, review):
        grading.regrade(session, review.id, scheme)


# --------------------------------------------------------------------------------------------------
# What a write changed


@dataclass
class ChangeTracker:
    """Collects the grade changes of one transaction (default scheme of one review)."""

    changes: list[grading.GradeChange] = field(default_factory=list)
    n_after: int = 0


@contextmanager
def track_grades(review: Review, *, session: Session,
                 scheme: ScoringScheme | None = None) -> Iterator[ChangeTracker]:
    """Snapshot a review's grades (default scheme unless given) around a block of writes.

    The tracker's ``changes`` is filled when the block ends without error.
    """
    assert review.id is not None
    scheme = scheme or session.get(ScoringScheme, review.default_scheme_id)
    assert scheme is not None and scheme.id is not None
    before = grading.grade_snapshot(session, review.id, scheme.id)
    tracker = ChangeTracker()
    yield tracker
    session.flush()
    after = grading.grade_snapshot(session, review.id, scheme.id)
    names = queries.biomarker_names(before.keys() | after.keys(), session=session)
    tracker.n_after = len(after)
    tracker.changes = grading.diff_snapshots(names, scheme.label, before, after)


# --------------------------------------------------------------------------------------------------
# A review's protocol, its scheme, and removing it


@dataclass(frozen=True)
class ReviewEdit:
    """What editing a review changed: each field old → new, and the grades a scheme switch moved."""

    fields: tuple[tuple[str, Any, Any], ...]
    grades: tuple[grading.GradeChange, ...] = ()


@dataclass(frozen=True)
class ReviewRemoval:
    """What removing a review took with it (papers and biomarkers stay)."""

    slug: str
    studies: int
    findings: int
    screenings: int
    papers_unlinked: int


def new_review(data: ReviewIn, *, scheme: ScoringScheme, session: Session, actor: str = "") -> Review:
    """Create a review from its validated protocol, graded by ``scheme``.

    Raises:
        DuplicateError: a review with that slug exists.
    """
    fields = data.model_dump()
    slug = fields.pop("slug")
    review = create_review(session=session, slug=slug, title=fields.pop("title"), scheme=scheme, actor=actor,
                           question=fields.pop("question"), disease_scope=fields.pop("disease_scope"),
                           citation=fields.pop("citation"), doi=fields.pop("doi"))
    for name, value in fields.items():
        setattr(review, name, value)
    session.add(review)
    session.flush()
    return review


def update_review(review: Review, changes: Mapping[str, Any], *, session: Session, actor: str = "",
                  scheme: ScoringScheme | None = None) -> ReviewEdit:
    """Change a review's protocol and, with ``scheme``, the scheme it grades with (regraded at once).

    Args:
        changes: protocol fields of :class:`~evidencedb.schemas.ReviewFields` → new values.
        scheme: the review's new scheme; its grades are computed in this transaction.

    Returns:
        The fields that changed (old → new) and the grades that moved from the old scheme to the new.

    Raises:
        ValidationError: a value is invalid (names the field).
        UnknownDesignError: a study's design is not weighted by the new scheme (nothing is changed).
    """
    current = {name: getattr(review, name) for name in ReviewFields.model_fields}
    merged = validate(ReviewFields, {**current, **changes}).model_dump()
    changed = tuple((name, current[name], merged[name]) for name in ReviewFields.model_fields
                    if merged[name] != current[name])
    moved: list[grading.GradeChange] = []
    old_scheme = session.get(ScoringScheme, review.default_scheme_id)
    assert review.id is not None and old_scheme is not None
    if scheme is not None and scheme.id != review.default_scheme_id:
        assert scheme.id is not None
        grading.check_designs(session, review.id, scheme, None)
        before = grading.grade_snapshot(session, review.id, old_scheme.id or 0)
        review.default_scheme_id = scheme.id
        grading.regrade(session, review.id, scheme)
        after = grading.grade_snapshot(session, review.id, scheme.id)
        names = queries.biomarker_names(before.keys() | after.keys(), session=session)
        moved = grading.diff_snapshots(names, f"{old_scheme.label} → {scheme.label}", before, after)
        changed += (("scheme", old_scheme.label, scheme.label),)
    if not changed:
        return ReviewEdit(())
    for name, _, new in changed:
        if name != "scheme":
            setattr(review, name, new)
    review.updated_at = utcnow()
    session.add(review)
    session.flush()
    audit(session, actor=actor, action="update", obj=review, key=review.slug,
          old={name: old for name, old, _ in changed}, new={name: new for name, _, new in changed})
    return ReviewEdit(changed, tuple(moved))


def delete_review(review: Review, *, session: Session, force: bool = False, actor: str = "") -> ReviewRemoval:
    """Remove a review with its screening records, studies, findings and grades; papers and biomarkers stay.

    Every removed study and finding is written to the audit log with its values, and the review itself.

    Raises:
        ValidationError: the review has studies and ``force`` is not given.
    """
    assert review.id is not None
    studies = list(session.execute(sa.select(Study).where(col(Study.review_id) == review.id)
                                   .order_by(col(Study.id))).scalars())
    if studies and not force:
        raise ValidationError(f"review {review.slug} has {len(studies)} studies; `evidencedb review delete "
                              f"{review.slug} --force` removes them with their findings and screening records "
                              "(papers and biomarkers stay)")
    findings = list(session.execute(sa.select(Finding).join(Study, col(Study.id) == col(Finding.study_id))
                                    .where(col(Study.review_id) == review.id).order_by(col(Finding.id))).scalars())
    n_screenings = session.execute(sa.select(sa.func.count()).select_from(Screening)
                                   .where(col(Screening.review_id) == review.id)).scalar_one()
    n_links = session.execute(sa.select(sa.func.count()).select_from(ReviewPaper)
                              .where(col(ReviewPaper.review_id) == review.id)).scalar_one()
    now = utcnow()
    rows = [{"at": now, "actor": actor[:80], "action": "delete", "table_name": "finding", "row_key": str(f.id),
             "old": audit_json(_row(f)), "new": None} for f in findings]
    rows += [{"at": now, "actor": actor[:80], "action": "delete", "table_name": "study",
              "row_key": f"{review.slug}/{s.label}"[:80], "old": audit_json(_row(s)), "new": None} for s in studies]
    if rows:
        session.execute(sa.insert(AuditLog), rows)
    removal = ReviewRemoval(review.slug, len(studies), len(findings), n_screenings, n_links)
    audit(session, actor=actor, action="delete", obj=review, key=review.slug,
          old={**_row(review), "removed": {"studies": removal.studies, "findings": removal.findings,
                                           "screenings": removal.screenings, "papers": removal.papers_unlinked}})
    session.flush()
    session.execute(sa.delete(Review).where(col(Review.id) == review.id))  # the rest cascades in the database
    session.expunge(review)
    return removal
