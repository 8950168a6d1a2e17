"""Removing a study or a finding through the CLI: regraded at once, reported, and kept in the audit log."""

from __future__ import annotations

import json

import pytest
from cli_run import run


def _grade(capsys: pytest.CaptureFixture[str], db: str, name: str) -> dict[str, object]:
    return {m["biomarker"]: m for m in json.loads(run(capsys, "--db", db, "markers", "--format", "json")[1])}[name]


def test_removing_a_study_and_a_finding(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    db = ("--db", db_url)
    assert run(capsys, *db, "init")[0] == 0
    assert _grade(capsys, db_url, "ferritin")["score"] == 1.4
    code, out, err = run(capsys, *db, "study", "delete", "zhou-2022", "--curator", "ana")
    assert code == 0, err
    assert "study zhou-2022 removed from ke-zhou-2025" in out and "ferritin 1.4 C → 0.9 D" in out
    assert _grade(capsys, db_url, "ferritin")["score"] == 0.9
    assert "zhou-2022" not in {s["study_id"] for s in json.loads(run(capsys, *db, "studies", "--format",
                                                                     "json")[1])}

    il6 = json.loads(run(capsys, *db, "marker", "IL-6", "--format", "json")[1])
    supporting = [f for f in il6["findings"] if f["study"] == "ortiz-maldonado-2021" and f["association"] == "supports"]
    assert supporting and all(isinstance(f["finding_id"], int) for f in il6["findings"])
    code, out, err = run(capsys, *db, "finding", "delete", str(supporting[0]["finding_id"]), "--curator", "ana")
    assert code == 0 and "IL-6 1.7 C → 0.9 D" in out, out + err

    audit = json.loads(run(capsys, *db, "audit", "--actor", "ana", "--limit", "100", "--format", "json")[1])
    assert {(a["action"], a["table"]) for a in audit} == {("delete", "study"), ("delete", "finding")}
    removed_study = next(a for a in audit if a["table"] == "study")
    assert json.loads(removed_study["old"])["label"] == "zhou-2022" and removed_study["new"] is None
    assert len(json.loads(run(capsys, *db, "audit", "--table", "study", "--limit", "2", "--format", "json")[1])) == 2


@pytest.mark.parametrize(("args", "message"), [
    (("study", "delete", "nope"), "no study 'nope' in review ke-zhou-2025"),
    (("finding", "delete", "999999"), "no finding 999999"),
    (("audit", "--since", "last week"), "is not a date or time"),
])
def test_bad_corrections_are_one_line(seeded_db: str, capsys: pytest.CaptureFixture[str], args: tuple[str, ...],
                                      message: str) -> None:
    code, out, err = run(capsys, "--db", seeded_db, *args)
    assert code == 1 and not out and err.count("\n") == 1 and message in err
