"""The active scoring scheme: design coefficients, level cut-offs and the content hash."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Footer, Header, Static

from tui.screens.base import EvidenceScreen
from tui.widgets.badge import level_badge


class SchemeScreen(EvidenceScreen):
    """Read-only view of the review's scheme (a new version is added with ``evidencedb scheme add``)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.switch_mode('markers')", "Back", id="scheme.back", tooltip="Back to the leaderboard"),
    ]

    def __init__(self) -> None:
        super().__init__(id="scheme")

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            yield Static("", id="scheme-heading")
            yield Static("Study-design coefficients", classes="section-title")
            yield DataTable(id="designs", cursor_type="row")
            yield Static("Levels (half-open intervals)", classes="section-title")
            yield DataTable(id="levels", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#designs", DataTable).add_columns("Design", "Coefficient")
        self.query_one("#levels", DataTable).add_columns("Level", "Score", "Meaning")
        self.query_one("#designs", DataTable).focus()

    def on_screen_resume(self) -> None:
        """(Re)load on every visit: the leaderboard may have switched the review meanwhile."""
        view = self.evidence_app.store.scheme(self.evidence_app.review)
        self.query_one("#scheme-heading", Static).update(
            f"[b]{view.label}[/b] · grades review {self.evidence_app.review}\n"
            f"sha256 {view.content_hash}")
        designs = self.query_one("#designs", DataTable)
        designs.clear()
        for design, coefficient in view.designs:
            designs.add_row(design, coefficient)
        levels = self.query_one("#levels", DataTable)
        levels.clear()
        for level, interval, meaning in view.levels:
            levels.add_row(level_badge(level), interval, meaning)
