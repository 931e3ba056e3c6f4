"""Starting the sandbox: a Slack workspace in this process, wired to firebell as Slack is.

`firebell serve` with no Slack settings (or with `--sandbox`) runs firebell exactly as
in production, but its Slack is a `FakeSlack` on a loopback port of its own:
firebell's Web API calls go there over `SLACK_API_URL`, with a bot token made up for
this run, and the page at `/sandbox` sends firebell Slack's signed requests with a
signing secret made up for this run too. Nothing here is a constant an outsider could
know, and nothing reaches Slack.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from pydantic import SecretStr

from bot.config.model import Config
from bot.sandbox.drill import Drill
from bot.sandbox.fake import FakeSlack
from bot.sandbox.people import OUTSIDER, sandbox_people
from bot.sandbox.seed import seed
from bot.sandbox.session import Session
from bot.settings import Settings

PAGE_PATH = "/sandbox"


def shipped(name: str) -> Path:
    """A file or folder of the examples shipped inside the package (`bot/examples`)."""
    return Path(str(resources.files("bot").joinpath("examples", name)))


@dataclass
class Sandbox:
    """A running sandbox workspace and the page's session in it."""

    fake: FakeSlack
    session: Session
    signing_secret: str = field(repr=False)

    def settings_for(self, settings: Settings) -> Settings:
        """`settings` pointed at this workspace instead of Slack."""
        return settings.model_copy(
            update={
                "slack_bot_token": SecretStr(self.fake.bot_token),
                "slack_signing_secret": SecretStr(self.signing_secret),
                "slack_app_token": None,
                "slack_api_url": self.fake.api_url,
            }
        )

    @property
    def secrets(self) -> list[str]:
        """This run's credentials, which the logs must never show."""
        return [self.fake.bot_token, self.fake.app_token, self.signing_secret]

    def stop(self) -> None:
        """Stop the workspace's Web API server and the page's connections."""
        self.session.close()
        self.fake.stop()


def open_sandbox(config: Config, *, app_url: str, drill: Drill | None = None) -> Sandbox:
    """Start a workspace with the config's people, channels and user groups."""
    fake = FakeSlack().start()
    fake.enforce_rate_limit = True  # as Slack does; firebell's pacing stays under it
    try:
        seed(fake, config, also=(OUTSIDER,))
        with fake.lock:
            for person in sandbox_people(config, datetime.now(UTC)):
                user = fake.users.get(person.id)
                if user is not None:
                    user.real_name = person.name
        signing_secret = secrets.token_urlsafe(32)
        session = Session(fake, config, app_url=app_url, signing_secret=signing_secret, drill=drill)
    except BaseException:
        fake.stop()
        raise
    return Sandbox(fake=fake, session=session, signing_secret=signing_secret)
