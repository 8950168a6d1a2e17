"""Findings as extraction-sheet rows: what ``export findings`` writes and ``import`` reads back.

Why this module exists: an export must carry exactly the import's columns, so it imports back to
the same grades. The row is derived from the column spec: each column is the field of the paper, the
study or the finding it names, so a new column is exported without an edit here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from evidencedb import queries
from evidencedb.io.sheet.columns import COLUMN_OF, COLUMNS, PAPER_FIELDS, STUDY_COLUMNS
from evidencedb.models import Biomarker, Finding, Paper, Review, Study

_FIELD = {column: name for name, column in COLUMN_OF.items()}  # value → threshold_value, study_id → label
_FINDING, _STUDY, _PAPER, _OWN = range(4)
#: Where each sheet column's value comes from, in the sheet's order: the paper, the study or the finding
#: (the field the column names), or the row's own lookups (the citation, the biomarker's name and category).
_SOURCES: tuple[tuple[str, int, str], ...] = tuple(
    (c, _OWN if c in ("citation", "biomarker", "biomarker_category") else _PAPER if c in PAPER_FIELDS
     else _STUDY if c in STUDY_COLUMNS else _FINDING, _FIELD.get(c, c))
    for c in COLUMNS)


def _cell(value: Any) -> Any:
    """Booleans are written yes/no, as the sheet reads them."""
    return ("yes" if value else "no") if isinstance(value, bool) else value


def finding_rows(review: Review, *, session: Session) -> Iterable[dict[str, Any]]:
    """Every finding of a review as a sheet row (the import's columns plus the derived norm_value/norm_unit)."""
    q = (
        sa.select(Finding, Study, Paper, col(Biomarker.name), col(Biomarker.category))
        .join(Study, col(Study.id) == col(Finding.study_id))
        .join(Paper, col(Paper.id) == col(Study.paper_id))
        .join(Biomarker, col(Biomarker.id) == col(Finding.biomarker_id))
        .where(col(Study.review_id) == review.id)
        .order_by(col(Study.label), col(Finding.id))
    )
    for f, s, p, name, category in session.execute(q):
        objects = (f, s, p)
        own = {"citation": queries.citation(p), "biomarker": name, "biomarker_category": category}
        yield {column: own[attribute] if i == _OWN else _cell(getattr(objects[i], attribute))
               for column, i, attribute in _SOURCES}
