"""Steps of the TUI tests: wait for what the app is to show, never for a fixed time.

Each wait looks at the app's state every few milliseconds and fails, saying what it waited for, when
that does not come within ``WAIT_S`` seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from textual import events
from textual.css.query import NoMatches
from textual.keys import _character_to_key
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input, Select

from tui.modals.finding import FindingModal
from tui.screens.curate import CurateScreen
from tui.screens.markers import MarkersScreen
from tui.store import MarkerPage
from tui.widgets.form import FormField

ScreenT = TypeVar("ScreenT", bound=Screen[Any])

WAIT_S = 10.0  # the longest any one step may take before its test fails saying what it waited for


async def wait_for(pilot: Pilot[None], what: str, condition: Callable[[], object], timeout: float = WAIT_S) -> None:
    """Let the app run until ``condition()`` holds; fail saying what was awaited after ``timeout`` seconds.

    It looks every few milliseconds without making the app redraw (as ``Pilot.pause`` does); a widget
    the condition looks up that is not mounted yet counts as not there yet.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            if condition():
                return
        except NoMatches:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout:g} s for {what}")
        await asyncio.sleep(0.005)


async def idle(pilot: Pilot[None]) -> None:
    """Wait until the app has nothing left to do: before checking that something did *not* happen."""
    for _ in range(2):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()  # until the process is idle: the messages the workers' replies queued are handled


async def leaderboard(pilot: Pilot[None]) -> MarkersScreen:
    """The leaderboard once it shows a page of grades and its pickers."""
    app = pilot.app
    await wait_for(pilot, "the leaderboard with its grades and pickers",
                   lambda: isinstance(app.screen, MarkersScreen) and app.screen.page is not None
                   and len(app.screen.query(Select)) == 2)
    assert isinstance(app.screen, MarkersScreen)
    return app.screen


async def reloaded(pilot: Pilot[None], screen: MarkersScreen, before: MarkerPage | None, what: str) -> None:
    """Wait until the leaderboard holds another page than ``before``."""
    await wait_for(pilot, f"the leaderboard to reload ({what})", lambda: screen.page is not before)


def choices_checked(form: Screen[Any]) -> bool:
    """Whether a form has validated each of its choice fields holding a value (a choice reports its value
    once mounted, and when the form fills it), so that no validation is still to come."""
    seen = form.touched if isinstance(form, FindingModal) else form._checked  # type: ignore[attr-defined]
    return all(f.field_name in seen for f in form.query(FormField) if f.query(Select) and f.value)


async def curate_form(pilot: Pilot[None], label: str | None = None) -> CurateScreen:
    """The curation form on top once its designs and study (``label``) are loaded."""
    app = pilot.app

    def loaded() -> bool:
        form = app.screen
        return (isinstance(form, CurateScreen) and bool(form.designs) and form.label == label
                and not form.query_one("#curate-form").loading and choices_checked(form))

    await wait_for(pilot, f"the curation form of {label or 'a new paper'}", loaded)
    assert isinstance(app.screen, CurateScreen)
    return app.screen


async def on_top(pilot: Pilot[None], kind: type[ScreenT]) -> ScreenT:
    """The screen on top once it is a mounted ``kind`` (a finding dialog: with its choices checked)."""
    app = pilot.app
    await wait_for(pilot, f"a {kind.__name__}", lambda: isinstance(app.screen, kind) and app.screen.is_mounted
                   and (not isinstance(app.screen, FindingModal) or choices_checked(app.screen)))
    assert isinstance(app.screen, kind)
    return app.screen


async def type_keys(pilot: Pilot[None], widget: Input, text: str) -> None:
    """Type ``text`` into the focused ``widget`` key by key, as ``Pilot.press`` does, without its pause per key."""
    await wait_for(pilot, f"focus on #{widget.id}", lambda: widget.has_focus)
    start = widget.value
    for ch in text:
        key = ch if ch.isalnum() else _character_to_key(ch)
        pilot.app.post_message(events.Key(key, ch))
    await wait_for(pilot, f"{text!r} typed into #{widget.id}", lambda: widget.value == start + text)
