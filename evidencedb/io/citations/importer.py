"""Importing a citation file into a review: duplicates found, reported and never stored twice.

Why this module exists: a systematic review's search yields the same paper from several databases
(and sometimes twice from one). PRISMA 2020 asks how many records each source gave and how many
duplicates were removed; the database must hold each paper once. This module matches every record of
a file against the file itself and against the stored papers (DOI case-insensitively, PMID, then
normalised title + year), validates everything, and only then writes, in the caller's transaction:
the new papers (through :func:`evidencedb.curation.add_paper`), the review's links to them, and one
import batch with the PRISMA counts. Importing the same file into the same review again adds nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from sqlmodel import Session

from evidencedb import curation, queries
from evidencedb import papers as paper_reads
from evidencedb.bulk import bulk_insert, insert_papers, table_of
from evidencedb.errors import ValidationError
from evidencedb.io.citations.read import read_citations
from evidencedb.io.citations.records import CitationFile, CitationFileError, CitationRecord, title_key
from evidencedb.models import ImportBatch, ReviewPaper, utcnow
from evidencedb.schemas import PaperIn

_DEFAULT_SOURCE = {"medline": "PubMed", "pubmed-xml": "PubMed"}


@dataclass(frozen=True)
class DuplicateRecord:
    """A record that is not stored because the same paper is already known, and how it was recognised."""

    place: str
    title: str
    key: str
    value: str
    kind: str
    paper_id: int | None
    original: str

    def __str__(self) -> str:
        return f"{self.place}: same {self.key} ({self.value}) as {self.original}"


@dataclass(frozen=True)
class CitationImportReport:
    """What an import of a citation file added (or, for a dry run, would add) and what it recognised.

    ``duplicates_removed`` (duplicates within the file or of the review's own papers) is what PRISMA
    2020 reports; records matching a paper stored only for another review are ``linked``: they are
    records of this review too, but the paper is not stored twice.
    """

    file: str
    format: str
    review: str
    source: str
    records_read: int
    added: int
    linked: int
    duplicates: tuple[DuplicateRecord, ...]
    warnings: tuple[str, ...] = ()
    dry_run: bool = False
    batch_id: int | None = None
    already_imported: str | None = None

    @property
    def duplicates_removed(self) -> int:
        """Records removed as duplicates in PRISMA's sense (same file or the review's own papers)."""
        return sum(1 for d in self.duplicates if d.kind != "database")

    @property
    def duplicates_by_key(self) -> dict[str, int]:
        """How many records were recognised by each key (``doi``, ``pmid``, ``title+year``)."""
        return dict(Counter(d.key for d in self.duplicates))

    def summary(self) -> str:
        """One line: records read, papers (that would be) added, duplicates by key, links, the review."""
        if self.already_imported:
            return (f"{self.file}: already imported into review {self.review} as {self.already_imported}; "
                    "nothing added")
        verb = "would add" if self.dry_run else "added"
        keys = ", ".join(f"{k} {n}" for k, n in sorted(self.duplicates_by_key.items()))
        return (f"{self.file} ({self.format}, source {self.source}): {self.records_read} records; {verb} "
                f"{self.added} papers; {self.duplicates_removed} duplicates removed"
                + (f" (by {keys})" if keys else "")
                + (f"; {self.linked} already stored papers linked" if self.linked else "")
                + f" → review {self.review}")


class KnownPaper(NamedTuple):
    """A paper a later record may duplicate: a stored one, or an earlier record of the same file."""

    paper_id: int | None  # None for a record of this file that is not stored yet
    where: str  # "paper 12", or the record's place in the file ("record 3 (line 40)")
    doi: str | None
    pmid: str | None


class Match(NamedTuple):
    """How a record was recognised: by which key, with which value, as which known paper."""

    key: str  # "doi" | "pmid" | "title+year"
    value: str
    paper: KnownPaper


@dataclass
class _Index:
    """Keys of the papers a record may duplicate: DOI, PMID and (title key, year)."""

    doi: dict[str, KnownPaper]
    pmid: dict[str, KnownPaper]
    title: dict[tuple[str, int | None], list[KnownPaper]]

    def add(self, paper: KnownPaper, *, doi: str | None, pmid: str | None, title: str, year: int | None) -> None:
        """Index ``paper`` under these keys (a record's own, which may differ from the stored paper's)."""
        if doi:
            self.doi.setdefault(doi.lower(), paper)
        if pmid:
            self.pmid.setdefault(pmid, paper)
        self.title.setdefault((title_key(title), year), []).append(paper)

    def match(self, record: CitationRecord) -> Match | None:
        if record.doi and record.doi in self.doi:
            return Match("doi", record.doi, self.doi[record.doi])
        if record.pmid and record.pmid in self.pmid:
            return Match("pmid", record.pmid, self.pmid[record.pmid])
        for paper in self.title.get((title_key(record.title), record.year), []):
            # Same title and year but different identifiers: two papers (a reply, an erratum), not one.
            if ((record.doi and paper.doi and record.doi != paper.doi)
                    or (record.pmid and paper.pmid and record.pmid != paper.pmid)):
                continue
            return Match("title+year", f"{record.title[:60]} {record.year or ''}".strip(), paper)
        return None


def _validate(cf: CitationFile) -> list[PaperIn]:
    papers = []
    for record in cf.records:
        try:
            papers.append(curation.validate(PaperIn, record.paper_fields()))
        except ValidationError as exc:
            raise CitationFileError(cf.name, record.place, str(exc)) from None
    return papers


def _source_name(cf: CitationFile, path: Path, source: str | None) -> str:
    name = (source or cf.database or _DEFAULT_SOURCE.get(cf.format) or path.stem).strip()
    if not name or len(name) > 120:
        raise ValidationError(f"source name must be 1 to 120 characters, got {name!r}")
    return name


def import_citations(path: Path, *, session: Session, review_slug: str | None = None, dry_run: bool = False,
                     actor: str = "", source: str | None = None, fmt: str | None = None) -> CitationImportReport:
    """Read a citation file and add its new papers to a review, reporting every duplicate.

    Every record is read and validated before anything is written; a malformed file or record stops
    the import with one error naming the file and the place. Duplicates (same DOI, PMID, or
    normalised title and year) are reported with the paper they duplicate and never stored twice.

    Args:
        path: a ``.ris``, ``.bib``, ``.nbib``/``.txt`` (MEDLINE) or ``.xml`` (PubMed) file.
        review_slug: the review (default: the first review).
        dry_run: report what would be added; write nothing.
        actor: recorded in the audit log.
        source: the PRISMA source name (default: the database the file names, "PubMed" for PubMed
            formats, else the file's stem).
        fmt: ``ris``, ``bibtex``, ``medline`` or ``pubmed-xml`` instead of guessing from the extension.

    Raises:
        CitationFileError: the file or one of its records is malformed; nothing is written.
        NotFoundError: no such review.
    """
    path = Path(path)
    cf = read_citations(path, fmt)
    review = queries.get_review(review_slug, session=session)
    assert review.id is not None
    name = _source_name(cf, path, source)
    papers = _validate(cf)
    previous = paper_reads.find_import_batch(review, cf.content_hash, session=session)
    if previous is not None:
        when = f"{previous.imported_at:%Y-%m-%d %H:%M}" if previous.imported_at else "before"
        return CitationImportReport(cf.name, cf.format, review.slug, previous.source, len(cf.records), 0, 0, (),
                                    cf.warnings, dry_run, previous.id,
                                    f"batch {previous.id} ({previous.file_name}, {when})")

    in_review = paper_reads.review_paper_ids(review, session=session)
    stored = paper_reads.find_papers(dois=[r.doi for r in cf.records if r.doi],
                                 pmids=[r.pmid for r in cf.records if r.pmid],
                                 years=[r.year for r in cf.records], session=session)
    known = _Index({}, {}, {})
    for paper in stored:
        known.add(KnownPaper(paper.id, f"paper {paper.id}", paper.doi, paper.pmid), doi=paper.doi, pmid=paper.pmid,
                  title=paper.title, year=paper.year)
    in_file = _Index({}, {}, {})
    new: list[tuple[CitationRecord, PaperIn]] = []
    link: list[int] = []
    duplicates: list[DuplicateRecord] = []
    for record, paper_in in zip(cf.records, papers, strict=True):
        hit = in_file.match(record)
        if hit is not None:
            duplicates.append(DuplicateRecord(record.place, record.title, hit.key, hit.value, "file",
                                              hit.paper.paper_id, f"{hit.paper.where} of this file"))
            continue
        hit = known.match(record)
        if hit is not None:
            paper_id = hit.paper.paper_id
            assert paper_id is not None
            kind = "review" if paper_id in in_review else "database"
            note = f"in review {review.slug}" if kind == "review" else "stored for another review"
            duplicates.append(DuplicateRecord(record.place, record.title, hit.key, hit.value, kind, paper_id,
                                              f"{hit.paper.where} ({note})"))
            if kind == "database":
                link.append(paper_id)
                in_review.add(paper_id)
            seen = hit.paper
        else:
            new.append((record, paper_in))
            seen = KnownPaper(None, record.place.split(" (")[0], record.doi, record.pmid)
        in_file.add(seen, doi=record.doi, pmid=record.pmid, title=record.title, year=record.year)

    report = CitationImportReport(cf.name, cf.format, review.slug, name, len(cf.records), len(new), len(link),
                                  tuple(duplicates), cf.warnings, dry_run)
    if dry_run:
        return report
    batch = ImportBatch(review_id=review.id, source=name, file_name=cf.name[:300], format=cf.format,
                        content_hash=cf.content_hash, records_identified=len(cf.records),
                        duplicates_removed=report.duplicates_removed, actor=actor[:curation.ACTOR_LENGTH])
    session.add(batch)
    session.flush()
    assert batch.id is not None
    now = utcnow()
    rows = [{**p.model_dump(), "created_at": now} for _, p in new]
    added = insert_papers(session, rows)
    bulk_insert(session, table_of(ReviewPaper), [
        {"review_id": review.id, "paper_id": paper_id, "batch_id": batch.id, "added_at": now}
        for paper_id in added + link])
    audits = [curation.audit_row(actor=actor, action="insert", table="paper", key=str(paper_id),
                                 new={**row, "id": paper_id}, at=now)
              for paper_id, row in zip(added, rows, strict=True)]
    audits.append(curation.audit_row(
        actor=actor, action="import", table="import_batch", key=str(batch.id), at=now,
        new={"review": review.slug, "file": cf.name, "format": cf.format, "source": name, "records": len(cf.records),
             "added": len(added), "linked": len(link), "duplicates_removed": report.duplicates_removed}))
    curation.write_audit(session, audits)
    session.flush()
    return CitationImportReport(cf.name, cf.format, review.slug, name, len(cf.records), len(added), len(link),
                                tuple(duplicates), cf.warnings, False, batch.id)
