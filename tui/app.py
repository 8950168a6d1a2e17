"""The EvidenceDB curation app: modes for the leaderboard, studies and scheme; forms pushed on top.

Why this module holds only the App: screens, dialogs and widgets live in their own modules. The App
owns the :class:`~tui.store.Store` (one engine), the active review, the command palette's commands,
and the one place where failed work becomes a notification instead of a crash.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from evidencedb.errors import describe
from tui.screens.markers import MarkersScreen
from tui.store import Store

if TYPE_CHECKING:
    from tui.screens.curate import CurateScreen


def _screen(name: str) -> Screen[Any]:
    """Screens other than the leaderboard are imported when first opened (a faster first paint)."""
    if name == "studies":
        from tui.screens.studies import StudiesScreen

        return StudiesScreen()
    from tui.screens.scheme import SchemeScreen

    return SchemeScreen()


class EvidenceApp(App[None]):
    """Keyboard-first curation of an evidence database."""

    CSS_PATH = "app.tcss"
    TITLE = "EvidenceDB"
    MODES: ClassVar[dict[str, Any]] = {"markers": MarkersScreen, "studies": lambda: _screen("studies"),
                                       "scheme": lambda: _screen("scheme")}
    DEFAULT_MODE = "markers"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("m", "switch_mode('markers')", "Markers", id="app.markers", tooltip="The graded biomarkers"),
        Binding("s", "switch_mode('studies')", "Studies", id="app.studies", tooltip="The included studies"),
        Binding("n", "curate", "New paper", id="app.curate", tooltip="Curate a new paper"),
        Binding("c", "switch_mode('scheme')", "Scheme", id="app.scheme",
                tooltip="Coefficients and cut-offs", show=False),
        Binding("g", "regrade", "Regrade", id="app.regrade",
                tooltip="Recompute every grade of the review", show=False),
        Binding("i", "import_file", "Import", id="app.import",
                tooltip="Import a sheet or citation file", show=False),
        Binding("question_mark,f1", "help", "Help", id="app.help", tooltip="Every key binding"),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", tooltip="Quit (asks first with unsaved edits)",
                priority=True),
    ]

    def __init__(self, store: Store, *, review: str | None = None, curator: str = "",
                 owns_process: bool = False) -> None:
        """The app over ``store``.

        Args:
            owns_process: the app is what this process runs (``evidencedb tui``, see :func:`run`): once
                the first screen is drawn, it freezes everything start-up built (modules, styles, the
                screen) out of the cyclic collector's scans, which otherwise pause typing for tens of
                milliseconds, and turns the collector on.
        """
        super().__init__()
        self.store = store
        self.review = review or store.default_review()
        self.curator = curator
        self._forms: set[CurateScreen] = set()
        self._owns_process = owns_process

    def on_mount(self) -> None:
        if self._owns_process:
            self.call_after_refresh(self._after_first_paint)

    def _after_first_paint(self) -> None:
        gc.freeze()
        gc.enable()

    # ------------------------------------------------------------------ forms with unsaved edits

    def register_form(self, form: CurateScreen) -> None:
        """Remember an open curation form (quit asks before losing its edits)."""
        self._forms.add(form)

    def unregister_form(self, form: CurateScreen) -> None:
        """Forget a closed curation form."""
        self._forms.discard(form)

    @property
    def unsaved(self) -> bool:
        """Whether any open form holds unsaved edits."""
        return any(form.dirty for form in self._forms)

    async def action_quit(self) -> None:
        if not self.unsaved:
            self.exit()
            return
        from tui.modals.confirm import ConfirmModal

        def answer(yes: bool | None) -> None:
            if yes:
                self.exit()

        self.push_screen(ConfirmModal("A paper has unsaved edits. Quit and discard them?", yes="Quit",
                                      no="Keep editing"), answer)

    # ------------------------------------------------------------------ actions

    def action_curate(self, label: str | None = None) -> None:
        from tui.screens.curate import CurateScreen

        self.push_screen(CurateScreen(label=label))

    def help_sections(self) -> list[tuple[str, list[BindingType]]]:
        """Where each set of bindings applies, for the help screen: the app's, then each screen's and dialog's."""
        from tui.modals.finding import FindingModal
        from tui.screens.curate import CurateScreen
        from tui.screens.marker import MarkerScreen
        from tui.screens.scheme import SchemeScreen
        from tui.screens.studies import StudiesScreen

        return [("everywhere", self.BINDINGS), ("leaderboard", MarkersScreen.BINDINGS),
                ("marker", MarkerScreen.BINDINGS), ("studies", StudiesScreen.BINDINGS),
                ("curate", CurateScreen.BINDINGS), ("finding", FindingModal.BINDINGS),
                ("scheme", SchemeScreen.BINDINGS)]

    def action_help(self) -> None:
        from tui.screens.help import HelpScreen

        self.push_screen(HelpScreen(self.help_sections()))

    def action_import_file(self) -> None:
        from tui.modals.import_file import ImportModal

        self.push_screen(ImportModal())

    def action_regrade(self) -> None:
        self.screen.loading = True
        self.notify(f"Regrading {self.review}…")
        self._regrade(self.screen)

    @work(thread=True, exclusive=True, group="regrade", exit_on_error=False)
    def _regrade(self, screen: Screen[Any]) -> None:
        try:
            changes = self.store.regrade(self.review)
        finally:
            self.call_from_thread(setattr, screen, "loading", False)
        from tui.modals.changes import ChangesModal

        self.call_from_thread(self.push_screen, ChangesModal(f"Regraded {self.review}", changes))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Markers", "The graded biomarkers of the review", lambda: self.switch_mode("markers"))
        yield SystemCommand("Studies", "The included studies of the review", lambda: self.switch_mode("studies"))
        yield SystemCommand("New paper", "Curate a new paper, its study and findings", self.action_curate)
        yield SystemCommand("Scheme", "Coefficients, cut-offs and hash of the scheme",
                            lambda: self.switch_mode("scheme"))
        yield SystemCommand("Regrade review", "Recompute every grade of the review from its findings",
                            self.action_regrade)
        yield SystemCommand("Import file", "Import an extraction sheet or a citation file", self.action_import_file)
        yield SystemCommand("Help", "Every key binding", self.action_help)
        for b in screen.BINDINGS:
            if isinstance(b, Binding) and b.id and b.action.isidentifier() and hasattr(screen, f"action_{b.action}"):
                yield SystemCommand(b.description, b.tooltip, getattr(screen, f"action_{b.action}"))

    # ------------------------------------------------------------------ errors

    def report_error(self, error: BaseException) -> None:
        """Failed work becomes a notification; the app keeps running (every write rolled back whole)."""
        self.notify(describe(error), title="Not done", severity="error", timeout=8)
        for screen in self.screen_stack:
            for widget in screen.query("*"):
                if widget.loading:
                    widget.loading = False

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.report_error(event.worker.error)


def create_app(url: str | None = None, *, review: str | None = None, curator: str = "",
               owns_process: bool = False) -> EvidenceApp:
    """The app over the database at ``url`` (the CLI and the tests share this factory).

    Raises:
        EvidenceDBError: the database cannot be opened or holds no review.
    """
    return EvidenceApp(Store(url), review=review, curator=curator, owns_process=owns_process)


def run(url: str | None = None, *, review: str | None = None) -> None:
    """Open the app; database problems found before it starts are raised as one-line errors.

    Start-up runs with the cyclic garbage collector off (it builds hundreds of thousands of objects that
    live as long as the app); the app turns it on once its first screen is drawn, and the collector's
    previous state comes back when the app ends.
    """
    import getpass

    from evidencedb.collector import collector_paused

    with collector_paused():
        app = create_app(url, review=review, curator=getpass.getuser(), owns_process=True)
        try:
            app.run()
        finally:
            app.store.close()
