"""Exports: every table in every format reads back to the same rows; grades add up exactly; Table 1 figures."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from cli_run import run
from sqlalchemy.engine import Engine

from evidencedb import queries, reports
from evidencedb.db import session_scope
from evidencedb.errors import EvidenceDBError
from evidencedb.io import export

FORMATS = ("csv", "xlsx", "json", "md")
# The seed's headline figures (seeds/README.md, "database" column; the same as tests/test_seeds.py).
SEED = {"studies": 33, "findings": 105, "graded": 27, "patients": 1319, "with_n": 22, "without_n": 11,
        "trials": 16, "retrospective": 14, "prospective": 3}


@pytest.fixture
def review_session(seeded_engine: Engine) -> Iterator[tuple[Any, Any]]:
    with session_scope(seeded_engine) as session:
        yield queries.get_review("ke-zhou-2025", session=session), session


def read_back(path: Path) -> list[dict[str, Any]]:
    """Rows of an exported file, read as a user's tool would read it."""
    fmt = path.suffix[1:]
    if fmt == "csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False).to_dict("records")
    if fmt == "xlsx":
        return pd.read_excel(path, dtype=str, keep_default_na=False).to_dict("records")
    if fmt == "json":
        return pd.read_json(path, dtype=False, precise_float=True).to_dict("records")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert re.fullmatch(r"\|(:?-+:?\|)+", lines[1]), "second line is the Markdown header rule"

    def cells(line: str) -> list[str]:
        parts = re.split(r"(?<!\\)\|", line.strip())[1:-1]
        return [p.strip().replace("\\|", "|") for p in parts]

    header = cells(lines[0])
    return [dict(zip(header, cells(line), strict=True)) for line in lines[2:]]


def same(expected: Any, got: Any) -> bool:
    """A written value read back equals what was exported (decimals and integers by exact value)."""
    if expected is None or expected == "":
        return got is None or got == "" or (isinstance(got, float) and math.isnan(got))
    if isinstance(expected, bool):
        return str(got) == str(expected)
    if isinstance(expected, Decimal | int):
        return Decimal(str(got)) == expected
    return str(got) == str(expected)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", export.TABLES)
def test_every_table_in_every_format_reads_back(review_session: tuple[Any, Any], tmp_path: Path, name: str,
                                                fmt: str) -> None:
    review, session = review_session
    table = export.build_table(name, review, session=session)
    out = tmp_path / "out"
    out.mkdir()
    path = export.write_table(table, out / f"{name}.{fmt}")
    rows = read_back(path)
    assert len(rows) == len(table.rows) > 0
    assert list(rows[0]) == list(table.columns)
    for i, (want, got) in enumerate(zip(table.rows, rows, strict=True)):
        bad = {c: (want[c], got[c]) for c in table.columns if not same(want[c], got[c])}
        assert not bad, f"row {i}: {bad}"
    assert [p.name for p in out.iterdir()] == [path.name], "no temporary file is left behind"


EXPECTED_COUNTS = [
    pytest.param("studies", SEED["studies"], id="studies"),
    pytest.param("findings", SEED["findings"], id="findings"),
    pytest.param("markers", SEED["graded"], id="markers"),
]


@pytest.mark.parametrize(("name", "count"), EXPECTED_COUNTS)
def test_row_counts_match_the_seed(review_session: tuple[Any, Any], name: str, count: int) -> None:
    review, session = review_session
    assert len(export.build_table(name, review, session=session).rows) == count


@pytest.mark.parametrize("fmt", FORMATS)
def test_grade_rows_add_up_exactly_to_each_score(review_session: tuple[Any, Any], tmp_path: Path, fmt: str) -> None:
    review, session = review_session
    path = export.write_table(export.build_table("grades", review, session=session), tmp_path / f"grades.{fmt}")
    rows = read_back(path)
    graded = {m.biomarker: m for m in queries.list_markers(review, session=session)}
    totals: dict[str, Decimal] = {}
    supporting: dict[str, int] = {}
    for r in rows:
        score_text = str(r["score"])
        assert re.fullmatch(r"\d+\.\d{1,3}", score_text), f"score written as {score_text!r}"
        totals[r["biomarker"]] = totals.get(r["biomarker"], Decimal(0)) + Decimal(str(r["contribution"]))
        if r["role"] == "supports":
            supporting[r["biomarker"]] = supporting.get(r["biomarker"], 0) + 1
            assert Decimal(str(r["contribution"])) == Decimal(str(r["coefficient"])) > 0
        else:
            assert r["role"] == "conflicting" and Decimal(str(r["contribution"])) == 0
    assert set(totals) == set(graded)
    for name, m in graded.items():
        assert totals[name] == m.score, name
        assert supporting.get(name, 0) == m.n_studies, name
    first = rows[0]
    assert (first["biomarker"], str(first["score"]), first["level"]) == ("tumour burden", "11.3", "A+")
    mrd = next(r for r in rows if r["biomarker"] == "MRD")
    assert (str(mrd["score"]), mrd["level"]) == ("6.0", "A+")


def test_grade_contributions_match_the_explanation(review_session: tuple[Any, Any]) -> None:
    review, session = review_session
    rows = export.grade_rows(review, session=session)
    for name in ("tumour burden", "MRD", "ferritin", "IL-6"):
        ex = queries.explain_marker(review, name, session=session)
        mine = [(r["study"], r["design"], r["contribution"]) for r in rows
                if r["biomarker"] == ex.biomarker.name and r["role"] == "supports"]
        assert mine == [(c.study, c.design, c.coefficient) for c in ex.result.contributions]
        conflicting = [r["study"] for r in rows if r["biomarker"] == ex.biomarker.name and r["role"] == "conflicting"]
        assert tuple(conflicting) == ex.result.conflicting


def test_json_has_no_binary_float_artefacts(review_session: tuple[Any, Any], tmp_path: Path) -> None:
    review, session = review_session
    path = export.write_table(export.build_table("grades", review, session=session), tmp_path / "grades.json")
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"\d\.\d*0000\d|\d\.\d*9999\d", text)
    data = json.loads(text)
    assert data[0]["score"] == 11.3 and isinstance(data[0]["n_studies"], int)


def _summary(rows: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["section"], r["item"]): r for r in rows}


@pytest.mark.parametrize("fmt", FORMATS)
def test_summary_is_the_seed_table_1(review_session: tuple[Any, Any], tmp_path: Path, fmt: str) -> None:
    review, session = review_session
    path = export.write_table(export.build_table("summary", review, session=session), tmp_path / f"t1.{fmt}")
    t1 = _summary(read_back(path))
    assert int(t1[("review", review.title)]["studies"]) == SEED["studies"]
    assert int(t1[("review", review.title)]["findings"]) == SEED["findings"]
    patients = t1[("patients", "total N (studies reporting N)")]
    assert (str(patients["value"]), int(patients["studies"])) == (str(SEED["patients"]), SEED["with_n"])
    assert int(t1[("patients", "N not reported")]["studies"]) == SEED["without_n"]
    assert str(t1[("patients", "N per study (range)")]["value"]) == "12–185"
    for group, key in (("trials", "trials"), ("retrospective cohorts", "retrospective"),
                       ("prospective cohorts", "prospective")):
        assert int(t1[("design group", group)]["studies"]) == SEED[key], group
    designs = [r for (section, _), r in t1.items() if section == "design"]
    assert sum(int(r["studies"]) for r in designs) == SEED["studies"]
    assert str(t1[("design", "single-center retrospective cohort")]["value"]) == "33.3%"
    assert sum(int(r["studies"]) for (s, _), r in t1.items() if s == "population") == SEED["studies"]
    assert int(t1[("target", "CD19")]["studies"]) == 27
    outcomes = {item: r for (s, item), r in t1.items() if s == "outcome"}
    assert sum(int(r["findings"]) for r in outcomes.values()) == SEED["findings"]
    assert (int(outcomes["CRS (toxicity)"]["studies"]), int(outcomes["CRS (toxicity)"]["findings"])) == (12, 15)
    thresholds = [r for (s, _), r in t1.items() if s == "threshold"]
    assert any(r["item"] == "tumour burden · CR [%]" and r["value"] == "≥ 5 to 50 %" for r in thresholds)
    assert any(r["item"] == "MRD · EFS [fraction (10^-6)]" and r["value"] == "≥ 0.000001 fraction (10^-6)"
               for r in thresholds)
    assert any(r["item"].lower() == "ferritin · os [ng/ml]" and r["value"].lower() == "≥ 10000 ng/ml"
               for r in thresholds)
    levels = {item.split()[0]: int(r["value"]) for (s, item), r in t1.items() if s == "evidence level"}
    assert levels == {"A+": 2, "A": 0, "B": 1, "C": 13, "D": 11}


def test_table1_query_counts(review_session: tuple[Any, Any]) -> None:
    review, session = review_session
    t1 = reports.review_table1(review, session=session)
    assert (t1.summary.n_studies, t1.summary.n_patients, t1.n_patients_reported) == (33, 1319, 22)
    assert t1.design_groups == {"trials": 16, "retrospective cohorts": 14, "prospective cohorts": 3}
    assert (t1.patients_min, t1.patients_max, t1.n_findings) == (12, 185, 105)
    tb_cr = next(r for r in t1.thresholds if (r.biomarker, r.outcome, r.unit) == ("tumour burden", "CR", "%"))
    assert (tb_cr.low, tb_cr.high, tb_cr.comparators, tb_cr.n_studies) == (Decimal(5), Decimal(50), (">=",), 3)


# --------------------------------------------------------------------------------------------------
# Writers: errors, atomicity


def test_unknown_extension_names_the_file_and_the_allowed_ones(tmp_path: Path) -> None:
    with pytest.raises(EvidenceDBError) as info:
        export.write_rows([{"a": 1}], tmp_path / "out.txt", ["a"])
    message = str(info.value)
    assert "out.txt" in message and all(ext in message for ext in (".csv", ".xlsx", ".json", ".md"))
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(("target", "reason"), [
    pytest.param("missing/out.csv", "no such directory", id="missing-directory"),
    pytest.param("a-file/out.csv", "no such directory", id="parent-is-a-file"),
    pytest.param("a-dir", "it is a directory", id="target-is-a-directory"),
])
def test_unwritable_targets(tmp_path: Path, target: str, reason: str) -> None:
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "a-dir.csv").mkdir()
    path = tmp_path / (target + ".csv" if target == "a-dir" else target)
    with pytest.raises(EvidenceDBError) as info:
        export.write_rows([{"a": 1}], path, ["a"])
    assert reason in str(info.value) and str(path) in str(info.value)


def test_a_failed_write_leaves_the_old_file_and_no_partial_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "grades.csv"
    target.write_text("old contents\n")

    def half_then_fail(records: list[dict[str, Any]], columns: list[str], path: Path) -> None:
        path.write_text("biomarker,sco")
        raise OSError(28, "No space left on device")

    monkeypatch.setitem(export._WRITERS, "csv", half_then_fail)
    with pytest.raises(EvidenceDBError, match="No space left on device"):
        export.write_rows([{"biomarker": "MRD"}], target, ["biomarker"])
    assert target.read_text() == "old contents\n"
    assert [p.name for p in tmp_path.iterdir()] == ["grades.csv"]


def test_markdown_escapes_pipes_and_newlines(tmp_path: Path) -> None:
    path = export.write_rows([{"a": "x | y", "b": "line1\nline2"}], tmp_path / "t.md", ["a", "b"])
    assert read_back(path) == [{"a": "x | y", "b": "line1 line2"}]


# --------------------------------------------------------------------------------------------------
# CLI


@pytest.mark.parametrize(("table", "rows"), [("studies", 33), ("findings", 105), ("grades", 60), ("markers", 27)])
def test_cli_export_tables(seeded_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], table: str,
                           rows: int) -> None:
    out = tmp_path / f"{table}.xlsx"
    code, stdout, err = run(capsys, "--db", seeded_db, "export", table, str(out))
    assert code == 0, err
    assert f"wrote {rows} {table} rows" in stdout and len(read_back(out)) == rows


@pytest.mark.parametrize(("target", "message"), [
    pytest.param("grades.txt", "allowed: .csv, .xlsx, .json, .md", id="bad-extension"),
    pytest.param("no-such-dir/grades.csv", "no such directory", id="missing-directory"),
])
def test_cli_export_errors_are_one_line(seeded_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        target: str, message: str) -> None:
    path = tmp_path / target
    code, _, err = run(capsys, "--db", seeded_db, "export", "grades", str(path))
    assert code == 1
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err and path.name in err
    assert not path.exists()
