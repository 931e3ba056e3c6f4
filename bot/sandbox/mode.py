"""When `firebell serve` runs the sandbox, and what it runs it with.

With no Slack settings at all (the placeholders of `.env.example` count as none), or
with `--sandbox`, firebell serves the sandbox. A setting the user made is always used;
what they did not set (or set to its default) falls back to what the sandbox can run
without: the example config and runbooks shipped in the package when there are none
here, and a database in a temporary folder, since the workspace it belongs to lives
only as long as the process.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.sandbox.launch import shipped
from bot.settings import Settings


def wants_sandbox(settings: Settings, *, forced: bool) -> bool:
    """Whether to serve the sandbox: asked for, or nothing says how to reach Slack."""
    return forced or (settings.slack_bot_token is None and settings.slack_signing_secret is None)


@dataclass
class SandboxSources:
    """The config, runbooks and database a sandbox runs with, and what to tell about them."""

    config: Path
    runbooks: Path
    database_url: str
    notes: list[str] = field(default_factory=list)


def sandbox_sources(settings: Settings, *, config: Path | None, scratch: Path) -> SandboxSources:
    """What the sandbox uses, given the settings, `--config` and a scratch folder.

    A setting left at its default, or set to it (as a `.env` copied from `.env.example`
    does), counts as not chosen.
    """
    chosen = {
        name
        for name in settings.model_fields_set
        if getattr(settings, name) != Settings.model_fields[name].default
    }
    notes = []
    config_path = config or settings.firebell_config
    if config is None and "firebell_config" not in chosen and not config_path.exists():
        config_path = shipped("firebell.yaml")
        notes.append(
            f"no {settings.firebell_config}: using the example config shipped with firebell "
            f"({config_path}); copy it to ./firebell.yaml to change it"
        )
    runbooks = settings.firebell_runbooks
    if "firebell_runbooks" not in chosen and not runbooks.is_dir():
        runbooks = shipped("runbooks")
        notes.append(f"no {settings.firebell_runbooks} folder: using the shipped runbooks")
    database_url = settings.database_url
    if "database_url" not in chosen:
        database_url = f"sqlite:///{scratch / 'sandbox.db'}"
        notes.append(
            "the sandbox's database is a temporary file, gone when firebell stops "
            "(set DATABASE_URL to keep one)"
        )
    return SandboxSources(config_path, runbooks, database_url, notes)
