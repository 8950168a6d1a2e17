"""Shared fixtures: a fresh database per test on SQLite (a real file) and PostgreSQL.

PostgreSQL tests need ``EVIDENCEDB_TEST_PG_URL`` (a role allowed to create databases); without it they
are skipped with that reason. Each test gets its own database, dropped afterwards.

Migrating (Alembic) and loading the bundled review are most of a test's set-up, so each is done once per
session and backend, into a template database, the first time a test needs it; every test then gets its
own copy: SQLite copies the template's file, PostgreSQL creates the database with ``TEMPLATE``.
``db_url`` and ``second_db_url`` stay empty, unmigrated databases.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Literal, Protocol

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from evidencedb import curation, migrate, seeds
from evidencedb.db import make_engine, session_scope
from evidencedb.resources import data_file
from evidencedb.scoring import Scheme

PG_ENV = "EVIDENCEDB_TEST_PG_URL"
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]

# What a new database holds: nothing; the schema and the bundled scheme (``engine``); that and the
# bundled Ke & Zhou review (``seeded_engine``); what ``evidencedb init`` writes (``seeded_db``).
Kind = Literal["empty", "scheme", "seeded", "init"]
_BUILT_ON: dict[Kind, Kind] = {"scheme": "empty", "seeded": "scheme", "init": "empty"}


def _fill(kind: Kind, url: str) -> None:
    """Bring a copy of ``_BUILT_ON[kind]`` at ``url`` to ``kind``, as each test once did for itself."""
    if kind == "init":
        from evidencedb.cli.main import main

        with pytest.raises(SystemExit) as exc:
            main(["--db", url, "init"])
        assert exc.value.code in (0, None), f"evidencedb init exited with {exc.value.code}"
        return
    engine = make_engine(url)
    try:
        if kind == "scheme":
            migrate.upgrade(engine)
            with session_scope(engine, write=True) as session:
                curation.ensure_scheme(Scheme.from_file(data_file("ke-zhou-2025.json")), session=session)
        elif kind == "seeded":
            with session_scope(engine, write=True) as session:
                seeds.load_seeds(session=session)
    finally:
        engine.dispose()


class Databases(Protocol):
    def new(self, kind: Kind, path: Path) -> str:
        """URL of a new database holding ``kind`` (``path``: where a SQLite file goes)."""

    def discard(self, url: str) -> None:
        """Remove a database made by :meth:`new`."""


class SqliteDatabases:
    """New SQLite files; a template's file is copied, never opened by a test."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._templates: dict[Kind, Path] = {}

    def new(self, kind: Kind, path: Path) -> str:
        if kind != "empty":
            shutil.copyfile(self._template(kind), path)
        return f"sqlite:///{path}"

    def discard(self, url: str) -> None:
        pass  # in the test's tmp_path

    def _template(self, kind: Kind) -> Path:
        if kind not in self._templates:
            path = self._directory / f"{kind}.db"
            _fill(kind, self.new(_BUILT_ON[kind], path))
            # Every connection is closed; the last one to close checkpointed the WAL into the file and
            # removed it. Make sure, so that the copies hold everything the template does.
            with closing(sqlite3.connect(path)) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            assert not Path(f"{path}-wal").exists(), f"{path}: a connection is still open"
            self._templates[kind] = path
        return self._templates[kind]


class PostgresDatabases:
    """New databases on the test server; templates are databases no connection is left open to.

    A test's database is dropped as soon as its test ends, not later: ``DROP DATABASE`` waits for a
    checkpoint, which would also have to write every other test database still there.
    """

    def __init__(self, admin_url: str) -> None:
        self._admin_url = admin_url
        self._admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self._templates: dict[Kind, str] = {}

    def new(self, kind: Kind, path: Path) -> str:
        template = "" if kind == "empty" else f' TEMPLATE "{self._template(kind)}"'
        return self._url(self._create(template))

    def discard(self, url: str) -> None:
        name = sa.make_url(url).database
        assert name is not None
        self._drop(name)

    def close(self) -> None:
        try:
            for name in reversed(self._templates.values()):
                self._drop(name)
        finally:
            self._admin.dispose()

    def _create(self, template: str, prefix: str = "edb_test") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with self._admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"{template}')
        return name

    def _url(self, name: str) -> str:
        return sa.make_url(self._admin_url).set(database=name).render_as_string(hide_password=False)

    def _template(self, kind: Kind) -> str:
        if kind not in self._templates:
            base = _BUILT_ON[kind]
            name = self._create("" if base == "empty" else f' TEMPLATE "{self._template(base)}"', "edb_template")
            self._templates[kind] = name  # dropped by close() even if it is not built to the end
            _fill(kind, self._url(name))  # disposes its engine: nothing stays connected to the template
        return self._templates[kind]

    def _drop(self, name: str) -> None:
        """Drop a test database, even with a test's connections left open or autovacuum at work on it.

        ``DROP DATABASE ... WITH (FORCE)`` refuses (InsufficientPrivilege) when a backend of another role,
        an autovacuum worker, is on the database. So the role ends its own backends there (no privilege
        needed), then a plain ``DROP`` stops autovacuum itself and waits up to 5 s for backends to exit.
        """
        own = sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name "
                      "AND usename = current_user AND pid <> pg_backend_pid()")
        for attempt in range(5):
            with self._admin.connect() as conn:
                conn.execute(own, {"name": name})
                try:
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
                    return
                except sa.exc.OperationalError as exc:  # 55006: still in use (a backend not yet exited)
                    if getattr(exc.orig, "sqlstate", None) != "55006" or attempt == 4:
                        raise
            time.sleep(0.5)


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"no PostgreSQL server: set {PG_ENV} (CI starts one) to run the PostgreSQL tests")
    return url


@pytest.fixture(scope="session")
def sqlite_databases(tmp_path_factory: pytest.TempPathFactory) -> SqliteDatabases:
    return SqliteDatabases(tmp_path_factory.mktemp("templates"))


@pytest.fixture(scope="session")
def postgres_databases(pg_admin_url: str) -> Iterator[PostgresDatabases]:
    databases = PostgresDatabases(pg_admin_url)
    yield databases
    databases.close()


def new_database(request: pytest.FixtureRequest, backend: str, kind: Kind, path: Path) -> Iterator[str]:
    """URL of a new database of ``kind`` on ``backend``, removed after the test."""
    databases: Databases = request.getfixturevalue(f"{backend}_databases")
    url = databases.new(kind, path)
    try:
        yield url
    finally:
        databases.discard(url)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each database-backed test runs once on each backend."""
    return str(request.param)


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of an empty database on each backend."""
    yield from new_database(request, backend, "empty", tmp_path / "evidence.db")


@pytest.fixture
def second_db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Another empty database on the same backend as ``db_url`` (for copies and round trips)."""
    yield from new_database(request, backend, "empty", tmp_path / "second.db")


@pytest.fixture
def engine_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of the database of ``engine`` (for the CLI on the same database)."""
    yield from new_database(request, backend, "scheme", tmp_path / "migrated.db")


@pytest.fixture
def engine(engine_url: str) -> Iterator[Engine]:
    """A migrated, empty database holding the bundled ke-zhou-2025 scheme."""
    eng = make_engine(engine_url)
    yield eng
    eng.dispose()


@pytest.fixture
def seeded_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of the database of ``seeded_engine``."""
    yield from new_database(request, backend, "seeded", tmp_path / "seeded-engine.db")


@pytest.fixture
def seeded_engine(seeded_url: str) -> Iterator[Engine]:
    """As ``engine``, with the bundled Ke & Zhou review loaded (``seeds.load_seeds``)."""
    eng = make_engine(seeded_url)
    yield eng
    eng.dispose()


@pytest.fixture
def seeded_db(sqlite_databases: SqliteDatabases, tmp_path: Path) -> str:
    """A SQLite file initialised by ``evidencedb init`` (the bundled Ke & Zhou review)."""
    db = tmp_path / "seeded.db"
    sqlite_databases.new("init", db)
    return str(db)
