"""Writing a file whole or not at all.

Why this module exists: every export, figure and diagram must never leave a half-written file where a
reader would take it for the real one; they all write beside the target and rename.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path

from evidencedb.errors import EvidenceDBError


def write_whole(path: Path, write: Callable[[Path], object]) -> None:
    """Let ``write`` fill a temporary file beside ``path``, then rename it: the file appears whole or not at all.

    Raises:
        EvidenceDBError: the file cannot be written.
    """
    tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}.tmp{path.suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        raise EvidenceDBError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
