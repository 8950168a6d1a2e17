"""import batches and the papers identified for a review

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 02:36:37.298230
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "import_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("file_name", sa.String(length=300), nullable=False),
        sa.Column("format", sa.String(length=12), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column("records_identified", sa.Integer(), nullable=False),
        sa.Column("duplicates_removed", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(format = 'reported') = (content_hash IS NULL)", name=op.f("ck_import_batch_file_has_content_hash")
        ),
        sa.CheckConstraint(
            "format IN ('ris', 'bibtex', 'medline', 'pubmed-xml', 'reported')", name=op.f("ck_import_batch_format")
        ),
        sa.CheckConstraint(
            "duplicates_removed IS NULL OR (duplicates_removed >= 0 AND duplicates_removed <= records_identified)",
            name=op.f("ck_import_batch_duplicates_within_identified"),
        ),
        sa.CheckConstraint("length(source) > 0", name=op.f("ck_import_batch_source_not_empty")),
        sa.CheckConstraint(
            "records_identified >= 0", name=op.f("ck_import_batch_records_identified_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["review_id"], ["review.id"], name=op.f("fk_import_batch_review_id_review"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_batch")),
        sa.UniqueConstraint("review_id", "content_hash", name=op.f("uq_import_batch_review_id_content_hash")),
    )
    with op.batch_alter_table("import_batch", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_import_batch_review_id"), ["review_id"], unique=False)

    op.create_table(
        "review_paper",
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["import_batch.id"], name=op.f("fk_review_paper_batch_id_import_batch"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["paper_id"], ["paper.id"], name=op.f("fk_review_paper_paper_id_paper"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["review_id"], ["review.id"], name=op.f("fk_review_paper_review_id_review"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("review_id", "paper_id", name=op.f("pk_review_paper")),
    )
    with op.batch_alter_table("review_paper", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_paper_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_review_paper_paper_id"), ["paper_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("review_paper", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_paper_paper_id"))
        batch_op.drop_index(batch_op.f("ix_review_paper_batch_id"))
    op.drop_table("review_paper")

    with op.batch_alter_table("import_batch", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_batch_review_id"))
    op.drop_table("import_batch")
