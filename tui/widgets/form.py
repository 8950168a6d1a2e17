"""Form fields that show their own validation error, and pydantic errors mapped onto them.

Why this module exists: every form in the TUI validates with the core's input models (the same
rules as the CLI and the importers). ``field_errors`` turns one pydantic report into a message per
field, and ``FormField`` shows its message under the input, so bad input is marked where it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.suggester import Suggester
from textual.widgets import Input, Label, Select, Static

from evidencedb.formatting import input_errors
from evidencedb.io.sheet.columns import column_spec

#: One form field: name, label, choices (``None``: free text) and whether it is required.
FieldSpec = tuple[str, str, tuple[str, ...] | None, bool]


def field_specs(model: type[BaseModel], names: Sequence[str], labels: Mapping[str, str], *,
                choices: Mapping[str, tuple[str, ...]] | None = None) -> tuple[FieldSpec, ...]:
    """A form's fields, derived rather than restated: ``names`` in the core's order (``evidencedb.drafts``).

    The input model says which fields are required; the extraction sheet's column spec which take one
    of a closed list of values (a picker) and, for a field the form has no label for, what it means.
    ``choices`` overrides the spec's values (a scheme's designs are only known at run time).
    """
    specs = []
    for name in names:
        column = column_spec(name)
        allowed = (choices or {}).get(name, column.allowed if column else ())
        label = labels.get(name) or (column.meaning if column else name.replace("_", " "))
        required = name in model.model_fields and model.model_fields[name].is_required()
        specs.append((name, label, allowed if allowed or name in (choices or {}) else None, required))
    return tuple(specs)


def field_errors(model: type[BaseModel], data: Mapping[str, Any]) -> dict[str, str]:
    """Validate ``data`` with ``model``; return ``{field: reason}`` (``""`` for whole-form reasons)."""
    try:
        model.model_validate(dict(data))
    except PydanticValidationError as exc:
        errors: dict[str, str] = {}
        for error in input_errors(exc):
            blank = bool(error.field) and data.get(error.field) in (None, "")
            errors.setdefault(error.field, "is required" if blank else error.message)
        return errors
    return {}


class FormField(Vertical):
    """A labelled input (free text, or a choice from ``choices``) with an error line beneath.

    Attributes down: ``value`` and ``error`` are set by the form. Messages up: the inner ``Input``'s
    ``Changed``/``Blurred`` and ``Select``'s ``Changed`` bubble to the form unchanged.
    """

    DEFAULT_CLASSES = "form-field"

    def __init__(self, name: str, label: str, *, value: str = "", choices: Sequence[str] | None = None,
                 placeholder: str = "", suggester: Suggester | None = None, required: bool = False) -> None:
        super().__init__(id=f"field-{name}")
        self.field_name = name
        self._label_text = label + (" *" if required else "")
        self._initial = value
        self._choices = tuple(choices) if choices is not None else None
        self._placeholder = placeholder
        self._suggester = suggester

    def compose(self) -> ComposeResult:
        yield Label(self._label_text, classes="field-label")
        if self._choices is not None:
            options = [(c, c) for c in self._choices]
            initial = self._initial if self._initial in self._choices else Select.NULL
            yield Select(options, value=initial, prompt=self._placeholder or "—", id=f"input-{self.field_name}",
                         compact=True)
        else:
            yield Input(self._initial, placeholder=self._placeholder, suggester=self._suggester,
                        id=f"input-{self.field_name}", compact=True)
        yield Static("", classes="field-error")

    def set_choices(self, choices: Sequence[str]) -> None:
        """Replace the options of a choice field (keeps the value when it is still offered)."""
        current = self.value
        self._choices = tuple(choices)
        select: Select[str] = self.query_one(Select)
        select.set_options([(c, c) for c in self._choices])
        if current in self._choices:
            select.value = current

    @property
    def value(self) -> str:
        """The text typed or the option chosen (``""`` when blank)."""
        if self._choices is not None:
            chosen = self.query_one(Select).value
            return "" if chosen is Select.NULL else str(chosen)
        return self.query_one(Input).value

    @value.setter
    def value(self, text: str) -> None:
        if self._choices is not None:
            self.query_one(Select).value = text if text in self._choices else Select.NULL
        else:
            self.query_one(Input).value = text

    @property
    def error(self) -> str:
        """The reason shown under the input (``""`` when valid)."""
        return str(self.query_one(".field-error", Static).content)

    @error.setter
    def error(self, message: str) -> None:
        line = self.query_one(".field-error", Static)
        line.update(message)
        line.tooltip = message or None
        self.set_class(bool(message), "-invalid")
