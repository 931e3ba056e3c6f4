"""`firebell report` over incidents stored in a real database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import USAGE, main
from bot.store.db import Store
from bot.store.tables import Incident

MIN = timedelta(minutes=1)


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> None:
    """The test database in DATABASE_URL, no Slack settings, no `.env` in reach."""
    monkeypatch.chdir(tmp_path)
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_API_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", database_url)


def _incident(number: int, declared_at: datetime, **fields: object) -> Incident:
    values: dict[str, object] = {
        "number": number,
        "title": f"incident {number}",
        "severity": "P1",
        "area": "ml",
        "service": "ranker",
        "declared_by": "U01ML1",
        "declared_at": declared_at,
        "response_deadline": declared_at + 15 * MIN,
        "channel_name": f"inc-{number}",
    }
    values.update(fields)
    return Incident.model_validate(values)


def test_report_json_summarises_incidents_declared_in_the_period(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    """`report --since 7d --json` counts two recent incidents (one late), not an old one."""
    now = datetime.now(UTC)
    with store.transaction() as session:
        session.add(
            _incident(
                1,
                now - 3 * 60 * MIN,
                acknowledged_at=now - 3 * 60 * MIN + 5 * MIN,
                resolved_at=now - 60 * MIN,
            )
        )
        session.add(
            _incident(
                2,
                now - 2 * 60 * MIN,
                severity="P2",
                acknowledged_at=now - 2 * 60 * MIN + 25 * MIN,
                escalation_level=2,
            )
        )
        session.add(_incident(3, now - timedelta(days=10), acknowledged_at=now))

    assert main(["report", "--since", "7d", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    rows = {(row["group"], row["key"]): row for row in data["rows"]}
    overall = rows["all", "all"]
    assert overall["incidents"] == 2
    assert overall["acknowledge"]["count"] == 2
    assert overall["acknowledge"]["median"] == pytest.approx(15 * 60)
    assert overall["resolve"] == {"count": 1, "median": 7200.0, "p90": 7200.0, "mean": 7200.0}
    assert overall["deadlines_met"] == 0.5
    assert overall["escalation_steps"] == 1
    assert rows["severity", "P2"]["deadlines_met"] == 0.0
    assert {key for group, key in rows if group == "severity"} == {"P1", "P2"}


def test_report_table_of_an_empty_database_has_one_zero_row(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    """`report` with no incidents prints the header and an `all` row counting 0."""
    assert main(["report"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("group")
    assert lines[1].split()[:3] == ["all", "all", "0"]


def test_report_with_a_bad_since_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """`report --since soon` exits 2 and says what a duration looks like."""
    with pytest.raises(SystemExit) as stop:
        main(["report", "--since", "soon"])
    assert stop.value.code == USAGE
    assert "not a duration" in capsys.readouterr().err
