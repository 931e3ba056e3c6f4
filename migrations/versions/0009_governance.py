"""Governance: the hash-chained audit trail, sign-offs, rollout stages, restricted incidents.

- auditrecord: seq, object, source, outcome, prev_hash, hash (the chain; existing
  records are chained in id order).
- auditchain: the chain's head and the anchor pruning leaves.
- signoff, stagechange: launch approvals and staged rollout moves.
- incident.restricted: a `confidential` or `pii` service's incident.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 23:40:00
"""

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the columns and tables, then chain the records already kept."""
    with op.batch_alter_table("auditrecord") as batch:
        batch.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("object", sa.String(length=120), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("source", sa.String(length=20), nullable=False, server_default="slack")
        )
        batch.add_column(
            sa.Column("outcome", sa.String(length=20), nullable=False, server_default="ok")
        )
        batch.add_column(
            sa.Column("prev_hash", sa.String(length=64), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("hash", sa.String(length=64), nullable=False, server_default=""))
        batch.create_unique_constraint("uq_auditrecord_seq", ["seq"])
    op.create_table(
        "auditchain",
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("pruned_seq", sa.Integer(), nullable=False),
        sa.Column("pruned_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    _chain_kept_records()
    op.create_table(
        "signoff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(length=80), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("config_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_signoff_service", "signoff", ["service"])
    op.create_table(
        "stagechange",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(length=80), nullable=False),
        sa.Column("from_stage", sa.String(length=20), nullable=True),
        sa.Column("to_stage", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_stagechange_service", "stagechange", ["service"])
    with op.batch_alter_table("incident") as batch:
        batch.add_column(
            sa.Column("restricted", sa.Boolean(), nullable=False, server_default=sa.false())
        )


# The chain's hashing as it was when this revision was written (`bot.audit.chain`): a
# migration never imports the bot, whose code moves on while the revision stays.
_RECORDS = sa.table(
    "auditrecord",
    sa.column("id", sa.Integer()),
    sa.column("seq", sa.Integer()),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("actor", sa.String()),
    sa.column("action", sa.String()),
    sa.column("object", sa.String()),
    sa.column("source", sa.String()),
    sa.column("outcome", sa.String()),
    sa.column("incident_id", sa.Integer()),
    sa.column("detail", sa.JSON()),
    sa.column("prev_hash", sa.String()),
    sa.column("hash", sa.String()),
)
_CHAIN = sa.table(
    "auditchain",
    sa.column("name", sa.String()),
    sa.column("seq", sa.Integer()),
    sa.column("hash", sa.String()),
    sa.column("pruned_seq", sa.Integer()),
    sa.column("pruned_hash", sa.String()),
)


def _record_hash(row: sa.Row[Any], seq: int, prev_hash: str) -> str:
    at = row.at if row.at.tzinfo is not None else row.at.replace(tzinfo=UTC)
    fields = {
        "seq": seq,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": row.actor,
        "action": row.action,
        "object": row.object,
        "source": row.source,
        "outcome": row.outcome,
        "incident_id": row.incident_id,
        "detail": json.loads(json.dumps(row.detail or {}, default=str)),
        "prev_hash": prev_hash,
    }
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _chain_kept_records() -> None:
    """Give every record kept so far its place in the chain, in id order, and the head."""
    connection = op.get_bind()
    rows = connection.execute(sa.select(_RECORDS).order_by(_RECORDS.c.id)).all()
    seq, prev_hash = 0, ""
    for row in rows:
        seq += 1
        digest = _record_hash(row, seq, prev_hash)
        connection.execute(
            _RECORDS.update()
            .where(_RECORDS.c.id == row.id)
            .values(seq=seq, prev_hash=prev_hash, hash=digest)
        )
        prev_hash = digest
    connection.execute(
        _CHAIN.insert().values(name="audit", seq=seq, hash=prev_hash, pruned_seq=0, pruned_hash="")
    )


def downgrade() -> None:
    """Drop what upgrade added."""
    with op.batch_alter_table("incident") as batch:
        batch.drop_column("restricted")
    op.drop_index("ix_stagechange_service", table_name="stagechange")
    op.drop_table("stagechange")
    op.drop_index("ix_signoff_service", table_name="signoff")
    op.drop_table("signoff")
    op.drop_table("auditchain")
    with op.batch_alter_table("auditrecord") as batch:
        batch.drop_constraint("uq_auditrecord_seq", type_="unique")
        for column in ("hash", "prev_hash", "outcome", "source", "object", "seq"):
            batch.drop_column(column)
