"""Extraction-sheet import: validate everything first, write all or nothing, round-trip with export."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from evidencedb import queries, seeds, sheet
from evidencedb.db import session_scope
from evidencedb.errors import EvidenceDBError, ImportValidationError
from evidencedb.models import Finding

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


def test_good_sheet_imports_and_grades(engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path / "good.csv", GOOD)
    with session_scope(engine, write=True) as session:
        report = sheet.import_sheet(path, session=session, review_slug="mine")
    assert (report.studies_added, report.findings_added, report.review_created) == (2, 3, True)
    assert report.biomarkers_added == ["IL-6", "MRD"]
    with session_scope(engine) as session:
        review = queries.get_review("mine", session=session)
        grades = {m.biomarker: (m.score, m.level, m.grade_class, m.n_conflicting)
                  for m in queries.list_markers(review, session=session)}
    assert str(grades["MRD"][0]) == "1.000" and grades["MRD"][2:] == ("efficacy", 1)
    assert grades["IL-6"][2] == "toxicity"
    with session_scope(engine, write=True) as session:  # importing again stores nothing twice
        again = sheet.import_sheet(path, session=session, review_slug="mine")
    assert (again.findings_added, again.findings_present) == (0, 3)


def test_every_bad_row_is_reported_and_nothing_written(engine: Engine, tmp_path: Path) -> None:
    bad = [dict(r) for r in GOOD]
    bad[0]["association"] = "maybe"
    bad[1]["design"] = "randomized controlled trial"
    bad[2]["n_patients"] = "-3"
    bad.append({**GOOD[2], "study_id": "c", "doi": "not-a-doi", "biomarker": "unknown thing"})
    path = write(tmp_path / "bad.csv", bad)
    with pytest.raises(ImportValidationError) as info, session_scope(engine, write=True) as session:
        sheet.import_sheet(path, session=session, review_slug="mine")
    found = {(p.row, p.column) for p in info.value.problems}
    assert {(2, "association"), (3, "design"), (4, "n_patients"), (5, "doi")} <= found
    assert "bad.csv" in str(info.value) and "nothing was written" in str(info.value)
    with session_scope(engine) as session:
        assert queries.find_review("mine", session=session) is None
        assert session.execute(sa.select(sa.func.count()).select_from(Finding)).scalar_one() == 0


@pytest.mark.parametrize(("content", "message"), [
    (b"", "empty"),
    (b"study_id,citation\n", "required column is missing"),
    (b"\xff\xfe\x00\x01garbage\x00", "not a text file"),
    ("study_id;año\n1;2\n".encode("latin-1"), "not UTF-8"),
])
def test_malformed_files(engine: Engine, tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "broken.csv"
    path.write_bytes(content)
    with pytest.raises(EvidenceDBError, match=message), session_scope(engine, write=True) as session:
        sheet.import_sheet(path, session=session)


def test_export_then_import_into_an_empty_database_gives_the_same_grades(engine: Engine, tmp_path: Path) -> None:
    with session_scope(engine, write=True) as session:
        seeds.load_seeds(session=session)
        review = queries.get_review(None, session=session)
        original = [(m.biomarker, m.score, m.level, m.n_studies, m.grade_class)
                    for m in queries.list_markers(review, session=session)]
        rows = list(sheet.finding_rows(review, session=session))
    out = tmp_path / "findings.csv"
    sheet.write_table(rows, out, sheet.COLUMNS)
    from evidencedb import migrate
    from evidencedb.db import make_engine

    other = make_engine(f"sqlite:///{tmp_path}/other.db")
    migrate.upgrade(other)
    with session_scope(other, write=True) as session:
        sheet.import_sheet(out, session=session, review_slug="ke-zhou-2025")
    with session_scope(other) as session:
        review = queries.get_review("ke-zhou-2025", session=session)
        copied = [(m.biomarker, m.score, m.level, m.n_studies, m.grade_class)
                  for m in queries.list_markers(review, session=session)]
    other.dispose()
    assert copied == original
    json_out = tmp_path / "findings.json"
    sheet.write_table(rows, json_out, sheet.COLUMNS)
    assert len(json.loads(json_out.read_text())) == len(rows)
