"""The bundled Ke & Zhou 2025 knowledge base: headline figures as seeds/README.md states them."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from evidencedb import queries, seeds
from evidencedb.db import session_scope
from evidencedb.models import AuditLog, Finding, Grade, Study

# The "database" column of the side-by-side table in seeds/README.md.
EXPECTED = {
    "studies": 33,
    "patients": 1319,  # seeds/README.md, "patients" row
    "studies_without_n": 11,
    "trials": 16,
    "retrospective": 14,
    "prospective": 3,
    "classes": {"dual": 6, "efficacy": 17, "toxicity": 4},
    "levels": {"A+": 2, "B": 1, "C": 13, "D": 11},
    "graded": 27,
}


def _counts(session: sa.orm.Session) -> tuple[int, ...]:
    return tuple(session.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                 for t in (Study, Finding, Grade, AuditLog))


def test_headline_figures_and_idempotent_load(engine: Engine) -> None:
    with session_scope(engine, write=True) as session:
        first = seeds.load_seeds(session=session)
    assert first.studies_added == 33
    with session_scope(engine) as session:
        review = queries.get_review("ke-zhou-2025", session=session)
        summary = queries.review_summary(review, session=session)
        counts = _counts(session)
        top = [m.biomarker for m in queries.list_markers(review, session=session, min_level="A")]
        ferritin = queries.explain_marker(review, "ferritin", session=session)
    designs = summary.designs
    assert summary.n_studies == EXPECTED["studies"]
    assert summary.n_patients == EXPECTED["patients"]
    assert summary.n_studies_without_n == EXPECTED["studies_without_n"]
    assert sum(n for d, n in designs.items() if "trial" in d) == EXPECTED["trials"]
    assert sum(n for d, n in designs.items() if "retrospective" in d) == EXPECTED["retrospective"]
    assert sum(n for d, n in designs.items() if "prospective" in d and "retrospective" not in d) == \
        EXPECTED["prospective"]
    assert summary.classes == EXPECTED["classes"]
    assert summary.levels == EXPECTED["levels"]
    assert summary.n_graded == EXPECTED["graded"]
    assert top[:2] == ["tumour burden", "MRD"]
    assert any(f.comparator == ">=" and f.value == 10000 for f in ferritin.findings)
    with session_scope(engine, write=True) as session:
        second = seeds.load_seeds(session=session)
        assert not second.changed and second.studies_present == 33
        assert _counts(session) == counts
