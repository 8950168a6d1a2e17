"""Threshold units: which are accepted, and how convertible ones are normalised.

Why this module exists: curators record a threshold's unit as the paper writes it ("ng/ml", "×10^9/L",
"% of CD4+ T cells"). To compare thresholds across studies the database also stores a normalised value
in one canonical unit per dimension (ng/mL for mass concentrations, cells/µL for cell counts …). Every
unit falls in exactly one of three classes:

* **convertible** — pint (with ``cell`` and ``IU`` defined here) parses it and its dimension has a
  canonical unit in :data:`CANONICAL`: the value is converted with exact ``Decimal`` arithmetic;
* **descriptive** — legitimately free text that names what is counted or the reference population
  (see :data:`DESCRIPTIVE_RULES`): accepted as written, never converted;
* **rejected** — anything else (typos such as "ng/mLL", pint units of a dimension without a canonical
  unit): a validation error naming the unit and what would be accepted.

Conversions that need a molar mass (mol ↔ g) or a substance-specific activity (IU ↔ g, IU ↔ U) are
never made: those are different dimensions. pint is imported on first use only, so commands that never
see a unit (``evidencedb markers``) do not load it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, localcontext
from functools import cache
from typing import Any, Literal

#: Canonical unit per dimension: (what it measures, pint expression, unit as stored).
CANONICAL: tuple[tuple[str, str, str], ...] = (
    ("mass concentration", "ng/mL", "ng/mL"),
    ("substance concentration", "µmol/L", "µmol/L"),
    ("enzyme activity concentration", "U/L", "U/L"),
    ("international units per volume", "IU/mL", "IU/mL"),
    ("cell concentration", "cell/µL", "cells/µL"),
    ("cells per body mass", "cell/kg", "cells/kg"),
    ("cell count", "cell", "cells"),
    ("percentage", "percent", "%"),
    ("exposure (concentration × time)", "ng*h/mL", "ng·h/mL"),
    ("time", "day", "days"),
    ("volume", "mL", "mL"),
    ("length", "cm", "cm"),
    ("area", "cm**2", "cm²"),
    ("body mass", "kg", "kg"),
    ("body mass index", "kg/m**2", "kg/m²"),
)

#: Units accepted as written (case-insensitive): (rule, pattern). They name a reference population,
#: a counted thing or an ordinal scale, which no conversion could preserve.
DESCRIPTIVE_RULES: tuple[tuple[str, str], ...] = (
    ("a percentage or fraction of a named population, e.g. '% of CD4+ T cells', 'fraction (10^-6)'",
     r"(?:%|percent|fraction|proportion)\s+\S.*"),
    ("a count of named things, e.g. 'copies/µg DNA', 'aberrations', 'mutations'",
     r"(?:copies|copy number|aberrations?|mutations?|variants?|clones?|events?|reads?)\b.*"),
    ("an ordinal scale or unitless index: grade, score, stage, ratio, index, points, fold (change)",
     r"(?:grade|score|stage|ratio|index|points|fold(?: change)?)"),
    ("a multiple of the upper limit of normal, e.g. '× ULN'", r"(?:[x×]\s*)?ULN"),
    ("a logarithm, e.g. 'log10 copies/mL'", r"log(?:10|2)?\b.*"),
)
_DESCRIPTIVE = tuple(re.compile(pattern, re.IGNORECASE) for _rule, pattern in DESCRIPTIVE_RULES)
#: pint units that are dimensionless yet mean a percentage (others, e.g. angles, are rejected).
_PERCENT_LIKE = frozenset({"percent", "permille", "ppm"})
_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_SUPERSCRIPT_RUN = re.compile(r"[⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺]+")
_LEADING_TIMES = re.compile(r"^[x×X*]\s*(?=10)")
EXAMPLES = "ng/mL, pg/mL, µg/L, mg/dL, %, ×10⁹/L, cells/µL, U/L, IU/mL"


@dataclass(frozen=True)
class UnitInfo:
    """What a unit string is, and for convertible units the exact factor to the canonical unit."""

    unit: str
    kind: Literal["convertible", "descriptive"]
    canonical: str | None = None
    factor: Decimal | None = None
    dimension: str | None = None


@cache
def _registry() -> Any:
    import pint

    ureg: Any = pint.UnitRegistry(non_int_type=Decimal)
    ureg.define("cell = [cell] = _ = cells")
    ureg.define("international_unit = [international_unit] = IU")
    return ureg


def _pint_text(unit: str) -> str:
    text = unit.strip().replace("μ", "µ").replace("·", "*").replace("⋅", "*")
    text = _SUPERSCRIPT_RUN.sub(lambda m: "**" + m.group(0).translate(_SUPERSCRIPT), text)
    text = _LEADING_TIMES.sub("", text).replace("×", "*").replace("^", "**")
    text = re.sub(r"\s+per\s+", "/", text, flags=re.IGNORECASE)
    if text.startswith("/"):  # "/µL": a count per volume
        text = "1" + text
    return text


def classify(unit: str) -> UnitInfo:
    """Classify a unit as written (each distinct unit is looked at once: accepted or rejected, the answer is kept).

    Args:
        unit: the unit column of a finding, e.g. ``"ng/ml"``, ``"×10^9/L"``, ``"% of CD4+ T cells"``.

    Returns:
        A :class:`UnitInfo`; convertible units carry the canonical unit and the exact factor.

    Raises:
        ValueError: the unit is neither convertible nor descriptive (the message says what is accepted).
    """
    answer = _classify(unit)
    if isinstance(answer, str):
        raise ValueError(answer)
    return answer


@cache
def _classify(unit: str) -> UnitInfo | str:
    """:func:`classify`'s answer: the unit's info, or why it is rejected."""
    try:
        return _look_up(unit)
    except ValueError as exc:
        return str(exc)


def _look_up(unit: str) -> UnitInfo:
    text = unit.strip()
    if not text:
        raise ValueError("the unit is empty")
    if any(p.fullmatch(text) for p in _DESCRIPTIVE):
        return UnitInfo(text, "descriptive")
    ureg = _registry()
    import pint

    try:
        quantity = ureg.parse_expression(_pint_text(text))
    except (pint.errors.PintError, SyntaxError, TypeError, ValueError, AttributeError, KeyError):
        quantity = None
    if not isinstance(quantity, ureg.Quantity) or str(quantity.units) == "dimensionless":
        raise ValueError(f"unknown unit {text!r}: write a convertible unit ({EXAMPLES}) or a descriptive one "
                         "('% of <cells>', 'copies/<reference>', grade, score, ratio, × ULN)")
    if quantity.dimensionality == {} and str(quantity.units) not in _PERCENT_LIKE:
        raise ValueError(f"unit {text!r} is dimensionless ({quantity.units}); use %, or a descriptive unit")
    if quantity.dimensionality and all(power < 0 for power in quantity.dimensionality.values()):
        quantity = quantity * ureg.cell  # "×10⁹/L", "/µL", "10^6/kg": a bare count per something counts cells
    for dimension, expression, stored in CANONICAL:
        target = ureg.parse_units(expression)
        if quantity.dimensionality == target.dimensionality:
            magnitude = quantity.to(target).magnitude
            if not isinstance(magnitude, Decimal | int):  # the registry computes in Decimal; never a float
                raise ValueError(f"unit {text!r}: inexact conversion factor {magnitude!r}")
            factor = Decimal(magnitude).normalize()
            return UnitInfo(text, "convertible", stored, factor, dimension)
    raise ValueError(f"unit {text!r} measures {quantity.dimensionality}, which has no canonical threshold unit "
                     "(use a descriptive unit if it is not to be converted)")


def normalise(value: Decimal | None, unit: str | None) -> tuple[Decimal, str] | None:
    """A threshold value in the canonical unit of its dimension.

    Args:
        value: the threshold as curated (exact).
        unit: its unit as written.

    Returns:
        ``(value × factor, canonical unit)`` with exact decimal arithmetic, or ``None`` when there is no
        value or no unit, or the unit is descriptive.

    Raises:
        ValueError: the unit is rejected (see :func:`classify`).
    """
    if value is None or unit is None or not unit.strip():
        return None
    info = classify(unit)
    if info.factor is None or info.canonical is None:
        return None
    with localcontext() as exact:  # enough digits for the whole product: no rounding, whatever the size
        exact.prec = max(exact.prec, len(value.as_tuple().digits) + len(info.factor.as_tuple().digits) + 1)
        result = value * info.factor
        return (Decimal(int(result)) if result == result.to_integral_value() else result.normalize()), info.canonical
