"""A handful of pinned screenshots at a fixed size (Textual and Rich are pinned in the ``tui`` extra).

Update after an intended change with ``pytest tests/test_tui_snapshots.py --snapshot-update`` and look
at the report before committing the new SVGs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from evidencedb import curation, migrate, seeds
from evidencedb.db import make_engine, session_scope
from evidencedb.resources import data_file
from evidencedb.scoring import Scheme
from tui.app import EvidenceApp
from tui.store import Store

SIZE = (120, 36)


@pytest.fixture
def app(tmp_path: Path) -> EvidenceApp:
    engine = make_engine(f"sqlite:///{tmp_path}/snap.db")
    migrate.upgrade(engine)
    with session_scope(engine, write=True) as session:
        curation.ensure_scheme(Scheme.from_file(data_file("ke-zhou-2025.json")), session=session)
        seeds.load_seeds(session=session)
    return EvidenceApp(Store(engine=engine))


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
