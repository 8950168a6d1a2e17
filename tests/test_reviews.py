"""A reviewer's own review through the CLI, on both backends: create, edit, extend its scheme, delete."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from cli_run import run

from evidencedb.db import make_engine, session_scope
from evidencedb.models import AuditLog, Biomarker, Finding, Paper, Review, Screening, Study

ROWS = [
    {"study_id": "neelapu-2017", "citation": "Neelapu SS et al. N Engl J Med 2017", "year": "2017",
     "design": "single-arm phase II trial", "n_patients": "101", "doi": "10.1056/NEJMoa1707447",
     "biomarker": "CAR-T expansion", "biomarker_category": "expansion kinetics",
     "outcome": "ORR", "outcome_category": "efficacy", "association": "supports"},
    {"study_id": "locke-2022", "citation": "Locke FL et al. N Engl J Med 2022", "year": "2022",
     "design": "randomized controlled trial", "n_patients": "359", "doi": "10.1056/NEJMoa2116133",
     "biomarker": "CAR-T expansion", "biomarker_category": "expansion kinetics",
     "outcome": "EFS", "outcome_category": "efficacy", "association": "supports"},
]


def _sheet(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _count(url: str, model: type, *where: sa.ColumnElement[bool]) -> int:
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            return int(session.execute(sa.select(sa.func.count()).select_from(model).where(*where)).scalar_one())
    finally:
        engine.dispose()


@pytest.fixture
def empty_db(db_url: str, capsys: pytest.CaptureFixture[str]) -> str:
    code, _, err = run(capsys, "--db", db_url, "init", "--empty")
    assert code == 0, err
    return db_url


def test_a_review_from_creation_to_removal(empty_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = ("--db", empty_db)
    assert "no review yet" in run(capsys, *db, "reviews")[1]
    code, out, err = run(capsys, *db, "review", "new", "lbcl-2026", "--title", "CD19 CAR-T biomarkers in LBCL",
                         "--disease", "LBCL", "--population", "adults with R/R LBCL", "--intervention", "CD19 CAR-T",
                         "--outcomes", "ORR; EFS; CRS", "--databases", "PubMed; Embase", "--search-date",
                         "2023-01-31", "--reason", "not CAR-T", "--reason", "no biomarker", "--curator", "ana")
    assert code == 0 and "review lbcl-2026 created, graded with ke-zhou-2025@1" in out, err
    shown = json.loads(run(capsys, *db, "review", "show", "lbcl-2026", "--format", "json")[1])
    assert shown["disease"] == "LBCL" and shown["search_date"] == "2023-01-31"
    assert shown["reasons"] == ["not CAR-T", "no biomarker"] and shown["scheme"] == "ke-zhou-2025@1"
    assert shown["studies"] == 0

    # The scheme lacks a design the sheet uses: the import is refused, naming it.
    sheet = _sheet(tmp_path / "lbcl.csv", ROWS)
    code, _, err = run(capsys, *db, "import", str(sheet), "-r", "lbcl-2026")
    assert code == 1 and "randomized controlled trial" in err
    assert _count(empty_db, Study) == 0

    code, out, _ = run(capsys, *db, "scheme", "new", "ke-zhou-2025", "--design", "randomized controlled trial=1.0",
                       "--description", "ZUMA-7-like randomised trials weigh as a phase II trial.")
    assert code == 0 and "scheme ke-zhou-2025@2 stored" in out
    code, out, err = run(capsys, *db, "review", "edit", "lbcl-2026", "--scheme", "ke-zhou-2025@2",
                         "--comparator", "standard of care")
    assert code == 0, err
    assert "scheme: ke-zhou-2025@1 → ke-zhou-2025@2" in out and "comparator: (empty) → standard of care" in out
    code, out, err = run(capsys, *db, "import", str(sheet), "-r", "lbcl-2026")
    assert code == 0, err
    grades = json.loads(run(capsys, *db, "markers", "-r", "lbcl-2026", "--format", "json")[1])
    assert [(g["biomarker"], g["score"], g["level"], g["n_studies"]) for g in grades] == [
        ("CAR-T expansion", 2.0, "B", 2)]

    # Switching back is refused while a study has a design the old scheme lacks; nothing changes.
    code, _, err = run(capsys, *db, "review", "edit", "lbcl-2026", "--scheme", "ke-zhou-2025@1")
    assert code == 1 and "randomized controlled trial" in err and "locke-2022" in err
    assert json.loads(run(capsys, *db, "review", "show", "lbcl-2026", "--format", "json")[1])["scheme"] == \
        "ke-zhou-2025@2"

    code, _, err = run(capsys, *db, "review", "delete", "lbcl-2026")
    assert code == 1 and "has 2 studies" in err and "--force" in err and err.count("\n") == 1
    assert _count(empty_db, Study) == 2
    code, out, err = run(capsys, *db, "review", "delete", "lbcl-2026", "--force", "--curator", "ana")
    assert code == 0 and "removed with 2 studies, 2 findings" in out, err
    assert _count(empty_db, Review) == _count(empty_db, Study) == _count(empty_db, Finding) == 0
    assert _count(empty_db, Screening) == 0
    assert _count(empty_db, Paper) == 2 and _count(empty_db, Biomarker) >= 1  # papers and biomarkers stay
    deleted = {t: _count(empty_db, AuditLog, AuditLog.action == "delete", AuditLog.table_name == t)  # type: ignore[arg-type]
               for t in ("study", "finding", "review")}
    assert deleted == {"study": 2, "finding": 2, "review": 1}


@pytest.mark.parametrize(("args", "message"), [
    (("review", "new", "Bad Slug", "--title", "x"), "is not a review slug"),
    (("review", "new", "mine", "--title", ""), "title"),
    (("review", "new", "mine", "--title", "x", "--scheme", "ke-zhou-2025@9"), "no scoring scheme 'ke-zhou-2025@9'"),
    (("review", "new", "mine", "--title", "x", "--search-date", "31/01/2023"), "is not a date"),
    (("review", "new", "taken", "--title", "again"), "review 'taken' already exists"),
    (("review", "edit", "nope", "--title", "x"), "no review 'nope'"),
    (("review", "show", "nope"), "no review 'nope'"),
    (("review", "delete", "nope"), "no review 'nope'"),
    (("scheme", "new", "x", "--design", "rct"), "DESIGN=COEFFICIENT"),
    (("scheme", "new", "x"), "at least one --design"),
    (("scheme", "new", "x", "--design", "rct=1.2345"), "three"),
])
def test_bad_review_input_is_one_line_and_writes_nothing(empty_db: str, capsys: pytest.CaptureFixture[str],
                                                         args: tuple[str, ...], message: str) -> None:
    assert run(capsys, "--db", empty_db, "review", "new", "taken", "--title", "T")[0] == 0
    before = (_count(empty_db, Review), _count(empty_db, AuditLog))
    code, out, err = run(capsys, "--db", empty_db, *args)
    assert code == 1 and not out
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err, err
    assert (_count(empty_db, Review), _count(empty_db, AuditLog)) == before


def test_markers_under_a_scheme_without_grades_says_how_to_make_them(
        seeded_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "--db", seeded_db, "scheme", "new", "equal", "--design", "single-center retrospective cohort=1.0")
    code, _, err = run(capsys, "--db", seeded_db, "markers", "--scheme", "equal")
    assert code == 1 and "`evidencedb grade -r ke-zhou-2025 --scheme equal@1`" in err
    assert run(capsys, "--db", seeded_db, "grade", "--scheme", "equal")[0] == 0
    rows = json.loads(run(capsys, "--db", seeded_db, "markers", "--scheme", "equal", "--format", "json")[1])
    assert rows and rows[0]["biomarker"] == "tumour burden"


def test_the_tui_names_an_unknown_review_or_an_empty_database_in_one_line(
        empty_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--db", empty_db, "tui")
    assert code == 1 and not out and err.count("\n") == 1 and "`evidencedb review new SLUG --title TEXT`" in err
    run(capsys, "--db", empty_db, "review", "new", "mine", "--title", "Mine")
    code, out, err = run(capsys, "--db", empty_db, "tui", "--review", "missing")
    assert code == 1 and not out and err == (
        "error: no review 'missing' (reviews: mine; `evidencedb review new missing --title TEXT` creates it)\n")
