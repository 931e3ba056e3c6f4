"""Failure cases: what products report on /hooks/feedback.

- failurecase: one case (service, kind, ref, text, confidence, at), kept once per
  (service, kind, ref).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 03:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create failurecase."""
    op.create_table(
        "failurecase",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("ref", sa.String(length=200), nullable=True),
        sa.Column("text", sa.String(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("service", "kind", "ref"),
    )
    op.create_index("ix_failurecase_at", "failurecase", ["at"])
    op.create_index("ix_failurecase_service_at", "failurecase", ["service", "at"])


def downgrade() -> None:
    """Drop what upgrade added."""
    op.drop_index("ix_failurecase_service_at", table_name="failurecase")
    op.drop_index("ix_failurecase_at", table_name="failurecase")
    op.drop_table("failurecase")
