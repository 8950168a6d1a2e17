"""Pausing Python's cyclic garbage collector around work that builds many long-lived objects.

Why this module exists: a CLI command, a sheet import and the TUI's start-up each create hundreds of
thousands of objects that stay alive until the work ends; the cyclic collector would scan them again
and again and free nothing. Reference counting still frees everything else while it is paused.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Turn the cyclic collector off for the block; its previous state (on or off) comes back after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
        else:
            gc.disable()
