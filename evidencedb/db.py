"""Engines and transactions.

Why this module exists: every connection must be configured the same way (SQLite: foreign keys on,
WAL, a busy timeout; writes that take the lock up front), and every write must be exactly one
transaction owned by the caller. Engines are built by a factory, never at import time.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlmodel import Session

from evidencedb.errors import DatabaseError

ENV_URL = "EVIDENCEDB_URL"
BUSY_TIMEOUT_MS = 10_000
WRITE_OPTION = "evidencedb_write"


def default_url() -> str:
    """The database URL used when neither ``--db`` nor ``EVIDENCEDB_URL`` is given.

    Returns:
        A SQLite URL for ``evidence.db`` in the user data directory.
    """
    from platformdirs import user_data_dir

    return "sqlite:///" + str(Path(user_data_dir("evidencedb", appauthor=False)) / "evidence.db")


def resolve_url(url: str | None) -> str:
    """Pick the URL: explicit, then the environment, then the default file.

    A bare path (no ``://``) is taken as a SQLite file.
    """
    chosen = url or os.environ.get(ENV_URL) or default_url()
    if "://" not in chosen:
        chosen = "sqlite:///" + str(Path(chosen).expanduser().resolve())
    return chosen


def _on_sqlite_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    # Python's sqlite3 opens transactions implicitly; SQLAlchemy's documented recipe turns that
    # off so that the BEGIN emitted below (IMMEDIATE for writes) is the one that counts.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    with suppress(sqlite3.OperationalError):  # read-only media cannot switch journal mode; reads still work
        cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _on_sqlite_begin(connection: sa.Connection) -> None:
    # With the driver's implicit transactions off, SQLAlchemy's begin() must emit BEGIN itself.
    immediate = connection.get_execution_options().get(WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str | None = None, *, create_dirs: bool = False) -> Engine:
    """Build a configured engine.

    Args:
        url: SQLAlchemy URL or SQLite path; ``None`` resolves as :func:`resolve_url` does.
        create_dirs: create the parent directory of a SQLite file (``init`` does; reads do not).

    Raises:
        DatabaseError: the URL cannot be used (unknown driver, unusable path).
    """
    resolved = resolve_url(url)
    try:
        parsed = sa.make_url(resolved)
    except ArgumentError as exc:
        raise DatabaseError(f"not a database URL: {resolved!r}") from exc
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    is_sqlite = parsed.get_backend_name() == "sqlite"
    if is_sqlite and parsed.database and parsed.database != ":memory:":
        path = Path(parsed.database)
        if create_dirs:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseError(f"cannot create directory for database {path}: {exc.strerror}") from exc
        if path.exists() and path.is_dir():
            raise DatabaseError(f"database path is a directory: {path}")
        if not path.parent.is_dir():
            raise DatabaseError(f"no such directory for database: {path.parent}")
    try:
        engine = sa.create_engine(parsed, future=True)
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        hint = " (install evidencedb[postgres])" if parsed.get_backend_name() == "postgresql" else ""
        raise DatabaseError(f"no driver for {parsed.drivername}{hint}") from exc
    if is_sqlite:
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)
    return engine


def is_sqlite(engine: Engine) -> bool:
    """Whether the engine talks to SQLite."""
    return engine.dialect.name == "sqlite"


@contextmanager
def session_scope(engine: Engine, *, write: bool = False) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error.

    Args:
        engine: from :func:`make_engine`.
        write: on SQLite take the write lock at ``BEGIN`` (``BEGIN IMMEDIATE``) so that a
            read-then-write transaction never fails half-way on a lock upgrade.
    """
    with Session(engine, expire_on_commit=False) as session:
        if is_sqlite(engine):
            session.connection(execution_options={WRITE_OPTION: write})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
