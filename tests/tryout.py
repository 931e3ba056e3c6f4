"""Try firebell without a Slack workspace: the test suite's fake Slack, in a terminal.

    python -m tests.tryout [--config firebell.yaml] [--as U01MLLEAD] [LINE ...]

Starts the fake Slack Web API of the tests (`tests/fakeslack.py`), knowing the people,
channels and user groups of your config, and `firebell serve` against it with a SQLite
database in a temporary folder. Then it reads lines (from the arguments, else from the
terminal) and does what Slack would do for them, with real signed requests:

    /incident declare P1 Checkout answers are wrong service:checkout-assistant
    press Acknowledge        the newest button of that label here, else in your DMs
    as U01MLLEAD             act as someone else from now on
    in #inc-1-checkout-answers-are-wrong   type the next lines in that channel
    quit

After each line it waits until firebell has delivered everything it queued, and prints
what reached the fake Slack: answers only you see, channels, posts, edits and DMs.
"""

from __future__ import annotations

import argparse
import re
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import httpx

from bot.config.load import ConfigError, load_config
from bot.config.model import Config
from bot.runbooks import load_runbooks
from tests.fakeslack import BOT_USER_ID, Channel, Ephemeral, FakeSlack, Message
from tests.serving import serve_env, start_serve
from tests.slackrequests import SlackRequests
from tests.workspace import seed

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)>")
GENERAL = "C0GENERAL"


class Workspace:
    """What the fake Slack shows, printed once as it changes."""

    def __init__(self, fake: FakeSlack) -> None:
        self.fake = fake
        self._seen: dict[str, str] = {}  # message ts -> what was printed of it
        self._ephemerals = 0
        self._channels = set(fake.channels)

    def news(self) -> Iterator[str]:
        """Lines for what happened since the last call."""
        channels, messages, ephemerals = self._snapshot()
        for cid in channels.keys() - self._channels:
            channel = channels[cid]
            if not channel.is_im:
                members = ", ".join(sorted(channel.members - {BOT_USER_ID}))
                yield f"new channel #{channel.name} ({cid}), members: {members}"
        self._channels = set(channels)
        for message in messages:
            shown = _text(message)
            if self._seen.get(message.ts) == shown:
                continue
            verb = "updated" if message.ts in self._seen else "posted"
            self._seen[message.ts] = shown
            yield f"{self.where(message.channel, channels)} {verb}: {shown}"
        for ephemeral in ephemerals[self._ephemerals:]:
            where = self.where(ephemeral.channel, channels)
            yield f"{where} only {ephemeral.user} sees: {ephemeral.text}"
        self._ephemerals = len(ephemerals)

    def _snapshot(self) -> tuple[dict[str, Channel], list[Message], list[Ephemeral]]:
        """The fake's state, copied under its lock (its server thread writes meanwhile)."""
        fake = self.fake
        with fake._lock:
            return dict(fake.channels), list(fake.messages), list(fake.ephemerals)

    def where(self, channel_id: str, channels: dict[str, Channel] | None = None) -> str:
        """How a channel is shown: `[#name]`, or `[DM to U...]` for a direct message."""
        channel = (self._snapshot()[0] if channels is None else channels).get(channel_id)
        if channel is None:
            return channel_id
        if channel.is_im:
            return f"[DM to {channel.user}]"
        return f"[#{channel.name}]"

    def channel_named(self, name: str) -> str | None:
        for cid, channel in self._snapshot()[0].items():
            if channel.name == name.lstrip("#") or cid == name:
                return cid
        return None

    def button(self, label: str, channel_id: str, user: str) -> tuple[str, Message] | None:
        """The newest button labelled `label` in the channel, else in the user's DMs."""
        channels, messages, _ = self._snapshot()
        ims = [cid for cid, c in channels.items() if c.is_im and c.user == user]
        for places in ([channel_id], ims):
            for message in reversed(messages):
                if message.channel not in places or message.deleted:
                    continue
                for block in message.blocks:
                    for element in [*block.get("elements", []), block.get("accessory") or {}]:
                        if element.get("type") != "button":
                            continue
                        if element["text"]["text"].lower() == label.lower():
                            return str(element["action_id"]), message
        return None


def _text(message: Message) -> str:
    buttons = [
        element["text"]["text"]
        for block in message.blocks
        for element in [*block.get("elements", []), block.get("accessory") or {}]
        if element.get("type") == "button"
    ]
    text = " ".join(message.text.split())
    return text + (f"  [buttons: {', '.join(buttons)}]" if buttons else "")


class Tryout:
    """firebell serving against a fake Slack; lines in, what Slack would show out."""

    def __init__(self, config_path: Path, runbooks: Path, user: str | None) -> None:
        self.config_path = config_path
        self.config = load_config(config_path, runbooks=load_runbooks(runbooks).keys())
        self.runbooks = runbooks
        self.fake = FakeSlack()
        self.secret = secrets.token_hex(16)
        self.user = user or _first_person(self.config)
        self.channel = GENERAL
        self.workspace: Workspace | None = None
        self.process: subprocess.Popen[str] | None = None
        self.url = ""
        self._folder = tempfile.TemporaryDirectory(prefix="firebell-tryout-")
        self._log: TextIO | None = None

    def start(self) -> Tryout:
        self.fake.start()
        seed(self.fake, self.config)
        self.workspace = Workspace(self.fake)
        env = serve_env(
            self.fake,
            signing_secret=self.secret,
            database_url=f"sqlite:///{Path(self._folder.name) / 'firebell.db'}",
            config=self.config_path,
            runbooks=self.runbooks,
            LOG_LEVEL="WARNING",
        )
        self._log = (Path(self._folder.name) / "firebell.log").open("w")
        try:
            self.process, self.url = start_serve(env, output=self._log)
        except RuntimeError as err:
            raise SystemExit(f"{err}:\n{self.log()}") from None
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        if self._log is not None:
            self._log.close()
        self.fake.stop()
        self._folder.cleanup()

    def log(self) -> str:
        return (Path(self._folder.name) / "firebell.log").read_text()

    def run(self, line: str) -> list[str]:
        """Do what `line` says; return what to print."""
        line = line.strip()
        word, _, rest = line.partition(" ")
        if not line or line.startswith("#!"):
            return []
        if word == "as":
            self.user = _MENTION.sub(r"\1", rest.strip()).lstrip("@")
            return [f"you are {self.user} now"]
        if word == "in":
            found = self.workspace_().channel_named(rest.strip())
            if found is None:
                return [f"no channel {rest.strip()!r}; `show` lists them"]
            self.channel = found
            return [f"you are in {self.workspace_().where(found)} now"]
        if word == "show":
            return [self.fake.dump()]
        if word == "press":
            return self._press(rest.strip())
        if word.startswith("/"):
            return self._command(word, rest)
        return [f"{line!r}: type a /command, press <button>, as <user>, in <#channel> or quit"]

    def _command(self, command: str, text: str) -> list[str]:
        with SlackRequests(self.url, self.secret, fake=self.fake) as slack:
            answer = slack.command(
                text, user_id=self.user, channel_id=self.channel, command=command
            )
        out = [f"(HTTP {answer.status_code})"] if answer.status_code != 200 else []
        body = answer.json() if answer.content else {}
        if body.get("text"):
            out.append(f"only you see: {body['text']}")
        if self.fake.views and not text.strip():
            out.append("(a form opened: forms are not part of this try-out; type the command)")
        return out + self.settle()

    def _press(self, label: str) -> list[str]:
        found = self.workspace_().button(label, self.channel, self.user)
        if found is None:
            return [f"no {label!r} button here or in your DMs"]
        action_id, message = found
        with SlackRequests(self.url, self.secret, fake=self.fake) as slack:
            answer = slack.block_action(
                action_id, None, user_id=self.user, channel_id=message.channel,
                message_ts=message.ts,
            )
        out = [f"(HTTP {answer.status_code})"] if answer.status_code != 200 else []
        return out + self.settle()

    def settle(self, timeout: float = 20.0) -> list[str]:
        """Wait until firebell's outbox is empty, then say what changed in Slack."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._pending() > 0:
            time.sleep(0.1)
        return list(self.workspace_().news())

    def workspace_(self) -> Workspace:
        assert self.workspace is not None
        return self.workspace

    def _pending(self) -> int:
        metrics = httpx.get(f"{self.url}/metrics", timeout=5).text
        found = re.search(r"^firebell_outbox_pending (\d+)", metrics, re.MULTILINE)
        return int(found.group(1)) if found else 0


def _first_person(config: Config) -> str:
    for team in config.teams.values():
        if team.members:
            return team.members[0]
    return "U01ML1"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.tryout", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=Path("firebell.example.yaml"))
    parser.add_argument("--runbooks", type=Path, default=Path("runbooks"))
    parser.add_argument("--as", dest="user", help="the Slack user you act as (U...)")
    parser.add_argument("lines", nargs="*", help="lines to run instead of reading the terminal")
    args = parser.parse_args(argv)
    try:
        tryout = Tryout(args.config, args.runbooks, args.user)
    except ConfigError as err:
        print(f"tryout: {err}", file=sys.stderr)
        return 2
    tryout.start()
    print(f"firebell on {tryout.url}, fake Slack on {tryout.fake.api_url}; you are "
          f"{tryout.user} in #general. Type /incident help, or quit.", flush=True)
    try:
        for line in args.lines or _terminal():
            if line.strip() in {"quit", "exit"}:
                break
            if args.lines:
                print(f"> {line}")
            for out in tryout.run(line):
                print(out, flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        tryout.stop()
    return 0


def _terminal() -> Iterator[str]:
    while True:
        try:
            yield input("> ")
        except EOFError:
            return


if __name__ == "__main__":
    raise SystemExit(main())
