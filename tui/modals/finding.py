"""Add or edit one finding: biomarker with autocomplete, threshold, outcome, effect, provenance.

Validated with the core's ``FindingIn`` on every change; OK is refused while any field is marked. A
biomarker that is not yet known (by name or synonym) asks for its category and is created on save.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Select, Static

from evidencedb.drafts import FINDING_FIELDS, FindingDraft, finding_changes
from evidencedb.models import CATEGORIES
from evidencedb.schemas import FindingIn
from tui.widgets.form import FormField, field_errors, field_specs

OUTCOMES = ("CR", "MRD-negative CR", "EFS", "OS", "PFS", "RFS", "LFS", "DOR", "relapse", "CRS", "severe CRS",
            "ICANS", "severe ICANS")

#: The form's wording; which fields there are, in which order, and their pickers come from the core.
LABELS = {
    "biomarker": "Biomarker (name or synonym)", "new_category": "Category of the new biomarker",
    "measure": "Measure", "timepoint": "Timepoint", "specimen": "Specimen", "assay": "Assay",
    "comparator": "Threshold comparator", "threshold_value": "Threshold value",
    "threshold_upper": "Upper value (range)", "unit": "Unit (as written)", "outcome": "Outcome",
    "outcome_category": "Outcome category", "direction": "Direction of the marker's high state",
    "association": "Association", "effect_measure": "Effect measure", "effect_value": "Effect value",
    "ci_low": "95% CI low", "ci_high": "95% CI high", "p_value": "p-value", "group_results": "Group results as written",
    "analysis": "Analysis", "status": "Status", "location": "Where (section/page)",
    "citation_refs": "Review citation no.", "quote": "Quote",
}
#: (field, label, choices or None, required) in the order of the form; a new biomarker's category follows
#: the biomarker (its values are the sheet's ``biomarker_category``).
FIELDS = field_specs(
    FindingIn, tuple(n for f in FINDING_FIELDS for n in ((f, "new_category") if f == "biomarker" else (f,))), LABELS,
    choices={"new_category": CATEGORIES})


class FindingModal(ModalScreen[FindingDraft | None]):
    """Returns the edited draft, or ``None`` when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "ok", "OK", id="finding.ok", tooltip="Keep this finding (validated first)"),
        Binding("escape", "cancel", "Cancel", id="finding.cancel", tooltip="Discard the changes to this finding"),
    ]

    def __init__(self, draft: FindingDraft | None, vocabulary: list[tuple[str, str, str]]) -> None:
        super().__init__(classes="modal")
        self.draft = draft
        self.known = {term.lower(): name for term, name, _ in vocabulary}
        self.suggester = SuggestFromList(sorted({t for t, _, _ in vocabulary}), case_sensitive=False)
        self.touched: set[str] = set()

    def compose(self) -> ComposeResult:
        values = dict(self.draft.values) if self.draft else {"status": "draft"}
        if self.draft and self.draft.new_category:
            values["new_category"] = self.draft.new_category
        with Vertical(classes="dialog", id="finding-dialog"):
            yield Static("Edit finding" if self.draft else "New finding", classes="section-title")
            with VerticalScroll(), Grid(id="finding-grid", classes="form-grid"):
                for name, label, choices, required in FIELDS:
                    suggester = self.suggester if name == "biomarker" else None
                    if name == "outcome":
                        suggester = SuggestFromList(OUTCOMES, case_sensitive=False)
                    yield FormField(name, label, value=values.get(name, ""), choices=choices,
                                    suggester=suggester, required=required)
            yield Static("", id="finding-note", classes="form-error")
            with Horizontal(classes="buttons"):
                yield Button("OK (ctrl+s)", id="ok", variant="primary")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self._update_new_marker()
        self.query_one("#input-biomarker", Input).focus()

    def values(self) -> dict[str, str]:
        """Current text of every finding field (without the new biomarker's category)."""
        return {f.field_name: f.value.strip() for f in self.query(FormField) if f.field_name != "new_category"}

    def _is_new_marker(self) -> bool:
        name = self.query_one("#field-biomarker", FormField).value.strip().lower()
        return bool(name) and name not in self.known

    def _update_new_marker(self) -> None:
        self.query_one("#field-new_category").display = self._is_new_marker()

    def validate(self, *, show_all: bool = True) -> bool:
        """Mark invalid fields (all, or only those already visited); ``True`` when the finding can be kept."""
        errors = field_errors(FindingIn, finding_changes(self.values()))
        new_marker = self._is_new_marker()
        category = self.query_one("#field-new_category", FormField).value
        if new_marker and not category:
            errors["new_category"] = "a new biomarker needs its category"
        for f in self.query(FormField):
            if show_all or f.field_name in self.touched:
                f.error = errors.get(f.field_name, "")
        self.query_one("#finding-note", Static).update(errors.get("", ""))
        return not errors

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        if event.input.id == "input-biomarker":
            self._update_new_marker()

    @on(Input.Blurred)
    @on(Select.Changed)
    def _check(self, event: Input.Blurred | Select.Changed) -> None:
        widget = event.input if isinstance(event, Input.Blurred) else event.select
        self.touched.add((widget.id or "").removeprefix("input-"))
        self.validate(show_all=False)

    @on(Button.Pressed, "#ok")
    def action_ok(self) -> None:
        if not self.validate():
            self.notify("Fix the marked fields first.", severity="warning")
            return
        values = self.values()
        term = values["biomarker"].lower()
        if term in self.known:
            values["biomarker"] = self.known[term]
        new_category = self.query_one("#field-new_category", FormField).value if self._is_new_marker() else None
        if self.draft is None:
            self.dismiss(FindingDraft(values=values, new_category=new_category))
        else:
            self.dismiss(FindingDraft(values=values, finding_id=self.draft.finding_id, deleted=self.draft.deleted,
                                      new_category=new_category, original=self.draft.original))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
