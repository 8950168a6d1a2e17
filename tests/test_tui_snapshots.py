"""A handful of pinned screenshots at a fixed size (Textual and Rich are pinned in the ``tui`` extra).

Update after an intended change with ``pytest tests/test_tui_snapshots.py --snapshot-update`` and look
at the report before committing the new SVGs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input
from tui_steps import curate_form, leaderboard, on_top, wait_for

from evidencedb.db import make_engine
from tui.app import EvidenceApp
from tui.screens.help import HelpScreen
from tui.screens.marker import MarkerScreen
from tui.screens.scheme import SchemeScreen
from tui.store import Store
from tui.widgets.form import FormField

if TYPE_CHECKING:
    from conftest import SqliteDatabases

SIZE = (120, 36)


@pytest.fixture
def app(sqlite_databases: SqliteDatabases, tmp_path: Path) -> Iterator[EvidenceApp]:
    engine = make_engine(sqlite_databases.new("seeded", tmp_path / "snap.db"))
    yield EvidenceApp(Store(engine=engine))
    engine.dispose()


async def _leaderboard(pilot: Pilot[None]) -> None:
    await leaderboard(pilot)


async def _marker(pilot: Pilot[None]) -> None:
    await leaderboard(pilot)
    await pilot.press("down", "enter")
    detail = await on_top(pilot, MarkerScreen)
    await wait_for(pilot, "the explanation of the marker", lambda: detail.explanation is not None)


async def _bad_doi(pilot: Pilot[None]) -> None:
    await leaderboard(pilot)
    await pilot.press("n")
    form = await curate_form(pilot)
    field = form.query_one("#input-doi", Input)
    await wait_for(pilot, "focus on the DOI", lambda: field.has_focus)
    field.insert_text_at_cursor("10.1/broken")
    field.blur()
    await wait_for(pilot, "the DOI marked", lambda: form.query_one("#field-doi", FormField).error)


async def _scheme(pilot: Pilot[None]) -> None:
    await leaderboard(pilot)
    await pilot.press("c")
    scheme = await on_top(pilot, SchemeScreen)
    await wait_for(pilot, "the levels of the scheme", lambda: scheme.query_one("#levels", DataTable).row_count)


async def _help(pilot: Pilot[None]) -> None:
    await leaderboard(pilot)
    await pilot.press("question_mark")
    help_screen = await on_top(pilot, HelpScreen)
    await wait_for(pilot, "the key bindings", lambda: help_screen.query_one("#help-table", DataTable).row_count)


@pytest.mark.parametrize("steps", [_leaderboard, _marker, _bad_doi, _scheme, _help],
                         ids=["leaderboard", "marker-detail", "curate-bad-doi", "scheme", "help"])
def test_snapshot(snap_compare: Callable[..., bool], app: EvidenceApp, steps: Callable[[Pilot[None]], Any]) -> None:
    assert snap_compare(app, terminal_size=SIZE, run_before=steps)
