"""Extraction sheets: validate everything first, write all or nothing, round-trip with export, CSV and XLSX."""

from __future__ import annotations

import csv
import json
import random
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from cli_run import run
from openpyxl import Workbook, load_workbook
from openpyxl.utils import column_index_from_string
from sqlalchemy.engine import Engine

from evidencedb import queries
from evidencedb.db import make_engine, session_scope
from evidencedb.errors import EvidenceDBError, ImportValidationError
from evidencedb.io.sheet import columns, tables
from evidencedb.io.sheet import importer as sheet
from evidencedb.io.sheet import rows as sheet_rows
from evidencedb.models import AuditLog, Finding, Paper, Study

DATA = Path(__file__).parent / "data" / "sheets"

GOOD = [
    {"study_id": "a-2021", "citation": "A et al. J 2021", "year": "2021", "design": "single-arm phase II trial",
     "n_patients": "40", "doi": "10.1000/A", "biomarker": "MRD", "biomarker_category": "MRD", "outcome": "EFS",
     "outcome_category": "efficacy", "association": "supports", "comparator": "≥", "value": "1E-6", "unit": "",
     "quote": "MRD ≥ 10⁻⁶ predicted relapse"},
    {"study_id": "a-2021", "citation": "A et al. J 2021", "year": "2021", "design": "single-arm phase II trial",
     "n_patients": "40", "doi": "10.1000/a", "biomarker": "IL-6", "biomarker_category": "cytokines",
     "outcome": "severe CRS", "outcome_category": "toxicity", "association": "supports"},
    {"study_id": "b-2022", "citation": "B et al. K 2022", "year": "2022", "design": "multicenter retrospective cohort",
     "n_patients": "120", "biomarker": "MRD", "outcome": "OS", "outcome_category": "efficacy",
     "association": "no association"},
]


def write(path: Path, rows: list[dict[str, str]]) -> Path:
    columns = list(dict.fromkeys(k for r in rows for k in r))
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def count(engine: Engine, model: type) -> int:
    with session_scope(engine) as session:
        return int(session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one())


def test_good_sheet_imports_and_grades(engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path / "good.csv", GOOD)
    with session_scope(engine, write=True) as session:
        report = sheet.import_sheet(path, session=session, review_slug="mine")
    assert (report.studies_added, report.papers_added, report.findings_added, report.review_created) == (2, 2, 3, True)
    assert report.biomarkers_added == ["IL-6", "MRD"]
    with session_scope(engine) as session:
        review = queries.get_review("mine", session=session)
        grades = {m.biomarker: (m.score, m.level, m.grade_class, m.n_conflicting)
                  for m in queries.list_markers(review, session=session)}
        actions = set(session.execute(sa.select(AuditLog.table_name, AuditLog.action)).all())
    assert str(grades["MRD"][0]) == "1.000" and grades["MRD"][2:] == ("efficacy", 1)
    assert grades["IL-6"][2] == "toxicity"
    assert {("paper", "insert"), ("study", "insert"), ("biomarker", "insert"), ("finding", "import")} <= actions
    with session_scope(engine, write=True) as session:  # importing again stores nothing twice
        again = sheet.import_sheet(path, session=session, review_slug="mine")
    assert (again.findings_added, again.findings_present, again.studies_added) == (0, 3, 0)
    assert count(engine, Finding) == 3


BAD_ROWS = {  # bad-rows.csv: (row, column) → a word of the reason
    (1, "effect_measure"): None,  # a known column: no problem expected
    (3, "association"): "not one of",
    (4, "design"): "not a design of scheme",
    (5, "n_patients"): "greater than 0",
    (6, "doi"): "not a DOI",
    (6, "pmid"): "not a PubMed id",
    (7, "unit"): "unknown unit 'ng/mLL'",
    (8, "value"): "not a number",
    (9, "biomarker"): "unknown biomarker 'mystery marker'",
    (10, "n_patients"): "has 70 in row 2, 71 here",
    (11, "effect_measure"): "not one of",
}


def test_every_bad_row_column_and_reason_is_reported_and_nothing_written(engine: Engine) -> None:
    with pytest.raises(ImportValidationError) as info, session_scope(engine, write=True) as session:
        sheet.import_sheet(DATA / "bad-rows.csv", session=session, review_slug="mine")
    found = {(p.row, p.column): p.reason for p in info.value.problems}
    for place, word in BAD_ROWS.items():
        if word is None:
            assert place not in found
        else:
            assert word in found[place], (place, found.get(place))
    assert not any(row == 2 for row, _column in found)  # the good row is not blamed
    assert str(info.value).startswith("bad-rows.csv: row 3, column association") and "nothing was written" in str(
        info.value)
    with session_scope(engine) as session:
        assert queries.find_review("mine", session=session) is None
    assert (count(engine, Finding), count(engine, Study), count(engine, Paper)) == (0, 0, 0)


def test_cli_prints_every_bad_row_then_one_error_line(engine_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--db", engine_url, "import", str(DATA / "bad-rows.csv"))
    lines = err.strip().splitlines()
    assert code == 1 and out == "" and "Traceback" not in err
    assert lines[-1].startswith("error: bad-rows.csv: row 3, column association") and lines[-1].endswith(
        "nothing was written")
    assert "bad-rows.csv: row 7, column unit: unknown unit 'ng/mLL'" in lines[:-1][5]


@pytest.mark.parametrize("name", ["excel-utf8.csv", "excel-semicolon.csv"])
def test_spreadsheet_csv_variants_import_the_same_findings(engine: Engine, name: str) -> None:
    with session_scope(engine, write=True) as session:
        report = sheet.import_sheet(DATA / name, session=session, review_slug="mine")
    assert (report.rows, report.studies_added, report.findings_added) == (3, 2, 3)
    with session_scope(engine) as session:
        rows = {r["biomarker"]: r for r in sheet_rows.finding_rows(queries.get_review("mine", session=session),
                                                               session=session)}
    burden, ferritin, il6 = rows["tumour burden"], rows["ferritin"], rows["IL-6"]
    assert (burden["doi"], burden["pmid"], burden["year"]) == ("10.1200/jco.20.02477", "33539200", 2021)
    assert (burden["comparator"], burden["value"], burden["p_value"]) == (">=", Decimal(40), "NA")
    assert (ferritin["value"], ferritin["unit"], ferritin["norm_value"], ferritin["norm_unit"]) == (
        Decimal("2.5"), "mg/dL", Decimal(25000), "ng/mL")
    assert (il6["comparator"], il6["value"], il6["upper_value"], il6["norm_value"]) == (
        "range", Decimal(16), Decimal(100), Decimal("0.016"))


MALFORMED = [
    pytest.param("empty.csv", b"", "empty.csv: the file is empty", id="empty"),
    pytest.param("blank.csv", b"\r\n \r\n", "blank.csv: the file is empty", id="blank-lines"),
    pytest.param("header.csv", b"study_id,citation\n", "row 1, column year: required column is missing",
                 id="no-required-columns"),
    pytest.param("nul.csv", b"study_id,cit\x00ation\n", "binary data: a NUL byte at byte offset 12", id="nul-byte"),
    pytest.param("utf16.csv", b"\xff\xfe\x00\x01garbage\x00", "not a text file", id="utf16-garbage"),
    pytest.param("latin.csv", "study_id;año\n1;2\n".encode("latin-1"),
                 "not UTF-8 text: byte 0xf1 at byte offset 10 (line 1, column 11)", id="latin-1"),
    pytest.param("twice.csv", b"study_id,citation,study_id\na,b,c\n", "column 'study_id' appears twice",
                 id="duplicate-header"),
    pytest.param("ragged.csv", b"study_id,citation\na,b\nc,d,e,f\n", "Expected 2 fields in line 3, saw 4",
                 id="ragged-row"),
    pytest.param("sheet.xlsx", b"study_id,citation\n", "sheet.xlsx: not an XLSX workbook (not a zip archive)",
                 id="xlsx-not-zip"),
    pytest.param("old.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "legacy .xls or encrypted",
                 id="xlsx-legacy-xls"),
    pytest.param("zip.csv", b"PK\x03\x04" + b"\x00" * 40, "zip archive (an XLSX workbook?)", id="csv-is-zip"),
]


@pytest.mark.parametrize(("name", "content", "message"), MALFORMED)
def test_malformed_files_give_one_clear_error_and_write_nothing(engine: Engine, tmp_path: Path, name: str,
                                                                content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(EvidenceDBError) as info, session_scope(engine, write=True) as session:
        sheet.import_sheet(path, session=session)
    assert message in str(info.value) and name in str(info.value)
    assert count(engine, Finding) == 0 and count(engine, Study) == 0


def test_cp1252_sheet_names_the_byte_and_line(engine: Engine) -> None:
    with pytest.raises(EvidenceDBError, match=r"byte 0xb5 at byte offset \d+ \(line 3, column \d+\)"), \
            session_scope(engine, write=True) as session:
        sheet.import_sheet(DATA / "excel-cp1252.csv", session=session)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_megabytes_of_random_bytes_are_refused_through_the_cli(tmp_path: Path, suffix: str,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / f"noise{suffix}"
    path.write_bytes(random.Random(7).randbytes(3_000_000))
    assert run(capsys, "--db", str(tmp_path / "x.db"), "init", "--empty")[0] == 0
    code, out, err = run(capsys, "--db", str(tmp_path / "x.db"), "import", str(path))
    assert code == 1 and out == "" and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and err.startswith(f"error: {path}: not ")


def _workbook(path: Path, rows: list[list[object]], *, title: str = "Sheet1") -> Path:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = title
    for row in rows:
        ws.append(row)
    book.save(path)
    return path


def test_xlsx_numbers_come_back_as_typed(engine: Engine, tmp_path: Path) -> None:
    header = ["study_id", "citation", "year", "pmid", "design", "n_patients", "biomarker", "biomarker_category",
              "outcome", "outcome_category", "association", "comparator", "value", "unit", "p_value"]
    path = _workbook(tmp_path / "typed.xlsx", [
        header,
        ["a", "A 2021", 2021, 33539200, "single-arm phase II trial", 40, "ferritin", "biochemical", "CRS",
         "toxicity", "supports", ">", 0.5, "mg/dL", "NA"],
        [],  # a blank row keeps its place in the numbering
        ["a", "A 2021", 2021, 33539200, "single-arm phase II trial", 40, "IL-6", "cytokines", "CRS", "toxicity",
         "maybe", ">", 1e-06, "pg/mL", 0.01],
    ])
    table = tables.read_table(path)
    assert table.source == "typed.xlsx[Sheet1]" and table.numbers == (2, 4)
    first = dict(zip(table.columns, table.rows[0], strict=True))
    assert [first[c] for c in ("year", "pmid", "n_patients", "value", "p_value")] == [
        "2021", "33539200", "40", "0.5", "NA"]
    with pytest.raises(ImportValidationError) as info, session_scope(engine, write=True) as session:
        sheet.import_sheet(path, session=session)
    assert [(p.row, p.column) for p in info.value.problems] == [(4, "association")]
    assert str(info.value).startswith("typed.xlsx[Sheet1]: row 4, column association")
    assert count(engine, Finding) == 0


def test_xlsx_without_a_table_is_refused(engine: Engine, tmp_path: Path) -> None:
    empty = _workbook(tmp_path / "empty.xlsx", [])
    with pytest.raises(EvidenceDBError, match=r"empty.xlsx\[Sheet1\]: the sheet is empty"), \
            session_scope(engine, write=True) as session:
        sheet.import_sheet(empty, session=session)
    not_book = tmp_path / "zip.xlsx"
    with zipfile.ZipFile(not_book, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    with pytest.raises(EvidenceDBError, match=r"zip\.xlsx: not a readable XLSX workbook"), \
            session_scope(engine, write=True) as session:
        sheet.import_sheet(not_book, session=session)


def test_csv_template_has_every_column_notes_and_an_example_that_imports(engine: Engine, tmp_path: Path) -> None:
    written = tables.write_template(tmp_path / "t.csv")
    assert written == [tmp_path / "t.csv", tmp_path / "t.columns.txt"]
    table = tables.read_table(tmp_path / "t.csv")
    assert table.columns == columns.INPUT_COLUMNS and len(table.rows) == 1
    notes = (tmp_path / "t.columns.txt").read_text(encoding="utf-8")
    assert all(f"\n{c}" in notes for c in columns.INPUT_COLUMNS)
    assert "association (required)" in notes and "allowed: supports | no association" in notes
    with session_scope(engine, write=True) as session:
        report = sheet.import_sheet(tmp_path / "t.csv", session=session)
    assert (report.findings_added, report.studies_added) == (1, 1)


def test_xlsx_template_has_drop_downs_a_column_sheet_and_an_example_that_imports(engine: Engine,
                                                                                 tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    assert tables.write_template(path) == [path]
    book = load_workbook(path)
    assert book.sheetnames == ["findings", "columns", "lists"]
    ws = book["findings"]
    header = [c.value for c in ws[1]]
    assert tuple(header) == columns.INPUT_COLUMNS
    lists = book["lists"]
    offered = {}
    for rule in ws.data_validations.dataValidation:
        first, last = str(rule.sqref).split(":")
        letters = first.rstrip("0123456789")
        assert (first, last) == (f"{letters}2", f"{letters}1048576")
        ref = rule.formula1.split("!")[1].replace("$", "")
        offered[header[column_index_from_string(letters) - 1]] = [c.value for row in lists[ref] for c in row]
    assert offered["association"] == ["supports", "no association"]
    assert offered["outcome_category"] == ["efficacy", "toxicity"]
    assert "single-arm phase I/II trial" in offered["design"]
    assert {"comparator", "direction", "analysis", "status", "population", "centres"} <= offered.keys()
    described = {row[0]: row for row in book["columns"].iter_rows(min_row=2, values_only=True)}
    assert described.keys() == set(columns.INPUT_COLUMNS)
    assert (described["association"][1], described["association"][3]) == ("yes", "supports | no association")
    assert (described["quote"][1], described["year"][3]) == ("no", "whole number 1900-2200")
    with session_scope(engine, write=True) as session:
        report = sheet.import_sheet(path, session=session)
    assert (report.findings_added, report.source) == (1, "t.xlsx[findings]")


def test_template_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "template", str(tmp_path / "sheet.xlsx"))
    assert code == 0 and out.strip() == f"wrote {tmp_path / 'sheet.xlsx'}"
    code, out, _ = run(capsys, "template", str(tmp_path / "sheet.csv"))
    assert code == 0 and str(tmp_path / "sheet.columns.txt") in out
    code, out, err = run(capsys, "template", str(tmp_path / "sheet.txt"))
    assert code == 1 and err.strip() == "error: sheet.txt: templates are written as .csv or .xlsx"


def test_dry_run_shows_additions_and_changes_and_writes_nothing(engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path / "good.csv", GOOD)
    with session_scope(engine, write=True) as session:
        dry = sheet.import_sheet(path, session=session, review_slug="mine", dry_run=True)
    assert (dry.dry_run, dry.studies_added, dry.papers_added, dry.findings_added) == (True, 2, 2, 3)
    assert count(engine, Finding) == 0
    with session_scope(engine, write=True) as session:
        sheet.import_sheet(path, session=session, review_slug="mine")
    corrected = [dict(r) for r in GOOD]
    corrected[1]["association"] = "no association"
    corrected[1]["quote"] = "IL-6 did not predict severe CRS"
    path = write(tmp_path / "corrected.csv", corrected)
    with session_scope(engine, write=True) as session:
        dry = sheet.import_sheet(path, session=session, review_slug="mine", dry_run=True)
    assert (dry.findings_added, dry.findings_present, dry.findings_changed) == (0, 2, 1)
    change = dry.changes[0]
    assert (change.row, change.study, change.biomarker, change.outcome) == (3, "a-2021", "IL-6", "severe CRS")
    assert change.changes == (("association", "supports", "no association"),
                              ("quote", "", "IL-6 did not predict severe CRS"))
    assert "would change 1 findings" in dry.summary()
    with session_scope(engine) as session:
        grade = {m.biomarker: m.score for m in queries.list_markers(queries.get_review("mine", session=session),
                                                                      session=session)}
    assert grade["IL-6"] == Decimal(1)  # the dry run changed nothing
    with session_scope(engine, write=True) as session:
        done = sheet.import_sheet(path, session=session, review_slug="mine", actor="curator-b")
    assert done.findings_changed == 1 and count(engine, Finding) == 3
    with session_scope(engine) as session:
        grade = {m.biomarker: m.score for m in queries.list_markers(queries.get_review("mine", session=session),
                                                                      session=session)}
        audit = session.execute(sa.select(AuditLog).where(AuditLog.action == "update")).scalars().one()
    assert grade["IL-6"] == Decimal(0)
    assert (audit.actor, audit.table_name, audit.row_key) == ("curator-b", "finding", str(change.finding_id))
    assert json.loads(audit.old or "{}")["association"] == "supports"
    assert json.loads(audit.new or "{}")["association"] == "no association"


def test_cli_dry_run_lists_what_would_change(engine_url: str, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "--db", engine_url, "import", str(write(tmp_path / "good.csv", GOOD)), "--review", "mine")
    corrected = [dict(r) for r in GOOD]
    corrected[2]["direction"] = "worse"
    code, out, _ = run(capsys, "--db", engine_url, "import", str(write(tmp_path / "c.csv", corrected)), "-r", "mine",
                       "--dry-run")
    assert code == 0
    assert "would add 0 papers, 0 studies, 0 findings" in out and "would change 1 findings" in out
    assert "would change row 4: finding" in out and "(b-2022 × MRD × OS): direction: '' → 'worse'" in out


def test_conflicts_with_earlier_rows_and_stored_studies_are_refused(engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path / "good.csv", GOOD)
    with session_scope(engine, write=True) as session:
        sheet.import_sheet(path, session=session, review_slug="mine")
    rows = [dict(r) for r in GOOD]
    rows[2]["n_patients"] = "121"  # the stored study has 120
    rows.append({**GOOD[1], "association": "no association"})  # same finding as row 3, other value
    rows.append(dict(GOOD[0]))  # an identical repeat is only counted
    path = write(tmp_path / "conflict.csv", rows)
    with pytest.raises(ImportValidationError) as info, session_scope(engine, write=True) as session:
        sheet.import_sheet(path, session=session, review_slug="mine")
    found = {(p.row, p.column): p.reason for p in info.value.problems}
    assert set(found) == {(4, "n_patients"), (5, "association")}
    assert "stored with n_patients 120" in found[(4, "n_patients")]
    assert "the same finding as row 3" in found[(5, "association")]


def test_new_biomarker_categories_must_agree(engine: Engine, tmp_path: Path) -> None:
    rows = [dict(r) for r in GOOD]
    rows[2]["biomarker_category"] = "genetic"  # MRD is introduced as category MRD in row 2
    with pytest.raises(ImportValidationError) as info, session_scope(engine, write=True) as session:
        sheet.import_sheet(write(tmp_path / "cat.csv", rows), session=session)
    assert [(p.row, p.column) for p in info.value.problems] == [(4, "biomarker_category")]


def _grades(capsys: pytest.CaptureFixture[str], url: str) -> list[dict[str, object]]:
    code, out, err = run(capsys, "--db", url, "markers", "--review", "ke-zhou-2025", "--format", "json")
    assert code == 0, err
    return list(json.loads(out))  # every column of every grade


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_findings_then_import_into_an_empty_database_reproduces_the_grades(
        db_url: str, second_db_url: str, tmp_path: Path, suffix: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--db", db_url, "init")
    assert code == 0, err
    original = _grades(capsys, db_url)
    out = tmp_path / f"findings{suffix}"
    code, _, err = run(capsys, "--db", db_url, "export", "findings", str(out))
    assert code == 0, err
    copy = second_db_url
    code, _, err = run(capsys, "--db", copy, "init", "--empty")
    assert code == 0, err
    code, text, err = run(capsys, "--db", copy, "import", str(out), "--review", "ke-zhou-2025")
    assert code == 0, err
    assert _grades(capsys, copy) == original and len(original) > 20
    engines = [make_engine(db_url), make_engine(copy)]
    try:
        assert count(engines[0], Finding) == count(engines[1], Finding) == int(text.split(" rows;")[0].split()[-1])
        assert count(engines[0], Study) == count(engines[1], Study) == 33
    finally:
        for e in engines:
            e.dispose()


def test_thresholds_are_stored_as_written_and_absent_values_stay_null(engine: Engine, tmp_path: Path) -> None:
    values = ["0.5", "0.50", "2.5", "2.50", "40.0", "1E-7"]
    rows = [{**GOOD[1], "measure": f"measure {i}", "comparator": ">=", "value": v, "unit": "pg/mL"}
            for i, v in enumerate(values)]
    path = write(tmp_path / "thresholds.csv", rows)
    with session_scope(engine, write=True) as session:
        report = sheet.import_sheet(path, session=session, review_slug="mine")
    assert report.findings_added == len(values)
    with session_scope(engine) as session:
        stored = session.execute(sa.text("SELECT measure, threshold_value, norm_value, norm_unit, specimen, ci_low "
                                         "FROM finding ORDER BY measure")).all()
    assert [tuple(r) for r in stored] == [
        ("measure 0", "0.5", "0.0005", "ng/mL", None, None), ("measure 1", "0.50", "0.0005", "ng/mL", None, None),
        ("measure 2", "2.5", "0.0025", "ng/mL", None, None), ("measure 3", "2.50", "0.0025", "ng/mL", None, None),
        ("measure 4", "40", "0.04", "ng/mL", None, None), ("measure 5", "1E-7", "1E-10", "ng/mL", None, None)]


def test_bad_rows_among_thousands_are_each_reported_and_nothing_is_written(engine: Engine, tmp_path: Path) -> None:
    rows = [{**GOOD[1], "measure": f"measure {i}"} for i in range(6_001)]
    rows[17]["direction"] = "sideways"
    rows[5_500]["value"] = "2,5"
    rows[5_500]["comparator"] = ">"
    path = write(tmp_path / "many.csv", rows)
    with session_scope(engine, write=True) as session, pytest.raises(ImportValidationError) as caught:
        sheet.import_sheet(path, session=session, review_slug="mine")
    assert [(p.row, p.column) for p in caught.value.problems] == [(19, "direction"), (5_502, "value")]
    assert "'sideways' is not one of" in caught.value.problems[0].reason
    assert count(engine, Finding) == 0 and count(engine, Study) == 0


def test_an_import_leaves_the_sqlite_page_cache_as_it_was(engine: Engine, tmp_path: Path) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("a SQLite connection setting")
    path = write(tmp_path / "good.csv", GOOD)
    with session_scope(engine, write=True) as session:
        before = session.connection().exec_driver_sql("PRAGMA cache_size").scalar_one()
        sheet.import_sheet(path, session=session, review_slug="mine")
        after = session.connection().exec_driver_sql("PRAGMA cache_size").scalar_one()
    assert after == before and count(engine, Finding) == 3


def _index_sql(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                                         "AND tbl_name = 'finding' AND sql IS NOT NULL").all())


def test_a_large_load_builds_the_finding_indexes_after_it_exactly_as_before(
        engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("indexes are deferred on SQLite only")
    from evidencedb import bulk
    from evidencedb.io.sheet import write as sheet_write

    monkeypatch.setattr(bulk, "_DEFER_INDEXES_FROM", 2)
    before = _index_sql(engine)
    assert set(before) == {"ix_finding_biomarker_study", "ix_finding_study_id"}
    dropped: list[str] = []
    real_drop = sa.Index.drop

    def drop(index: sa.Index, *args: object, **kwargs: object) -> None:
        dropped.append(str(index.name))
        real_drop(index, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sa.Index, "drop", drop)
    with session_scope(engine, write=True) as session:
        sheet.import_sheet(write(tmp_path / "good.csv", GOOD), session=session, review_slug="mine")
    assert sorted(dropped) == sorted(before) and _index_sql(engine) == before
    with engine.connect() as conn:  # the rebuilt indexes hold every row
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"

    # A load that fails after the indexes were dropped rolls everything back, the indexes included.
    real_insert = sheet_write.insert_columns

    def fail(session: object, table: sa.Table, columns: object) -> None:
        if table.name == "finding":
            raise RuntimeError("disk on fire")
        real_insert(session, table, columns)  # type: ignore[arg-type]

    monkeypatch.setattr(sheet_write, "insert_columns", fail)
    more = [{**row, "study_id": f"c-{i}", "doi": "", "measure": "again"} for i, row in enumerate(GOOD * 2)]
    dropped.clear()
    with pytest.raises(RuntimeError), session_scope(engine, write=True) as session:
        sheet.import_sheet(write(tmp_path / "more.csv", more), session=session, review_slug="mine")
    assert sorted(dropped) == sorted(before)  # dropped, then restored by the rollback
    assert _index_sql(engine) == before and count(engine, Finding) == 3 and count(engine, Study) == 2


def test_a_load_into_a_larger_table_keeps_its_indexes(engine: Engine, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from evidencedb import bulk

    monkeypatch.setattr(bulk, "_DEFER_INDEXES_FROM", 1)
    with session_scope(engine, write=True) as session:
        sheet.import_sheet(write(tmp_path / "good.csv", GOOD), session=session, review_slug="mine")
    monkeypatch.setattr(sa.Index, "drop", lambda *_a, **_k: pytest.fail("dropped an index of a larger table"))
    one = [{**GOOD[2], "measure": "one more"}]
    with session_scope(engine, write=True) as session:
        assert sheet.import_sheet(write(tmp_path / "one.csv", one), session=session,
                                  review_slug="mine").findings_added == 1


def test_audit_rows_of_a_sheet_hold_each_added_row_as_json(engine: Engine, tmp_path: Path) -> None:
    with session_scope(engine, write=True) as session:
        sheet.import_sheet(write(tmp_path / "good.csv", GOOD), session=session, review_slug="mine", actor="ana")
    with session_scope(engine) as session:
        rows = session.execute(sa.select(AuditLog.table_name, AuditLog.row_key, AuditLog.new, AuditLog.actor)
                               .order_by(AuditLog.id)).all()
    by_key = {(table, key): json.loads(new) for table, key, new, actor in rows if actor == "ana"}
    assert by_key[("study", "b-2022")]["n_patients"] == 120
    assert by_key[("biomarker", "IL-6")]["category"] == "cytokines"
    assert by_key[("finding", "good.csv")]["findings_added"] == 3
    assert all(isinstance(new, str) for _t, _k, new, _a in rows)


@pytest.mark.parametrize(("field", "typed", "stored"), [
    ("association", "supports", "supports"), ("association", " Supports ", "supports"),
    ("association", "NO ASSOCIATION", "no association"), ("comparator", "≥", ">="), ("comparator", " => ", ">="),
    ("comparator", "RANGE", "range"), ("comparator", "", None), ("effect_measure", "hr", "HR"),
    ("status", "", "draft"), ("status", "Verified", "verified"), ("direction", None, None),
])
def test_allowed_values_are_taken_in_any_case_with_aliases_and_blanks(field: str, typed: str | None,
                                                                       stored: str | None) -> None:
    from evidencedb.schemas import FindingIn

    data = {"biomarker": "MRD", "outcome": "EFS", "outcome_category": "efficacy", "association": "supports"}
    data[field] = typed  # type: ignore[assignment]
    if field == "comparator" and stored == "range":
        data |= {"threshold_value": "1", "threshold_upper": "2"}
    assert getattr(FindingIn.model_validate(data), field) == stored


@pytest.mark.parametrize(("field", "typed", "reason"), [
    ("association", "maybe", "'maybe' is not one of: supports, no association"),
    ("outcome_category", "", "is required"), ("comparator", "about", "'about' is not one of"),
    ("threshold_value", "2,5", "not a number"), ("threshold_value", "NaN", "not a finite number"),
])
def test_values_outside_the_allowed_ones_name_the_field_and_reason(field: str, typed: str, reason: str) -> None:
    from pydantic import ValidationError as PydanticValidationError

    from evidencedb.schemas import FindingIn

    data = {"biomarker": "MRD", "outcome": "EFS", "outcome_category": "efficacy", "association": "supports",
            "comparator": ">", field: typed}
    with pytest.raises(PydanticValidationError) as caught:
        FindingIn.model_validate(data)
    [error] = caught.value.errors()
    assert error["loc"] == (field,) and reason in error["msg"]


def _scratch(tmp_path: Path) -> tuple[Engine, sa.Table]:
    from evidencedb.db import make_engine
    from evidencedb.models import DecimalText

    engine = make_engine(f"sqlite:///{tmp_path / 'scratch.db'}")
    table = sa.Table("scratch", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("label", sa.String(20), unique=True), sa.Column("value", DecimalText()),
                     sa.Column("note", sa.String(20)))
    table.metadata.create_all(engine)
    return engine, table


def test_a_large_insert_binds_its_next_statements_on_a_second_thread(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from evidencedb import bulk

    engine, table = _scratch(tmp_path)
    monkeypatch.setattr(bulk, "_PIPELINE_FROM", 2)
    threads: set[str] = set()
    real_bind = bulk._bind

    def bind(*args: object) -> object:
        threads.add(threading.current_thread().name)
        return real_bind(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(bulk, "_bind", bind)
    n = 1_001  # 20 statements of 50 rows (bound on the second thread), then one row alone
    values = [Decimal(f"{i}.50") for i in range(n)]
    with session_scope(engine, write=True) as session:
        bulk.insert_columns(session, table, {"label": [f"r{i}" for i in range(n)], "value": values,
                                             "note": [None] * (n - 1) + ["last"]})
    assert threads == {"evidencedb-bind", threading.current_thread().name}
    with engine.connect() as conn:
        rows = conn.execute(sa.select(table.c.label, table.c.value, table.c.note).order_by(table.c.id)).all()
    assert [(r.label, r.value) for r in rows] == [(f"r{i}", values[i]) for i in range(n)]
    assert str(rows[7].value) == "7.50" and rows[-1].note == "last" and rows[0].note is None


def test_a_failing_large_insert_raises_the_database_error_and_stops_its_binding_thread(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from evidencedb import bulk

    engine, table = _scratch(tmp_path)
    monkeypatch.setattr(bulk, "_PIPELINE_FROM", 2)
    labels = [f"r{i}" for i in range(2_000)]
    labels[1_500] = "r3"  # a duplicate in the fifth statement
    with pytest.raises(sa.exc.IntegrityError) as caught, session_scope(engine, write=True) as session:
        bulk.insert_columns(session, table, {"label": labels, "value": [Decimal(1)] * 2_000,
                                             "note": ["x"] * 2_000})
    # The thread has ended even while the error (and its traceback, holding the parameters) is kept.
    assert caught.value is not None and not any(t.name == "evidencedb-bind" for t in threading.enumerate())
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one() == 0

    def broken(*_args: object) -> object:
        raise ValueError("cannot bind")

    monkeypatch.setattr(bulk, "_bind", broken)
    with pytest.raises(ValueError, match="cannot bind"), session_scope(engine, write=True) as session:
        bulk.insert_columns(session, table, {"label": labels[:1_000], "value": [Decimal(1)] * 1_000,
                                             "note": ["x"] * 1_000})
    assert not any(t.name == "evidencedb-bind" for t in threading.enumerate())
