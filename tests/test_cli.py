"""The CLI as users meet it: JSON keys, idempotent init, and one-line errors (never a traceback)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cli_run import run

from evidencedb.cli.main import app


def test_init_twice_changes_nothing(seeded_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    before = run(capsys, "--db", seeded_db, "markers", "--format", "json")[1]
    code, out, _ = run(capsys, "--db", seeded_db, "init")
    assert code == 0 and "unchanged" in out and "already loaded" in out
    assert run(capsys, "--db", seeded_db, "markers", "--format", "json")[1] == before


def test_markers_json_keys_and_filters(seeded_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--db", seeded_db, "markers", "--min-level", "A", "--format", "json")
    rows = json.loads(out)
    assert code == 0 and rows
    assert {"biomarker", "score", "level", "n_studies", "class"} <= rows[0].keys()
    assert [r["biomarker"] for r in rows[:2]] == ["tumour burden", "MRD"]
    assert all(r["level"] in ("A+", "A") for r in rows)
    scores = [r["score"] for r in rows]
    assert scores == sorted(scores, reverse=True)
    code, out, _ = run(capsys, "--db", seeded_db, "markers", "--class", "toxicity", "--format", "csv")
    lines = out.strip().splitlines()
    assert lines[0].startswith("biomarker,") and all(line.endswith(",toxicity") for line in lines[1:])


def test_studies_json_keys(seeded_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    rows = json.loads(run(capsys, "--db", seeded_db, "studies", "--format", "json")[1])
    assert len(rows) == 33
    assert {"study_id", "doi", "year", "design", "n_patients"} <= rows[0].keys()


def test_marker_explains_ferritin(seeded_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--db", seeded_db, "marker", "Ferritin", "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["biomarker"] == "ferritin"
    thresholds = {(f["comparator"], f["value"], f["unit"]) for f in data["findings"]}
    assert (">=", 10000, "ng/ml") in {(c, v, u.lower()) for c, v, u in thresholds}
    assert data["contributions"] and all(c["coefficient"] > 0 for c in data["contributions"])
    assert any("10,000" in f["quote"] for f in data["findings"])
    code, out, _ = run(capsys, "--db", seeded_db, "marker", "minimal residual disease")
    assert code == 0 and "Contributing studies" in out


def test_grade_reports_nothing_changed_when_fresh(seeded_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--db", seeded_db, "grade", "--rebuild")
    assert code == 0 and "nothing changed" in out


def test_scheme_list_and_show(seeded_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert "ke-zhou-2025" in run(capsys, "--db", seeded_db, "scheme", "list")[1]
    data = json.loads(run(capsys, "--db", seeded_db, "scheme", "show", "ke-zhou-2025", "--format", "json")[1])
    assert data["designs"]["single-center retrospective cohort"] == "0.5" and len(data["content_hash"]) == 64


@pytest.mark.parametrize(("args", "message"), [
    (("marker", "no-such-marker"), "no biomarker 'no-such-marker'"),
    (("markers", "--review", "nope"), "no review 'nope'"),
    (("markers", "--min-level", "Z"), "no level 'Z'"),
    (("import", "/nonexistent/sheet.csv"), "no such file"),
    (("scheme", "show", "nope"), "no scoring scheme 'nope'"),
])
def test_errors_are_one_line(seeded_db: str, capsys: pytest.CaptureFixture[str], args: tuple[str, ...],
                             message: str) -> None:
    code, _, err = run(capsys, "--db", seeded_db, *args)
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err


def test_random_bytes_and_unusable_paths(tmp_path: Path, seeded_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "junk.csv"
    junk.write_bytes(os.urandom(300_000))
    code, _, err = run(capsys, "--db", seeded_db, "import", str(junk))
    assert code == 1 and err.count("\n") == 1 and "junk.csv" in err
    not_db = tmp_path / "not-a-db.db"
    not_db.write_bytes(os.urandom(5000))
    code, _, err = run(capsys, "--db", str(not_db), "markers")
    assert code == 1 and "not a SQLite database" in err
    code, _, err = run(capsys, "--db", str(tmp_path / "missing-dir" / "x.db"), "markers")
    assert code == 1 and "no such directory" in err
    code, _, err = run(capsys, "--db", str(tmp_path / "empty.db"), "markers")
    assert code == 1 and "no database at" in err and "init" in err and not (tmp_path / "empty.db").exists()


def test_every_command_has_help() -> None:
    from typer.main import get_command

    root = get_command(app)
    names = list(root.commands)  # type: ignore[attr-defined]
    expected = {"init", "markers", "marker", "studies", "grade", "import", "export", "scheme", "db", "template",
                "papers", "prisma", "tui"}
    assert expected <= set(names)
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        assert command.help, f"{name} has no help"


def test_real_process_never_prints_a_traceback(tmp_path: Path) -> None:
    env = {**os.environ, "EVIDENCEDB_URL": str(tmp_path / "absent" / "x.db")}
    proc = subprocess.run([sys.executable, "-m", "evidencedb.cli", "markers"], capture_output=True, text=True,
                          env=env, timeout=60)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and proc.stderr.startswith("error: ")


def test_a_command_runs_without_the_cyclic_collector_and_restores_it(seeded_db: str, capsys: pytest.CaptureFixture[str],
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    from evidencedb import queries

    seen: list[bool] = []
    list_markers = queries.list_markers

    def watching(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.isenabled())
        return list_markers(*args, **kwargs)

    monkeypatch.setattr(queries, "list_markers", watching)
    assert gc.isenabled()
    code, _out, _err = run(capsys, "--db", seeded_db, "markers", "--format", "json")
    assert code == 0 and seen == [False] and gc.isenabled()
    gc.disable()  # a caller that runs without the collector keeps it off
    try:
        assert run(capsys, "--db", seeded_db, "markers", "--format", "json")[0] == 0 and not gc.isenabled()
    finally:
        gc.enable()


def test_the_collector_pause_restores_either_state() -> None:
    import gc

    from evidencedb.collector import collector_paused

    for before in (True, False):
        gc.enable() if before else gc.disable()
        with collector_paused():
            assert not gc.isenabled()
            gc.enable()  # whatever the block does, the state before it comes back
        assert gc.isenabled() is before
    gc.enable()
