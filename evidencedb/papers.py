"""Reads of a review's papers and of the citation files imported into it.

Why this module exists: citation import and PRISMA counting need papers by DOI, PMID and title + year,
and the import batches per source; the listings here serve ``evidencedb papers`` and the importer.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from evidencedb.models import (
    ImportBatch,
    Paper,
    Review,
    ReviewPaper,
    Screening,
    Study,
)

_IN_CHUNK = 500


def _review_paper_ids(review_id: int) -> sa.CompoundSelect[int]:
    return sa.union(
        sa.select(col(ReviewPaper.paper_id).label("paper_id")).where(col(ReviewPaper.review_id) == review_id),
        sa.select(col(Study.paper_id)).where(col(Study.review_id) == review_id),
        sa.select(col(Screening.paper_id)).where(col(Screening.review_id) == review_id),
    )


def review_paper_ids(review: Review, *, session: Session) -> set[int]:
    """Ids of the papers a review holds: identified by an import, screened, or reporting a study."""
    assert review.id is not None
    return set(session.execute(_review_paper_ids(review.id)).scalars())


def find_papers(*, dois: Collection[str] = (), pmids: Collection[str] = (), years: Collection[int | None] = (),
                session: Session) -> list[Paper]:
    """Papers with any of these DOIs (lower-cased) or PMIDs, or published in any of these years.

    ``None`` among ``years`` also matches papers without a year. Used to find the duplicates of a
    citation file's records in one pass.
    """
    found: dict[int, Paper] = {}
    known_years = sorted({y for y in years if y is not None})
    conditions: list[Any] = []
    for column, values in ((col(Paper.doi), sorted({d.lower() for d in dois})), (col(Paper.pmid), sorted(set(pmids))),
                           (col(Paper.year), known_years)):
        conditions += [column.in_(values[i:i + _IN_CHUNK]) for i in range(0, len(values), _IN_CHUNK)]
    if None in years:
        conditions.append(col(Paper.year).is_(None))
    for condition in conditions:
        for paper in session.execute(sa.select(Paper).where(condition)).scalars():
            assert paper.id is not None
            found[paper.id] = paper
    return list(found.values())


def find_import_batch(review: Review, content_hash: str, *, session: Session) -> ImportBatch | None:
    """The import of a file with this content into this review, if there was one."""
    return session.execute(
        sa.select(ImportBatch).where(col(ImportBatch.review_id) == review.id,
                                     col(ImportBatch.content_hash) == content_hash)
    ).scalar_one_or_none()


def list_import_batches(review: Review, *, session: Session) -> list[ImportBatch]:
    """A review's import batches (files imported and counts reported), oldest first."""
    return list(session.execute(
        sa.select(ImportBatch).where(col(ImportBatch.review_id) == review.id).order_by(col(ImportBatch.id))
    ).scalars())


@dataclass(frozen=True)
class PaperRow:
    """One paper of a review as listings show it."""

    paper_id: int
    doi: str | None
    pmid: str | None
    title: str
    year: int | None
    authors: str
    journal: str
    sources: str
    study: str | None


def list_papers(review: Review, *, session: Session) -> list[PaperRow]:
    """The papers of a review (identified by imports, screened, or reporting a study), by year and title.

    ``sources`` names the import sources that identified each paper; ``study`` the included study it reports.
    """
    assert review.id is not None
    ids = _review_paper_ids(review.id).subquery()
    papers = session.execute(
        sa.select(Paper).where(col(Paper.id).in_(sa.select(ids.c.paper_id)))
        .order_by(col(Paper.year), col(Paper.title), col(Paper.id))
    ).scalars().all()
    sources: dict[int, set[str]] = {}
    for paper_id, source in session.execute(
        sa.select(col(ReviewPaper.paper_id), col(ImportBatch.source))
        .join(ImportBatch, col(ImportBatch.id) == col(ReviewPaper.batch_id))
        .where(col(ReviewPaper.review_id) == review.id)
    ).all():
        sources.setdefault(paper_id, set()).add(source)
    studies: dict[int, str] = dict(session.execute(
        sa.select(col(Study.paper_id), sa.func.min(col(Study.label))).where(col(Study.review_id) == review.id)
        .group_by(col(Study.paper_id))
    ).all())
    return [
        PaperRow(p.id or 0, p.doi, p.pmid, p.title, p.year, p.authors, p.journal,
                 ", ".join(sorted(sources.get(p.id or 0, ()))), studies.get(p.id))
        for p in papers
    ]
