"""What a resolve queues for the postmortem, and where; twice at once queues it once."""

from __future__ import annotations

import pytest

from bot.config.model import Config
from bot.incidents.errors import UserError
from bot.incidents.lifecycle import resolve
from bot.postmortem.queueing import KIND, post_again
from bot.store.db import Store
from tests.usecases.steps import declare_one, queued, together


def summary_rows(db: Store, incident_id: int) -> list[tuple[str, str | None]]:
    """Each queued summary as (form, channel), in order."""
    return [
        (str(row.payload["form"]), row.payload.get("channel"))
        for row in queued(db, incident_id, KIND)
    ]


@pytest.mark.parametrize(
    ("severity", "expected"),
    [
        ("P0", [("full", None), ("short", "C0ANNOUNCE"), ("short", "C0PRODUCT")]),
        ("P1", [("full", None), ("short", "C0ANNOUNCE"), ("short", "C0PRODUCT")]),
        ("P2", [("full", None), ("short", "C0PRODUCT")]),
        ("P3", [("full", None)]),
    ],
)
def test_resolve_queues_the_full_summary_and_the_short_ones_by_scope(
    db: Store, config: Config, severity: str, expected: list[tuple[str, str | None]]
) -> None:
    """Announcements for `everyone` and `owning_team`, informed teams unless `backlog`."""
    incident_id = declare_one(db, config, severity)
    db.call(resolve, config, incident_id=incident_id, actor="U01ML1")
    assert summary_rows(db, incident_id) == expected


def test_two_resolves_at_once_queue_the_summaries_once(db: Store, config: Config) -> None:
    """The second resolve waits for the first's lock, then is refused: one set of posts."""
    incident_id = declare_one(db, config, "P1")
    refused: list[str] = []

    def resolving() -> None:
        try:
            db.call(resolve, config, incident_id=incident_id, actor="U01ML1")
        except UserError as err:
            refused.append(str(err))

    together(resolving, resolving)
    assert len(refused) == 1
    assert "already resolved" in refused[0]
    assert [form for form, _ in summary_rows(db, incident_id)] == ["full", "short", "short"]


def test_posting_again_queues_one_full_summary_even_after_resolve(
    db: Store, config: Config
) -> None:
    """`/incident postmortem` queues the full summary only, resolved or not."""
    incident_id = declare_one(db, config, "P1")
    db.call(post_again, incident_id=incident_id)
    db.call(resolve, config, incident_id=incident_id, actor="U01ML1")
    db.call(post_again, incident_id=incident_id)
    forms = [form for form, _ in summary_rows(db, incident_id)]
    assert forms == ["full", "full", "short", "short", "full"]
