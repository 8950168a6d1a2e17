"""What the CLI prints for people: help without markup debris, tables that fit 80 columns, hints."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import typer
from cli_run import run

from evidencedb.cli.main import app

#: Text that only shows up when help or table rendering went wrong.
DEBRIS = ("``", "<bool>", "[/", "[bold", "evidencedb')", "n_conflicting", "n_studies")


def _command_paths() -> Iterator[tuple[str, ...]]:
    root = typer.main.get_command(app)

    def walk(command: object, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        yield path
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            yield from walk(sub, (*path, name))

    yield from walk(root, ())


COMMANDS = list(_command_paths())


def test_every_command_is_listed() -> None:
    names = {" ".join(p) for p in COMMANDS}
    assert {"init", "import", "export", "template", "markers", "marker", "studies", "grade", "papers", "prisma",
            "tui", "scheme list", "scheme show", "scheme add", "db upgrade", "db current"} <= names


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "evidencedb")
def test_help_renders_without_markup_debris(path: tuple[str, ...], capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    code, out, err = run(capsys, *path, "--help")
    assert code == 0 and not err
    assert out.startswith("Usage: evidencedb")
    assert not [d for d in DEBRIS if d in out], out
    assert all(len(line) <= 80 for line in out.splitlines()), out
    assert "..." not in out.split("Commands:")[-1] or not path, out  # command summaries are whole sentences


def test_tui_help_names_no_extra(capsys: pytest.CaptureFixture[str]) -> None:
    out = run(capsys, "tui", "--help")[1]
    assert "Open the curation terminal UI." in out and "pip install" not in out


def test_levels_are_case_insensitive(seeded_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    upper = run(capsys, "--db", seeded_db, "markers", "--min-level", "B", "--format", "json")
    lower = run(capsys, "--db", seeded_db, "markers", "--min-level", "b", "--format", "json")
    assert upper[0] == lower[0] == 0 and upper[1] == lower[1]
    assert {r["level"] for r in json.loads(lower[1])} == {"A+", "B"}
    assert run(capsys, "--db", seeded_db, "markers", "--min-level", "a+")[0] == 0


@pytest.mark.parametrize("args", [
    ("marker", "ferritin"),
    ("markers",),
    ("studies",),
    ("grade",),
    ("scheme", "show"),
], ids=" ".join)
def test_tables_fit_80_columns(seeded_db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                               args: tuple[str, ...]) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = run(capsys, "--db", seeded_db, *args)
    assert code == 0
    lines = out.splitlines()
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    assert not [d for d in DEBRIS if d in out]


def test_a_marker_at_80_columns_is_one_line_per_row_or_record(seeded_db: str, capsys: pytest.CaptureFixture[str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    out = run(capsys, "--db", seeded_db, "marker", "ferritin")[1]
    n_findings = len(json.loads(run(capsys, "--db", seeded_db, "marker", "ferritin", "--format", "json")[1])
                     ["findings"])
    # Before, a quote wrapped one word per line (~200 lines for ferritin); now each finding takes one
    # line, or one line per field when the table cannot fit.
    assert len(out.splitlines()) <= 20 + 11 * n_findings
    assert "score 1.4 → level C" in out


def test_long_text_is_cut_in_tables_and_whole_in_json(seeded_db: str, capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    table = run(capsys, "--db", seeded_db, "marker", "ferritin")[1]
    quotes = [f["quote"] for f in json.loads(run(capsys, "--db", seeded_db, "marker", "ferritin",
                                                 "--format", "json")[1])["findings"]]
    assert quotes and all(len(q) > 80 for q in quotes[:1])
    assert "…" in table and quotes[0] not in table


def test_an_empty_listing_is_one_line(seeded_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--db", seeded_db, "markers", "--min-level", "A+", "--class", "toxicity")
    assert code == 0 and out.strip().endswith(": none") and out.count("\n") == 1


def test_a_misspelt_marker_suggests_the_close_names(seeded_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--db", seeded_db, "marker", "ferittin")
    assert code == 1 and err == "error: no biomarker 'ferittin'; did you mean 'ferritin'?\n"
    code, _, err = run(capsys, "--db", seeded_db, "marker", "interleukin 6")  # close to a synonym
    assert code == 1 and "'IL-6'" in err
    code, _, err = run(capsys, "--db", seeded_db, "marker", "zzzz")
    assert code == 1 and "did you mean" not in err and err.count("\n") == 1


def test_a_marker_without_findings_in_the_review_says_so(seeded_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    from evidencedb import curation
    from evidencedb.db import make_engine, session_scope
    from evidencedb.schemas import BiomarkerIn

    engine = make_engine(seeded_db)
    with session_scope(engine, write=True) as session:
        curation.add_biomarker(BiomarkerIn(name="TMTV", category="tumour burden"), session=session)
    engine.dispose()
    code, out, err = run(capsys, "--db", seeded_db, "marker", "TMTV")
    assert code == 1 and not out
    assert err == "error: TMTV has no findings in review ke-zhou-2025; no review has findings on it yet\n"
