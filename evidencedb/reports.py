"""Reads for reports: every grade's per-study contributions, and a review's Table 1.

Why this module exists: exports and figures ask wider questions than the CLI and the TUI; keeping them
here keeps ``queries`` to the lookups and listings every interface shares. Counts are SQL aggregates;
what grades are made of (per-study support, per-design tallies) is read from the tables that hold it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from evidencedb.models import (
    Biomarker,
    Finding,
    Review,
    SchemeDesign,
    ScoringScheme,
    Study,
    Support,
    Tally,
)
from evidencedb.queries import ReviewSummary, get_scheme, review_summary


@dataclass(frozen=True)
class ContributionRow:
    """One study's evidence on one biomarker: what it adds to the grade (or that it conflicts).

    Attributes:
        coefficient: the design's coefficient under the scheme; ``None`` if the scheme does not list it.
        supports: the study has at least one finding with association "supports" (it counts once).
        categories: outcome categories of its supporting findings (empty for a conflicting study).
    """

    biomarker: str
    study: str
    design: str
    coefficient: Decimal | None
    supports: bool
    categories: tuple[str, ...]
    n_findings: int


def grade_contributions(review: Review, *, session: Session,
                        scheme: ScoringScheme | None = None) -> list[ContributionRow]:
    """Every study × biomarker pair of a review with its coefficient, read from the ``support`` table.

    ``support`` holds, per study × biomarker, its supporting findings by category and its findings
    of no association, kept in step by every write (:mod:`evidencedb.grading`): nothing is recounted
    from the findings. Supporting studies come first within a biomarker (highest coefficient, then
    label), as ``explain_marker`` lists them; studies with only "no association" findings follow.
    """
    scheme = scheme or get_scheme(None, session=session, review=review)
    q = (
        sa.select(col(Biomarker.name), col(Study.label), col(Study.design), col(SchemeDesign.coefficient),
                  col(Support.n_efficacy), col(Support.n_toxicity), col(Support.n_no_association))
        .join(Study, col(Study.id) == col(Support.study_id))
        .join(Biomarker, col(Biomarker.id) == col(Support.biomarker_id))
        .outerjoin(SchemeDesign,
                   (col(SchemeDesign.scheme_id) == scheme.id) & (col(SchemeDesign.design) == col(Study.design)))
        .where(col(Support.review_id) == review.id,
               col(Support.n_efficacy) + col(Support.n_toxicity) + col(Support.n_no_association) > 0)
    )
    rows = [
        ContributionRow(name, label, design, coefficient, bool(n_e or n_t),
                        tuple(c for c, n in (("efficacy", n_e), ("toxicity", n_t)) if n), n_e + n_t + n_none)
        for name, label, design, coefficient, n_e, n_t, n_none in session.execute(q)
    ]
    return sorted(rows, key=lambda r: (r.biomarker, not r.supports, -(r.coefficient or 0), r.study))


@dataclass(frozen=True)
class DesignContribution:
    """What one study design adds to a biomarker's grade: its distinct supporting studies × its coefficient."""

    biomarker: str
    design: str
    coefficient: Decimal
    n_studies: int

    @property
    def contribution(self) -> Decimal:
        """The design's share of the score (exact)."""
        return self.coefficient * self.n_studies


def design_contributions(review: Review, *, session: Session,
                         scheme: ScoringScheme | None = None) -> list[DesignContribution]:
    """Per biomarker × design weighted by the scheme, read from the ``tally`` table (what grades sum).

    Designs without a supporting study, and designs the scheme does not weight, are left out.
    """
    scheme = scheme or get_scheme(None, session=session, review=review)
    q = (
        sa.select(col(Biomarker.name), col(Tally.design), col(SchemeDesign.coefficient), col(Tally.n_supporting))
        .join(Biomarker, col(Biomarker.id) == col(Tally.biomarker_id))
        .join(SchemeDesign,
              (col(SchemeDesign.scheme_id) == scheme.id) & (col(SchemeDesign.design) == col(Tally.design)))
        .where(col(Tally.review_id) == review.id, col(Tally.n_supporting) > 0)
        .order_by(col(Biomarker.name), col(SchemeDesign.coefficient).desc(), col(Tally.design))
    )
    return [DesignContribution(name, design, coefficient, int(n))
            for name, design, coefficient, n in session.execute(q)]


@dataclass(frozen=True)
class OutcomeCount:
    """How many findings and distinct studies report an outcome."""

    outcome: str
    category: str
    n_studies: int
    n_findings: int


@dataclass(frozen=True)
class ThresholdRange:
    """The spread of comparable thresholds: one biomarker, one outcome, one unit.

    ``low``/``high`` are exact decimals (the lowest and highest value or range bound as curated).
    """

    biomarker: str
    outcome: str
    unit: str
    comparators: tuple[str, ...]
    low: Decimal
    high: Decimal
    n_studies: int
    n_findings: int


@dataclass(frozen=True)
class ReviewTable1:
    """A review's Table 1: the headline summary plus splits of its studies and findings."""

    summary: ReviewSummary
    n_findings: int
    n_patients_reported: int
    patients_min: int | None
    patients_max: int | None
    design_groups: dict[str, int]
    populations: dict[str, int]
    targets: dict[str, int]
    products: dict[str, int]
    outcomes: tuple[OutcomeCount, ...]
    thresholds: tuple[ThresholdRange, ...]


DESIGN_GROUPS = ("trials", "retrospective cohorts", "prospective cohorts", "other designs")
NOT_REPORTED = "not reported"


def review_table1(review: Review, *, session: Session, scheme: ScoringScheme | None = None) -> ReviewTable1:
    """Table 1 of a review by SQL aggregates: patients, design groups, populations, targets, products, outcomes.

    Design groups follow the design's name: "trial" → trials, "retrospective" → retrospective cohorts,
    other "prospective" designs → prospective cohorts. Threshold ranges group findings by biomarker,
    outcome and unit (normalised unit where one is stored, else the unit as written, case-insensitively);
    their minimum and maximum are taken over exact decimals, because thresholds are stored as decimal
    text, which SQL would order as text (or, cast on SQLite, as binary floats).
    """
    summary = review_summary(review, session=session, scheme=scheme)
    in_review = col(Study.review_id) == review.id
    n_reported, low, high = session.execute(
        sa.select(sa.func.count(col(Study.n_patients)), sa.func.min(col(Study.n_patients)),
                  sa.func.max(col(Study.n_patients)))
        .where(in_review)
    ).one()

    def split(column: sa.SQLColumnExpression[Any]) -> dict[str, int]:
        labelled = sa.func.coalesce(column, NOT_REPORTED)
        q = (sa.select(labelled, sa.func.count()).where(in_review).group_by(labelled)
             .order_by(sa.func.count().desc(), labelled))
        return {str(k): int(n) for k, n in session.execute(q)}

    design = sa.func.lower(Study.design)
    group = sa.case((design.contains("trial"), DESIGN_GROUPS[0]), (design.contains("retrospective"), DESIGN_GROUPS[1]),
                    (design.contains("prospective"), DESIGN_GROUPS[2]), else_=DESIGN_GROUPS[3])
    groups = dict.fromkeys(DESIGN_GROUPS[:3], 0) | split(group)
    n_findings_col = sa.func.count(col(Finding.id))
    outcomes = tuple(
        OutcomeCount(o, c, int(s), int(n)) for o, c, s, n in session.execute(
            sa.select(col(Finding.outcome), col(Finding.outcome_category),
                      sa.func.count(sa.distinct(col(Finding.study_id))), n_findings_col)
            .join(Study, col(Study.id) == col(Finding.study_id))
            .where(in_review).group_by(col(Finding.outcome), col(Finding.outcome_category))
            .order_by(n_findings_col.desc(), col(Finding.outcome))
        )
    )
    n_findings = sum(o.n_findings for o in outcomes)
    rows = session.execute(
        sa.select(col(Biomarker.name), col(Finding.outcome), sa.func.coalesce(Finding.norm_unit, Finding.unit, ""),
                  col(Finding.comparator), col(Finding.norm_value), col(Finding.threshold_value),
                  col(Finding.threshold_upper), col(Finding.study_id))
        .join(Study, col(Study.id) == col(Finding.study_id))
        .join(Biomarker, col(Biomarker.id) == col(Finding.biomarker_id))
        .where(in_review, col(Finding.threshold_value).is_not(None))
        .order_by(col(Biomarker.name), col(Finding.outcome), col(Finding.id))
    ).all()
    groups_of: dict[tuple[str, str, str], list[tuple[str, str, int, Decimal, Decimal]]] = {}
    for name, outcome, unit, comparator, norm, value, upper, study_id in rows:
        low_value = norm if norm is not None else value
        high_value = upper if upper is not None and norm is None else low_value
        groups_of.setdefault((name, outcome, unit.strip().lower()), []).append(
            (unit, comparator, study_id, low_value, high_value))
    thresholds = tuple(
        ThresholdRange(name, outcome, items[0][0], tuple(sorted({i[1] for i in items})), min(i[3] for i in items),
                       max(i[4] for i in items), len({i[2] for i in items}), len(items))
        for (name, outcome, _), items in groups_of.items()
    )
    return ReviewTable1(summary, n_findings, int(n_reported), low, high, groups, split(col(Study.population)),
                        split(col(Study.target)), split(col(Study.product)), outcomes, thresholds)


