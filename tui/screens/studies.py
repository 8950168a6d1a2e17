"""Included studies of the review: filter, open one to edit, or add a paper."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Header, Input, Static

from evidencedb.queries import StudyRow
from tui.screens.base import EvidenceScreen


class StudiesScreen(EvidenceScreen):
    """Study list with a filter (label or title). Enter edits a study; ``a`` adds a paper."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.switch_mode('markers')", "Back", id="studies.back",
                tooltip="Back to the leaderboard"),
        Binding("slash", "focus_filter", "Filter", id="studies.filter", tooltip="Filter by label or title"),
        Binding("a", "app.curate", "Add paper", id="studies.add", tooltip="Curate a new paper"),
    ]

    def __init__(self) -> None:
        super().__init__(id="studies")
        self.rows: list[StudyRow] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="Filter studies by label or title…", id="study-search")
        table: DataTable[object] = DataTable(id="study-table", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static("", id="study-status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("Study", "Year", "Citation", "Design", "N", "Findings")
        self.query_one(DataTable).focus()

    def on_screen_resume(self) -> None:
        """Load on every visit (first one included): a save elsewhere may have changed the list."""
        self.reload()

    def reload(self) -> None:
        """Reload the list with the current filter."""
        self._load(self.query_one("#study-search", Input).value)

    @work(thread=True, exclusive=True, group="studies", exit_on_error=False)
    def _load(self, search: str) -> None:
        rows = self.evidence_app.store.studies(self.evidence_app.review, search)
        self.app.call_from_thread(self.show, rows)

    def show(self, rows: list[StudyRow]) -> None:
        """Put the studies into the table."""
        self.rows = rows
        table = self.query_one(DataTable)
        table.clear()
        for s in rows:
            table.add_row(s.study_id, s.year or "", s.citation, s.design, s.n_patients or "", s.n_findings,
                          key=s.study_id)
        patients = sum(s.n_patients or 0 for s in rows)
        self.query_one("#study-status", Static).update(
            f"{len(rows)} studies · {patients} patients · Enter edits · a adds a paper")

    @on(Input.Changed, "#study-search")
    def _search(self) -> None:
        self.reload()

    @on(Input.Submitted, "#study-search")
    def _search_done(self) -> None:
        self.query_one(DataTable).focus()

    @on(DataTable.RowSelected)
    def _open(self, event: DataTable.RowSelected) -> None:
        from tui.screens.curate import CurateScreen

        self.app.push_screen(CurateScreen(label=str(event.row_key.value)))

    def action_focus_filter(self) -> None:
        self.query_one("#study-search", Input).focus()
