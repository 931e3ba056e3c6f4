"""`--socket-mode`: the same app, reached over Slack's Socket Mode WebSocket."""

from __future__ import annotations

from bot.sandbox.fake import FakeSlack
from tests.fakesocket import FakeSocketMode, slash_command
from tests.harness import Firebell


def declare_over(socket_mode: FakeSocketMode, fake: FakeSlack, text: str, trigger: str) -> str:
    """`/incident <text>` over the WebSocket, as the data on-call; the ack's text."""
    ack = socket_mode.deliver(
        "slash_commands",
        slash_command(text, user_id="U01DA1", trigger_id=trigger, response_url=fake.response_url()),
    )
    return str(ack["payload"]["text"])


def test_slash_command_over_socket_mode_declares_an_incident(
    over_socket: Firebell, fake: FakeSlack, socket_mode: FakeSocketMode
) -> None:
    """With SLACK_APP_TOKEN, a command arriving over the WebSocket is acked and acted on."""
    answer = declare_over(socket_mode, fake, "declare P1 Search is empty area:data", "1.2.socket")

    assert "INC-1" in answer
    fake.wait_for(lambda: fake.channel_by_name("inc-1-search-is-empty"))
    fake.wait_for(lambda: fake.dms_to("U01DALEAD"))


def test_a_disconnect_from_slack_gets_a_new_connection_that_answers(
    over_socket: Firebell, fake: FakeSlack, socket_mode: FakeSocketMode
) -> None:
    """Slack's `disconnect` message: the app opens a new WebSocket, and commands sent on
    it are acked; /readyz is 200 again once it is up."""
    socket_mode.ask_to_reconnect()
    fake.wait_for(lambda: socket_mode.connections == 2)
    fake.wait_for(lambda: over_socket.get("/readyz").status_code == 200)

    answer = declare_over(socket_mode, fake, "declare P2 Search is slow area:data", "1.2.rotated")

    assert "INC-1" in answer
