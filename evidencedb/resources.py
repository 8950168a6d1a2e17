"""Where the bundled migrations, seeds and scheme files are.

Why this module exists: in a wheel, ``migrations/`` and ``seeds/`` are shipped inside the package
(``evidencedb/_bundled``); in a source checkout they sit beside it. Code asks here and never guesses.
"""

from __future__ import annotations

from pathlib import Path

from evidencedb.errors import EvidenceDBError

_PACKAGE = Path(__file__).resolve().parent


def bundled_dir(name: str) -> Path:
    """Return the directory ``migrations`` or ``seeds`` of this installation.

    Raises:
        EvidenceDBError: the installation is incomplete.
    """
    for candidate in (_PACKAGE / "_bundled" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise EvidenceDBError(f"this installation of evidencedb has no {name}/ directory")


def data_file(name: str) -> Path:
    """A file shipped in ``evidencedb/data``."""
    return _PACKAGE / "data" / name
