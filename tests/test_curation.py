"""Curation rules every write path shares, on both backends.

A study's paper is included at full text whichever path adds the study; audit rows are built one way
(actor cut to its column, canonical JSON); the save workflow of the curation forms lives in the core;
the forms' and the sheet's field lists are derived from the input models; reports read the
materialised support and tally tables rather than recounting findings.
"""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from evidencedb import curation, drafts, queries, reports, seeds
from evidencedb.db import session_scope
from evidencedb.io.citations.importer import import_citations
from evidencedb.io.sheet import columns
from evidencedb.io.sheet import importer as sheet
from evidencedb.io.sheet import rows as sheet_rows
from evidencedb.models import AuditLog, Finding, Paper, Review, Screening, Study, Support, Tally
from evidencedb.prisma import prisma_counts
from evidencedb.schemas import BiomarkerIn, FindingIn, PaperIn, StudyIn

CITATIONS = Path(__file__).parent / "data" / "citations"
P2 = "single-arm phase II trial"
LONG_ACTOR = "curator-" + "x" * 100  # longer than the 80 characters an actor is stored with
SHEET = [
    {"study_id": "a-2021", "citation": "A et al. J 2021", "year": "2021", "design": P2, "n_patients": "40",
     "doi": "10.1000/a", "biomarker": "MRD", "biomarker_category": "MRD", "outcome": "EFS",
     "outcome_category": "efficacy", "association": "supports", "curator": "jdoe"},
    {"study_id": "b-2022", "citation": "B et al. K 2022", "year": "2022", "design": "multicenter retrospective cohort",
     "n_patients": "120", "biomarker": "IL-6", "biomarker_category": "cytokines", "outcome": "severe CRS",
     "outcome_category": "toxicity", "association": "supports", "curator": "jdoe"},
]


def write_sheet(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(dict.fromkeys(k for r in rows for k in r)))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _review(session: Session, slug: str = "mine", actor: str = "") -> Review:
    return curation.create_review(session=session, slug=slug, title="Mine", actor=actor,
                                  scheme=queries.get_scheme("ke-zhou-2025", session=session))


def _included(session: Session, review: Review) -> set[int]:
    return set(session.execute(sa.select(col(Screening.paper_id)).where(
        col(Screening.review_id) == review.id, col(Screening.stage) == "full_text",
        col(Screening.decision) == "include")).scalars())


def _study_papers(session: Session, review: Review) -> set[int]:
    return set(session.execute(sa.select(col(Study.paper_id)).where(col(Study.review_id) == review.id)).scalars())


def _new_draft(label: str = "doe-2025") -> drafts.StudyDraft:
    finding = drafts.FindingDraft(values={"biomarker": "IL-18", "outcome": "severe CRS", "outcome_category": "toxicity",
                                          "association": "supports", "comparator": ">=", "threshold_value": "500",
                                          "unit": "pg/mL"}, new_category="cytokines")
    return drafts.StudyDraft(
        paper={"doi": "10.5555/edb.curation.001", "pmid": "", "title": "IL-18 and CRS", "authors": "Doe J",
               "journal": "Test J", "year": "2025"},
        study={"label": label, "design": P2, "n_patients": "40", "prospective": "yes"}, findings=(finding,))


# --------------------------------------------------------------------------------------------------
# An included study's paper is included at full text, whichever path adds it


def test_a_study_saved_by_the_core_workflow_is_counted_included(seeded_engine: Engine) -> None:
    with session_scope(seeded_engine, write=True) as session:
        review = queries.get_review(None, session=session)
        result = drafts.save_study(review, _new_draft(), session=session, actor="tester")
    assert (result.label, result.added, result.updated, result.deleted) == ("doe-2025", 1, 0, 0)
    assert [(c.biomarker, c.new_score, c.new_level) for c in result.changes] == [("IL-18", Decimal("1.0"), "C")]
    with session_scope(seeded_engine) as session:
        review = queries.get_review(None, session=session)
        studies = queries.list_studies(review, session=session)
        assert len(studies) == 34 and prisma_counts(review, session=session).included == 34
        assert _included(session, review) == _study_papers(session, review)


def test_seeds_sheets_and_single_writes_include_every_studys_paper(engine: Engine, tmp_path: Path) -> None:
    with session_scope(engine, write=True) as session:
        seeds.load_seeds(session=session)
        sheet.import_sheet(write_sheet(tmp_path / "s.csv", SHEET), session=session, review_slug="sheet")
        review = _review(session)
        paper = curation.add_paper(PaperIn(title="One"), session=session)
        curation.add_study(review, paper, StudyIn(label="one", design=P2), session=session)
    with session_scope(engine) as session:
        for slug, n in (("ke-zhou-2025", 33), ("sheet", 2), ("mine", 1)):
            review = queries.get_review(slug, session=session)
            assert _included(session, review) == _study_papers(session, review)
            assert prisma_counts(review, session=session).included == n == len(queries.list_studies(
                review, session=session))


def test_a_paper_excluded_at_full_text_is_included_by_its_study_and_the_exclusion_is_kept(engine: Engine) -> None:
    with session_scope(engine, write=True) as session:
        review = _review(session)
        paper = curation.add_paper(PaperIn(title="Once excluded"), session=session)
        assert review.id is not None and paper.id is not None
        session.add(Screening(review_id=review.id, paper_id=paper.id, stage="full_text", decision="exclude",
                              reason="not B-ALL"))
        session.flush()
        curation.add_study(review, paper, StudyIn(label="back", design=P2), session=session, actor="ana",
                           reason="B-ALL cohort reported separately")
        # A second study of the same paper (a distinct cohort) changes nothing: the paper is included.
        assert curation.include_at_full_text(review.id, [paper.id], session=session) == 0
    with session_scope(engine) as session:
        decision = session.execute(sa.select(Screening).where(col(Screening.stage) == "full_text")).scalars().one()
        assert (decision.decision, decision.reason) == ("include", "B-ALL cohort reported separately")
        audit = session.execute(sa.select(AuditLog).where(col(AuditLog.table_name) == "screening")).scalars().one()
        assert (audit.action, audit.actor) == ("update", "ana")
        assert json.loads(audit.old or "")["decision"] == "exclude"
        assert json.loads(audit.old or "")["reason"] == "not B-ALL"


def test_inclusion_is_set_based(engine: Engine) -> None:
    with session_scope(engine, write=True) as session:
        review = _review(session)
        assert review.id is not None
        ids = [curation.add_paper(PaperIn(title=f"P{i}"), session=session).id or 0 for i in range(1203)]
        assert curation.include_at_full_text(review.id, ids + ids[:5], session=session, actor="bulk") == 1203
        assert curation.include_at_full_text(review.id, ids, session=session) == 0
        assert len(_included(session, review)) == 1203


# --------------------------------------------------------------------------------------------------
# One audit-row builder


AUDIT_CASES = {
    "short actor kept": ("ana", "ana"),
    "long actor cut to its column": (LONG_ACTOR, LONG_ACTOR[:80]),
    "no actor": ("", ""),
}


@pytest.mark.parametrize(("actor", "stored"), list(AUDIT_CASES.values()), ids=list(AUDIT_CASES))
def test_audit_row_cuts_the_actor_and_writes_canonical_json(actor: str, stored: str) -> None:
    row = curation.audit_row(actor=actor, action="update", table="finding", key="k" * 90,
                             old={"z": Decimal("0.50"), "a": None}, new={"é": "ü", "b": 1})
    assert row["actor"] == stored and row["row_key"] == "k" * 80 and row["table_name"] == "finding"
    assert row["old"] == '{"a": null, "z": "0.50"}'  # sorted keys, decimals as exact text
    assert row["new"] == '{"b": 1, "é": "ü"}'  # not escaped
    assert curation.audit_row(actor=actor, action="insert", table="t", key="k")["old"] is None


def _canonical(text: str | None) -> bool:
    return text is None or json.dumps(json.loads(text), ensure_ascii=False, sort_keys=True) == text


def test_every_path_audits_the_same_way(engine: Engine, tmp_path: Path) -> None:
    with session_scope(engine, write=True) as session:  # single writes (the TUI's and the seeds' path)
        review = _review(session, actor=LONG_ACTOR)
        paper = curation.add_paper(PaperIn(title="Single", doi="10.1000/single"), session=session, actor=LONG_ACTOR)
        study = curation.add_study(review, paper, StudyIn(label="single", design=P2), session=session,
                                   actor=LONG_ACTOR)
        curation.add_biomarker(curation.validate(BiomarkerIn, {"name": "MRD", "category": "MRD"}),
                               session=session, actor=LONG_ACTOR)
        finding = curation.add_finding(study, FindingIn(biomarker="MRD", outcome="EFS", outcome_category="efficacy",
                                                        association="supports"), session=session, actor=LONG_ACTOR)
        curation.update_finding(finding, {"association": "no association"}, session=session, actor=LONG_ACTOR)
        assert finding.curator == LONG_ACTOR[:80]
    with session_scope(engine, write=True) as session:  # the bulk paths
        sheet.import_sheet(write_sheet(tmp_path / "s.csv", SHEET), session=session, review_slug="mine",
                           actor=LONG_ACTOR)
        import_citations(CITATIONS / "embase.ris", session=session, review_slug="mine", actor=LONG_ACTOR)
    with session_scope(engine) as session:
        rows = session.execute(sa.select(AuditLog)).scalars().all()
    tables = {(r.table_name, r.action) for r in rows}
    assert {("review", "insert"), ("paper", "insert"), ("study", "insert"), ("finding", "update"),
            ("finding", "import"), ("import_batch", "import"), ("screening", "insert"),
            ("biomarker", "insert")} <= tables
    assert {r.actor for r in rows} == {LONG_ACTOR[:80]}
    assert all(_canonical(r.old) and _canonical(r.new) for r in rows)


# --------------------------------------------------------------------------------------------------
# The save workflow and the field lists


def test_the_form_fields_are_the_input_models_fields() -> None:
    models = {"paper": (PaperIn, Paper, drafts.PAPER_FIELDS), "study": (StudyIn, Study, drafts.STUDY_FIELDS),
              "finding": (FindingIn, Finding, drafts.FINDING_FIELDS)}
    left_out = set()
    for schema, table, fields in models.values():
        assert set(fields) == set(schema.model_fields) - drafts.NOT_IN_FORMS
        assert set(fields) - {"biomarker"} <= set(table.model_fields)  # each is the column of the same name
        left_out |= set(schema.model_fields) - set(fields)
    assert left_out == drafts.NOT_IN_FORMS  # no stale exclusion
    assert drafts.PAPER_FIELDS[:2] == ("doi", "pmid")  # identifiers first: checked before the rest is typed


def test_a_stored_study_loads_as_a_draft_and_saves_back(seeded_engine: Engine) -> None:
    with session_scope(seeded_engine, write=True) as session:
        review = queries.get_review(None, session=session)
        draft = drafts.load_study(review, "pulsipher-2022", session=session)
        assert set(draft.paper) == set(drafts.PAPER_FIELDS) and set(draft.study) == set(drafts.STUDY_FIELDS)
        assert all(set(f.values) == set(drafts.FINDING_FIELDS) for f in draft.findings)
        unchanged = drafts.save_study(review, draft, session=session, actor="tester")
        assert (unchanged.added, unchanged.updated, unchanged.deleted, unchanged.changes) == (0, 0, 0, ())
        mrd = next(f for f in draft.findings if f.values["biomarker"] == "MRD")
        edited = drafts.FindingDraft(mrd.values | {"association": "no association"}, mrd.finding_id,
                                     original=mrd.original)
        result = drafts.save_study(review, drafts.StudyDraft(draft.paper, draft.study, (edited,), draft.paper_id,
                                                             draft.study_id, draft.label), session=session)
        assert (result.updated, [(c.biomarker, c.new_score) for c in result.changes]) == (1, [("MRD", Decimal("5.0"))])


#: Input-model fields an extraction sheet does not carry (seed metadata and free notes), or derives.
NOT_ON_SHEETS = {"notes", "shares_patients_with", "verification_source", "verification_confidence", "norm_value",
                 "norm_unit"}


def test_every_sheet_column_is_a_field_and_every_field_a_column() -> None:
    owners = {sheet_rows._PAPER: Paper, sheet_rows._STUDY: Study, sheet_rows._FINDING: Finding}
    sources = {column: (owner, attribute) for column, owner, attribute in sheet_rows._SOURCES}
    assert list(sources) == list(columns.COLUMNS)
    for column, (owner, attribute) in sources.items():
        if owner != sheet_rows._OWN:
            assert attribute in owners[owner].model_fields, column
    fields = {*PaperIn.model_fields, *StudyIn.model_fields, *FindingIn.model_fields}
    on_sheet = {sheet_rows._FIELD.get(c, c) for c in columns.INPUT_COLUMNS}
    assert fields - on_sheet == NOT_ON_SHEETS


def test_exported_rows_carry_every_column_in_the_sheets_order(seeded_engine: Engine) -> None:
    with session_scope(seeded_engine) as session:
        rows = list(sheet_rows.finding_rows(queries.get_review(None, session=session), session=session))
    assert len(rows) == 105 and all(list(r) == list(columns.COLUMNS) for r in rows)
    assert {r["prospective"] for r in rows} <= {"yes", "no", None} and {r["retracted"] for r in rows} == {"no"}
    assert any(isinstance(r["value"], Decimal) for r in rows)


# --------------------------------------------------------------------------------------------------
# Reports read what the grades are made of


def test_contributions_read_the_support_table_and_agree_with_the_findings(seeded_engine: Engine) -> None:
    with session_scope(seeded_engine, write=True) as session:
        review = queries.get_review(None, session=session)
        rows = reports.grade_contributions(review, session=session)
        recount = session.execute(
            sa.select(col(Finding.study_id), col(Finding.biomarker_id), sa.func.count())
            .join(Study, col(Study.id) == col(Finding.study_id)).where(col(Study.review_id) == review.id)
            .group_by(col(Finding.study_id), col(Finding.biomarker_id))).all()
        assert len(rows) == len(recount) and sum(r.n_findings for r in rows) == 105
        one = next(r for r in rows if r.biomarker == "MRD" and r.supports)
        study = queries.find_study(review.id or 0, one.study, session=session)
        assert study is not None
        session.execute(sa.update(Support).where(col(Support.study_id) == study.id)
                        .values(n_efficacy=0, n_toxicity=0, n_no_association=1))
        changed = next(r for r in reports.grade_contributions(review, session=session)
                       if r.biomarker == "MRD" and r.study == one.study)
        assert (changed.supports, changed.n_findings, changed.categories) == (False, 1, ())
        session.rollback()


def test_design_contributions_read_the_tally_and_add_up_to_the_grades(seeded_engine: Engine) -> None:
    with session_scope(seeded_engine, write=True) as session:
        review = queries.get_review(None, session=session)
        parts = reports.design_contributions(review, session=session)
        for marker in queries.list_markers(review, session=session):
            mine = [p for p in parts if p.biomarker == marker.biomarker]
            assert sum((p.contribution for p in mine), Decimal(0)) == marker.score
            assert sum(p.n_studies for p in mine) == marker.n_studies
        session.execute(sa.update(Tally).where(col(Tally.review_id) == review.id).values(n_supporting=1))
        assert {p.n_studies for p in reports.design_contributions(review, session=session)} == {1}
        session.rollback()
