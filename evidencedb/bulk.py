"""Bulk writes: multi-row inserts, deferred indexes, a larger page cache.

Why this module exists: the sheet and citation importers add thousands of rows in one transaction,
and curation rules that apply to many rows at once (full-text inclusion, audit rows) write through
the same path; this is their one plain way to do it in seconds rather than one ORM flush per row.
It depends only on the models, so every layer above may use it; no feature owns it.
"""

from __future__ import annotations

import threading
from collections.abc import Generator, Iterator, Sequence
from contextlib import closing, contextmanager
from itertools import chain
from queue import Full, Queue
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from sqlmodel import Session

from evidencedb.models import (
    Paper,
)

if TYPE_CHECKING:
    pass


T = TypeVar("T")
_CHUNK = 500  # bound parameters per IN (...) list, well under every backend's limit
#: Rows per multi-row INSERT on SQLite, and a bound-parameter budget below every SQLite build's limit.
_ROWS_PER_INSERT = 50
_SQLITE_MAX_PARAMETERS = 999
#: Multi-row INSERT statements a load must need before their parameters are bound on a second thread.
_PIPELINE_FROM = 64
#: SQLite page cache during an import, in KiB (PRAGMA cache_size takes a negative number for KiB).
_IMPORT_CACHE_KIB = -131_072


#: Rows a load must add before a table's indexes are built after it rather than during it.
_DEFER_INDEXES_FROM = 10_000


def chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]


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


def ids_by(session: Session, column: Any, key: Any, values: Sequence[Any], *extra: Any) -> dict[Any, int]:
    found: dict[Any, int] = {}
    for chunk in chunks(values):
        found.update((k, i) for i, k in session.execute(sa.select(column, key).where(key.in_(chunk), *extra)))
    return found


@contextmanager
def page_cache(session: Session) -> Iterator[None]:
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
def indexes_deferred(session: Session, table: sa.Table, adding: int) -> Iterator[None]:
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


def table_of(model: Any) -> sa.Table:
    table: sa.Table = model.__table__
    return table


def insert_papers(session: Session, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert new papers (validated, not stored yet) in bulk; their ids, in the order of ``rows``.

    Ids come back by DOI or PMID (both unique); papers with neither are added one by one.
    """
    keyed = [r for r in rows if r.get("doi") or r.get("pmid")]
    bulk_insert(session, table_of(Paper), keyed)
    by_doi = ids_by(session, Paper.id, Paper.doi, [r["doi"] for r in keyed if r.get("doi")])
    by_pmid = ids_by(session, Paper.id, Paper.pmid, [r["pmid"] for r in keyed if not r.get("doi")])
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
