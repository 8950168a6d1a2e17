"""The command that opens the curation terminal UI."""

from __future__ import annotations

from evidencedb.cli.common import ReviewOpt, app, open_session, state


@app.command()
def tui(review: ReviewOpt = None) -> None:
    """Open the curation terminal UI."""
    try:
        from tui.app import run
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] == "textual":
            from evidencedb.errors import EvidenceDBError

            raise EvidenceDBError("the terminal UI needs Textual, which evidencedb installs: "
                                  "reinstall it (pip install evidencedb)") from None
        raise
    from evidencedb import queries

    with open_session() as session:  # an unknown review or an empty database: one line, before any screen
        review = queries.get_review(review, session=session).slug
    run(state["db"], review=review)  # turns the garbage collector back on once its first screen is drawn
