"""The TUI's door to the database: each method is one session around ``evidencedb`` reads or writes.

Why this module exists: screens must not build SQL or hold sessions across user think-time. Every
method here opens its own short session (safe from worker threads), calls the core's query and
curation functions, and returns plain values. A save is one write transaction: the paper, the study
and every finding change commit together or not at all, and the grade changes they caused come back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from evidencedb import queries
from evidencedb.db import make_engine, session_scope
from evidencedb.errors import ValidationError
from evidencedb.formatting import cell_text, level_bands, scheme_label, score_text

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from evidencedb.grading import GradeChange
    from evidencedb.queries import MarkerExplanation, MarkerRow, StudyRow


@dataclass(frozen=True)
class MarkerPage:
    """One page of the leaderboard and how many rows match in all."""

    rows: tuple[MarkerRow, ...]
    total: int
    offset: int
    review: str
    scheme: str


@dataclass(frozen=True)
class SchemeView:
    """The active scheme of a review, as the scheme screen shows it."""

    name: str
    version: str
    content_hash: str
    designs: tuple[tuple[str, str], ...]
    levels: tuple[tuple[str, str, str], ...]

    @property
    def label(self) -> str:
        """``name@version``, as shown to users."""
        return scheme_label(self.name, self.version)


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


PAPER_FIELDS = ("doi", "pmid", "title", "authors", "journal", "year")
STUDY_FIELDS = ("label", "design", "centres", "prospective", "phase", "arms", "n_patients", "n_patients_note",
                "population", "age_range", "disease", "product", "target", "costim", "toxicity_grading",
                "registry_id", "quality_tool", "quality_rating", "notes")
FINDING_FIELDS = ("biomarker", "measure", "timepoint", "specimen", "assay", "comparator", "threshold_value",
                  "threshold_upper", "unit", "outcome", "outcome_category", "direction", "association",
                  "effect_measure", "effect_value", "ci_low", "ci_high", "p_value", "group_results", "analysis",
                  "quote", "location", "citation_refs", "status")


def _values(obj: Any, names: Iterable[str]) -> dict[str, str]:
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
    data["disease"] = data.get("disease") or "B-ALL"
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
    data["status"] = data.get("status") or "draft"
    return data


class Store:
    """Short sessions over one engine; the TUI's only route to the database."""

    def __init__(self, url: str | None = None, *, engine: Engine | None = None) -> None:
        self.engine = engine or make_engine(url)
        self.url = self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()

    # ------------------------------------------------------------------ reads

    def reviews(self) -> list[tuple[str, str]]:
        """``(slug, title)`` of every review."""
        with session_scope(self.engine) as session:
            return [(r.slug, r.title) for r in queries.list_reviews(session=session)]

    def default_review(self) -> str:
        """Slug of the default review."""
        with session_scope(self.engine) as session:
            return queries.get_review(None, session=session).slug

    def levels(self, review: str) -> list[str]:
        """Level names of the review's scheme, strongest first."""
        with session_scope(self.engine) as session:
            r = queries.get_review(review, session=session)
            scheme = queries.load_scheme(queries.get_scheme(None, session=session, review=r), session=session)
            return [lv.level for lv in sorted(scheme.levels, key=lambda lv: lv.min_score, reverse=True)]

    def markers(self, review: str, *, search: str = "", min_level: str | None = None, order: str = "score",
                descending: bool | None = None, limit: int = 100, offset: int = 0) -> MarkerPage:
        """One page of the leaderboard, filtered and sorted in SQL."""
        with session_scope(self.engine) as session:
            r = queries.get_review(review, session=session)
            scheme = queries.get_scheme(None, session=session, review=r)
            filters: dict[str, Any] = {"scheme": scheme, "min_level": min_level, "search": search or None}
            total = queries.count_markers(r, session=session, **filters)
            rows = queries.list_markers(r, session=session, order=order, descending=descending, limit=limit,
                                        offset=offset, **filters)
            return MarkerPage(tuple(rows), total, offset, r.slug, scheme.label)

    def explain(self, review: str, biomarker: str) -> MarkerExplanation:
        """One grade with its contributions, conflicting studies and findings."""
        with session_scope(self.engine) as session:
            return queries.explain_marker(queries.get_review(review, session=session), biomarker, session=session)

    def studies(self, review: str, search: str = "") -> list[StudyRow]:
        """Included studies of a review, filtered by label or title."""
        with session_scope(self.engine) as session:
            return queries.list_studies(queries.get_review(review, session=session), session=session,
                                        search=search or None)

    def scheme(self, review: str) -> SchemeView:
        """The review's scheme: coefficients, cut-offs and content hash."""
        with session_scope(self.engine) as session:
            row = queries.get_scheme(None, session=session, review=queries.get_review(review, session=session))
            pure = queries.load_scheme(row, session=session)
        designs = tuple((d, score_text(c)) for d, c in sorted(pure.designs.items(), key=lambda kv: (-kv[1], kv[0])))
        bands = level_bands(pure.levels)
        levels = tuple((lv.level, bands[lv.level], lv.meaning) for lv in pure.levels)  # highest first
        return SchemeView(row.name, row.version, row.content_hash, designs, levels)

    def designs(self, review: str) -> list[str]:
        """The designs the review's scheme weights, for the study form (A to Z)."""
        with session_scope(self.engine) as session:
            r = queries.get_review(review, session=session)
            return sorted(queries.load_scheme(queries.get_scheme(None, session=session, review=r),
                                              session=session).designs)

    def vocabulary(self) -> list[tuple[str, str, str]]:
        """``(term, biomarker, category)`` for every name and synonym."""
        with session_scope(self.engine) as session:
            return queries.biomarker_vocabulary(session=session)

    def find_paper(self, *, doi: str | None = None,
                   pmid: str | None = None) -> tuple[int, str, list[tuple[str, str]]] | None:
        """An existing paper with this DOI or PMID: its id, citation and ``(review, study)`` pairs."""
        with session_scope(self.engine) as session:
            paper = queries.find_paper(doi=doi, pmid=pmid, session=session)
            if paper is None:
                return None
            assert paper.id is not None
            studies = queries.studies_of_paper(paper, session=session)
            return paper.id, f"{queries.citation(paper)} — {paper.title}", studies

    def paper_values(self, paper_id: int) -> dict[str, str]:
        """Form values of a stored paper (to start a new study from an existing citation)."""
        from evidencedb.models import Paper

        with session_scope(self.engine) as session:
            paper = session.get(Paper, paper_id)
            if paper is None:
                raise ValidationError(f"paper {paper_id} no longer exists")
            return _values(paper, PAPER_FIELDS)

    def load_study(self, review: str, label: str) -> StudyDraft:
        """A stored study as form values."""
        with session_scope(self.engine) as session:
            rec = queries.study_record(queries.get_review(review, session=session), label, session=session)
        findings = []
        for finding, name in rec.findings:
            values = _values(finding, FINDING_FIELDS) | {"biomarker": name}
            findings.append(FindingDraft(values=values, finding_id=finding.id, original=dict(values)))
        return StudyDraft(_values(rec.paper, PAPER_FIELDS), _values(rec.study, STUDY_FIELDS), tuple(findings),
                          paper_id=rec.paper.id, study_id=rec.study.id, label=rec.study.label)

    # ------------------------------------------------------------------ writes

    def save(self, review: str, draft: StudyDraft, *, actor: str = "") -> SaveResult:
        """Write a paper, its study and every finding change in one transaction; report grade changes.

        Raises:
            EvidenceDBError: anything invalid; nothing is written.
        """
        from evidencedb import curation
        from evidencedb.models import Finding, Paper, Study
        from evidencedb.schemas import BiomarkerIn, FindingIn, PaperIn, StudyIn

        added = updated = deleted = 0
        with session_scope(self.engine, write=True) as session:
            r = queries.get_review(review, session=session)
            with curation.track_grades(r, session=session) as tracker:
                paper_data = paper_changes(draft.paper)
                if draft.paper_id is None:
                    paper = curation.add_paper(curation.validate(PaperIn, paper_data), session=session, actor=actor)
                else:
                    found = session.get(Paper, draft.paper_id)
                    if found is None:
                        raise ValidationError(f"paper {draft.paper_id} was deleted meanwhile")
                    paper = curation.update_paper(found, paper_data, session=session, actor=actor)
                study_data = study_changes(draft.study)
                if draft.study_id is None:
                    study = curation.add_study(r, paper, curation.validate(StudyIn, study_data), session=session,
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
            label = study.label
        return SaveResult(label, added, updated, deleted, tuple(tracker.changes))

    def import_file(self, review: str, path: str, *, dry_run: bool = False, actor: str = "") -> str:
        """Import an extraction sheet (.csv/.xlsx) or a citation file in one transaction; its summary line."""
        from pathlib import Path

        from evidencedb.io.importing import import_file

        with session_scope(self.engine, write=True) as session:
            return import_file(Path(path), session=session, review_slug=review, dry_run=dry_run,
                               actor=actor).summary()

    def regrade(self, review: str) -> tuple[GradeChange, ...]:
        """Rebuild a review's evidence tallies and grades from its findings; report what moved."""
        from evidencedb import curation

        with session_scope(self.engine, write=True) as session:
            r = queries.get_review(review, session=session)
            with curation.track_grades(r, session=session) as tracker:
                curation.refresh_review(r, session=session)
        return tuple(tracker.changes)
