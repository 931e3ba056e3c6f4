"""Migration 0009 chains the audit records a database kept before the chain existed."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.audit.command import check_trail
from bot.audit.trail import audit
from bot.store.db import Store, db_now, make_engine
from bot.store.migrate import alembic_config, upgrade

OLD = [
    ("2026-03-01 09:00:00.250000", "U01ML1", "incident.declared", '{"severity": "P1"}'),
    ("2026-03-01 09:05:00", "firebell", "incident.escalated", '{"step": 2, "to": ["U1"]}'),
    ("2026-03-01 09:10:00", "U01ML1", "rollback.refused", "{}"),
]


@pytest.fixture
def fresh_url(tmp_path: Path) -> Iterator[str]:
    """An empty database of the backend under test, dropped afterwards."""
    if os.environ.get("FIREBELL_TEST_DB", "sqlite").lower() != "postgresql":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    admin_url = os.environ.get(
        "FIREBELL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
    )
    name = f"firebell_audit_{uuid.uuid4().hex[:10]}"
    admin = make_engine(admin_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_records_kept_before_the_chain_are_chained_in_id_order(fresh_url: str) -> None:
    """Records written at revision 0008 get seq 1..n in id order and a head; the trail
    verifies, and a record appended afterwards continues the chain."""
    command.upgrade(alembic_config(fresh_url), "0008")
    engine = make_engine(fresh_url)
    with engine.begin() as connection:
        for at, actor, action, detail in OLD:
            connection.execute(
                text(
                    "INSERT INTO auditrecord (at, actor, action, detail) "
                    "VALUES (:at, :actor, :action, :detail)"
                ),
                {"at": at, "actor": actor, "action": action, "detail": detail},
            )
    upgrade(engine)
    store = Store(engine)
    try:
        found = store.call(check_trail)
        assert (found.problem, found.loose, found.head.seq) == (None, 0, 3)
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT seq, action FROM auditrecord ORDER BY id"))
            assert [tuple(r) for r in rows] == [(n + 1, o[2]) for n, o in enumerate(OLD)]
        store.call(
            lambda s: audit(s, at=db_now(s), actor="U01ML1", action="test.after_the_upgrade")
        )
        after = store.call(check_trail)
        assert (after.problem, after.head.seq) == (None, 4)
    finally:
        store.dispose()
