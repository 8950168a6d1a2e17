"""Hostile and huge input files are refused in one line, within seconds, before any parser loads them."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from cli_run import run

from evidencedb.io import limits

HEADER = "study_id,citation,year,design,n_patients,biomarker,outcome,outcome_category,association\n"


@pytest.fixture
def db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    url = str(tmp_path / "limits.db")
    assert run(capsys, "--db", url, "init", "--empty")[0] == 0
    assert run(capsys, "--db", url, "review", "new", "mine", "--title", "Mine")[0] == 0
    return url


def _refused(capsys: pytest.CaptureFixture[str], db: str, path: Path) -> str:
    code, out, err = run(capsys, "--db", db, "import", str(path), "-r", "mine")
    assert code == 1 and not out and err.count("\n") == 1 and err.startswith(f"error: {path}"), err
    return err


@pytest.mark.parametrize(("n", "reason"), [(100_000, f"more than the {limits.MAX_COLUMNS} a sheet may have"),
                                           (1_000_000, "line 1 is 8 MiB long")])
def test_a_header_of_many_columns(db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], n: int,
                                  reason: str) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"c{i}" for i in range(n)) + "\n1\n", encoding="utf-8")
    assert reason in _refused(capsys, db, path)


@pytest.mark.parametrize("suffix", [".csv", ".ris"])
def test_a_line_longer_than_the_limit(db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str
                                      ) -> None:
    path = tmp_path / f"long{suffix}"
    body = HEADER + "a," * (limits.MAX_LINE_BYTES // 2 + 10) + "\n" if suffix == ".csv" else \
        "TY  - JOUR\nTI  - " + "x" * (limits.MAX_LINE_BYTES + 10) + "\nER  - \n"
    path.write_text(body, encoding="utf-8")
    err = _refused(capsys, db, path)
    assert "line 2 is" in err and "more than the 4 MiB a line may hold" in err


def test_a_file_larger_than_the_limit(db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 1024 * 1024)
    path = tmp_path / "big.csv"
    path.write_text(HEADER + "a,A 2020,2020,single-arm phase II trial,10,MRD,EFS,efficacy,supports\n" * 20_000,
                    encoding="utf-8")
    assert "more than the 1 MiB an import reads" in _refused(capsys, db, path)


def test_a_workbook_that_unpacks_to_far_more_than_its_size(db: str, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as book:
        book.writestr("[Content_Types].xml", "<Types/>")
        book.writestr("xl/worksheets/sheet1.xml", " " * (40 * 1024 * 1024))
    assert path.stat().st_size < 1024 * 1024
    assert "times its size" in _refused(capsys, db, path)
