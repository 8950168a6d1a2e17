"""Schema migrations, run from code.

Why this module exists: ``evidencedb init`` and ``evidencedb db upgrade`` must work from an installed
wheel in any directory, so Alembic's configuration is built here rather than read from an ini file.
Importing this module imports Alembic; only the commands that migrate do.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from evidencedb import schema
from evidencedb.resources import bundled_dir


def alembic_config(engine: Engine) -> Config:
    """An Alembic config for ``engine`` that uses the bundled migrations."""
    cfg = Config()
    cfg.set_main_option("script_location", str(bundled_dir("migrations")))
    # ConfigParser interpolation: a literal % in a password must be doubled.
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    cfg.attributes["engine"] = engine
    return cfg


def _with_connection(engine: Engine, fn: str, revision: str) -> None:
    cfg = alembic_config(engine)
    with engine.connect() as connection:
        cfg.attributes["connection"] = connection
        getattr(command, fn)(cfg, revision)
        if connection.in_transaction():
            connection.commit()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database up to ``revision``.

    Raises:
        DatabaseError: the database is at a revision this code does not know (a newer evidencedb's).
    """
    current = current_revision(engine)
    if current is not None and current not in schema.REVISIONS:
        schema.check_revision(current, where=engine.url.render_as_string(hide_password=True))
    _with_connection(engine, "upgrade", revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate the database down to ``revision`` (``base`` removes every table)."""
    _with_connection(engine, "downgrade", revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or ``None`` for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    """The newest revision this installation ships."""
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
