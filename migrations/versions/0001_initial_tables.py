"""Initial tables: incidents, timeline, audit, outbox, deadlines, counters.

Revision ID: 0001
Revises:
Create Date: 2026-11-26 06:58:35.170741
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create every table and seed the incident counter."""
    op.create_table('counter',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.execute("INSERT INTO counter (name, value) VALUES ('incident', 0)")
    op.create_table('incident',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.String(), nullable=False),
    sa.Column('severity', sa.String(length=2), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('area', sa.String(length=80), nullable=False),
    sa.Column('service', sa.String(length=80), nullable=True),
    sa.Column('declared_by', sa.String(length=40), nullable=False),
    sa.Column('declared_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lead', sa.String(length=40), nullable=True),
    sa.Column('acknowledged_by', sa.String(length=40), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('mitigated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by', sa.String(length=40), nullable=True),
    sa.Column('summary', sa.String(), nullable=False),
    sa.Column('response_deadline', sa.DateTime(timezone=True), nullable=True),
    sa.Column('escalation_level', sa.Integer(), nullable=False),
    sa.Column('last_status_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('channel_name', sa.String(length=80), nullable=False),
    sa.Column('channel_id', sa.String(length=40), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('request_key', sa.String(length=120), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number'),
    sa.UniqueConstraint('request_key')
    )
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_channel_id'), ['channel_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_state'), ['state'], unique=False)

    op.create_table('auditrecord',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=40), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('auditrecord', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auditrecord_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_auditrecord_incident_id'), ['incident_id'], unique=False)

    op.create_table('deadline',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('fired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('fired_by', sa.String(length=80), nullable=True),
    sa.Column('cancelled', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('deadline', schema=None) as batch_op:
        batch_op.create_index(
            'ix_deadline_pending', ['due_at', 'id'], unique=False,
            sqlite_where=sa.text('fired_at IS NULL AND cancelled = 0'),
            postgresql_where=sa.text('fired_at IS NULL AND cancelled = false'),
        )
        batch_op.create_index(batch_op.f('ix_deadline_incident_id'), ['incident_id'], unique=False)

    op.create_table('incidentmessage',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('channel', sa.String(length=40), nullable=False),
    sa.Column('ts', sa.String(length=40), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('incident_id', 'role', 'channel')
    )
    with op.batch_alter_table('incidentmessage', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incidentmessage_incident_id'), ['incident_id'], unique=False)

    op.create_table('outboxmessage',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.Column('lane', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('done', sa.Boolean(), nullable=False),
    sa.Column('lease_owner', sa.String(length=80), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failed', sa.Boolean(), nullable=False),
    sa.Column('last_error', sa.String(), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_lane', ['lane', 'done', 'id'], unique=False)
        batch_op.create_index(
            'ix_outbox_undone', ['id'], unique=False,
            sqlite_where=sa.text('done = 0'), postgresql_where=sa.text('done = false'),
        )
        batch_op.create_index(batch_op.f('ix_outboxmessage_incident_id'), ['incident_id'], unique=False)

    op.create_table('timelineentry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('text', sa.String(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('timelineentry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_timelineentry_incident_id'), ['incident_id'], unique=False)



def downgrade() -> None:
    """Drop every table."""
    with op.batch_alter_table('timelineentry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_timelineentry_incident_id'))

    op.drop_table('timelineentry')
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outboxmessage_incident_id'))
        batch_op.drop_index('ix_outbox_undone')
        batch_op.drop_index('ix_outbox_lane')

    op.drop_table('outboxmessage')
    with op.batch_alter_table('incidentmessage', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incidentmessage_incident_id'))

    op.drop_table('incidentmessage')
    with op.batch_alter_table('deadline', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deadline_incident_id'))
        batch_op.drop_index('ix_deadline_pending')

    op.drop_table('deadline')
    with op.batch_alter_table('auditrecord', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auditrecord_incident_id'))
        batch_op.drop_index(batch_op.f('ix_auditrecord_at'))

    op.drop_table('auditrecord')
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_state'))
        batch_op.drop_index(batch_op.f('ix_incident_channel_id'))

    op.drop_table('incident')
    op.drop_table('counter')
