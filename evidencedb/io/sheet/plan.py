"""Planning a validated extraction sheet against the database: what is new, present or changed.

Why this module exists: ``plan_import`` compares the parsed sheet with what is stored in a handful of
set-based reads and finds every conflict before anything is written.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlmodel import Session, col

from evidencedb.bulk import chunks
from evidencedb.errors import RowProblem
from evidencedb.formatting import cell_text
from evidencedb.io.sheet.columns import COLUMN_OF, IDENTITY_FIELDS, STUDY_FIELDS, VALUE_FIELDS
from evidencedb.io.sheet.types import FindingChange, FindingEntry, ParsedSheet
from evidencedb.models import (
    Finding,
    Paper,
    Review,
    Study,
)

#: A stored study's fields that an imported row must agree with (what N counts is a note, not a fact).
_COMPARED_STUDY_FIELDS = tuple(n for n in STUDY_FIELDS if n != "n_patients_note")
_COMPARED_PAPER_FIELDS = ("doi", "pmid", "year")


class NewMarker(NamedTuple):
    """A biomarker the sheet adds (by its lower-cased name): it has no id yet, and equals no stored id."""

    name: str


#: A biomarker as a finding's identity holds it: a stored biomarker's id, or one the sheet adds.
MarkerRef = int | NewMarker


class NewPaper(NamedTuple):
    """A paper the sheet adds, by the first identifier its studies give: a DOI, a PMID, or (neither) a study."""

    by: str  # "doi" | "pmid" | "study"
    value: str


@dataclass
class ImportPlan:
    """What a validated sheet would do to the database."""

    problems: list[RowProblem] = field(default_factory=list)
    stored_studies: dict[str, Study] = field(default_factory=dict)
    new_studies: list[str] = field(default_factory=list)
    #: label of a new study → id of the stored paper it reports, or the paper to add.
    paper_of: dict[str, int | NewPaper] = field(default_factory=dict)
    n_new_papers: int = 0
    new_findings: list[FindingEntry] = field(default_factory=list)
    changes: list[FindingChange] = field(default_factory=list)
    updates: list[tuple[Finding, FindingEntry, tuple[str, ...]]] = field(default_factory=list)
    n_present: int = 0


def _compared(entry: FindingEntry) -> tuple[str, ...]:
    """Value fields a row states: its columns, except blank status/curator (which keep the stored value)."""
    stated = entry.finding.model_fields_set
    return tuple(n for n in VALUE_FIELDS if n in entry.given and (n not in ("status", "curator") or n in stated))


def plan_import(parsed: ParsedSheet, review: Review | None, known: dict[str, tuple[int, str]], *,
                session: Session) -> ImportPlan:
    """Compare a parsed sheet with the database (reads only).

    Returns:
        The plan, with a problem for every row that disagrees with a stored study or paper, or that
        matches several stored findings, or repeats a finding of an earlier row with other values.
    """
    plan = ImportPlan()
    labels = list(parsed.studies)
    stored_papers: dict[int, Paper] = {}
    if review is not None and labels:
        for chunk in chunks(labels):
            rows = session.execute(sa.select(Study, Paper).join(Paper, col(Paper.id) == col(Study.paper_id))
                                   .where(col(Study.review_id) == review.id, col(Study.label).in_(chunk))).all()
            for study, paper in rows:
                plan.stored_studies[study.label] = study
                stored_papers[study.id] = paper
    for label, entry in parsed.studies.items():
        stored = plan.stored_studies.get(label)
        if stored is None:
            plan.new_studies.append(label)
            continue
        given = entry.study.model_fields_set
        for name in _COMPARED_STUDY_FIELDS:
            if (name in given or name == "design") and getattr(entry.study, name) != getattr(stored, name):
                plan.problems.append(RowProblem(entry.row, name, f"study {label} is stored with {name} "
                                                                 f"{getattr(stored, name)!r}; an import does not "
                                                                 "change stored studies"))
        paper = stored_papers[stored.id or 0]
        for name in _COMPARED_PAPER_FIELDS:
            if name in entry.paper.model_fields_set and getattr(entry.paper, name) != getattr(paper, name):
                plan.problems.append(RowProblem(entry.row, name, f"study {label} is stored with {name} "
                                                                 f"{getattr(paper, name)!r}"))
    _plan_papers(plan, parsed, session=session)
    _plan_findings(plan, parsed, known, session=session)
    return plan


def _plan_papers(plan: ImportPlan, parsed: ParsedSheet, *, session: Session) -> None:
    entries = [parsed.studies[label] for label in plan.new_studies]
    dois = sorted({e.paper.doi for e in entries if e.paper.doi})
    pmids = sorted({e.paper.pmid for e in entries if e.paper.pmid})
    by_doi: dict[str, tuple[int, str | None]] = {}
    by_pmid: dict[str, tuple[int, str | None]] = {}
    for chunk in chunks(dois):
        for pid, doi, pmid in session.execute(sa.select(col(Paper.id), col(Paper.doi), col(Paper.pmid))
                                              .where(col(Paper.doi).in_(chunk))):
            by_doi[doi] = (pid, pmid)
    for chunk in chunks(pmids):
        for pid, doi, pmid in session.execute(sa.select(col(Paper.id), col(Paper.doi), col(Paper.pmid))
                                              .where(col(Paper.pmid).in_(chunk))):
            by_pmid[pmid] = (pid, doi)
    new_keys: dict[NewPaper, NewPaper] = {}
    for label, entry in zip(plan.new_studies, entries, strict=True):
        doi, pmid = entry.paper.doi, entry.paper.pmid
        hit_doi = by_doi.get(doi) if doi else None
        hit_pmid = by_pmid.get(pmid) if pmid else None
        if hit_doi and pmid and hit_doi[1] and hit_doi[1] != pmid:
            plan.problems.append(RowProblem(entry.row, "pmid", f"the stored paper with doi {doi} has pmid "
                                                               f"{hit_doi[1]}"))
        elif hit_pmid and doi and hit_pmid[1] and hit_pmid[1] != doi:
            plan.problems.append(RowProblem(entry.row, "doi", f"the stored paper with pmid {pmid} has doi "
                                                              f"{hit_pmid[1]}"))
        elif hit_doi or hit_pmid:
            plan.paper_of[label] = (hit_doi or hit_pmid or (0, None))[0]
        else:
            keys = [NewPaper("doi", doi)] if doi else []
            keys += [NewPaper("pmid", pmid)] if pmid else []
            key = next((new_keys[k] for k in keys if k in new_keys), keys[0] if keys else NewPaper("study", label))
            for k in keys:
                new_keys.setdefault(k, key)
            plan.paper_of[label] = key
    plan.n_new_papers = len({k for k in plan.paper_of.values() if isinstance(k, NewPaper)})


def _plan_findings(plan: ImportPlan, parsed: ParsedSheet, known: dict[str, tuple[int, str]], *,
                   session: Session) -> None:
    label_of = {s.id: label for label, s in plan.stored_studies.items()}
    identity = operator.attrgetter(*IDENTITY_FIELDS)
    row_identity = operator.itemgetter(*IDENTITY_FIELDS)  # of a validated model's __dict__ (faster)
    stored: dict[tuple[Any, ...], list[Finding]] = {}
    ids = sorted(i for i in label_of if i is not None)
    for chunk in chunks(ids):
        for f in session.execute(sa.select(Finding).where(col(Finding.study_id).in_(chunk))).scalars():
            key = (label_of[f.study_id], f.biomarker_id, *identity(f))
            stored.setdefault(key, []).append(f)
    seen: dict[tuple[Any, ...], FindingEntry] = {}
    new_ref = {marker: NewMarker(marker) for marker in parsed.new_markers}
    for entry in parsed.findings:
        f = entry.finding
        marker = entry.marker
        ref: MarkerRef = known[marker][0] if marker in known else new_ref[marker]
        key = (entry.label, ref, *row_identity(vars(f)))
        earlier = seen.get(key)
        if earlier is not None:
            compared = _compared(entry)
            diffs = [n for n in compared if getattr(earlier.finding, n) != getattr(f, n)]
            plan.problems += [RowProblem(entry.row, COLUMN_OF.get(n, n), f"the same finding as row {earlier.row} "
                                         f"(same study, biomarker, outcome, threshold …) with {n} "
                                         f"{getattr(earlier.finding, n)!r} there") for n in diffs]
            plan.n_present += not diffs
            continue
        seen[key] = entry
        matches = stored.get(key) if stored else None
        if not matches:
            plan.new_findings.append(entry)
            continue
        compared = _compared(entry)
        differing = [[n for n in compared if getattr(m, n) != getattr(f, n)] for m in matches]
        if any(not d for d in differing):
            plan.n_present += 1
        elif len(matches) > 1:
            plan.problems.append(RowProblem(entry.row, "row", f"matches {len(matches)} stored findings (ids "
                                            f"{', '.join(str(m.id) for m in matches)}) with other values; "
                                            "correct them one by one"))
        else:
            match, names = matches[0], tuple(differing[0])
            plan.updates.append((match, entry, names))
            plan.changes.append(FindingChange(
                entry.row, entry.label, f.biomarker, f.outcome, match.id or 0,
                tuple((COLUMN_OF.get(n, n), cell_text(getattr(match, n)), cell_text(getattr(f, n))) for n in names)))
