"""Grades from SQL aggregates, kept fresh inside every write transaction.

Why this module exists: a grade is a sum over *distinct* supporting studies, and recomputing it by
joining every finding to its study is the slow part (millions of rows). So two small materialised
tables are maintained by the same transaction as each curation write:

* ``support``: per study × biomarker, how many findings support it (efficacy / toxicity) and how many
  show no association. "A study counts once" lives here.
* ``tally``: per review × biomarker × design, how many distinct studies support the biomarker.

A whole-review regrade is then one ``INSERT … SELECT … GROUP BY`` over ``tally`` joined to the scheme's
coefficients; a write refreshes only the pairs and biomarkers it touched. :func:`rebuild` recomputes
both tables from the findings (used after bulk imports and to check consistency).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from evidencedb.errors import NotFoundError, UnknownDesignError
from evidencedb.formatting import score_text
from evidencedb.models import (
    Grade,
    Milli,
    Review,
    SchemeDesign,
    SchemeLevel,
    ScoringScheme,
    Study,
    Support,
    Tally,
    utcnow,
)

# Above this many touched ids a refresh recomputes the review wholesale instead of by id lists.
_WHOLESALE_ABOVE = 400

#: The finding columns grading reads, as a lightweight table (the aggregates need no ORM entity).
_FINDING = sa.table(
    "finding", sa.column("study_id"), sa.column("biomarker_id"), sa.column("association"),
    sa.column("outcome_category"),
)


@dataclass(frozen=True)
class GradeChange:
    """One biomarker whose grade moved (or appeared, or vanished)."""

    biomarker: str
    scheme: str
    old_score: Decimal | None
    old_level: str | None
    new_score: Decimal | None
    new_level: str | None

    def __str__(self) -> str:
        old = f"{score_text(self.old_score)} {self.old_level}" if self.old_score is not None else "-"
        new = f"{score_text(self.new_score)} {self.new_level}" if self.new_score is not None else "-"
        return f"{self.biomarker} {old} → {new}"


def _supports(category: str) -> sa.ColumnElement[int]:
    return sa.func.sum(
        sa.case(((_FINDING.c.association == "supports") & (_FINDING.c.outcome_category == category), 1), else_=0)
    )


def _support_select(where: sa.ColumnElement[bool]) -> sa.Select[*tuple[Any, ...]]:
    """Support rows recomputed from findings, for the studies selected by ``where``."""
    no_assoc = sa.func.sum(sa.case((_FINDING.c.association == "no association", 1), else_=0))
    return (
        sa.select(_FINDING.c.study_id, _FINDING.c.biomarker_id, col(Study.review_id), _supports("efficacy"),
                  _supports("toxicity"), no_assoc)
        .select_from(_FINDING.join(Study, col(Study.id) == _FINDING.c.study_id))
        .where(where)
        .group_by(_FINDING.c.study_id, _FINDING.c.biomarker_id, col(Study.review_id))
    )


def _insert_support(session: Session, select: sa.Select[*tuple[Any, ...]]) -> None:
    session.execute(
        sa.insert(Support).from_select(
            ["study_id", "biomarker_id", "review_id", "n_efficacy", "n_toxicity", "n_no_association"], select
        )
    )


def _tally_select(review_id: int, biomarker_ids: Collection[int] | None) -> sa.Select[*tuple[Any, ...]]:
    supporting = (col(Support.n_efficacy) + col(Support.n_toxicity)) > 0
    q = (
        sa.select(
            col(Support.review_id),
            col(Support.biomarker_id),
            col(Study.design),
            sa.func.sum(sa.case((supporting, 1), else_=0)),
            sa.func.sum(sa.case((col(Support.n_efficacy) > 0, 1), else_=0)),
            sa.func.sum(sa.case((col(Support.n_toxicity) > 0, 1), else_=0)),
            sa.func.sum(sa.case((~supporting & (col(Support.n_no_association) > 0), 1), else_=0)),
        )
        .join(Study, col(Study.id) == col(Support.study_id))
        .where(col(Support.review_id) == review_id)
        .group_by(col(Support.review_id), col(Support.biomarker_id), col(Study.design))
    )
    if biomarker_ids is not None:
        q = q.where(col(Support.biomarker_id).in_(sorted(biomarker_ids)))
    return q


def refresh_tally(session: Session, review_id: int, biomarker_ids: Collection[int] | None) -> None:
    """Recompute the tally rows of some biomarkers (``None``: all) from ``support``."""
    session.flush()
    delete = sa.delete(Tally).where(col(Tally.review_id) == review_id)
    if biomarker_ids is not None:
        delete = delete.where(col(Tally.biomarker_id).in_(sorted(biomarker_ids)))
    session.execute(delete)
    session.execute(
        sa.insert(Tally).from_select(
            ["review_id", "biomarker_id", "design", "n_supporting", "n_efficacy", "n_toxicity", "n_conflicting"],
            _tally_select(review_id, biomarker_ids),
        )
    )


def rebuild(session: Session, review_id: int) -> None:
    """Recompute ``support`` and ``tally`` of a review from its findings (set-based, no row loop)."""
    session.flush()
    study_ids = sa.select(col(Study.id)).where(col(Study.review_id) == review_id)
    session.execute(sa.delete(Support).where(col(Support.review_id) == review_id))
    _insert_support(session, _support_select(_FINDING.c.study_id.in_(study_ids)))
    refresh_tally(session, review_id, None)


def refresh_pairs(session: Session, review_id: int, pairs: Iterable[tuple[int, int]]) -> set[int]:
    """Recompute the support rows of touched (study, biomarker) pairs and the tally of their biomarkers.

    Returns:
        The ids of the biomarkers whose tally was refreshed.
    """
    session.flush()
    pairs = set(pairs)
    biomarkers = {b for _, b in pairs}
    if not pairs:
        return biomarkers
    if len(pairs) > _WHOLESALE_ABOVE:
        rebuild(session, review_id)
        return biomarkers
    studies = {s for s, _ in pairs}
    pair_filter = sa.or_(*[(_FINDING.c.study_id == s) & (_FINDING.c.biomarker_id == b) for s, b in sorted(pairs)])
    session.execute(
        sa.delete(Support).where(
            sa.or_(*[(col(Support.study_id) == s) & (col(Support.biomarker_id) == b) for s, b in sorted(pairs)])
        )
    )
    _insert_support(session, _support_select(_FINDING.c.study_id.in_(sorted(studies)) & pair_filter))
    refresh_tally(session, review_id, biomarkers)
    return biomarkers


def refresh_study_design(session: Session, study: Study) -> set[int]:
    """After a study's design changed, move its biomarkers' tallies to the new design."""
    session.flush()
    biomarkers = set(
        session.execute(sa.select(col(Support.biomarker_id)).where(col(Support.study_id) == study.id)).scalars()
    )
    if biomarkers:
        refresh_tally(session, study.review_id, biomarkers)
    return biomarkers


# --------------------------------------------------------------------------------------------------
# Grades


def check_designs(session: Session, review_id: int, scheme: ScoringScheme,
                  biomarker_ids: Collection[int] | None = None) -> None:
    """Refuse to grade when a study of the review has a design the scheme does not weight.

    Args:
        biomarker_ids: check only the evidence of these biomarkers (a write); ``None``: the whole review.

    Raises:
        UnknownDesignError: naming the scheme, each unlisted design and its studies.
    """
    listed = sa.select(col(SchemeDesign.design)).where(col(SchemeDesign.scheme_id) == scheme.id)
    q = sa.select(col(Tally.design)).distinct().where(col(Tally.review_id) == review_id,
                                                      col(Tally.design).not_in(listed))
    if biomarker_ids is not None:
        q = q.where(col(Tally.biomarker_id).in_(sorted(biomarker_ids)))
    missing = list(session.execute(q).scalars())
    if not missing:
        return
    rows = session.execute(
        sa.select(col(Study.design), col(Study.label))
        .where(col(Study.review_id) == review_id, col(Study.design).in_(missing))
        .where(sa.exists().where(col(Support.study_id) == col(Study.id)))
    ).all()
    unknown: dict[str, list[str]] = {}
    for design, label in rows:
        unknown.setdefault(design, []).append(label)
    raise UnknownDesignError(scheme.label, unknown)


def _level_case(session: Session, scheme_id: int, score: sa.ColumnElement[int]) -> sa.ColumnElement[str]:
    levels = session.execute(
        sa.select(col(SchemeLevel.level), col(SchemeLevel.min_score))
        .where(col(SchemeLevel.scheme_id) == scheme_id)
        .order_by(col(SchemeLevel.min_score).desc())
    ).all()
    if not levels:
        raise NotFoundError(f"scheme {scheme_id} has no levels")
    milli = Milli()
    # Compare raw thousandths: the sum is already in the column's storage unit.
    # Milli never reads the dialect, so none is passed.
    whens = [(score >= sa.literal(milli.process_bind_param(cut, None), sa.BigInteger()), level)  # type: ignore[arg-type]
             for level, cut in levels[:-1]]
    return sa.case(*whens, else_=levels[-1][0]) if whens else sa.literal(levels[-1][0])


def _grade_select(session: Session, review_id: int, scheme: ScoringScheme,
                  biomarker_ids: Collection[int] | None) -> sa.Select[*tuple[Any, ...]]:
    coefficient = sa.type_coerce(col(SchemeDesign.coefficient), sa.BigInteger())  # raw thousandths
    score = sa.func.sum(col(Tally.n_supporting) * coefficient)
    n_eff = sa.func.sum(col(Tally.n_efficacy))
    n_tox = sa.func.sum(col(Tally.n_toxicity))
    grade_class = sa.case(
        ((n_eff > 0) & (n_tox > 0), "dual"), (n_eff > 0, "efficacy"), (n_tox > 0, "toxicity"), else_="none"
    )
    q = (
        sa.select(
            col(Tally.review_id),
            col(Tally.biomarker_id),
            sa.literal(scheme.id, sa.Integer()),
            score,
            _level_case(session, scheme.id, score),  # type: ignore[arg-type]  # a stored scheme always has an id
            sa.func.sum(col(Tally.n_supporting)),
            sa.func.sum(col(Tally.n_conflicting)),
            grade_class,
            sa.literal(scheme.content_hash, sa.String()),
            sa.literal(utcnow(), sa.DateTime(timezone=True)),
        )
        .join(SchemeDesign,
              (col(SchemeDesign.design) == col(Tally.design)) & (col(SchemeDesign.scheme_id) == scheme.id))
        .where(col(Tally.review_id) == review_id)
        .group_by(col(Tally.review_id), col(Tally.biomarker_id))
    )
    if biomarker_ids is not None:
        q = q.where(col(Tally.biomarker_id).in_(sorted(biomarker_ids)))
    return q


def regrade(session: Session, review_id: int, scheme: ScoringScheme,
            biomarker_ids: Collection[int] | None = None) -> None:
    """Recompute grades of a review under one scheme: one ``INSERT … SELECT … GROUP BY``.

    Args:
        biomarker_ids: only these biomarkers (a curation write); ``None`` for the whole review.

    Raises:
        UnknownDesignError: a study's design is not weighted by the scheme.
    """
    session.flush()
    if biomarker_ids is not None and len(biomarker_ids) > _WHOLESALE_ABOVE:
        biomarker_ids = None
    check_designs(session, review_id, scheme, biomarker_ids)
    delete = sa.delete(Grade).where(col(Grade.review_id) == review_id, col(Grade.scheme_id) == scheme.id)
    if biomarker_ids is not None:
        if not biomarker_ids:
            return
        delete = delete.where(col(Grade.biomarker_id).in_(sorted(biomarker_ids)))
    session.execute(delete)
    session.execute(
        sa.insert(Grade).from_select(
            ["review_id", "biomarker_id", "scheme_id", "score", "level", "n_studies", "n_conflicting",
             "grade_class", "scheme_hash", "computed_at"],
            _grade_select(session, review_id, scheme, biomarker_ids),
        )
    )


def graded_schemes(session: Session, review: Review) -> list[ScoringScheme]:
    """The schemes a review keeps grades for: its default, plus any it was graded with."""
    ids = set(session.execute(
        sa.select(col(Grade.scheme_id)).distinct().where(col(Grade.review_id) == review.id)
    ).scalars())
    ids.add(review.default_scheme_id)
    return list(session.execute(sa.select(ScoringScheme).where(col(ScoringScheme.id).in_(sorted(ids)))).scalars())


def refresh_after_write(session: Session, review: Review, biomarker_ids: Collection[int]) -> None:
    """Regrade the touched biomarkers under every scheme the review keeps grades for."""
    if review.id is None:
        raise NotFoundError("review has no id yet")
    for scheme in graded_schemes(session, review):
        regrade(session, review.id, scheme, biomarker_ids)


def grade_snapshot(session: Session, review_id: int, scheme_id: int) -> dict[int, tuple[Decimal, str]]:
    """Current (score, level) per biomarker id, for reporting what a write changed."""
    rows = session.execute(
        sa.select(col(Grade.biomarker_id), col(Grade.score), col(Grade.level)).where(
            col(Grade.review_id) == review_id, col(Grade.scheme_id) == scheme_id
        )
    ).all()
    return {b: (s, lv) for b, s, lv in rows}


def diff_snapshots(names: dict[int, str], scheme: str, before: dict[int, tuple[Decimal, str]],
                   after: dict[int, tuple[Decimal, str]]) -> list[GradeChange]:
    """The biomarkers whose score or level differs between two snapshots, strongest first."""
    changes = []
    for bid in before.keys() | after.keys():
        old, new = before.get(bid), after.get(bid)
        if old != new:
            changes.append(GradeChange(names.get(bid, str(bid)), scheme, old[0] if old else None,
                                       old[1] if old else None, new[0] if new else None, new[1] if new else None))
    return sorted(changes, key=lambda c: (-(c.new_score or 0), c.biomarker))
