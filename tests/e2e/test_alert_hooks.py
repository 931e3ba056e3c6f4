"""`POST /hooks/alertmanager` and `POST /hooks/grafana` over real HTTP: who may notify,
what is refused, what is kept (once), and `firebell alerts`."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session, col, select

from bot.cli import main
from bot.config.model import Config
from bot.hooks.alerts import grafana_signed
from bot.incidents.lifecycle import resolve
from bot.sandbox.fake import FakeSlack
from bot.store.alert_notifications import RETRY_WINDOW
from bot.store.db import Store
from bot.store.tables import AlertNotification
from tests.conftest import TEST_CONFIG
from tests.harness import WEBHOOK_TOKEN, Firebell, post_hook, running

PAYLOADS = Path(__file__).resolve().parents[1] / "integrations" / "payloads"
BEARER = {"Authorization": f"Bearer {WEBHOOK_TOKEN}"}
SECRET_ENV = "FIREBELL_TEST_GRAFANA_SECRET"
SECRET = "grafana-hmac-secret-0123"


def payload(name: str) -> bytes:
    """A fixture's bytes, as its sender writes them."""
    return (PAYLOADS / f"{name}.json").read_bytes()


def notify(
    firebell: Firebell, hook: str, body: Any, headers: dict[str, str] | None = None
) -> httpx.Response:
    """POST `body` (bytes as they are, else JSON) to `/hooks/<hook>`."""
    return post_hook(firebell, hook, body, headers)


def kept(store: Store) -> list[AlertNotification]:
    """Every kept notification, oldest first."""

    def rows(session: Session) -> list[AlertNotification]:
        return list(
            session.execute(select(AlertNotification).order_by(col(AlertNotification.id))).scalars()
        )

    return store.call(rows)


@pytest.fixture
def signed(
    store: Store,
    database_url: str,
    config: Config,
    fake: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Firebell]:
    """firebell whose Grafana hook requires an HMAC signature."""
    monkeypatch.setenv(SECRET_ENV, SECRET)
    alerts = config.alerts.model_copy(
        update={"grafana": config.alerts.grafana.model_copy(update={"secret_env": SECRET_ENV})}
    )
    with running(database_url, config.model_copy(update={"alerts": alerts}), fake) as app:
        yield app


@pytest.mark.parametrize("hook", ["alertmanager", "grafana"])
@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong-token"}, {"Authorization": WEBHOOK_TOKEN}],
    ids=["missing", "wrong", "not-bearer"],
)
def test_a_notification_without_the_bearer_token_is_refused_with_401(
    firebell: Firebell, store: Store, hook: str, headers: dict[str, str]
) -> None:
    """No token, a wrong one, or one not sent as a bearer: 401, nothing kept."""
    answer = notify(firebell, hook, payload(f"{hook}_firing"), headers)
    assert answer.status_code == 401
    assert "bearer token" in answer.json()["error"]
    assert kept(store) == []


def test_grafana_signature_is_required_and_checked_when_a_secret_is_set(
    signed: Firebell, store: Store
) -> None:
    """Missing or wrong signature: 401; right over the body, or over `ts:body` with the
    timestamp header: kept."""
    body = payload("grafana_firing")
    missing = notify(signed, "grafana", body)
    assert missing.status_code == 401
    assert "X-Grafana-Alerting-Signature" in missing.json()["error"]
    wrong = {**BEARER, "X-Grafana-Alerting-Signature": grafana_signed(b"other", body)}
    assert notify(signed, "grafana", body, wrong).status_code == 401
    stale = {
        **BEARER,
        "X-Grafana-Alerting-Signature": grafana_signed(SECRET.encode(), body),
        "X-Grafana-Alerting-Signature-Timestamp": "1767225600",
    }
    assert notify(signed, "grafana", body, stale).status_code == 401
    assert kept(store) == []
    right = {**BEARER, "X-Grafana-Alerting-Signature": grafana_signed(SECRET.encode(), body)}
    assert notify(signed, "grafana", body, right).status_code == 200
    other = payload("grafana_resolved")
    timed = {
        **BEARER,
        "X-Grafana-Alerting-Signature": grafana_signed(SECRET.encode(), other, "1767225600"),
        "X-Grafana-Alerting-Signature-Timestamp": "1767225600",
    }
    assert notify(signed, "grafana", other, timed).status_code == 200
    assert [row.source for row in kept(store)] == ["grafana", "grafana"]


def test_bodies_that_are_too_big_not_json_or_not_an_object_are_refused(
    firebell: Firebell, store: Store
) -> None:
    """5 MB: 413; not JSON: 400; a JSON array: 400; nothing kept."""
    huge = notify(firebell, "alertmanager", b"[" + b"1," * 2_500_000 + b"1]")
    assert huge.status_code == 413
    assert "body over" in huge.json()["error"]
    assert notify(firebell, "alertmanager", b"receiver=firebell").status_code == 400
    array = notify(firebell, "grafana", [json.loads(payload("grafana_firing"))])
    assert array.status_code == 400
    assert "JSON object" in array.json()["error"]
    assert kept(store) == []


def test_another_payload_version_is_a_422_naming_version(firebell: Firebell, store: Store) -> None:
    """`version: "3"` is refused, naming the field and the version expected."""
    body = json.loads(payload("alertmanager_firing")) | {"version": "3"}
    answer = notify(firebell, "alertmanager", body)
    assert answer.status_code == 422
    assert answer.json()["fields"] == ["version"]
    assert answer.json()["error"].startswith('version: expected "4"')
    bad_labels = json.loads(payload("alertmanager_grouped"))
    bad_labels["alerts"][2]["labels"] = {"alertname": 1}
    answer = notify(firebell, "alertmanager", bad_labels)
    assert answer.status_code == 422
    assert answer.json()["error"] == "alerts[2].labels: expected an object of strings"
    assert kept(store) == []


def test_an_alert_without_labels_is_kept_and_routed(firebell: Firebell, store: Store) -> None:
    """Labels `{}`: no name, no service, still kept and given an outcome."""
    body = json.loads(payload("alertmanager_firing"))
    body["alerts"][0]["labels"] = {}
    body["commonLabels"] = {}
    answer = notify(firebell, "alertmanager", body)
    assert answer.status_code == 200, answer.text
    [row] = kept(store)
    assert row.body["alerts"][0]["labels"] == {}
    assert row.outcome != ""


def test_mention_syntax_in_labels_and_annotations_is_stored_as_sent(
    firebell: Firebell, store: Store
) -> None:
    """`<!channel>` in an annotation is kept verbatim in the body (escaped when posted)."""
    assert notify(firebell, "alertmanager", payload("alertmanager_grouped")).status_code == 200
    [row] = kept(store)
    assert row.body["commonAnnotations"]["summary"] == "p95 latency over 3s <!channel> & <@U01ML1>"
    assert row.group_key == '{}:{alertname="HighLatency", service="checkout-assistant"}'


def test_the_same_body_twice_is_kept_once_and_both_answered_200(
    firebell: Firebell, store: Store
) -> None:
    """A retried notification: one row, the second answer says duplicate."""
    first = notify(firebell, "alertmanager", payload("alertmanager_firing"))
    second = notify(firebell, "alertmanager", payload("alertmanager_firing"))
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json()["duplicate"] is False
    assert second.json() == first.json() | {"duplicate": True}
    assert len(kept(store)) == 1


def test_identical_bodies_at_the_same_moment_are_kept_once(
    firebell: Firebell, store: Store
) -> None:
    """Four identical notifications racing: all 2xx, one row, one not a duplicate."""
    start = threading.Barrier(4)
    answers: list[httpx.Response] = []

    def send() -> None:
        start.wait()
        answers.append(notify(firebell, "alertmanager", payload("alertmanager_grouped")))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert [a.status_code for a in answers] == [200] * 4
    assert sorted(a.json()["duplicate"] for a in answers) == [False, True, True, True]
    assert len(kept(store)) == 1


def age(store: Store, by: timedelta) -> None:
    """Make every kept notification `by` older, as if it had come that long ago."""

    def older(session: Session) -> None:
        for row in session.execute(select(AlertNotification)).scalars():
            row.received_at -= by
            session.add(row)

    store.call(older)


def test_the_same_body_after_the_retry_window_is_a_repeat_that_reopens_a_resolved_group(
    firebell: Firebell, store: Store, config: Config
) -> None:
    """Alertmanager's `repeat_interval`: recorded again; while the incident is open it
    changes nothing, once a person resolved it the still-firing group opens a new one."""
    first = notify(firebell, "alertmanager", payload("alertmanager_firing")).json()
    assert first["outcome"] == "opened"
    age(store, RETRY_WINDOW + timedelta(seconds=1))
    repeat = notify(firebell, "alertmanager", payload("alertmanager_firing")).json()
    assert (repeat["duplicate"], repeat["outcome"]) == (False, "repeated")
    [opened, repeated] = kept(store)
    assert opened.incident_id is not None
    store.call(resolve, config, incident_id=opened.incident_id, actor="U01ML1")
    age(store, RETRY_WINDOW + timedelta(seconds=1))
    again = notify(firebell, "alertmanager", payload("alertmanager_firing")).json()
    assert (again["duplicate"], again["outcome"]) == (False, "opened")
    assert kept(store)[-1].incident_id not in (None, opened.incident_id)
    assert repeated.incident_id == opened.incident_id


def test_firebell_alerts_lists_the_notifications_newest_first(
    firebell: Firebell,
    store: Store,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`firebell alerts` shows each notification's source, status, alerts and outcome."""
    assert notify(firebell, "alertmanager", payload("alertmanager_truncated")).status_code == 200
    assert notify(firebell, "grafana", payload("grafana_docs_example")).status_code == 200
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("FIREBELL_CONFIG", str(TEST_CONFIG))
    assert main(["alerts", "--since", "1h"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("2 alert notifications from ")
    assert lines[2].split()[2:4] == ["source", "status"]
    grafana_row, alertmanager_row = lines[3], lines[4]
    assert "grafana" in grafana_row
    assert "2 alerts: High memory usage, High CPU usage" in grafana_row
    assert "3 alerts: DiskFull x2" in alertmanager_row
    outcomes = {row.outcome for row in kept(store)}
    assert all(outcome in alertmanager_row + grafana_row for outcome in outcomes)


def test_nan_or_infinity_in_the_body_is_a_400_saying_so(firebell: Firebell, store: Store) -> None:
    """Python reads NaN and Infinity, JSON (and PostgreSQL's json) does not: 400, none kept."""
    raw = payload("alertmanager_firing").rstrip()
    for constant in (b"NaN", b"Infinity", b"-Infinity"):
        answer = notify(firebell, "alertmanager", raw[:-1] + b', "extra": ' + constant + b"}")
        assert answer.status_code == 400
        assert constant.decode() in answer.json()["error"]
    assert kept(store) == []


def test_a_nul_or_lone_surrogate_in_the_group_key_is_a_422_naming_it(
    firebell: Firebell, store: Store
) -> None:
    """A NUL or a lone surrogate cannot be stored as a group key: 422 naming groupKey."""
    for key in ("g\\u0000", '{}:{alertname=\\"X\\ud800\\"}'):
        body = json.loads(payload("alertmanager_firing"))
        raw = json.dumps(body).replace(json.dumps(body["groupKey"]), f'"{key}"', 1).encode()
        answer = notify(firebell, "alertmanager", raw)
        assert answer.status_code == 422, answer.text
        assert answer.json()["fields"] == ["groupKey"]
    assert kept(store) == []


def test_a_nul_or_lone_surrogate_in_an_annotation_is_replaced_and_the_alert_kept(
    firebell: Firebell, store: Store
) -> None:
    """The alert is kept and ingested; the stored body and annotations hold U+FFFD."""
    body = json.loads(payload("alertmanager_firing"))
    body["alerts"][0]["annotations"]["summary"] = "disk\u0000full"
    body["alerts"][0]["labels"]["note"] = "x\ud800"
    raw = json.dumps(body).encode()  # json.dumps writes them as \u0000 and \ud800
    answer = notify(firebell, "alertmanager", raw)
    assert answer.status_code == 200, answer.text
    assert answer.json()["outcome"] == "opened"
    (row,) = kept(store)
    assert row.body["alerts"][0]["annotations"]["summary"] == "disk\ufffdfull"
    assert row.body["alerts"][0]["labels"]["note"] == "x\ufffd"
    assert notify(firebell, "alertmanager", raw).json()["duplicate"] is True
