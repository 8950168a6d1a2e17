"""Import a file from the TUI: path, dry run, and a progress indicator while the worker runs."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, ProgressBar, Static

from evidencedb.errors import describe
from tui.screens.base import EvidenceModal


class ImportModal(EvidenceModal[None]):
    """Validates the whole file first (the core refuses it whole on any bad row); reports the outcome."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close", id="import.close", tooltip="Close")]

    def __init__(self) -> None:
        super().__init__(classes="modal")
        self.running = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="import-dialog"):
            yield Static("Import an extraction sheet (.csv, .xlsx) or citations (.ris, .bib, .nbib, .xml)",
                         classes="section-title")
            yield Input(placeholder="path/to/file", id="import-path")
            yield Checkbox("Dry run (validate and report; write nothing)", id="dry-run")
            yield ProgressBar(total=None, show_eta=False, id="import-progress")
            yield Static("", id="import-result")
            with Horizontal(classes="buttons"):
                yield Button("Import", id="import", variant="primary")
                yield Button("Close", id="close")

    def on_mount(self) -> None:
        self.query_one(ProgressBar).display = False
        self.query_one(Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#import")
    def start(self) -> None:
        """Run the import in a worker (one at a time)."""
        path = self.query_one(Input).value.strip()
        if self.running or not path:
            return
        self.running = True
        self.query_one(ProgressBar).display = True
        self.query_one("#import-result", Static).update("Working…")
        self._run(path, self.query_one(Checkbox).value)

    @work(thread=True, exclusive=True, group="import", exit_on_error=False)
    def _run(self, path: str, dry_run: bool) -> None:
        try:
            app = self.evidence_app
            text = app.store.import_file(app.review, path, dry_run=dry_run, actor=app.curator)
        except Exception as exc:  # every failure is shown in the dialog, the file's import wrote nothing
            text = f"Not imported: {describe(exc)}"
        self.app.call_from_thread(self._done, text)

    def _done(self, text: str) -> None:
        self.running = False
        self.query_one(ProgressBar).display = False
        self.query_one("#import-result", Static).update(text)

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        if not self.running:
            self.dismiss(None)
