"""Planning and writing a validated extraction sheet: what is new, what is present, what changes.

Why this module exists: an import of 100,000 rows must be one transaction that takes seconds, not one
ORM object and one flush per row. ``plan_import`` compares the parsed sheet with what is stored using a
handful of set-based reads (and finds every conflict before anything is written); ``apply_import``
then inserts papers, studies, biomarkers and findings as bulk statements, updates corrected findings
with an audit row each, and regrades the review once.
"""

from __future__ import annotations

import operator
import threading
from collections.abc import Generator, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain
from queue import Full, Queue
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from sqlmodel import Session, col

from evidencedb import curation
from evidencedb.errors import RowProblem
from evidencedb.models import (
    AuditLog,
    Biomarker,
    Finding,
    Paper,
    Review,
    Screening,
    Study,
    utcnow,
)
from evidencedb.schemas import FindingIn
from evidencedb.scoring import Scheme
from evidencedb.sheet_columns import COLUMN_OF, IDENTITY_FIELDS, STUDY_FIELDS, VALUE_FIELDS

if TYPE_CHECKING:
    from evidencedb.sheet import FindingChange, FindingEntry, ImportReport, ParsedSheet

T = TypeVar("T")
_CHUNK = 500  # bound parameters per IN (...) list, well under every backend's limit
#: Rows per multi-row INSERT on SQLite, and a bound-parameter budget below every SQLite build's limit.
_ROWS_PER_INSERT = 50
_SQLITE_MAX_PARAMETERS = 999
#: Multi-row INSERT statements a load must need before their parameters are bound on a second thread.
_PIPELINE_FROM = 64
#: SQLite page cache during an import, in KiB (PRAGMA cache_size takes a negative number for KiB).
_IMPORT_CACHE_KIB = -131_072
#: A stored study's fields that an imported row must agree with (what N counts is a note, not a fact).
_COMPARED_STUDY_FIELDS = tuple(n for n in STUDY_FIELDS if n != "n_patients_note")
_COMPARED_PAPER_FIELDS = ("doi", "pmid", "year")
#: Rows a load must add before a table's indexes are built after it rather than during it.
_DEFER_INDEXES_FROM = 10_000


@dataclass
class ImportPlan:
    """What a validated sheet would do to the database."""

    problems: list[RowProblem] = field(default_factory=list)
    stored_studies: dict[str, Study] = field(default_factory=dict)
    new_studies: list[str] = field(default_factory=list)
    #: label of a new study → id of the stored paper it reports, or the key of a paper to add.
    paper_of: dict[str, int | tuple[str, str]] = field(default_factory=dict)
    n_new_papers: int = 0
    new_findings: list[FindingEntry] = field(default_factory=list)
    changes: list[FindingChange] = field(default_factory=list)
    updates: list[tuple[Finding, FindingEntry, tuple[str, ...]]] = field(default_factory=list)
    n_present: int = 0


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _compared(entry: FindingEntry) -> tuple[str, ...]:
    """Value fields a row states: its columns, except blank status/curator (which keep the stored value)."""
    stated = entry.finding.model_fields_set
    return tuple(n for n in VALUE_FIELDS if n in entry.given and (n not in ("status", "curator") or n in stated))


def plan_import(parsed: ParsedSheet, review: Review | None, known: dict[str, tuple[int, str]], *,
                session: Session) -> ImportPlan:
    """Compare a parsed sheet with the database (reads only).

    Returns:
        The plan, with a problem for every row that disagrees with a stored study or paper, or that
        matches several stored findings, or repeats a finding of an earlier row with other values.
    """
    plan = ImportPlan()
    labels = list(parsed.studies)
    stored_papers: dict[int, Paper] = {}
    if review is not None and labels:
        for chunk in _chunks(labels):
            rows = session.execute(sa.select(Study, Paper).join(Paper, col(Paper.id) == col(Study.paper_id))
                                   .where(col(Study.review_id) == review.id, col(Study.label).in_(chunk))).all()
            for study, paper in rows:
                plan.stored_studies[study.label] = study
                stored_papers[study.id] = paper
    for label, entry in parsed.studies.items():
        stored = plan.stored_studies.get(label)
        if stored is None:
            plan.new_studies.append(label)
            continue
        given = entry.study.model_fields_set
        for name in _COMPARED_STUDY_FIELDS:
            if (name in given or name == "design") and getattr(entry.study, name) != getattr(stored, name):
                plan.problems.append(RowProblem(entry.row, name, f"study {label} is stored with {name} "
                                                                 f"{getattr(stored, name)!r}; an import does not "
                                                                 "change stored studies"))
        paper = stored_papers[stored.id or 0]
        for name in _COMPARED_PAPER_FIELDS:
            if name in entry.paper.model_fields_set and getattr(entry.paper, name) != getattr(paper, name):
                plan.problems.append(RowProblem(entry.row, name, f"study {label} is stored with {name} "
                                                                 f"{getattr(paper, name)!r}"))
    _plan_papers(plan, parsed, session=session)
    _plan_findings(plan, parsed, known, session=session)
    return plan


def _plan_papers(plan: ImportPlan, parsed: ParsedSheet, *, session: Session) -> None:
    entries = [parsed.studies[label] for label in plan.new_studies]
    dois = sorted({e.paper.doi for e in entries if e.paper.doi})
    pmids = sorted({e.paper.pmid for e in entries if e.paper.pmid})
    by_doi: dict[str, tuple[int, str | None]] = {}
    by_pmid: dict[str, tuple[int, str | None]] = {}
    for chunk in _chunks(dois):
        for pid, doi, pmid in session.execute(sa.select(col(Paper.id), col(Paper.doi), col(Paper.pmid))
                                              .where(col(Paper.doi).in_(chunk))):
            by_doi[doi] = (pid, pmid)
    for chunk in _chunks(pmids):
        for pid, doi, pmid in session.execute(sa.select(col(Paper.id), col(Paper.doi), col(Paper.pmid))
                                              .where(col(Paper.pmid).in_(chunk))):
            by_pmid[pmid] = (pid, doi)
    new_keys: dict[tuple[str, str], tuple[str, str]] = {}
    for label, entry in zip(plan.new_studies, entries, strict=True):
        doi, pmid = entry.paper.doi, entry.paper.pmid
        hit_doi = by_doi.get(doi) if doi else None
        hit_pmid = by_pmid.get(pmid) if pmid else None
        if hit_doi and pmid and hit_doi[1] and hit_doi[1] != pmid:
            plan.problems.append(RowProblem(entry.row, "pmid", f"the stored paper with doi {doi} has pmid "
                                                               f"{hit_doi[1]}"))
        elif hit_pmid and doi and hit_pmid[1] and hit_pmid[1] != doi:
            plan.problems.append(RowProblem(entry.row, "doi", f"the stored paper with pmid {pmid} has doi "
                                                              f"{hit_pmid[1]}"))
        elif hit_doi or hit_pmid:
            plan.paper_of[label] = (hit_doi or hit_pmid or (0, None))[0]
        else:
            keys = [("doi", doi)] if doi else []
            keys += [("pmid", pmid)] if pmid else []
            key = next((new_keys[k] for k in keys if k in new_keys), keys[0] if keys else ("study", label))
            for k in keys:
                new_keys.setdefault(k, key)
            plan.paper_of[label] = key
    plan.n_new_papers = len({k for k in plan.paper_of.values() if isinstance(k, tuple)})


def _plan_findings(plan: ImportPlan, parsed: ParsedSheet, known: dict[str, tuple[int, str]], *,
                   session: Session) -> None:
    from evidencedb.sheet import FindingChange

    label_of = {s.id: label for label, s in plan.stored_studies.items()}
    identity = operator.attrgetter(*IDENTITY_FIELDS)
    row_identity = operator.itemgetter(*IDENTITY_FIELDS)  # of a validated model's __dict__ (faster)
    stored: dict[tuple[Any, ...], list[Finding]] = {}
    ids = sorted(i for i in label_of if i is not None)
    for chunk in _chunks(ids):
        for f in session.execute(sa.select(Finding).where(col(Finding.study_id).in_(chunk))).scalars():
            key = (label_of[f.study_id], f.biomarker_id, *identity(f))
            stored.setdefault(key, []).append(f)
    seen: dict[tuple[Any, ...], FindingEntry] = {}
    new_ref = {marker: ("new", marker) for marker in parsed.new_markers}
    for entry in parsed.findings:
        f = entry.finding
        marker = entry.marker
        ref: Any = known[marker][0] if marker in known else new_ref[marker]
        key = (entry.label, ref, *row_identity(vars(f)))
        earlier = seen.get(key)
        if earlier is not None:
            compared = _compared(entry)
            diffs = [n for n in compared if getattr(earlier.finding, n) != getattr(f, n)]
            plan.problems += [RowProblem(entry.row, COLUMN_OF.get(n, n), f"the same finding as row {earlier.row} "
                                         f"(same study, biomarker, outcome, threshold …) with {n} "
                                         f"{getattr(earlier.finding, n)!r} there") for n in diffs]
            plan.n_present += not diffs
            continue
        seen[key] = entry
        matches = stored.get(key) if stored else None
        if not matches:
            plan.new_findings.append(entry)
            continue
        compared = _compared(entry)
        differing = [[n for n in compared if getattr(m, n) != getattr(f, n)] for m in matches]
        if any(not d for d in differing):
            plan.n_present += 1
        elif len(matches) > 1:
            plan.problems.append(RowProblem(entry.row, "row", f"matches {len(matches)} stored findings (ids "
                                            f"{', '.join(str(m.id) for m in matches)}) with other values; "
                                            "correct them one by one"))
        else:
            match, names = matches[0], tuple(differing[0])
            plan.updates.append((match, entry, names))
            plan.changes.append(FindingChange(
                entry.row, entry.label, f.biomarker, f.outcome, match.id or 0,
                tuple((COLUMN_OF.get(n, n), _text(getattr(match, n)), _text(getattr(f, n))) for n in names)))


def bulk_insert(session: Session, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows (dicts with the same keys) with one driver-level ``executemany``."""
    if rows:
        insert_columns(session, table, {name: [row[name] for row in rows] for name in rows[0]})


def insert_columns(session: Session, table: sa.Table, columns: dict[str, Sequence[Any]]) -> None:
    """Insert many rows given column by column (every column holds one value per row).

    SQLAlchemy's own executemany spends most of its time building parameters; here each column's bind
    processor (decimal text, timestamps, booleans) is looked up once and applied only to columns that
    have one, once per value as written (once in all for a column holding one object, as timestamps
    of one import do), and the driver receives plain tuples. A column that is NULL in every row,
    nullable and without any default is left out of the statement (the database stores NULL for it
    all the same). On SQLite, rows go in groups of up to :data:`_ROWS_PER_INSERT` per
    ``INSERT … VALUES (…), (…)`` statement. Values are exactly what the ORM would have sent.
    """
    n_rows = len(next(iter(columns.values()), ()))
    if not n_rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    mark = {"qmark": "?", "format": "%s", "pyformat": "%s"}.get(dialect.paramstyle)
    if mark is None:  # another driver: let SQLAlchemy do it
        names = list(columns)
        connection.execute(table.insert(), [dict(zip(names, row, strict=True))
                                            for row in zip(*columns.values(), strict=True)])
        return
    kept = {name: values for name, values in columns.items() if not _always_null(table.c[name], values)}
    names = list(kept)
    binders = [(values, table.c[name].type._cached_bind_processor(dialect)) for name, values in kept.items()]
    quote = dialect.identifier_preparer.quote
    head = f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) VALUES "
    one = f"({', '.join(mark for _ in names)})"
    per = max(1, min(_ROWS_PER_INSERT, _SQLITE_MAX_PARAMETERS // len(names))) if dialect.name == "sqlite" else 1
    full = n_rows - n_rows % per if per > 1 else 0

    def groups(start: int, stop: int, size: int) -> Iterator[tuple[Any, ...]]:
        """The parameters of rows start…stop, ``size`` rows to a statement, bound a group at a time."""
        for first in range(start, stop, size):
            bound = [_bind(values[first:first + size], process) for values, process in binders]
            yield tuple(chain.from_iterable(zip(*bound, strict=True)))

    if full // per >= _PIPELINE_FROM:  # a large load: bind the next groups while SQLite writes this one
        with closing(_ahead(groups(0, full, per))) as params:  # the binding thread ends with the statement
            _executemany(connection, head + ", ".join([one] * per), params)
    elif full:  # one statement per group: far fewer statement steps than one per row
        connection.exec_driver_sql(head + ", ".join([one] * per), list(groups(0, full, per)))
    if full < n_rows:  # one row per statement: the rest, or every row on other backends (each column bound once)
        bound = [_bind(values[full:], process) for values, process in binders]
        connection.exec_driver_sql(head + one, list(zip(*bound, strict=True)))


def _executemany(connection: sa.Connection, statement: str, params: Iterator[tuple[Any, ...]]) -> None:
    """The driver's executemany over parameters that are still being produced.

    SQLAlchemy wants every parameter set at once, so the statement goes to a driver cursor of the
    same connection and transaction; a driver error is raised as SQLAlchemy's, as for any statement.
    """
    cursor = connection.connection.cursor()
    try:
        cursor.executemany(statement, params)  # type: ignore[arg-type]  # the driver takes any iterable
    except connection.dialect.loaded_dbapi.Error as exc:
        raise sa.exc.DBAPIError.instance(statement, None, exc, connection.dialect.loaded_dbapi.Error,
                                         dialect=connection.dialect) from exc
    finally:
        cursor.close()


def _ahead(items: Iterator[T], depth: int = 4) -> Generator[T, None, None]:
    """``items``, produced on a second thread up to ``depth`` items ahead of the consumer.

    SQLite lets go of the interpreter while it executes a statement, so the next statements'
    parameters are built meanwhile. An error on either side ends both: the producer's is raised here,
    and when the consumer stops early the producer stops at its next item.
    """
    handoff: Queue[tuple[bool, Any]] = Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple[bool, Any]) -> bool:
        while not stop.is_set():
            try:
                handoff.put(entry, timeout=0.05)
                return True
            except Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((True, item)):
                    return
        except BaseException as exc:  # handed over to the consumer, which raises it
            put((False, exc))
        else:
            put((False, None))

    producer = threading.Thread(target=produce, name="evidencedb-bind", daemon=True)
    producer.start()
    try:
        while True:
            produced, value = handoff.get()
            if produced:
                yield value
            elif value is None:
                return
            else:
                raise value
    finally:
        stop.set()
        producer.join()


def _always_null(column: sa.Column[Any], values: Sequence[Any]) -> bool:
    """Whether a column may be left out of an insert: NULL in every row, nullable, no default of any kind."""
    if not column.nullable or column.primary_key or column.default is not None or column.server_default is not None:
        return False
    return values[0] is None and values.count(None) == len(values)


def _bind(values: Sequence[Any], process: Any) -> Sequence[Any]:
    """A column's values as the driver takes them: the bind processor applied once per value as written.

    A column holding one object throughout (the import's timestamp) is processed once; otherwise results
    are shared between values that are the same object (equal decimals are not: ``0.5`` and ``0.50``
    are stored as written).
    """
    if process is None:
        return values
    first = values[0]
    if first is not None and values.count(first) == len(values) and all(v is first for v in values):
        return [process(first)] * len(values)
    memo: dict[int, Any] = {}
    out: list[Any] = []
    for value in values:
        if value is None:
            out.append(None)
            continue
        done = memo.get(id(value))
        if done is None:
            done = memo[id(value)] = process(value)
        out.append(done)
    return out


def _ids(session: Session, column: Any, key: Any, values: Sequence[Any], *extra: Any) -> dict[Any, int]:
    found: dict[Any, int] = {}
    for chunk in _chunks(values):
        found.update((k, i) for i, k in session.execute(sa.select(column, key).where(key.in_(chunk), *extra)))
    return found


def apply_import(plan: ImportPlan, parsed: ParsedSheet, review: Review | None, scheme: Scheme,
                 report: ImportReport, known: dict[str, tuple[int, str]], *, session: Session, actor: str) -> Review:
    """Write a planned import in the caller's transaction, then regrade the review once.

    Returns:
        The review written to (created when the database had none).
    """
    with _page_cache(session):
        return _apply(plan, parsed, review, scheme, report, known, session=session, actor=actor)


@contextmanager
def _page_cache(session: Session) -> Iterator[None]:
    """On SQLite, give this connection a larger page cache while the import writes; restore it after.

    The default cache (2 MiB) is far smaller than the pages 100,000 findings and their indexes touch,
    so SQLite would re-read and spill pages during the inserts and the regrade. The cache size is
    memory only: it changes nothing about durability or what is written.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    driver = connection.connection.driver_connection
    assert driver is not None
    previous = int(driver.execute("PRAGMA cache_size").fetchone()[0])
    driver.execute(f"PRAGMA cache_size={_IMPORT_CACHE_KIB}")
    try:
        yield
    finally:
        driver.execute(f"PRAGMA cache_size={previous}")


@contextmanager
def _indexes_deferred(session: Session, table: sa.Table, adding: int) -> Iterator[None]:
    """On SQLite, build a table's non-unique indexes once after a large load instead of row by row.

    When a load at least doubles a table (and adds :data:`_DEFER_INDEXES_FROM` rows or more), the
    table's non-unique indexes are dropped and created again from the model's metadata after the
    inserts, in the same transaction: sorting the rows once is cheaper than growing each B-tree one
    insert at a time. A failure rolls the whole transaction back, indexes included (SQLite's schema
    changes are transactional). Other backends keep their indexes: dropping one would lock the table
    for readers until the commit.
    """
    connection = session.connection()
    indexes = [i for i in table.indexes if not i.unique]
    if (connection.dialect.name != "sqlite" or adding < _DEFER_INDEXES_FROM or not indexes
            or connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one() > adding):
        yield
        return
    for index in indexes:
        index.drop(connection)
    yield
    for index in indexes:
        index.create(connection)


def _apply(plan: ImportPlan, parsed: ParsedSheet, review: Review | None, scheme: Scheme,
           report: ImportReport, known: dict[str, tuple[int, str]], *, session: Session, actor: str) -> Review:
    if review is None:
        scheme_row = curation.ensure_scheme(scheme, session=session)
        review = curation.create_review(session=session, slug=report.review, title=f"Review {report.review}",
                                        scheme=scheme_row, actor=actor)
    assert review.id is not None
    session.flush()
    now = utcnow()
    audits: list[dict[str, Any]] = []

    def audit(table: str, key: str, new: dict[str, Any], action: str = "insert", old: str | None = None) -> None:
        audits.append({"at": now, "actor": actor[:80], "action": action, "table_name": table, "row_key": key[:80],
                       "old": old, "new": new})  # the mapping; its JSON text is made before the rows are written

    rows: list[dict[str, Any]] = [{"name": m.name, "category": m.category, "description": m.description}
                                  for m in parsed.new_markers.values()]
    bulk_insert(session, table_of(Biomarker), rows)
    names = [r["name"] for r in rows]
    marker_ids = {k.lower(): v for k, v in _ids(session, Biomarker.id, Biomarker.name, names).items()}
    marker_ids.update({k: v[0] for k, v in known.items()})
    for row in rows:
        audit("biomarker", row["name"], row)

    new_paper_ids, paper_rows = _insert_papers(session, plan, parsed, now)
    paper_id = {label: (new_paper_ids[k] if isinstance(k, tuple) else k) for label, k in plan.paper_of.items()}
    for key, pid in new_paper_ids.items():
        audit("paper", str(pid), paper_rows[key])
    rows = [{**parsed.studies[label].study.model_dump(), "review_id": review.id, "paper_id": paper_id[label],
             "created_at": now, "updated_at": now} for label in plan.new_studies]
    bulk_insert(session, table_of(Study), rows)
    study_ids = _ids(session, Study.id, Study.label, plan.new_studies, Study.review_id == review.id)
    for row in rows:
        audit("study", row["label"], row)
    study_ids.update({label: s.id for label, s in plan.stored_studies.items() if s.id is not None})
    _screen(session, review.id, sorted({paper_id[label] for label in plan.new_studies}), now, report.source)

    models = [e.finding for e in plan.new_findings]
    with ThreadPoolExecutor(max_workers=1) as encoder:
        if models:
            # A validated model keeps its field values in its __dict__: read them as items, a row at a time, in C.
            fields = [n for n in FindingIn.model_fields if n not in ("biomarker", "curator")]
            columns: dict[str, Sequence[Any]] = dict(zip(
                fields, zip(*map(operator.itemgetter(*fields), map(vars, models)), strict=True), strict=True))
            columns["study_id"] = [study_ids[e.label] for e in plan.new_findings]
            columns["biomarker_id"] = [marker_ids[e.marker] for e in plan.new_findings]
            columns["curator"] = [m.curator or actor for m in models]
            columns["created_at"] = columns["updated_at"] = [now] * len(models)
            with _indexes_deferred(session, table_of(Finding), len(models)):
                insert_columns(session, table_of(Finding), columns)
                del columns
                # From here on the database works in long single statements (building the indexes,
                # regrading), during which SQLite lets go of the interpreter: meanwhile a second thread
                # turns the audit rows gathered so far into JSON.
                texts = encoder.submit(_audit_texts, [row["new"] for row in audits])
        else:
            texts = encoder.submit(_audit_texts, [row["new"] for row in audits])
        for finding, entry, changed in plan.updates:
            old = curation.audit_json({n: getattr(finding, n) for n in changed})
            for name in changed:
                setattr(finding, name, getattr(entry.finding, name))
            finding.updated_at = now
            session.add(finding)
            audit("finding", str(finding.id), {n: getattr(finding, n) for n in changed}, action="update", old=old)
        audit("finding", report.source, {"review": review.slug, "rows": report.rows, "findings_added": len(models),
                                         "findings_changed": len(plan.updates), "studies_added": len(plan.new_studies),
                                         "papers_added": len(new_paper_ids), "biomarkers_added": len(names)},
              action="import")
        session.flush()
        curation.refresh_review(review, session=session)
        encoded = texts.result()
    for row, text in zip(audits, encoded + _audit_texts([row["new"] for row in audits[len(encoded):]]), strict=True):
        row["new"] = text
    bulk_insert(session, table_of(AuditLog), audits)
    return review


def _audit_texts(values: list[dict[str, Any]]) -> list[str]:
    return [curation.audit_json(value) for value in values]


def table_of(model: Any) -> sa.Table:
    table: sa.Table = model.__table__
    return table


def insert_papers(session: Session, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert new papers (validated, not stored yet) in bulk; their ids, in the order of ``rows``.

    Ids come back by DOI or PMID (both unique); papers with neither are added one by one.
    """
    keyed = [r for r in rows if r.get("doi") or r.get("pmid")]
    bulk_insert(session, table_of(Paper), keyed)
    by_doi = _ids(session, Paper.id, Paper.doi, [r["doi"] for r in keyed if r.get("doi")])
    by_pmid = _ids(session, Paper.id, Paper.pmid, [r["pmid"] for r in keyed if not r.get("doi")])
    ids = []
    for row in rows:
        if row.get("doi"):
            ids.append(by_doi[row["doi"]])
        elif row.get("pmid"):
            ids.append(by_pmid[row["pmid"]])
        else:
            paper = Paper(**row)
            session.add(paper)
            session.flush()
            assert paper.id is not None
            ids.append(paper.id)
    return ids


def _insert_papers(session: Session, plan: ImportPlan, parsed: ParsedSheet, now: datetime
                   ) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], dict[str, Any]]]:
    """Insert the sheet's new papers; their ids and rows by paper key."""
    keys = list(dict.fromkeys(k for k in plan.paper_of.values() if isinstance(k, tuple)))
    first_study = {key: label for label, key in reversed(plan.paper_of.items())}
    rows = {k: {**parsed.studies[first_study[k]].paper.model_dump(), "created_at": now} for k in keys}
    return dict(zip(keys, insert_papers(session, [rows[k] for k in keys]), strict=True)), rows


def _screen(session: Session, review_id: int, paper_ids: list[int], now: datetime, source: str) -> None:
    """Record the full-text inclusion of the papers of new studies (unless already screened at full text)."""
    screened: set[int] = set()
    for chunk in _chunks(paper_ids):
        screened.update(session.execute(sa.select(col(Screening.paper_id)).where(
            col(Screening.review_id) == review_id, col(Screening.stage) == "full_text",
            col(Screening.paper_id).in_(chunk))).scalars())
    rows = [{"review_id": review_id, "paper_id": pid, "stage": "full_text", "decision": "include",
             "reason": f"imported from {source}", "decided_at": now} for pid in paper_ids if pid not in screened]
    bulk_insert(session, table_of(Screening), rows)
