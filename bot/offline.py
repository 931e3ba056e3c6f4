"""What the commands that read the database from a terminal share (`export`, `review`):
the config or the one-line refusal, and one read transaction."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TypeVar

from sqlmodel import Session

from bot.config.load import ConfigError, load_config
from bot.config.model import Config
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


def read(settings: Settings, use: Callable[[Session], T]) -> T:
    """`use` in one transaction of the database `DATABASE_URL` names."""
    store = Store(make_engine(settings.database_url), workers=1)
    try:
        with store.transaction() as session:
            return use(session)
    finally:
        store.dispose()
