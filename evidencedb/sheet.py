"""Extraction sheets: one row per finding, study columns repeated.

Why this module exists: curators extract in spreadsheets. ``import_sheet`` validates every row (types,
allowed values, units, designs known to the review's scheme, DOI/PMID syntax, rows of one study
agreeing, rows against what is stored) and reports every bad row with its column and reason before
anything is written; then it writes everything in the caller's single transaction, set-based, and
regrades once. ``finding_rows`` exports the same columns, so an export imports back to the same grades.

Re-importing: a row whose finding identity (study, biomarker, outcome and category, measure, timepoint,
specimen, assay, threshold comparator/value/upper value/unit, analysis, effect measure) is already
stored is either the same finding (counted as present, not stored twice) or a correction of it: the
stored finding is updated, with an audit row old → new, and a dry run lists it as "would change". A
stored study's own columns are never changed by an import: a disagreement is reported as a bad row.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import sqlalchemy as sa
from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError
from sqlmodel import Session, col

from evidencedb import queries
from evidencedb.collector import collector_paused
from evidencedb.errors import ImportValidationError, RowProblem
from evidencedb.models import Biomarker, Finding, Paper, Review, Study
from evidencedb.schemas import BiomarkerIn, FindingIn, PaperIn, StudyIn
from evidencedb.sheet_columns import (
    COLUMN_OF,
    COLUMNS,
    DERIVED_COLUMNS,
    FIELD_OF,
    FINDING_COLUMNS,
    INPUT_COLUMNS,
    PAPER_FIELDS,
    REQUIRED,
    STUDY_COLUMNS,
    STUDY_FIELDS,
)
from evidencedb.spreadsheets import SheetTable, read_table, write_template

__all__ = ["COLUMNS", "DERIVED_COLUMNS", "FINDING_COLUMNS", "INPUT_COLUMNS", "REQUIRED", "STUDY_COLUMNS",
           "FindingChange", "ImportReport", "SheetTable", "finding_rows", "import_sheet", "read_table",
           "write_template"]

_NUMBER_FIELDS = frozenset({"threshold_value", "threshold_upper", "effect_value", "ci_low", "ci_high"})
_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d*,\d+(?:[eE][-+]?\d+)?\s*$")
_BATCH = 5_000  # finding rows validated per call


@dataclass(frozen=True)
class FindingChange:
    """A stored finding that a row corrects: which row, which finding, and each column old → new."""

    row: int
    study: str
    biomarker: str
    outcome: str
    finding_id: int
    changes: tuple[tuple[str, str, str], ...]

    def __str__(self) -> str:
        diffs = "; ".join(f"{c}: {old!r} → {new!r}" for c, old, new in self.changes)
        return f"row {self.row}: finding {self.finding_id} ({self.study} × {self.biomarker} × {self.outcome}): {diffs}"


@dataclass
class ImportReport:
    """What an import added or changed (or, for a dry run, would add or change)."""

    source: str
    review: str
    rows: int = 0
    papers_added: int = 0
    studies_added: int = 0
    biomarkers_added: list[str] = field(default_factory=list)
    findings_added: int = 0
    findings_present: int = 0
    findings_changed: int = 0
    changes: list[FindingChange] = field(default_factory=list)
    review_created: bool = False
    dry_run: bool = False

    def summary(self) -> str:
        """One line: rows read, what was (or would be) added and changed, and the review."""
        verb = "would add" if self.dry_run else "added"
        markers = f" ({', '.join(self.biomarkers_added)})" if self.biomarkers_added else ""
        changed = f"; {'would change' if self.dry_run else 'changed'} {self.findings_changed} findings"
        return (f"{self.source}: {self.rows} rows; {verb} {self.papers_added} papers, {self.studies_added} studies, "
                f"{self.findings_added} findings, {len(self.biomarkers_added)} biomarkers{markers}"
                + (changed if self.findings_changed else "")
                + (f"; {self.findings_present} findings already present" if self.findings_present else "")
                + f" → review {self.review}")


# --------------------------------------------------------------------------------------------------
# Reading and validating rows (no database writes)


@dataclass
class StudyEntry:
    """The validated study columns of a study_id, from the first row that names it."""

    row: int
    paper: PaperIn
    study: StudyIn
    raw: Any


class FindingEntry(NamedTuple):
    """A validated finding row; ``given`` holds the model fields whose column the sheet has.

    ``marker`` is the biomarker as typed, lower-cased: the key of known and new biomarkers.
    """

    row: int
    label: str
    finding: FindingIn
    given: frozenset[str]
    marker: str


@dataclass
class ParsedSheet:
    """Every row validated on its own: studies by study_id, findings, biomarkers to add."""

    studies: dict[str, StudyEntry]
    findings: list[FindingEntry]
    new_markers: dict[str, BiomarkerIn]
    categories: dict[str, tuple[int, str]]


def _problems(row: int, exc: PydanticValidationError) -> list[RowProblem]:
    problems = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        column = COLUMN_OF.get(loc[0], loc[0]) if loc else "row"
        problems.append(RowProblem(row, column, str(err.get("msg", "invalid")).removeprefix("Value error, ")))
    return problems


def _study_input(rec: tuple[str, ...], at: dict[str, int]) -> tuple[dict[str, Any], dict[str, Any]]:
    paper = {k: v for k in PAPER_FIELDS if k in at and (v := rec[at[k]].strip())}
    paper.setdefault("title", rec[at["citation"]])
    study = {k: v for k in STUDY_FIELDS if k in at and (v := rec[at[k]].strip())}
    study["label"] = rec[at["study_id"]]
    return paper, study


def _differences(first: StudyEntry, paper: PaperIn, study: StudyIn) -> list[tuple[str, Any, Any]]:
    diffs = [(COLUMN_OF.get(k, k), v, getattr(paper, k)) for k, v in first.paper.model_dump().items()
             if v != getattr(paper, k)]
    diffs += [(COLUMN_OF.get(k, k), v, getattr(study, k)) for k, v in first.study.model_dump().items()
              if v != getattr(study, k)]
    return diffs


@cache
def _finding_list() -> TypeAdapter[list[FindingIn]]:
    return TypeAdapter(list[FindingIn])


def _validate_findings(rows: Sequence[tuple[str, ...]], columns: list[tuple[int, str]], *, decimal_comma: bool
                       ) -> list[FindingIn | PydanticValidationError]:
    """Each row's finding columns validated by :class:`FindingIn`: the model, or the row's errors.

    ``columns`` pairs a cell's position with its model field; blank cells are left out (the field's
    default). Rows are validated a batch at a time by one call (the same model, without a Python call
    per row), each batch's input built just before it (so that the input of every row is never in
    memory at once); a batch with any bad row is validated again row by row, so that every bad row
    gets its own errors.
    """
    adapter = _finding_list()
    results: list[FindingIn | PydanticValidationError] = []
    for start in range(0, len(rows), _BATCH):
        batch = [{name: value for c, name in columns if (value := rec[c]) and not value.isspace()}
                 for rec in rows[start:start + _BATCH]]
        if decimal_comma:
            for data in batch:
                for name in _NUMBER_FIELDS & data.keys():
                    if _DECIMAL_COMMA.match(data[name]):
                        data[name] = data[name].replace(",", ".")
        try:
            results += adapter.validate_python(batch)
        except PydanticValidationError:
            for data in batch:
                try:
                    results.append(FindingIn.model_validate(data))
                except PydanticValidationError as exc:
                    results.append(exc)
    return results


def parse_rows(table: SheetTable, *, designs: set[str], scheme: str, known: dict[str, tuple[int, str]]
               ) -> tuple[ParsedSheet, list[RowProblem]]:
    """Validate every row on its own (no database access).

    Args:
        table: the sheet as read.
        designs: designs the review's scheme weights.
        scheme: the scheme's label, for messages.
        known: lower-cased biomarker names and synonyms → (id, category).

    Returns:
        The parsed sheet and every problem found (empty when all rows are good).
    """
    problems: list[RowProblem] = []
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        return ParsedSheet({}, [], {}, {}), [RowProblem(1, c, "required column is missing") for c in missing]
    if not table.rows:
        return ParsedSheet({}, [], {}, {}), [RowProblem(1, "row", "the sheet has a header but no rows")]
    problems += [RowProblem(1, c, f"unknown column (allowed: {', '.join(COLUMNS)})")
                 for c in table.columns if c not in COLUMNS]
    at = {c: i for i, c in enumerate(table.columns)}
    finding_columns = [(at[c], FIELD_OF.get(c, c)) for c in FINDING_COLUMNS
                       if c in at and c != "biomarker_category"]
    given = frozenset(name for _c, name in finding_columns)
    raw_study = operator.itemgetter(*(at[c] for c in STUDY_COLUMNS if c in at))  # study columns, at C speed
    label_at, category_at = at["study_id"], at.get("biomarker_category")
    parsed = ParsedSheet({}, [], {}, {})
    findings = _validate_findings(table.rows, finding_columns, decimal_comma=table.decimal_comma)
    category_of_new: dict[str, str] = {}
    for number, rec, finding in zip(table.numbers, table.rows, findings, strict=True):
        label = rec[label_at].strip()
        raw = raw_study(rec)
        first = parsed.studies.get(label)
        study_ok = True
        if first is None or first.raw != raw:
            paper_data, study_data = _study_input(rec, at)
            try:
                paper = PaperIn.model_validate(paper_data)
                study = StudyIn.model_validate(study_data)
            except PydanticValidationError as exc:
                problems += _problems(number, exc)
                study_ok = False
            else:
                if study.design not in designs:
                    problems.append(RowProblem(number, "design", f"{study.design!r} is not a design of scheme "
                                                                 f"{scheme} (designs: {'; '.join(sorted(designs))})"))
                    study_ok = False
                elif first is None:
                    parsed.studies[label] = StudyEntry(number, paper, study, raw)
                else:
                    problems += [RowProblem(number, column, f"study {label} has {a!r} in row {first.row}, {b!r} here")
                                 for column, a, b in _differences(first, paper, study)]
        if isinstance(finding, PydanticValidationError):
            problems += _problems(number, finding)
            continue
        key = finding.biomarker.lower()
        category = rec[category_at].strip() if category_at is not None else ""
        if key in known:
            if category and category.lower() != known[key][1].lower():
                problems.append(RowProblem(number, "biomarker_category", f"biomarker {finding.biomarker!r} is "
                                                                         f"stored with category {known[key][1]!r}"))
                continue
        elif key not in parsed.new_markers:
            if not category:
                problems.append(RowProblem(number, "biomarker", f"unknown biomarker {finding.biomarker!r}: "
                                                                "give biomarker_category to add it"))
                continue
            try:
                parsed.new_markers[key] = BiomarkerIn(name=finding.biomarker, category=category)
                parsed.categories[key] = (number, parsed.new_markers[key].category)
            except PydanticValidationError as exc:
                problems += [RowProblem(number, "biomarker_category", p.reason) for p in _problems(number, exc)]
                continue
        elif (category and category != category_of_new.get(key)
              and category.lower() != parsed.categories[key][1].lower()):
            problems.append(RowProblem(number, "biomarker_category", f"biomarker {finding.biomarker!r} has category "
                                                                     f"{parsed.categories[key][1]!r} in row "
                                                                     f"{parsed.categories[key][0]}"))
            continue
        else:
            category_of_new[key] = category  # a spelling already found to agree
        if study_ok:
            parsed.findings.append(FindingEntry(number, label, finding, given, key))
    return parsed, problems


# --------------------------------------------------------------------------------------------------
# Import


def _review_and_scheme(session: Session, review_slug: str | None) -> tuple[Review | None, Any]:
    from evidencedb.scoring import default_scheme

    if review_slug:
        review = queries.find_review(review_slug, session=session)
    else:  # the default review: the first one, if the database holds any
        review = next(iter(queries.list_reviews(session=session)), None)
    if review is None:
        return None, default_scheme()
    row = queries.get_scheme(None, session=session, review=review)
    return review, queries.load_scheme(row, session=session)


def known_biomarkers(*, session: Session) -> dict[str, tuple[int, str]]:
    """Lower-cased names and synonyms of stored biomarkers → (id, category), in two queries."""
    categories: dict[int, str] = dict(session.execute(sa.select(col(Biomarker.id), col(Biomarker.category))).all())
    return {key: (bid, categories[bid]) for key, bid in queries.biomarker_ids_by_key(session=session).items()}


def import_sheet(path: Path, *, session: Session, review_slug: str | None = None, dry_run: bool = False,
                 actor: str = "") -> ImportReport:
    """Validate a whole sheet, then write it in the caller's transaction and regrade the review once.

    A study_id already in the review receives the sheet's findings; a finding identical to a stored
    one is not stored twice; a stored finding with the same identity but other values is updated (and
    audited). With ``dry_run`` the report says what would be added and changed, and nothing is written.
    Without ``review_slug`` the default review is used, or a review ``default`` is created in an empty
    database.

    Raises:
        ValidationError: the file cannot be read as a table (names the file and the place).
        ImportValidationError: listing every bad row, column and reason; nothing is written.
    """
    with collector_paused():  # rows in memory stay alive until the import ends
        return _import(path, session=session, review_slug=review_slug, dry_run=dry_run, actor=actor)


def _import(path: Path, *, session: Session, review_slug: str | None, dry_run: bool, actor: str) -> ImportReport:
    from evidencedb import sheet_write

    table = read_table(path)
    review, scheme = _review_and_scheme(session, review_slug)
    known = known_biomarkers(session=session)
    parsed, problems = parse_rows(table, designs=set(scheme.designs), scheme=scheme.label, known=known)
    source, n_rows = table.source, len(table.rows)
    del table  # every cell as read: its memory is reused by the writing below
    plan = sheet_write.plan_import(parsed, review, known, session=session)
    problems += plan.problems
    if problems:
        raise ImportValidationError(source, sorted(problems, key=lambda p: p.row))
    report = ImportReport(source, review.slug if review else (review_slug or "default"), rows=n_rows,
                          dry_run=dry_run, review_created=review is None)
    report.biomarkers_added = sorted(m.name for m in parsed.new_markers.values())
    report.studies_added = len(plan.new_studies)
    report.papers_added = plan.n_new_papers
    report.findings_added = len(plan.new_findings)
    report.findings_present = plan.n_present
    report.changes = plan.changes
    report.findings_changed = len(plan.changes)
    if not dry_run:
        sheet_write.apply_import(plan, parsed, review, scheme, report, known, session=session, actor=actor)
    return report


# --------------------------------------------------------------------------------------------------
# Export


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
