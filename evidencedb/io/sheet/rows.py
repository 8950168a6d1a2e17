"""Findings as extraction-sheet rows: what ``export findings`` writes and ``import`` reads back.

Why this module exists: an export must carry exactly the import's columns, so it imports back to
the same grades.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from evidencedb import queries
from evidencedb.models import Biomarker, Finding, Paper, Review, Study


def _yes_no(value: bool | None) -> str | None:
    return None if value is None else ("yes" if value else "no")


def finding_rows(review: Review, *, session: Session) -> Iterable[dict[str, Any]]:
    """Every finding of a review as a sheet row (the import's columns plus the derived norm_value/norm_unit)."""
    q = (
        sa.select(Finding, Study, Paper, col(Biomarker.name), col(Biomarker.category))
        .join(Study, col(Study.id) == col(Finding.study_id))
        .join(Paper, col(Paper.id) == col(Study.paper_id))
        .join(Biomarker, col(Biomarker.id) == col(Finding.biomarker_id))
        .where(col(Study.review_id) == review.id)
        .order_by(col(Study.label), col(Finding.id))
    )
    for f, s, p, name, category in session.execute(q):
        yield {
            "study_id": s.label, "citation": queries.citation(p), "title": p.title, "authors": p.authors,
            "journal": p.journal, "year": p.year, "doi": p.doi, "pmid": p.pmid, "retracted": _yes_no(p.retracted),
            "design": s.design, "centres": s.centres, "prospective": _yes_no(s.prospective), "phase": s.phase,
            "arms": s.arms, "n_patients": s.n_patients, "n_patients_note": s.n_patients_note,
            "population": s.population, "age_range": s.age_range, "disease": s.disease, "product": s.product,
            "target": s.target, "costim": s.costim, "toxicity_grading": s.toxicity_grading,
            "registry_id": s.registry_id, "quality_tool": s.quality_tool, "quality_rating": s.quality_rating,
            "biomarker": name, "biomarker_category": category, "measure": f.measure, "timepoint": f.timepoint,
            "specimen": f.specimen, "assay": f.assay, "comparator": f.comparator, "value": f.threshold_value,
            "upper_value": f.threshold_upper, "unit": f.unit, "outcome": f.outcome,
            "outcome_category": f.outcome_category, "direction": f.direction, "effect_measure": f.effect_measure,
            "effect_value": f.effect_value, "ci_low": f.ci_low, "ci_high": f.ci_high, "p_value": f.p_value,
            "group_results": f.group_results, "analysis": f.analysis, "association": f.association,
            "quote": f.quote, "location": f.location, "citation_refs": f.citation_refs, "status": f.status,
            "curator": f.curator, "norm_value": f.norm_value, "norm_unit": f.norm_unit,
        }
