"""After a save: what was written and which grades moved ("MRD 5.8 A → 6.8 A+")."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from evidencedb.formatting import score_text
from evidencedb.grading import GradeChange
from tui.widgets.badge import level_badge


def change_text(change: GradeChange) -> Text:
    """``MRD 5.8 A → 6.8 A+`` with level badges; a new or vanished grade shows ``-``."""
    old = (Text.assemble(score_text(change.old_score), " ", level_badge(change.old_level))
           if change.old_score is not None else Text("-"))
    new = (Text.assemble(score_text(change.new_score), " ", level_badge(change.new_level))
           if change.new_score is not None else Text("-"))
    return Text.assemble((change.biomarker, "bold"), " ", old, " → ", new)


class ChangesModal(ModalScreen[None]):
    """Shows the outcome of one save or regrade."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter", "close", "Close", id="changes.close", tooltip="Close"),
    ]

    def __init__(self, title: str, changes: tuple[GradeChange, ...]) -> None:
        super().__init__(classes="modal")
        self.title_text = title
        self.changes = changes

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="changes-dialog"):
            yield Static(self.title_text, classes="section-title")
            if self.changes:
                yield Static(f"{len(self.changes)} grade(s) changed:")
                for change in self.changes:
                    yield Static(change_text(change), classes="grade-change")
            else:
                yield Static("No grade changed.", classes="grade-change")
            yield Button("Close", id="close", variant="primary")

    def on_mount(self) -> None:
        self.query_one(Button).focus()

    def on_button_pressed(self) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
