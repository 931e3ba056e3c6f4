"""Outbox: remember when a row was last claimed, to find what that attempt posted.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 14:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add outboxmessage.claimed_at."""
    with op.batch_alter_table('outboxmessage') as batch:
        batch.add_column(sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Drop outboxmessage.claimed_at."""
    with op.batch_alter_table('outboxmessage') as batch:
        batch.drop_column('claimed_at')
