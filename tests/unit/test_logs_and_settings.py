"""Secrets stay out of logs; settings say what is missing."""

from __future__ import annotations

import logging

import pytest

from bot.logs import SecretMask
from bot.settings import MissingSettingError, Settings


def test_tokens_and_configured_secrets_are_masked_in_log_records() -> None:
    """A token in a message or its arguments never reaches a handler."""
    mask = SecretMask(["signing-secret-value"])
    record = logging.LogRecord(
        "x",
        logging.INFO,
        __file__,
        1,
        "token %s secret %s",
        ("xoxb-123-abc", "signing-secret-value"),
        None,
    )
    mask.filter(record)
    assert record.getMessage() == "token xoxb-*** secret ***"


def test_missing_slack_settings_name_every_variable_to_set() -> None:
    """Without a token and secret the error lists both variables."""
    settings = Settings(_env_file=None)
    with pytest.raises(MissingSettingError, match="SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET"):
        settings.require_slack(socket_mode=False)


def test_placeholder_values_count_as_unset() -> None:
    """`xoxb-...` copied from .env.example is not a token."""
    settings = Settings(_env_file=None, slack_bot_token="xoxb-...", slack_signing_secret="s3cr3t!")
    assert settings.slack_bot_token is None


def test_socket_mode_needs_the_app_token() -> None:
    """`--socket-mode` without SLACK_APP_TOKEN says to set it."""
    settings = Settings(_env_file=None, slack_bot_token="xoxb-1", slack_signing_secret="abcdef")
    with pytest.raises(MissingSettingError, match="SLACK_APP_TOKEN"):
        settings.require_slack(socket_mode=True)
