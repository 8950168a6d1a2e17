"""How values are written for people: scores, level bands, thresholds, table cells, input errors.

Why this module exists: the CLI, the TUI, the exports and the figures show the same values, and each
is written by one function here, so a score reads "6.0" and a band "4.0 to < 6.0" in a listing, a
spreadsheet and a figure alike. Pure and light: plain values in, text out; nothing here touches the
database or imports a UI or a heavy library.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from pydantic import ValidationError as PydanticValidationError

_THOUSANDTHS = Decimal("0.001")

# --------------------------------------------------------------------------------------------------
# Scores and shares


def score_text(value: Decimal) -> str:
    """A score as people write it: one decimal place when that is exact, else all it needs.

    ``6.000`` → ``6.0``, ``11.300`` → ``11.3``, ``0.250`` → ``0.25``, ``1E-6`` → ``0.000001``: every
    digit a score has (never a binary float's approximation), never in exponent notation.
    """
    text = format(value.normalize(), "f")
    return text if "." in text else text + ".0"


def exact_score(value: Decimal) -> Decimal:
    """The decimal that :func:`score_text` writes (``6.000`` → ``Decimal("6.0")``), for tables that keep numbers."""
    return Decimal(score_text(value))


def json_number(value: Any) -> Any:
    """A value for JSON: a decimal is a number when thousandths hold it exactly, else its exact text.

    Scores and coefficients (three places at most) become numbers; anything that is not a decimal is
    returned as it is.
    """
    if isinstance(value, Decimal):
        return float(value) if value == value.quantize(_THOUSANDTHS) else format(value, "f")
    return value


def share_text(part: int, whole: int) -> str:
    """``part`` as a percentage of ``whole`` with one decimal place (``7.1%``; ``0.0%`` of nothing)."""
    return f"{Decimal(100 * part) / Decimal(whole or 1):.1f}%"


# --------------------------------------------------------------------------------------------------
# Levels and schemes


class LevelCut(Protocol):
    """What a band needs of a level: its name and the lowest score that earns it."""

    @property
    def level(self) -> str: ...

    @property
    def min_score(self) -> Decimal: ...


def level_band(min_score: Decimal, next_min_score: Decimal | None) -> str:
    """The scores that earn a level: ``4.0 to < 6.0``, or ``≥ 6.0`` for the highest (no next cut-off)."""
    if next_min_score is None:
        return f"≥ {score_text(min_score)}"
    return f"{score_text(min_score)} to < {score_text(next_min_score)}"


def level_bands(levels: Iterable[LevelCut]) -> dict[str, str]:
    """Every level's band (see :func:`level_band`), by level name, highest level first."""
    ordered = sorted(levels, key=lambda lv: lv.min_score, reverse=True)
    return {lv.level: level_band(lv.min_score, above.min_score if above is not None else None)
            for above, lv in zip((None, *ordered), ordered, strict=False)}


def scheme_label(name: str, version: str) -> str:
    """A scheme as users name it: ``name@version`` (what ``--scheme`` accepts)."""
    return f"{name}@{version}"


# --------------------------------------------------------------------------------------------------
# Thresholds

#: How listings print a comparator (``range`` is printed as ``low–high``).
COMPARATOR_SYMBOLS = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "=": "="}


def threshold_text(comparator: str | None, value: object, upper: object, unit: str | None) -> str:
    """A threshold as listings show it: ``≥ 40 %``, ``0.5–1.0 ×10⁹/L``, or ``""`` without a comparator."""
    if not comparator:
        return ""
    unit_text = f" {unit}" if unit else ""
    if comparator == "range":
        return f"{value}–{upper}{unit_text}"
    shown = "" if value is None else str(value)
    return f"{COMPARATOR_SYMBOLS.get(comparator, comparator)} {shown}{unit_text}".strip()


# --------------------------------------------------------------------------------------------------
# Cells


def cell_text(value: Any) -> str:
    """A value as a text cell or form field: decimals in plain notation, yes/no, nothing for missing."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


# --------------------------------------------------------------------------------------------------
# Input errors


@dataclass(frozen=True)
class InputError:
    """One reason pydantic refused an input: where (the field, then any nested keys) and why."""

    loc: tuple[str, ...]
    message: str

    @property
    def field(self) -> str:
        """The field at fault (``""`` for a reason about the whole input)."""
        return self.loc[0] if self.loc else ""

    def __str__(self) -> str:
        return f"{'.'.join(self.loc) or 'value'}: {self.message}"


def input_errors(exc: PydanticValidationError) -> list[InputError]:
    """Pydantic's report as one :class:`InputError` per reason, in its order, without its "Value error, "."""
    return [InputError(tuple(str(p) for p in item.get("loc", ())),
                       str(item.get("msg", "invalid")).removeprefix("Value error, "))
            for item in exc.errors()]


def first_error(exc: PydanticValidationError) -> str:
    """Pydantic's report as one line, ``field: reason``, from its first reason."""
    errors = input_errors(exc)
    return str(errors[0]) if errors else str(exc)
