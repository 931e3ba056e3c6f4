"""The built-in PII detectors (`bot.core.pii` runs them): each finds values of one kind
in a text, checked before they count (Luhn, mod-97, `ipaddress`, `phonenumbers`), and
returns where they are with their normalised value (what hash mode hashes).

Cheap checks come first (an `@` for e-mail, 7 digits before `phonenumbers` is asked, a
prefix for tokens), so a log line with nothing to mask costs a few regex scans.

What is kept on purpose: dates, times and versions (every log line and most status
updates hold one), and the addresses of the organisation's own machines (`_KEPT_NETWORKS`),
which are no one's personal data and which alert labels such as `10.0.0.1:8080` need.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass

import phonenumbers

_BEARER = re.compile(r"(?i:\bbearer)\s+([A-Za-z0-9._~+/-]+=*)")
_SLACK = re.compile(r"\b(?:xox[abeposr]|xapp)-[A-Za-z0-9-]{10,}")
_WHSEC = re.compile(r"\bwhsec_[A-Za-z0-9+/=]{8,}")
_AWS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")
_AWS_SECRET = re.compile(r"(?i:\baws_secret_access_key)\s*[=:]\s*[\"']?([A-Za-z0-9/+=]{16,})")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
    r"\.[A-Za-z]{2,}\b"
)
# A run of upper-case letters and digits in groups (IBANs are written in groups of 4).
_IBAN = re.compile(r"\b[A-Z]{2}[0-9]{2}[A-Z0-9]*(?: [A-Z0-9]+)*\b")
# A run of digit groups joined by single spaces or dashes, not part of a longer number.
_DIGIT_RUN = re.compile(r"(?<![\w.,])[0-9]+(?:[ -][0-9]+)*(?![\w]|[.,][0-9])")
_IPV4 = re.compile(r"(?<![\w.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?![\w]|\.[0-9])")
_IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:[0-9]{1,3}\.){3}[0-9]{1,3}|[0-9A-Fa-f]{1,4})?"
    r"(?![\w:]|\.[0-9])"
)
# What says a dotted quad is a version: a word before it (`Deploy 2.14.0.1`, `version:
# 1.2.3.4`, `upgraded to 1.2.3.4`), or a pre-release or build suffix after it (`-beta`).
_VERSION_BEFORE = re.compile(
    r"(?i:\b(?:v|ver|version|release|rel|build|tag|rev|revision|deploy(?:s|ed|ing)?"
    r"|(?:(?:up|down)grad(?:e|es|ed|ing)|roll(?:ed|ing)?\s*back|bump(?:s|ed)?)(?:\s+to)?))"
    r"[\s:=#@]*$"
)
_VERSION_AFTER = re.compile(r"[-+][A-Za-z]")
_VERSION_WINDOW = 24  # characters before a dotted quad where its version word may be
# Addresses of the organisation's own machines, kept: loopback, unspecified, RFC 1918,
# link-local, IPv6 unique-local. Listed rather than `is_private`, which also covers the
# documentation ranges (192.0.2.0/24 ...), and those are masked like public addresses.
_KEPT_NETWORKS = (
    *("127.0.0.0/8", "0.0.0.0/32", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"),
    *("169.254.0.0/16", "::1/128", "::/128", "fc00::/7", "fe80::/10"),
)
# The same as (version, network, netmask) integers: every logged address is checked.
_KEPT = tuple(
    (net.version, int(net.network_address), int(net.netmask))
    for net in map(ipaddress.ip_network, _KEPT_NETWORKS)
)
# Where a phone number is never looked for: ISO and dotted dates (`2026-12-07`,
# `07.12.2026`), times and durations (`23:45:54.123`, `123:45`), dotted quads (an address
# kept above, or a version). `2026-12-07 23` alone would dial a valid US number.
_NOT_PHONE = re.compile(
    r"(?<![0-9])[0-9]{4}-[0-9]{2}-[0-9]{2}(?![0-9])"
    r"|(?<![0-9.])[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{4}(?![0-9]|\.[0-9])"
    r"|[0-9]+(?::[0-9]{2})+(?:[.,][0-9]+)?"
    r"|(?<![0-9.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?![0-9]|\.[0-9])"
)
_DIGIT = re.compile(r"[0-9]")
_PHONE_DIGITS = 7  # fewer digits than this in a text: no phone number in it
# Digits with what phone numbers are written with between them: `+1 (415) 555-2671`.
_PHONE_LIKE = re.compile(r"[+(]*[0-9](?:[0-9 ().\/-]|\u00a0)*[0-9]\)?")


@dataclass(frozen=True)
class Found:
    """A value to mask: where it is in the text, its kind (`email` ...) and its
    normalised value (what `hash` mode hashes)."""

    start: int
    end: int
    kind: str
    value: str


# A detector: (text, phone region) -> what it found.
Detector = Callable[[str, str], list[Found]]


def _tokens(text: str, _: str) -> list[Found]:
    found: list[Found] = []
    lowered = text.lower()
    if "bearer" in lowered:
        found += [_group(m, "token") for m in _BEARER.finditer(text) if _credential(m.group(1))]
    if "xox" in text or "xapp-" in text:
        found += [_whole(m, "token") for m in _SLACK.finditer(text)]
    if "whsec_" in text:
        found += [_whole(m, "token") for m in _WHSEC.finditer(text)]
    if "AKIA" in text or "ASIA" in text:
        found += [_whole(m, "token") for m in _AWS_KEY_ID.finditer(text)]
    if "aws_secret_access_key" in lowered:
        found += [_group(m, "token") for m in _AWS_SECRET.finditer(text)]
    if "eyJ" in text:
        found += [_whole(m, "token") for m in _JWT.finditer(text)]
    return found


def _credential(word: str) -> bool:
    """Whether the word after `Bearer` is a credential, not prose ("the bearer of")."""
    return len(word) >= 8 and (_DIGIT.search(word) is not None or len(word) >= 20)


def _whole(match: re.Match[str], kind: str) -> Found:
    return Found(match.start(), match.end(), kind, match.group())


def _group(match: re.Match[str], kind: str) -> Found:
    """The credential after its label (`Bearer `, `aws_secret_access_key=`), which stays."""
    return Found(match.start(1), match.end(1), kind, match.group(1))


def _emails(text: str, _: str) -> list[Found]:
    if "@" not in text:
        return []
    return [Found(m.start(), m.end(), "email", m.group().lower()) for m in _EMAIL.finditer(text)]


def _ibans(text: str, _: str) -> list[Found]:
    found = []
    for match in _IBAN.finditer(text):
        iban = _longest_iban(match.group())
        if iban is not None:
            found.append(Found(match.start(), match.start() + len(iban), "iban", _compact(iban)))
    return found


def _longest_iban(run: str) -> str | None:
    """The longest start of `run`, ending at a group's end, that is a valid IBAN."""
    ends = [m.start() for m in re.finditer(" ", run)] + [len(run)]
    for end in reversed(ends):
        if iban_valid(_compact(run[:end])):
            return run[:end]
    return None


def _compact(value: str) -> str:
    return value.replace(" ", "").replace("-", "")


def iban_valid(iban: str) -> bool:
    """Whether `iban` (no spaces) has an IBAN's shape and its mod-97 check holds."""
    if not 15 <= len(iban) <= 34 or not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]+", iban):
        return False
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def _cards(text: str, _: str) -> list[Found]:
    found = []
    for match in _DIGIT_RUN.finditer(text):
        if sum(c.isdigit() for c in match.group()) >= 13:
            found += _cards_in(match.group(), match.start())
    return found


def _cards_in(run: str, offset: int) -> list[Found]:
    """The card numbers in a run of digit groups: from each group on, the longest
    stretch of whole groups with 13-19 digits that passes Luhn; left to right."""
    groups = [(m.start(), m.end()) for m in re.finditer(r"[0-9]+", run)]
    found: list[Found] = []
    i = 0
    while i < len(groups):
        best = None
        digits = 0
        for j in range(i, len(groups)):
            digits += groups[j][1] - groups[j][0]
            if digits > 19:
                break
            number = _compact(run[groups[i][0] : groups[j][1]])
            if digits >= 13 and number[0] in "23456" and luhn_valid(number):
                best = j
        if best is None:
            i += 1
            continue
        start, end = groups[i][0], groups[best][1]
        found.append(Found(offset + start, offset + end, "card", _compact(run[start:end])))
        i = best + 1
    return found


def luhn_valid(number: str) -> bool:
    """Whether a string of digits passes the Luhn check of payment card numbers."""
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _ips(text: str, _: str) -> list[Found]:
    found = []
    if "." in text:
        found += [
            Found(m.start(), m.end(), "ip", m.group())
            for m in _IPV4.finditer(text)
            if not _version(text, m.start(), m.end()) and _is_ip(m.group())
        ]
    if "::" in text or text.count(":") >= 7:
        found += [
            Found(m.start(), m.end(), "ip", m.group())
            for m in _IPV6.finditer(text)
            if _ipv6_like(m.group()) and _is_ip(m.group())
        ]
    return found


def _version(text: str, start: int, end: int) -> bool:
    """Whether the dotted quad at `start:end` is a version, as the words around it say:
    an address may have small octets too, so its digits alone cannot tell."""
    if _VERSION_AFTER.match(text, end):
        return True
    return _VERSION_BEFORE.search(text, max(0, start - _VERSION_WINDOW), start) is not None


def _ipv6_like(value: str) -> bool:
    """Whether a hex-and-colons candidate may be an IPv6 address rather than a word
    (`dead::beef`, `a::b`): it holds a digit or at least 3 groups."""
    return _DIGIT.search(value) is not None or sum(1 for g in value.split(":") if g) >= 3


def _is_ip(value: str) -> bool:
    """An address of someone's machine: valid, and not of the organisation's own
    (`_KEPT_NETWORKS`: loopback, private, link-local ...), whose addresses name no one
    and whose URLs and alert labels must stay usable. An IPv4-mapped IPv6 address is
    judged as the IPv4 address it carries."""
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    number = int(address)
    return not any(
        address.version == version and number & netmask == network
        for version, network, netmask in _KEPT
    )


def _phones(text: str, region: str) -> list[Found]:
    """Phone numbers, asking `phonenumbers` only about stretches of digits and the
    characters numbers are written with that hold 7 digits or more (matching a whole
    log line costs some 50 times more), outside dates, times and dotted quads."""
    if len(_DIGIT.findall(text)) < _PHONE_DIGITS or not _candidates(text, 0, len(text)):
        return []
    found = []
    position = 0
    for kept in [*_NOT_PHONE.finditer(text), None]:
        end = len(text) if kept is None else kept.start()
        for candidate in _candidates(text, position, end):
            found += _phones_in(text, candidate, region)
        position = end if kept is None else kept.end()
    return found


def _candidates(text: str, start: int, end: int) -> list[re.Match[str]]:
    """The stretches of `text[start:end]` written like phone numbers, 7 digits or more."""
    return [
        candidate
        for candidate in _PHONE_LIKE.finditer(text, start, end)
        if len(_DIGIT.findall(candidate.group())) >= _PHONE_DIGITS
    ]


def _phones_in(text: str, candidate: re.Match[str], region: str) -> list[Found]:
    """The phone numbers `phonenumbers` finds in a candidate (the text is its context)."""
    found = []
    matcher = phonenumbers.PhoneNumberMatcher(
        candidate.group(), region, leniency=phonenumbers.Leniency.VALID
    )
    for match in matcher:
        start, end = candidate.start() + match.start, candidate.start() + match.end
        if not _inside_number(text, start, end):
            e164 = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
            found.append(Found(start, end, "phone", e164))
    return found


def _inside_number(text: str, start: int, end: int) -> bool:
    """Whether a match is a piece of something longer: a version (`v1.20.300.4000`),
    a dotted or dashed number, a word."""
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    if before.isalnum() or before in "._" or after.isalnum() or after == "_":
        return True
    return after in ".-" and text[end + 1 : end + 2].isdigit()


BUILT_IN: tuple[tuple[str, Detector], ...] = (
    ("token", _tokens),
    ("email", _emails),
    ("iban", _ibans),
    ("card", _cards),
    ("ip", _ips),
    ("phone", _phones),
)
