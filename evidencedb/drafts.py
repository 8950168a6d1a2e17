"""Drafts of one study as a curator edits them, and the workflow that saves one.

Why this module exists: saving a curation form is a core workflow, not a screen's business. A paper,
its study and every finding change are written by the curation functions in the caller's one
transaction (so they commit together or not at all), and the grade changes they caused come back.
Front ends hold a :class:`StudyDraft` of form text; this module turns it into validated writes, and
a stored study back into a draft. The form fields are the input models' fields (their order too),
less the few that a workflow sets or derives, so a new field of a model reaches the forms by itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from evidencedb import curation, queries
from evidencedb.errors import ValidationError
from evidencedb.formatting import cell_text
from evidencedb.grading import GradeChange
from evidencedb.models import Finding, Paper, Review, Study
from evidencedb.schemas import BiomarkerIn, FindingIn, PaperIn, StudyIn

#: Paper identifiers come first in a form: they are checked against the stored papers before the rest is typed.
_IDENTIFIERS = ("doi", "pmid")
#: Input fields a form does not hold: set by sheets and seeds (the retracted flag, shared cohorts,
#: verification notes), taken from the actor (a finding's curator) or derived (the normalised threshold).
NOT_IN_FORMS = frozenset({"retracted", "shares_patients_with", "verification_source", "verification_confidence",
                          "curator", "norm_value", "norm_unit"})

PAPER_FIELDS: tuple[str, ...] = _IDENTIFIERS + tuple(
    n for n in PaperIn.model_fields if n not in NOT_IN_FORMS and n not in _IDENTIFIERS)
STUDY_FIELDS: tuple[str, ...] = tuple(n for n in StudyIn.model_fields if n not in NOT_IN_FORMS)
FINDING_FIELDS: tuple[str, ...] = tuple(n for n in FindingIn.model_fields if n not in NOT_IN_FORMS)


@dataclass
class FindingDraft:
    """A finding as the curation form holds it: field values as typed, plus what happens on save.

    ``finding_id`` is ``None`` for a new finding; ``deleted`` marks a stored one for deletion;
    ``new_category`` is set when the biomarker does not exist yet and is created on save.
    """

    values: dict[str, str]
    finding_id: int | None = None
    deleted: bool = False
    new_category: str | None = None
    original: dict[str, str] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        """Whether saving would write anything for this finding."""
        if self.finding_id is None:
            return not self.deleted
        return self.deleted or self.values != self.original


@dataclass(frozen=True)
class StudyDraft:
    """Everything the curation form loaded for one study (``None`` ids for a new one)."""

    paper: dict[str, str]
    study: dict[str, str]
    findings: tuple[FindingDraft, ...]
    paper_id: int | None = None
    study_id: int | None = None
    label: str | None = None


@dataclass(frozen=True)
class SaveResult:
    """What one save wrote and which grades it moved."""

    label: str
    added: int
    updated: int
    deleted: int
    changes: tuple[GradeChange, ...]


# --------------------------------------------------------------------------------------------------
# Form text ↔ input fields


def form_values(obj: Any, names: Iterable[str]) -> dict[str, str]:
    """A stored row's fields as form text (``None`` blank, booleans yes/no)."""
    return {name: cell_text(getattr(obj, name, None)) for name in names}


def _blank_none(values: Mapping[str, str]) -> dict[str, Any]:
    return {k: (v if v.strip() else None) for k, v in values.items()}


def study_changes(values: Mapping[str, str]) -> dict[str, Any]:
    """Form text → StudyIn fields ("yes"/"no" for prospective; blanks become ``None``)."""
    data = _blank_none(values)
    prospective = (data.get("prospective") or "").lower()
    data["prospective"] = {"yes": True, "no": False, "": None}.get(prospective, data.get("prospective"))
    for key in ("n_patients_note", "notes"):
        data[key] = data.get(key) or ""
    data["disease"] = data.get("disease") or StudyIn.model_fields["disease"].default
    return data


def paper_changes(values: Mapping[str, str]) -> dict[str, Any]:
    """Form text → PaperIn fields (blank identifiers and year become ``None``; text stays text)."""
    data: dict[str, Any] = {k: v.strip() for k, v in values.items()}
    for key in ("doi", "pmid", "year"):
        data[key] = data.get(key) or None
    return data


def finding_changes(values: Mapping[str, str]) -> dict[str, Any]:
    """Form text → FindingIn fields (blanks become ``None``, free text stays text)."""
    data = _blank_none(values)
    for key in ("quote", "location", "citation_refs"):
        data[key] = data.get(key) or ""
    data["status"] = data.get("status") or FindingIn.model_fields["status"].default
    return data


# --------------------------------------------------------------------------------------------------
# Loading and saving


def paper_draft(paper_id: int, *, session: Session) -> dict[str, str]:
    """Form values of a stored paper (to start a new study from an existing citation).

    Raises:
        ValidationError: the paper no longer exists.
    """
    paper = session.get(Paper, paper_id)
    if paper is None:
        raise ValidationError(f"paper {paper_id} no longer exists")
    return form_values(paper, PAPER_FIELDS)


def load_study(review: Review, label: str, *, session: Session) -> StudyDraft:
    """A stored study, its paper and its findings as form values."""
    rec = queries.study_record(review, label, session=session)
    findings = []
    for finding, name in rec.findings:
        values = form_values(finding, FINDING_FIELDS) | {"biomarker": name}
        findings.append(FindingDraft(values=values, finding_id=finding.id, original=dict(values)))
    return StudyDraft(form_values(rec.paper, PAPER_FIELDS), form_values(rec.study, STUDY_FIELDS), tuple(findings),
                      paper_id=rec.paper.id, study_id=rec.study.id, label=rec.study.label)


def save_study(review: Review, draft: StudyDraft, *, session: Session, actor: str = "") -> SaveResult:
    """Write a draft's paper, its study and every finding change in the caller's transaction.

    A new study's paper is included at full text (:func:`evidencedb.curation.add_study`); a finding
    naming a biomarker not yet known creates it with the draft's category, unless the finding is
    removed. Stored rows that vanished meanwhile are refused rather than recreated.

    Returns:
        What was written and the grade changes (the review's default scheme) it caused.

    Raises:
        EvidenceDBError: anything invalid; the caller's transaction must then roll back.
    """
    added = updated = deleted = 0
    with curation.track_grades(review, session=session) as tracker:
        paper = _save_paper(draft, session=session, actor=actor)
        study_data = study_changes(draft.study)
        if draft.study_id is None:
            study = curation.add_study(review, paper, curation.validate(StudyIn, study_data), session=session,
                                       actor=actor)
        else:
            stored = session.get(Study, draft.study_id)
            if stored is None:
                raise ValidationError(f"study {draft.label} was deleted meanwhile")
            study = curation.update_study(stored, study_data, session=session, actor=actor)
        for item in draft.findings:
            if not item.changed:
                continue
            data = finding_changes(item.values)
            if (item.new_category and not item.deleted
                    and queries.find_biomarker(data["biomarker"] or "", session=session) is None):
                marker = {"name": data["biomarker"], "category": item.new_category}
                curation.add_biomarker(curation.validate(BiomarkerIn, marker), session=session, actor=actor)
            if item.finding_id is None:
                curation.add_finding(study, curation.validate(FindingIn, data), session=session, actor=actor)
                added += 1
                continue
            finding = session.get(Finding, item.finding_id)
            if finding is None:
                raise ValidationError(f"finding {item.finding_id} was deleted meanwhile")
            if item.deleted:
                curation.delete_finding(finding, session=session, actor=actor)
                deleted += 1
            else:
                curation.update_finding(finding, data, session=session, actor=actor)
                updated += 1
    return SaveResult(study.label, added, updated, deleted, tuple(tracker.changes))


def _save_paper(draft: StudyDraft, *, session: Session, actor: str) -> Paper:
    data = paper_changes(draft.paper)
    if draft.paper_id is None:
        return curation.add_paper(curation.validate(PaperIn, data), session=session, actor=actor)
    found = session.get(Paper, draft.paper_id)
    if found is None:
        raise ValidationError(f"paper {draft.paper_id} was deleted meanwhile")
    return curation.update_paper(found, data, session=session, actor=actor)
