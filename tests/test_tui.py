"""The curation TUI driven by Pilot, against real databases: the whole curation flow, guards and errors.

Each test asserts on the database (through the core's queries) and on the screen.
"""

from __future__ import annotations

import asyncio
import gc
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import DataTable, Input, Select, Static
from tui_steps import curate_form, idle, leaderboard, on_top, reloaded, type_keys, wait_for

from evidencedb import queries
from evidencedb.db import session_scope
from evidencedb.drafts import FindingDraft, StudyDraft
from evidencedb.queries import StudyRow
from tui.app import EvidenceApp
from tui.modals.changes import ChangesModal
from tui.modals.confirm import ConfirmModal
from tui.modals.finding import FindingModal
from tui.modals.import_file import ImportModal
from tui.screens.curate import CurateScreen
from tui.screens.help import HelpScreen
from tui.screens.marker import MarkerScreen
from tui.screens.markers import MarkersScreen
from tui.screens.scheme import SchemeScreen
from tui.screens.studies import StudiesScreen
from tui.store import Store
from tui.widgets.form import FormField
from tui.widgets.page_table import PageTable

SIZE = (150, 45)
NEW_DOI = "10.5555/edb.test.2025.001"


def grade_of(engine: Engine, name: str) -> tuple[Decimal, str] | None:
    with session_scope(engine) as session:
        review = queries.get_review(None, session=session)
        for m in queries.list_markers(review, session=session):
            if m.biomarker == name:
                return m.score, m.level
    return None


# How often each form (by id) has validated itself: a field left or chosen is validated, which the
# helpers below wait for. Counted by the ``count_validations`` fixture.
VALIDATIONS: Counter[int] = Counter()


@pytest.fixture(autouse=True)
def count_validations(monkeypatch: pytest.MonkeyPatch) -> None:
    def counting(validate: Callable[..., bool]) -> Callable[..., bool]:
        def counted(form: Screen[Any], *args: Any, **kwargs: Any) -> bool:
            VALIDATIONS[id(form)] += 1
            return validate(form, *args, **kwargs)

        return counted

    VALIDATIONS.clear()
    monkeypatch.setattr(CurateScreen, "validate_form", counting(CurateScreen.validate_form))
    monkeypatch.setattr(FindingModal, "validate", counting(FindingModal.validate))


async def validated(pilot: Pilot[None], form: Screen[Any], before: int, field: str) -> None:
    """Wait until ``form`` has validated again (after ``before`` validations), as leaving ``field`` does."""
    await wait_for(pilot, f"the form to check {field}", lambda: VALIDATIONS[id(form)] > before)


async def type_into(pilot: Pilot[None], field: str, text: str, *, keys: bool = False) -> None:
    """Focus a form field, enter ``text`` (key by key with ``keys``), then leave it (which validates it)."""
    form = pilot.app.screen
    widget = form.query_one(f"#input-{field}", Input)
    widget.focus()
    widget.value = ""
    await wait_for(pilot, f"focus on {field}", lambda: widget.has_focus)
    if keys:
        await type_keys(pilot, widget, text)
    else:
        widget.insert_text_at_cursor(text)
    before = VALIDATIONS[id(form)]
    widget.blur()
    await validated(pilot, form, before, field)


async def choose(pilot: Pilot[None], field: str, value: str) -> None:
    """Pick ``value`` in a form's choice field (which validates it)."""
    form = pilot.app.screen
    select = form.query_one(f"#input-{field}", Select)
    assert select.value != value, f"{field} is {value!r} already: choosing it validates nothing"
    before = VALIDATIONS[id(form)]
    select.value = value
    await validated(pilot, form, before, field)


def notified(app: EvidenceApp, text: str) -> bool:
    """Whether a notification containing ``text`` is shown."""
    return any(text in n.message for n in app._notifications)


@pytest.fixture
async def app(seeded_engine: Engine) -> AsyncIterator[EvidenceApp]:
    application = EvidenceApp(Store(engine=seeded_engine), curator="tester")
    yield application


async def add_finding(pilot: Pilot[None], biomarker: str, outcome: str, category: str, association: str,
                      new_category: str | None = None, threshold: tuple[str, str, str] | None = None) -> None:
    form = pilot.app.screen
    assert isinstance(form, CurateScreen)
    before = len(form.findings)
    await pilot.press("ctrl+n")
    await on_top(pilot, FindingModal)
    assert isinstance(pilot.app.screen, FindingModal)
    await type_into(pilot, "biomarker", biomarker, keys=True)
    if new_category:
        assert pilot.app.screen.query_one("#field-new_category").display
        await choose(pilot, "new_category", new_category)
    await type_into(pilot, "outcome", outcome)
    await choose(pilot, "outcome_category", category)
    await choose(pilot, "association", association)
    if threshold:
        await choose(pilot, "comparator", threshold[0])
        await type_into(pilot, "threshold_value", threshold[1])
        await type_into(pilot, "unit", threshold[2])
    await pilot.press("ctrl+s")
    await wait_for(pilot, f"the finding of {biomarker} in the form",
                   lambda: pilot.app.screen is form and len(form.findings) == before + 1)
    assert isinstance(pilot.app.screen, CurateScreen)


async def test_leaderboard_filters_sorts_and_opens_a_marker(app: EvidenceApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        screen = await leaderboard(pilot)
        table = screen.query_one("#marker-table", PageTable)
        assert table.row_count == 27
        assert [str(c) for c in table.get_row_at(0)[:3]] == ["tumour burden", "tumour burden", "11.3"]
        search = screen.query_one("#marker-search", Input)
        await pilot.press("slash")
        await type_keys(pilot, search, "mrd")
        await wait_for(pilot, "the leaderboard filtered to 'mrd'", lambda: table.row_count == 1)
        assert [str(table.get_row_at(i)[0]) for i in range(table.row_count)] == ["MRD"]
        await pilot.press("enter")  # from the filter to the table
        await pilot.press("enter")  # open the marker
        detail = await on_top(pilot, MarkerScreen)
        await wait_for(pilot, "the explanation of MRD", lambda: detail.explanation is not None)
        assert isinstance(detail, MarkerScreen)
        assert detail.explanation is not None and detail.explanation.result.score == Decimal("6.0")
        contributions = detail.query_one("#contributions", DataTable)
        assert contributions.row_count == 7 + 1  # seven studies and the total row
        page = screen.page
        await pilot.press("escape")
        await reloaded(pilot, screen, page, "back from the marker")
        assert app.screen is screen
        page = screen.page
        search.value = ""
        await reloaded(pilot, screen, page, "filter cleared")
        page = screen.page
        await pilot.press("o")  # sort by name
        await reloaded(pilot, screen, page, "sorted by name")
        names = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert names == sorted(names, key=str.lower)
        assert screen.order == "biomarker"
        page = screen.page
        screen.query_one("#level-select", Select).value = "C"
        await reloaded(pilot, screen, page, "level C or stronger")
        assert table.row_count == 16  # A+ 2, B 1, C 13


async def test_curate_a_paper_end_to_end(app: EvidenceApp, seeded_engine: Engine) -> None:
    assert grade_of(seeded_engine, "MRD") == (Decimal("6.0"), "A+")
    async with app.run_test(size=SIZE) as pilot:
        await leaderboard(pilot)
        await pilot.press("n")
        form = await curate_form(pilot)
        assert isinstance(form, CurateScreen)
        await type_into(pilot, "doi", "https://doi.org/" + NEW_DOI.upper(), keys=True)
        await type_into(pilot, "title", "MRD before CAR-T infusion")
        await type_into(pilot, "authors", "Doe J, Roe R")
        await type_into(pilot, "journal", "Test J")
        await type_into(pilot, "year", "2025")
        await type_into(pilot, "label", "doe-2025")
        await choose(pilot, "design", "single-arm phase II trial")
        await type_into(pilot, "n_patients", "40")
        await add_finding(pilot, "minimal residual disease", "EFS", "efficacy", "supports",
                          threshold=(">=", "0.01", "%"))
        await add_finding(pilot, "IL-18", "severe CRS", "toxicity", "supports", new_category="cytokines")
        assert form.query_one("#finding-table", DataTable).row_count == 2
        await pilot.press("ctrl+s")
        changes = await on_top(pilot, ChangesModal)
        assert isinstance(app.screen, ChangesModal)
        shown = {(c.biomarker, c.old_score, c.new_score, c.new_level) for c in changes.changes}
        assert shown == {("MRD", Decimal("6.0"), Decimal("7.0"), "A+"), ("IL-18", None, Decimal("1.0"), "C")}
        await pilot.press("escape")
        assert await curate_form(pilot, "doe-2025") is form
        assert app.screen is form and not form.dirty and form.sub_title == "Edit study doe-2025"
    assert grade_of(seeded_engine, "MRD") == (Decimal("7.0"), "A+")
    assert grade_of(seeded_engine, "IL-18") == (Decimal("1.0"), "C")
    with session_scope(seeded_engine) as session:
        review = queries.get_review(None, session=session)
        record = queries.study_record(review, "doe-2025", session=session)
        assert record.paper.doi == NEW_DOI and record.study.n_patients == 40
        assert sorted(name for _, name in record.findings) == ["IL-18", "MRD"]
        mrd = next(f for f, name in record.findings if name == "MRD")
        assert mrd.threshold_value == Decimal("0.01") and mrd.comparator == ">=" and mrd.curator == "tester"


async def test_reopen_edit_and_cancel(app: EvidenceApp, seeded_engine: Engine) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await leaderboard(pilot)
        await pilot.press("s")  # studies
        studies = await on_top(pilot, StudiesScreen)
        await wait_for(pilot, "the list of studies", lambda: len(studies.rows) == 33)
        table = app.screen.query_one("#study-table", DataTable)
        # Key by key with a pause each: every key starts a load of the list on a thread.
        await pilot.press("slash", *"pulsipher", "enter")
        await wait_for(pilot, "the studies filtered to 'pulsipher'", lambda: table.row_count == 1)
        assert table.row_count == 1
        await pilot.press("enter")
        form = await curate_form(pilot, "pulsipher-2022")
        assert isinstance(form, CurateScreen) and form.label == "pulsipher-2022"
        findings = form.query_one("#finding-table", DataTable)
        mrd_row = next(i for i in range(findings.row_count) if findings.get_row_at(i)[0] == "MRD")
        findings.focus()
        findings.move_cursor(row=mrd_row)
        stored = form.findings[mrd_row]
        await pilot.press("ctrl+e")
        await on_top(pilot, FindingModal)
        assert isinstance(app.screen, FindingModal)
        await choose(pilot, "association", "no association")
        await pilot.press("ctrl+s")
        await wait_for(pilot, "the edited finding in the form",
                       lambda: app.screen is form and form.findings[mrd_row] is not stored)
        assert form.dirty
        await pilot.press("ctrl+s")
        changes = await on_top(pilot, ChangesModal)
        assert isinstance(app.screen, ChangesModal)
        assert [(c.biomarker, c.new_score) for c in changes.changes] == [("MRD", Decimal("5.0"))]
        await pilot.press("escape")
        await curate_form(pilot, "pulsipher-2022")
        # Cancel an edit: change the title, leave, keep editing, leave again and discard.
        stored_title = form.query_one("#field-title", FormField).value
        await type_into(pilot, "title", "A different title")
        assert form.dirty
        await pilot.press("escape")
        await on_top(pilot, ConfirmModal)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("n")
        await wait_for(pilot, "the form back on top", lambda: app.screen is form)
        assert app.screen is form and form.query_one("#field-title", FormField).value == "A different title"
        await pilot.press("escape")
        await on_top(pilot, ConfirmModal)
        await pilot.press("y")
        await wait_for(pilot, "the form closed", lambda: not isinstance(app.screen, CurateScreen | ConfirmModal))
        assert not isinstance(app.screen, CurateScreen)
    assert grade_of(seeded_engine, "MRD") == (Decimal("5.0"), "A")
    with session_scope(seeded_engine) as session:
        review = queries.get_review(None, session=session)
        assert queries.study_record(review, "pulsipher-2022", session=session).paper.title == stored_title


async def test_bad_input_is_marked_and_save_refused(app: EvidenceApp, seeded_engine: Engine) -> None:
    with session_scope(seeded_engine) as session:
        before = len(queries.list_studies(queries.get_review(None, session=session), session=session))
    async with app.run_test(size=SIZE) as pilot:
        await leaderboard(pilot)
        await pilot.press("n")
        form = await curate_form(pilot)
        await type_into(pilot, "doi", "not-a-doi")
        assert "is not a DOI" in form.query_one("#field-doi", FormField).error
        await type_into(pilot, "title", "Something")
        await type_into(pilot, "label", "bad-2025")
        await type_into(pilot, "n_patients", "-3")
        await pilot.press("ctrl+s")
        await wait_for(pilot, "the refusal to save", lambda: notified(app, "Not saved"))
        assert isinstance(app.screen, CurateScreen)
        assert form.query_one("#field-n_patients", FormField).error
        assert "required" in form.query_one("#field-design", FormField).error.lower() or \
            form.query_one("#field-design", FormField).error
        # A finding with a threshold value but no comparator is refused inside the dialog too.
        await pilot.press("ctrl+n")
        await on_top(pilot, FindingModal)
        await type_into(pilot, "biomarker", "ferritin")
        await type_into(pilot, "outcome", "CRS")
        await choose(pilot, "outcome_category", "toxicity")
        await choose(pilot, "association", "supports")
        await type_into(pilot, "threshold_value", "10000")
        await pilot.press("ctrl+s")
        await wait_for(pilot, "the refusal to keep the finding", lambda: notified(app, "Fix the marked fields"))
        assert isinstance(app.screen, FindingModal)
        assert "comparator" in app.screen.query_one("#finding-note").render().plain  # type: ignore[attr-defined]
        await pilot.press("escape")
        await wait_for(pilot, "the form back on top", lambda: app.screen is form)
        assert form.findings == []
    with session_scope(seeded_engine) as session:
        assert len(queries.list_studies(queries.get_review(None, session=session), session=session)) == before


def study_with_doi(engine: Engine) -> StudyRow:
    """A seeded study whose paper has a DOI."""
    with session_scope(engine) as session:
        review = queries.get_review(None, session=session)
        return next(s for s in queries.list_studies(review, session=session) if s.doi)


async def test_existing_doi_offers_the_stored_study(app: EvidenceApp, seeded_engine: Engine) -> None:
    known = study_with_doi(seeded_engine)
    async with app.run_test(size=SIZE) as pilot:
        await leaderboard(pilot)
        await pilot.press("n")
        await curate_form(pilot)
        await type_into(pilot, "doi", known.doi.upper())
        await on_top(pilot, ConfirmModal)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await curate_form(pilot, known.study_id)
        assert isinstance(app.screen, CurateScreen) and app.screen.label == known.study_id
        assert app.screen.query_one("#field-doi", FormField).value == known.doi


async def test_enter_in_the_doi_field_asks_once(app: EvidenceApp, seeded_engine: Engine) -> None:
    known = study_with_doi(seeded_engine)
    async with app.run_test(size=SIZE) as pilot:
        await leaderboard(pilot)
        await pilot.press("n")
        await curate_form(pilot)
        field = app.screen.query_one("#input-doi", Input)
        field.focus()
        field.insert_text_at_cursor(known.doi)
        await pilot.press("enter")
        await on_top(pilot, ConfirmModal)
        await idle(pilot)  # no second question follows
        assert [type(s).__name__ for s in app.screen_stack][-2:] == ["CurateScreen", "ConfirmModal"]


async def test_escape_from_studies_and_scheme_returns_to_the_leaderboard(app: EvidenceApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        screen = await leaderboard(pilot)
        for key, kind in (("s", StudiesScreen), ("c", SchemeScreen)):
            await pilot.press(key)
            await on_top(pilot, kind)
            assert not isinstance(app.screen, MarkersScreen)
            page = screen.page
            await pilot.press("escape")
            await reloaded(pilot, screen, page, f"back from {kind.__name__}")
            assert app.is_running and isinstance(app.screen, MarkersScreen)


def test_a_removed_finding_never_creates_its_new_biomarker(seeded_engine: Engine) -> None:
    store = Store(engine=seeded_engine)
    draft = store.load_study(store.default_review(), "pulsipher-2022")
    first = draft.findings[0]
    removed = FindingDraft(values=first.values | {"biomarker": "IL-99"}, finding_id=first.finding_id,
                           deleted=True, new_category="cytokines", original=first.original)
    result = store.save(store.default_review(), replace(draft, findings=(removed,)))
    assert result.deleted == 1
    with session_scope(seeded_engine) as session:
        assert queries.find_biomarker("IL-99", session=session) is None


def test_a_study_saved_through_the_store_is_counted_included_by_prisma(seeded_engine: Engine) -> None:
    from evidencedb.prisma import prisma_counts

    store = Store(engine=seeded_engine)
    draft = StudyDraft(paper={"doi": NEW_DOI, "title": "MRD before CAR-T infusion", "year": "2025"},
                       study={"label": "doe-2025", "design": "single-arm phase II trial", "n_patients": "40"},
                       findings=(FindingDraft({"biomarker": "MRD", "outcome": "EFS", "outcome_category": "efficacy",
                                               "association": "supports"}),))
    assert store.save(store.default_review(), draft, actor="tester").added == 1
    with session_scope(seeded_engine) as session:
        review = queries.get_review(None, session=session)
        listed = queries.list_studies(review, session=session)
        assert len(listed) == 34 and prisma_counts(review, session=session).included == len(listed)


def test_the_forms_are_derived_from_the_core_field_lists() -> None:
    from evidencedb import drafts
    from evidencedb.io.sheet.columns import column_spec
    from tui.modals.finding import FIELDS, LABELS
    from tui.screens.curate import PAPER_FORM, PAPER_LABELS, STUDY_FORM, STUDY_LABELS

    assert [f[0] for f in PAPER_FORM] == list(drafts.PAPER_FIELDS)
    assert [f[0] for f in STUDY_FORM] == list(drafts.STUDY_FIELDS)
    assert [f[0] for f in FIELDS if f[0] != "new_category"] == list(drafts.FINDING_FIELDS)
    for form, labels in ((PAPER_FORM, PAPER_LABELS), (STUDY_FORM, STUDY_LABELS), (FIELDS, LABELS)):
        assert {f[0] for f in form} == set(labels)  # the wording covers every field, and nothing else
    required = {f[0] for f in (*PAPER_FORM, *STUDY_FORM, *FIELDS) if f[3]}
    assert required == {"title", "label", "design", "biomarker", "outcome", "outcome_category", "association"}
    pickers = {f[0]: f[2] for f in (*PAPER_FORM, *STUDY_FORM, *FIELDS) if f[2] is not None}
    assert set(pickers) == {"design", "centres", "prospective", "population", "new_category", "comparator",
                            "outcome_category", "direction", "association", "effect_measure", "analysis", "status"}
    for name, choices in pickers.items():
        spec = column_spec("biomarker_category" if name == "new_category" else name)
        assert spec is not None and choices == spec.allowed, name  # the sheet's drop-downs (design: the scheme's)


async def test_a_locked_database_is_a_notification_and_nothing_is_written(
        seeded_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    if seeded_engine.dialect.name != "sqlite":
        pytest.skip("the write lock is SQLite's")
    monkeypatch.setattr("evidencedb.db.BUSY_TIMEOUT_MS", 50)
    app = EvidenceApp(Store(str(seeded_engine.url)), curator="tester")
    async with app.run_test(size=SIZE) as pilot:
        await leaderboard(pilot)
        await pilot.press("n")
        form = await curate_form(pilot)
        await type_into(pilot, "title", "Locked out")
        await type_into(pilot, "label", "locked-2025")
        await choose(pilot, "design", "single-arm phase I trial")
        blocker = sqlite3.connect(str(seeded_engine.url.database), isolation_level=None)
        try:
            blocker.execute("BEGIN IMMEDIATE")  # another writer holds the lock
            await pilot.press("ctrl+s")
            await wait_for(pilot, "the save to fail", lambda: not form.saving and any(
                n.severity == "error" for n in app._notifications))
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        assert isinstance(app.screen, CurateScreen) and app.screen.dirty
        messages = [n.message for n in app._notifications]
        errors = {f.field_name: f.error for f in app.screen.query(FormField) if f.error}
        assert any("locked" in m for m in messages), (messages, errors)
        assert app.screen.query_one("#field-label", FormField).value == "locked-2025"
    with session_scope(seeded_engine) as session:
        review = queries.get_review(None, session=session)
        assert queries.find_study(review.id, "locked-2025", session=session) is None


async def test_palette_runs_a_regrade_in_a_worker(app: EvidenceApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await leaderboard(pilot)
        await pilot.press("ctrl+p")
        palette = await on_top(pilot, CommandPalette)
        await type_keys(pilot, palette.query_one(Input), "Regrade review")
        commands = palette.query_one(CommandList)

        def regrade_highlighted() -> bool:
            index = commands.highlighted
            return index is not None and "Regrade review" in str(commands.get_option_at_index(index).prompt)

        await wait_for(pilot, "the palette to offer 'Regrade review'", regrade_highlighted)
        await pilot.press("enter")
        await on_top(pilot, ChangesModal)
        assert isinstance(app.screen, ChangesModal)
        assert app.screen.title_text == "Regraded ke-zhou-2025" and app.screen.changes == ()


async def test_help_lists_every_screens_bindings(app: EvidenceApp) -> None:
    from tui.screens.help import binding_rows

    async with app.run_test(size=SIZE) as pilot:
        await leaderboard(pilot)
        await pilot.press("question_mark")
        help_screen = await on_top(pilot, HelpScreen)
        table = help_screen.query_one("#help-table", DataTable)
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        assert rows == [list(r) for r in binding_rows(app.help_sections())]
        assert ["curate", "ctrl+s", "Save", "Validate and save everything in one transaction"] in rows
        assert {r[0] for r in rows} >= {"everywhere", "leaderboard", "marker", "studies", "curate", "finding"}


async def test_import_a_sheet_from_the_tui(app: EvidenceApp, seeded_engine: Engine, tmp_path: Path) -> None:
    sheet = tmp_path / "new.csv"
    sheet.write_text(
        "study_id,citation,year,design,n_patients,biomarker,outcome,outcome_category,association\n"
        "roe-2026,Roe R et al. Test J 2026,2026,single-arm phase II trial,20,ferritin,CRS,toxicity,supports\n",
        encoding="utf-8")
    before = grade_of(seeded_engine, "ferritin")
    async with app.run_test(size=SIZE) as pilot:
        await leaderboard(pilot)
        await pilot.press("i")
        dialog = await on_top(pilot, ImportModal)
        dialog.query_one("#import-path", Input).value = str(sheet)
        await pilot.press("enter")
        await wait_for(pilot, "the outcome of the import",
                       lambda: str(dialog.query_one("#import-result", Static).content) not in ("", "Working…"))
        result = str(app.screen.query_one("#import-result").render())
        expected = "new.csv: 1 rows; added 1 papers, 1 studies, 1 findings, 0 biomarkers → review ke-zhou-2025"
        assert expected in result, result
    assert before is not None and grade_of(seeded_engine, "ferritin") == (before[0] + 1, "B")


def test_tui_command_on_an_uninitialised_database_is_one_line(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    from evidencedb.cli.main import main

    with pytest.raises(SystemExit) as exc:
        main(["--db", str(tmp_path / "empty.db"), "tui"])
    err = capsys.readouterr().err
    assert exc.value.code == 1 and err.count("\n") == 1 and "evidencedb init" in err
    assert gc.isenabled()  # the command turns the collector off for its start-up only


def test_the_command_runs_its_start_up_without_the_cyclic_collector(seeded_engine: Engine, seeded_url: str,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    if seeded_engine.dialect.name != "sqlite":
        pytest.skip("one backend is enough for the process's start-up")
    from textual.app import App

    from evidencedb.cli.main import main

    seen: dict[str, object] = {}

    async def watch(pilot: Pilot[None]) -> None:
        seen["while starting"] = gc.isenabled()
        await leaderboard(pilot)
        await wait_for(pilot, "the collector back on after the first screen", gc.isenabled)
        seen["after the first screen"] = gc.isenabled()
        seen["pickers"] = len(pilot.app.screen.query(Select))
        pilot.app.exit()

    app_run = App.run
    monkeypatch.setattr(App, "run", lambda self, **_kw: app_run(self, headless=True, size=SIZE, auto_pilot=watch))
    with pytest.raises(SystemExit) as exc:
        main(["--db", seeded_url, "tui"])
    assert exc.value.code in (0, None)
    assert seen == {"while starting": False, "after the first screen": True, "pickers": 2}
    assert gc.isenabled()


async def test_the_leaderboard_draws_its_rows_before_the_pickers(seeded_engine: Engine,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    pickers_at_first_row: list[int] = []
    render_line = PageTable.render_line

    def watching_render_line(table: PageTable, y: int) -> object:
        if 1 <= y <= table.row_count and not pickers_at_first_row:
            pickers_at_first_row.append(len(table.screen.query(Select)))
        return render_line(table, y)

    monkeypatch.setattr(PageTable, "render_line", watching_render_line)
    app = EvidenceApp(Store(engine=seeded_engine))
    async with app.run_test(size=SIZE) as pilot:
        screen = await leaderboard(pilot)
        await wait_for(pilot, "a frame with rows of grades", lambda: pickers_at_first_row)
        assert pickers_at_first_row == [0]  # the first frame with grades came before the pickers
        assert screen.query_one("#review-select", Select).value == app.review
        level = screen.query_one("#level-select", Select)
        page = screen.page
        level.value = "A"  # the level picker came with the scheme's levels
        await reloaded(pilot, screen, page, "level A or stronger")
        assert screen.query_one("#marker-status", Static).content.startswith("1–2 of 2")  # type: ignore[union-attr]


async def test_a_lost_postgresql_connection_is_a_notification(seeded_engine: Engine) -> None:
    if seeded_engine.dialect.name != "postgresql":
        pytest.skip("needs a PostgreSQL server")
    app = EvidenceApp(Store(engine=seeded_engine))
    async with app.run_test(size=SIZE) as pilot:
        screen = await leaderboard(pilot)
        table = screen.query_one("#marker-table", PageTable)
        assert table.row_count == 27
        admin = sa.create_engine(seeded_engine.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:  # the server drops every other connection to this database
            others = ("FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
                      "AND backend_type = 'client backend'")
            conn.exec_driver_sql(f"SELECT pg_terminate_backend(pid) {others}")
            for _ in range(500):  # termination is a signal: wait until those backends have exited
                if not conn.exec_driver_sql(f"SELECT count(*) {others}").scalar_one():
                    break
                await asyncio.sleep(0.01)
            else:
                pytest.fail("the terminated backends did not exit")
        admin.dispose()
        page = screen.page
        await pilot.press("r")
        await wait_for(pilot, "the failed reload", lambda: any(n.severity == "error" for n in app._notifications))
        assert app.is_running and any(n.severity == "error" for n in app._notifications)
        await pilot.press("r")  # the pool has dropped the dead connection; the next read reconnects
        await reloaded(pilot, screen, page, "after reconnecting")
        assert table.row_count == 27
