"""The sandbox page's door: other sites and rebound names are kept out."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from bot.config.load import load_config
from bot.sandbox.fake import FakeSlack
from bot.sandbox.launch import shipped
from bot.sandbox.session import Session
from tests.sandbox.pageserver import serving_page


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    """The sandbox's routes alone (no firebell behind them) on a real port, reached as
    127.0.0.1."""
    with FakeSlack() as fake:
        session = Session(
            fake,
            load_config(shipped("firebell.yaml")),
            app_url="http://127.0.0.1:9",
            signing_secret="unused",
        )
        with serving_page(session, timeout=5) as http:
            yield http


def test_the_page_is_served_to_a_loopback_address_with_its_policy(client: httpx.Client) -> None:
    """GET /sandbox by IP address: the page, with a script-src 'self' policy."""
    page = client.get("/sandbox")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_a_name_other_than_localhost_is_refused(client: httpx.Client) -> None:
    """A domain that resolves to this machine (DNS rebinding) gets 403 and the way in."""
    page = client.get("/sandbox", headers={"Host": "attacker.example:3000"})
    assert page.status_code == 403
    assert "http://127.0.0.1:PORT/sandbox" in page.json()["error"]
    assert client.get("/sandbox", headers={"Host": "localhost:3000"}).status_code == 200


def test_a_post_from_another_origin_is_refused(client: httpx.Client) -> None:
    """A page of another site cannot act for the person using the sandbox."""
    answer = client.post(
        "/sandbox/api/say",
        json={"as": "U01ML1", "channel": "C0GENERAL", "text": "hi"},
        headers={"Origin": "https://attacker.example"},
    )
    assert answer.status_code == 403
    assert "another site" in answer.json()["error"]


def test_a_post_that_is_not_json_is_refused(client: httpx.Client) -> None:
    """A text/plain body (which needs no CORS preflight) is refused before it is read."""
    answer = client.post(
        "/sandbox/api/say",
        content=b'{"as": "U01ML1", "channel": "C0GENERAL", "text": "hi"}',
        headers={"Content-Type": "text/plain"},
    )
    assert answer.status_code == 403
    assert "application/json" in answer.json()["error"]


def test_a_same_origin_json_post_goes_through(client: httpx.Client) -> None:
    """The page's own request, with its origin, posts the message."""
    answer = client.post(
        "/sandbox/api/say",
        json={"as": "U01ML1", "channel": "C0GENERAL", "text": "hello *there*"},
        headers={"Origin": str(client.base_url).rstrip("/")},
    )
    assert answer.json() == {"ok": True}
    channel = client.get("/sandbox/api/channels/C0GENERAL", params={"as": "U01ML1"}).json()
    assert channel["messages"][-1]["html"] == '<div class="bk-text">hello <b>there</b></div>'
