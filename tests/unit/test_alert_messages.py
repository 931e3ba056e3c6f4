"""The alert sections fit Slack's limits without breaking a link or an escape (pure)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from bot.config.model import Config
from bot.messages.alerts import SECTION, alert_section, alerts_answer, cut, fit_lines
from bot.store.tables import Alert, Incident

NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)
LONG_URL = "https://prometheus.example.com/graph?" + "a=1&" * 240
BROKEN_ESCAPE = re.compile(r"&(a|am|amp|l|lt|g|gt)?(?![a-z]*;)")


def _alert(number: int, *, name: str = "N&" * 90, **labels: str) -> Alert:
    return Alert(
        id=number,
        incident_id=1,
        group_id=number % 7,
        source="alertmanager",
        fingerprint=f"f{number}",
        name=name,
        status="firing" if number % 3 else "resolved",
        labels={"alertname": name, "service": "s", **labels},
        annotations={"summary": "<!channel> & " * 40},
        starts_at=NOW,
        first_seen_at=NOW,
        last_seen_at=NOW,
        resolved_at=NOW,
        generator_url=LONG_URL,
        fired=1,
    )


def _incident(origin: str) -> Incident:
    return Incident(
        id=1,
        number=5,
        title="t",
        severity="P1",
        state="open",
        area="model",
        declared_by="firebell",
        declared_at=NOW,
        channel_name="inc-5-t",
        origin=origin,
    )


def _intact(text: str) -> bool:
    """No `<...>` token left open and no escape cut short."""
    return text.count("<") == text.count(">") and not BROKEN_ESCAPE.search(text)


def test_cutting_never_ends_inside_an_escape_or_a_link() -> None:
    """The cut moves back before a half `&amp;` or an unclosed `<...|...>`."""
    assert cut("ab&amp;cd", 5) == "ab…"
    assert cut("ab <https://x|n> tail", 10) == "ab…"
    assert cut("short", 10) == "short"
    assert len(cut("x" * 50, 10)) == 10


def test_whole_lines_are_added_while_they_fit_with_room_for_the_more_line() -> None:
    """Lines that do not fit are counted in the last line, which always fits."""
    lines = [(f"<https://x/{i}|line {i}>", f"line {i}") for i in range(30)]
    text = fit_lines("*Alerts*", lines, more=lambda n: f"… and {n} more", most=8, limit=120)
    assert len(text) <= 120
    assert text.endswith("more")
    shown = text.splitlines()[1:-1]
    assert text.splitlines()[-1] == f"… and {30 - len(shown)} more"
    assert all(_intact(line) for line in shown)


def test_a_line_too_long_alone_loses_its_link_and_is_cut_safely() -> None:
    """The first line alone too long is shown without its link, cut before an escape."""
    line = ("<https://x/" + "a" * 200 + "|name>", "name " + "&amp;" * 40)
    text = fit_lines("*Alerts*", [line], more=lambda n: f"… and {n} more", most=8, limit=100)
    assert len(text) <= 100
    assert "https://" not in text
    assert _intact(text)


def test_the_main_message_section_of_long_alerts_fits_and_stays_intact(config: Config) -> None:
    """Long names and links: the section fits 2,900 characters, no link or escape cut."""
    alerts = [_alert(i) for i in range(1, 20)]
    for origin in ("alert", "storm"):
        block = alert_section(_incident(origin), config, alerts)
        assert block is not None
        text = block.to_dict()["text"]["text"]
        assert len(text) <= SECTION
        assert _intact(text)
        assert "`/incident alerts` lists them" in text


def test_incident_alerts_entries_fit_and_cut_summaries_before_escaping() -> None:
    """Each section of `/incident alerts` fits, with every link and escape whole."""
    labels = {f"k{j}": "v&<" * 30 for j in range(10)}
    alerts = [_alert(i, **labels) for i in range(1, 60)]
    _, blocks = alerts_answer(_incident("alert"), alerts, received=59, last=NOW)
    texts = [b.to_dict()["text"]["text"] for b in blocks if "text" in b.to_dict()]
    assert texts
    assert all(len(t) <= SECTION and _intact(t) for t in texts)
