"""Outbox: claimed_at becomes tried_since, the earliest attempt that may have posted.

Every claim used to overwrite claimed_at, so an attempt that failed before posting hid
an earlier one that may have posted, and the search for that post started too late.
Rows in flight keep their latest claim as the start of their search: as far back as
they looked before.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 15:00:00
"""

from collections.abc import Sequence

from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Rename outboxmessage.claimed_at to tried_since."""
    with op.batch_alter_table('outboxmessage') as batch:
        batch.alter_column('claimed_at', new_column_name='tried_since')


def downgrade() -> None:
    """Rename outboxmessage.tried_since back to claimed_at."""
    with op.batch_alter_table('outboxmessage') as batch:
        batch.alter_column('tried_since', new_column_name='claimed_at')
