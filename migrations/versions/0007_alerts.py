"""Alerts: notifications as received, alert groups and alerts of incidents; incident.origin.

- alertnotification: each Alertmanager/Grafana webhook call, body kept, retries once.
- alertgroup: which incident an alert group goes to.
- alert: the alerts of an incident, by fingerprint.
- incident.origin: how the incident began (NULL: declared by a person; alert; storm).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 02:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add incident.origin; create alertnotification, alertgroup and alert."""
    with op.batch_alter_table('incident') as batch:
        batch.add_column(sa.Column('origin', sa.String(length=20), nullable=True))
    op.create_table(
        'alertnotification',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('body', sa.JSON(), nullable=False),
        sa.Column('body_hash', sa.String(length=64), nullable=False),
        sa.Column('group_key', sa.String(), nullable=False),
        sa.Column('incident_id', sa.Integer(), nullable=True),
        sa.Column('outcome', sa.String(length=20), nullable=False),
        sa.Column('reason', sa.String(), nullable=False),
        sa.ForeignKeyConstraint(['incident_id'], ['incident.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_alertnotification_received_at', 'alertnotification', ['received_at'])
    op.create_index(
        'ix_alertnotification_body_hash', 'alertnotification', ['body_hash', 'received_at']
    )
    op.create_index('ix_alertnotification_incident_id', 'alertnotification', ['incident_id'])
    op.create_table(
        'alertgroup',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('group_key', sa.String(), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('incident_id', sa.Integer(), nullable=False),
        sa.Column('opened', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['incident_id'], ['incident.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_alertgroup_key', 'alertgroup', ['key_hash', 'incident_id'])
    op.create_index('ix_alertgroup_incident_id', 'alertgroup', ['incident_id'])
    op.create_index('ix_alertgroup_created_at', 'alertgroup', ['created_at'])
    op.create_table(
        'alert',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('incident_id', sa.Integer(), nullable=False),
        sa.Column('group_id', sa.Integer(), nullable=True),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('fingerprint', sa.String(length=200), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('labels', sa.JSON(), nullable=False),
        sa.Column('annotations', sa.JSON(), nullable=False),
        sa.Column('starts_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('generator_url', sa.String(), nullable=True),
        sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('fired', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['group_id'], ['alertgroup.id']),
        sa.ForeignKeyConstraint(['incident_id'], ['incident.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('incident_id', 'source', 'fingerprint'),
    )
    op.create_index('ix_alert_incident_id', 'alert', ['incident_id'])


def downgrade() -> None:
    """Drop what upgrade added."""
    op.drop_index('ix_alert_incident_id', table_name='alert')
    op.drop_table('alert')
    for name in ('ix_alertgroup_created_at', 'ix_alertgroup_incident_id', 'ix_alertgroup_key'):
        op.drop_index(name, table_name='alertgroup')
    op.drop_table('alertgroup')
    op.drop_index('ix_alertnotification_body_hash', table_name='alertnotification')
    op.drop_index('ix_alertnotification_incident_id', table_name='alertnotification')
    op.drop_index('ix_alertnotification_received_at', table_name='alertnotification')
    op.drop_table('alertnotification')
    with op.batch_alter_table('incident') as batch:
        batch.drop_column('origin')
