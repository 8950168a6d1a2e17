"""Every key binding of the app and its screens, read from the classes themselves (so never stale)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static


def binding_rows() -> list[tuple[str, str, str, str]]:
    """``(where, key, action, what it does)`` for the app and every screen and dialog."""
    from tui.app import EvidenceApp
    from tui.modals.finding import FindingModal
    from tui.screens.curate import CurateScreen
    from tui.screens.marker import MarkerScreen
    from tui.screens.markers import MarkersScreen
    from tui.screens.scheme import SchemeScreen
    from tui.screens.studies import StudiesScreen

    rows = []
    for where, cls in (("everywhere", EvidenceApp), ("leaderboard", MarkersScreen), ("marker", MarkerScreen),
                       ("studies", StudiesScreen), ("curate", CurateScreen), ("finding", FindingModal),
                       ("scheme", SchemeScreen)):
        for b in cls.BINDINGS:
            if isinstance(b, Binding):
                keys = ", ".join(k.strip().replace("_", " ") for k in b.key.split(","))
                rows.append((where, keys, b.description, b.tooltip))
    return rows


class HelpScreen(ModalScreen[None]):
    """The bindings table; Ctrl+P opens the command palette with every action."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "app.pop_screen", "Close", id="help.close", tooltip="Close help"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="help-dialog"):
            yield Static("Keys — Ctrl+P opens the command palette with every action; in a text field, "
                         "use the palette or Esc first.", classes="section-title")
            yield DataTable(id="help-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Where", "Key", "Action", "What it does")
        for row in binding_rows():
            table.add_row(*row)
        table.focus()
