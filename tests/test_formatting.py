"""How values are written for people: named cases for every function of ``evidencedb.formatting``."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError, field_validator

from evidencedb.formatting import (
    InputError,
    cell_text,
    exact_score,
    first_error,
    input_errors,
    json_number,
    level_band,
    level_bands,
    scheme_label,
    score_text,
    share_text,
    threshold_text,
)
from evidencedb.scoring import Level

# (name, function, argument(s), expected)
CASES: list[tuple[str, Callable[..., Any], tuple[Any, ...], Any]] = [
    ("score: three places to one", score_text, (Decimal("6.000"),), "6.0"),
    ("score: trailing zeros go", score_text, (Decimal("11.300"),), "11.3"),
    ("score: all the places it needs", score_text, (Decimal("0.250"),), "0.25"),
    ("score: whole numbers keep one place", score_text, (Decimal("60"),), "60.0"),
    ("score: exponent written out", score_text, (Decimal("1E-6"),), "0.000001"),
    ("score: zero", score_text, (Decimal("0.000"),), "0.0"),
    ("exact score: a decimal with one place", exact_score, (Decimal("6.000"),), Decimal("6.0")),
    ("exact score: no rounding", exact_score, (Decimal("5.875"),), Decimal("5.875")),
    ("json: thousandths are a number", json_number, (Decimal("6.250"),), 6.25),
    ("json: finer decimals stay exact text", json_number, (Decimal("1E-6"),), "0.000001"),
    ("json: other values as they are", json_number, ("MRD",), "MRD"),
    ("json: missing stays missing", json_number, (None,), None),
    ("band: the highest level", level_band, (Decimal("6.000"), None), "≥ 6.0"),
    ("band: between two cut-offs", level_band, (Decimal("4.000"), Decimal("6.000")), "4.0 to < 6.0"),
    ("band: the lowest level", level_band, (Decimal("0"), Decimal("1.000")), "0.0 to < 1.0"),
    ("band: cut-offs in thousandths", level_band, (Decimal("2.5"), Decimal("3.125")), "2.5 to < 3.125"),
    ("scheme label", scheme_label, ("ke-zhou-2025", "1.0"), "ke-zhou-2025@1.0"),
    ("share: one decimal place", share_text, (2, 28), "7.1%"),
    ("share: of nothing", share_text, (0, 0), "0.0%"),
    ("threshold: a comparator as its symbol", threshold_text, (">=", Decimal("40"), None, "%"), "≥ 40 %"),
    ("threshold: a range", threshold_text, ("range", Decimal("0.5"), Decimal("1.0"), "×10⁹/L"), "0.5–1.0 ×10⁹/L"),
    ("threshold: no unit", threshold_text, ("<", Decimal("1E-4"), None, None), "< 0.0001"),
    ("threshold: a comparator without a value", threshold_text, ("=", None, None, ""), "="),
    ("threshold: none without a comparator", threshold_text, (None, Decimal("5"), None, "%"), ""),
    ("cell: missing is blank", cell_text, (None,), ""),
    ("cell: yes", cell_text, (True,), "yes"),
    ("cell: no", cell_text, (False,), "no"),
    ("cell: decimals in plain notation", cell_text, (Decimal("1E-7"),), "0.0000001"),
    ("cell: decimals as stored", cell_text, (Decimal("0.50"),), "0.50"),
    ("cell: whole numbers", cell_text, (Decimal("1E+4"),), "10000"),
    ("cell: integers", cell_text, (2021,), "2021"),
    ("cell: text as it is", cell_text, ("≥ 40 %",), "≥ 40 %"),
]


@pytest.mark.parametrize(("name", "function", "args", "expected"), CASES, ids=[c[0] for c in CASES])
def test_named_cases(name: str, function: Callable[..., Any], args: tuple[Any, ...], expected: Any) -> None:
    result = function(*args)
    assert result == expected and type(result) is type(expected)
    if isinstance(expected, Decimal):
        assert str(result) == str(expected)  # the same digits, not only the same value


def test_level_bands_come_highest_first_whatever_the_order_given() -> None:
    levels = [Level("C", Decimal("1.000")), Level("A", Decimal("4.000")), Level("D", Decimal("0.000")),
              Level("A+", Decimal("6.000"))]
    assert list(level_bands(levels).items()) == [
        ("A+", "≥ 6.0"), ("A", "4.0 to < 6.0"), ("C", "1.0 to < 4.0"), ("D", "0.0 to < 1.0")]


class _Input(BaseModel):
    name: str
    year: int | None = None
    tags: dict[str, int] = {}

    @field_validator("name")
    @classmethod
    def _named(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("a name is required")
        return v


def _refused(**data: Any) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        _Input.model_validate(data)
    return caught.value


def test_input_errors_name_the_field_and_drop_pydantics_prefix() -> None:
    errors = input_errors(_refused(name=" ", year="soon", tags={"a": "x"}))
    assert [(e.loc, e.field) for e in errors] == [(("name",), "name"), (("year",), "year"), (("tags", "a"), "tags")]
    assert errors[0].message == "a name is required"
    assert [str(e) for e in errors][2].startswith("tags.a: ")
    assert first_error(_refused(name="")) == "name: a name is required"
    assert str(InputError((), "not an object")) == "value: not an object" and InputError((), "").field == ""


def test_formatting_imports_no_library() -> None:
    code = ("import sys, evidencedb.formatting; "
            "print(','.join(sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'sqlmodel', 'pydantic', "
            "'textual', 'rich', 'typer', 'pandas', 'matplotlib'})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == ""
