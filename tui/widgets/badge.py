"""Level badges: the grade's level as a coloured label, the same colours on every screen."""

from __future__ import annotations

from rich.text import Text

#: Background per level, strongest first; unknown levels (other schemes) are shown plainly.
LEVEL_STYLES: dict[str, str] = {
    "A+": "bold #ffffff on #1b5e20",
    "A": "bold #ffffff on #388e3c",
    "B": "bold #000000 on #fbc02d",
    "C": "bold #000000 on #f57c00",
    "D": "bold #ffffff on #c62828",
}


def level_badge(level: str | None) -> Text:
    """A level as `` A+ `` on its colour."""
    if not level:
        return Text("")
    return Text(f" {level:<2} ", style=LEVEL_STYLES.get(level, "reverse"))
