"""Spreadsheet cells that are text, and stay text: the guard against formulas in exported files.

Why this module exists: a cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
is run as a formula by Excel and LibreOffice when a CSV is opened (OWASP "CSV injection"). An export
writes such text with one leading apostrophe, which spreadsheets show as text; an import removes it
again, so a round trip restores the text exactly. XLSX exports write text cells as strings, never
formulas, and need no apostrophe; imports of either format take one off where it guards a trigger.
"""

from __future__ import annotations

import re

#: The first characters that make a spreadsheet read a cell as a formula.
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
#: A guarded cell somewhere in a CSV file's bytes: an apostrophe before a trigger (or before another
#: apostrophe, which guards a guard) at the start of a cell. Files without one need no unguarding.
GUARDED_IN_CSV = re.compile(rb"(?:^|[,;\t\"\n])'['=+\-@\t\r]", re.MULTILINE)


def needs_guard(text: str) -> bool:
    """Whether a spreadsheet would read ``text`` as a formula, or it looks like a guarded cell itself."""
    return text.startswith(TRIGGERS) or (text.startswith("'") and needs_guard(text[1:]))


def guard(text: str) -> str:
    """``text`` as an exported cell: one apostrophe in front where a spreadsheet would run it."""
    return "'" + text if needs_guard(text) else text


def unguard(text: str) -> str:
    """The text an exported cell stands for: the inverse of :func:`guard` (``unguard(guard(t)) == t``)."""
    return text[1:] if text.startswith("'") and needs_guard(text[1:]) else text
