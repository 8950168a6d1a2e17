"""Every key binding of the app and its screens, read from the classes themselves (so never stale).

The app hands the help screen its sections (where, and the bindings that apply there): this screen
knows no other screen and not the app.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

#: ``(where, the bindings that apply there)``, in the order the table lists them.
HelpSections = Sequence[tuple[str, Iterable[BindingType]]]


def binding_rows(sections: HelpSections) -> list[tuple[str, str, str, str]]:
    """``(where, key, action, what it does)`` for every binding of every section."""
    rows = []
    for where, bindings in sections:
        for b in bindings:
            if isinstance(b, Binding):
                keys = ", ".join(k.strip().replace("_", " ") for k in b.key.split(","))
                rows.append((where, keys, b.description, b.tooltip))
    return rows


class HelpScreen(ModalScreen[None]):
    """The bindings table; Ctrl+P opens the command palette with every action."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "app.pop_screen", "Close", id="help.close", tooltip="Close help"),
    ]

    def __init__(self, sections: HelpSections) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="help-dialog"):
            yield Static("Keys — Ctrl+P opens the command palette with every action; in a text field, "
                         "use the palette or Esc first.", classes="section-title")
            yield DataTable(id="help-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Where", "Key", "Action", "What it does")
        for row in binding_rows(self.sections):
            table.add_row(*row)
        table.focus()
