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
from textual.widgets import Input

from evidencedb.db import make_engine
from tui.app import EvidenceApp
from tui.store import Store

if TYPE_CHECKING:
    from conftest import SqliteDatabases

SIZE = (120, 36)


@pytest.fixture
def app(sqlite_databases: SqliteDatabases, tmp_path: Path) -> Iterator[EvidenceApp]:
    engine = make_engine(sqlite_databases.new("seeded", tmp_path / "snap.db"))
    yield EvidenceApp(Store(engine=engine))
    engine.dispose()


async def _settle(pilot: Pilot[None]) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def _leaderboard(pilot: Pilot[None]) -> None:
    await _settle(pilot)


async def _marker(pilot: Pilot[None]) -> None:
    await _settle(pilot)
    await pilot.press("down", "enter")
    await _settle(pilot)


async def _bad_doi(pilot: Pilot[None]) -> None:
    await _settle(pilot)
    await pilot.press("n")
    await _settle(pilot)
    field = pilot.app.screen.query_one("#input-doi", Input)
    field.insert_text_at_cursor("10.1/broken")
    field.blur()
    await _settle(pilot)


async def _scheme(pilot: Pilot[None]) -> None:
    await _settle(pilot)
    await pilot.press("c")
    await _settle(pilot)


async def _help(pilot: Pilot[None]) -> None:
    await _settle(pilot)
    await pilot.press("question_mark")
    await _settle(pilot)


@pytest.mark.parametrize("steps", [_leaderboard, _marker, _bad_doi, _scheme, _help],
                         ids=["leaderboard", "marker-detail", "curate-bad-doi", "scheme", "help"])
def test_snapshot(snap_compare: Callable[..., bool], app: EvidenceApp, steps: Callable[[Pilot[None]], Any]) -> None:
    assert snap_compare(app, terminal_size=SIZE, run_before=steps)
