"""`POST /hooks/deploys` over real HTTP: who may report, what is refused, what is kept,
and where it shows (`/incident deploys`, the incident's main message)."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlmodel import Session, col, select

from bot.config.model import Config, Deploys
from bot.sandbox.fake import FakeSlack
from bot.store.db import Store
from bot.store.tables import Deploy, Rollback
from bot.webhooks.standard import new_secret, signed_headers
from tests.e2e.scenario import SERVICE, Declared, answer_text, current, shown_text
from tests.harness import WEBHOOK_TOKEN, Firebell, post_hook, running

SECRET_ENV = "FIREBELL_TEST_DEPLOY_SECRET"


def report(firebell: Firebell, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    """POST `body` (JSON, or bytes as they are) to the deploy hook."""
    return post_hook(firebell, "deploys", body, headers, timeout=10)


def deploy(firebell: Firebell, version: str, hour: int, **fields: Any) -> httpx.Response:
    """Report a deploy of `version` to the checkout assistant at `hour` o'clock."""
    at = datetime(2026, 3, 1, hour, 0, tzinfo=UTC).isoformat()
    answer = report(firebell, {"service": SERVICE, "version": version, "at": at, **fields})
    assert answer.status_code == 201, answer.text
    return answer


def deploys(store: Store) -> list[Deploy]:
    """Every recorded deploy, in the order they were recorded."""

    def rows(session: Session) -> list[Deploy]:
        return list(session.execute(select(Deploy).order_by(col(Deploy.id))).scalars())

    return store.call(rows)


@pytest.fixture
def signed(
    store: Store,
    database_url: str,
    config: Config,
    fake: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[Firebell, str]]:
    """firebell whose deploy hook also takes reports signed with a Standard Webhooks
    secret, and that secret."""
    secret = new_secret()
    monkeypatch.setenv(SECRET_ENV, secret)
    with_secret = config.model_copy(update={"deploys": Deploys(secret_env=SECRET_ENV)})
    with running(database_url, with_secret, fake) as app:
        yield app, secret


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong-token"}, {"Authorization": WEBHOOK_TOKEN}],
    ids=["missing", "wrong", "not-bearer"],
)
def test_a_report_without_the_bearer_token_is_refused_with_401(
    firebell: Firebell, store: Store, headers: dict[str, str]
) -> None:
    """No token, a wrong one, or one not sent as a bearer: 401 and nothing recorded."""
    answer = report(firebell, {"service": SERVICE, "version": "v1"}, headers)
    assert answer.status_code == 401
    assert "bearer token" in answer.json()["error"]
    assert deploys(store) == []


def test_a_badly_signed_report_is_refused_with_401(
    signed: tuple[Firebell, str], store: Store
) -> None:
    """A signature made with another secret, or over another body, is refused."""
    firebell, secret = signed
    body = json.dumps({"service": SERVICE, "version": "v1"}).encode()
    now = int(time.time())
    other = signed_headers(new_secret(), "msg_1", now, body)
    assert report(firebell, body, other).status_code == 401
    tampered = signed_headers(secret, "msg_1", now, b'{"service": "x", "version": "v9"}')
    answer = report(firebell, body, tampered)
    assert answer.status_code == 401
    assert "signature" in answer.json()["error"]
    stale = signed_headers(secret, "msg_1", now - 3600, body)
    assert report(firebell, body, stale).status_code == 401
    assert deploys(store) == []


def test_a_signed_report_without_a_token_is_recorded_once_per_message(
    signed: tuple[Firebell, str], store: Store
) -> None:
    """A valid signature alone is enough; a retry of the same message is a duplicate."""
    firebell, secret = signed
    body = json.dumps({"service": SERVICE, "version": "v7", "actor": "ci"}).encode()
    headers = signed_headers(secret, "msg_deploy_7", int(time.time()), body)
    first = report(firebell, body, headers)
    assert first.status_code == 201, first.text
    assert first.json() == {"recorded": True, "id": first.json()["id"]}
    again = report(firebell, body, signed_headers(secret, "msg_deploy_7", int(time.time()), body))
    assert again.status_code == 200
    assert again.json() == {"recorded": False, "duplicate": True, "id": first.json()["id"]}
    [row] = deploys(store)
    assert (row.service, row.environment, row.version, row.actor) == (
        SERVICE,
        "production",
        "v7",
        "ci",
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"version": "v1"}, "service"),
        ({"service": SERVICE}, "version"),
        ({"service": SERVICE, "version": ""}, "version"),
        ({"service": SERVICE, "version": "v" * 121}, "version"),
        ({"service": SERVICE, "version": 42}, "version"),
        ({"service": SERVICE, "version": "v1\u0000"}, "version"),
        ({"service": SERVICE, "version": "v1", "url": "ftp://example.com/x"}, "url"),
        ({"service": SERVICE, "version": "v1", "url": "javascript:alert(1)"}, "url"),
        ({"service": SERVICE, "version": "v1", "at": "2026-03-01T09:00:00"}, "at"),
        ({"service": SERVICE, "version": "v1", "at": 1767225600}, "at"),
        ({"service": SERVICE, "version": "v1", "at": "yesterday"}, "at"),
        ({"service": SERVICE, "version": "v1", "environment": "prod env"}, "environment"),
        ({"service": SERVICE, "version": "v1", "actor": "x" * 121}, "actor"),
        ({"service": SERVICE, "version": "v1", "enviroment": "staging"}, "enviroment"),
        ([{"service": SERVICE, "version": "v1"}], "body"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_a_malformed_report_is_refused_with_422_naming_the_field(
    firebell: Firebell, store: Store, body: Any, field: str
) -> None:
    """Each bad field gets a 422 that names it, and nothing is recorded."""
    answer = report(firebell, body)
    assert answer.status_code == 422, answer.text
    assert field in answer.json()["fields"]
    assert answer.json()["error"].startswith(f"{field}: ")
    assert deploys(store) == []


def test_a_report_of_an_unknown_service_lists_the_known_ones(
    firebell: Firebell, store: Store
) -> None:
    """An unknown service is a 422 naming the services firebell knows."""
    answer = report(firebell, {"service": "checkout", "version": "v1"})
    assert answer.status_code == 422
    assert answer.json()["fields"] == ["service"]
    assert SERVICE in answer.json()["error"]
    assert deploys(store) == []


def test_a_body_that_is_not_json_is_a_400_and_a_huge_one_a_413(
    firebell: Firebell, store: Store
) -> None:
    """Not JSON: 400; over 64 KiB: 413, without reading it all."""
    assert report(firebell, b"service=checkout-assistant").status_code == 400
    huge = json.dumps({"service": SERVICE, "version": "v1", "actor": "x" * 70_000}).encode()
    answer = report(firebell, huge)
    assert answer.status_code == 413
    assert "body over" in answer.json()["error"]
    assert deploys(store) == []


def test_the_same_body_twice_is_recorded_once(
    firebell: Firebell, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """A repeated report answers 200 duplicate with the first one's id; one INFO line."""
    caplog.set_level(logging.INFO, logger="bot.hooks.deploys")
    body = {"service": SERVICE, "version": "v3", "at": "2026-03-01T10:00:00+01:00"}
    first = report(firebell, body)
    assert first.status_code == 201
    second = report(firebell, body)
    assert second.status_code == 200
    assert second.json() == {"recorded": False, "duplicate": True, "id": first.json()["id"]}
    [row] = deploys(store)
    assert row.at == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    recorded = [r.getMessage() for r in caplog.records if r.name == "bot.hooks.deploys"]
    assert recorded == [f"deploy recorded: {SERVICE} production v3"]


def test_the_same_body_sent_twice_at_once_is_recorded_once(
    firebell: Firebell, store: Store
) -> None:
    """Two identical reports racing each other: one 201, one 200, one row."""
    body = {"service": SERVICE, "version": "v4", "at": "2026-03-01T11:00:00Z"}
    start = threading.Barrier(4)
    statuses: list[int] = []

    def send() -> None:
        start.wait()
        statuses.append(report(firebell, body).status_code)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=15)
    assert sorted(statuses) == [200, 200, 200, 201]
    assert len(deploys(store)) == 1


def test_deploys_lists_the_history_newest_first_with_the_rollback_target(
    firebell: Firebell, store: Store
) -> None:
    """`/incident deploys <service>` shows each environment's deploys and its target."""
    deploy(firebell, "v1", 9)
    deploy(firebell, "v2", 10, actor="alice", url="https://ci.example.com/runs/2?a=1&b=2")
    deploy(firebell, "v3", 11)
    deploy(firebell, "s1", 9, environment="staging")
    answer = answer_text(firebell.slack.command(f"deploys {SERVICE}", channel_id="C0ANYWHERE"))
    production, staging = answer.split("\n\n")
    lines = production.splitlines()
    assert lines[0] == f"*{SERVICE} production: v3 (rollback target v2)*"
    assert [line.split(" · ")[0] for line in lines[1:]] == ["• *v3*", "• *v2*", "• *v1*"]
    assert "by alice · <https://ci.example.com/runs/2?a=1&amp;b=2|link>" in lines[2]
    assert staging.splitlines()[0] == (
        f"*{SERVICE} staging: s1 (no earlier version to roll back to)*"
    )


def test_deploys_of_an_unknown_service_names_the_known_ones(firebell: Firebell) -> None:
    """A service firebell does not know is an answer listing the ones it does."""
    answer = answer_text(firebell.slack.command("deploys nope", channel_id="C0ANYWHERE"))
    assert "There is no service `nope`" in answer
    assert f"`{SERVICE}`" in answer


def test_a_deploy_of_a_rollbacks_version_is_linked_to_it_and_skipped_over(
    firebell: Firebell, store: Store
) -> None:
    """The deploy a rollback made is marked, and the version rolled back from is no
    longer the target."""
    deploy(firebell, "v1", 9)
    deploy(firebell, "v2", 10)
    deploy(firebell, "v3", 11)

    def ask_rollback(session: Session) -> int:
        row = Rollback(
            service=SERVICE,
            environment="production",
            from_version="v3",
            to_version="v2",
            requested_by="U01ML1",
            webhook_id="msg_rollback_1",
            requested_at=datetime.now(UTC),
        )
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id

    rollback_id = store.call(ask_rollback)
    deploy(firebell, "v2", 12)
    assert deploys(store)[-1].rollback_id == rollback_id
    answer = answer_text(firebell.slack.command(f"deploys {SERVICE}", channel_id="C0ANYWHERE"))
    lines = answer.splitlines()
    assert lines[0] == f"*{SERVICE} production: v2 (rollback target v1)*"
    assert lines[1].endswith("(rollback)")
    assert not lines[2].endswith("(rollback)")


def test_the_main_message_shows_the_version_once_a_deploy_arrives(
    firebell: Firebell, fake: FakeSlack, store: Store, declared: Declared
) -> None:
    """A deploy of the incident's service refreshes its main message with the versions,
    and `/incident deploys` in its channel defaults to that service."""
    assert "production:" not in shown_text(declared.main)
    deploy(firebell, "v41", 9)
    deploy(firebell, "v42", 10)
    line = f"{SERVICE} production: v42 (rollback target v41)"
    fake.wait_for(lambda: line in shown_text(current(fake, declared.main)))
    answer = answer_text(firebell.slack.command("deploys", channel_id=declared.channel))
    assert answer.splitlines()[0] == f"*{line}*"
