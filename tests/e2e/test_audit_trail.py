"""The audit trail end to end: what real requests record, `firebell audit verify` before
and after the database is altered with plain SQL, and the exports."""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, text
from sqlmodel import Session, col

from bot.audit import command as audit_command
from bot.audit.startup import config_hash
from bot.audit.trail import audit
from bot.cli import main
from bot.config.model import Config, Deploys
from bot.hooks.edge import MAX_BODY
from bot.sandbox.fake import FakeSlack
from bot.sandbox.signed import SlackRequests
from bot.store.db import Store, db_now
from bot.store.tables import AuditRecord
from bot.webhooks.standard import new_secret, signed_headers
from tests.conftest import TEST_CONFIG
from tests.e2e.scenario import ACK, SERVICE, TITLE, Declared, answer_text, declare
from tests.e2e.test_deploy_hook import SECRET_ENV
from tests.harness import SIGNING_SECRET, Firebell, post_hook, running


def records(store: Store) -> list[AuditRecord]:
    """Every audit record, in seq order."""
    query = select(AuditRecord).order_by(col(AuditRecord.seq))
    return store.call(lambda s: list(s.execute(query).scalars()))


def actions(store: Store) -> list[tuple[str, str]]:
    """(action, outcome) of every record, in seq order."""
    return [(r.action, r.outcome) for r in records(store)]


def sql(store: Store, statement: str) -> None:
    """Run plain SQL against the database, as someone with its password could."""
    store.call(lambda s: s.execute(text(statement)))


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """`firebell` commands read the test database and config."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("FIREBELL_CONFIG", str(TEST_CONFIG))


@pytest.fixture
def acted(firebell: Firebell, fake: FakeSlack, store: Store) -> Declared:
    """An incident declared, acknowledged by button, a mistyped command and a hook call
    with a bad field: each on the trail."""
    found = declare(firebell, fake, store, f"P1 {TITLE} service:{SERVICE}")
    response = firebell.slack.block_action(
        ACK, str(found.id), user_id="U01ML1", channel_id=found.channel
    )
    assert response.status_code == 200
    assert "is not a command" in answer_text(firebell.slack.command("delcare P1 typo"))
    assert post_hook(firebell, "feedback", {"events": "none"}).status_code == 422
    fake.wait_for(lambda: ("hook.feedback", "refused") in actions(store))
    return found


def test_commands_buttons_hooks_and_the_start_are_recorded_with_their_outcome(
    firebell: Firebell, store: Store, acted: Declared
) -> None:
    """The config loaded at start (with its hash), the declaration (the command and the
    incident's own record), the button press, the refused command with its reason and
    the refused hook (an authenticated caller's bad field) with its status."""
    rows = records(store)
    by_action = {(r.action, r.outcome): r for r in rows}
    loaded = by_action[("config.loaded", "ok")]
    assert loaded.detail["hash"] == config_hash(firebell.config)
    declared = by_action[("incident.declared", "ok")]
    assert (declared.object, declared.actor, declared.source) == (acted.ref, "U0OTHER", "slack")
    assert by_action[("command.declare", "ok")].actor == "U0OTHER"
    pressed = by_action[("button.incident_acknowledge", "ok")]
    assert (pressed.actor, pressed.detail) == ("U01ML1", {"value": str(acted.id)})
    assert ("incident.acknowledged", "ok") in by_action
    refused = by_action[("command.unknown", "refused")]
    assert "`/incident delcare` is not a command" in refused.detail["reason"]
    hook = by_action[("hook.feedback", "refused")]
    assert (hook.actor, hook.source, hook.detail) == ("feedback", "hook", {"status": 422})
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))


def verify(capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """`firebell audit verify`: its exit status and what it printed."""
    status = main(["audit", "verify"])
    out = capsys.readouterr()
    return status, (out.out + out.err).strip()


@pytest.mark.parametrize(
    ("tamper", "said"),
    [
        ("UPDATE auditrecord SET actor = 'U0MALLORY' WHERE seq = 3", "record 3 was changed"),
        ("UPDATE auditrecord SET outcome = 'ok' WHERE outcome = 'refused'", "was changed"),
        ("DELETE FROM auditrecord WHERE seq = 2", "record 2 is missing (deleted)"),
        ("DELETE FROM auditrecord WHERE seq = 1", "record 1 is missing (deleted)"),
        (
            "DELETE FROM auditrecord WHERE seq = (SELECT max(seq) FROM auditrecord)",
            "missing at the end (deleted)",
        ),
        ("UPDATE auditchain SET hash = 'x'", "does not match the chain's head"),
    ],
)
@pytest.mark.usefixtures("acted", "cli")
def test_audit_verify_passes_then_fails_once_the_database_is_altered(
    store: Store, capsys: pytest.CaptureFixture[str], tamper: str, said: str
) -> None:
    """Intact (0, with the records, seqs and the head's hash to keep elsewhere) until a
    row is changed or deleted with plain SQL; then 1, naming what is wrong."""
    kept = records(store)
    count = len(kept)
    assert verify(capsys) == (
        0,
        f"audit trail intact: {count} records, seq 1..{count}; head seq {count} hash "
        f"{kept[-1].hash}",
    )
    sql(store, tamper)
    status, said_now = verify(capsys)
    assert status == 1
    assert said_now.startswith("audit trail BROKEN: ")
    assert said in said_now


def test_audit_exports_a_table_csv_and_json_lines(
    store: Store, acted: Declared, cli: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """The default table, CSV with its header, JSON one record a line, and `--actor`
    keeping one person's records."""
    count = len(records(store))
    assert main(["audit", "--since", "1d"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == [
        "seq", "time", "(UTC)", "actor", "source", "action", "object", "outcome", "detail"
    ]  # fmt: skip
    assert len(table) == count + 1
    assert main(["audit", "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert list(rows[0]) == [
        "seq", "at", "actor", "action", "object", "source", "outcome", "incident_id",
        "detail", "prev_hash", "hash",
    ]  # fmt: skip
    assert [int(r["seq"]) for r in rows] == list(range(1, count + 1))
    assert main(["audit", "--json", "--actor", "U01ML1"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines
    assert {line["actor"] for line in lines} == {"U01ML1"}
    assert ("button.incident_acknowledge", "ok") in {(x["action"], x["outcome"]) for x in lines}
    assert all(len(line["hash"]) == 64 for line in lines)


def test_audit_prune_without_retention_says_how_to_set_it(
    store: Store, cli: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """The example config keeps records for ever: `audit prune` is a usage error saying
    which setting to add."""
    assert main(["audit", "prune"]) == 2
    assert "audit: {retention: 400d}" in capsys.readouterr().err


def test_many_declarations_at_once_leave_one_unbroken_chain(
    firebell: Firebell,
    fake: FakeSlack,
    store: Store,
    cli: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Eight `/incident declare` requests released together, each on its own connection:
    eight incidents, every record in one chain without gaps, and verify passes."""
    start = threading.Barrier(8)
    answers: list[str] = []

    def send(n: int) -> None:
        with SlackRequests(
            firebell.url, SIGNING_SECRET, fake=fake, client=httpx.Client(timeout=10)
        ) as slack:
            start.wait(timeout=5)
            answers.append(answer_text(slack.command(f"declare P2 Outage {n}", user_id="U01ML1")))

    threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert len(answers) == 8
    declared = fake.wait_for(
        lambda: [r for r in records(store) if r.action == "command.declare"][7:] or None
    )
    assert declared
    rows = records(store)
    assert len([r for r in rows if r.action == "incident.declared"]) == 8
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    status, said = verify(capsys)
    assert status == 0, said


def hook_records(store: Store) -> list[tuple[str, str, int]]:
    """(action, outcome, status) of every hook's record, in seq order."""
    return [
        (r.action, r.outcome, r.detail["status"])
        for r in records(store)
        if r.action.startswith("hook.")
    ]


def unauthenticated_counted(firebell: Firebell, hook: str, status: int) -> float:
    """`firebell_hook_unauthenticated_total` of `hook` and `status`, as /metrics says."""
    answer = httpx.get(f"{firebell.url}/metrics", timeout=10)
    assert answer.status_code == 200
    wanted = f'firebell_hook_unauthenticated_total{{hook="{hook}",status="{status}"}} '
    found = [line for line in answer.text.splitlines() if line.startswith(wanted)]
    return float(found[0].split()[-1]) if found else 0.0


def test_hook_calls_refused_before_authentication_write_no_audit_record(
    firebell: Firebell, store: Store
) -> None:
    """A flood of calls without the right bearer token (anyone can send them) adds
    nothing to the trail, only to the metric; an authenticated caller's bad field is
    recorded as refused."""
    wrong = {"Authorization": "Bearer wrong-token"}
    before = len(records(store))
    for hook, body in (
        ("feedback", {"events": []}),
        ("alertmanager", {}),
        ("deploys", {"service": SERVICE, "version": "v1"}),
    ):
        for headers in ({}, wrong) * 10:
            assert post_hook(firebell, hook, body, headers=headers).status_code == 401
        assert unauthenticated_counted(firebell, hook, 401) == 20
    assert len(records(store)) == before
    assert post_hook(firebell, "feedback", {"events": "none"}).status_code == 422
    assert hook_records(store) == [("hook.feedback", "refused", 422)]


@pytest.fixture
def signed_deploys(
    store: Store,
    database_url: str,
    config: Config,
    fake: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[Firebell, str]]:
    """firebell whose deploy hook also takes reports signed with a secret (so it reads
    an unsigned body before it can tell who sent it), and that secret."""
    secret = new_secret()
    monkeypatch.setenv(SECRET_ENV, secret)
    with_secret = config.model_copy(update={"deploys": Deploys(secret_env=SECRET_ENV)})
    with running(database_url, with_secret, fake) as app:
        yield app, secret


def test_a_deploy_report_refused_before_its_signature_is_checked_writes_no_record(
    signed_deploys: tuple[Firebell, str], store: Store
) -> None:
    """With a signing secret the deploy hook reads the body before it checks the
    signature: a too large one from anybody (413) and a bad signature (401) are kept off
    the trail; a signed report with a bad field (422) and a good one (201) are on it."""
    firebell, secret = signed_deploys
    assert post_hook(firebell, "deploys", b"x" * (MAX_BODY + 1), headers={}).status_code == 413
    body = json.dumps({"service": SERVICE, "version": "v1"}).encode()
    other = signed_headers(new_secret(), "msg_1", int(time.time()), body)
    assert post_hook(firebell, "deploys", body, headers=other).status_code == 401
    assert unauthenticated_counted(firebell, "deploys", 413) == 1
    bad = json.dumps({"service": SERVICE}).encode()
    headers = signed_headers(secret, "msg_2", int(time.time()), bad)
    assert post_hook(firebell, "deploys", bad, headers=headers).status_code == 422
    headers = signed_headers(secret, "msg_3", int(time.time()), body)
    assert post_hook(firebell, "deploys", body, headers=headers).status_code == 201
    assert hook_records(store) == [("hook.deploys", "refused", 422), ("hook.deploys", "ok", 201)]


@pytest.mark.usefixtures("acted", "cli")
def test_audit_verify_reports_a_head_deleted_with_the_records_after_it(
    firebell: Firebell, store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    """The last records and the head row deleted with plain SQL: firebell goes on
    (the next command is answered and recorded), and verify exits 1 saying the head was
    rebuilt at the last record kept."""
    sql(store, "DELETE FROM auditrecord WHERE seq > 3")
    sql(store, "DELETE FROM auditchain")
    assert "is not a command" in answer_text(firebell.slack.command("delcare P1 again"))
    assert ("audit.head_recreated", "failed") in actions(store)
    status, said = verify(capsys)
    assert status == 1
    assert said == (
        "audit trail BROKEN: the chain's head was deleted and rebuilt at seq 3: records "
        "after it may have been deleted (see its audit.head_recreated record)."
    )


def test_audit_prune_runs_batch_after_batch_until_none_is_old_enough(
    store: Store,
    cli: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Five records a year old and a batch of two: `firebell audit prune` prunes them
    all, in three transactions (three `audit.pruned` records), and the rest verifies."""
    kept = tmp_path / "firebell.yaml"
    kept.write_text(TEST_CONFIG.read_text() + "\naudit: {retention: 30d}\n")
    monkeypatch.setenv("FIREBELL_CONFIG", str(kept))
    monkeypatch.setattr(audit_command, "BATCH", 2)

    def old(session: Session) -> None:
        for n in range(5):
            audit(
                session, at=db_now(session) - timedelta(days=365), actor="U0OLD", action=f"test.{n}"
            )

    store.call(old)
    assert main(["audit", "prune"]) == 0
    assert "Pruned 5 audit records older than 30d (up to seq 5)." in capsys.readouterr().out
    assert [(r.action, r.detail["deleted"]) for r in records(store)] == [
        ("audit.pruned", 2),
        ("audit.pruned", 2),
        ("audit.pruned", 1),
    ]
    assert verify(capsys)[0] == 0
