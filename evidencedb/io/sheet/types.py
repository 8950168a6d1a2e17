"""The data an extraction-sheet import passes from parsing to planning to writing, and what it reports.

Why this module exists: parse, plan and write each depend on these shapes and on nothing of each
other; keeping them here keeps the three free of import cycles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from evidencedb.schemas import BiomarkerIn, FindingIn, PaperIn, StudyIn


@dataclass(frozen=True)
class FindingChange:
    """A stored finding that a row corrects: which row, which finding, and each column old → new."""

    row: int
    study: str
    biomarker: str
    outcome: str
    finding_id: int
    changes: tuple[tuple[str, str, str], ...]

    def __str__(self) -> str:
        diffs = "; ".join(f"{c}: {old!r} → {new!r}" for c, old, new in self.changes)
        return f"row {self.row}: finding {self.finding_id} ({self.study} × {self.biomarker} × {self.outcome}): {diffs}"


@dataclass
class ImportReport:
    """What an import added or changed (or, for a dry run, would add or change)."""

    source: str
    review: str
    rows: int = 0
    papers_added: int = 0
    studies_added: int = 0
    biomarkers_added: list[str] = field(default_factory=list)
    findings_added: int = 0
    findings_present: int = 0
    findings_changed: int = 0
    changes: list[FindingChange] = field(default_factory=list)
    review_created: bool = False
    dry_run: bool = False

    def summary(self) -> str:
        """One line: rows read, what was (or would be) added and changed, and the review."""
        verb = "would add" if self.dry_run else "added"
        markers = f" ({', '.join(self.biomarkers_added)})" if self.biomarkers_added else ""
        changed = f"; {'would change' if self.dry_run else 'changed'} {self.findings_changed} findings"
        return (f"{self.source}: {self.rows} rows; {verb} {self.papers_added} papers, {self.studies_added} studies, "
                f"{self.findings_added} findings, {len(self.biomarkers_added)} biomarkers{markers}"
                + (changed if self.findings_changed else "")
                + (f"; {self.findings_present} findings already present" if self.findings_present else "")
                + f" → review {self.review}")


@dataclass
class StudyEntry:
    """The validated study columns of a study_id, from the first row that names it."""

    row: int
    paper: PaperIn
    study: StudyIn
    raw: Any


class FindingEntry(NamedTuple):
    """A validated finding row; ``given`` holds the model fields whose column the sheet has.

    ``marker`` is the biomarker as typed, lower-cased: the key of known and new biomarkers.
    """

    row: int
    label: str
    finding: FindingIn
    given: frozenset[str]
    marker: str


@dataclass
class ParsedSheet:
    """Every row validated on its own: studies by study_id, findings, biomarkers to add."""

    studies: dict[str, StudyEntry]
    findings: list[FindingEntry]
    new_markers: dict[str, BiomarkerIn]
    categories: dict[str, tuple[int, str]]
