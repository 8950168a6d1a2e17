"""One biomarker's grade explained: the review's Figure 3D for a single marker, plus its thresholds.

Contributing studies with their design and coefficient (their sum is the score), conflicting studies,
and every finding with threshold, outcome and the quote it rests on. The explanation is recomputed
from the findings by the core, which refuses to show a grade that disagrees with it.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Footer, Header, Static

from evidencedb.formatting import score_text
from evidencedb.queries import MarkerExplanation
from tui.screens.base import EvidenceScreen
from tui.widgets.badge import level_badge


def _clip(text: str | None, width: int = 40) -> str:
    if not text:
        return ""
    return text if len(text) <= width else text[: width - 1] + "…"


class MarkerScreen(EvidenceScreen):
    """Why a biomarker has its grade. Enter on a study opens it for editing."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="marker.back", tooltip="Back to the leaderboard"),
    ]

    def __init__(self, biomarker: str) -> None:
        super().__init__(id="marker")
        self.biomarker = biomarker
        self.explanation: MarkerExplanation | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="marker-body"):
            yield Static("", id="marker-heading")
            yield Static("Contributing studies", classes="section-title")
            contributions: DataTable[object] = DataTable(id="contributions", cursor_type="row")
            yield contributions
            yield Static("", id="conflicting")
            yield Static("Findings and thresholds", classes="section-title")
            findings: DataTable[object] = DataTable(id="findings", cursor_type="row", zebra_stripes=True)
            yield findings
            yield Static("", id="quote")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#contributions", DataTable).add_columns("Study", "Design", "Coefficient", "Outcomes")
        self.query_one("#findings", DataTable).add_columns(
            "Study", "Year", "Measure", "Threshold", "Outcome", "Category", "Association", "Result", "p")
        self.query_one("#marker-body").loading = True
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _load(self) -> None:
        explanation = self.evidence_app.store.explain(self.evidence_app.review, self.biomarker)
        self.app.call_from_thread(self.show, explanation)

    def show(self, ex: MarkerExplanation) -> None:
        """Fill the screen from an explanation."""
        self.explanation = ex
        self.query_one("#marker-body").loading = False
        res = ex.result
        synonyms = f"\nsynonyms: {', '.join(ex.synonyms)}" if ex.synonyms else ""
        heading = self.query_one("#marker-heading", Static)
        from rich.text import Text

        text = Text.assemble(
            (ex.biomarker.name, "bold"), f"  ({ex.biomarker.category})  ", level_badge(res.level),
            f"  score {score_text(res.score)} · class {res.grade_class} · {res.n_studies} supporting, "
            f"{len(res.conflicting)} conflicting\n{ex.review} · {ex.scheme} · sha256 {ex.scheme_hash[:12]}…"
            + synonyms)
        heading.update(text)
        table = self.query_one("#contributions", DataTable)
        table.clear()
        for c in res.contributions:
            table.add_row(c.study, c.design, score_text(c.coefficient), ", ".join(c.categories), key=c.study)
        table.add_row(Text("total", style="bold"), "", Text(score_text(res.score), style="bold"), "")
        self.query_one("#conflicting", Static).update(
            "Conflicting (no association, add nothing): " + ", ".join(res.conflicting) if res.conflicting
            else "No conflicting studies.")
        findings = self.query_one("#findings", DataTable)
        findings.clear()
        for i, f in enumerate(ex.findings):
            findings.add_row(f.study, f.year or "", _clip(f.measure), f.threshold, f.outcome, f.outcome_category,
                             f.association, _clip(f.group_results or f.effect), f.p_value or "", key=str(i))
        self._show_quote(0)

    def _show_quote(self, index: int) -> None:
        if self.explanation is None or not self.explanation.findings:
            return
        f = self.explanation.findings[min(index, len(self.explanation.findings) - 1)]
        where = f" ({f.location})" if f.location else ""
        self.query_one("#quote", Static).update(f"“{f.quote}”{where}" if f.quote else "(no quote recorded)")

    @on(DataTable.RowHighlighted, "#findings")
    def _highlight(self, event: DataTable.RowHighlighted) -> None:
        self._show_quote(event.cursor_row)

    @on(DataTable.RowSelected)
    def _open_study(self, event: DataTable.RowSelected) -> None:
        if self.explanation is None or event.row_key.value is None:
            return
        if event.data_table.id == "contributions":
            label = str(event.row_key.value)
        else:
            label = self.explanation.findings[int(str(event.row_key.value))].study
        from tui.screens.curate import CurateScreen

        self.app.push_screen(CurateScreen(label=label))
