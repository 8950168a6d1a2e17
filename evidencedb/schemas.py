"""Validated input for curation writes.

Why this module exists: SQLModel table models do not validate on construction, and SQLite's CHECKs
accept text in numeric columns. Every write (seed loader, sheet import, CLI, TUI) first builds one of
these models, so types, allowed values and identifiers are checked once, the same way, before any row
is written. Error messages name the field.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any, ClassVar

from annotated_types import MaxLen
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from evidencedb import units
from evidencedb.models import (
    ANALYSES,
    ASSOCIATIONS,
    CATEGORIES,
    CENTRES,
    COMPARATORS,
    DECIMAL_TEXT_LENGTH,
    DIRECTIONS,
    EFFECT_MEASURES,
    OUTCOME_CATEGORIES,
    POPULATIONS,
    STATUSES,
    decimal_text,
)

DOI_RE = re.compile(r"^10\.\d{4,9}/\S+$")
PMID_RE = re.compile(r"^[1-9]\d{0,8}$")
_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d*)?$")
_DOI_PREFIXES = ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/", "doi:")
_PROSPECTIVE = {"yes": True, "y": True, "true": True, "1": True, "prospective": True,
                "no": False, "n": False, "false": False, "0": False, "retrospective": False}
_COMPARATOR_ALIASES = {"≥": ">=", "≤": "<=", "=>": ">=", "=<": "<=", "==": "=", "–": "range", "-": "range"}


def normalise_doi(value: str | None) -> str | None:
    """Lower-case a DOI and strip resolver prefixes; ``None``/empty stays ``None``.

    Raises:
        ValueError: not a DOI.
    """
    if value is None or not str(value).strip():
        return None
    doi = str(value).strip()
    low = doi.lower()
    for prefix in _DOI_PREFIXES:
        if low.startswith(prefix):
            doi = doi[len(prefix):]
            break
    doi = doi.strip().lower()
    if not DOI_RE.match(doi):
        raise ValueError(f"{value!r} is not a DOI (expected 10.<registrant>/<suffix>)")
    return doi


def normalise_pmid(value: str | int | None) -> str | None:
    """A PMID as a string of digits; ``None``/empty stays ``None``."""
    if value is None or not str(value).strip():
        return None
    pmid = str(value).strip()
    if pmid.lower().startswith("pmid:"):
        pmid = pmid[5:].strip()
    if not PMID_RE.match(pmid):
        raise ValueError(f"{value!r} is not a PubMed id (1 to 9 digits)")
    return pmid


def to_decimal(value: Any) -> Decimal | None:
    """Exact decimal from text or int (a float is taken by its shortest repr).

    Commas are accepted only between groups of three digits (``1,000``); ``2,5`` is refused as ambiguous.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if type(value) is str:  # the common case, text as typed: one Decimal() call
        try:
            d = Decimal(value)
        except InvalidOperation:
            pass  # commas, "×10^" or not a number: the checks below
        else:
            if d.is_finite() and len(value) <= DECIMAL_TEXT_LENGTH and "E" not in value and "e" not in value:
                return d  # stored as typed, within the column
    if isinstance(value, float):
        value = repr(value)
    text = str(value).strip().replace("×10^", "E").replace("x10^", "E")
    if "," in text:
        if not _THOUSANDS.match(text):  # "2,5" could be 2.5 or 25: never guess
            raise ValueError(f"{value!r} is not a number (write decimals with a point; commas only between "
                             "thousands, as in 1,000)")
        text = text.replace(",", "")
    try:
        d = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None
    if not d.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    if d.adjusted() >= DECIMAL_TEXT_LENGTH or len(decimal_text(d)) > DECIMAL_TEXT_LENGTH:
        raise ValueError(f"{value!r} has too many digits (at most {DECIMAL_TEXT_LENGTH} characters as stored)")
    return d


def _choice(value: Any, allowed: tuple[str, ...], *, optional: bool) -> str | None:
    text = "" if value is None else str(value).strip()
    if not text:
        if optional:
            return None
        raise ValueError("is required")
    found = _options(allowed).get(text.lower())
    if found is None:
        raise ValueError(f"{text!r} is not one of: {', '.join(allowed)}")
    return found


@cache
def _options(allowed: tuple[str, ...]) -> dict[str, str]:
    return {option.lower(): option for option in allowed}


def _chooser(allowed: tuple[str, ...], *, optional: bool, aliases: dict[str, str] | None = None,
             blank: str | None = None) -> Callable[[Any], str | None]:
    """A field validator for one of ``allowed`` (any case, surrounding spaces ignored).

    ``aliases`` maps other spellings to an allowed value; ``blank`` is the value of an empty field.
    Values typed exactly as stored (or in lower case, or as an alias) are found in one dict lookup,
    which is what almost every row of a sheet holds; anything else takes the full check.
    """
    aliases = aliases or {}
    exact = {**{o.lower(): o for o in allowed}, **{o: o for o in allowed},
             **{a: _options(allowed)[o.lower()] for a, o in aliases.items()}}

    def check(value: Any) -> str | None:
        found = exact.get(value) if type(value) is str else None
        if found is not None:
            return found
        if value is None or (isinstance(value, str) and not value.strip()):
            if blank is not None:
                return blank
        else:
            text = str(value).strip()
            value = aliases.get(text, text)
        return _choice(value, allowed, optional=optional)

    return check


def _optional_str(value: Any) -> str | None:
    """Text with its whitespace trimmed; ``None`` for nothing or blanks."""
    return None if value is None else (str(value).strip() or None)


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    #: The table whose column lengths bound this input's strings (SQLite would not enforce them).
    _table: ClassVar[str | None] = None

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        """Bound each text field by its column's length, checked by pydantic itself (fast, per field)."""
        super().__pydantic_init_subclass__(**kwargs)
        if cls._table is None:
            return
        lengths = _column_lengths(cls._table)
        for name, info in cls.model_fields.items():
            if name in lengths and info.annotation in (str, str | None):
                info.metadata.append(MaxLen(lengths[name]))
        cls.model_rebuild(force=True)


@cache
def _column_lengths(table_name: str) -> dict[str, int]:
    """Maximum lengths of a table's bounded text columns (looked up once per table)."""
    from sqlmodel import SQLModel

    from evidencedb.models import DecimalText

    table = SQLModel.metadata.tables[table_name]
    lengths = {}
    for column in table.columns:
        length = getattr(column.type, "length", None)
        if isinstance(length, int) and not isinstance(column.type, DecimalText):
            lengths[column.name] = length
    return lengths


class PaperIn(_Input):
    """A citation to add."""

    _table: ClassVar[str | None] = "paper"

    title: str = Field(min_length=1)
    authors: str = ""
    journal: str = ""
    year: int | None = Field(default=None, ge=1900, le=2200)
    doi: str | None = None
    pmid: str | None = None
    retracted: bool = False

    _doi = field_validator("doi", mode="before")(lambda v: normalise_doi(v))
    _pmid = field_validator("pmid", mode="before")(lambda v: normalise_pmid(v))


class StudyIn(_Input):
    """An included study (its design is checked against the review's scheme by the write)."""

    _table: ClassVar[str | None] = "study"

    label: str = Field(min_length=1, max_length=80)
    design: str = Field(min_length=1, max_length=120)
    centres: str | None = None
    prospective: bool | None = None
    phase: str | None = None
    arms: int | None = Field(default=None, gt=0)
    n_patients: int | None = Field(default=None, gt=0)
    n_patients_note: str = ""
    population: str | None = None
    age_range: str | None = None
    disease: str = "B-ALL"
    product: str | None = None
    target: str | None = None
    costim: str | None = None
    toxicity_grading: str | None = None
    registry_id: str | None = None
    shares_patients_with: str = ""
    quality_tool: str | None = None
    quality_rating: str | None = None
    verification_source: str = ""
    verification_confidence: str | None = None
    notes: str = ""

    _centres = field_validator("centres", mode="before")(_chooser(CENTRES, optional=True))
    _population = field_validator("population", mode="before")(_chooser(POPULATIONS, optional=True))

    @field_validator("prospective", mode="before")
    @classmethod
    def _prospective(cls, v: Any) -> Any:
        if isinstance(v, str):
            text = v.strip().lower()
            if not text:
                return None
            if text in _PROSPECTIVE:
                return _PROSPECTIVE[text]
            raise ValueError(f"{v.strip()!r} is not one of: yes, no (or prospective, retrospective)")
        return v

    _optional_text = field_validator("phase", "age_range", "product", "target", "costim", "toxicity_grading",
                                     "registry_id", "quality_tool", "quality_rating", "verification_confidence",
                                     mode="before")(_optional_str)


class BiomarkerIn(_Input):
    """A biomarker concept with its synonyms."""

    name: str = Field(min_length=1, max_length=120)
    category: str
    synonyms: list[str] = Field(default_factory=list)
    description: str = ""

    _category = field_validator("category", mode="before")(_chooser(CATEGORIES, optional=False))


class FindingIn(_Input):
    """One study × biomarker × outcome result. ``biomarker`` is a name or synonym."""

    _table: ClassVar[str | None] = "finding"

    biomarker: str = Field(min_length=1)
    outcome: str = Field(min_length=1, max_length=60)
    outcome_category: str
    association: str
    measure: str | None = None
    timepoint: str | None = None
    specimen: str | None = None
    assay: str | None = None
    comparator: str | None = None
    threshold_value: Decimal | None = None
    threshold_upper: Decimal | None = None
    unit: str | None = None
    direction: str | None = None
    effect_measure: str | None = None
    effect_value: Decimal | None = None
    ci_low: Decimal | None = None
    ci_high: Decimal | None = None
    p_value: str | None = None
    group_results: str | None = None
    analysis: str | None = None
    quote: str = ""
    location: str = ""
    citation_refs: str = ""
    status: str = "draft"
    curator: str = ""
    #: Derived from threshold_value and unit by validation (whatever is passed in is replaced).
    norm_value: Decimal | None = None
    norm_unit: str | None = None

    _outcome_category = field_validator("outcome_category", mode="before")(
        _chooser(OUTCOME_CATEGORIES, optional=False))
    _association = field_validator("association", mode="before")(_chooser(ASSOCIATIONS, optional=False))
    _direction = field_validator("direction", mode="before")(_chooser(DIRECTIONS, optional=True))
    _effect_measure = field_validator("effect_measure", mode="before")(_chooser(EFFECT_MEASURES, optional=True))
    _analysis = field_validator("analysis", mode="before")(_chooser(ANALYSES, optional=True))
    _status = field_validator("status", mode="before")(_chooser(STATUSES, optional=False, blank="draft"))
    _comparator = field_validator("comparator", mode="before")(
        _chooser(COMPARATORS, optional=True, aliases=_COMPARATOR_ALIASES))
    _number = field_validator("threshold_value", "threshold_upper", "effect_value", "ci_low", "ci_high",
                              mode="before")(to_decimal)
    _optional_text = field_validator("measure", "timepoint", "specimen", "assay", "unit", "p_value", "group_results",
                                     mode="before")(_optional_str)

    @field_validator("unit", mode="after")
    @classmethod
    def _known_unit(cls, v: str | None) -> str | None:
        if v is not None:
            units.classify(v)  # a rejected unit raises ValueError naming it and what is accepted
        return v

    @model_validator(mode="after")
    def _threshold(self) -> FindingIn:
        if self.comparator == "range":
            if self.threshold_value is None or self.threshold_upper is None:
                raise ValueError("a range needs both threshold_value and threshold_upper")
            if self.threshold_upper < self.threshold_value:
                raise ValueError("threshold_upper is below threshold_value")
        elif self.threshold_upper is not None:
            raise ValueError("threshold_upper is only for comparator 'range'")
        if self.threshold_value is not None and self.comparator is None:
            raise ValueError("a threshold value needs a comparator (>=, >, <=, <, =, range)")
        if self.ci_low is not None and self.ci_high is not None and self.ci_low > self.ci_high:
            raise ValueError("ci_low is above ci_high")
        normalised = units.normalise(self.threshold_value, self.unit) if self.unit is not None else None
        if normalised is not None and len(decimal_text(normalised[0])) > DECIMAL_TEXT_LENGTH:
            raise ValueError(f"threshold_value {self.threshold_value} {self.unit} is {normalised[0]} "
                             f"{normalised[1]}: too many digits to store")
        # Set without pydantic's assignment machinery: derived values, already exact and typed.
        self.__dict__["norm_value"], self.__dict__["norm_unit"] = normalised or (None, None)
        return self


SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")


def _reason_list(value: Any) -> list[str]:
    """Exclusion reasons from a list or a ``;``-separated text: trimmed, blanks and repeats dropped."""
    items = value.split(";") if isinstance(value, str) else list(value or [])
    return list(dict.fromkeys(str(item).strip() for item in items if str(item).strip()))


class ReviewFields(_Input):
    """The protocol fields a review is created or edited with (every one optional but the title)."""

    _table: ClassVar[str | None] = "review"

    title: str = Field(min_length=1)
    question: str = ""
    disease_scope: str = ""
    population: str = ""
    intervention: str = ""
    comparator: str = ""
    outcomes: str = ""
    inclusion_criteria: str = ""
    exclusion_criteria: str = ""
    databases: str = ""
    search_date: date | None = None
    exclusion_reasons: list[str] = Field(default_factory=list)
    citation: str = ""
    doi: str | None = None

    _doi = field_validator("doi", mode="before")(lambda v: normalise_doi(v))
    _reasons = field_validator("exclusion_reasons", mode="before")(_reason_list)


class ReviewIn(ReviewFields):
    """A new review: its slug (lower-case letters, digits and hyphens) and protocol."""

    slug: str

    @field_validator("slug", mode="before")
    @classmethod
    def _slug(cls, value: Any) -> str:
        slug = str(value or "").strip()
        if not SLUG_RE.match(slug):
            raise ValueError(f"{slug!r} is not a review slug: use lower-case letters, digits and hyphens "
                             "(e.g. lbcl-2026), at most 80 characters")
        return slug
