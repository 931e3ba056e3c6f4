"""Facts first and one pending row per schedule.

- incident.area_name: the area's name as declared (filled with the area key here);
  incident.number may be empty inside the declaring transaction (it is taken last).
- timelineentry.text goes: entries hold facts; an old entry's words move to
  data.legacy_text, which is shown as it was.
- deadline.key names the schedule of a row (`incident:<id>:<kind>`), unique among
  pending rows; incident_id may be empty (schedules of no incident); the escalation
  step moves from `level` to data.step. Escalation steps are now scheduled one at a
  time, so of several pending steps of one incident only the earliest stays.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PENDING_SQLITE = sa.text("fired_at IS NULL AND cancelled = 0")
_PENDING_POSTGRESQL = sa.text("fired_at IS NULL AND cancelled = false")

_timeline = sa.table(
    'timelineentry', sa.column('id', sa.Integer), sa.column('text', sa.String),
    sa.column('data', sa.JSON),
)
_deadline = sa.table(
    'deadline', sa.column('id', sa.Integer), sa.column('incident_id', sa.Integer),
    sa.column('kind', sa.String), sa.column('level', sa.Integer), sa.column('key', sa.String),
    sa.column('data', sa.JSON), sa.column('due_at', sa.DateTime),
    sa.column('fired_at', sa.DateTime), sa.column('cancelled', sa.Boolean),
)


def upgrade() -> None:
    """Add area_name and deadline.key, move timeline words into data, one pending row a key."""
    bind = op.get_bind()
    with op.batch_alter_table('incident') as batch:
        batch.add_column(
            sa.Column('area_name', sa.String(length=120), nullable=False, server_default='')
        )
    op.execute("UPDATE incident SET area_name = area")
    with op.batch_alter_table('incident') as batch:
        batch.alter_column('number', existing_type=sa.Integer(), nullable=True)

    for row in bind.execute(sa.select(_timeline).where(_timeline.c.text != '')).all():
        data = {**(row.data or {}), 'legacy_text': row.text}
        bind.execute(_timeline.update().where(_timeline.c.id == row.id).values(data=data))
    with op.batch_alter_table('timelineentry') as batch:
        batch.drop_column('text')

    with op.batch_alter_table('deadline') as batch:
        batch.add_column(sa.Column('key', sa.String(length=120), nullable=True))
    seen: set[str] = set()
    query = sa.select(_deadline).order_by(_deadline.c.due_at, _deadline.c.id)
    for row in bind.execute(query).all():
        key = f"incident:{row.incident_id}:{row.kind}"
        values: dict[str, object] = {'key': key, 'data': {**(row.data or {}), 'step': row.level}}
        if row.fired_at is None and not row.cancelled:
            if key in seen:
                values['cancelled'] = True
            seen.add(key)
        bind.execute(_deadline.update().where(_deadline.c.id == row.id).values(**values))
    with op.batch_alter_table('deadline') as batch:
        batch.alter_column('key', existing_type=sa.String(length=120), nullable=False)
        batch.alter_column('incident_id', existing_type=sa.Integer(), nullable=True)
        batch.drop_column('level')
    op.create_index(
        'ux_deadline_pending_key', 'deadline', ['key'], unique=True,
        sqlite_where=_PENDING_SQLITE, postgresql_where=_PENDING_POSTGRESQL,
    )


def downgrade() -> None:
    """Back to 0002: schedules of no incident are dropped."""
    bind = op.get_bind()
    op.drop_index('ux_deadline_pending_key', table_name='deadline')
    op.execute("DELETE FROM deadline WHERE incident_id IS NULL")
    with op.batch_alter_table('deadline') as batch:
        batch.add_column(sa.Column('level', sa.Integer(), nullable=False, server_default='0'))
    for row in bind.execute(sa.select(_deadline)).all():
        step = int((row.data or {}).get('step') or 0)
        bind.execute(_deadline.update().where(_deadline.c.id == row.id).values(level=step))
    with op.batch_alter_table('deadline') as batch:
        batch.alter_column('incident_id', existing_type=sa.Integer(), nullable=False)
        batch.drop_column('key')

    with op.batch_alter_table('timelineentry') as batch:
        batch.add_column(sa.Column('text', sa.String(), nullable=False, server_default=''))
    for row in bind.execute(sa.select(_timeline)).all():
        legacy = (row.data or {}).get('legacy_text', '')
        bind.execute(_timeline.update().where(_timeline.c.id == row.id).values(text=legacy))

    with op.batch_alter_table('incident') as batch:
        batch.drop_column('area_name')
        batch.alter_column('number', existing_type=sa.Integer(), nullable=False)
