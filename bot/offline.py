"""What the commands that read the database from a terminal share (`export`, `review`,
`feedback`, `readiness`): the config or the one-line refusal, a service name checked,
and one read transaction."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TypeVar

from sqlmodel import Session

from bot.config.load import ConfigError, load_config
from bot.config.model import Config
from bot.config.source import did_you_mean
from bot.settings import Settings
from bot.store.db import Store, make_engine

T = TypeVar("T")


def configured(command: str, settings: Settings) -> Config | None:
    """The config `FIREBELL_CONFIG` names; None, with every problem on stderr, when it
    is refused."""
    try:
        return load_config(settings.firebell_config)
    except ConfigError as err:
        print(f"firebell {command}: the config was refused:\n{err}", file=sys.stderr)
        return None


def unknown_service(command: str, config: Config, service: str | None) -> bool:
    """True, with what to type on stderr, when `service` names no service of `config`."""
    if service is None or service in config.services:
        return False
    known = ", ".join(sorted(config.services)) or "none configured"
    print(
        f"firebell {command}: unknown service {service!r}"
        f"{did_you_mean(service, config.services)} (known: {known})",
        file=sys.stderr,
    )
    return True


def read(settings: Settings, use: Callable[[Session], T]) -> T:
    """`use` in one transaction of the database `DATABASE_URL` names."""
    store = Store(make_engine(settings.database_url), workers=1)
    try:
        with store.transaction() as session:
            return use(session)
    finally:
        store.dispose()
