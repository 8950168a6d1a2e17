"""Extraction sheets: one row per finding, study columns repeated.

Why this module exists: curators extract in spreadsheets. ``read_sheet`` validates every row (types,
allowed values, designs known to the review's scheme, DOI/PMID syntax, rows of one study agreeing)
and reports every bad row with its column and reason before anything is written; ``import_sheet``
then writes everything in the caller's single transaction, set-based, and regrades once.
``finding_rows`` + ``write_table`` export the same columns, so an export imports back to the same grades.
pandas is imported here only, and only when a sheet is read or written.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError as PydanticValidationError
from sqlmodel import Session

from evidencedb import curation, queries
from evidencedb.errors import EvidenceDBError, ImportValidationError, RowProblem, ValidationError
from evidencedb.models import (
    ASSOCIATIONS,
    COMPARATORS,
    OUTCOME_CATEGORIES,
    AuditLog,
    Biomarker,
    Finding,
    Paper,
    Review,
    Screening,
    Study,
    utcnow,
)
from evidencedb.resources import data_file
from evidencedb.schemas import BiomarkerIn, FindingIn, PaperIn, StudyIn
from evidencedb.scoring import Scheme

REQUIRED = ("study_id", "citation", "year", "design", "n_patients", "biomarker", "outcome", "outcome_category",
            "association")
STUDY_COLUMNS = ("study_id", "citation", "title", "authors", "journal", "year", "doi", "pmid", "design",
                 "centres", "prospective", "phase", "arms", "n_patients", "population", "age_range", "disease",
                 "product", "target", "costim", "toxicity_grading", "registry_id")
FINDING_COLUMNS = ("biomarker", "biomarker_category", "measure", "timepoint", "specimen", "assay", "comparator",
                   "value", "upper_value", "unit", "outcome", "outcome_category", "direction", "effect_measure",
                   "effect_value", "ci_low", "ci_high", "p_value", "group_results", "analysis", "association",
                   "quote", "location", "citation_refs", "status", "curator")
COLUMNS = STUDY_COLUMNS + tuple(c for c in FINDING_COLUMNS if c not in STUDY_COLUMNS)
# Field names of the input models that a sheet column has another name for.
_SHEET_NAME = {"threshold_value": "value", "threshold_upper": "upper_value", "label": "study_id"}
_PAPER_FIELDS = ("title", "authors", "journal", "year", "doi", "pmid")


@dataclass
class ImportReport:
    """What an import added (or, for a dry run, would add)."""

    source: str
    review: str
    rows: int = 0
    papers_added: int = 0
    studies_added: int = 0
    biomarkers_added: list[str] = field(default_factory=list)
    findings_added: int = 0
    findings_present: int = 0
    review_created: bool = False
    dry_run: bool = False


@dataclass
class _Study:
    row: int
    paper: PaperIn
    study: StudyIn


@dataclass
class _Parsed:
    studies: dict[str, _Study]
    findings: list[tuple[int, str, FindingIn]]
    new_biomarkers: dict[str, BiomarkerIn]


def _problem(row: int, exc: PydanticValidationError | ValidationError, prefix: str = "") -> list[RowProblem]:
    if isinstance(exc, ValidationError):
        return [RowProblem(row, prefix or "row", str(exc))]
    problems = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        column = _SHEET_NAME.get(loc[0], loc[0]) if loc else "row"
        problems.append(RowProblem(row, column, str(err.get("msg", "invalid")).removeprefix("Value error, ")))
    return problems


def read_table(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """Read a CSV (or XLSX) sheet as strings, exactly as typed: no NA guessing, no float PMIDs.

    Raises:
        ValidationError: the file is missing, empty, not text, or not a table.
    """
    import pandas as pd

    if not path.is_file():
        raise ValidationError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            frame = pd.read_excel(path, dtype=str, keep_default_na=False)
        else:
            raw = path.read_bytes()
            if b"\x00" in raw[:4096]:
                raise ValidationError(f"{path}: not a text file (binary data)")
            text = raw.decode("utf-8-sig")
            if not text.strip():
                raise ValidationError(f"{path}: the file is empty")
            frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True)
    except UnicodeDecodeError as exc:
        raise ValidationError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ValidationError(f"{path}: not a readable table: {str(exc).splitlines()[0]}") from None
    except ImportError as exc:
        raise ValidationError(f"{path}: cannot read this format ({exc})") from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    records = [{k: (v.strip() if isinstance(v, str) else v) for k, v in rec.items()} for rec in frame.to_dict("records")]
    return list(frame.columns), records


def _parse(columns: list[str], rows: list[dict[str, str]], *, source: str, designs: set[str], scheme: str,
           session: Session) -> _Parsed:
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise ImportValidationError(source, [RowProblem(1, c, "required column is missing") for c in missing])
    if not rows:
        raise ImportValidationError(source, [RowProblem(1, "row", "the sheet has a header but no rows")])
    unknown = [c for c in columns if c not in COLUMNS]
    problems = [RowProblem(1, c, f"unknown column (allowed: {', '.join(COLUMNS)})") for c in unknown]
    studies: dict[str, _Study] = {}
    findings: list[tuple[int, str, FindingIn]] = []
    new_markers: dict[str, BiomarkerIn] = {}
    known_markers: dict[str, bool] = {}
    for index, rec in enumerate(rows, start=2):
        label = rec.get("study_id", "")
        paper_data = {k: rec.get(k, "") for k in _PAPER_FIELDS}
        paper_data["title"] = paper_data["title"] or rec.get("citation", "")
        paper_data["year"] = paper_data["year"] or None
        study_data = {k: rec[k] for k in STUDY_COLUMNS if k in rec and k not in (*_PAPER_FIELDS, "citation", "study_id")}
        study_data["label"] = label
        study_data = {k: (None if v == "" else v) for k, v in study_data.items()}
        if study_data.get("disease") is None:
            study_data.pop("disease", None)
        try:
            paper = PaperIn.model_validate(paper_data)
            study = StudyIn.model_validate(study_data)
        except PydanticValidationError as exc:
            problems.extend(_problem(index, exc))
            continue
        if study.design not in designs:
            problems.append(RowProblem(index, "design", f"{study.design!r} is not a design of scheme {scheme} "
                                                        f"(designs: {'; '.join(sorted(designs))})"))
            continue
        first = studies.get(label)
        if first is None:
            studies[label] = _Study(index, paper, study)
        else:
            for name, a, b in (("design", first.study.design, study.design),
                               ("n_patients", first.study.n_patients, study.n_patients),
                               ("doi", first.paper.doi, paper.doi), ("year", first.paper.year, paper.year)):
                if a != b:
                    problems.append(RowProblem(index, name, f"study {label} has {a!r} in row {first.row}, {b!r} here"))
        finding_data = {k: rec[k] for k in FINDING_COLUMNS if k in rec and k != "biomarker_category"}
        finding_data["threshold_value"] = finding_data.pop("value", None)
        finding_data["threshold_upper"] = finding_data.pop("upper_value", None)
        try:
            finding = FindingIn.model_validate({k: v for k, v in finding_data.items() if v not in ("", None)})
        except PydanticValidationError as exc:
            problems.extend(_problem(index, exc))
            continue
        key = finding.biomarker.lower()
        if key not in known_markers:
            known_markers[key] = queries.find_biomarker(finding.biomarker, session=session) is not None
        if not known_markers[key] and key not in new_markers:
            category = rec.get("biomarker_category", "")
            if not category:
                problems.append(RowProblem(index, "biomarker", f"unknown biomarker {finding.biomarker!r}: "
                                                               "give biomarker_category to add it"))
                continue
            try:
                new_markers[key] = BiomarkerIn(name=finding.biomarker, category=category)
            except PydanticValidationError as exc:
                problems.extend(RowProblem(index, "biomarker_category", p.reason) for p in _problem(index, exc))
                continue
        findings.append((index, label, finding))
    if problems:
        raise ImportValidationError(source, problems)
    return _Parsed(studies, findings, new_markers)


def _finding_key(study_id: int, biomarker_id: int, f: FindingIn | Finding) -> tuple[Any, ...]:
    return (study_id, biomarker_id, f.outcome, f.outcome_category, f.measure, f.timepoint, f.comparator,
            f.threshold_value, f.threshold_upper, f.association, f.quote)


def import_sheet(path: Path, *, session: Session, review_slug: str | None = None, dry_run: bool = False,
                 actor: str = "") -> ImportReport:
    """Validate a whole sheet, then write it in the caller's transaction and regrade the review once.

    A study_id already in the review receives the sheet's findings; a finding identical to a stored
    one is not stored twice. With ``dry_run`` the report says what would be written and nothing is.

    Raises:
        ImportValidationError: listing every bad row, column and reason; nothing is written.
    """
    source = path.name
    columns, rows = read_table(path)
    review = queries.find_review(review_slug, session=session) if review_slug else None
    if review_slug is None and queries.list_reviews(session=session):
        review = queries.get_review(None, session=session)
    if review is not None:
        scheme_row = queries.get_scheme(None, session=session, review=review)
        scheme = queries.load_scheme(scheme_row, session=session)
    else:
        scheme = Scheme.from_file(data_file("ke-zhou-2025.json"))
    parsed = _parse(columns, rows, source=source, designs=set(scheme.designs), scheme=scheme.label, session=session)
    report = ImportReport(source, review.slug if review else (review_slug or "default"), rows=len(rows),
                          dry_run=dry_run, review_created=review is None)
    if review is not None:
        assert review.id is not None
        for label, item in parsed.studies.items():
            stored = queries.find_study(review.id, label, session=session)
            if stored is not None and stored.design != item.study.design:
                raise ImportValidationError(source, [RowProblem(
                    item.row, "design", f"study {label} is stored with design {stored.design!r}")])
    report.biomarkers_added = sorted(m.name for m in parsed.new_biomarkers.values())
    if dry_run:
        _count_dry(parsed, review, report, session=session)
        return report
    if review is None:
        scheme_row = curation.ensure_scheme(scheme, session=session)
        review = curation.create_review(session=session, slug=report.review, title=f"Review {report.review}",
                                        scheme=scheme_row, actor=actor)
    assert review.id is not None
    for marker in parsed.new_biomarkers.values():
        curation.add_biomarker(marker, session=session, actor=actor)
    study_ids: dict[str, int] = {}
    for label, item in parsed.studies.items():
        stored = queries.find_study(review.id, label, session=session)
        if stored is None:
            paper = queries.find_paper(doi=item.paper.doi, pmid=item.paper.pmid, session=session)
            if paper is None:
                paper = curation.add_paper(item.paper, session=session, actor=actor)
                report.papers_added += 1
            stored = curation.add_study(review, paper, item.study, session=session, actor=actor)
            assert paper.id is not None
            session.add(Screening(review_id=review.id, paper_id=paper.id, stage="full_text", decision="include",
                                  reason=f"imported from {source}"))
            report.studies_added += 1
        assert stored.id is not None
        study_ids[label] = stored.id
    marker_ids = queries.biomarker_ids_by_key(session=session)
    existing = {
        _finding_key(f.study_id, f.biomarker_id, f)
        for f in session.execute(sa.select(Finding).where(Finding.study_id.in_(sorted(study_ids.values())))).scalars()  # type: ignore[attr-defined]
    } if study_ids else set()
    now = utcnow()
    values = []
    for _row, label, f in parsed.findings:
        sid, bid = study_ids[label], marker_ids[f.biomarker.lower()]
        key = _finding_key(sid, bid, f)
        if key in existing:
            report.findings_present += 1
            continue
        existing.add(key)
        data = f.model_dump(exclude={"biomarker"})
        data.update(study_id=sid, biomarker_id=bid, curator=data["curator"] or actor, created_at=now, updated_at=now)
        values.append(data)
    if values:
        session.execute(sa.insert(Finding), values)
    report.findings_added = len(values)
    session.add(AuditLog(actor=actor, action="import", table_name="finding", row_key=source[:80],
                         new=json.dumps({"review": review.slug, "rows": len(rows), "findings": len(values),
                                         "studies_added": report.studies_added})))
    curation.refresh_review(review, session=session)
    return report


def _count_dry(parsed: _Parsed, review: Review | None, report: ImportReport, *, session: Session) -> None:
    for item in parsed.studies.values():
        stored = queries.find_study(review.id, item.study.label, session=session) if review and review.id else None
        if stored is None:
            report.studies_added += 1
            if queries.find_paper(doi=item.paper.doi, pmid=item.paper.pmid, session=session) is None:
                report.papers_added += 1
    report.findings_added = len(parsed.findings)


# --------------------------------------------------------------------------------------------------
# Export


def finding_rows(review: Review, *, session: Session) -> Iterable[dict[str, Any]]:
    """Every finding of a review as a sheet row (the import's columns)."""
    q = (
        sa.select(Finding, Study, Paper, Biomarker.name, Biomarker.category)
        .join(Study, Study.id == Finding.study_id)  # type: ignore[arg-type]
        .join(Paper, Paper.id == Study.paper_id)  # type: ignore[arg-type]
        .join(Biomarker, Biomarker.id == Finding.biomarker_id)  # type: ignore[arg-type]
        .where(Study.review_id == review.id)
        .order_by(Study.label, Finding.id)
    )
    for f, s, p, name, category in session.execute(q):
        yield {
            "study_id": s.label, "citation": queries.citation(p), "title": p.title, "authors": p.authors,
            "journal": p.journal, "year": p.year, "doi": p.doi, "pmid": p.pmid, "design": s.design,
            "centres": s.centres, "prospective": s.prospective, "phase": s.phase, "arms": s.arms,
            "n_patients": s.n_patients, "population": s.population, "age_range": s.age_range,
            "disease": s.disease, "product": s.product, "target": s.target, "costim": s.costim,
            "toxicity_grading": s.toxicity_grading, "registry_id": s.registry_id,
            "biomarker": name, "biomarker_category": category, "measure": f.measure, "timepoint": f.timepoint,
            "specimen": f.specimen, "assay": f.assay, "comparator": f.comparator, "value": f.threshold_value,
            "upper_value": f.threshold_upper, "unit": f.unit, "outcome": f.outcome,
            "outcome_category": f.outcome_category, "direction": f.direction, "effect_measure": f.effect_measure,
            "effect_value": f.effect_value, "ci_low": f.ci_low, "ci_high": f.ci_high, "p_value": f.p_value,
            "group_results": f.group_results, "analysis": f.analysis, "association": f.association,
            "quote": f.quote, "location": f.location, "citation_refs": f.citation_refs, "status": f.status,
            "curator": f.curator,
        }


def write_table(rows: list[dict[str, Any]], path: Path, columns: Iterable[str]) -> None:
    """Write rows to CSV or JSON (by the file's extension), columns in the given order.

    Raises:
        EvidenceDBError: unknown extension or the file cannot be written.
    """
    import pandas as pd

    frame = pd.DataFrame([{c: _plain(r.get(c)) for c in columns} for r in rows], columns=list(columns))
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            frame.to_csv(path, index=False)
        elif suffix == ".json":
            path.write_text(json.dumps(frame.to_dict("records"), ensure_ascii=False, indent=2) + "\n",
                            encoding="utf-8")
        else:
            raise EvidenceDBError(f"{path.name}: unknown export format {suffix or '(none)'} (use .csv or .json)")
    except OSError as exc:
        raise EvidenceDBError(f"cannot write {path}: {exc.strerror}") from None


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    return value


def write_template(path: Path) -> None:
    """An empty sheet with every column, the allowed values, and one example row."""
    example = {
        "study_id": "kadauke-2021", "citation": "Kadauke S et al. J Clin Oncol 2021", "year": 2021,
        "doi": "10.1200/jco.20.02477", "design": "single-arm phase II trial", "n_patients": 70,
        "population": "paediatric", "product": "tisagenlecleucel", "target": "CD19", "costim": "4-1BB",
        "biomarker": "tumour burden", "measure": "bone marrow blasts", "timepoint": "pre-infusion",
        "comparator": ">=", "value": "40", "unit": "%", "outcome": "CR", "outcome_category": "efficacy",
        "direction": "worse", "group_results": "87% vs 100%", "association": "supports",
        "quote": "High tumor burden consistently predicted reduced complete remission rates",
        "location": "section 3.2.1",
    }
    allowed = {"comparator": " | ".join(COMPARATORS), "outcome_category": " | ".join(OUTCOME_CATEGORIES),
               "association": " | ".join(ASSOCIATIONS), "centres": "single | multi",
               "population": "paediatric | adult | both", "direction": "better | worse | more | less"}
    if path.suffix.lower() != ".csv":
        raise EvidenceDBError(f"{path.name}: templates are written as .csv")
    try:
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(COLUMNS))
            writer.writeheader()
            writer.writerow(example)
    except OSError as exc:
        raise EvidenceDBError(f"cannot write {path}: {exc.strerror}") from None
    notes = path.with_suffix(".columns.txt")
    lines = [f"{c}{' (required)' if c in REQUIRED else ''}: {allowed.get(c, '')}".rstrip(": ") for c in COLUMNS]
    notes.write_text("\n".join(lines) + "\n", encoding="utf-8")
