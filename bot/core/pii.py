"""PII masking: the one function every stored, posted or logged text passes through.

`redact(text, policy)` replaces what looks like personal data or a credential:

- config patterns (`pii.patterns`), the organisation's own ids: `[name]`;
- tokens: `Bearer <credential>`, Slack `xox?-` and `xapp-` tokens, `whsec_` secrets,
  AWS access key ids and `aws_secret_access_key=...`, JWTs: `[token]`;
- e-mail addresses, `local@domain.tld`: `[email]`;
- IBANs: 2 letters, 2 check digits, up to 30 letters and digits (in groups or not),
  mod-97 valid: `[iban]`;
- payment cards: 13-19 digits (single spaces or dashes between groups), first digit
  2-6, Luhn valid: `[card]`;
- IP addresses, v4 and v6, that `ipaddress` accepts: `[ip]`, bar the organisation's
  own (loopback, unspecified, RFC 1918, link-local, IPv6 unique-local), and bar dotted
  quads a word (`deploy 2.14.0.1`) or a suffix (`1.2.3.4-beta`) says are versions;
- phone numbers that `phonenumbers` finds at leniency VALID, read in
  `pii.phone_region` when written without a country code: `[phone]`.

Detectors run in this order, each on what the ones before left, and only on the text
between markers already there: a token's digits are not also a card, an IP's not a
phone. Candidates are checked before they are masked (Luhn, mod-97, `ipaddress`,
`phonenumbers`' validity), so a failing card number, a version string such as
`v1.20.300.4000`, a date, a time (`2026-12-07 23:45:54.123456+00:00`, which every log
line holds) or a build number is kept. The passes repeat until nothing
changes, so redacting twice changes nothing (`redact(redact(x)) == redact(x)`).

`mode: hash` writes `[email:1a2b3c4d]` instead: the first 8 hex digits of an
HMAC-SHA256 of the normalised value (e-mail lowercased, phone in E.164, card and IBAN
digits only), keyed with the secret in `pii.hash_key_env`, so one address is one marker
everywhere without being readable.

The detectors themselves are in `bot.core.pii_detectors`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal, overload

from bot.config.governance import Pii
from bot.core.pii_detectors import BUILT_IN, Detector, Found

if TYPE_CHECKING:
    from bot.config.model import Config

Mode = Literal["mask", "hash"]
Scope = Literal["all", "pii"]
# Classifications whose text `scope: pii` masks (`pii` is masked whatever the scope).
SENSITIVE = ("pii", "confidential")
MIN_KEY = 16  # characters of a hash key; `firebell secret` prints 49
HASH_DIGITS = 8

# A marker left by an earlier pass (or an earlier redaction): never looked into again.
_MARKER = re.compile(r"\[[a-z_]+(?::[0-9a-f]{8})?\]")


@dataclass(frozen=True)
class Policy:
    """What to mask and how (built from `pii:` by `policy`)."""

    mode: Mode = "mask"
    scope: Scope = "all"
    key: bytes | None = field(default=None, repr=False)
    phone_region: str = "US"
    patterns: tuple[tuple[str, re.Pattern[str]], ...] = ()

    @property
    def detectors(self) -> tuple[str, ...]:
        """The kinds of value this policy masks, in the order they are looked for."""
        return (*(name for name, _ in self.patterns), *(kind for kind, _ in BUILT_IN))


class PiiKeyError(ValueError):
    """`pii.mode: hash` without its key in the environment."""


def policy(pii: Pii) -> Policy:
    """The policy of a `pii:` block. Raises PiiKeyError in hash mode without the key
    (`keyed` reads it when firebell starts)."""
    if pii.mode == "hash" and pii.key is None:
        raise PiiKeyError(
            f"pii.mode is hash but its key was not read: set {pii.hash_key_env} and "
            "start firebell again"
        )
    return _policy(
        pii.mode,
        pii.scope,
        pii.key,
        pii.phone_region,
        tuple((p.name, p.regex) for p in pii.patterns),
    )


@lru_cache(maxsize=32)
def _policy(
    mode: Mode,
    scope: Scope,
    key: bytes | None,
    region: str,
    patterns: tuple[tuple[str, str], ...],
) -> Policy:
    compiled = tuple((name, re.compile(regex)) for name, regex in patterns)
    return Policy(mode, scope, key, region, compiled)


def keyed(config: Config, environ: Mapping[str, str]) -> Config:
    """`config` with the hash key of `pii.mode: hash` read from `environ` (unchanged in
    mask mode). Raises PiiKeyError saying what to set when the variable is missing or
    too short."""
    pii = config.pii
    if pii.mode != "hash" or pii.key is not None:
        return config
    name = pii.hash_key_env
    secret = environ.get(name or "", "")
    if len(secret) < MIN_KEY:
        state = "is not set" if not secret else f"holds fewer than {MIN_KEY} characters"
        raise PiiKeyError(
            f"pii.mode is hash, and its key, the environment variable {name}, {state}: "
            f"set it to a secret of at least {MIN_KEY} characters (`firebell secret` "
            "prints one) and keep it: another key hashes the same value differently"
        )
    return config.model_copy(update={"pii": pii.with_key(secret.encode())})


def covers(policy: Policy, classification: str | None) -> bool:
    """Whether the text of a service of `classification` is masked (None: no service)."""
    return policy.scope == "all" or classification in SENSITIVE


@overload
def redact_for(config: Config, service: str | None, text: str) -> str: ...
@overload
def redact_for(config: Config, service: str | None, text: None) -> None: ...
def redact_for(config: Config, service: str | None, text: str | None) -> str | None:
    """`text` about `service` as firebell may keep and post it: redacted when the
    config's scope covers the service (`covers`)."""
    if not text:
        return text
    found = config.services.get(service) if service is not None else None
    current = policy(config.pii)
    classification = found.classification if found is not None else None
    return redact(text, current) if covers(current, classification) else text


def redact_json(value: Any, redact: Callable[[str], str]) -> Any:
    """A JSON value (a webhook's body) with `redact` applied to every string in it;
    the keys stay, they are the sender's field names."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redact_json(item, redact) for key, item in value.items()}
    if isinstance(value, list):
        return [redact_json(item, redact) for item in value]
    return value


def redact(text: str, policy: Policy) -> str:
    """`text` with every value the policy's detectors find replaced by its marker."""
    while True:
        masked = _pass(text, policy)
        if masked == text:
            return masked
        text = masked


def _pass(text: str, policy: Policy) -> str:
    for name, pattern in policy.patterns:
        text = _apply(text, policy, partial_pattern(name, pattern))
    for _, detector in BUILT_IN:
        text = _apply(text, policy, detector)
    return text


def partial_pattern(name: str, pattern: re.Pattern[str]) -> Detector:
    """A config pattern as a detector (empty matches are no values)."""

    def detect(text: str, _: str) -> list[Found]:
        return [
            Found(m.start(), m.end(), name, m.group())
            for m in pattern.finditer(text)
            if m.end() > m.start()
        ]

    return detect


def _apply(text: str, policy: Policy, detector: Detector) -> str:
    """Run one detector on each stretch of `text` between markers; mask what it finds."""
    out: list[str] = []
    position = 0
    for kept in [*_MARKER.finditer(text), None]:
        end = len(text) if kept is None else kept.start()
        out.append(_masked(text[position:end], policy, detector))
        if kept is not None:
            out.append(kept.group())
            position = kept.end()
    return "".join(out)


def _masked(stretch: str, policy: Policy, detector: Detector) -> str:
    if not stretch:
        return stretch
    out: list[str] = []
    position = 0
    for found in sorted(detector(stretch, policy.phone_region), key=lambda f: f.start):
        if found.start < position:
            continue  # overlaps one already masked
        out += [stretch[position : found.start], marker(found, policy)]
        position = found.end
    out.append(stretch[position:])
    return "".join(out)


def marker(found: Found, policy: Policy) -> str:
    """What a found value becomes: `[kind]`, or `[kind:<hash>]` in hash mode."""
    if policy.mode == "mask" or policy.key is None:
        return f"[{found.kind}]"
    digest = hmac.new(policy.key, found.value.encode(), hashlib.sha256).hexdigest()
    return f"[{found.kind}:{digest[:HASH_DIGITS]}]"


def describe(pii: Pii) -> list[str]:
    """The policy as `firebell check` prints it."""
    scope = (
        "the text of every service"
        if pii.scope == "all"
        else "the text of pii and confidential services"
    )
    how = (
        "mask (values become [email], [phone] ...)"
        if pii.mode == "mask"
        else f"hash (values become [email:1a2b3c4d], keyed with ${pii.hash_key_env})"
    )
    built_in = ", ".join(kind for kind, _ in BUILT_IN)
    lines = [
        "PII masking",
        f"  mode      {how}",
        f"  scope     {scope}; logs always",
        f"  detectors {built_in} (phone region {pii.phone_region})",
    ]
    lines += [f"  pattern   [{p.name}] {p.regex}" for p in pii.patterns] or ["  patterns  none"]
    return lines
