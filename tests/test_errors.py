"""One line per error, the same in the CLI and the TUI: named cases for ``evidencedb.errors.describe``."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from evidencedb.errors import NotFoundError, describe, is_user_error

# (name, error, its line, whether the user can act on it)
CASES: list[tuple[str, BaseException, str, bool]] = [
    ("ours as it is", NotFoundError("no review 'x'"), "no review 'x'", True),
    ("database: not initialised", OperationalError("SELECT 1", {}, Exception("no such table: review")),
     "the database is not initialised: run `evidencedb init`", True),
    ("database: locked", OperationalError("INSERT", {}, Exception("database is locked")),
     "the database is locked by another writer; try again", True),
    ("file: the reason and the file", FileNotFoundError(2, "No such file or directory", "x.csv"),
     "No such file or directory: x.csv", True),
    ("file: no file named", PermissionError(13, "Permission denied"), "Permission denied", True),
    ("a bug: its type and message", KeyError("design"), "KeyError: 'design'", False),
]


@pytest.mark.parametrize(("name", "error", "line", "user_error"), CASES, ids=[c[0] for c in CASES])
def test_named_cases(name: str, error: BaseException, line: str, user_error: bool) -> None:
    assert describe(error) == line
    assert is_user_error(error) is user_error
