"""Reading `/incident` text, incident references, button values and IDs."""

from __future__ import annotations

import pytest

from bot.incidents.errors import UnknownIncidentError, UserError
from bot.slack.parsing import (
    parse_declare,
    parse_incident_id,
    parse_ref,
    parse_slack_id,
    parse_trigger_id,
    split,
)


def test_split_takes_the_first_word_as_subcommand() -> None:
    """`sev P1` is the subcommand `sev` with `P1`."""
    assert split("  SEV   P1 ") == split("sev P1")
    assert split("sev P1").name == "sev"
    assert split("").name == ""


def test_declare_reads_severity_title_and_options_anywhere() -> None:
    """`service:` and `area:` may stand anywhere; the other words are the title."""
    d = parse_declare(
        "P1 area:infra Checkout is down service:checkout-assistant", user="U1", request_key="k"
    )
    assert (d.severity, d.title, d.area, d.service) == (
        "P1",
        "Checkout is down",
        "infra",
        "checkout-assistant",
    )
    assert d.declared_by == "U1"
    assert d.request_key == "k"


def test_declare_without_title_shows_usage() -> None:
    """`declare P1` alone is refused with the full syntax."""
    with pytest.raises(UserError, match="declare <P0-P3> <title>"):
        parse_declare("P1", user="U1", request_key=None)


@pytest.mark.parametrize("text", ["INC-7", "inc-7", "inc7", "7"])
def test_incident_references_are_read_loosely(text: str) -> None:
    """INC-7, inc7 and 7 all mean incident 7."""
    assert parse_ref(text) == 7


def test_bad_incident_reference_says_how_to_write_one() -> None:
    """A reference that is not a number is refused with an example."""
    with pytest.raises(UserError, match="INC-7"):
        parse_ref("checkout")


@pytest.mark.parametrize("text", ["INC-99999999999999999999", "INC-2147483648", "9" * 5000])
def test_a_reference_beyond_any_incident_number_is_no_such_incident(text: str) -> None:
    """A number no INTEGER column holds is answered like any unknown incident."""
    with pytest.raises(UnknownIncidentError, match="There is no incident INC-"):
        parse_ref(text)


def test_the_largest_integer_is_still_a_reference() -> None:
    """INC-2147483647 is read; leading zeros do not count against the bound."""
    assert parse_ref("INC-2147483647") == 2**31 - 1
    assert parse_ref("INC-" + "0" * 30 + "7") == 7


@pytest.mark.parametrize(
    "value", ["abc", "1e5", "", None, "10^23", "99999999999999999999", "-1", "0", "\u0663", 7]
)
def test_a_button_value_that_is_no_incident_id_is_refused(value: object) -> None:
    """Only the digits of a positive INTEGER are an incident id."""
    with pytest.raises(UserError, match="names no incident"):
        parse_incident_id(value)


def test_a_button_value_of_digits_is_its_incident_id() -> None:
    """`"42"` is incident id 42."""
    assert parse_incident_id("42") == 42


def test_ids_from_a_request_are_checked() -> None:
    """User and channel IDs must be Slack IDs; a trigger_id must look like one."""
    assert parse_slack_id("U01ML1", "user") == "U01ML1"
    assert parse_trigger_id("1234.5678.abcdef") == "1234.5678.abcdef"
    assert parse_trigger_id(None) is None
    with pytest.raises(UserError, match="user ID"):
        parse_slack_id("U" + "1" * 99, "user")
    with pytest.raises(UserError, match="trigger_id"):
        parse_trigger_id("1." + "a" * 999)
