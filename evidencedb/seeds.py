"""The bundled knowledge base loader.

Why this module exists: seeds are data files (YAML, one file per study, reviewed in diffs), loaded
by one idempotent function and never by a migration. Every file is parsed and validated before the
first row is written; a second load adds nothing.

Layout of a seed directory (``seeds/<review-slug>/``): ``review.yaml``, ``biomarkers.yaml`` and
``studies/*.yaml`` (see ``seeds/README.md``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlmodel import Session

from evidencedb import curation, papers, queries
from evidencedb.errors import DuplicateError, EvidenceDBError, ValidationError
from evidencedb.models import ImportBatch, Review
from evidencedb.resources import bundled_dir, data_file
from evidencedb.schemas import BiomarkerIn, FindingIn, PaperIn, StudyIn
from evidencedb.scoring import Scheme

SEED_ACTOR = "seed"
_STUDY_KEYS = {"study_id", "review_refs", "paper", "study", "verification", "findings"}


@dataclass
class SeedReport:
    """What a load added and what it found already there."""

    reviews_added: int = 0
    biomarkers_added: int = 0
    papers_added: int = 0
    studies_added: int = 0
    findings_added: int = 0
    studies_present: int = 0
    reviews: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether anything was written."""
        return bool(self.reviews_added or self.biomarkers_added or self.papers_added or self.studies_added)


@dataclass(frozen=True)
class _SeedStudy:
    source: str
    paper: PaperIn
    study: StudyIn
    findings: tuple[FindingIn, ...]


@dataclass(frozen=True)
class _SeedReview:
    slug: str
    meta: dict[str, Any]
    scheme: Scheme
    biomarkers: tuple[BiomarkerIn, ...]
    studies: tuple[_SeedStudy, ...]


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ValidationError(f"{path.name}: cannot read seed file: {exc}") from exc


def _study_from(path: Path, data: Any) -> _SeedStudy:
    where = f"{path.parent.name}/{path.name}"
    if not isinstance(data, dict) or not {"study_id", "paper", "study"} <= data.keys():
        raise ValidationError(f"{where}: a study file needs study_id, paper and study")
    unknown = set(data) - _STUDY_KEYS
    if unknown:
        raise ValidationError(f"{where}: unknown keys {sorted(unknown)}")
    verification = data.get("verification") or {}
    refs = ", ".join(str(r) for r in data.get("review_refs") or [])
    study_fields = dict(data["study"])
    shares = study_fields.pop("shares_patients_with", None) or []
    study_fields.update(
        label=data["study_id"],
        shares_patients_with=", ".join(shares) if isinstance(shares, list) else str(shares),
        verification_source=str(verification.get("source") or ""),
        verification_confidence=verification.get("confidence"),
        notes=str(verification.get("notes") or ""),
    )
    paper = curation.validate(PaperIn, data["paper"])
    try:
        study = curation.validate(StudyIn, study_fields)
    except ValidationError as exc:
        raise ValidationError(f"{where}: study: {exc}") from None
    findings = []
    for i, item in enumerate(data.get("findings") or [], start=1):
        row = {k: v for k, v in dict(item).items()}
        row["threshold_value"] = row.pop("value", row.get("threshold_value"))
        row["threshold_upper"] = row.pop("upper_value", row.get("threshold_upper"))
        row.setdefault("citation_refs", refs)
        if isinstance(row.get("citation_refs"), list):
            row["citation_refs"] = ", ".join(str(r) for r in row["citation_refs"])
        row.pop("review_refs", None)
        row["status"] = row.get("status") or "verified"
        row["curator"] = row.get("curator") or SEED_ACTOR
        try:
            findings.append(curation.validate(FindingIn, row))
        except ValidationError as exc:
            raise ValidationError(f"{where}: finding {i}: {exc}") from None
    return _SeedStudy(where, paper, study, tuple(findings))


def read_seed_review(directory: Path) -> _SeedReview:
    """Parse and validate one review's seed directory without touching a database.

    Raises:
        ValidationError: naming the file and the problem.
    """
    meta = _read_yaml(directory / "review.yaml")
    if not isinstance(meta, dict) or "slug" not in meta or "title" not in meta:
        raise ValidationError(f"{directory.name}/review.yaml: needs slug and title")
    scheme_name = str(meta.get("default_scheme", "ke-zhou-2025"))
    scheme_path = data_file(f"{scheme_name}.json")
    if not scheme_path.is_file():
        raise ValidationError(f"{directory.name}/review.yaml: no bundled scheme {scheme_name!r}")
    scheme = Scheme.from_file(scheme_path)
    raw_markers = _read_yaml(directory / "biomarkers.yaml") or []
    biomarkers = []
    for item in raw_markers:
        try:
            biomarkers.append(curation.validate(BiomarkerIn, item))
        except ValidationError as exc:
            raise ValidationError(f"{directory.name}/biomarkers.yaml: {item.get('name')!r}: {exc}") from None
    known = {b.name.lower() for b in biomarkers} | {s.lower() for b in biomarkers for s in b.synonyms}
    studies = []
    labels: set[str] = set()
    for path in sorted((directory / "studies").glob("*.yaml")):
        seed = _study_from(path, _read_yaml(path))
        if seed.study.label in labels:
            raise ValidationError(f"{seed.source}: study_id {seed.study.label!r} used twice")
        labels.add(seed.study.label)
        if seed.study.design not in scheme.designs:
            raise ValidationError(f"{seed.source}: design {seed.study.design!r} is not in scheme {scheme.label}")
        for f in seed.findings:
            if f.biomarker.lower() not in known:
                raise ValidationError(f"{seed.source}: biomarker {f.biomarker!r} is not in biomarkers.yaml")
        studies.append(seed)
    return _SeedReview(str(meta["slug"]), meta, scheme, tuple(biomarkers), tuple(studies))


def load_review(seed: _SeedReview, *, session: Session, report: SeedReport) -> None:
    """Write one validated seed review; what is already stored is left as it is."""
    scheme = curation.ensure_scheme(seed.scheme, session=session)
    review = queries.find_review(seed.slug, session=session)
    if review is None:
        prisma = seed.meta.get("prisma") or {}
        review = curation.create_review(
            session=session, slug=seed.slug, title=str(seed.meta["title"]), scheme=scheme,
            question=str(seed.meta.get("question", "")), disease_scope=str(seed.meta.get("disease_scope", "")),
            citation=f"{seed.meta.get('authors', '')}. {seed.meta.get('journal', '')} {seed.meta.get('year', '')}",
            doi=seed.meta.get("doi"), records_identified=prisma.get("records_identified"), actor=SEED_ACTOR,
        )
        report.reviews_added += 1
    report.reviews.append(seed.slug)
    _record_reported_identification(review, seed.meta.get("prisma") or {}, session=session)
    for marker in seed.biomarkers:
        if queries.find_biomarker(marker.name, session=session) is None:
            curation.add_biomarker(marker, session=session, actor=SEED_ACTOR)
            report.biomarkers_added += 1
    added = False
    assert review.id is not None
    for item in seed.studies:
        if queries.find_study(review.id, item.study.label, session=session) is not None:
            report.studies_present += 1
            continue
        paper = queries.find_paper(doi=item.paper.doi, pmid=item.paper.pmid, session=session)
        if paper is None:
            paper = curation.add_paper(item.paper, session=session, actor=SEED_ACTOR)
            report.papers_added += 1
        try:
            study = curation.add_study(review, paper, item.study, session=session, actor=SEED_ACTOR,
                                       reason="included study of the seed review")
        except DuplicateError as exc:
            raise ValidationError(f"{item.source}: {exc}") from None
        for finding in item.findings:
            curation.add_finding(study, finding, session=session, actor=SEED_ACTOR, refresh=False)
            report.findings_added += 1
        report.studies_added += 1
        added = True
    if added or report.reviews_added:
        curation.refresh_review(review, session=session)


def _record_reported_identification(review: Review, prisma: dict[str, Any], *, session: Session) -> None:
    """Store the records a published review reports identifying (and from where), once."""
    n, sources = prisma.get("records_identified"), prisma.get("sources")
    if n is None or not sources:
        return
    if any(b.format == "reported" for b in papers.list_import_batches(review, session=session)):
        return
    assert review.id is not None
    source = ", ".join(str(s) for s in sources) if isinstance(sources, list) else str(sources)
    session.add(ImportBatch(review_id=review.id, source=source[:120], format="reported",
                            records_identified=int(n), actor=SEED_ACTOR))
    session.flush()


def load_seeds(*, session: Session, directory: Path | None = None) -> SeedReport:
    """Load every review under the seed directory (default: the bundled ``seeds/``).

    Everything is validated first; then all is written in the caller's transaction.

    Raises:
        ValidationError: a seed file is invalid (nothing written).
    """
    root = directory or bundled_dir("seeds")
    dirs = sorted(p for p in root.iterdir() if (p / "review.yaml").is_file())
    if not dirs:
        raise EvidenceDBError(f"no seed review under {root}")
    parsed = [read_seed_review(d) for d in dirs]
    report = SeedReport()
    for seed in parsed:
        load_review(seed, session=session, report=report)
    return report
