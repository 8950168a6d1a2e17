"""Reading and validating extraction-sheet rows, with no database writes.

Why this module exists: every row is validated on its own (types, allowed values, units, designs of
the review's scheme, rows of one study agreeing) before anything is compared with the database, so
a bad sheet is reported row by row, column by column, and nothing is written.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Sequence
from functools import cache
from typing import Any

from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from evidencedb.errors import RowProblem
from evidencedb.formatting import input_errors
from evidencedb.io.sheet.columns import (
    COLUMN_OF,
    COLUMNS,
    FIELD_OF,
    FINDING_COLUMNS,
    PAPER_FIELDS,
    REQUIRED,
    STUDY_COLUMNS,
    STUDY_FIELDS,
)
from evidencedb.io.sheet.tables import SheetTable
from evidencedb.io.sheet.types import FindingEntry, ParsedSheet, StudyEntry
from evidencedb.schemas import BiomarkerIn, FindingIn, PaperIn, StudyIn

_NUMBER_FIELDS = frozenset({"threshold_value", "threshold_upper", "effect_value", "ci_low", "ci_high"})
_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d*,\d+(?:[eE][-+]?\d+)?\s*$")
_BATCH = 5_000  # finding rows validated per call


def _problems(row: int, exc: PydanticValidationError) -> list[RowProblem]:
    return [RowProblem(row, COLUMN_OF.get(e.field, e.field) if e.field else "row", e.message)
            for e in input_errors(exc)]


def _study_input(rec: tuple[str, ...], at: dict[str, int]) -> tuple[dict[str, Any], dict[str, Any]]:
    paper = {k: v for k in PAPER_FIELDS if k in at and (v := rec[at[k]].strip())}
    paper.setdefault("title", rec[at["citation"]])
    study = {k: v for k in STUDY_FIELDS if k in at and (v := rec[at[k]].strip())}
    study["label"] = rec[at["study_id"]]
    return paper, study


def _differences(first: StudyEntry, paper: PaperIn, study: StudyIn) -> list[tuple[str, Any, Any]]:
    diffs = [(COLUMN_OF.get(k, k), v, getattr(paper, k)) for k, v in first.paper.model_dump().items()
             if v != getattr(paper, k)]
    diffs += [(COLUMN_OF.get(k, k), v, getattr(study, k)) for k, v in first.study.model_dump().items()
              if v != getattr(study, k)]
    return diffs


@cache
def _finding_list() -> TypeAdapter[list[FindingIn]]:
    return TypeAdapter(list[FindingIn])


def _validate_findings(rows: Sequence[tuple[str, ...]], columns: list[tuple[int, str]], *, decimal_comma: bool
                       ) -> list[FindingIn | PydanticValidationError]:
    """Each row's finding columns validated by :class:`FindingIn`: the model, or the row's errors.

    ``columns`` pairs a cell's position with its model field; blank cells are left out (the field's
    default). Rows are validated a batch at a time by one call (the same model, without a Python call
    per row), each batch's input built just before it (so that the input of every row is never in
    memory at once); a batch with any bad row is validated again row by row, so that every bad row
    gets its own errors.
    """
    adapter = _finding_list()
    results: list[FindingIn | PydanticValidationError] = []
    for start in range(0, len(rows), _BATCH):
        batch = [{name: value for c, name in columns if (value := rec[c]) and not value.isspace()}
                 for rec in rows[start:start + _BATCH]]
        if decimal_comma:
            for data in batch:
                for name in _NUMBER_FIELDS & data.keys():
                    if _DECIMAL_COMMA.match(data[name]):
                        data[name] = data[name].replace(",", ".")
        try:
            results += adapter.validate_python(batch)
        except PydanticValidationError:
            for data in batch:
                try:
                    results.append(FindingIn.model_validate(data))
                except PydanticValidationError as exc:
                    results.append(exc)
    return results


def parse_rows(table: SheetTable, *, designs: set[str], scheme: str, known: dict[str, tuple[int, str]]
               ) -> tuple[ParsedSheet, list[RowProblem]]:
    """Validate every row on its own (no database access).

    Args:
        table: the sheet as read.
        designs: designs the review's scheme weights.
        scheme: the scheme's label, for messages.
        known: lower-cased biomarker names and synonyms → (id, category).

    Returns:
        The parsed sheet and every problem found (empty when all rows are good).
    """
    problems: list[RowProblem] = []
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        return ParsedSheet({}, [], {}, {}), [RowProblem(1, c, "required column is missing") for c in missing]
    if not table.rows:
        return ParsedSheet({}, [], {}, {}), [RowProblem(1, "row", "the sheet has a header but no rows")]
    problems += [RowProblem(1, c, f"unknown column (allowed: {', '.join(COLUMNS)})")
                 for c in table.columns if c not in COLUMNS]
    at = {c: i for i, c in enumerate(table.columns)}
    finding_columns = [(at[c], FIELD_OF.get(c, c)) for c in FINDING_COLUMNS
                       if c in at and c != "biomarker_category"]
    given = frozenset(name for _c, name in finding_columns)
    raw_study = operator.itemgetter(*(at[c] for c in STUDY_COLUMNS if c in at))  # study columns, at C speed
    label_at, category_at = at["study_id"], at.get("biomarker_category")
    parsed = ParsedSheet({}, [], {}, {})
    findings = _validate_findings(table.rows, finding_columns, decimal_comma=table.decimal_comma)
    category_of_new: dict[str, str] = {}
    for number, rec, finding in zip(table.numbers, table.rows, findings, strict=True):
        label = rec[label_at].strip()
        raw = raw_study(rec)
        first = parsed.studies.get(label)
        study_ok = True
        if first is None or first.raw != raw:
            paper_data, study_data = _study_input(rec, at)
            try:
                paper = PaperIn.model_validate(paper_data)
                study = StudyIn.model_validate(study_data)
            except PydanticValidationError as exc:
                problems += _problems(number, exc)
                study_ok = False
            else:
                if study.design not in designs:
                    problems.append(RowProblem(number, "design", f"{study.design!r} is not a design of scheme "
                                                                 f"{scheme} (designs: {'; '.join(sorted(designs))})"))
                    study_ok = False
                elif first is None:
                    parsed.studies[label] = StudyEntry(number, paper, study, raw)
                else:
                    problems += [RowProblem(number, column, f"study {label} has {a!r} in row {first.row}, {b!r} here")
                                 for column, a, b in _differences(first, paper, study)]
        if isinstance(finding, PydanticValidationError):
            problems += _problems(number, finding)
            continue
        key = finding.biomarker.lower()
        category = rec[category_at].strip() if category_at is not None else ""
        if key in known:
            if category and category.lower() != known[key][1].lower():
                problems.append(RowProblem(number, "biomarker_category", f"biomarker {finding.biomarker!r} is "
                                                                         f"stored with category {known[key][1]!r}"))
                continue
        elif key not in parsed.new_markers:
            if not category:
                problems.append(RowProblem(number, "biomarker", f"unknown biomarker {finding.biomarker!r}: "
                                                                "give biomarker_category to add it"))
                continue
            try:
                parsed.new_markers[key] = BiomarkerIn(name=finding.biomarker, category=category)
                parsed.categories[key] = (number, parsed.new_markers[key].category)
            except PydanticValidationError as exc:
                problems += [RowProblem(number, "biomarker_category", p.reason) for p in _problems(number, exc)]
                continue
        elif (category and category != category_of_new.get(key)
              and category.lower() != parsed.categories[key][1].lower()):
            problems.append(RowProblem(number, "biomarker_category", f"biomarker {finding.biomarker!r} has category "
                                                                     f"{parsed.categories[key][1]!r} in row "
                                                                     f"{parsed.categories[key][0]}"))
            continue
        else:
            category_of_new[key] = category  # a spelling already found to agree
        if study_ok:
            parsed.findings.append(FindingEntry(number, label, finding, given, key))
    return parsed, problems
