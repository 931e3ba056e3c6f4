"""Governance blocks of the config: launch readiness, stages, PII policy, permissions.

Each block's checks live here; what firebell does with them lives in `bot.governance`
(readiness, sign-offs, stages), `bot.core.pii` (masking) and `bot.core.permissions`.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, PrivateAttr, field_validator, model_validator

from bot.config.block import Block

Stage = Literal["internal", "beta", "full"]
STAGES: tuple[Stage, ...] = ("internal", "beta", "full")
# What the built-in PII detectors mask values as (`bot.core.pii`); config patterns add theirs.
BUILT_IN = ("email", "phone", "card", "iban", "ip", "token")
PATTERN_NAME = re.compile(r"[a-z_]+")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# The launch checklist's items, in the seed's order: the keys `readiness.stages` and
# `firebell readiness --json` use (bot.governance.checklist evaluates them).
READINESS_ITEMS: tuple[str, ...] = (
    "stakeholders",
    "failure_rate",
    "raci",
    "owner",
    "classification",
    "pii",
    "slo",
    "dashboard",
    "rollback",
    "runbook",
    "feedback",
)


class Readiness(Block):
    """A service's launch readiness: who must approve (role -> Slack user ID), and
    optionally which checklist items each stage needs (default: docs/governance.md)."""

    stakeholders: dict[str, str] = Field(default_factory=dict)
    stages: dict[Stage, list[str]] | None = None

    @field_validator("stages")
    @classmethod
    def _known_items(cls, value: dict[Stage, list[str]] | None) -> dict[Stage, list[str]] | None:
        for stage, items in (value or {}).items():
            unknown = [item for item in items if item not in READINESS_ITEMS]
            if unknown:
                raise ValueError(
                    f"{stage}: unknown checklist item {', '.join(map(repr, unknown))}; "
                    f"the items are {', '.join(READINESS_ITEMS)}"
                )
        return value


class PiiPattern(Block):
    """A pattern of the organisation's own personal data, masked as `[name]`."""

    name: str
    regex: str

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if not PATTERN_NAME.fullmatch(value):
            raise ValueError(
                f"pattern name {value!r} must be lowercase letters and _ (it is shown as "
                "[name]), e.g. customer_id"
            )
        if value in BUILT_IN:
            raise ValueError(
                f"pattern name {value!r} is a built-in detector's ({', '.join(BUILT_IN)}): "
                "choose a name of its own"
            )
        return value

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            compiled = re.compile(value)
        except re.error as err:
            raise ValueError(f"regex {value!r} does not compile: {err}") from None
        if compiled.fullmatch("") is not None:
            raise ValueError(
                f"regex {value!r} matches empty text, so it would mask nothing but "
                "insert markers: make it match at least one character (+ instead of *)"
            )
        return value


class Pii(Block):
    """How personal data is masked in what firebell stores, posts and logs.

    `mode: mask` replaces a value with `[email]`, `[phone]` ...; `hash` with a keyed
    hash (`[email:1a2b3c4d]`, HMAC-SHA256 keyed with the secret in the environment
    variable `hash_key_env`) that keeps equal values comparable. `hash` needs
    `hash_key_env`, and `firebell serve` refuses to start while that variable is unset:
    a key made up at start would make the same value hash differently after a restart.
    `scope: all` masks the text of every service; `pii` only that of `pii` and
    `confidential` services (the text of `pii` services is always masked, and logs
    always are). Phone numbers written without a country code are read as numbers of
    `phone_region`. What each detector finds: `bot.core.pii`.
    """

    mode: Literal["mask", "hash"] = "mask"
    scope: Literal["all", "pii"] = "all"
    hash_key_env: str | None = None
    phone_region: str = "US"
    patterns: list[PiiPattern] = Field(default_factory=list)
    # The hash key, read from `hash_key_env` when firebell starts (`bot.core.pii.keyed`),
    # never from the file and never shown.
    _key: bytes | None = PrivateAttr(default=None)

    @field_validator("hash_key_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not ENV_NAME.fullmatch(value):
            raise ValueError(
                f"hash_key_env names an environment variable, e.g. FIREBELL_PII_KEY, not {value!r}"
            )
        return value

    @field_validator("phone_region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        import phonenumbers  # noqa: PLC0415 - its metadata is big; only a Pii block needs it

        if value not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(
                f"phone_region must be a two-letter region code such as US, GB or DE, not {value!r}"
            )
        return value

    @field_validator("patterns")
    @classmethod
    def _distinct(cls, value: list[PiiPattern]) -> list[PiiPattern]:
        names = [pattern.name for pattern in value]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"pattern names must differ: {', '.join(twice)} is given twice")
        return value

    @model_validator(mode="after")
    def _hash_has_key(self) -> Pii:
        if self.mode == "hash" and self.hash_key_env is None:
            raise ValueError(
                "mode: hash needs hash_key_env, the environment variable holding the "
                "hash key (e.g. hash_key_env: FIREBELL_PII_KEY, set to the output of "
                "`firebell secret`), or use mode: mask"
            )
        return self

    @property
    def key(self) -> bytes | None:
        """The hash key read at start (None in mask mode, or before it was read)."""
        return self._key

    def with_key(self, key: bytes) -> Pii:
        """This block with the hash key read from the environment."""
        keyed = self.model_copy()
        keyed._key = key
        return keyed


DEFAULT_ALLOWED = ("responsible", "accountable", "lead")
# The roles a permission may name, read against the incident (`bot.core.permissions`).
ROLES = ("responsible", "accountable", "consulted", "informed", "lead", "oncall", "declarer")


def _default_allowed() -> list[str]:
    return list(DEFAULT_ALLOWED)


class Permissions(Block):
    """Who may do the actions that need more than being in the channel.

    Each names roles of the incident's area (`responsible`, `accountable`, `consulted`,
    `informed`, `lead`, `oncall`, `declarer`), team keys or user IDs.
    """

    lower_p0_severity: list[str] = Field(default_factory=_default_allowed)
    resolve_p0: list[str] = Field(default_factory=_default_allowed)
    resolve_p1: list[str] = Field(default_factory=_default_allowed)
    rollback: list[str] = Field(default_factory=_default_allowed)
