"""The resolved plan of `firebell check`, and the check itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.config.load import load_config, parse_config
from bot.core.plan import check, resolved_plan

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_PATH = ROOT / "firebell.example.yaml"
EXAMPLE = load_config(EXAMPLE_PATH)
AT = datetime(2026, 3, 2, 10, tzinfo=UTC)


def line_of(path: Path, text: str) -> int:
    """The number of the first line of a file that contains `text`."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, 1) if text in line)


def section(plan: str, heading: str) -> list[str]:
    """The lines of one severity's block: from its heading to the next blank line."""
    lines = plan.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(heading))
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    return [line.rstrip() for line in lines[start:end]]


def area_block(plan: str, area: str) -> str:
    """The text of one area, up to the next area."""
    start = plan.index(f"Area {area}:")
    end = plan.find("\nArea ", start + 1)
    return plan[start : end if end != -1 else len(plan)]


def test_p0_of_the_model_area_pages_raci_and_escalates_every_15_minutes() -> None:
    """The SPEC example's P0 block names who is paged, invited, informed and when."""
    block = section(area_block(resolved_plan(EXAMPLE, AT), "model"), "P0 ")
    assert block == [
        "  P0 Total service outage: respond within 15m, notify everyone, status updates every 15m",
        "    page      U01ML1 (responsible, ML Team on-call)",
        "              U01MLLEAD (accountable)",
        "              U01DA1 (consulted, Data Team)",
        "    invite    U01ML1, U01MLLEAD, U01DA1, U01ML2",
        "    inform    C0ANNOUNCE (announcements)",
        "              C0PRODUCT (Product Team)",
        "    warn      +11m15s (3m45s before the deadline)",
        "    escalate  +15m accountable: U01MLLEAD",
        "              +30m everyone: U01ML1, U01MLLEAD, U01DA1",
        "              +45m everyone: U01ML1, U01MLLEAD, U01DA1 (repeat 1 of 2)",
        "               +1h everyone: U01ML1, U01MLLEAD, U01DA1 (repeat 2 of 2)",
    ]


def test_owner_scope_pages_one_person_and_informs_without_announcing() -> None:
    """P2 pages the on-call only and skips the announcements channel."""
    block = section(area_block(resolved_plan(EXAMPLE, AT), "model"), "P2 ")
    assert "    page      U01ML1 (responsible, ML Team on-call)" in block
    assert "    invite    U01ML1" in block
    assert "    inform    C0PRODUCT (Product Team)" in block
    assert "    escalate   +4h accountable: U01MLLEAD" in block


def test_backlog_severity_pages_nobody_and_is_reminded_each_sprint_start() -> None:
    """P3 goes to the backlog with a reminder at the next sprint start, and never escalates."""
    block = section(area_block(resolved_plan(EXAMPLE, AT), "model"), "P3 ")
    assert block[0] == (
        "  P3 Minor issue: respond by the next sprint start (2026-03-16 00:00 UTC), notify backlog"
    )
    assert "    page      nobody: the incident is posted to the backlog" in block
    assert "    inform    C0BACKLOG (backlog)" in block
    assert (
        "    remind    +13d14h in C0BACKLOG (backlog), then every sprint start until acknowledged"
        in block
    )
    assert not [line for line in block if "escalate" in line]


def test_informed_team_without_channel_is_told_by_dm() -> None:
    """Legal has no channel, so the ux area informs its members by DM."""
    block = section(area_block(resolved_plan(EXAMPLE, AT), "ux"), "P0 ")
    assert "              U01LE1 by DM (Legal/Compliance)" in block


def test_teams_show_who_is_on_call_and_until_when() -> None:
    """The teams list shows the current on-call and the next handover."""
    plan = resolved_plan(EXAMPLE, AT)
    assert (
        "  ml        ML Team           on call U01ML1 until 2026-03-09 09:00 UTC, then U01ML2"
        in (plan.splitlines())
    )
    assert "  product   Product Team      members U01PR1; channel C0PRODUCT" in plan.splitlines()


def test_plan_follows_the_rotation_of_the_time_it_is_made_for() -> None:
    """A week later the other ML engineer is paged."""
    block = section(area_block(resolved_plan(EXAMPLE, AT + timedelta(days=7)), "model"), "P0 ")
    assert "    page      U01ML2 (responsible, ML Team on-call)" in block


def test_plan_lists_every_area_and_severity_in_config_order() -> None:
    """Areas and severities appear in the order of the config file."""
    plan = resolved_plan(EXAMPLE, AT)
    areas = [line.split(":")[0] for line in plan.splitlines() if line.startswith("Area ")]
    assert areas == ["Area model", "Area infra", "Area data", "Area ux", "Area policy"]
    for area in EXAMPLE.areas:
        headings = [
            line.split()[0]
            for line in area_block(plan, area).splitlines()
            if line.startswith("  P")
        ]
        assert headings == ["P0", "P1", "P2", "P3"]
    assert "  services  checkout-assistant" in area_block(plan, "model")


def test_plan_is_deterministic() -> None:
    """The same config and time give the same text."""
    assert resolved_plan(EXAMPLE, AT) == resolved_plan(EXAMPLE, AT.astimezone(UTC))


def test_explicit_interval_and_warning_show_in_the_plan() -> None:
    """`every: 10m` spaces the steps 10m apart; `warn_before` adds a warning line."""
    config = parse_config(
        """\
severities:
  P0: {name: Outage, respond_within: 15m, notify: owner}
  P1: {name: Broken, respond_within: 1h, notify: owner}
  P2: {name: Degraded, respond_within: 4h, notify: owner}
  P3: {name: Minor, respond_within: 1d, notify: owner}
escalation: {levels: [responsible, consulted], every: 10m, repeat_last: 1, warn_before: 5m}
teams: {web: {name: Web, members: [U0WEB1]}}
areas: {site: {name: Site, responsible: web, accountable: U0LEAD}}
"""
    )
    block = section(resolved_plan(config, AT), "P0 ")
    assert block[-3:] == [
        "    warn      +10m (5m before the deadline)",
        "    escalate  +15m consulted: nobody",
        "              +25m consulted: nobody (repeat 1 of 1)",
    ]


def test_check_passes_the_example_and_prints_the_plan() -> None:
    """The example config with the repo's runbooks passes and prints the plan."""
    code, text = check(EXAMPLE_PATH, ROOT / "runbooks", at=AT)
    assert code == 0
    first = text.splitlines()[0]
    assert first.startswith(f"{EXAMPLE_PATH}: OK (5 areas, 5 teams, 1 service, 7 runbooks in ")
    assert text.endswith(resolved_plan(EXAMPLE, AT))


def test_check_refuses_a_missing_runbook_with_the_line_of_the_reference(tmp_path: Path) -> None:
    """A service naming a runbook that is not in the folder fails the check at its line."""
    code, text = check(EXAMPLE_PATH, tmp_path / "no-runbooks", at=AT)
    assert code == 1
    line = line_of(EXAMPLE_PATH, "runbooks: [model-quality-regression]")
    assert text.splitlines() == [
        f"{EXAMPLE_PATH}:{line}: services.checkout-assistant.runbooks[0]: no runbook "
        "'model-quality-regression': add model-quality-regression.md to the runbooks folder "
        "or fix the name (runbooks found: none)",
        f"{EXAMPLE_PATH} refused: 1 problem.",
    ]


def test_check_lists_every_problem_with_file_and_line(tmp_path: Path) -> None:
    """A bad config fails with every problem on its own `file:line: reason` line."""
    path = tmp_path / "firebell.yaml"
    text = EXAMPLE_PATH.read_text(encoding="utf-8")
    path.write_text(
        text.replace("responsible: ml,", "responsible: mll,").replace(
            "respond_within: 4h", "respond_within: soon"
        ),
        encoding="utf-8",
    )
    code, output = check(path, ROOT / "runbooks", at=AT)
    assert code == 1
    lines = output.splitlines()
    p2, model = line_of(path, "respond_within: soon"), line_of(path, "responsible: mll")
    assert lines[0].startswith(f"{path}:{p2}: severities.P2.respond_within: 'soon' is not a dur")
    assert lines[1].startswith(f"{path}:{model}: areas.model.responsible: 'mll' is neither a team")
    assert lines[2] == f"{path} refused: 2 problems."


def test_check_reports_a_missing_config_file(tmp_path: Path) -> None:
    """Without a config file, check fails saying how to create one."""
    code, text = check(tmp_path / "firebell.yaml", ROOT / "runbooks", at=AT)
    assert code == 1
    assert "copy firebell.example.yaml" in text


def test_check_reports_an_unreadable_runbook(tmp_path: Path) -> None:
    """A runbook that is not UTF-8 fails the check with its path."""
    (tmp_path / "model-quality-regression.md").write_bytes(b"# Title\n\xff\xfe broken")
    code, text = check(EXAMPLE_PATH, tmp_path, at=AT)
    assert code == 1
    assert f"{tmp_path / 'model-quality-regression.md'}: is not UTF-8 text" in text
