"""The sandbox page's JSON API over real HTTP, against a real `firebell serve`.

One `firebell serve` in sandbox mode (no Slack or firebell settings, an empty folder,
the shipped config and runbooks) serves the whole module. Tests do not depend on each
other's order: each declares its own incident, with a title of its own, and looks only
for what that incident made.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import Any, TypeVar

import httpx
import pytest

from bot.config.load import load_config
from bot.config.model import Config
from bot.core.oncall import on_call
from bot.sandbox.launch import shipped
from bot.sandbox.page import POLICY
from bot.sandbox.people import OUTSIDER
from bot.sandbox.seed import config_people
from bot.sandbox.session import GENERAL
from bot.store.db import Store, make_engine
from tests.conftest import emptied
from tests.serving import free_port, start_serve

T = TypeVar("T")
Json = dict[str, Any]
WAIT = 10.0  # seconds to wait for firebell's effects (pages go out through its outbox)
DECLARER = "U01PRLEAD"  # product's lead notices it; the ML team owns checkout-assistant
BYSTANDER = "U01DA1"  # in the workspace and the config, but not paged for model incidents


@dataclass
class Server:
    """The running `firebell serve` and a client for its sandbox API."""

    url: str
    api: httpx.Client
    config: Config


@dataclass(frozen=True)
class Incident:
    """One test's incident: its number and channel."""

    number: int
    channel: str

    @property
    def key(self) -> str:
        """How firebell names it: INC-<number>."""
        return f"INC-{self.number}"


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`firebell serve` started as someone trying it would (no settings but the test
    database, emptied first), in an empty folder; stopped with SIGTERM, exiting 0."""
    store = Store(make_engine(database_url))
    emptied(store).dispose()
    folder = tmp_path_factory.mktemp("serve")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "FIREBELL_"))}
    env.update(DATABASE_URL=database_url, FIREBELL_PORT=str(free_port()))
    log = folder / "serve.log"
    with log.open("w") as output:
        process, url = start_serve(env, cwd=folder, output=output)
    try:
        with httpx.Client(base_url=f"{url}/sandbox/api", timeout=20) as api:
            yield Server(url, api, load_config(shipped("firebell.yaml")))
    finally:
        code = _stop(process)
    assert code == 0, f"firebell serve exited with {code}; its log: {log.read_text()[-3000:]}"


def _stop(process: subprocess.Popen[str]) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


# -- helpers ---------------------------------------------------------------------------


def _eventually(what: str, probe: Callable[[], T | None], timeout: float = WAIT) -> T:
    """`probe()`'s first answer that is not None (or False), within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:g} s: {what}")
        time.sleep(0.05)


def _ok(response: httpx.Response) -> Json:
    assert response.status_code == 200, response.text
    body: Json = response.json()
    return body


def _state(server: Server, user: str | None = None) -> Json:
    return _ok(server.api.get("/state", params={"as": user} if user else {}))


def _channel(server: Server, user: str, channel: str) -> Json:
    return _ok(server.api.get(f"/channels/{channel}", params={"as": user}))


def _say(server: Server, user: str, text: str, channel: str = GENERAL) -> httpx.Response:
    return server.api.post("/say", json={"as": user, "channel": channel, "text": text})


def _refused(response: httpx.Response, *words: str) -> str:
    """The reason of a 400 answer, which must contain each of `words`."""
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["ok"] is False
    reason = str(body["error"])
    for word in words:
        assert word in reason, reason
    return reason


def _find_incident(server: Server, user: str, title: str) -> Incident:
    """The incident titled `title`, from firebell's answer to `user` in #general, once
    `user` is a member of its channel (firebell invites them after creating it)."""

    def number() -> int | None:
        for ephemeral in _channel(server, user, GENERAL)["ephemerals"]:
            found = re.search(r"INC-(\d+) declared", ephemeral["html"])
            if found and escape(title, quote=False) in ephemeral["html"]:
                return int(found.group(1))
        return None

    def channel(n: int) -> str | None:
        listed = _state(server, user)["channels"]
        return next(
            (c["id"] for c in listed if c["name"].startswith(f"inc-{n}-") and c["is_member"]),
            None,
        )

    n = _eventually(f"firebell answers {user} that {title!r} is declared", number)
    return Incident(n, _eventually(f"{user} is in INC-{n}'s channel", lambda: channel(n)))


def _declare(server: Server, title: str, severity: str = "P2", user: str = DECLARER) -> Incident:
    _ok(_say(server, user, f"/incident declare {severity} {title} service:checkout-assistant"))
    return _find_incident(server, user, title)


def _main_message(server: Server, user: str, incident: Incident) -> Json:
    """The incident channel's pinned message, once firebell has pinned it."""

    def pinned() -> list[Json]:
        messages = _channel(server, user, incident.channel)["messages"]
        return [m for m in messages if m["pinned"]]

    found = _eventually(f"{incident.key}'s main message is pinned", pinned)
    assert len(found) == 1, found
    return found[0]


@dataclass(frozen=True)
class Button:
    """A button on a message, as the page reads it from the message's HTML."""

    channel: str
    ts: str
    action_id: str
    block_id: str
    value: str

    def press(self, user: str) -> Json:
        """The `action` body for `user` pressing it."""
        return {
            "as": user,
            "channel": self.channel,
            "ts": self.ts,
            "action_id": self.action_id,
            "block_id": self.block_id,
            "value": self.value,
            "type": "button",
        }


def _button(channel: str, message: Json, label: str) -> Button | None:
    for found in re.finditer(
        r"<button (?P<attrs>[^>]*)>(?P<label>[^<]*)</button>", message["html"]
    ):
        if found["label"] == label:
            attrs = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', found["attrs"]))
            return Button(
                channel, message["ts"], attrs["action-id"], attrs["block-id"], attrs["value"]
            )
    return None


def _page_to(server: Server, user: str, incident: Incident) -> Button:
    """The Acknowledge button on the page `user` got by DM for `incident`."""

    def button() -> Button | None:
        for dm in _state(server, user)["dms"]:
            for message in _channel(server, user, dm["id"])["messages"]:
                if f"<b>{incident.key}</b>" in message["html"]:
                    return _button(dm["id"], message, "Acknowledge")
        return None

    return _eventually(f"{user} is paged for {incident.key} with a button", button)


def _on_call(server: Server) -> str:
    engineer = on_call(server.config.teams["ml"], datetime.now(UTC))
    assert engineer is not None
    return engineer


# -- the page and its files ------------------------------------------------------------


def test_the_page_and_its_script_are_served_with_the_content_security_policy(
    server: Server,
) -> None:
    """`/sandbox` and its script answer 200 with the page's CSP, as HTML and JavaScript."""
    page = httpx.get(f"{server.url}/sandbox", timeout=10)
    script = httpx.get(f"{server.url}/sandbox/static/sandbox.js", timeout=10)
    for response, kind in ((page, "text/html"), (script, "text/javascript")):
        assert response.status_code == 200
        assert response.headers["content-security-policy"] == POLICY
        assert response.headers["content-type"].startswith(kind)
        assert response.headers["x-content-type-options"] == "nosniff"
    assert "sandbox.js" in page.text


@pytest.mark.parametrize(
    "path",
    [
        "/sandbox/static/nothing.js",
        "/sandbox/static/sandbox.py",
        "/sandbox/static/%2E%2E%2Fpage.py",
        "/sandbox/static/..%2F..%2Fsettings.py",
        "/sandbox/static/..%2Fstatic%2Fsandbox.js",
        "/sandbox/static/%2E%2E",
    ],
)
def test_unknown_files_and_paths_out_of_the_static_folder_are_not_found(
    server: Server, path: str
) -> None:
    """A file that is not one of the page's, or any path with `..`, is 404."""
    response = httpx.get(f"{server.url}{path}", timeout=10)
    assert response.status_code == 404, response.text
    assert "import" not in response.text


# -- state -----------------------------------------------------------------------------


def test_state_without_as_is_the_default_users(server: Server) -> None:
    """With no `as`, the page acts as the first area's accountable lead."""
    state = _state(server)
    assert state["me"] == next(iter(server.config.areas.values())).accountable == "U01MLLEAD"
    assert state["workspace"] == "firebell sandbox"
    assert state["view"] is None
    assert any(c["id"] == GENERAL for c in state["channels"])


def test_state_as_an_unknown_person_is_refused(server: Server) -> None:
    """An `as` nobody in the workspace has is 400, naming that ID."""
    _refused(server.api.get("/state", params={"as": "U0NOBODY"}), "U0NOBODY", "nobody")


def test_state_names_everyone_with_their_role_and_the_outsider(server: Server) -> None:
    """People are everyone the config names plus U0GUEST, each with a name and a role;
    the ML on-call engineer's role says so."""
    people = {p["id"]: p for p in _state(server, BYSTANDER)["people"]}
    assert set(people) == config_people(server.config) | {OUTSIDER}
    assert all(p["name"] and p["role"] for p in people.values())
    assert people[OUTSIDER]["name"] == "Sam Guest"
    assert "not in the config" in people[OUTSIDER]["role"]
    assert "on call now" in people[_on_call(server)]["role"]
    assert "accountable for Model/Prompt" in people["U01MLLEAD"]["role"]


# -- saying things ---------------------------------------------------------------------


def test_declaring_by_command_makes_a_channel_with_the_title_escaped(server: Server) -> None:
    """`/incident declare` makes a channel in the declarer's sidebar whose pinned main
    message shows the title as escaped text."""
    title = "Prices <b>doubled</b> & more"
    incident = _declare(server, title)
    main = _main_message(server, DECLARER, incident)
    assert f"{incident.key} · P2 · Prices &lt;b&gt;doubled&lt;/b&gt; &amp; more" in main["html"]
    assert "<b>doubled</b>" not in main["html"]
    assert main["author_id"] == "UBOT"


def test_a_commands_answer_is_shown_to_the_one_who_typed_it_only(server: Server) -> None:
    """The command's immediate answer is an ephemeral in #general for the declarer, and
    another person's #general does not show it."""
    title = "Answer only the declarer sees"
    incident = _declare(server, title)
    mine = _channel(server, DECLARER, GENERAL)["ephemerals"]
    assert any(f"{incident.key} declared" in e["html"] for e in mine), mine
    theirs = _channel(server, BYSTANDER, GENERAL)
    assert not any(incident.key in e["html"] for e in theirs["ephemerals"]), theirs
    assert not any(incident.key in m["html"] for m in theirs["messages"]), theirs


def test_plain_text_is_posted_as_the_person_saying_it(server: Server) -> None:
    """Text that is not a command is a message in the channel, authored by that person."""
    _ok(_say(server, BYSTANDER, "Has anyone else seen odd prices? probe-7f3a"))
    messages = _channel(server, DECLARER, GENERAL)["messages"]
    said = [m for m in messages if "probe-7f3a" in m["html"]]
    assert len(said) == 1, messages
    assert said[0]["author_id"] == BYSTANDER
    names = {p["id"]: p["name"] for p in _state(server, BYSTANDER)["people"]}
    assert said[0]["author"] == names[BYSTANDER]


def test_another_slash_command_is_refused_naming_firebells(server: Server) -> None:
    """`/other` is 400, saying that firebell's command is /incident."""
    _refused(_say(server, DECLARER, "/other thing"), "/other", "/incident")


@pytest.mark.parametrize("text", ["", "   \n "])
def test_an_empty_message_is_refused(server: Server, text: str) -> None:
    """Empty or blank text is 400, with a hint of what to type."""
    _refused(_say(server, DECLARER, text), "type a message")


# -- the declare modal -----------------------------------------------------------------


def _values(title: str) -> Json:
    return {
        "title": {"value": title},
        "severity": {"value": "P2"},
        "scope": {"value": "service:checkout-assistant"},
        "description": {"value": "Seen from the sandbox API test."},
    }


def _open_declare_form(server: Server, user: str) -> Json:
    _ok(_say(server, user, "/incident"))
    view: Json = _eventually("the declare form opens", lambda: _state(server, user)["view"])
    return view


def test_incident_alone_opens_the_declare_form(server: Server) -> None:
    """`/incident` opens a modal with its title, submit label and named inputs."""
    user = "U01PLLEAD"
    view = _open_declare_form(server, user)
    assert view["title"] == "Declare an incident"
    assert view["submit"] == "Declare"
    for name in ("title/value", "severity/value", "scope/value", "description/value"):
        assert f'name="{name}"' in view["html"], name
    _ok(server.api.post(f"/views/{view['id']}/close", json={"as": user}))
    assert _state(server, user)["view"] is None


def test_a_blank_title_keeps_the_form_open_with_the_error(server: Server) -> None:
    """Submitting the form with a blank title is not closed: the title's error is shown
    and the modal stays open; a valid title then closes it and declares."""
    user = "U01DALEAD"
    view = _open_declare_form(server, user)
    submitted = _ok(
        server.api.post(f"/views/{view['id']}/submit", json={"as": user, "values": _values("  ")})
    )
    assert submitted["closed"] is False
    assert "title" in submitted["errors"]
    still = _state(server, user)["view"]
    assert still is not None
    assert still["id"] == view["id"]
    assert still["errors"] == submitted["errors"]

    title = "Declared through the form"
    submitted = _ok(
        server.api.post(f"/views/{view['id']}/submit", json={"as": user, "values": _values(title)})
    )
    assert submitted == {"ok": True, "closed": True}
    assert _state(server, user)["view"] is None

    def declared() -> Incident | None:
        for listed in _state(server, user)["channels"]:
            if listed["name"].startswith("inc-") and "declared-through-the-form" in listed["name"]:
                number = int(listed["name"].split("-")[1])
                return Incident(number, listed["id"])
        return None

    incident = _eventually("the form's incident has a channel", declared)
    assert title in _main_message(server, user, incident)["html"]


def test_a_title_too_long_keeps_the_form_open(server: Server) -> None:
    """A title past firebell's limit is an error on the title; the form stays open."""
    user = "U01LELEAD"
    view = _open_declare_form(server, user)
    submitted = _ok(
        server.api.post(
            f"/views/{view['id']}/submit", json={"as": user, "values": _values("x" * 5000)}
        )
    )
    assert submitted["closed"] is False
    assert "title" in submitted["errors"]
    assert _state(server, user)["view"] is not None
    _ok(server.api.post(f"/views/{view['id']}/close", json={"as": user}))


# -- buttons ---------------------------------------------------------------------------


def test_the_on_call_engineer_acknowledges_from_their_page(server: Server) -> None:
    """Pressing Acknowledge on the DM the ML on-call engineer got marks the incident's
    main message acknowledged."""
    incident = _declare(server, "Acknowledged from the page")
    engineer = _on_call(server)
    button = _page_to(server, engineer, incident)
    assert button.action_id == "incident_acknowledge"
    _ok(server.api.post("/action", json=button.press(engineer)))

    def acknowledged() -> Json | None:
        main = _main_message(server, DECLARER, incident)
        return main if "acknowledged" in main["html"] else None

    main = _eventually("the main message shows the incident acknowledged", acknowledged)
    assert "Acknowledge</button>" not in main["html"]


def test_two_people_acknowledging_at_once_acknowledge_once(server: Server) -> None:
    """Two paged people pressing Acknowledge at the same moment both get an answer, and
    the incident is acknowledged once."""
    incident = _declare(server, "Acknowledged twice at once", severity="P1")
    paged = [_on_call(server), "U01MLLEAD"]
    presses = [_page_to(server, user, incident).press(user) for user in paged]
    answers: list[httpx.Response] = []
    start = threading.Barrier(len(presses))

    def press(body: Json) -> None:
        with httpx.Client(base_url=server.api.base_url, timeout=20) as client:
            start.wait(timeout=10)
            answers.append(client.post("/action", json=body))

    threads = [threading.Thread(target=press, args=(body,)) for body in presses]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]

    def acknowledgements() -> list[Json]:
        messages = _channel(server, DECLARER, incident.channel)["messages"]
        return [m for m in messages if f"acknowledged {incident.key}" in m["html"]]

    _eventually("the channel says the incident is acknowledged", acknowledgements)
    time.sleep(1.0)  # a second acknowledgement would be posted by now
    assert len(acknowledgements()) == 1, acknowledgements()


# -- malformed requests ----------------------------------------------------------------


def _body(value: object) -> bytes:
    return json.dumps(value).encode()


SAID = {"channel": GENERAL, "text": "bad-probe"}


@pytest.mark.parametrize(
    ("route", "content", "reason"),
    [
        ("/say", b"this is not JSON", "must be JSON"),
        ("/say", _body([{"as": BYSTANDER, **SAID}]), "must be a JSON object"),
        ("/say", _body({"as": 5, **SAID}), "as must be a string"),
        ("/say", _body({"as": None, **SAID}), "as must be a string"),
        ("/say", _body({"as": BYSTANDER, "channel": GENERAL, "text": ["bad-probe"]}), "text"),
        ("/action", _body({"as": [BYSTANDER], "channel": GENERAL}), "as must be a string"),
        ("/action", b"{", "must be JSON"),
    ],
)
def test_malformed_bodies_are_refused_and_change_nothing(
    server: Server, route: str, content: bytes, reason: str
) -> None:
    """A body that is not JSON, not an object, or has `as` (or text) of the wrong type
    is 400 with the reason, and posts nothing."""
    before = _channel(server, BYSTANDER, GENERAL)["messages"]
    response = server.api.post(route, content=content, headers={"Content-Type": "application/json"})
    _refused(response, reason)
    after = _channel(server, BYSTANDER, GENERAL)["messages"]
    assert after == before
    assert not any("bad-probe" in m["html"] for m in after)


def test_a_submission_whose_values_are_not_an_object_is_refused(server: Server) -> None:
    """`values` (or a block's entry in it) that is not an object is 400, and the form
    stays open as it was."""
    user = "U01PL1"
    view = _open_declare_form(server, user)
    for values in ("title", ["title"], None, {"title": "no action_id"}):
        response = server.api.post(
            f"/views/{view['id']}/submit", json={"as": user, "values": values}
        )
        _refused(response, "must be an object")
    still = _state(server, user)["view"]
    assert still is not None
    assert still["id"] == view["id"]
    assert still["errors"] == {}
    _ok(server.api.post(f"/views/{view['id']}/close", json={"as": user}))


# -- unread counts ---------------------------------------------------------------------


def test_firebells_posts_are_unread_until_the_channel_is_opened(server: Server) -> None:
    """After firebell posts in a channel the declarer is in, the sidebar counts them
    unread; opening the channel makes the count 0."""
    incident = _declare(server, "Counted unread")

    def all_posted() -> list[Json] | None:
        # Read as the on-call engineer, so the declarer's count is left alone.
        messages = _channel(server, _on_call(server), incident.channel)["messages"]
        return messages if any("Paging for" in m["html"] for m in messages) else None

    posted = _eventually("firebell says whom it paged", all_posted)

    def unread() -> int:
        listed = {c["id"]: c for c in _state(server, DECLARER)["channels"]}
        return int(listed[incident.channel]["unread"])

    assert unread() == len([m for m in posted if m["author_id"] != DECLARER]) > 0
    _channel(server, DECLARER, incident.channel)
    assert unread() == 0


# -- the event stream ------------------------------------------------------------------


def test_the_event_stream_sends_change_events(server: Server) -> None:
    """`/events` is a text/event-stream whose events are `change`, with the version."""
    with httpx.stream("GET", f"{server.url}/sandbox/api/events", timeout=5) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.iter_lines()
        data = ""
        for _, line in zip(range(50), lines, strict=False):
            if line == "event: change":
                data = next(lines)
                break
    assert data.startswith("data: "), "no change event among the stream's first lines"
    assert isinstance(json.loads(data.removeprefix("data: "))["version"], int)
