"""Templates a team overrides: used when they work, the shipped ones (and a warning) when not."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config.model import Config
from bot.postmortem.facts import Postmortem, postmortem_of
from bot.postmortem.render import markdown, short_message, summary_message
from bot.store.tables import Incident, TimelineEntry

AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
HOSTILE = "Checkout <!here> & <@U01ML1> broke"


def facts(config: Config, *, title: str = "Checkout is wrong") -> Postmortem:
    """A resolved P1 with a declaration and a resolution on its timeline."""
    incident = Incident(
        id=1,
        number=7,
        title=title,
        severity="P1",
        state="resolved",
        area="model",
        area_name="Model/Prompt",
        declared_by="U0OTHER",
        declared_at=AT,
        acknowledged_by="U01ML1",
        acknowledged_at=AT + timedelta(minutes=5),
        resolved_by="U01ML1",
        resolved_at=AT + timedelta(hours=1),
        response_deadline=AT + timedelta(hours=1),
        channel_name="inc-7-checkout",
        channel_id="C0INC7",
    )
    entries = [
        TimelineEntry(
            id=1,
            incident_id=1,
            at=AT,
            actor="U0OTHER",
            kind="declared",
            data={"severity": "P1", "title": title},
        ),
        TimelineEntry(
            id=2,
            incident_id=1,
            at=AT + timedelta(hours=1),
            actor="U01ML1",
            kind="resolved",
            data={"summary": ""},
        ),
    ]
    return postmortem_of(
        incident, config, entries=entries, rollbacks=[], ticked=[], followups=[], now=AT
    )


def overriding(config: Config, folder: Path) -> Config:
    """`config` with `templates: <folder>`."""
    return config.model_copy(update={"templates": str(folder)})


def test_a_teams_summary_template_is_used(tmp_path: Path, config: Config) -> None:
    """A `summary.slack.j2` in the templates folder renders the summary."""
    (tmp_path / "summary.slack.j2").write_text(
        "Custom: {{ incident.ref }} took {{ durations.resolve }}\n---\n{{ raci.responsible }}\n"
    )
    text, blocks = summary_message(facts(config), overriding(config, tmp_path))
    assert text == "Custom: INC-7 took 1h"
    assert [b.to_dict()["type"] for b in blocks] == ["section", "divider", "section"]
    assert blocks[2].to_dict()["text"]["text"] == "ML Team"


def test_an_override_may_extend_the_shipped_template(tmp_path: Path, config: Config) -> None:
    """`{% extends "shipped/..." %}` keeps the shipped summary and replaces one block."""
    (tmp_path / "summary.slack.j2").write_text(
        '{% extends "shipped/summary.slack.j2" %}{% block owners %}*Owners*: ask #ml{% endblock %}'
    )
    _, blocks = summary_message(facts(config), overriding(config, tmp_path))
    texts = [b.to_dict().get("text", {}).get("text", "") for b in blocks]
    assert "*Owners*: ask #ml" in texts
    assert any(t.startswith("*Timeline*") for t in texts)


def test_templates_not_overridden_are_the_shipped_ones(tmp_path: Path, config: Config) -> None:
    """A folder overriding only the summary leaves the short one and the export shipped."""
    (tmp_path / "summary.slack.j2").write_text("Custom\n")
    custom, pm = overriding(config, tmp_path), facts(config)
    assert short_message(pm, custom) == short_message(pm, config)
    assert markdown(pm, custom) == markdown(pm, config)


@pytest.mark.parametrize(
    ("template", "error"),
    [
        ("{% if incident.ref %}unclosed", "TemplateSyntaxError"),
        ("{{ incident.no_such_thing }}", "UndefinedError"),
        ("{{ no_such_variable }}", "UndefinedError"),
        ("{{ 1 / 0 }}", "ZeroDivisionError"),
        ("{{ incident.__class__ }}", "SecurityError"),
    ],
)
def test_a_broken_template_falls_back_to_the_shipped_one_with_a_warning(
    tmp_path: Path, config: Config, caplog: pytest.LogCaptureFixture, template: str, error: str
) -> None:
    """A syntax error, an unknown variable or a failure while rendering: the shipped
    summary is posted, and one warning names the file and the error."""
    (tmp_path / "summary.slack.j2").write_text(template)
    with caplog.at_level(logging.WARNING, logger="bot.postmortem.render"):
        broken = summary_message(facts(config), overriding(config, tmp_path))
    assert broken == summary_message(facts(config), config)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert str(tmp_path / "summary.slack.j2") in warnings[0]
    assert error in warnings[0]


def test_a_missing_templates_folder_falls_back_with_a_warning(
    tmp_path: Path, config: Config, caplog: pytest.LogCaptureFixture
) -> None:
    """`templates:` naming no folder renders the shipped template and says so."""
    missing = tmp_path / "nowhere"
    with caplog.at_level(logging.WARNING, logger="bot.postmortem.render"):
        text, _ = summary_message(facts(config), overriding(config, missing))
    assert text.startswith(":white_check_mark: *INC-7 resolved*")
    assert [str(missing) in r.getMessage() for r in caplog.records] == [True]


def test_users_words_reach_a_slack_template_escaped(tmp_path: Path, config: Config) -> None:
    """A template printing the title as it is cannot let a broadcast or mention through."""
    (tmp_path / "short.slack.j2").write_text("{{ incident.title }}")
    text, _ = short_message(facts(config, title=HOSTILE), overriding(config, tmp_path))
    assert text == "Checkout &lt;!here&gt; &amp; &lt;@U01ML1&gt; broke"


def test_users_words_stay_readable_in_markdown(config: Config) -> None:
    """The export keeps the title as typed, except `<`, which Markdown would read as HTML."""
    document = markdown(facts(config, title=HOSTILE), config)
    assert document.startswith("# INC-7: Checkout &lt;!here> & &lt;@U01ML1> broke\n")
