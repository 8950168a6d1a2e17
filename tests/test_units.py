"""Threshold units: convertible ones normalise exactly, descriptive ones pass as written, the rest are refused."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.engine import Engine

from evidencedb import curation, units
from evidencedb.db import session_scope
from evidencedb.models import Finding
from evidencedb.resources import data_file
from evidencedb.schemas import BiomarkerIn, FindingIn, PaperIn, StudyIn
from evidencedb.scoring import Scheme

CONVERSIONS = [
    pytest.param("2.5", "ng/mL", "2.5", "ng/mL", id="canonical-mass-concentration"),
    pytest.param("2.5", "ng/ml", "2.5", "ng/mL", id="lower-case-litre"),
    pytest.param("40", "µg/L", "40", "ng/mL", id="micro-sign"),
    pytest.param("40", "μg/L", "40", "ng/mL", id="greek-mu"),
    pytest.param("40", "ug/L", "40", "ng/mL", id="ascii-micro"),
    pytest.param("7.5", "pg/mL", "0.0075", "ng/mL", id="picogram"),
    pytest.param("2.5", "mg/dL", "25000", "ng/mL", id="milligram-per-decilitre"),
    pytest.param("10", "mg/L", "10000", "ng/mL", id="crp-mg-per-litre"),
    pytest.param("280", "U/L", "280", "U/L", id="enzyme-activity"),
    pytest.param("0.3", "U/mL", "300", "U/L", id="enzyme-per-millilitre"),
    pytest.param("500", "IU/L", "0.5", "IU/mL", id="international-units"),
    pytest.param("40", "%", "40", "%", id="percent"),
    pytest.param("0.2", "×10^9/L", "200", "cells/µL", id="times-ten-to-the-nine-caret"),
    pytest.param("0.2", "×10⁹/L", "200", "cells/µL", id="times-ten-to-the-nine-superscript"),
    pytest.param("0.2", "x10^9/L", "200", "cells/µL", id="letter-x"),
    pytest.param("150", "/µL", "150", "cells/µL", id="per-microlitre"),
    pytest.param("150", "cells/uL", "150", "cells/µL", id="cells-per-microlitre"),
    pytest.param("2", "×10^6 cells/kg", "2000000", "cells/kg", id="car-t-dose"),
    pytest.param("6", "months", "182.625", "days", id="months-exact-decimal"),
    pytest.param("1", "mmol/L", "1000", "µmol/L", id="substance-concentration"),
    pytest.param("1E-6", "mg/dL", "0.01", "ng/mL", id="exponent-stays-exact"),
]


@pytest.mark.parametrize(("value", "unit", "expected", "canonical"), CONVERSIONS)
def test_convertible_units_normalise_exactly(value: str, unit: str, expected: str, canonical: str) -> None:
    result = units.normalise(Decimal(value), unit)
    assert result == (Decimal(expected), canonical)
    assert isinstance(result[0], Decimal) and str(result[0]) == str(Decimal(expected))


DESCRIPTIVE = ["% of CD4+ T cells", "% of leukocytes (or <3% of lymphocytes)", "fraction (10^-6)",
               "fraction of nucleated cells (10^-6)", "copies/µg DNA", "aberrations", "grade", "ratio", "score",
               "× ULN", "log10 copies/mL"]


@pytest.mark.parametrize("unit", DESCRIPTIVE)
def test_descriptive_units_are_accepted_as_written_and_not_converted(unit: str) -> None:
    info = units.classify(unit)
    assert (info.kind, info.canonical, info.factor) == ("descriptive", None, None)
    assert units.normalise(Decimal("5"), unit) is None


REJECTED = [
    pytest.param("ng/mLL", "unknown unit", id="typo"),
    pytest.param("abc", "unknown unit", id="word"),
    pytest.param("10", "unknown unit", id="bare-number"),
    pytest.param("degree", "dimensionless", id="angle"),
    pytest.param("m/s", "no canonical threshold unit", id="speed"),
    pytest.param("degC", "no canonical threshold unit", id="temperature"),
]


@pytest.mark.parametrize(("unit", "reason"), REJECTED)
def test_other_units_are_rejected_with_a_reason(unit: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        units.classify(unit)


def test_no_value_or_no_unit_normalises_to_nothing() -> None:
    assert units.normalise(None, "ng/mL") is None
    assert units.normalise(Decimal(1), None) is None
    assert units.normalise(Decimal(1), "  ") is None


def _finding(**kw: str) -> FindingIn:
    return FindingIn.model_validate({"biomarker": "ferritin", "outcome": "CRS", "outcome_category": "toxicity",
                                     "association": "supports", **kw})


def test_finding_input_fills_the_normalised_threshold() -> None:
    f = _finding(comparator=">", threshold_value="2.5", unit="mg/dL")
    assert (f.norm_value, f.norm_unit) == (Decimal("25000"), "ng/mL")
    assert f.model_dump()["norm_value"] == Decimal("25000")
    given = _finding(comparator=">", threshold_value="2.5", unit="% of CD4+ T cells", norm_value="7", norm_unit="x")
    assert (given.norm_value, given.norm_unit) == (None, None)  # derived, never taken from input


def test_finding_input_reports_a_rejected_unit_on_the_unit_field() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as info:
        _finding(comparator=">", threshold_value="2.5", unit="ng/mLL")
    assert [e["loc"] for e in info.value.errors()] == [("unit",)]


def test_curation_writes_store_the_normalised_threshold(engine: Engine) -> None:
    with session_scope(engine, write=True) as session:
        scheme = curation.ensure_scheme(Scheme.from_file(data_file("ke-zhou-2025.json")), session=session)
        review = curation.create_review(session=session, slug="r", title="R", scheme=scheme)
        paper = curation.add_paper(PaperIn(title="P"), session=session)
        study = curation.add_study(review, paper, StudyIn(label="s", design="single-arm phase II trial"),
                                   session=session)
        curation.add_biomarker(BiomarkerIn(name="ferritin", category="biochemical"), session=session)
        fid = curation.add_finding(study, _finding(comparator=">", threshold_value="500", unit="µg/L"),
                                   session=session).id
    with session_scope(engine, write=True) as session:
        stored = session.get(Finding, fid)
        assert stored is not None
        assert (stored.norm_value, stored.norm_unit) == (Decimal("500"), "ng/mL")
        curation.update_finding(stored, {"unit": "mg/dL", "threshold_value": "0.05"}, session=session)
    with session_scope(engine) as session:
        stored = session.get(Finding, fid)
        assert stored is not None
        assert (stored.threshold_value, stored.unit) == (Decimal("0.05"), "mg/dL")
        assert (stored.norm_value, stored.norm_unit) == (Decimal("500"), "ng/mL")


@pytest.mark.parametrize(("value", "unit", "expected"), [
    ("123456789012345678901234567890123", "pg/mL", "123456789012345678901234567890.123"),  # 33 digits, exact
    ("1E+39", "ng/mL", "1" + "0" * 39),
])
def test_long_thresholds_normalise_without_rounding(value: str, unit: str, expected: str) -> None:
    result = units.normalise(Decimal(value), unit)
    assert result is not None and str(result[0]) == expected and result[1] == "ng/mL"


def test_a_threshold_too_long_to_store_once_converted_is_a_validation_error() -> None:
    from pydantic import ValidationError as PydanticValidationError

    with pytest.raises(PydanticValidationError, match="too many digits to store"):
        FindingIn(biomarker="IL-6", outcome="CRS", outcome_category="toxicity", association="supports",
                  comparator=">", threshold_value="1E+39", unit="g/L")


def test_a_rejected_unit_is_looked_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    looked: list[str] = []
    look_up = units._look_up

    def counting(unit: str) -> units.UnitInfo:
        looked.append(unit)
        return look_up(unit)

    monkeypatch.setattr(units, "_look_up", counting)
    units._classify.cache_clear()
    for _ in range(3):
        with pytest.raises(ValueError, match="unknown unit 'ng/mLL'"):
            units.classify("ng/mLL")
    assert units.classify("ng/mL").canonical == "ng/mL" and looked == ["ng/mLL", "ng/mL"]
    units._classify.cache_clear()
