"""A table for one page of rows, drawn line by line: the leaderboard's table.

Why not the built-in DataTable: it lays out and renders every cell through Rich on each change, which
costs tens of milliseconds per page on a slow machine; the leaderboard swaps its page on every
keystroke of the filter. This widget holds plain cells, measures columns once per page and renders
each visible line as a single strip of segments (the Line API), so a new page costs about a millisecond.

Keys: up/down, page up/down, home/end move the cursor; enter selects the row. Clicking a row moves the
cursor there (clicking it again selects it); clicking a header asks to sort by that column.

Messages up: :class:`PageTable.RowSelected` (the row's key), :class:`PageTable.HeaderSelected` (the
column's key). Attributes down: :meth:`set_rows` replaces the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

Cell = str | Text


@dataclass(frozen=True)
class Column:
    """A column: its header label, its key (for sorting) and the widest it may grow."""

    label: str
    key: str
    max_width: int = 40
    justify: str = "left"


def _plain(cell: Cell) -> str:
    return cell.plain if isinstance(cell, Text) else cell


def _fit(text: str, width: int, justify: str) -> str:
    if cell_len(text) > width:
        while text and cell_len(text) > width - 1:
            text = text[:-1]
        return text + "…"
    pad = " " * (width - cell_len(text))
    return pad + text if justify == "right" else text + pad


class PageTable(ScrollView, can_focus=True):
    """One page of rows with a fixed header line and a row cursor."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "move(-20)", "Page up", show=False),
        Binding("pagedown", "move(20)", "Page down", show=False),
        Binding("home", "move(-1000000)", "First", show=False),
        Binding("end", "move(1000000)", "Last", show=False),
        Binding("enter", "select", "Open", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {"page-table--header", "page-table--cursor", "page-table--odd"}
    DEFAULT_CSS = """
    PageTable {
        background: $surface;
    }
    PageTable > .page-table--header {
        text-style: bold;
        background: $panel;
    }
    PageTable > .page-table--odd {
        background: $surface-lighten-1;
    }
    PageTable > .page-table--cursor {
        background: $block-cursor-blurred-background;
    }
    PageTable:focus > .page-table--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: bold;
    }
    """

    cursor_row: reactive[int] = reactive(0)

    class RowSelected(Message):
        """Enter (or a second click) on a row."""

        def __init__(self, table: PageTable, row_key: str) -> None:
            super().__init__()
            self.table = table
            self.row_key = row_key

        @property
        def control(self) -> PageTable:
            return self.table

    class HeaderSelected(Message):
        """A click on a column header."""

        def __init__(self, table: PageTable, column_key: str) -> None:
            super().__init__()
            self.table = table
            self.column_key = column_key

        @property
        def control(self) -> PageTable:
            return self.table

    def __init__(self, columns: Sequence[Column], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.columns = tuple(columns)
        self._rows: list[tuple[Cell, ...]] = []
        self._keys: list[str] = []
        self._widths = [cell_len(c.label) for c in self.columns]

    # ------------------------------------------------------------------ data

    @property
    def row_count(self) -> int:
        """Rows on the page."""
        return len(self._rows)

    def get_row_at(self, index: int) -> list[str]:
        """The plain text of a row's cells."""
        return [_plain(c) for c in self._rows[index]]

    def set_rows(self, rows: Sequence[Sequence[Cell]], keys: Sequence[str]) -> None:
        """Replace the page (the cursor stays on the same line where it can)."""
        self._rows = [tuple(r) for r in rows]
        self._keys = list(keys)
        self._widths = [
            min(col.max_width, max([cell_len(col.label), *(cell_len(_plain(r[i])) for r in self._rows)]))
            for i, col in enumerate(self.columns)
        ]
        width = sum(w + 2 for w in self._widths)
        self.virtual_size = Size(width, len(self._rows) + 1)
        self.cursor_row = max(0, min(self.cursor_row, len(self._rows) - 1))
        self.refresh()

    # ------------------------------------------------------------------ rendering

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        base = self.rich_style
        cells: list[tuple[str, str | Style | None, str]]
        if y == 0:
            style = base + self.get_component_rich_style("page-table--header")
            cells = [(c.label, None, c.justify) for c in self.columns]
        else:
            index = scroll_y + y - 1
            if index >= len(self._rows):
                return Strip.blank(width, base)
            style = base
            if index % 2:
                style += self.get_component_rich_style("page-table--odd")
            if index == self.cursor_row:
                style += self.get_component_rich_style("page-table--cursor")
            cells = [(_plain(cell), cell.style if isinstance(cell, Text) and cell.style else None,
                      (cell.justify if isinstance(cell, Text) and cell.justify else col.justify))
                     for cell, col in zip(self._rows[index], self.columns, strict=True)]
        segments = []
        for (text, cell_style, justify), w in zip(cells, self._widths, strict=True):
            segments.append(Segment(" ", style))
            own = style + Style.parse(cell_style) if isinstance(cell_style, str) else (
                style + cell_style if isinstance(cell_style, Style) else style)
            fitted = _fit(text, w, str(justify))
            if cell_style is not None and cell_len(text) <= w:  # a badge: colour its text, pad with the row's
                pad = " " * (w - cell_len(text))
                segments += ([Segment(pad, style), Segment(text, own)] if justify == "right"
                             else [Segment(text, own), Segment(pad, style)])
            else:
                segments.append(Segment(fitted, own))
            segments.append(Segment(" ", style))
        strip = Strip(segments)
        return strip.crop_extend(scroll_x, scroll_x + width, base)

    # ------------------------------------------------------------------ cursor

    def watch_cursor_row(self, old: int, new: int) -> None:
        self._scroll_to_cursor()
        self.refresh()

    def _scroll_to_cursor(self) -> None:
        visible = max(1, self.size.height - 1)
        top = self.scroll_offset.y
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False)
        elif self.cursor_row >= top + visible:
            self.scroll_to(y=self.cursor_row - visible + 1, animate=False)

    def move_cursor(self, row: int) -> None:
        """Put the cursor on a row (clamped to the page)."""
        self.cursor_row = max(0, min(row, len(self._rows) - 1))

    def action_move(self, step: int) -> None:
        self.move_cursor(self.cursor_row + step)

    def action_select(self) -> None:
        if self._rows:
            self.post_message(self.RowSelected(self, self._keys[self.cursor_row]))

    def on_click(self, event: events.Click) -> None:
        if event.y == 0:
            x = event.x + self.scroll_offset.x
            for col, w in zip(self.columns, self._widths, strict=True):
                if x < w + 2:
                    self.post_message(self.HeaderSelected(self, col.key))
                    return
                x -= w + 2
            return
        index = self.scroll_offset.y + event.y - 1
        if 0 <= index < len(self._rows):
            if index == self.cursor_row:
                self.action_select()
            self.move_cursor(index)
