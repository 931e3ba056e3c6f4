"""Reading `/incident` text."""

from __future__ import annotations

import pytest

from bot.incidents.errors import UserError
from bot.slack.parsing import parse_declare, parse_ref, split


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
