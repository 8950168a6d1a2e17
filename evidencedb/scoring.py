"""Scoring schemes and the weighted evidence score, as pure functions.

Why this module exists: a grade must be explainable and recomputable by hand. Here a scheme is plain
data (designs → coefficients, levels → cut-offs) with a content hash, and scoring takes plain values
and returns a frozen result listing every contribution. The database computes the same numbers with
one SQL aggregate (``grading.py``); tests hold the two to each other.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from evidencedb.errors import UnknownDesignError, ValidationError
from evidencedb.formatting import scheme_label

ZERO = Decimal("0")
PLACES = Decimal("0.001")


@dataclass(frozen=True)
class Level:
    """An evidence level: scores in ``[min_score, next level's min_score)`` earn it."""

    level: str
    min_score: Decimal
    meaning: str = ""


@dataclass(frozen=True)
class Scheme:
    """A versioned scoring scheme. Data, not code: a new version never rewrites an old one.

    Attributes:
        designs: study design → coefficient (exact decimals, at most three places).
        levels: sorted from the highest cut-off down; the last one starts at 0.
    """

    name: str
    version: str
    designs: Mapping[str, Decimal]
    levels: tuple[Level, ...]
    description: str = ""
    source: str = ""

    def __post_init__(self) -> None:
        if not self.name.strip() or not self.version.strip():
            raise ValidationError("a scheme needs a name and a version")
        if not self.designs:
            raise ValidationError(f"scheme {self.name} lists no study designs")
        for design, coefficient in self.designs.items():
            _check_decimal(f"scheme {self.name}: coefficient of {design!r}", coefficient)
        if not self.levels:
            raise ValidationError(f"scheme {self.name} has no levels")
        cuts = [lv.min_score for lv in self.levels]
        for lv in self.levels:
            _check_decimal(f"scheme {self.name}: cut-off of level {lv.level}", lv.min_score)
        if cuts != sorted(cuts, reverse=True) or len(set(cuts)) != len(cuts):
            raise ValidationError(f"scheme {self.name}: level cut-offs must be distinct and descending")
        if cuts[-1] != ZERO:
            raise ValidationError(f"scheme {self.name}: the lowest level must start at 0")
        if len({lv.level for lv in self.levels}) != len(self.levels):
            raise ValidationError(f"scheme {self.name}: level names must be distinct")

    @property
    def label(self) -> str:
        """``name@version``, as shown to users."""
        return scheme_label(self.name, self.version)

    def canonical(self) -> dict[str, Any]:
        """The canonical JSON object: what the content hash covers."""
        return {
            "name": self.name,
            "version": self.version,
            "designs": {d: _canonical_text(c) for d, c in sorted(self.designs.items())},
            "levels": [{"level": lv.level, "min_score": _canonical_text(lv.min_score)} for lv in self.levels],
        }

    @property
    def content_hash(self) -> str:
        """sha256 of the canonical JSON (sorted keys, no whitespace)."""
        text = json.dumps(self.canonical(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def level_for(self, score: Decimal) -> str:
        """The level of ``score``: intervals are half-open, ``[cut-off, next cut-off)``."""
        for lv in self.levels:
            if score >= lv.min_score:
                return lv.level
        raise ValidationError(f"negative score {score}")

    def derive(self, name: str, version: str, designs: Mapping[str, Decimal], *, description: str = "") -> Scheme:
        """A new scheme version: this one's designs and levels, with ``designs`` added or re-weighted.

        Raises:
            ValidationError: a coefficient is not a decimal of at most three places, or the name or
                version is empty.
        """
        notes = [self.description] if name == self.name and self.description else []
        notes.append(description or f"Derived from {self.label}: " + "; ".join(
            f"{design} = {_canonical_text(value)}" for design, value in designs.items()) + ".")
        return Scheme(name=name, version=version, designs={**self.designs, **designs}, levels=self.levels,
                      description=" ".join(notes), source=self.source)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Scheme:
        """Build a scheme from its JSON form (as in ``evidencedb/data/*.json``).

        Raises:
            ValidationError: a field is missing or not a decimal.
        """
        try:
            designs = {str(k): _dec(f"coefficient of {k!r}", v) for k, v in dict(data["designs"]).items()}
            levels = tuple(
                Level(str(item["level"]), _dec(f"cut-off of {item['level']}", item["min_score"]),
                      str(item.get("meaning", "")))
                for item in data["levels"]
            )
            levels = tuple(sorted(levels, key=lambda lv: lv.min_score, reverse=True))
            return cls(
                name=str(data["name"]),
                version=str(data["version"]),
                designs=designs,
                levels=levels,
                description=str(data.get("description", "")),
                source=str(data.get("source", "")),
            )
        except (KeyError, TypeError) as exc:
            raise ValidationError(f"scheme definition is missing {exc}") from exc

    @classmethod
    def from_file(cls, path: Path) -> Scheme:
        """Read a scheme from a JSON file."""
        try:
            return cls.from_mapping(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValidationError(f"cannot read scheme file {path}: {exc}") from exc


def _dec(what: str, value: Any) -> Decimal:
    if isinstance(value, float):
        raise ValidationError(f"{what}: write decimals as strings, not binary floats ({value!r})")
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise ValidationError(f"{what}: {value!r} is not a decimal number") from exc


def _check_decimal(what: str, value: Decimal) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValidationError(f"{what}: {value!r} is not a finite decimal")
    if value < 0:
        raise ValidationError(f"{what}: {value} is negative")
    if value != value.quantize(PLACES):
        raise ValidationError(f"{what}: {value} has more than three decimal places")


def _canonical_text(value: Decimal) -> str:
    """A decimal as the content hash covers it (not for display: stored hashes fix this form for good)."""
    return str(value.quantize(Decimal("0.1")) if value == value.quantize(Decimal("0.1")) else value)


# --------------------------------------------------------------------------------------------------
# The score of one biomarker


@dataclass(frozen=True)
class FindingFact:
    """What scoring needs from one finding: its study, the study's design, category, association."""

    study: str
    design: str
    category: str  # "efficacy" | "toxicity"
    supports: bool


@dataclass(frozen=True)
class Contribution:
    """One distinct supporting study and what it adds."""

    study: str
    design: str
    coefficient: Decimal
    categories: tuple[str, ...]


@dataclass(frozen=True)
class GradeResult:
    """The grade of one biomarker under one scheme, with its reasons."""

    score: Decimal
    level: str
    grade_class: str  # "dual" | "efficacy" | "toxicity" | "none"
    contributions: tuple[Contribution, ...]
    conflicting: tuple[str, ...] = field(default=())

    @property
    def n_studies(self) -> int:
        """Number of distinct supporting studies."""
        return len(self.contributions)


def class_of(categories: Iterable[str]) -> str:
    """Class from the categories of the supporting findings."""
    cats = set(categories)
    if {"efficacy", "toxicity"} <= cats:
        return "dual"
    if "efficacy" in cats:
        return "efficacy"
    if "toxicity" in cats:
        return "toxicity"
    return "none"


def score_biomarker(facts: Iterable[FindingFact], scheme: Scheme) -> GradeResult:
    """Score one biomarker: Σ coefficient(design(s)) over distinct studies with a supporting finding.

    Findings with no association add nothing; a study with only such findings is listed as
    conflicting. Every study's design must be listed by the scheme.

    Raises:
        UnknownDesignError: a study's design is not in the scheme (never weighted 0 silently).
    """
    designs: dict[str, str] = {}
    supporting: dict[str, set[str]] = {}
    for fact in facts:
        designs[fact.study] = fact.design
        if fact.supports:
            supporting.setdefault(fact.study, set()).add(fact.category)
    unknown: dict[str, list[str]] = {}
    for study, design in designs.items():
        if design not in scheme.designs:
            unknown.setdefault(design, []).append(study)
    if unknown:
        raise UnknownDesignError(scheme.label, unknown)
    contributions = tuple(
        Contribution(study, designs[study], scheme.designs[designs[study]], tuple(sorted(cats)))
        for study, cats in sorted(supporting.items(), key=lambda kv: (-scheme.designs[designs[kv[0]]], kv[0]))
    )
    score = sum((c.coefficient for c in contributions), ZERO)
    conflicting = tuple(sorted(s for s in designs if s not in supporting))
    all_categories = [cat for c in contributions for cat in c.categories]
    return GradeResult(score, scheme.level_for(score), class_of(all_categories), contributions, conflicting)


def default_scheme() -> Scheme:
    """The bundled ``ke-zhou-2025`` scheme (Ke & Zhou 2025, Figure 3 legend): the default of a new database."""
    from evidencedb.resources import data_file

    return Scheme.from_file(data_file("ke-zhou-2025.json"))
