"""Log lines: levels named in LOG_LEVEL, JSON fields, library chatter at DEBUG."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from bot.cli import main
from bot.logs import (
    JsonFormatter,
    LibraryChatter,
    LogLevelError,
    SecretMask,
    parse_level,
    printable,
)


def _record(name: str, level: int, msg: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord(name, level, __file__, 1, msg, args, None)
    record.__dict__.update(extra)
    return record


def test_log_level_names_are_accepted_in_any_case() -> None:
    """`debug`, `INFO` and ` Warning ` name their levels."""
    assert parse_level("debug") == logging.DEBUG
    assert parse_level("INFO") == logging.INFO
    assert parse_level(" Warning ") == logging.WARNING


def test_unknown_log_level_is_one_line_naming_the_accepted_levels() -> None:
    """`LOG_LEVEL=LOUD` is refused with a message listing the five levels."""
    with pytest.raises(LogLevelError) as refused:
        parse_level("LOUD")
    message = str(refused.value)
    assert message == "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, not 'LOUD'"
    assert "\n" not in message


def test_serve_with_an_unknown_log_level_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`LOG_LEVEL=LOUD firebell serve` prints one line naming the levels, no traceback."""
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    for name, value in {
        "LOG_LEVEL": "LOUD",
        "SLACK_BOT_TOKEN": "xoxb-1-test",
        "SLACK_SIGNING_SECRET": "test-signing-secret",
        "FIREBELL_CONFIG": str(tmp_path / "absent.yaml"),  # should the check move later
    }.items():
        monkeypatch.setenv(name, value)
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "firebell: LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, not 'LOUD'"
    ]


def test_json_lines_carry_extra_fields_as_keys() -> None:
    """Fields given in `extra` become keys; the line's own keys are never overwritten."""
    record = _record("bot.x", logging.INFO, "%s acked", "INC-1", incident="INC-1", logger="x")
    entry = json.loads(JsonFormatter().format(record))
    assert entry["incident"] == "INC-1"
    assert entry["logger"] == "bot.x"
    assert entry["message"] == "INC-1 acked"


def test_secrets_in_extra_fields_are_masked() -> None:
    """A token in a structured field is masked like one in the message."""
    record = _record("bot.x", logging.WARNING, "refused", reason="token xoxb-1-abc")
    SecretMask([]).filter(record)
    assert record.__dict__["reason"] == "token xoxb-***"


@pytest.mark.parametrize(
    ("name", "msg"),
    [
        ("apscheduler.executors.default", 'Running job "%s" (scheduled at %s)'),
        ("apscheduler.scheduler", "Added job %s"),
        ("alembic.runtime.migration", "Context impl %s."),
        ("alembic.runtime.migration", "Will assume %s DDL."),
        ("alembic.runtime.plugins", "setup plugin %s"),
        ("slack_sdk.socket_mode.aiohttp", "A new session has been established"),
        ("httpx", "HTTP Request: %s"),
    ],
)
def test_library_routine_lines_show_only_at_debug(name: str, msg: str) -> None:
    """A library's routine INFO line is dropped at INFO and shown as DEBUG at DEBUG."""
    assert not LibraryChatter(logging.INFO).filter(_record(name, logging.INFO, msg))
    shown = _record(name, logging.INFO, msg)
    assert LibraryChatter(logging.DEBUG).filter(shown)
    assert shown.levelname == "DEBUG"


def test_library_warnings_and_migration_steps_stay_visible() -> None:
    """APScheduler's warnings and alembic's `Running upgrade` lines stay what they are."""
    chatter = LibraryChatter(logging.INFO)
    assert chatter.filter(_record("apscheduler.scheduler", logging.WARNING, "Run time missed"))
    assert chatter.filter(_record("alembic.runtime.migration", logging.INFO, "Running %s", "x"))
    assert chatter.filter(_record("bot.incidents.action_log", logging.INFO, "INC-1 declared"))


def test_bolt_unhandled_request_line_which_quotes_the_body_is_debug() -> None:
    """Bolt's `Unhandled request (...)` warning is not shown at INFO."""
    record = _record("bot.slack.bolt", logging.WARNING, "Unhandled request ({'text': 'x'})")
    assert not LibraryChatter(logging.INFO).filter(record)


def test_paths_in_log_fields_cannot_start_a_line_of_their_own() -> None:
    """A decoded `%0a` in a path is escaped, and a long path is cut."""
    assert printable("/x\nERROR forged") == "/x\\nERROR forged"
    assert printable("/" + "a" * 300) == "/" + "a" * 199 + "..."
