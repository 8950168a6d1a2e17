"""The home screen: graded biomarkers of a review, strongest first, paged from SQL.

Why paged: a table of 100k rows takes seconds to paint, so the table only ever holds one page; the
filter, sort and level choice go into the SQL query (LIMIT/OFFSET), and every keystroke reloads one
page of a few milliseconds.
"""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy.exc import SQLAlchemyError
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Footer, Header, Input, Select, Static

from evidencedb.errors import EvidenceDBError
from evidencedb.formatting import score_text
from evidencedb.queries import MARKER_ORDERS, sorts_descending
from tui.screens.base import EvidenceScreen
from tui.store import MarkerPage
from tui.widgets.badge import level_badge
from tui.widgets.page_table import Column, PageTable

PAGE_SIZE = 50
#: Column key → ``list_markers(order=…)``.
SORTABLE = {"biomarker": "biomarker", "category": "category", "score": "score", "studies": "n_studies",
            "class": "class"}


COLUMNS = (Column("Biomarker", "biomarker"), Column("Category", "category", 26),
           Column("Score", "score", justify="right"), Column("Level", "level"),
           Column("Studies", "studies", justify="right"), Column("Conflicting", "conflicting", justify="right"),
           Column("Class", "class"))


class MarkersScreen(EvidenceScreen):
    """Leaderboard: filter as you type, sort by column, pick review and minimum level, Enter opens."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_filter", "Filter", id="markers.filter", tooltip="Type to filter biomarkers"),
        Binding("o", "cycle_sort", "Sort", id="markers.sort", tooltip="Sort by the next column"),
        Binding("right_square_bracket", "page(1)", "Next page", id="markers.next", tooltip="Next page of rows"),
        Binding("left_square_bracket", "page(-1)", "Prev page", id="markers.prev",
                tooltip="Previous page of rows", show=False),
        Binding("r", "refresh", "Reload", id="markers.reload", tooltip="Reload the grades from the database",
                show=False),
    ]

    def __init__(self) -> None:
        super().__init__(id="markers")
        self.order = "score"
        self.descending: bool | None = None
        self.row_offset = 0
        self.page: MarkerPage | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="marker-filters"):
            yield Input(placeholder="Filter biomarkers…", id="marker-search")
        yield PageTable(COLUMNS, id="marker-table")
        yield Static("", id="marker-status")

    def on_mount(self) -> None:
        self.query_one(PageTable).focus()
        # The review and level pickers and the footer cost more to build and draw than the rest of the
        # screen together: they come one frame after the first page of grades.
        self.call_after_refresh(self._mount_controls)

    def _mount_controls(self) -> None:
        store, review = self.evidence_app.store, self.evidence_app.review
        self.query_one("#marker-filters", Horizontal).mount(
            Select([(slug, slug) for slug, _ in store.reviews()], allow_blank=False, value=review,
                   id="review-select"),
            Select(self._level_options(), prompt="Any level", id="level-select"))
        self.mount(Footer())

    def _level_options(self) -> list[tuple[str, str]]:
        return [(f"{lv} or stronger", lv) for lv in self.evidence_app.store.levels(self.evidence_app.review)]

    def _set_levels(self) -> None:
        select = self.query_one("#level-select", Select)
        with select.prevent(Select.Changed):  # the caller reloads once
            select.set_options(self._level_options())

    # ------------------------------------------------------------------ loading

    def reload(self, *, keep_offset: bool = False) -> None:
        """Load the current page from SQL.

        One page is a LIMIT query of a few milliseconds, so it runs right here: a worker thread's
        hand-off back to the event loop would cost more than the query and delay the table.
        """
        if not keep_offset:
            self.row_offset = 0
        level = next((s.value for s in self.query("#level-select").results(Select)), Select.NULL)
        try:
            page = self.evidence_app.store.markers(
                self.evidence_app.review, search=self.query_one("#marker-search", Input).value,
                min_level=None if level is Select.NULL else str(level), order=self.order,
                descending=self.descending, limit=PAGE_SIZE, offset=self.row_offset)
        except (EvidenceDBError, SQLAlchemyError) as exc:
            self.evidence_app.report_error(exc)
            return
        self.show_page(page)

    def show_page(self, page: MarkerPage) -> None:
        """Put one page into the table (keeps the cursor row where it can)."""
        self.page = page
        rows = [(m.biomarker, m.category, score_text(m.score), level_badge(m.level), str(m.n_studies),
                 str(m.n_conflicting), m.grade_class) for m in page.rows]
        self.query_one(PageTable).set_rows(rows, [m.biomarker for m in page.rows])
        last = page.offset + len(page.rows)
        arrow = "↓" if self._descending() else "↑"
        status = (f"{page.offset + 1}–{last} of {page.total}" if page.rows else "no graded biomarker matches")
        self.query_one("#marker-status", Static).update(
            f"{status} · {page.review} · {page.scheme} · sorted by {self.order} {arrow}"
            + (" · ] next page" if last < page.total else ""))
        if self.app.sub_title != (title := f"{page.review} · {page.scheme}"):
            self.app.sub_title = title

    def _descending(self) -> bool:
        return self.descending if self.descending is not None else sorts_descending(self.order)

    # ------------------------------------------------------------------ events

    @on(Input.Changed, "#marker-search")
    def _search_changed(self) -> None:
        self.reload()

    @on(Input.Submitted, "#marker-search")
    def _search_done(self) -> None:
        self.query_one(PageTable).focus()

    @on(Select.Changed, "#level-select")
    def _level_changed(self) -> None:
        self.reload()

    @on(Select.Changed, "#review-select")
    def _review_changed(self, event: Select.Changed) -> None:
        if event.value is Select.NULL or event.value == self.evidence_app.review:
            return
        self.evidence_app.review = str(event.value)
        self._set_levels()
        self.reload()

    @on(PageTable.HeaderSelected)
    def _header(self, event: PageTable.HeaderSelected) -> None:
        order = SORTABLE.get(event.column_key)
        if order is None:
            return
        if order == self.order:
            self.descending = not self._descending()
        else:
            self.order, self.descending = order, None
        self.reload()

    @on(PageTable.RowSelected)
    def _open(self, event: PageTable.RowSelected) -> None:
        from tui.screens.marker import MarkerScreen

        self.app.push_screen(MarkerScreen(event.row_key))

    def on_screen_resume(self) -> None:
        """Load on every visit (the first one included): a save elsewhere may have moved the grades."""
        self.reload(keep_offset=True)

    # ------------------------------------------------------------------ actions

    def action_focus_filter(self) -> None:
        self.query_one("#marker-search", Input).focus()

    def action_cycle_sort(self) -> None:
        orders = list(MARKER_ORDERS)
        self.order = orders[(orders.index(self.order) + 1) % len(orders)]
        self.descending = None
        self.reload()

    def action_page(self, step: int) -> None:
        if self.page is None:
            return
        offset = self.row_offset + step * PAGE_SIZE
        if 0 <= offset < max(self.page.total, 1):
            self.row_offset = offset
            self.reload(keep_offset=True)

    def action_refresh(self) -> None:
        self.reload(keep_offset=True)
