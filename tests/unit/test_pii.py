"""PII masking: each detector finds what it must and keeps what it must not touch, the
policy's mode and scope, the config's checks, and the log filter."""

from __future__ import annotations

import ipaddress
import logging
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.cli import main
from bot.config.governance import Pii
from bot.config.load import ConfigError, Problem, load_config, parse_config
from bot.config.model import Config
from bot.core.pii import (
    PiiKeyError,
    Policy,
    covers,
    describe,
    keyed,
    policy,
    redact,
    redact_for,
    redact_json,
)
from bot.core.pii_detectors import iban_valid, luhn_valid
from bot.integrations.model import AlertFacts, Notification
from bot.logs import SecretMask

ROOT = Path(__file__).resolve().parents[2]
MASK = Policy()
KEY = b"a-key-of-at-least-16-characters"
HASH = Policy(mode="hash", key=KEY)
CONFIG = """\
severities:
  P0: {name: Outage, respond_within: 15m, notify: everyone}
  P1: {name: Broken feature, respond_within: 1h, notify: owning_team}
  P2: {name: Degraded, respond_within: 4h, notify: owner}
  P3: {name: Minor, respond_within: 1d, notify: owner}
channels: {announcements: C0ANNOUNCE}
teams:
  ml: {name: ML Team, members: [U01ML1]}
areas:
  model: {name: Model/Prompt, responsible: ml, accountable: U01MLLEAD}
services:
  open-docs: {area: model, classification: public}
  checkout: {area: model, classification: confidential}
  accounts: {area: model, classification: pii}
"""


def config_with(pii: str) -> Config:
    """The small config above with a `pii:` block (YAML, one line)."""
    return parse_config(CONFIG + pii)


def refused(pii: str) -> list[Problem]:
    """The problems for which the config with this `pii:` block is refused."""
    with pytest.raises(ConfigError) as caught:
        parse_config(CONFIG + pii)
    return caught.value.problems


def masked(text: str) -> str:
    return redact(text, MASK)


# --- e-mail -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "jane.doe@example.com",
        "write to Jane.Doe+tickets@mail.example.co.uk please",
        "<mailto:ops@example.org|ops@example.org>",
    ],
)
def test_email_addresses_are_masked(text: str) -> None:
    """Every e-mail address becomes [email], the words around it stay."""
    out = masked(text)
    assert "@" not in out
    assert "[email]" in out


@pytest.mark.parametrize(
    "text", ["ping @channel", "user@localhost", "a@b", "<@U01ML1> look", "@here now"]
)
def test_what_is_not_an_email_address_is_kept(text: str) -> None:
    """Mentions and addresses without a domain are no e-mail addresses."""
    assert masked(text) == text


# --- phone numbers ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "call +1 415-555-2671 now",
        "call (415) 555-2671",
        "UK desk +44 20 7946 0958",
        "Berlin +49 30 12345678",
        "tel:+14155552671",
    ],
)
def test_phone_numbers_are_masked(text: str) -> None:
    """A valid phone number, international or of the default region, becomes [phone]."""
    out = masked(text)
    assert "[phone]" in out
    assert not re.search(r"\d{3}", out.replace("[phone]", ""))


@pytest.mark.parametrize(
    "text",
    [
        "upgraded to v1.20.300.4000 today",
        "ver 1.20.300.4000",
        "build 2026.12.07.1234",
        "since 2026-12-07 at 10:00",
        "at 2026-12-07T23:17:47+00:00",
        "v2.415.555.2671",
        "id 650-253-0000-1",
        "ts 1733616000123 ms",
        "uuid 123e4567-e89b-12d3-a456-426614174000",
        "since 2026-12-07 23:45",
        "logged 2026-12-07 23:45:54.123456+00:00 by firebell",
        "logged 2026-12-07 23:45:54,123 INFO",
        "at 2026-12-07T23:45:54Z",
        "due 2026-12-07T23:45:54.123+01:00",
        "on 2026-12-07, 23:45 UTC",
        "at 23:45:54.123456",
        "took 123:45:07",
        "elapsed 0:00:12.345678",
        "from 2026-12-07 to 2026-12-08",
    ],
)
def test_versions_dates_and_ids_are_not_phone_numbers(text: str) -> None:
    """A phone-like run of digits inside a version, a date, a time, a duration or an id
    is kept: `2026-12-07 23` alone would dial a valid US number."""
    assert masked(text) == text


@settings(max_examples=200, deadline=None)
@given(st.datetimes(timezones=st.none() | st.just(UTC)))
def test_a_datetime_as_python_writes_it_is_always_kept(moment: datetime) -> None:
    """`str()` and `isoformat()` of any datetime, in a status update or a log line, stay
    as they are."""
    for text in (f"since {moment} now", f"at {moment.isoformat()}", str(moment)):
        assert masked(text) == text


def test_a_dotted_date_is_no_phone_number_where_it_would_dial() -> None:
    """`07.12.2026` would be a valid German number; as a date it is kept."""
    german = policy(Pii(phone_region="DE"))
    assert redact("seit 07.12.2026 23:45", german) == "seit 07.12.2026 23:45"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call +1 415-555-2671 at 23:45", "call [phone] at 23:45"),
        ("2026-12-07 23:45 call 415-555-2671", "2026-12-07 23:45 call [phone]"),
        ("on 2026-12-07 (415) 555-2671 rang", "on 2026-12-07 [phone] rang"),
    ],
)
def test_a_phone_number_next_to_a_date_or_time_is_still_masked(text: str, expected: str) -> None:
    """Dates and times are kept, the phone number beside them is not."""
    assert masked(text) == expected


def test_an_ip_address_is_an_ip_not_a_phone_number() -> None:
    """An IPv4 address whose digits could dial is masked as an IP."""
    assert masked("from 198.51.100.200 now") == "from [ip] now"


def test_a_kept_private_address_is_not_taken_for_a_phone_number() -> None:
    """A private address is kept whole: its digits do not become a phone number."""
    assert masked("from 192.168.100.200 now") == "from 192.168.100.200 now"


def test_a_national_number_is_read_in_the_configured_region() -> None:
    """`030 1234567` is a Berlin number for `phone_region: DE`, nothing in the US."""
    german = policy(Pii(phone_region="DE"))
    assert redact("ruf 030 12345678 an", german) == "ruf [phone] an"
    assert masked("ruf 030 12345678 an") == "ruf 030 12345678 an"


# --- payment cards ----------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    ["4111 1111 1111 1111", "4111-1111-1111-1111", "4111111111111111", "378282246310005"],
)
def test_card_numbers_passing_luhn_are_masked(number: str) -> None:
    """A Luhn-valid card number, grouped or not, becomes [card]."""
    assert masked(f"paid with {number}.") == "paid with [card]."


@pytest.mark.parametrize(
    "text",
    [
        "card 4111 1111 1111 1112 declined",  # fails Luhn
        "order 1234567890123452",  # passes Luhn, but no card starts with 1
        "count 123456789012",  # 12 digits: too short
    ],
)
def test_numbers_that_are_no_card_numbers_are_kept(text: str) -> None:
    """Failing Luhn, a first digit no card has, or too few digits: kept."""
    assert masked(text) == text


def test_a_card_number_followed_by_more_digits_is_still_found() -> None:
    """The expiry after the number does not hide the number."""
    assert masked("4111 1111 1111 1111 12/28") == "[card] 12/28"
    assert masked("4111 1111 1111 1111 2026") == "[card] 2026"


def test_luhn_check() -> None:
    """The Luhn check accepts test card numbers and refuses one digit off."""
    assert luhn_valid("4111111111111111")
    assert luhn_valid("5555555555554444")
    assert not luhn_valid("4111111111111112")


# --- IBANs ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["DE89 3704 0044 0532 0130 00", "DE89370400440532013000", "GB82 WEST 1234 5698 7654 32"]
)
def test_ibans_passing_mod_97_are_masked(text: str) -> None:
    """A valid IBAN, grouped or not, becomes [iban]."""
    assert masked(f"pay to {text} today") == "pay to [iban] today"


def test_an_iban_failing_mod_97_is_kept() -> None:
    """One digit off: not an IBAN."""
    assert masked("pay to DE89370400440532013001") == "pay to DE89370400440532013001"
    assert not iban_valid("DE89370400440532013001")


def test_an_iban_followed_by_capitals_is_still_found() -> None:
    """Upper-case words after the IBAN are not taken as part of it."""
    assert masked("DE89 3704 0044 0532 0130 00 AB OK") == "[iban] AB OK"


# --- IP addresses -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("host 203.0.113.7:9100 down", "host [ip]:9100 down"),
        ("from 81.2.69.160 now", "from [ip] now"),
        ("carrier-grade NAT 100.64.12.34", "carrier-grade NAT [ip]"),
        ("not RFC 1918: 172.32.0.1 and 11.0.0.1", "not RFC 1918: [ip] and [ip]"),
        ("from 2001:db8::1 and 2001:db8::2", "from [ip] and [ip]"),
        ("peer 2001:db8::1ff:fe23:4567:890a", "peer [ip]"),
        ("[2001:db8::8a2e:370:7334]:443", "[[ip]]:443"),
        ("mapped ::ffff:203.0.113.7 here", "mapped [ip] here"),
        ("deploy 2.14.0.1 from 203.0.113.7", "deploy 2.14.0.1 from [ip]"),
        ("deployed to 203.0.113.7", "deployed to [ip]"),
    ],
)
def test_public_and_documentation_addresses_are_masked(text: str, expected: str) -> None:
    """IPv4 and IPv6 addresses outside the organisation's own networks become [ip]:
    public, carrier-grade NAT and documentation ones."""
    assert masked(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "open http://127.0.0.1:3000/sandbox, [::1]:9090 and 0.0.0.0:3000",
        "loopback 127.53.0.1 and [::]:80",
        "instance 10.0.0.1:8080 down",
        "hosts 172.16.0.1, 172.31.255.254 and 192.168.1.20",
        "link-local 169.254.169.254 and fe80::1ff:fe23:4567:890a",
        "unique-local fd12:3456:789a::1 and fc00::7",
        "mapped ::ffff:10.0.0.1 here",
    ],
)
def test_the_organisations_own_addresses_are_kept(text: str) -> None:
    """Loopback, unspecified, RFC 1918, link-local and unique-local addresses name no
    person's machine: firebell's own URLs and alert instances stay readable."""
    assert masked(text) == text


KEPT = [
    ipaddress.ip_network(n)
    for n in ("127.0.0.0/8", "0.0.0.0/32", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
              "169.254.0.0/16", "::1/128", "::/128", "fc00::/7", "fe80::/10")
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.ip_addresses(v=4))
def test_an_ipv4_address_is_masked_unless_it_is_the_organisations_own(
    address: ipaddress.IPv4Address,
) -> None:
    """Any IPv4 address is masked, bar the kept networks' (listed here independently)."""
    text = f"from {address} now"
    own = any(address in network for network in KEPT)
    assert masked(text) == (text if own else "from [ip] now")


@settings(max_examples=300, deadline=None)
@given(st.ip_addresses(v=6, network="2000::/3") | st.sampled_from(KEPT[6:]).flatmap(
    lambda network: st.ip_addresses(network=network)))  # fmt: skip
def test_an_ipv6_address_is_masked_unless_it_is_the_organisations_own(
    address: ipaddress.IPv6Address,
) -> None:
    """A global unicast IPv6 address is masked; loopback, unique-local and link-local
    ones are kept."""
    text = f"from {address} now"
    own = any(address in network for network in KEPT)
    assert masked(text) == (text if own else "from [ip] now")


@pytest.mark.parametrize(
    "text",
    [
        "at 12:30:45",
        "at 2026-12-07 23:45:54.123456+00:00",
        "mac 00:1a:2b:3c:4d:5e",
        "std::vector",
        "dead::beef and a::b",
        "cafe::babe",
        "v1.2.3.4",
        "999.1.1.1 is none",
        "1.2.3.4.5 is a version",
        "Deploy 2.14.0.1 broke checkout",
        "deployed 81.2.69.160 at noon",
        "release 12.0.3.1 and version: 3.4.5.6",
        "upgraded to 1.2.3.4, rolled back to 1.2.3.3",
        "app 1.2.3.4-beta",
        "build 81.2.69.160+sha.5114f85",
    ],
)
def test_what_is_not_an_ip_address_is_kept(text: str) -> None:
    """Times, MAC addresses, C++ names, hex words, versions (said so by the word before
    or a suffix after) and impossible octets are kept."""
    assert masked(text) == text


# --- tokens -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer abc123def456ghi", "Authorization: Bearer [token]"),
        ("token xoxb-1234567890-abcdefghij here", "token [token] here"),
        ("xapp-1-A0123-456789-abcdef", "[token]"),
        ("xoxp-1234567890-abc", "[token]"),
        ("secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "secret [token]"),
        ("key AKIAIOSFODNN7EXAMPLE", "key [token]"),
        (
            "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "aws_secret_access_key=[token]",
        ),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "jwt [token]"),
    ],
)
def test_tokens_and_api_keys_are_masked(text: str, expected: str) -> None:
    """Bearer credentials, Slack tokens, signing secrets, AWS keys and JWTs become
    [token]; the label before a credential stays."""
    assert masked(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "the bearer of bad news",
        "Bearer instruments",
        "xoxo see you",
        "AKIA is a prefix",
        "eyJ alone is nothing",
    ],
)
def test_words_that_only_look_like_tokens_are_kept(text: str) -> None:
    """Prose and bare prefixes are no credentials."""
    assert masked(text) == text


def test_a_token_is_not_also_a_card_or_a_phone_number() -> None:
    """The digits inside a Slack token are masked once, as the token."""
    assert masked("xoxb-4111111111111111-4155552671-abcdef") == "[token]"


# --- config patterns --------------------------------------------------------------


def test_config_patterns_mask_as_their_name() -> None:
    """A pattern of the organisation's own ids masks as [name], before the built-ins."""
    config = config_with("pii: {patterns: [{name: customer_id, regex: 'CUST-[0-9]{8}'}]}")
    assert redact_for(config, "checkout", "for CUST-41555526 see") == "for [customer_id] see"


@pytest.mark.parametrize(
    ("pii", "said"),
    [
        ("{patterns: [{name: Customer, regex: x}]}", "must be lowercase letters and _"),
        ("{patterns: [{name: cust, regex: '(unclosed'}]}", "does not compile"),
        ("{patterns: [{name: cust, regex: 'a*'}]}", "matches empty text"),
        ("{patterns: [{name: email, regex: x}]}", "is a built-in detector's"),
        ("{patterns: [{name: a, regex: x}, {name: a, regex: y}]}", "a is given twice"),
        ("{mode: hash}", "mode: hash needs hash_key_env"),
        ("{mode: hash, hash_key_env: 'not a name'}", "names an environment variable"),
        ("{phone_region: XX}", "two-letter region code"),
        ("{mode: scramble}", "use 'mask' or 'hash'"),
    ],
)
def test_a_bad_pii_block_is_refused_saying_what_to_fix(pii: str, said: str) -> None:
    """Each refusal points at the `pii` block and says what is wrong."""
    problems = refused(f"pii: {pii}")
    assert any(said in problem.message for problem in problems), problems
    assert all(problem.line is not None for problem in problems)


# --- mode: hash -------------------------------------------------------------------


def test_hash_mode_keeps_equal_values_comparable() -> None:
    """The same address (in any case) gets the same marker, another address another."""
    first = redact("from Jane@Example.com", HASH)
    again = redact("to jane@example.com", HASH)
    other = redact("to john@example.com", HASH)
    assert re.fullmatch(r"from \[email:[0-9a-f]{8}\]", first)
    assert first.split()[-1] == again.split()[-1]
    assert other.split()[-1] != first.split()[-1]


def test_hash_mode_marker_depends_on_the_key() -> None:
    """Without the key a marker cannot be recomputed: another key, another marker."""
    other = Policy(mode="hash", key=b"another-key-of-16-characters")
    assert redact("+1 415-555-2671", HASH) != redact("+1 415-555-2671", other)


def test_hash_mode_reads_its_key_from_the_environment() -> None:
    """`keyed` reads the variable `hash_key_env` names; a missing or short one is
    refused with what to set."""
    config = config_with("pii: {mode: hash, hash_key_env: PII_KEY}")
    with pytest.raises(PiiKeyError, match="PII_KEY, is not set"):
        keyed(config, {})
    with pytest.raises(PiiKeyError, match="fewer than 16 characters"):
        keyed(config, {"PII_KEY": "short"})
    with pytest.raises(PiiKeyError, match="set PII_KEY"):
        redact_for(config, "checkout", "jane@example.com")
    ready = keyed(config, {"PII_KEY": KEY.decode()})
    assert redact_for(ready, "checkout", "jane@example.com") == redact("jane@example.com", HASH)
    assert "a-key" not in repr(ready) + repr(policy(ready.pii))


def test_mask_mode_needs_no_key() -> None:
    """In mask mode `keyed` changes nothing."""
    config = config_with("pii: {mode: mask}")
    assert keyed(config, {}) is config


# --- scope ------------------------------------------------------------------------


def test_scope_all_masks_every_services_text() -> None:
    """By default the text of public and unknown services is masked too."""
    config = config_with("pii: {}")
    assert redact_for(config, "open-docs", "jane@example.com") == "[email]"
    assert redact_for(config, None, "jane@example.com") == "[email]"


def test_scope_pii_masks_only_pii_and_confidential_services() -> None:
    """`scope: pii` leaves public text alone and always masks `pii` services' text."""
    config = config_with("pii: {scope: pii}")
    assert redact_for(config, "open-docs", "jane@example.com") == "jane@example.com"
    assert redact_for(config, None, "jane@example.com") == "jane@example.com"
    assert redact_for(config, "checkout", "jane@example.com") == "[email]"
    assert redact_for(config, "accounts", "jane@example.com") == "[email]"
    assert covers(policy(config.pii), "pii")


def test_no_text_stays_no_text() -> None:
    """None and empty text pass through (a feedback case without text)."""
    config = config_with("pii: {}")
    assert redact_for(config, "checkout", None) is None
    assert redact_for(config, "checkout", "") == ""


# --- structured values ------------------------------------------------------------


def test_webhook_bodies_are_masked_in_every_string_but_not_in_keys() -> None:
    """Every string of a JSON body is redacted; keys and numbers stay."""
    body = {"jane@example.com": [{"note": "ip 203.0.113.7", "n": 4111111111111111}]}
    out = redact_json(body, masked)
    assert out == {"jane@example.com": [{"note": "ip [ip]", "n": 4111111111111111}]}


def test_alert_annotations_and_labels_are_masked_but_identities_stay() -> None:
    """An alert's free text is masked; its fingerprint and the group key stay."""
    alert = AlertFacts(
        fingerprint="abc",
        status="firing",
        labels={"alertname": "Down", "instance": "203.0.113.7:9100", "node": "10.0.0.7:9100"},
        annotations={"summary": "customer jane@example.com cannot pay"},
        starts_at=datetime(2026, 12, 7, tzinfo=UTC),
    )
    key = '{}:{instance="203.0.113.7:9100"}'
    notification = Notification("alertmanager", key, "firing", (alert,))
    out = notification.redacted(masked)
    assert out.alerts[0].annotations["summary"] == "customer [email] cannot pay"
    assert out.alerts[0].labels["instance"] == "[ip]:9100"
    assert out.alerts[0].labels["node"] == "10.0.0.7:9100"
    assert out.alerts[0].fingerprint == "abc"
    assert out.group_key == notification.group_key


# --- logs -------------------------------------------------------------------------


def test_log_records_are_masked_in_message_arguments_and_fields() -> None:
    """Personal data in a log message, its arguments or its extra fields never
    reaches a handler."""
    said = ("jane@example.com", "4111 1111 1111 1111")
    record = logging.makeLogRecord(
        {"msg": "declared by %s: %s", "args": said, "title": "call +1 415-555-2671"}
    )
    SecretMask([]).filter(record)
    assert record.getMessage() == "declared by [email]: [card]"
    assert record.__dict__["title"] == "call [phone]"


def test_log_lines_keep_their_tokens_masked_as_before() -> None:
    """Secrets are still `***`, and what follows is masked as personal data."""
    mask = SecretMask(["signing-secret-value"])
    assert mask.mask("xoxb-123-abc signing-secret-value at 203.0.113.9") == "xoxb-*** *** at [ip]"


def test_log_lines_keep_their_datetimes_versions_and_own_addresses() -> None:
    """What nearly every log line holds, a datetime, and what many hold, a version or
    one of firebell's own addresses, reaches the log as it was."""
    moment = datetime(2026, 12, 7, 23, 45, 54, 123456, tzinfo=UTC)
    record = logging.makeLogRecord(
        {"msg": "due %s, deploy %s on %s", "args": (moment, "2.14.0.1", "10.0.0.1:8080")}
    )
    SecretMask([]).filter(record)
    assert record.getMessage() == f"due {moment}, deploy 2.14.0.1 on 10.0.0.1:8080"


# --- firebell check ---------------------------------------------------------------


def test_check_describes_the_policy() -> None:
    """Mode, scope, detectors and the config's patterns, as `firebell check` prints them."""
    pii = config_with(
        "pii: {mode: hash, hash_key_env: PII_KEY, scope: pii, "
        "patterns: [{name: customer_id, regex: 'CUST-[0-9]+'}]}"
    ).pii
    text = "\n".join(describe(pii))
    assert "hash (values become [email:1a2b3c4d], keyed with $PII_KEY)" in text
    assert "the text of pii and confidential services; logs always" in text
    assert "token, email, iban, card, ip, phone" in text
    assert "[customer_id] CUST-[0-9]+" in text


def test_firebell_check_prints_the_policy_in_force(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`firebell check` shows the policy between the teams and the areas' plans."""
    config = tmp_path / "firebell.yaml"
    pattern = "pii: {scope: pii, patterns: [{name: order_ref, regex: 'ORD-[0-9]+'}]}"
    config.write_text(CONFIG + pattern + "\n")
    (tmp_path / "runbooks").mkdir()
    monkeypatch.setenv("FIREBELL_RUNBOOKS", str(tmp_path / "runbooks"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'firebell.db'}")
    assert main(["check", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "PII masking\n  mode      mask (values become [email], [phone] ...)" in out
    assert "  pattern   [order_ref] ORD-[0-9]+" in out


def test_the_example_config_masks_with_the_defaults() -> None:
    """The shipped example config has a policy in force (mask, every service)."""
    config = load_config(ROOT / "firebell.example.yaml")
    assert policy(config.pii).detectors[-6:] == ("token", "email", "iban", "card", "ip", "phone")


# --- properties -------------------------------------------------------------------

SAMPLED = st.text(alphabet=st.sampled_from("abcXYZ019 .:-+@()/[]_\n"), max_size=80)
TEXT = SAMPLED | st.text(max_size=60)
EMAIL = st.from_regex(r"[a-z0-9._]{1,10}@[a-z0-9]{1,10}\.(com|org|de|co\.uk)", fullmatch=True)


def luhn_completed(stem: str) -> str:
    """`stem` with the check digit that makes it pass Luhn."""
    return next(stem + d for d in "0123456789" if luhn_valid(stem + d))


CARD = st.builds(
    luhn_completed, st.from_regex(r"4[0-9]{14}", fullmatch=True)
)  # a 16-digit Visa-like number


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_redacting_twice_changes_nothing(text: str) -> None:
    """Redaction is idempotent: what it leaves, it leaves the second time too."""
    once = masked(text)
    assert masked(once) == once
    hashed = redact(text, HASH)
    assert redact(hashed, HASH) == hashed


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(categories=["L", "Zs", "P"]), max_size=80))
def test_text_without_digits_or_at_signs_is_kept(text: str) -> None:
    """Words and punctuation alone hold nothing to mask (bar prose like 'Bearer x')."""
    if "@" in text or "bearer" in text.lower():
        return
    assert masked(text) == text


@settings(max_examples=200, deadline=None)
@given(EMAIL, TEXT, TEXT)
def test_an_email_address_anywhere_is_never_kept(email: str, before: str, after: str) -> None:
    """An e-mail address between spaces is masked whatever surrounds it."""
    assert email not in masked(f"{before} {email} {after}")


@settings(max_examples=200, deadline=None)
@given(CARD, st.sampled_from([" ", "-", ""]))
def test_a_luhn_valid_card_number_is_never_kept(number: str, separator: str) -> None:
    """A card number is masked however its groups are separated."""
    grouped = separator.join(number[i : i + 4] for i in range(0, 16, 4))
    assert masked(f"card {grouped} expired") == "card [card] expired"


@settings(max_examples=200, deadline=None)
@given(TEXT)
def test_redaction_only_ever_replaces_whole_values_by_markers(text: str) -> None:
    """Markers aside, the output is the input with pieces taken out: nothing is added."""
    out = masked(text)
    rest = re.sub(r"\[[a-z_]+\]", "\0", out)
    pieces = [piece for piece in rest.split("\0") if piece]
    position = 0
    for piece in pieces:
        found = text.find(piece, position)
        assert found >= 0, (text, out)
        position = found + len(piece)
