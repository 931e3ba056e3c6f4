"""Secrets stay out of logs; settings say what is missing."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.cli import main
from bot.logs import SecretMask
from bot.settings import MissingSettingError, Settings, environment


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


def test_database_url_of_another_kind_is_refused_with_examples() -> None:
    """A MySQL or garbled DATABASE_URL is refused, naming what is accepted."""
    with pytest.raises(ValidationError, match="SQLite or PostgreSQL"):
        Settings(_env_file=None, database_url="mysql://root@localhost/db")


def test_unreachable_database_is_a_one_line_message_not_a_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`firebell db current` against a closed port says what to check and exits 2."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:9/none")
    assert main(["db", "current"]) == 2
    err = capsys.readouterr().err
    assert "cannot use the database" in err
    assert "Traceback" not in err


def test_a_variable_the_config_names_is_read_from_env_file_unless_the_process_has_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`secret_env: ROLLBACK_SECRET` finds the value in `.env`, as settings do; the
    process environment wins over the file."""
    env_file = tmp_path / ".env"
    env_file.write_text("ROLLBACK_SECRET=whsec_from_file\nOTHER=x\n")
    monkeypatch.delenv("ROLLBACK_SECRET", raising=False)
    monkeypatch.setenv("OTHER", "from-process")
    found = environment(env_file)
    assert found["ROLLBACK_SECRET"] == "whsec_from_file"
    assert found["OTHER"] == "from-process"
    assert "ROLLBACK_SECRET" not in environment(tmp_path / "absent.env")
