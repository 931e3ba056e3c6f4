"""Logging set-up: console or JSON lines, library chatter at DEBUG, secrets and personal
data masked (`bot.core.pii`, whatever the config's scope).

At the default INFO level a log shows what happens to incidents (one line per action,
`bot.incidents.action_log`), refused and unknown requests (one WARNING each) and
start-up, shutdown and failures; the libraries' routine lines (APScheduler's three per
job run, alembic's two per `/readyz` probe, Bolt's and the Slack SDK's internals) are
turned into DEBUG lines, shown only with `LOG_LEVEL=DEBUG`.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

from bot.core.pii import Policy, redact

_TOKEN = re.compile(r"\b(xox[abposr]|xapp)-[A-Za-z0-9-]+")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# Loggers whose INFO lines are routine: every scheduler run, Web API call, WebSocket ping.
CHATTY = ("apscheduler", "slack_bolt", "slack_sdk", "bot.slack.bolt", "httpx", "httpcore")
# alembic's INFO lines are set-up chatter (two for every migration context, so for every
# `/readyz`; one per plugin loaded) but for the migration steps ("Running upgrade ..."),
# which are worth an operator's eye.
_ALEMBIC_STEP = "Running %s"
# Bolt's line for a request no listener takes quotes the request's body; the endpoint
# logs one of its own instead (`bot.slack.endpoint`).
_BOLT_UNHANDLED = "Unhandled request ("
# What every record has: anything else was passed in `extra` and is a structured field.
_STANDARD = {
    *logging.LogRecord("", 0, "", 0, "", None, None).__dict__,
    "message",
    "asctime",
    "color_message",  # uvicorn's copy of its message, with terminal colours
}


class LogLevelError(ValueError):
    """`LOG_LEVEL` names no level."""


def parse_level(value: str) -> int:
    """The logging level named by `value` (`LOG_LEVEL`), case-insensitive.

    Raises LogLevelError with a one-line message saying what is accepted.
    """
    name = value.strip().upper()
    if name not in LEVELS:
        shown = value if len(value) <= 40 else value[:40] + "..."
        raise LogLevelError(f"LOG_LEVEL must be one of {', '.join(LEVELS)}, not {shown!r}")
    return logging.getLevelNamesMapping()[name]


def printable(text: str, limit: int = 200) -> str:
    """`text` as a safe log field: control characters escaped (a path cannot start a
    line of its own), at most `limit` characters."""
    escaped = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text[:limit])
    return escaped + ("..." if len(text) > limit else "")


class SecretMask(logging.Filter):
    """Replaces Slack tokens and configured secrets in log records with `***`, then
    personal data as the PII policy says (`[email]` ...)."""

    def __init__(self, secrets: list[str], pii: Policy | None = None) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if len(s) >= 6]
        self.pii = pii or Policy()

    def mask(self, text: str) -> str:
        """`text` with every secret and every piece of personal data replaced."""
        text = _TOKEN.sub(lambda m: m.group(1) + "-***", text)
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return redact(text, self.pii)

    def filter(self, record: logging.LogRecord) -> bool:
        """Render the message now, masked, so no handler sees the raw arguments."""
        record.msg = self.mask(record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.mask(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        for key, value in fields(record).items():
            if isinstance(value, str):
                setattr(record, key, self.mask(value))
        return True


class LibraryChatter(logging.Filter):
    """Turns the libraries' routine lines into DEBUG lines, and drops every record
    below `level` (a record's level may have changed since its logger checked it)."""

    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        """Demote chatter, then keep the record if it is at `level` or above."""
        if is_chatter(record):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return record.levelno >= self.level


def is_chatter(record: logging.LogRecord) -> bool:
    """True for a library's routine line (see `CHATTY`)."""
    name = record.name
    if record.levelno == logging.INFO and any(
        name == lib or name.startswith(lib + ".") for lib in CHATTY
    ):
        return True
    if name.startswith("alembic.") and record.levelno == logging.INFO:
        return record.msg != _ALEMBIC_STEP
    return name == "bot.slack.bolt" and str(record.msg).startswith(_BOLT_UNHANDLED)


def fields(record: logging.LogRecord) -> dict[str, object]:
    """The structured fields a record was given in `extra`."""
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD}


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the record's `extra` fields as keys of their own."""

    def format(self, record: logging.LogRecord) -> str:
        """Serialise a record."""
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in fields(record).items():
            plain = isinstance(value, str | int | float | bool | None)
            entry.setdefault(key, value if plain else str(value))
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry)


def configure(level: str, fmt: str, *, secrets: list[str], pii: Policy | None = None) -> None:
    """Send logs to stderr in `fmt` (`console` or `json`) from `level` (`LOG_LEVEL`) up,
    masking `secrets` and personal data (`pii`: the config's policy; else the built-in
    detectors). Raises LogLevelError for a level that does not exist."""
    threshold = parse_level(level)
    handler = logging.StreamHandler()
    handler.addFilter(LibraryChatter(threshold))
    handler.addFilter(SecretMask(secrets, pii))
    handler.setFormatter(
        JsonFormatter()
        if fmt == "json"
        else logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(threshold)


def mask_also(secrets: list[str]) -> None:
    """Mask `secrets` too, from now on, in every handler `configure` set up (for
    credentials made up while starting, such as the sandbox's)."""
    for handler in logging.getLogger().handlers:
        for log_filter in handler.filters:
            if isinstance(log_filter, SecretMask):
                log_filter.secrets += [s for s in secrets if len(s) >= 6]
