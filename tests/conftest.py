"""Shared fixtures: a fresh, migrated database per test on SQLite (a real file) and PostgreSQL.

PostgreSQL tests need ``EVIDENCEDB_TEST_PG_URL`` (a role allowed to create databases); without it they
are skipped with that reason. Each test gets its own database, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from evidencedb import curation, migrate
from evidencedb.db import make_engine, session_scope
from evidencedb.resources import data_file
from evidencedb.scoring import Scheme

PG_ENV = "EVIDENCEDB_TEST_PG_URL"
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"no PostgreSQL server: set {PG_ENV} (CI starts one) to run the PostgreSQL tests")
    return url


def _new_url(backend: str, tmp_path: object, request: pytest.FixtureRequest,
             filename: str = "evidence.db") -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path}/{filename}"
        return
    admin_url = request.getfixturevalue("pg_admin_url")
    name = f"edb_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[str]:
    """URL of an empty database on each backend."""
    yield from _new_url(request.param, tmp_path, request)


@pytest.fixture
def second_db_url(db_url: str, request: pytest.FixtureRequest, tmp_path: object) -> Iterator[str]:
    """Another empty database on the same backend as ``db_url`` (for copies and round trips)."""
    yield from _new_url("sqlite" if db_url.startswith("sqlite") else "postgres", tmp_path, request, "second.db")


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A migrated, empty database holding the bundled ke-zhou-2025 scheme."""
    eng = make_engine(db_url)
    migrate.upgrade(eng)
    with session_scope(eng, write=True) as session:
        curation.ensure_scheme(Scheme.from_file(data_file("ke-zhou-2025.json")), session=session)
    yield eng
    eng.dispose()


@pytest.fixture
def seeded_db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """A SQLite file initialised by ``evidencedb init`` (the bundled Ke & Zhou review)."""
    from cli_run import run

    db = str(tmp_path / "seeded.db")
    code, _, err = run(capsys, "--db", db, "init")
    assert code == 0, err
    return db
