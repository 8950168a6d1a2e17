"""The schema revisions this version of evidencedb knows, checked before a command reads or writes.

Why this module exists: a database migrated by a newer evidencedb has columns and rules this code does
not know; writing to it could break the newer version's data, and reading it could mislead. Every
command checks the stored revision first (one indexed read, no Alembic import) and refuses in one
line naming both revisions. A test keeps :data:`REVISIONS` equal to the shipped migrations.
"""

from __future__ import annotations

import sqlalchemy as sa

from evidencedb.errors import DatabaseError

#: Every migration this version ships, oldest first.
REVISIONS: tuple[str, ...] = ("0001", "0002", "0003")
HEAD = REVISIONS[-1]


def stored_revision(connection: sa.Connection) -> str | None:
    """The revision a database is at; ``None`` when it has no evidencedb schema."""
    if not sa.inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one_or_none()


def check_revision(revision: str | None, *, where: str) -> None:
    """Refuse a database whose schema is missing, older or newer than this code's.

    Raises:
        DatabaseError: one line naming the database, its revision and this code's, and what to do.
    """
    if revision == HEAD:
        return
    if revision is None:
        raise DatabaseError(f"{where} has no evidencedb schema yet: `evidencedb init` creates it")
    if revision in REVISIONS:
        raise DatabaseError(f"{where} is at schema {revision}, older than this evidencedb's {HEAD}: "
                            "`evidencedb init` (or `evidencedb db upgrade`) migrates it")
    raise DatabaseError(f"{where} is at schema {revision}, newer than this evidencedb knows (its newest is "
                        f"{HEAD}): upgrade evidencedb before using this database; nothing was changed")
