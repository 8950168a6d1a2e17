"""The Ke–Zhou score as pure functions: named cases, boundaries and properties."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evidencedb.errors import UnknownDesignError, ValidationError
from evidencedb.resources import data_file
from evidencedb.scoring import FindingFact, Scheme, score_biomarker

KZ = Scheme.from_file(data_file("ke-zhou-2025.json"))
MRC = "multicenter retrospective cohort"  # 0.9
P2 = "single-arm phase II trial"  # 1.0
P1 = "single-arm phase I trial"  # 0.8
P12 = "single-arm phase I/II trial"  # 0.9
SCP = "single-center prospective cohort"  # 1.0
SCR = "single-center retrospective cohort"  # 0.5


def studies(*designs: str, category: str = "efficacy") -> list[FindingFact]:
    return [FindingFact(f"s{i}", d, category, True) for i, d in enumerate(designs)]


# (name, facts, expected score, expected level, expected class)
CASES = [
    ("no findings", [], "0", "D", "none"),
    ("one weak study", studies(SCR), "0.5", "D", "efficacy"),
    ("exactly 1.0 is C", studies(SCR, SCR), "1.0", "C", "efficacy"),
    ("0.9 stays D", studies(MRC), "0.9", "D", "efficacy"),
    ("3.9 is B", studies(P2, P2, MRC, SCP), "3.9", "B", "efficacy"),
    ("4.0 is A", studies(P2, P2, P2, P2), "4.0", "A", "efficacy"),
    ("5.9 is A", studies(P2, P2, P2, P2, P2, MRC), "5.9", "A", "efficacy"),
    ("6.0 is A+", studies(P2, P2, P2, P2, P2, P2), "6.0", "A+", "efficacy"),
    ("five at 0.9 plus three at 0.5 is exactly 6.0", studies(MRC, MRC, MRC, MRC, MRC, SCR, SCR, SCR), "6.0", "A+",
     "efficacy"),
    ("0.9+0.9+1.0+0.8+0.8+0.8+0.8 = 6.0", studies(MRC, P12, P2, P1, P1, P1, P1), "6.0", "A+", "efficacy"),
    ("a study counts once", [FindingFact("a", P2, "efficacy", True), FindingFact("a", P2, "efficacy", True),
                             FindingFact("a", P2, "toxicity", True)], "1.0", "C", "dual"),
    ("no association adds nothing", [FindingFact("a", P2, "efficacy", True), FindingFact("b", P2, "efficacy", False)],
     "1.0", "C", "efficacy"),
    ("toxicity only", studies(P2, category="toxicity"), "1.0", "C", "toxicity"),
    ("dual from two studies", [*studies(P2), FindingFact("t", SCR, "toxicity", True)], "1.5", "C", "dual"),
    ("only conflicting", [FindingFact("b", P2, "efficacy", False)], "0", "D", "none"),
]


@pytest.mark.parametrize(("name", "facts", "score", "level", "grade_class"), CASES, ids=[c[0] for c in CASES])
def test_named_cases(name: str, facts: list[FindingFact], score: str, level: str, grade_class: str) -> None:
    result = score_biomarker(facts, KZ)
    assert result.score == Decimal(score)
    assert result.level == level
    assert result.grade_class == grade_class


def test_floats_would_get_it_wrong_but_we_do_not() -> None:
    assert sum([0.9, 0.9, 1.0, 0.8, 0.8, 0.8, 0.8]) < 6.0  # binary floats: 5.999999…
    assert score_biomarker(studies(MRC, P12, P2, P1, P1, P1, P1), KZ).level == "A+"


def test_contributions_and_conflicts_are_listed() -> None:
    facts = [FindingFact("a", P2, "efficacy", True), FindingFact("b", SCR, "toxicity", True),
             FindingFact("c", MRC, "efficacy", False), FindingFact("a", P2, "toxicity", False)]
    result = score_biomarker(facts, KZ)
    assert [(c.study, c.design, c.coefficient) for c in result.contributions] == [
        ("a", P2, Decimal("1.0")), ("b", SCR, Decimal("0.5"))]
    assert result.conflicting == ("c",)
    assert result.n_studies == 2


def test_unknown_design_stops_with_names() -> None:
    facts = [FindingFact("rct-1", "randomized controlled trial", "efficacy", True),
             FindingFact("mpc-1", "multicenter prospective cohort", "efficacy", True)]
    with pytest.raises(UnknownDesignError) as info:
        score_biomarker(facts, KZ)
    message = str(info.value)
    assert "ke-zhou-2025@1" in message
    assert "randomized controlled trial" in message and "rct-1" in message
    assert "multicenter prospective cohort" in message and "mpc-1" in message


def test_levels_are_half_open() -> None:
    assert [KZ.level_for(Decimal(s)) for s in ("0", "0.999", "1.0", "1.999", "2.0", "3.999", "4.0", "5.999", "6.0")] \
        == ["D", "D", "C", "C", "B", "B", "A", "A", "A+"]


def test_scheme_hash_is_stable_and_content_sensitive() -> None:
    again = Scheme.from_file(data_file("ke-zhou-2025.json"))
    assert again.content_hash == KZ.content_hash and len(KZ.content_hash) == 64
    changed = Scheme(KZ.name, "2", {**KZ.designs, "randomized controlled trial": Decimal("1.2")}, KZ.levels)
    assert changed.content_hash != KZ.content_hash


@pytest.mark.parametrize(("designs", "reason"), [
    ({"x": Decimal("-0.1")}, "negative"),
    ({"x": Decimal("0.0001")}, "three decimal places"),
])
def test_bad_coefficients_are_refused(designs: dict[str, Decimal], reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        Scheme("s", "1", designs, KZ.levels)


def test_binary_float_coefficients_are_refused() -> None:
    with pytest.raises(ValidationError, match="binary floats"):
        Scheme.from_mapping({"name": "s", "version": "1", "designs": {"x": 0.9},
                             "levels": [{"level": "D", "min_score": "0"}]})


design_st = st.sampled_from(sorted(KZ.designs))
fact_st = st.builds(FindingFact, st.sampled_from(["a", "b", "c", "d", "e", "f"]), design_st,
                    st.sampled_from(["efficacy", "toxicity"]), st.booleans())


def _consistent(facts: list[FindingFact]) -> list[FindingFact]:
    # One design per study, as in the database.
    first: dict[str, str] = {}
    return [FindingFact(f.study, first.setdefault(f.study, f.design), f.category, f.supports) for f in facts]


@given(st.lists(fact_st, max_size=25), st.text(alphabet="xyz", min_size=1, max_size=3), design_st)
def test_adding_a_supporting_study_never_lowers_the_score(facts: list[FindingFact], new: str, design: str) -> None:
    facts = _consistent(facts)
    before = score_biomarker(facts, KZ).score
    after = score_biomarker([*facts, FindingFact("new-" + new, design, "efficacy", True)], KZ).score
    assert after >= before
    assert after == before + KZ.designs[design]


@given(st.lists(fact_st, max_size=25), st.randoms())
def test_order_never_matters(facts: list[FindingFact], rnd: object) -> None:
    facts = _consistent(facts)
    shuffled = list(facts)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert score_biomarker(facts, KZ) == score_biomarker(shuffled, KZ)


@given(st.lists(fact_st, min_size=1, max_size=25), st.data())
def test_another_finding_of_a_counted_study_changes_nothing(facts: list[FindingFact], data: st.DataObject) -> None:
    facts = _consistent(facts)
    counted = [f for f in facts if f.supports]
    if not counted:
        return
    base = data.draw(st.sampled_from(counted))
    extra = FindingFact(base.study, base.design, base.category, data.draw(st.booleans()))
    assert score_biomarker([*facts, extra], KZ).score == score_biomarker(facts, KZ).score


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_decimals_are_stored_exactly_as_written_or_as_plain_whole_numbers(d: Decimal) -> None:
    from evidencedb.models import decimal_text

    text = decimal_text(d)
    assert Decimal(text) == d
    if d == d.to_integral_value():
        assert text.lstrip("-").isdigit() and text == str(int(d))
    else:
        assert text == str(d)


@pytest.mark.parametrize(("written", "stored"), [
    ("0.50", "0.50"), ("458.6", "458.6"), ("1E+4", "10000"), ("5.0", "5"), ("1E-7", "1E-7"),
    ("10000000000000000000000000001", "10000000000000000000000000001"),  # 29 digits: beyond the context's 28
])
def test_decimal_text_examples(written: str, stored: str) -> None:
    from evidencedb.models import decimal_text

    assert decimal_text(Decimal(written)) == stored


@pytest.mark.parametrize("written", ["1E+40", "1" * 41, "1E+1000000"])
def test_numbers_too_long_to_store_are_refused(written: str) -> None:
    from evidencedb.schemas import to_decimal

    with pytest.raises(ValueError, match="too many digits"):
        to_decimal(written)
