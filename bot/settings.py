"""Process settings from the environment and `.env` (SPEC section 3).

Built by `load_settings()` when a command runs, never at import time.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from dotenv import dotenv_values
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

_PLACEHOLDERS = {"", "changeme", "change-me", "xoxb-...", "xapp-...", "secret", "todo"}


def check_port(port: int) -> int:
    """`port` if it is a TCP port one can listen on by number (1-65535); else ValueError."""
    if not 1 <= port <= 65535:
        raise ValueError(f"must be a TCP port from 1 to 65535, not {port}")
    return port


class MissingSettingError(Exception):
    """A setting that the chosen command needs is not set."""


class Settings(BaseSettings):
    """Everything firebell reads from its environment."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    database_url: str = "sqlite:///./firebell.db"
    firebell_config: Path = Field(default=Path("./firebell.yaml"))
    firebell_runbooks: Path = Field(default=Path("./runbooks"))
    firebell_host: str = "127.0.0.1"
    firebell_port: int = 3000
    firebell_webhook_token: SecretStr | None = None
    log_level: str = "INFO"
    log_format: Literal["console", "json"] = "console"

    @field_validator(
        "slack_bot_token", "slack_signing_secret", "slack_app_token", "firebell_webhook_token"
    )
    @classmethod
    def _no_placeholders(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or value.get_secret_value().strip().lower() in _PLACEHOLDERS:
            return None
        return value

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        try:
            backend = make_url(value).get_backend_name()
        except ArgumentError:
            backend = ""
        if backend not in ("sqlite", "postgresql"):
            raise ValueError(
                "DATABASE_URL must be a SQLite or PostgreSQL URL, e.g. sqlite:///./firebell.db "
                "or postgresql://user@host:5432/firebell"
            )
        return value

    @field_validator("firebell_port")
    @classmethod
    def _port(cls, value: int) -> int:
        return check_port(value)

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    def require_slack(self, *, socket_mode: bool) -> tuple[str, str]:
        """Return (bot token, signing secret) or say which variables to set."""
        missing = [
            name
            for name, value in (
                ("SLACK_BOT_TOKEN", self.slack_bot_token),
                ("SLACK_SIGNING_SECRET", self.slack_signing_secret),
                ("SLACK_APP_TOKEN", self.slack_app_token if socket_mode else True),
            )
            if value is None
        ]
        if missing:
            several = len(missing) > 1
            raise MissingSettingError(
                f"{', '.join(missing)} {'are' if several else 'is'} not set, and firebell "
                f"needs {'them' if several else 'it'} to talk to Slack: set "
                f"{'them' if several else 'it'} in the environment or in .env (see "
                ".env.example; the values are on your Slack app's Basic Information and "
                "OAuth & Permissions pages). To try firebell without a workspace, set "
                "neither, or run `firebell serve --sandbox`."
            )
        assert self.slack_bot_token is not None  # noqa: S101 - narrowed by the check above
        assert self.slack_signing_secret is not None  # noqa: S101
        return (
            self.slack_bot_token.get_secret_value(),
            self.slack_signing_secret.get_secret_value(),
        )


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment and `.env`, with explicit overrides."""
    return Settings(**overrides)  # type: ignore[arg-type]


def environment(env_file: Path = Path(".env")) -> Mapping[str, str]:
    """The variables firebell reads by a name the config gives (`secret_env`): the
    process environment over the `.env` file, as the settings themselves are read."""
    found = dotenv_values(env_file) if env_file.is_file() else {}
    return {**{k: v for k, v in found.items() if v is not None}, **os.environ}
