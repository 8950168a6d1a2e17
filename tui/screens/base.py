"""What every screen shares: failed workers become one notification (worker events do not bubble)."""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.worker import Worker, WorkerState


class EvidenceScreen(Screen[Any]):
    """A screen whose failed workers are reported by the app instead of ending it."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.app.report_error(event.worker.error)  # type: ignore[attr-defined]
