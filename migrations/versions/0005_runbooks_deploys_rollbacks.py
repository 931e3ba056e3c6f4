"""Runbook steps, deploys and rollbacks; longer message roles.

- runbookstep: the current tick of each runbook step of an incident.
- deploy: the deploy history per service and environment, deduplicated by fingerprint.
- rollback: each rollback (or drill) with its webhook id and outcome.
- incidentmessage.role grows to 120 characters (`runbook:<name>:<piece>`).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None



def upgrade() -> None:
    """Create runbookstep, rollback and deploy; widen incidentmessage.role."""
    with op.batch_alter_table('incidentmessage') as batch:
        batch.alter_column(
            'role', existing_type=sa.String(length=20), type_=sa.String(length=120),
            existing_nullable=False,
        )
    op.create_table(
        'runbookstep',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('incident_id', sa.Integer(), nullable=False),
        sa.Column('runbook', sa.String(length=120), nullable=False),
        sa.Column('step', sa.String(length=40), nullable=False),
        sa.Column('ticked', sa.Boolean(), nullable=False),
        sa.Column('by', sa.String(length=40), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['incident_id'], ['incident.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('incident_id', 'runbook', 'step'),
    )
    op.create_index('ix_runbookstep_incident_id', 'runbookstep', ['incident_id'])
    op.create_table(
        'rollback',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('incident_id', sa.Integer(), nullable=True),
        sa.Column('service', sa.String(length=80), nullable=False),
        sa.Column('environment', sa.String(length=40), nullable=False),
        sa.Column('from_version', sa.String(length=120), nullable=True),
        sa.Column('to_version', sa.String(length=120), nullable=True),
        sa.Column('requested_by', sa.String(length=40), nullable=False),
        sa.Column('reason', sa.String(), nullable=False),
        sa.Column('dry_run', sa.Boolean(), nullable=False),
        sa.Column('webhook_id', sa.String(length=60), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('status_code', sa.Integer(), nullable=True),
        sa.Column('duration_ms', sa.Integer(), nullable=True),
        sa.Column('message', sa.String(), nullable=False),
        sa.ForeignKeyConstraint(['incident_id'], ['incident.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('webhook_id'),
    )
    op.create_index('ix_rollback_incident_id', 'rollback', ['incident_id'])
    op.create_index('ix_rollback_service', 'rollback', ['service'])
    op.create_table(
        'deploy',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('service', sa.String(length=80), nullable=False),
        sa.Column('environment', sa.String(length=40), nullable=False),
        sa.Column('version', sa.String(length=120), nullable=False),
        sa.Column('actor', sa.String(length=120), nullable=True),
        sa.Column('url', sa.String(length=500), nullable=True),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('rollback_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['rollback_id'], ['rollback.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('fingerprint'),
    )
    op.create_index('ix_deploy_history', 'deploy', ['service', 'environment', 'at', 'id'])
    op.create_index('ix_deploy_rollback_id', 'deploy', ['rollback_id'])


def downgrade() -> None:
    """Drop deploy, rollback and runbookstep; narrow incidentmessage.role again."""
    op.drop_table('deploy')
    op.drop_table('rollback')
    op.drop_table('runbookstep')
    with op.batch_alter_table('incidentmessage') as batch:
        batch.alter_column(
            'role', existing_type=sa.String(length=120), type_=sa.String(length=20),
            existing_nullable=False,
        )
