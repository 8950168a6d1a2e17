"""Grades in the database: one SQL aggregate, fresh after every write, equal to the pure scorer."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from evidencedb import curation, grading, queries
from evidencedb.db import session_scope
from evidencedb.errors import UnknownDesignError, ValidationError
from evidencedb.models import AuditLog, Finding, Grade, Review, Study, Support, Tally
from evidencedb.schemas import BiomarkerIn, FindingIn, PaperIn, StudyIn
from evidencedb.scoring import Scheme

MRC, SCR, P2 = "multicenter retrospective cohort", "single-center retrospective cohort", "single-arm phase II trial"


def _review(session: Session) -> Review:
    scheme = queries.get_scheme("ke-zhou-2025", session=session)
    review = curation.create_review(session=session, slug="r1", title="Test review", scheme=scheme)
    for name, cat in (("MRD", "MRD"), ("ferritin", "inflammatory profile"), ("IL-6", "cytokines")):
        curation.add_biomarker(BiomarkerIn(name=name, category=cat, synonyms=[name.lower() + " level"]),
                               session=session)
    return review


def _study(session: Session, review: Review, label: str, design: str) -> Study:
    paper = curation.add_paper(PaperIn(title=f"Paper {label}", year=2021, doi=f"10.1000/{label}"), session=session)
    return curation.add_study(review, paper, StudyIn(label=label, design=design, n_patients=20), session=session)


def _finding(marker: str, category: str = "efficacy", association: str = "supports") -> FindingIn:
    return FindingIn(biomarker=marker, outcome="CR" if category == "efficacy" else "CRS", outcome_category=category,
                     association=association)


def _grade(session: Session, review: Review, marker: str) -> tuple[Decimal, str, int, str]:
    rows = {m.biomarker: m for m in queries.list_markers(review, session=session)}
    m = rows[marker]
    return m.score, m.level, m.n_studies, m.grade_class


def test_five_at_09_plus_three_at_05_is_exactly_a_plus(engine: Engine) -> None:
    with session_scope(engine, write=True) as session:
        review = _review(session)
        for i in range(5):
            curation.add_finding(_study(session, review, f"m{i}", MRC), _finding("MRD"), session=session)
        for i in range(3):
            curation.add_finding(_study(session, review, f"s{i}", SCR), _finding("MRD", "toxicity"), session=session)
    with session_scope(engine) as session:
        review = queries.get_review("r1", session=session)
        assert _grade(session, review, "MRD") == (Decimal("6.0"), "A+", 8, "dual")
        raw = session.execute(sa.text("SELECT score FROM grade")).scalar_one()
        assert raw == 6000  # stored as exact thousandths, never a float


def test_each_write_refreshes_only_what_it_touches_and_stays_fresh(engine: Engine) -> None:
    with session_scope(engine, write=True) as session:
        review = _review(session)
        a = _study(session, review, "a", P2)
        curation.add_finding(a, _finding("MRD"), session=session)
        curation.add_finding(a, _finding("MRD"), session=session)  # same study again: counted once
        curation.add_finding(a, _finding("ferritin", "toxicity"), session=session)
    with session_scope(engine, write=True) as session:
        review = queries.get_review("r1", session=session)
        assert _grade(session, review, "MRD") == (Decimal("1.0"), "C", 1, "efficacy")
        b = _study(session, review, "b", SCR)
        with curation.track_grades(review, session=session) as tracker:
            no = curation.add_finding(b, _finding("mrd level", association="no association"), session=session)
        assert tracker.changes == []  # a conflicting finding adds nothing
        with curation.track_grades(review, session=session) as tracker:
            curation.update_finding(no, {"association": "supports"}, session=session)
        assert [str(c) for c in tracker.changes] == ["MRD 1.0 C → 1.5 C"]
        assert _grade(session, review, "MRD") == (Decimal("1.5"), "C", 2, "efficacy")
        study_b = queries.find_study(review.id, "b", session=session)
        assert study_b is not None
        curation.update_study(study_b, {"design": P2}, session=session)
        assert _grade(session, review, "MRD")[0] == Decimal("2.0")
        curation.delete_finding(no, session=session)
        assert _grade(session, review, "MRD")[:3] == (Decimal("1.0"), "C", 1)
        study_a = queries.find_study(review.id, "a", session=session)
        assert study_a is not None
        curation.delete_study(study_a, session=session)
        assert queries.list_markers(review, session=session) == []
        actions = session.execute(sa.select(AuditLog.action, AuditLog.table_name)).all()
        assert ("delete", "study") in actions and ("update", "finding") in actions


def test_incremental_state_equals_a_rebuild_and_the_pure_scorer(engine: Engine) -> None:
    with session_scope(engine, write=True) as session:
        review = _review(session)
        designs = [MRC, SCR, P2, "single-arm phase I trial", "single-arm phase I/II trial"]
        for i in range(12):
            study = _study(session, review, f"s{i}", designs[i % len(designs)])
            for j, marker in enumerate(("MRD", "ferritin", "IL-6")):
                if (i + j) % 3:
                    category = "efficacy" if (i * j) % 2 else "toxicity"
                    association = "supports" if (i + 2 * j) % 4 else "no association"
                    curation.add_finding(study, _finding(marker, category, association), session=session)
    with session_scope(engine, write=True) as session:
        review = queries.get_review("r1", session=session)
        def snapshot() -> tuple[list[object], ...]:
            return tuple(sorted(tuple(r) for r in session.execute(sa.select(*t.__table__.columns)).all())
                         for t in (Support, Tally))
        incremental = snapshot()
        grades = grading.grade_snapshot(session, review.id, review.default_scheme_id)
        grading.rebuild(session, review.id)
        grading.regrade(session, review.id, queries.get_scheme(None, session=session, review=review))
        assert snapshot() == incremental
        assert grading.grade_snapshot(session, review.id, review.default_scheme_id) == grades
        for marker in ("MRD", "ferritin", "IL-6"):
            explained = queries.explain_marker(review, marker, session=session)  # raises if SQL ≠ pure
            assert (explained.result.score, explained.result.level) == (explained.stored_score, explained.stored_level)


def test_unlisted_design_is_refused_at_write_and_at_grading(engine: Engine) -> None:
    with session_scope(engine, write=True) as session:
        review = _review(session)
        paper = curation.add_paper(PaperIn(title="An RCT", doi="10.1000/rct"), session=session)
        with pytest.raises(UnknownDesignError, match="randomized controlled trial"):
            curation.add_study(review, paper, StudyIn(label="rct", design="randomized controlled trial"),
                               session=session)
        curation.add_finding(_study(session, review, "p2", P2), _finding("MRD"), session=session)
        narrow = Scheme("narrow", "1", {MRC: Decimal("0.9")}, queries.load_scheme(
            queries.get_scheme(None, session=session, review=review), session=session).levels)
        row = curation.ensure_scheme(narrow, session=session)
        with pytest.raises(UnknownDesignError) as info:
            grading.regrade(session, review.id, row)
        assert "narrow@1" in str(info.value) and P2 in str(info.value) and "p2" in str(info.value)


def test_a_failed_write_leaves_nothing_behind(engine: Engine) -> None:
    with session_scope(engine, write=True) as session:
        _study(session, _review(session), "a", P2)
    with pytest.raises(ValidationError), session_scope(engine, write=True) as session:
        review = queries.get_review("r1", session=session)
        study = queries.find_study(review.id, "a", session=session)
        assert study is not None
        curation.add_finding(study, _finding("MRD"), session=session)
        curation.add_finding(study, curation.validate(FindingIn, {"biomarker": "MRD", "outcome": "CR",
                             "outcome_category": "efficacy", "association": "maybe"}), session=session)
    with session_scope(engine) as session:
        assert session.execute(sa.select(sa.func.count()).select_from(Finding)).scalar_one() == 0
        assert session.execute(sa.select(sa.func.count()).select_from(Grade)).scalar_one() == 0


def test_scheme_versions_are_immutable(engine: Engine) -> None:
    with session_scope(engine, write=True) as session:
        kz = queries.load_scheme(queries.get_scheme("ke-zhou-2025@1", session=session), session=session)
        tampered = Scheme(kz.name, kz.version, {**kz.designs, MRC: Decimal("1.0")}, kz.levels)
        with pytest.raises(ValidationError, match="new version"):
            curation.ensure_scheme(tampered, session=session)


def test_database_constraints_hold_even_without_validation(engine: Engine) -> None:
    with session_scope(engine, write=True) as session:
        review = _review(session)
        study = _study(session, review, "a", P2)
        marker = queries.find_biomarker("MRD", session=session)
        assert marker is not None
        session.add(Finding(study_id=study.id, biomarker_id=marker.id, outcome="CR", outcome_category="efficacy",
                            association="perhaps"))
        with pytest.raises(sa.exc.IntegrityError):
            session.flush()
        session.rollback()


def test_dois_are_unique_case_insensitively(engine: Engine) -> None:
    with session_scope(engine, write=True) as session:
        curation.add_paper(PaperIn(title="A", doi="https://doi.org/10.1000/ABC"), session=session)
        with pytest.raises(ValidationError, match="already stored"):
            curation.add_paper(PaperIn(title="B", doi="10.1000/abc"), session=session)
        with pytest.raises(ValueError, match="not a DOI"):
            PaperIn(title="C", doi="doi-ish")
