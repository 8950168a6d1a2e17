"""The TUI's door to the database: each method is one session around ``evidencedb`` reads or writes.

Why this module exists: screens must not build SQL or hold sessions across user think-time. Every
method here opens its own short session (safe from worker threads), calls the core's query and
curation functions, and returns plain values. A save is one write transaction around the core's
workflow (:func:`evidencedb.drafts.save_study`): the paper, the study and every finding change
commit together or not at all, and the grade changes they caused come back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from evidencedb import queries
from evidencedb.db import make_engine, session_scope
from evidencedb.formatting import level_bands, scheme_label, score_text

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from evidencedb.drafts import SaveResult, StudyDraft
    from evidencedb.grading import GradeChange
    from evidencedb.queries import MarkerExplanation, MarkerRow, StudyRow


@dataclass(frozen=True)
class MarkerPage:
    """One page of the leaderboard and how many rows match in all."""

    rows: tuple[MarkerRow, ...]
    total: int
    offset: int
    review: str
    scheme: str


@dataclass(frozen=True)
class SchemeView:
    """The active scheme of a review, as the scheme screen shows it."""

    name: str
    version: str
    content_hash: str
    designs: tuple[tuple[str, str], ...]
    levels: tuple[tuple[str, str, str], ...]

    @property
    def label(self) -> str:
        """``name@version``, as shown to users."""
        return scheme_label(self.name, self.version)


class Store:
    """Short sessions over one engine; the TUI's only route to the database."""

    def __init__(self, url: str | None = None, *, engine: Engine | None = None) -> None:
        self.engine = engine or make_engine(url)
        self.url = self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()

    # ------------------------------------------------------------------ reads

    def reviews(self) -> list[tuple[str, str]]:
        """``(slug, title)`` of every review."""
        with session_scope(self.engine) as session:
            return [(r.slug, r.title) for r in queries.list_reviews(session=session)]

    def default_review(self) -> str:
        """Slug of the default review."""
        with session_scope(self.engine) as session:
            return queries.get_review(None, session=session).slug

    def levels(self, review: str) -> list[str]:
        """Level names of the review's scheme, strongest first."""
        with session_scope(self.engine) as session:
            r = queries.get_review(review, session=session)
            scheme = queries.load_scheme(queries.get_scheme(None, session=session, review=r), session=session)
            return [lv.level for lv in sorted(scheme.levels, key=lambda lv: lv.min_score, reverse=True)]

    def markers(self, review: str, *, search: str = "", min_level: str | None = None, order: str = "score",
                descending: bool | None = None, limit: int = 100, offset: int = 0) -> MarkerPage:
        """One page of the leaderboard, filtered and sorted in SQL."""
        with session_scope(self.engine) as session:
            r = queries.get_review(review, session=session)
            scheme = queries.get_scheme(None, session=session, review=r)
            filters: dict[str, Any] = {"scheme": scheme, "min_level": min_level, "search": search or None}
            total = queries.count_markers(r, session=session, **filters)
            rows = queries.list_markers(r, session=session, order=order, descending=descending, limit=limit,
                                        offset=offset, **filters)
            return MarkerPage(tuple(rows), total, offset, r.slug, scheme.label)

    def explain(self, review: str, biomarker: str) -> MarkerExplanation:
        """One grade with its contributions, conflicting studies and findings."""
        with session_scope(self.engine) as session:
            return queries.explain_marker(queries.get_review(review, session=session), biomarker, session=session)

    def studies(self, review: str, search: str = "") -> list[StudyRow]:
        """Included studies of a review, filtered by label or title."""
        with session_scope(self.engine) as session:
            return queries.list_studies(queries.get_review(review, session=session), session=session,
                                        search=search or None)

    def scheme(self, review: str) -> SchemeView:
        """The review's scheme: coefficients, cut-offs and content hash."""
        with session_scope(self.engine) as session:
            row = queries.get_scheme(None, session=session, review=queries.get_review(review, session=session))
            pure = queries.load_scheme(row, session=session)
        designs = tuple((d, score_text(c)) for d, c in sorted(pure.designs.items(), key=lambda kv: (-kv[1], kv[0])))
        bands = level_bands(pure.levels)
        levels = tuple((lv.level, bands[lv.level], lv.meaning) for lv in pure.levels)  # highest first
        return SchemeView(row.name, row.version, row.content_hash, designs, levels)

    def designs(self, review: str) -> list[str]:
        """The designs the review's scheme weights, for the study form (A to Z)."""
        with session_scope(self.engine) as session:
            r = queries.get_review(review, session=session)
            return sorted(queries.load_scheme(queries.get_scheme(None, session=session, review=r),
                                              session=session).designs)

    def vocabulary(self) -> list[tuple[str, str, str]]:
        """``(term, biomarker, category)`` for every name and synonym."""
        with session_scope(self.engine) as session:
            return queries.biomarker_vocabulary(session=session)

    def find_paper(self, *, doi: str | None = None,
                   pmid: str | None = None) -> tuple[int, str, list[tuple[str, str]]] | None:
        """An existing paper with this DOI or PMID: its id, citation and ``(review, study)`` pairs."""
        with session_scope(self.engine) as session:
            paper = queries.find_paper(doi=doi, pmid=pmid, session=session)
            if paper is None:
                return None
            assert paper.id is not None
            studies = queries.studies_of_paper(paper, session=session)
            return paper.id, f"{queries.citation(paper)} — {paper.title}", studies

    def paper_values(self, paper_id: int) -> dict[str, str]:
        """Form values of a stored paper (to start a new study from an existing citation)."""
        from evidencedb import drafts  # the write side is imported when first used (a faster first paint)

        with session_scope(self.engine) as session:
            return drafts.paper_draft(paper_id, session=session)

    def load_study(self, review: str, label: str) -> StudyDraft:
        """A stored study as form values."""
        from evidencedb import drafts

        with session_scope(self.engine) as session:
            return drafts.load_study(queries.get_review(review, session=session), label, session=session)

    # ------------------------------------------------------------------ writes

    def save(self, review: str, draft: StudyDraft, *, actor: str = "") -> SaveResult:
        """Save a draft (paper, study, every finding change) in one transaction; report grade changes.

        Raises:
            EvidenceDBError: anything invalid; nothing is written.
        """
        from evidencedb import drafts

        with session_scope(self.engine, write=True) as session:
            return drafts.save_study(queries.get_review(review, session=session), draft, session=session,
                                     actor=actor)

    def import_file(self, review: str, path: str, *, dry_run: bool = False, actor: str = "") -> str:
        """Import an extraction sheet (.csv/.xlsx) or a citation file in one transaction; its summary line."""
        from pathlib import Path

        from evidencedb.io.importing import import_file

        with session_scope(self.engine, write=True) as session:
            return import_file(Path(path), session=session, review_slug=review, dry_run=dry_run,
                               actor=actor).summary()

    def regrade(self, review: str) -> tuple[GradeChange, ...]:
        """Rebuild a review's evidence tallies and grades from its findings; report what moved."""
        from evidencedb import curation

        with session_scope(self.engine, write=True) as session:
            r = queries.get_review(review, session=session)
            with curation.track_grades(r, session=session) as tracker:
                curation.refresh_review(r, session=session)
        return tuple(tracker.changes)
