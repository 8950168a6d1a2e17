"""What every screen shares: the app, typed, and failed workers as one notification.

Worker events do not bubble, so each screen hands its failed workers to the app. ``evidence_app`` is
Textual's ``app`` typed as the :class:`~tui.app.EvidenceApp` (its store, review and curator), for
screens and for the dialogs that need it (:class:`EvidenceModal`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar, cast

from textual.screen import ModalScreen, Screen
from textual.worker import Worker, WorkerState

if TYPE_CHECKING:
    from tui.app import EvidenceApp

ResultType = TypeVar("ResultType")


class EvidenceScreen(Screen[Any]):
    """A screen whose failed workers are reported by the app instead of ending it."""

    @property
    def evidence_app(self) -> EvidenceApp:
        """The app this screen runs in, typed."""
        return cast("EvidenceApp", self.app)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.evidence_app.report_error(event.worker.error)


class EvidenceModal(ModalScreen[ResultType]):
    """A dialog that uses the app's store, review or curator."""

    @property
    def evidence_app(self) -> EvidenceApp:
        """The app this dialog runs in, typed."""
        return cast("EvidenceApp", self.app)
