"""Exceptions of the evidence database, and the one line each front end shows for an error.

Why this module exists: the CLI and the TUI turn these into one clear line each (:func:`describe`);
anything else that escapes is a bug. Every message names the thing that is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass


class EvidenceDBError(Exception):
    """Base class: a problem the user can act on."""


class DatabaseError(EvidenceDBError):
    """The database cannot be opened, is not initialised, or refused an operation."""


class NotFoundError(EvidenceDBError):
    """A named thing (review, biomarker, study, scheme) does not exist."""


class ValidationError(EvidenceDBError):
    """A value given for a field is not acceptable."""


class DuplicateError(ValidationError):
    """The record already exists (same DOI, PMID, name or label)."""


class UnknownDesignError(EvidenceDBError):
    """A study design that the scoring scheme does not weight.

    Grading never weights an unlisted design as 0: it stops, naming the scheme, the design and the
    studies, so that the curator maps the study or makes a new scheme version.
    """

    def __init__(self, scheme: str, unknown: dict[str, list[str]]) -> None:
        self.scheme = scheme
        self.unknown = unknown
        parts = [f"{design!r} (studies: {', '.join(sorted(labels))})" for design, labels in sorted(unknown.items())]
        super().__init__(
            f"scheme {scheme} has no coefficient for design " + "; ".join(parts)
            + " - map the studies to a listed design or add a scheme version that lists it"
        )


@dataclass(frozen=True)
class RowProblem:
    """One problem of an imported row: which row (1-based, header = row 1), which column, why."""

    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.reason}"


class ImportValidationError(EvidenceDBError):
    """An import file failed validation; nothing was written."""

    def __init__(self, source: str, problems: list[RowProblem]) -> None:
        self.source = source
        self.problems = problems
        first = problems[0] if problems else None
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{source}: {first}{more}; nothing was written")


def describe_database_error(exc: BaseException) -> str:
    """One line for a database driver error (SQLAlchemy wraps the driver's in ``orig``)."""
    text = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
    lowered = text.lower()
    if "no such table" in lowered or ("relation" in lowered and "does not exist" in lowered):
        return "the database is not initialised: run `evidencedb init`"
    if "file is not a database" in lowered or "file is encrypted" in lowered:
        return "the database file is not a SQLite database"
    if "unable to open database file" in lowered:
        return "cannot open the database file (check the path and permissions)"
    if "database is locked" in lowered:
        return "the database is locked by another writer; try again"
    return text


def is_user_error(error: BaseException) -> bool:
    """Whether ``error`` is one the user can act on (ours, the database's or a file's), not a bug."""
    from sqlalchemy.exc import SQLAlchemyError

    return isinstance(error, EvidenceDBError | SQLAlchemyError | OSError)


def describe(error: BaseException) -> str:
    """One line for any error a command, a worker or a write can raise.

    Ours as they are, database errors as :func:`describe_database_error` words them, file errors as
    the reason and the file (``No such file or directory: x.csv``); anything else (a bug) by its type
    and message.
    """
    from sqlalchemy.exc import SQLAlchemyError

    if isinstance(error, EvidenceDBError):
        return str(error)
    if isinstance(error, SQLAlchemyError):
        return describe_database_error(error)
    if isinstance(error, OSError):
        return f"{error.strerror or error}: {error.filename or ''}".rstrip(": ")
    return f"{type(error).__name__}: {error}"
