"""Curate a paper: citation, study, findings; one Save writes them all and shows the grades that moved.

A new paper whose DOI or PMID is already stored is never duplicated: the curator is offered the
existing study (or the stored citation for a new study). Every field is validated with the core's
input models and marked inline; Save is refused while anything is marked. Leaving with unsaved edits
asks first; a failed save keeps every edit on screen.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.widgets import Button, DataTable, Footer, Header, Input, Select, Static

from evidencedb.drafts import (
    PAPER_FIELDS,
    STUDY_FIELDS,
    FindingDraft,
    SaveResult,
    StudyDraft,
    paper_changes,
    study_changes,
)
from evidencedb.formatting import threshold_text
from evidencedb.schemas import PaperIn, StudyIn, normalise_doi, normalise_pmid
from tui.screens.base import EvidenceScreen
from tui.widgets.form import FormField, field_errors, field_specs

#: The forms' wording; which fields there are, in which order, and their pickers come from the core.
PAPER_LABELS = {"doi": "DOI", "pmid": "PMID", "title": "Title", "authors": "Authors (comma-separated)",
                "journal": "Journal", "year": "Year"}
STUDY_LABELS = {
    "label": "Study id (e.g. Smith 2024)", "design": "Design (from the scheme)", "centres": "Centres",
    "prospective": "Prospective", "phase": "Phase", "arms": "Arms", "n_patients": "Patients (N)",
    "n_patients_note": "What N counts", "population": "Population", "age_range": "Age range", "disease": "Disease",
    "product": "CAR-T product", "target": "Target", "costim": "Costimulatory domain",
    "toxicity_grading": "Toxicity grading", "registry_id": "Registry id", "quality_tool": "Quality tool (NOS/JBI)",
    "quality_rating": "Quality rating", "notes": "Notes",
}
PAPER_FORM = field_specs(PaperIn, PAPER_FIELDS, PAPER_LABELS)
STUDY_FORM = field_specs(StudyIn, STUDY_FIELDS, STUDY_LABELS, choices={"design": ()})  # the scheme's, on load


class CurateScreen(EvidenceScreen):
    """The curation form for one study (``label``) or a new paper (``label=None``)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="curate.save",
                tooltip="Validate and save everything in one transaction"),
        Binding("ctrl+n", "add_finding", "Add finding", id="curate.add_finding", tooltip="Add a finding"),
        Binding("ctrl+e", "edit_finding", "Edit finding", id="curate.edit_finding",
                tooltip="Edit the highlighted finding"),
        Binding("ctrl+d", "remove_finding", "Remove finding", id="curate.remove_finding",
                tooltip="Remove (or restore) the highlighted finding"),
        Binding("escape", "leave", "Back", id="curate.back", tooltip="Back (asks first if there are unsaved edits)"),
    ]

    def __init__(self, label: str | None = None) -> None:
        super().__init__(classes="curate")
        self.label = label
        self.draft: StudyDraft | None = None
        self.findings: list[FindingDraft] = []
        self.paper_id: int | None = None
        self.designs: list[str] = []
        self.vocabulary: list[tuple[str, str, str]] = []
        self.saving = False
        self._loaded: tuple[dict[str, str], dict[str, str]] = ({}, {})
        self._checked: set[str] = set()

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="curate-form"):
            yield Static("Citation", classes="section-title")
            with Grid(classes="form-grid", id="paper-grid"):
                for name, label, choices, required in PAPER_FORM:
                    yield FormField(name, label, choices=choices, required=required)
            yield Static("", id="paper-note")
            yield Static("Study", classes="section-title")
            with Grid(classes="form-grid", id="study-grid"):
                for name, label, choices, required in STUDY_FORM:
                    yield FormField(name, label, choices=choices, required=required)
            yield Static("Findings", classes="section-title")
            table: DataTable[object] = DataTable(id="finding-table", cursor_type="row")
            yield table
            with Horizontal(classes="buttons"):
                yield Button("Add finding (ctrl+n)", id="add-finding")
                yield Button("Edit (ctrl+e)", id="edit-finding")
                yield Button("Remove/restore (ctrl+d)", id="remove-finding")
                yield Button("Save (ctrl+s)", id="save", variant="primary")
            yield Static("", id="form-error", classes="form-error")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#finding-table", DataTable).add_columns(
            "Biomarker", "Outcome", "Category", "Association", "Threshold", "Change")
        self.evidence_app.register_form(self)
        self.query_one("#curate-form").loading = True
        self._load()

    def on_unmount(self) -> None:
        self.evidence_app.unregister_form(self)

    @work(thread=True, exclusive=True, group="curate-load", exit_on_error=False)
    def _load(self) -> None:
        store = self.evidence_app.store
        review = self.evidence_app.review
        designs = store.designs(review)
        vocabulary = store.vocabulary()
        draft = store.load_study(review, self.label) if self.label else None
        self.app.call_from_thread(self._fill, designs, vocabulary, draft)

    def _fill(self, designs: list[str], vocabulary: list[tuple[str, str, str]], draft: StudyDraft | None) -> None:
        self.designs, self.vocabulary, self.draft = designs, vocabulary, draft
        design = self.query_one("#field-design", FormField)
        design.set_choices(designs)
        if draft is not None:
            self.paper_id = draft.paper_id
            self._set_values(draft.paper, draft.study)
            self.findings = [FindingDraft(dict(f.values), f.finding_id, original=dict(f.original))
                             for f in draft.findings]
            self.sub_title = f"Edit study {draft.label}"
        else:
            self.query_one("#field-disease", FormField).value = "B-ALL"
            self.sub_title = "New paper"
        self._loaded = (self.paper_values(), self.study_values())
        self.query_one("#curate-form").loading = False
        self.refresh_findings()
        self.query_one("#input-doi", Input).focus()

    def _set_values(self, paper: dict[str, str], study: dict[str, str]) -> None:
        for name, value in (paper | study).items():
            fields = self.query(f"#field-{name}")
            if fields:
                fields.first(FormField).value = value

    # ------------------------------------------------------------------ state

    def paper_values(self) -> dict[str, str]:
        """Text of the citation fields."""
        return {n: self.query_one(f"#field-{n}", FormField).value.strip() for n in PAPER_FIELDS}

    def study_values(self) -> dict[str, str]:
        """Text of the study fields."""
        return {n: self.query_one(f"#field-{n}", FormField).value.strip() for n in STUDY_FIELDS}

    @property
    def dirty(self) -> bool:
        """Whether anything differs from what was loaded (or last saved)."""
        if self.query_one("#curate-form").loading:
            return False
        return ((self.paper_values(), self.study_values()) != self._loaded
                or any(f.changed for f in self.findings))

    def validate_form(self, *, show_all: bool = True) -> bool:
        """Mark invalid fields (all of them, or only those already left); ``True`` when Save may go ahead."""
        errors = field_errors(PaperIn, paper_changes(self.paper_values()))
        errors |= field_errors(StudyIn, study_changes(self.study_values()))
        design = self.query_one("#field-design", FormField).value
        if design and self.designs and design not in self.designs:
            errors["design"] = "not a design of the review's scheme"
        for f in self.query(FormField):
            if show_all or f.field_name in self._checked:
                f.error = errors.get(f.field_name, "")
        self.query_one("#form-error", Static).update(errors.get("", ""))
        return not errors

    def refresh_findings(self) -> None:
        """Redraw the findings table from the drafts."""
        table = self.query_one("#finding-table", DataTable)
        row = table.cursor_row
        table.clear()
        for i, f in enumerate(self.findings):
            v = f.values
            state = ("remove" if f.deleted else "new" if f.finding_id is None else "edited" if f.changed else "")
            threshold = threshold_text(v.get("comparator"), v.get("threshold_value"), v.get("threshold_upper"),
                                       v.get("unit"))
            table.add_row(v.get("biomarker", ""), v.get("outcome", ""), v.get("outcome_category", ""),
                          v.get("association", ""), threshold, state, key=str(i))
        if self.findings:
            table.move_cursor(row=min(max(row, 0), len(self.findings) - 1))

    # ------------------------------------------------------------------ events

    @on(Input.Blurred)
    @on(Select.Changed)
    def _field_left(self, event: Input.Blurred | Select.Changed) -> None:
        widget = event.input if isinstance(event, Input.Blurred) else event.select
        name = (widget.id or "").removeprefix("input-")
        self._checked.add(name)
        self.validate_form(show_all=False)
        if name in ("doi", "pmid") and isinstance(event, Input.Blurred):
            self._check_existing(name, event.value)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.focus_next()  # leaving the field checks it (and a DOI/PMID against the stored papers)

    def _check_existing(self, name: str, text: str) -> None:
        if self.paper_id is not None or not text.strip():
            return
        try:
            key = normalise_doi(text) if name == "doi" else normalise_pmid(text)
        except ValueError:
            return
        found = self.evidence_app.store.find_paper(**{name: key})
        if found is None:
            return
        paper_id, citation, studies = found
        from tui.modals.confirm import ConfirmModal

        here = [label for slug, label in studies if slug == self.evidence_app.review]
        if here:
            question = (f"This {name.upper()} is already stored: {citation}\nIts study {here[0]!r} is in this "
                        "review. Open that study instead of adding a duplicate?")

            def open_existing(yes: bool | None) -> None:
                if yes:
                    self.app.switch_screen(CurateScreen(label=here[0]))

            self.app.push_screen(ConfirmModal(question, yes="Open it", no="Stay"), open_existing)
        else:
            question = (f"This {name.upper()} is already stored: {citation}\nUse the stored citation for the new "
                        "study?")

            def use_paper(yes: bool | None) -> None:
                if yes:
                    self.paper_id = paper_id
                    self._set_values(self.evidence_app.store.paper_values(paper_id), {})
                    self.query_one("#paper-note", Static).update(f"Using stored paper {paper_id}: {citation}")

            self.app.push_screen(ConfirmModal(question, yes="Use it", no="Stay"), use_paper)

    @on(DataTable.RowSelected, "#finding-table")
    def _finding_selected(self) -> None:
        self.action_edit_finding()

    @on(Button.Pressed, "#add-finding")
    def _add_pressed(self) -> None:
        self.action_add_finding()

    @on(Button.Pressed, "#edit-finding")
    def _edit_pressed(self) -> None:
        self.action_edit_finding()

    @on(Button.Pressed, "#remove-finding")
    def _remove_pressed(self) -> None:
        self.action_remove_finding()

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    # ------------------------------------------------------------------ actions

    def action_add_finding(self) -> None:
        from tui.modals.finding import FindingModal

        def added(draft: FindingDraft | None) -> None:
            if draft is not None:
                self.findings.append(draft)
                self.refresh_findings()
                self.query_one("#finding-table", DataTable).move_cursor(row=len(self.findings) - 1)

        self.app.push_screen(FindingModal(None, self.vocabulary), added)

    def _current(self) -> int | None:
        table = self.query_one("#finding-table", DataTable)
        return table.cursor_row if self.findings and 0 <= table.cursor_row < len(self.findings) else None

    def action_edit_finding(self) -> None:
        from tui.modals.finding import FindingModal

        index = self._current()
        if index is None:
            self.notify("No finding to edit: add one with ctrl+n.")
            return

        def edited(draft: FindingDraft | None) -> None:
            if draft is not None:
                self.findings[index] = draft
                self.refresh_findings()

        self.app.push_screen(FindingModal(self.findings[index], self.vocabulary), edited)

    def action_remove_finding(self) -> None:
        index = self._current()
        if index is None:
            return
        finding = self.findings[index]
        if finding.finding_id is None:
            del self.findings[index]
        else:
            finding.deleted = not finding.deleted
        self.refresh_findings()

    def action_save(self) -> None:
        if self.saving or self.query_one("#curate-form").loading:
            return
        if not self.validate_form():
            self.notify("Not saved: fix the marked fields first.", severity="error")
            return
        if not self.dirty:
            self.notify("Nothing to save.")
            return
        draft = StudyDraft(self.paper_values(), self.study_values(), tuple(self.findings), paper_id=self.paper_id,
                           study_id=self.draft.study_id if self.draft else None,
                           label=self.draft.label if self.draft else None)
        self.saving = True
        self.query_one("#save", Button).disabled = True
        self._save(draft)

    @work(thread=True, exclusive=True, group="curate-save", exit_on_error=False)
    def _save(self, draft: StudyDraft) -> None:
        try:
            app = self.evidence_app
            result = app.store.save(app.review, draft, actor=app.curator)
        finally:
            self.app.call_from_thread(self._save_done)
        self.app.call_from_thread(self._saved, result)

    def _save_done(self) -> None:
        self.saving = False
        self.query_one("#save", Button).disabled = False

    def _saved(self, result: SaveResult) -> None:
        from tui.modals.changes import ChangesModal

        title = (f"Saved {result.label}: {result.added} finding(s) added, {result.updated} changed, "
                 f"{result.deleted} removed")
        self.label = result.label
        self.app.push_screen(ChangesModal(title, result.changes))
        self.query_one("#curate-form").loading = True
        self._load()

    def action_leave(self) -> None:
        if not self.dirty:
            self.dismiss_screen()
            return
        from tui.modals.confirm import ConfirmModal

        def leave(yes: bool | None) -> None:
            if yes:
                self.dismiss_screen()

        self.app.push_screen(ConfirmModal("Discard the unsaved edits of this paper?", yes="Discard", no="Keep editing"),
                             leave)

    def dismiss_screen(self) -> None:
        """Close this form (without asking)."""
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()
