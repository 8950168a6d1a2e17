"""One entry point for every file an import takes: an extraction sheet or a citation file.

Why this module exists: "is this a sheet or a citation file?" is one decision, made here for the CLI
and the TUI alike; each front end only prints the report it gets back.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from evidencedb.io.sheet.columns import SHEET_SUFFIXES

if TYPE_CHECKING:
    from sqlmodel import Session

    from evidencedb.io.citations.importer import CitationImportReport
    from evidencedb.io.sheet.types import ImportReport

#: Formats ``import_file`` takes instead of guessing from the file: citation formats, then sheets.
SHEET_FORMATS = ("csv", "xlsx")


def is_sheet(path: Path, fmt: str | None = None) -> bool:
    """Whether ``path`` is read as an extraction sheet (else as a citation file)."""
    return fmt in SHEET_FORMATS if fmt else path.suffix.lower() in SHEET_SUFFIXES


def import_file(path: Path, *, session: Session, fmt: str | None = None, review_slug: str | None = None,
                dry_run: bool = False, actor: str = "", source: str | None = None
                ) -> ImportReport | CitationImportReport:
    """Import an extraction sheet or a citation file into a review, in the caller's transaction.

    Args:
        path: the file.
        session: the caller's write session (one transaction).
        fmt: a format instead of the one the file implies (``csv``, ``xlsx`` or a citation format).
        review_slug: the review (default: the first one).
        dry_run: validate and report; write nothing.
        actor: who is importing (audit log, curator of findings).
        source: the PRISMA source of citation records (default: from the file).

    Returns:
        The sheet's or the citation file's report; both have ``summary()``.

    Raises:
        ValidationError: the file cannot be read (names the file and the place).
        ImportValidationError: bad rows or records; nothing is written.
    """
    path = Path(path).expanduser()
    if is_sheet(path, fmt):
        from evidencedb.io.sheet.importer import import_sheet

        return import_sheet(path, session=session, review_slug=review_slug, dry_run=dry_run, actor=actor)
    from evidencedb.io.citations.importer import import_citations

    return import_citations(path, session=session, review_slug=review_slug, dry_run=dry_run, actor=actor,
                            source=source, fmt=fmt)
