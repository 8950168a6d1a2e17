"""Tables of the evidence database.

Why this module exists: it is the one place where the domain model of DESIGN.md becomes SQL. Every
constraint the data must obey lives here as a named CHECK, unique key or foreign key, so that bad rows
are refused by the database itself whichever tool writes them. Alembic's migrations are generated from
these definitions and a test keeps the two identical.

Exactness: scores are sums of study-design coefficients. SQLite has no exact decimal type (NUMERIC
columns there are binary floats), so coefficients and cut-offs are stored as integer thousandths
(``Milli``) and sums stay exact on every backend. Thresholds and effects are stored as decimal text
(``DecimalText``) exactly as curated.
"""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from evidencedb.formatting import scheme_label

# The naming convention must be set before any table is defined: migrations and batch-mode table
# copies rely on every constraint having a stable name.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

MILLI = Decimal("0.001")

CATEGORIES: tuple[str, ...] = (
    "tumour burden",
    "MRD",
    "T-cell phenotype",
    "inflammatory profile",
    "cytokines",
    "CAR-T product attributes",
    "expansion kinetics",
    "genetic",
    "biochemical",
    "tumour microenvironment",
    "ctDNA",
    "extracellular vesicles",
    "clinical",
)
COMPARATORS: tuple[str, ...] = (">=", ">", "<=", "<", "=", "range")
OUTCOME_CATEGORIES: tuple[str, ...] = ("efficacy", "toxicity")
ASSOCIATIONS: tuple[str, ...] = ("supports", "no association")
DIRECTIONS: tuple[str, ...] = ("better", "worse", "more", "less")
EFFECT_MEASURES: tuple[str, ...] = ("HR", "OR", "RR", "rate difference", "AUC")
ANALYSES: tuple[str, ...] = ("univariate", "multivariate")
STATUSES: tuple[str, ...] = ("draft", "verified")
CENTRES: tuple[str, ...] = ("single", "multi")
POPULATIONS: tuple[str, ...] = ("paediatric", "adult", "both")
CLASSES: tuple[str, ...] = ("dual", "efficacy", "toxicity", "none")
SCREENING_STAGES: tuple[str, ...] = ("title_abstract", "full_text")
SCREENING_DECISIONS: tuple[str, ...] = ("include", "exclude")
#: How an import batch's records came in: a citation file format, or a count a review reports without records.
IMPORT_FORMATS: tuple[str, ...] = ("ris", "bibtex", "medline", "pubmed-xml", "reported")


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
    return f"{column} IN ({quoted})"


def _in_or_null(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IS NULL OR {_in(column, values)}"


def utcnow() -> datetime:
    """Timestamps are aware and in UTC on every backend."""
    return datetime.now(UTC)


class Milli(TypeDecorator[Decimal]):
    """An exact decimal with three places, stored as an integer count of thousandths.

    Sums over this column (``SUM(coefficient)``) are integer sums in SQL and come back as exact
    ``Decimal`` values, on SQLite as on PostgreSQL.
    """

    impl = sa.BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        d = Decimal(str(value))
        scaled = d / MILLI
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{d} has more than three decimal places")
        return int(scaled)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return (Decimal(int(value)) * MILLI).quantize(MILLI)


#: Characters a decimal may take as stored text (the column's length).
DECIMAL_TEXT_LENGTH = 40


def decimal_text(d: Decimal) -> str:
    """How a decimal is stored: as written (``0.50`` stays ``0.50``); whole numbers plainly (``1E+4`` → ``10000``).

    Exact for any number of digits (no rounding to the decimal context's precision).

    Raises:
        ValueError: NaN or infinite.
    """
    text = str(d)
    if "." in text and text[-1] != "0" and "E" not in text:  # a fraction as written: nothing to decide
        return text
    if not d.is_finite():
        raise ValueError(f"{d!r} is not a finite number")
    return str(int(d)) if d == d.to_integral_value() else text


class DecimalText(TypeDecorator[Decimal]):
    """A decimal kept exactly as curated (``1E-6``, ``10000``, ``0.973``), stored as text."""

    impl = sa.String(DECIMAL_TEXT_LENGTH)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return decimal_text(value if isinstance(value, Decimal) else Decimal(str(value)))

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


# --------------------------------------------------------------------------------------------------
# Scoring schemes


class _Table(SQLModel):
    """Base of the table models.

    Rows are built by the ORM and checked by the input models of :mod:`evidencedb.schemas`, so pydantic
    builds a table model's own validator only when one is first used (``defer_build``), not for every
    table at import: a shorter start for every command. Annotations are evaluated as written (no
    ``from __future__ import annotations`` here), sparing pydantic the string evaluation too.
    """

    model_config = {"defer_build": True}  # merged with SQLModel's own configuration


class ScoringScheme(_Table, table=True):
    """A versioned scoring scheme. Its content hash is the sha256 of its canonical JSON."""

    __tablename__ = "scoring_scheme"
    __table_args__ = (
        sa.UniqueConstraint("name", "version"),
        sa.CheckConstraint("length(content_hash) = 64", name="hash_length"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80)
    version: str = Field(max_length=40)
    description: str = Field(default="", sa_type=sa.Text)
    source: str = Field(default="", sa_type=sa.Text)
    content_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow)

    @property
    def label(self) -> str:
        """``name@version``, as shown to users."""
        return scheme_label(self.name, self.version)


class SchemeDesign(_Table, table=True):
    """One study design a scheme weights, with its coefficient."""

    __tablename__ = "scheme_design"
    __table_args__ = (sa.CheckConstraint("coefficient >= 0", name="coefficient_non_negative"),)

    scheme_id: int = Field(foreign_key="scoring_scheme.id", primary_key=True, ondelete="CASCADE")
    design: str = Field(max_length=120, primary_key=True)
    coefficient: Decimal = Field(sa_type=Milli)


class SchemeLevel(_Table, table=True):
    """One evidence level: a score at or above ``min_score`` (and below the next level) earns it."""

    __tablename__ = "scheme_level"
    __table_args__ = (
        sa.UniqueConstraint("scheme_id", "min_score"),
        sa.CheckConstraint("min_score >= 0", name="min_score_non_negative"),
    )

    scheme_id: int = Field(foreign_key="scoring_scheme.id", primary_key=True, ondelete="CASCADE")
    level: str = Field(max_length=8, primary_key=True)
    min_score: Decimal = Field(sa_type=Milli)
    meaning: str = Field(default="", max_length=80)


# --------------------------------------------------------------------------------------------------
# Reviews, papers, screening


class Review(_Table, table=True):
    """One systematic review; a database holds several."""

    __tablename__ = "review"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, unique=True)
    title: str = Field(sa_type=sa.Text)
    question: str = Field(default="", sa_type=sa.Text)
    disease_scope: str = Field(default="", max_length=120)
    citation: str = Field(default="", sa_type=sa.Text)
    doi: str | None = Field(default=None, max_length=200)
    default_scheme_id: int = Field(foreign_key="scoring_scheme.id", ondelete="RESTRICT")
    records_identified: int | None = Field(default=None)
    # The protocol: the question as PICO, the eligibility criteria, where and when the search ran, and
    # the reasons screening offers for excluding a record (a JSON list of texts, in the order shown).
    population: str = Field(default="", sa_type=sa.Text)
    intervention: str = Field(default="", sa_type=sa.Text)
    comparator: str = Field(default="", sa_type=sa.Text)
    outcomes: str = Field(default="", sa_type=sa.Text)
    inclusion_criteria: str = Field(default="", sa_type=sa.Text)
    exclusion_criteria: str = Field(default="", sa_type=sa.Text)
    databases: str = Field(default="", sa_type=sa.Text)
    search_date: date | None = Field(default=None)
    exclusion_reasons: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))


class Paper(_Table, table=True):
    """A citation. DOI (lower-cased) and PMID are unique across the database."""

    __tablename__ = "paper"
    __table_args__ = (
        sa.CheckConstraint("doi IS NULL OR doi = lower(doi)", name="doi_lower_case"),
        sa.CheckConstraint("year IS NULL OR (year >= 1900 AND year <= 2200)", name="year_range"),
    )

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(sa_type=sa.Text)
    authors: str = Field(default="", sa_type=sa.Text)
    journal: str = Field(default="", max_length=300)
    year: int | None = Field(default=None)
    doi: str | None = Field(default=None, max_length=200, unique=True)
    pmid: str | None = Field(default=None, max_length=20, unique=True)
    retracted: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow)


class Screening(_Table, table=True):
    """A review × paper screening decision at one stage (PRISMA 2020 counts come from here)."""

    __tablename__ = "screening"
    __table_args__ = (
        sa.UniqueConstraint("review_id", "paper_id", "stage"),
        sa.CheckConstraint(_in("stage", SCREENING_STAGES), name="stage"),
        sa.CheckConstraint(_in("decision", SCREENING_DECISIONS), name="decision"),
    )

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="review.id", ondelete="CASCADE", index=True)
    paper_id: int = Field(foreign_key="paper.id", ondelete="CASCADE", index=True)
    stage: str = Field(max_length=20)
    decision: str = Field(max_length=10)
    reason: str = Field(default="", sa_type=sa.Text)
    decided_at: datetime = Field(default_factory=utcnow)


class ImportBatch(_Table, table=True):
    """Records identified for a review from one source: an imported citation file, or a reported count.

    PRISMA 2020's identification box comes from here (records per source, duplicates removed). A file
    is recognised by its content hash, so importing the same file into the same review twice adds
    nothing. A ``reported`` batch holds only what a published review states (no file, no records).
    """

    __tablename__ = "import_batch"
    __table_args__ = (
        sa.UniqueConstraint("review_id", "content_hash"),
        sa.CheckConstraint(_in("format", IMPORT_FORMATS), name="format"),
        sa.CheckConstraint("length(source) > 0", name="source_not_empty"),
        sa.CheckConstraint("records_identified >= 0", name="records_identified_non_negative"),
        sa.CheckConstraint(
            "duplicates_removed IS NULL OR (duplicates_removed >= 0 AND duplicates_removed <= records_identified)",
            name="duplicates_within_identified",
        ),
        sa.CheckConstraint("(format = 'reported') = (content_hash IS NULL)", name="file_has_content_hash"),
    )

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="review.id", ondelete="CASCADE", index=True)
    source: str = Field(max_length=120)
    file_name: str = Field(default="", max_length=300)
    format: str = Field(max_length=12)
    content_hash: str | None = Field(default=None, max_length=64)
    records_identified: int = Field(default=0)
    duplicates_removed: int | None = Field(default=None)
    actor: str = Field(default="", max_length=80)
    imported_at: datetime = Field(default_factory=utcnow)


class ReviewPaper(_Table, table=True):
    """A paper identified for a review by an import: the review's records once duplicates are removed."""

    __tablename__ = "review_paper"

    review_id: int = Field(foreign_key="review.id", primary_key=True, ondelete="CASCADE")
    paper_id: int = Field(foreign_key="paper.id", primary_key=True, ondelete="CASCADE", index=True)
    batch_id: int | None = Field(default=None, foreign_key="import_batch.id", ondelete="SET NULL", index=True)
    added_at: datetime = Field(default_factory=utcnow)


# --------------------------------------------------------------------------------------------------
# Studies, biomarkers, findings


class Study(_Table, table=True):
    """An included study of one review, with what the grading needs (its design) and its context."""

    __tablename__ = "study"
    __table_args__ = (
        sa.UniqueConstraint("review_id", "label"),
        sa.CheckConstraint("n_patients IS NULL OR n_patients > 0", name="n_patients_positive"),
        sa.CheckConstraint("arms IS NULL OR arms > 0", name="arms_positive"),
        sa.CheckConstraint(_in_or_null("centres", CENTRES), name="centres"),
        sa.CheckConstraint(_in_or_null("population", POPULATIONS), name="population"),
        sa.CheckConstraint("length(design) > 0", name="design_not_empty"),
    )

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="review.id", ondelete="CASCADE", index=True)
    paper_id: int = Field(foreign_key="paper.id", ondelete="RESTRICT", index=True)
    label: str = Field(max_length=80)
    design: str = Field(max_length=120)
    centres: str | None = Field(default=None, max_length=10)
    prospective: bool | None = Field(default=None)
    phase: str | None = Field(default=None, max_length=10)
    arms: int | None = Field(default=None)
    n_patients: int | None = Field(default=None)
    n_patients_note: str = Field(default="", sa_type=sa.Text)
    population: str | None = Field(default=None, max_length=12)
    age_range: str | None = Field(default=None, max_length=80)
    disease: str = Field(default="B-ALL", max_length=120)
    product: str | None = Field(default=None, max_length=200)
    target: str | None = Field(default=None, max_length=120)
    costim: str | None = Field(default=None, max_length=40)
    toxicity_grading: str | None = Field(default=None, max_length=40)
    registry_id: str | None = Field(default=None, max_length=80, index=True)
    shares_patients_with: str = Field(default="", max_length=300)
    quality_tool: str | None = Field(default=None, max_length=20)
    quality_rating: str | None = Field(default=None, max_length=40)
    verification_source: str = Field(default="", sa_type=sa.Text)
    verification_confidence: str | None = Field(default=None, max_length=20)
    notes: str = Field(default="", sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Biomarker(_Table, table=True):
    """A biomarker concept; names and synonyms resolve to it case-insensitively."""

    __tablename__ = "biomarker"
    __table_args__ = (sa.CheckConstraint(_in("category", CATEGORIES), name="category"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, unique=True)
    category: str = Field(max_length=40)
    description: str = Field(default="", sa_type=sa.Text)


class BiomarkerSynonym(_Table, table=True):
    """Another name for a biomarker. ``key`` is the lower-cased synonym and is unique."""

    __tablename__ = "biomarker_synonym"

    id: int | None = Field(default=None, primary_key=True)
    biomarker_id: int = Field(foreign_key="biomarker.id", ondelete="CASCADE", index=True)
    synonym: str = Field(max_length=160)
    key: str = Field(max_length=160, unique=True)


class Finding(_Table, table=True):
    """One study × biomarker × outcome result, with its threshold, effect and provenance."""

    __tablename__ = "finding"
    __table_args__ = (
        sa.CheckConstraint(_in_or_null("comparator", COMPARATORS), name="comparator"),
        sa.CheckConstraint(
            "(comparator = 'range') = (threshold_upper IS NOT NULL)", name="range_has_upper_value"
        ),
        sa.CheckConstraint("comparator IS NOT NULL OR threshold_value IS NULL", name="value_needs_comparator"),
        sa.CheckConstraint(_in("outcome_category", OUTCOME_CATEGORIES), name="outcome_category"),
        sa.CheckConstraint(_in("association", ASSOCIATIONS), name="association"),
        sa.CheckConstraint(_in_or_null("direction", DIRECTIONS), name="direction"),
        sa.CheckConstraint(_in_or_null("effect_measure", EFFECT_MEASURES), name="effect_measure"),
        sa.CheckConstraint(_in_or_null("analysis", ANALYSES), name="analysis"),
        sa.CheckConstraint(_in("status", STATUSES), name="status"),
        sa.CheckConstraint("length(outcome) > 0", name="outcome_not_empty"),
        sa.Index("ix_finding_biomarker_study", "biomarker_id", "study_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    study_id: int = Field(foreign_key="study.id", ondelete="CASCADE", index=True)
    biomarker_id: int = Field(foreign_key="biomarker.id", ondelete="RESTRICT")
    measure: str | None = Field(default=None, max_length=200)
    timepoint: str | None = Field(default=None, max_length=60)
    specimen: str | None = Field(default=None, max_length=60)
    assay: str | None = Field(default=None, max_length=80)
    comparator: str | None = Field(default=None, max_length=6)
    threshold_value: Decimal | None = Field(default=None, sa_type=DecimalText)
    threshold_upper: Decimal | None = Field(default=None, sa_type=DecimalText)
    unit: str | None = Field(default=None, max_length=40)
    norm_value: Decimal | None = Field(default=None, sa_type=DecimalText)
    norm_unit: str | None = Field(default=None, max_length=40)
    outcome: str = Field(max_length=60)
    outcome_category: str = Field(max_length=10)
    direction: str | None = Field(default=None, max_length=10)
    effect_measure: str | None = Field(default=None, max_length=20)
    effect_value: Decimal | None = Field(default=None, sa_type=DecimalText)
    ci_low: Decimal | None = Field(default=None, sa_type=DecimalText)
    ci_high: Decimal | None = Field(default=None, sa_type=DecimalText)
    p_value: str | None = Field(default=None, max_length=30)
    group_results: str | None = Field(default=None, sa_type=sa.Text)
    analysis: str | None = Field(default=None, max_length=14)
    association: str = Field(max_length=16)
    quote: str = Field(default="", sa_type=sa.Text)
    location: str = Field(default="", max_length=200)
    citation_refs: str = Field(default="", max_length=100)
    status: str = Field(default="draft", max_length=10)
    curator: str = Field(default="", max_length=80)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


# --------------------------------------------------------------------------------------------------
# Materialised evidence: kept in step with findings by every curation write (see grading.py)


class Support(_Table, table=True):
    """Per study × biomarker: how many findings support it (by category) and how many show nothing.

    A study counts once per biomarker however many findings it has; this table is where "once" lives.
    """

    __tablename__ = "support"
    __table_args__ = (
        sa.CheckConstraint(
            "n_efficacy >= 0 AND n_toxicity >= 0 AND n_no_association >= 0", name="counts_non_negative"
        ),
        # A write refreshes one biomarker's tally: find its support rows without scanning the review.
        sa.Index("ix_support_review_biomarker", "review_id", "biomarker_id"),
    )

    study_id: int = Field(foreign_key="study.id", primary_key=True, ondelete="CASCADE")
    biomarker_id: int = Field(foreign_key="biomarker.id", primary_key=True, ondelete="CASCADE")
    review_id: int = Field(foreign_key="review.id", ondelete="CASCADE")
    n_efficacy: int = Field(default=0)
    n_toxicity: int = Field(default=0)
    n_no_association: int = Field(default=0)


class Tally(_Table, table=True):
    """Per review × biomarker × design: how many distinct studies support the biomarker.

    A whole-review regrade is one aggregate over this small table joined to the scheme's coefficients.
    """

    __tablename__ = "tally"
    __table_args__ = (
        sa.CheckConstraint(
            "n_supporting >= 0 AND n_efficacy >= 0 AND n_toxicity >= 0 AND n_conflicting >= 0",
            name="counts_non_negative",
        ),
    )

    review_id: int = Field(foreign_key="review.id", primary_key=True, ondelete="CASCADE")
    biomarker_id: int = Field(foreign_key="biomarker.id", primary_key=True, ondelete="CASCADE")
    design: str = Field(max_length=120, primary_key=True)
    n_supporting: int = Field(default=0)
    n_efficacy: int = Field(default=0)
    n_toxicity: int = Field(default=0)
    n_conflicting: int = Field(default=0)


class Grade(_Table, table=True):
    """The materialised grade of a biomarker in a review under one scheme."""

    __tablename__ = "grade"
    __table_args__ = (
        sa.CheckConstraint(_in("grade_class", CLASSES), name="grade_class"),
        sa.CheckConstraint("score >= 0", name="score_non_negative"),
        sa.Index("ix_grade_review_scheme_score", "review_id", "scheme_id", "score"),
    )

    review_id: int = Field(foreign_key="review.id", primary_key=True, ondelete="CASCADE")
    biomarker_id: int = Field(foreign_key="biomarker.id", primary_key=True, ondelete="CASCADE")
    scheme_id: int = Field(foreign_key="scoring_scheme.id", primary_key=True, ondelete="CASCADE")
    score: Decimal = Field(sa_type=Milli)
    level: str = Field(max_length=8)
    n_studies: int = Field(default=0)
    n_conflicting: int = Field(default=0)
    grade_class: str = Field(max_length=10)
    scheme_hash: str = Field(max_length=64)
    computed_at: datetime = Field(default_factory=utcnow)


class AuditLog(_Table, table=True):
    """Who changed what, when, old → new (JSON). Nothing is deleted without a row here."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)
    actor: str = Field(default="", max_length=80)
    action: str = Field(max_length=20)
    table_name: str = Field(max_length=40)
    row_key: str = Field(max_length=80)
    old: str | None = Field(default=None, sa_type=sa.Text)
    new: str | None = Field(default=None, sa_type=sa.Text)
