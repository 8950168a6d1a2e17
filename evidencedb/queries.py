"""Reads: every question the CLI, the TUI and the exports ask of the database.

Why this module exists: one home for ``select()``. Callers get frozen rows, never build queries, and
a query never computes a grade in Python: grades are read from the materialised ``grade`` table,
which every write keeps fresh. ``explain_marker`` recomputes one grade with the pure scorer from
the findings themselves and reports any disagreement, so an explanation can never drift from the
number it explains.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from evidencedb.errors import DatabaseError, NotFoundError
from evidencedb.formatting import threshold_text
from evidencedb.models import (
    AuditLog,
    Biomarker,
    BiomarkerSynonym,
    Finding,
    Grade,
    Paper,
    Review,
    ReviewPaper,
    SchemeDesign,
    SchemeLevel,
    ScoringScheme,
    Study,
)
from evidencedb.scoring import FindingFact, GradeResult, Level, Scheme, score_biomarker

# --------------------------------------------------------------------------------------------------
# Lookups


def find_review(slug: str, *, session: Session) -> Review | None:
    """A review by slug."""
    return session.execute(sa.select(Review).where(col(Review.slug) == slug)).scalar_one_or_none()


def get_review(slug: str | None, *, session: Session) -> Review:
    """A review by slug, or the default review (the first one created) when ``slug`` is ``None``.

    Raises:
        NotFoundError: no such review, or the database holds none.
    """
    if slug:
        review = find_review(slug, session=session)
        if review is None:
            known = ", ".join(r.slug for r in list_reviews(session=session)) or "none"
            raise NotFoundError(f"no review {slug!r} (reviews: {known}; `evidencedb review new {slug} --title TEXT` "
                                "creates it)")
        return review
    first: Review | None = session.execute(sa.select(Review).order_by(col(Review.id)).limit(1)).scalar_one_or_none()
    if first is None:
        raise NotFoundError("the database holds no review yet: create one with `evidencedb review new SLUG "
                            "--title TEXT` (or run `evidencedb init` for the bundled Ke–Zhou review)")
    return first


def list_reviews(*, session: Session) -> list[Review]:
    """All reviews, oldest first."""
    return list(session.execute(sa.select(Review).order_by(col(Review.id))).scalars())


def review_counts(review: Review, *, session: Session) -> dict[str, int]:
    """How much a review holds: its studies, their findings, and the papers linked to it."""
    studies = session.execute(sa.select(sa.func.count()).select_from(Study)
                              .where(col(Study.review_id) == review.id)).scalar_one()
    findings = session.execute(sa.select(sa.func.count()).select_from(Finding)
                               .join(Study, col(Study.id) == col(Finding.study_id))
                               .where(col(Study.review_id) == review.id)).scalar_one()
    papers = session.execute(sa.select(sa.func.count()).select_from(ReviewPaper)
                             .where(col(ReviewPaper.review_id) == review.id)).scalar_one()
    return {"studies": studies, "findings": findings, "papers": papers}


def find_paper(*, doi: str | None, pmid: str | None, session: Session) -> Paper | None:
    """A paper with this DOI (case-insensitive) or PMID."""
    conditions: list[sa.ColumnElement[bool]] = []
    if doi:
        conditions.append(col(Paper.doi) == doi.lower())
    if pmid:
        conditions.append(col(Paper.pmid) == pmid)
    if not conditions:
        return None
    return session.execute(sa.select(Paper).where(sa.or_(*conditions)).limit(1)).scalar_one_or_none()


def find_study(review_id: int, label: str, *, session: Session) -> Study | None:
    """A study of a review by its label."""
    return session.execute(
        sa.select(Study).where(col(Study.review_id) == review_id, col(Study.label) == label)
    ).scalar_one_or_none()


def find_biomarker(name: str, *, session: Session) -> Biomarker | None:
    """A biomarker by name or synonym, case-insensitively."""
    key = name.strip().lower()
    marker: Biomarker | None = session.execute(
        sa.select(Biomarker).where(sa.func.lower(Biomarker.name) == key)
    ).scalar_one_or_none()
    if marker is not None:
        return marker
    return session.execute(
        sa.select(Biomarker).join(BiomarkerSynonym).where(col(BiomarkerSynonym.key) == key)
    ).scalar_one_or_none()


def suggest_biomarkers(name: str, *, session: Session, limit: int = 3) -> list[str]:
    """Stored biomarkers whose name or a synonym is close to ``name`` (a typo, another spelling), best first.

    Returns:
        Up to ``limit`` biomarker names (each once), by similarity of their closest name or synonym.
    """
    from rapidfuzz import fuzz, process, utils

    terms = biomarker_vocabulary(session=session)
    matches = process.extract(name, [t for t, _, _ in terms], scorer=fuzz.WRatio, processor=utils.default_process,
                              score_cutoff=80, limit=limit * 4)
    found: list[str] = []
    for _, _, index in matches:
        marker = terms[index][1]
        if marker not in found:
            found.append(marker)
    return found[:limit]


def unknown_biomarker_message(name: str, *, session: Session) -> str:
    """"no biomarker 'X'", with the close names a curator probably meant."""
    close = suggest_biomarkers(name, session=session)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else " (`evidencedb markers` lists them)"
    return f"no biomarker {name!r}{hint}"


def reviews_with_findings(biomarker_id: int, *, session: Session) -> list[str]:
    """Slugs of the reviews that hold at least one finding on a biomarker."""
    return list(session.execute(
        sa.select(col(Review.slug)).distinct()
        .join(Study, col(Study.review_id) == col(Review.id))
        .join(Finding, col(Finding.study_id) == col(Study.id))
        .where(col(Finding.biomarker_id) == biomarker_id).order_by(col(Review.slug))
    ).scalars())


def biomarker_names(ids: Collection[int], *, session: Session) -> dict[int, str]:
    """Names of the given biomarker ids."""
    if not ids:
        return {}
    rows = session.execute(
        sa.select(col(Biomarker.id), col(Biomarker.name)).where(col(Biomarker.id).in_(sorted(ids)))
    ).all()
    return {i: n for i, n in rows}


def biomarker_ids_by_key(*, session: Session) -> dict[str, int]:
    """Lower-cased names and synonyms → biomarker id, for resolving many rows at once."""
    index = {k: i for k, i in session.execute(
        sa.select(col(BiomarkerSynonym.key), col(BiomarkerSynonym.biomarker_id))
    ).all()}
    index.update({n.lower(): i for i, n in session.execute(sa.select(col(Biomarker.id), col(Biomarker.name))).all()})
    return index


def biomarker_vocabulary(*, session: Session) -> list[tuple[str, str, str]]:
    """Every name and synonym as ``(term, biomarker name, category)``, for autocompletion."""
    names = session.execute(sa.select(col(Biomarker.name), col(Biomarker.name), col(Biomarker.category))).all()
    synonyms = session.execute(
        sa.select(col(BiomarkerSynonym.synonym), col(Biomarker.name), col(Biomarker.category))
        .join(Biomarker, col(Biomarker.id) == col(BiomarkerSynonym.biomarker_id))
    ).all()
    return sorted({(t, n, c) for t, n, c in [*names, *synonyms]}, key=lambda row: row[0].lower())


@dataclass(frozen=True)
class StudyRecord:
    """A study with its paper and its findings (each with its biomarker's name), for editing."""

    study: Study
    paper: Paper
    findings: tuple[tuple[Finding, str], ...]


def study_record(review: Review, label: str, *, session: Session) -> StudyRecord:
    """One study of a review with everything a curator edits.

    Raises:
        NotFoundError: the review has no study with that label.
    """
    assert review.id is not None
    study = find_study(review.id, label, session=session)
    if study is None:
        raise NotFoundError(f"no study {label!r} in review {review.slug}")
    paper = session.get(Paper, study.paper_id)
    assert paper is not None
    rows = session.execute(
        sa.select(Finding, col(Biomarker.name)).join(Biomarker, col(Biomarker.id) == col(Finding.biomarker_id))
        .where(col(Finding.study_id) == study.id).order_by(col(Finding.id))
    ).all()
    return StudyRecord(study, paper, tuple((f, name) for f, name in rows))


def studies_of_paper(paper: Paper, *, session: Session) -> list[tuple[str, str]]:
    """``(review slug, study label)`` of every study a paper reports."""
    return [(slug, label) for slug, label in session.execute(
        sa.select(col(Review.slug), col(Study.label)).join(Review, col(Review.id) == col(Study.review_id))
        .where(col(Study.paper_id) == paper.id).order_by(col(Review.slug), col(Study.label))
    ).all()]


# --------------------------------------------------------------------------------------------------
# Schemes


def load_scheme(row: ScoringScheme, *, session: Session) -> Scheme:
    """The pure :class:`Scheme` of a stored scheme."""
    designs = dict(
        session.execute(sa.select(col(SchemeDesign.design), col(SchemeDesign.coefficient))
                        .where(col(SchemeDesign.scheme_id) == row.id)).all()
    )
    levels = session.execute(
        sa.select(col(SchemeLevel.level), col(SchemeLevel.min_score), col(SchemeLevel.meaning))
        .where(col(SchemeLevel.scheme_id) == row.id)
        .order_by(col(SchemeLevel.min_score).desc())
    ).all()
    return Scheme(name=row.name, version=row.version, designs=designs,
                  levels=tuple(Level(lv, cut, meaning) for lv, cut, meaning in levels),
                  description=row.description, source=row.source)


def list_schemes(*, session: Session) -> list[ScoringScheme]:
    """All stored scheme versions."""
    return list(session.execute(
        sa.select(ScoringScheme).order_by(col(ScoringScheme.name), col(ScoringScheme.id))
    ).scalars())


def get_scheme(spec: str | None, *, session: Session, review: Review | None = None) -> ScoringScheme:
    """A scheme by ``name`` (newest version) or ``name@version``; ``None`` → the review's default.

    Raises:
        NotFoundError: no such scheme.
    """
    if spec is None:
        if review is None:
            review = get_review(None, session=session)
        row = session.get(ScoringScheme, review.default_scheme_id)
        assert row is not None
        return row
    name, _, version = spec.partition("@")
    q = sa.select(ScoringScheme).where(col(ScoringScheme.name) == name)
    if version:
        q = q.where(col(ScoringScheme.version) == version)
    found: ScoringScheme | None = session.execute(
        q.order_by(col(ScoringScheme.id).desc()).limit(1)
    ).scalar_one_or_none()
    if found is None:
        known = ", ".join(s.label for s in list_schemes(session=session)) or "none"
        raise NotFoundError(f"no scoring scheme {spec!r} (schemes: {known})")
    return found


# --------------------------------------------------------------------------------------------------
# Markers


@dataclass(frozen=True)
class MarkerRow:
    """One graded biomarker of a leaderboard."""

    biomarker: str
    category: str
    score: Decimal
    level: str
    n_studies: int
    n_conflicting: int
    grade_class: str
    scheme: str


#: Orders a leaderboard can be sorted by (``list_markers(order=…)``); ties break by name.
MARKER_ORDERS = ("score", "biomarker", "category", "n_studies", "class")


def sorts_descending(order: str) -> bool:
    """The default direction of a leaderboard order: numbers strongest first, names A to Z."""
    return order in ("score", "n_studies")


def _marker_query(review: Review, *, session: Session, scheme: ScoringScheme, min_level: str | None,
                  grade_class: str | None, search: str | None, columns: tuple[Any, ...]) -> sa.Select[Any]:
    q = (
        sa.select(*columns)
        .select_from(Grade)
        .join(Biomarker, col(Biomarker.id) == col(Grade.biomarker_id))
        .where(col(Grade.review_id) == review.id, col(Grade.scheme_id) == scheme.id)
    )
    if min_level is not None:
        levels = session.execute(
            sa.select(col(SchemeLevel.level), col(SchemeLevel.min_score)).where(col(SchemeLevel.scheme_id) == scheme.id)
            .order_by(col(SchemeLevel.min_score).desc())
        ).all()
        # Levels are matched without regard to case ("b" is B); an exact spelling wins if two levels differ only so.
        cut = next((c for lv, c in levels if lv == min_level), None)
        if cut is None:
            cut = next((c for lv, c in levels if lv.casefold() == min_level.strip().casefold()), None)
        if cut is None:
            raise NotFoundError(f"no level {min_level!r} in scheme {scheme.name} "
                                f"(levels: {', '.join(lv for lv, _ in levels)})")
        q = q.where(col(Grade.score) >= cut)
    if grade_class is not None:
        q = q.where(col(Grade.grade_class) == grade_class)
    if search:
        q = q.where(sa.func.lower(Biomarker.name).contains(search.lower(), autoescape=True))
    return q


def list_markers(review: Review, *, session: Session, scheme: ScoringScheme | None = None,
                 min_level: str | None = None, grade_class: str | None = None, search: str | None = None,
                 order: str = "score", descending: bool | None = None, limit: int | None = None,
                 offset: int = 0) -> list[MarkerRow]:
    """Graded biomarkers of a review, strongest first unless ``order`` says otherwise.

    Args:
        min_level: keep grades at this level or above (by the scheme's cut-offs).
        grade_class: ``dual``, ``efficacy`` or ``toxicity``.
        search: case-insensitive substring of the biomarker's name.
        order: one of :data:`MARKER_ORDERS`.
        descending: sort direction; by default numbers descend and text ascends.
        limit, offset: one page of the leaderboard, paged in SQL.

    Raises:
        NotFoundError: ``min_level`` is not a level of the scheme, or ``order`` is unknown.
    """
    scheme = scheme or get_scheme(None, session=session, review=review)
    columns: dict[str, sa.SQLColumnExpression[Any]] = {
        "score": col(Grade.score), "biomarker": sa.func.lower(Biomarker.name), "category": col(Biomarker.category),
        "n_studies": col(Grade.n_studies), "class": col(Grade.grade_class)}
    if order not in columns:
        raise NotFoundError(f"cannot sort by {order!r} (one of: {', '.join(MARKER_ORDERS)})")
    if descending is None:
        descending = sorts_descending(order)
    key = columns[order]
    q = _marker_query(review, session=session, scheme=scheme, min_level=min_level, grade_class=grade_class,
                      search=search, columns=(Biomarker.name, Biomarker.category, Grade.score, Grade.level,
                                              Grade.n_studies, Grade.n_conflicting, Grade.grade_class))
    keys = [key.desc() if descending else key.asc()]
    if order != "score":
        keys.append(col(Grade.score).desc())
    q = q.order_by(*keys, col(Biomarker.name)).offset(offset)
    if limit is not None:
        q = q.limit(limit)
    label = scheme.label
    return [MarkerRow(name, category, score, level, n_studies, n_conflicting, cls, scheme=label)
            for name, category, score, level, n_studies, n_conflicting, cls in session.execute(q)]


def count_markers(review: Review, *, session: Session, scheme: ScoringScheme | None = None,
                  min_level: str | None = None, grade_class: str | None = None, search: str | None = None) -> int:
    """How many graded biomarkers :func:`list_markers` would return without ``limit``."""
    scheme = scheme or get_scheme(None, session=session, review=review)
    q = _marker_query(review, session=session, scheme=scheme, min_level=min_level, grade_class=grade_class,
                      search=search, columns=(sa.func.count(),))
    return int(session.execute(q).scalar_one())


@dataclass(frozen=True)
class ThresholdRow:
    """One finding of a biomarker, as an explanation lists it."""

    study: str
    year: int | None
    measure: str | None
    comparator: str | None
    value: Decimal | None
    upper: Decimal | None
    unit: str | None
    outcome: str
    outcome_category: str
    direction: str | None
    association: str
    group_results: str | None
    effect: str | None
    p_value: str | None
    quote: str
    location: str
    finding_id: int | None = None

    @property
    def threshold(self) -> str:
        """The threshold as listings show it (see :func:`threshold_text`)."""
        return threshold_text(self.comparator, self.value, self.upper, self.unit)


@dataclass(frozen=True)
class MarkerExplanation:
    """A grade with its reasons: contributions, conflicting studies, thresholds."""

    biomarker: Biomarker
    synonyms: tuple[str, ...]
    review: str
    scheme: str
    scheme_hash: str
    result: GradeResult
    stored_score: Decimal | None
    stored_level: str | None
    findings: tuple[ThresholdRow, ...]


def explain_marker(review: Review, name: str, *, session: Session,
                   scheme: ScoringScheme | None = None) -> MarkerExplanation:
    """Explain one biomarker's grade from its findings.

    Raises:
        NotFoundError: no biomarker has that name or synonym (close names are suggested), or the
            biomarker has no finding in this review (the reviews where it has findings are named).
        DatabaseError: the stored grade disagrees with the recomputation (never expected).
    """
    marker = find_biomarker(name, session=session)
    if marker is None:
        raise NotFoundError(unknown_biomarker_message(name, session=session))
    scheme = scheme or get_scheme(None, session=session, review=review)
    pure = load_scheme(scheme, session=session)
    rows = session.execute(
        sa.select(Finding, col(Study.label), col(Study.design), col(Paper.year))
        .join(Study, col(Study.id) == col(Finding.study_id))
        .join(Paper, col(Paper.id) == col(Study.paper_id))
        .where(col(Finding.biomarker_id) == marker.id, col(Study.review_id) == review.id)
        .order_by(col(Paper.year), col(Study.label), col(Finding.id))
    ).all()
    if not rows:
        assert marker.id is not None
        elsewhere = reviews_with_findings(marker.id, session=session)
        where = f"; it has findings in {', '.join(elsewhere)}" if elsewhere else "; no review has findings on it yet"
        raise NotFoundError(f"{marker.name} has no findings in review {review.slug}{where}")
    facts = [FindingFact(label, design, f.outcome_category, f.association == "supports")
             for f, label, design, _ in rows]
    result = score_biomarker(facts, pure)
    stored = session.get(Grade, (review.id, marker.id, scheme.id))
    if stored is not None and (stored.score != result.score or stored.level != result.level):
        raise DatabaseError(
            f"stored grade of {marker.name} ({stored.score} {stored.level}) differs from its findings "
            f"({result.score} {result.level}): run `evidencedb grade --rebuild`"
        )
    synonyms = tuple(session.execute(
        sa.select(col(BiomarkerSynonym.synonym)).where(col(BiomarkerSynonym.biomarker_id) == marker.id)
        .order_by(col(BiomarkerSynonym.synonym))).scalars())
    findings = tuple(
        ThresholdRow(label, year, f.measure, f.comparator, f.threshold_value, f.threshold_upper, f.unit, f.outcome,
                     f.outcome_category, f.direction, f.association, f.group_results, _effect(f), f.p_value,
                     f.quote, f.location, f.id)
        for f, label, _, year in rows
    )
    return MarkerExplanation(marker, synonyms, review.slug, scheme.label, scheme.content_hash,
                             result, stored.score if stored else None, stored.level if stored else None, findings)


def _effect(f: Finding) -> str | None:
    if f.effect_measure is None or f.effect_value is None:
        return None
    ci = f" (95% CI {f.ci_low}-{f.ci_high})" if f.ci_low is not None and f.ci_high is not None else ""
    return f"{f.effect_measure} {f.effect_value}{ci}"


# --------------------------------------------------------------------------------------------------
# Studies


@dataclass(frozen=True)
class StudyRow:
    """One included study as listings show it."""

    study_id: str
    citation: str
    title: str
    doi: str | None
    pmid: str | None
    year: int | None
    design: str
    n_patients: int | None
    population: str | None
    product: str | None
    target: str | None
    n_findings: int


def list_studies(review: Review, *, session: Session, search: str | None = None) -> list[StudyRow]:
    """Included studies of a review with their citation and number of findings, by year."""
    n_findings = (
        sa.select(sa.func.count(col(Finding.id))).where(col(Finding.study_id) == col(Study.id))
        .correlate(Study).scalar_subquery()
    )
    q = (
        sa.select(Study, Paper, n_findings)
        .join(Paper, col(Paper.id) == col(Study.paper_id))
        .where(col(Study.review_id) == review.id)
        .order_by(col(Paper.year), col(Study.label))
    )
    if search:
        pattern = f"%{search.lower()}%"
        q = q.where(sa.or_(sa.func.lower(Study.label).like(pattern), sa.func.lower(Paper.title).like(pattern)))
    return [
        StudyRow(s.label, citation(p), p.title, p.doi, p.pmid, p.year, s.design, s.n_patients, s.population,
                 s.product, s.target, n)
        for s, p, n in session.execute(q).all()
    ]


def citation(paper: Paper) -> str:
    """Short citation: first author, et al., journal year."""
    first = paper.authors.split(",")[0].strip() if paper.authors else "Anonymous"
    etal = " et al." if "," in paper.authors else ""
    return f"{first}{etal} {paper.journal} {paper.year or ''}".strip()


@dataclass(frozen=True)
class ReviewSummary:
    """Headline figures of a review (its Table 1)."""

    review: str
    n_studies: int
    n_patients: int
    n_studies_without_n: int
    designs: dict[str, int]
    levels: dict[str, int]
    classes: dict[str, int]
    n_graded: int


def review_summary(review: Review, *, session: Session, scheme: ScoringScheme | None = None) -> ReviewSummary:
    """Counts computed by SQL aggregates: studies, patients, design split, level and class split."""
    scheme = scheme or get_scheme(None, session=session, review=review)
    n_studies, n_patients, missing = session.execute(
        sa.select(sa.func.count(col(Study.id)), sa.func.coalesce(sa.func.sum(col(Study.n_patients)), 0),
                  sa.func.sum(sa.case((col(Study.n_patients).is_(None), 1), else_=0)))
        .where(col(Study.review_id) == review.id)
    ).one()
    designs: dict[str, int] = dict(session.execute(
        sa.select(col(Study.design), sa.func.count()).where(col(Study.review_id) == review.id)
        .group_by(col(Study.design))
    ).all())
    graded = (col(Grade.review_id) == review.id) & (col(Grade.scheme_id) == scheme.id)
    levels: dict[str, int] = dict(session.execute(
        sa.select(col(Grade.level), sa.func.count()).where(graded).group_by(col(Grade.level))
    ).all())
    classes: dict[str, int] = dict(session.execute(
        sa.select(col(Grade.grade_class), sa.func.count()).where(graded).group_by(col(Grade.grade_class))
    ).all())
    return ReviewSummary(review.slug, int(n_studies), int(n_patients), int(missing or 0), designs, levels, classes,
                         sum(levels.values()))


# --------------------------------------------------------------------------------------------------
# Audit log


def audit_entries(*, session: Session, since: datetime | None = None, table: str | None = None,
                  actor: str | None = None, limit: int = 50) -> list[AuditLog]:
    """Audit rows, newest first, optionally from a time on, of one table, or by one actor."""
    q = sa.select(AuditLog)
    if since is not None:
        q = q.where(col(AuditLog.at) >= (since if since.tzinfo else since.replace(tzinfo=UTC)))
    if table:
        q = q.where(col(AuditLog.table_name) == table)
    if actor is not None:
        q = q.where(col(AuditLog.actor) == actor)
    return list(session.execute(q.order_by(col(AuditLog.id).desc()).limit(max(1, limit))).scalars())
