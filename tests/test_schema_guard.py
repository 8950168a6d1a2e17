"""A database the code does not know is never touched: newer schema, no schema, or no file at all."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from cli_run import run

from evidencedb import migrate, schema
from evidencedb.db import make_engine


def test_the_known_revisions_are_the_shipped_migrations() -> None:
    scripts = ScriptDirectory.from_config(migrate.alembic_config(make_engine("sqlite://")))
    shipped = [s.revision for s in scripts.walk_revisions()]
    assert tuple(reversed(shipped)) == schema.REVISIONS


def _set_revision(url: str, revision: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    engine.dispose()


def _count_audit(url: str) -> int:
    engine = make_engine(url)
    with engine.connect() as conn:
        n = int(conn.execute(sa.text("SELECT count(*) FROM audit_log")).scalar_one())
    engine.dispose()
    return n


@pytest.mark.parametrize("args", [
    ("markers",), ("grade",), ("studies",), ("review", "new", "x", "--title", "X"), ("init",),
    ("import", "SHEET"), ("scheme", "new", "y", "--design", "rct=1.0"),
], ids=" ".join)
def test_a_newer_schema_is_refused_in_one_line(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               args: tuple[str, ...]) -> None:
    assert run(capsys, "--db", db_url, "init", "--empty")[0] == 0
    sheet = tmp_path / "s.csv"
    sheet.write_text("study_id,citation,year,design,n_patients,biomarker,outcome,outcome_category,association\n"
                     "a,A 2020,2020,single-arm phase II trial,10,MRD,EFS,efficacy,supports\n", encoding="utf-8")
    _set_revision(db_url, "9999")
    before = _count_audit(db_url)
    code, _, err = run(capsys, "--db", db_url, *[str(sheet) if a == "SHEET" else a for a in args])
    assert code == 1 and err.count("\n") == 1 and err.startswith("error: "), err
    assert "schema 9999, newer than this evidencedb" in err and schema.HEAD in err
    assert _count_audit(db_url) == before


def test_an_older_or_missing_schema_says_how_to_migrate(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "--db", db_url, "init", "--empty")[0] == 0
    _set_revision(db_url, "0002")
    code, _, err = run(capsys, "--db", db_url, "markers")
    assert code == 1 and "older than this evidencedb's" in err and "`evidencedb init`" in err


def test_a_read_on_a_missing_file_creates_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "nothing-here.db"
    code, out, err = run(capsys, "--db", str(path), "markers")
    assert code == 1 and not out
    assert err == f"error: no database at {path}: `evidencedb init` (with the same --db) creates it\n"
    assert not path.exists() and not list(tmp_path.iterdir())


def test_a_file_without_the_schema_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "other.db"
    engine = make_engine(str(path))
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE notes (x INTEGER)"))
    engine.dispose()
    code, _, err = run(capsys, "--db", str(path), "reviews")
    assert code == 1 and "has no evidencedb schema yet: `evidencedb init` creates it" in err
