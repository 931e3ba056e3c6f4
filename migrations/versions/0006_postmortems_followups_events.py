"""Impact moments, follow-ups and handled Slack events.

- incident: impact_started_at, impact_ended_at, detected_at (the moments metrics use).
- followup: an incident's action items with owner and state.
- slackevent: Events API deliveries already handled, by `event_id`.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 01:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the incident's impact moments; create followup and slackevent."""
    with op.batch_alter_table('incident') as batch:
        for name in ('impact_started_at', 'impact_ended_at', 'detected_at'):
            batch.add_column(sa.Column(name, sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        'followup',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('incident_id', sa.Integer(), nullable=False),
        sa.Column('text', sa.String(), nullable=False),
        sa.Column('owner', sa.String(length=40), nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('created_by', sa.String(length=40), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('done_by', sa.String(length=40), nullable=True),
        sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['incident_id'], ['incident.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_followup_incident_id', 'followup', ['incident_id'])
    op.create_index('ix_followup_owner', 'followup', ['owner'])
    op.create_table(
        'slackevent',
        sa.Column('event_id', sa.String(length=60), nullable=False),
        sa.Column('kind', sa.String(length=60), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('event_id'),
    )


def downgrade() -> None:
    """Drop what upgrade added."""
    op.drop_table('slackevent')
    op.drop_index('ix_followup_owner', table_name='followup')
    op.drop_index('ix_followup_incident_id', table_name='followup')
    op.drop_table('followup')
    with op.batch_alter_table('incident') as batch:
        for name in ('detected_at', 'impact_ended_at', 'impact_started_at'):
            batch.drop_column(name)
