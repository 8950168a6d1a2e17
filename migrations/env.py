"""Alembic environment of evidencedb: run from code (``evidencedb.migrate``) or by pytest-alembic.

SQLite needs batch mode, and batch mode copies and drops tables: with foreign keys on, ON DELETE
CASCADE would silently empty child tables. So for SQLite the foreign keys are switched off outside
the transaction, the migration runs, ``PRAGMA foreign_key_check`` must come back empty, and they are
switched back on.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import context
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

import evidencedb.models  # noqa: F401  (registers the tables)

config = context.config
target_metadata = SQLModel.metadata


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Render SQLModel's AutoString and our TypeDecorators as the plain types they store.

    Migrations then never import model code, which changes while old migrations must not.
    """
    if type_ != "type":
        return False
    if isinstance(obj, sa.types.TypeDecorator):
        obj = obj.impl_instance
    if isinstance(obj, sa.Text):
        return "sa.Text()"
    if isinstance(obj, AutoString | sa.String):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    if isinstance(obj, sa.BigInteger):
        return "sa.BigInteger()"
    if isinstance(obj, sa.DateTime):
        return f"sa.DateTime(timezone={bool(obj.timezone)})"
    return False


def _configure(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=render_item,
        compare_type=True,
    )


def _run(connection: sa.Connection) -> None:
    if connection.dialect.name != "sqlite":
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    # PRAGMA foreign_keys is a no-op inside a transaction: set it on the driver connection,
    # which runs in autocommit mode between transactions (see evidencedb.db).
    if connection.in_transaction():
        connection.commit()
    raw = connection.connection.driver_connection
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
            problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if problems:
                raise RuntimeError(f"migration left rows that break foreign keys: {problems[:5]}")
        if connection.in_transaction():
            connection.commit()
    finally:
        if connection.in_transaction():
            connection.rollback()
        raw.execute("PRAGMA foreign_keys=ON")


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is None:
        from evidencedb.db import make_engine

        connectable = make_engine(config.get_main_option("sqlalchemy.url"))
    if isinstance(connectable, sa.engine.Engine):
        with connectable.connect() as connection:
            _run(connection)
    else:
        _run(connectable)


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_item=render_item)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
