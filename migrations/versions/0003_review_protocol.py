"""a review's protocol: PICO, eligibility criteria, search, exclusion reasons

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 14:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXT_COLUMNS = ("population", "intervention", "comparator", "outcomes", "inclusion_criteria", "exclusion_criteria",
                "databases")


def upgrade() -> None:
    with op.batch_alter_table("review", schema=None) as batch_op:
        for name in TEXT_COLUMNS:
            batch_op.add_column(sa.Column(name, sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("search_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("exclusion_reasons", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("review", schema=None) as batch_op:
        batch_op.drop_column("updated_at")
        batch_op.drop_column("exclusion_reasons")
        batch_op.drop_column("search_date")
        for name in reversed(TEXT_COLUMNS):
            batch_op.drop_column(name)
