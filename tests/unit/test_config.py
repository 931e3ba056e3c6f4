"""Loading and validating the YAML config: every refusal names its line and reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config.duration import format_duration, parse_duration
from bot.config.load import ConfigError, Problem, load_config, parse_config
from bot.runbooks import load_runbooks

ROOT = Path(__file__).resolve().parents[2]

# Line numbers asserted below refer to this text (line 1 is `severities:`).
BASE = """\
severities:
  P0: {name: Outage, respond_within: 15m, notify: everyone}
  P1: {name: Broken feature, respond_within: 1h, notify: owning_team}
  P2: {name: Degraded, respond_within: 4h, notify: owner}
  P3: {name: Minor, respond_within: 1d, notify: owner}
channels:
  announcements: C0ANNOUNCE
escalation: {every: respond_within}
teams:
  ml:
    name: ML Team
    members:
      - U01ML1
      - U01ML2
    oncall: {rotation: [U01ML1, U01ML2], every: 7d, anchor: 2026-01-05T09:00:00+00:00}
  data: {name: Data Team, members: [U01DA1], channel: C0DATA}
areas:
  model:
    name: Model/Prompt
    responsible: ml
    accountable: U01MLLEAD
    consulted: [data]
    informed: [U01PM1]
services:
  assistant:
    area: model
    runbooks: [model-quality-regression]
    rollback: {url: https://deploy.example.com/rollback}
"""


def edit(old: str, new: str) -> str:
    """BASE with one piece of text replaced (which must be there)."""
    assert old in BASE, old
    return BASE.replace(old, new, 1)


def refused(text: str, *, runbooks: list[str] | None = None) -> list[Problem]:
    """The problems for which `text` is refused."""
    with pytest.raises(ConfigError) as caught:
        parse_config(text, runbooks=runbooks)
    return caught.value.problems


def only(problems: list[Problem]) -> Problem:
    """The single problem of a list, failing with the list otherwise."""
    assert len(problems) == 1, problems
    return problems[0]


def test_base_config_is_accepted() -> None:
    """The base text of these tests is a valid config."""
    config = parse_config(BASE, runbooks=["model-quality-regression"])
    assert config.areas["model"].responsible == "ml"
    assert config.teams["ml"].oncall is not None
    assert config.teams["ml"].oncall.anchor == datetime(2026, 1, 5, 9, tzinfo=UTC)


def test_example_config_loads_cleanly_with_its_runbooks() -> None:
    """firebell.example.yaml (SPEC section 5) loads and names only existing runbooks."""
    runbooks = load_runbooks(ROOT / "runbooks")
    config = load_config(ROOT / "firebell.example.yaml", runbooks=runbooks.keys())
    assert list(config.areas) == ["model", "infra", "data", "ux", "policy"]
    assert list(config.teams) == ["ml", "platform", "data", "product", "legal"]
    assert config.severities["P3"].respond_within == "next_sprint"
    assert config.severities["P0"].respond_within == timedelta(minutes=15)
    assert config.escalation.every == "respond_within"
    assert config.escalation.repeat_last == 2
    assert config.services["checkout-assistant"].runbooks == ["model-quality-regression"]


def test_minimal_fixture_loads_with_defaults() -> None:
    """A config without sprint, backlog, escalation or services gets the defaults."""
    config = load_config(ROOT / "tests" / "configs" / "minimal.yaml")
    assert config.sprint is None
    assert config.escalation.levels == ["responsible", "accountable", "everyone"]
    assert config.services == {}


def test_problem_reads_file_line_where_and_reason() -> None:
    """A problem prints as `file:line: where: reason`, dropping the parts it lacks."""
    problem = Problem("firebell.yaml", 12, "areas.model.responsible", "'mll' is wrong")
    assert str(problem) == "firebell.yaml:12: areas.model.responsible: 'mll' is wrong"
    assert str(Problem("f.yaml", None, "", "no file")) == "f.yaml: no file"


def test_unknown_team_in_area_is_refused_with_its_line() -> None:
    """An area's responsible team that does not exist is refused at its line."""
    problem = only(refused(edit("responsible: ml", "responsible: mll")))
    assert str(problem) == (
        "firebell.yaml:20: areas.model.responsible: 'mll' is neither a team of `teams` "
        "nor a Slack user ID (U...): add the team or fix the name; did you mean 'ml'?"
    )


def test_unknown_consulted_and_informed_entries_are_refused_at_their_items() -> None:
    """Each unknown entry of consulted/informed is reported at its own line."""
    text = edit("consulted: [data]", "consulted:\n      - data\n      - legal").replace(
        "informed: [U01PM1]", "informed: [product]"
    )
    problems = refused(text)
    assert [(p.line, p.where) for p in problems] == [
        (24, "areas.model.consulted[1]"),
        (25, "areas.model.informed[0]"),
    ]
    assert "'legal' is neither a team of `teams` nor a Slack user ID" in problems[0].message


def test_a_user_id_can_stand_in_for_a_team() -> None:
    """responsible, consulted and informed may name a user ID directly."""
    config = parse_config(edit("responsible: ml", "responsible: U01SOLO"))
    assert config.areas["model"].responsible == "U01SOLO"


def test_a_single_name_is_a_list_of_one() -> None:
    """`consulted: data` means `consulted: [data]`."""
    config = parse_config(edit("consulted: [data]", "consulted: data"))
    assert config.areas["model"].consulted == ["data"]


def test_accountable_team_is_refused_because_accountable_is_one_person() -> None:
    """accountable must be a user ID; a team key says why it is not enough."""
    problem = only(refused(edit("accountable: U01MLLEAD", "accountable: ml")))
    assert (problem.line, problem.where) == (21, "areas.model.accountable")
    assert problem.message.startswith("'ml' is a team, but accountable is one person")


def test_accountable_name_is_refused_as_not_a_user_id() -> None:
    """A person's name instead of their user ID is refused with how to find the ID."""
    problem = only(refused(edit("accountable: U01MLLEAD", "accountable: alice")))
    assert problem.line == 21
    assert "'alice' is not a Slack user ID" in problem.message
    assert "Copy member ID" in problem.message


def test_team_member_that_is_not_a_user_id_is_refused_at_its_item() -> None:
    """Team members are user IDs; a name is refused at its list item's line."""
    problem = only(refused(edit("      - U01ML2", "      - bob")))
    assert (problem.line, problem.where) == (14, "teams.ml.members[1]")
    assert "'bob' is not a Slack user ID" in problem.message


def test_rotation_entry_that_is_not_a_user_id_is_refused() -> None:
    """On-call rotation entries are user IDs."""
    problem = only(refused(edit("rotation: [U01ML1, U01ML2]", "rotation: [U01ML1, data]")))
    assert (problem.line, problem.where) == (15, "teams.ml.oncall.rotation[1]")
    assert problem.message.startswith("'data' is a team, but this names people")


def test_team_nobody_could_be_paged_through_is_refused() -> None:
    """A team with neither members nor a rotation is refused."""
    problem = only(refused(edit("members: [U01DA1], ", "")))
    assert (problem.line, problem.where) == (16, "teams.data")
    assert "nobody could be paged" in problem.message


def test_service_naming_an_unknown_area_is_refused() -> None:
    """A service's area must be an area of the RACI table."""
    problem = only(refused(edit("area: model", "area: modle")))
    assert (problem.line, problem.where) == (26, "services.assistant.area")
    assert problem.message == (
        "'modle' is not an area of `areas` (areas: model); did you mean 'model'?"
    )


def test_missing_runbook_is_refused_at_the_reference() -> None:
    """With the runbook names given, a service naming a missing runbook is refused."""
    problem = only(refused(BASE, runbooks=["db-failover"]))
    assert (problem.line, problem.where) == (27, "services.assistant.runbooks[0]")
    assert "add model-quality-regression.md to the runbooks folder" in problem.message
    assert "(runbooks found: db-failover)" in problem.message


def test_runbook_references_are_not_checked_without_a_runbook_list() -> None:
    """Without runbook names, parse_config does not judge runbook references."""
    assert parse_config(BASE).services["assistant"].runbooks == ["model-quality-regression"]


def test_next_sprint_without_sprint_block_is_refused() -> None:
    """respond_within: next_sprint needs a sprint block."""
    text = edit("respond_within: 1d, notify: owner", "respond_within: next_sprint, notify: owner")
    problem = only(refused(text))
    assert (problem.line, problem.where) == (5, "severities.P3.respond_within")
    assert "needs a `sprint` block" in problem.message


def test_next_sprint_with_sprint_block_is_accepted() -> None:
    """With a sprint block, next_sprint is a valid response time."""
    text = "sprint: {length: 14d, anchor: 2026-01-05}\n" + edit(
        "respond_within: 1d", "respond_within: next_sprint"
    )
    config = parse_config(text)
    assert config.sprint is not None
    assert config.sprint.length == timedelta(days=14)


def test_backlog_scope_without_backlog_channel_is_refused() -> None:
    """notify: backlog needs channels.backlog."""
    problem = only(refused(edit("notify: owner}\nchannels", "notify: backlog}\nchannels")))
    assert (problem.line, problem.where) == (5, "severities.P3.notify")
    assert "channels.backlog, which is not set" in problem.message


def test_announcing_scopes_without_announcements_channel_are_refused() -> None:
    """everyone and owning_team post to channels.announcements, so it is required."""
    problems = refused(edit("channels:\n  announcements: C0ANNOUNCE\n", ""))
    assert [(p.line, p.where) for p in problems] == [
        (2, "severities.P0.notify"),
        (3, "severities.P1.notify"),
    ]
    assert "everyone announces in channels.announcements" in problems[0].message


def test_channel_name_instead_of_id_is_refused() -> None:
    """Channels are IDs (C... or G...), not names."""
    problem = only(refused(edit("announcements: C0ANNOUNCE", "announcements: incidents")))
    assert (problem.line, problem.where) == (7, "channels.announcements")
    assert "'incidents' is not a Slack channel ID (C... or G...)" in problem.message


def test_hash_channel_name_is_explained_as_a_yaml_comment() -> None:
    """`backlog: #incidents` is empty to YAML; the problem says why."""
    problem = only(refused(edit("announcements: C0ANNOUNCE", "announcements: #incidents")))
    assert (problem.line, problem.where) == (7, "channels.announcements")
    assert "reads as a YAML comment" in problem.message


def test_team_channel_and_usergroup_must_be_ids() -> None:
    """A team's channel must be C.../G... and its user group S...."""
    problems = refused(edit("channel: C0DATA", "channel: data-team, usergroup: data"))
    assert [(p.line, p.where) for p in problems] == [
        (16, "teams.data.channel"),
        (16, "teams.data.usergroup"),
    ]
    assert "is not a Slack user group ID (S...)" in problems[1].message


def test_private_channel_ids_are_accepted() -> None:
    """G... channel IDs (private channels) are valid."""
    config = parse_config(edit("announcements: C0ANNOUNCE", "announcements: G0PRIVATE"))
    assert config.channels.announcements == "G0PRIVATE"


def test_rollback_url_must_be_http() -> None:
    """A rollback webhook must be an http(s) URL."""
    problem = only(refused(edit("https://deploy.example.com/rollback", "deploy.example.com")))
    assert (problem.line, problem.where) == (28, "services.assistant.rollback.url")


def test_unknown_key_is_refused_with_the_expected_keys() -> None:
    """A misspelt key is refused at its line with the keys that are allowed."""
    problem = only(
        refused(edit("    consulted: [data]", "    consulted: [data]\n    respnsible: x"))
    )
    assert (problem.line, problem.where) == (23, "areas.model")
    assert problem.message == (
        "unknown key 'respnsible' (expected one of: name, covers, responsible, accountable, "
        "consulted, informed); did you mean 'responsible'?"
    )


def test_unknown_top_level_key_is_refused() -> None:
    """Unknown keys at the top level are refused too."""
    problem = only(refused(BASE + "sevrities: {}\n"))
    assert problem.line == 29
    assert problem.message.startswith("unknown key 'sevrities' (expected one of: sprint,")


def test_missing_key_is_refused_at_its_parent() -> None:
    """A missing required key is reported at the line of the block that lacks it."""
    problem = only(refused(edit("    accountable: U01MLLEAD\n", "")))
    assert (problem.line, problem.where) == (18, "areas.model")
    assert problem.message == "missing required key 'accountable'"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("15m", timedelta(minutes=15)),
        ("1h", timedelta(hours=1)),
        ("4h", timedelta(hours=4)),
        ("2d", timedelta(days=2)),
        ("1w", timedelta(weeks=1)),
        ("1h30m", timedelta(minutes=90)),
        (" 1h 30m ", timedelta(minutes=90)),
    ],
)
def test_durations_are_read_as_written(text: str, expected: timedelta) -> None:
    """Durations are a number and a unit, optionally several."""
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "15", "15 minutes", "1.5h", "-5m", "m", "15M", "0s"])
def test_bad_durations_are_refused(text: str) -> None:
    """Anything but positive whole units is refused."""
    with pytest.raises(ValueError, match=r"not a duration|longer than zero"):
        parse_duration(text)


def test_durations_format_back_as_written() -> None:
    """format_duration writes the config's own notation."""
    assert format_duration(timedelta(minutes=90)) == "1h30m"
    assert format_duration(timedelta(days=13, hours=14)) == "13d14h"
    assert format_duration(timedelta(0)) == "0s"


def test_bad_duration_in_config_is_refused_with_its_line() -> None:
    """A bad duration is refused at its line, saying what a duration looks like."""
    problem = only(refused(edit("respond_within: 4h", "respond_within: 4 hours")))
    assert (problem.line, problem.where) == (4, "severities.P2.respond_within")
    assert problem.message == (
        "'4 hours' is not a duration: write a number and a unit, e.g. 30s, 15m, 1h, 2d "
        "(or next_sprint)"
    )


def test_duration_without_unit_is_refused_with_a_suggestion() -> None:
    """A bare number gets a hint to add a unit."""
    problem = only(refused(edit("every: 7d", "every: 7")))
    assert problem.line == 15
    assert problem.message == "7 has no unit: write e.g. 7m or 7s"


def test_escalation_every_accepts_respond_within_or_a_duration() -> None:
    """escalation.every is `respond_within` or a duration."""
    config = parse_config(edit("every: respond_within", "every: 10m"))
    assert config.escalation.every == timedelta(minutes=10)
    problem = only(refused(edit("every: respond_within", "every: soon")))
    assert (problem.line, problem.where) == (8, "escalation.every")
    assert problem.message.endswith("(or respond_within)")


def test_zero_duration_is_refused() -> None:
    """A zero duration is refused: rotations and escalation need time to pass."""
    problem = only(refused(edit("every: 7d", "every: 0s")))
    assert problem.message == "'0s' must be longer than zero"


def test_unknown_notify_scope_is_refused_in_plain_words() -> None:
    """A scope outside the four is refused with the four listed."""
    problem = only(refused(edit("notify: everyone", "notify: all")))
    assert (problem.line, problem.where) == (2, "severities.P0.notify")
    assert problem.message == (
        "'all' is not allowed here: use 'everyone', 'owning_team', 'owner' or 'backlog'"
    )


def test_severity_table_needs_exactly_four_levels() -> None:
    """P0 to P3, no more and no fewer."""
    problem = only(refused(edit("  P3: {name: Minor, respond_within: 1d, notify: owner}\n", "")))
    assert (problem.line, problem.where) == (1, "severities")
    assert "exactly P0, P1, P2 and P3" in problem.message


def test_rotation_anchor_without_utc_offset_is_refused() -> None:
    """A rotation anchor must say its UTC offset, or the handover time is ambiguous."""
    problem = only(refused(edit("2026-01-05T09:00:00+00:00", "2026-01-05 09:00")))
    assert (problem.line, problem.where) == (15, "teams.ml.oncall.anchor")
    assert "needs a UTC offset" in problem.message


def test_yaml_boolean_is_explained() -> None:
    """`name: no` is false to YAML; the problem says to quote the word."""
    problem = only(refused(edit("name: Data Team", "name: no")))
    assert problem.line == 16
    assert problem.message.startswith("expected text, got false (YAML reads yes, no, on, off")


def test_wrong_shape_is_refused_in_plain_words() -> None:
    """A mapping where a list belongs is refused as such."""
    problem = only(refused(edit("rotation: [U01ML1, U01ML2]", "rotation: {a: U01ML1}")))
    assert problem.where == "teams.ml.oncall.rotation"
    assert problem.message == "expected a list such as [a, b], got a mapping"


def test_every_problem_is_reported_at_once_in_file_order() -> None:
    """Several mistakes give several problems, sorted by line."""
    text = (
        edit("responsible: ml", "responsible: mll")
        .replace("respond_within: 4h", "respond_within: 4x")
        .replace("      - U01ML2", "      - bob")
    )
    with pytest.raises(ConfigError) as caught:
        parse_config(text)
    assert [p.line for p in caught.value.problems] == [4, 14, 20]
    assert str(caught.value).splitlines() == [str(p) for p in caught.value.problems]


def test_yaml_syntax_error_gives_its_line() -> None:
    """Broken YAML is refused with the line where the parser stopped."""
    problem = only(refused(edit("    name: Model/Prompt", "    name: [Model")))
    assert problem.line is not None
    assert 19 <= problem.line <= 20
    assert problem.message.startswith("not valid YAML: ")


def test_tab_indentation_is_explained() -> None:
    """A tab in the indentation gets a hint to use spaces."""
    problem = only(refused(edit("    name: ML Team", "\tname: ML Team")))
    assert problem.line == 11
    assert problem.message.endswith("indent with spaces, not tabs")


def test_duplicate_key_is_refused_at_the_second_one() -> None:
    """YAML silently keeps the last of two equal keys; firebell refuses the file."""
    problem = only(
        refused(edit("    accountable: U01MLLEAD", "    accountable: U01A\n    accountable: U01B"))
    )
    assert (problem.line, problem.where) == (22, "areas.model")
    assert "key 'accountable' is written twice" in problem.message


def test_yaml_anchors_and_merge_keys_are_accepted() -> None:
    """Anchors and merge keys work, as in any YAML file."""
    text = edit(
        "  data: {name: Data Team, members: [U01DA1], channel: C0DATA}",
        "  data: &team {name: Data Team, members: [U01DA1], channel: C0DATA}\n"
        "  data2: {<<: *team, name: Data Two}",
    )
    config = parse_config(text)
    assert config.teams["data2"].members == ["U01DA1"]
    assert config.teams["data2"].name == "Data Two"


def test_empty_file_is_refused() -> None:
    """An empty file says where to start from."""
    problem = only(refused("# nothing yet\n"))
    assert "firebell.example.yaml" in problem.message


def test_top_level_list_is_refused() -> None:
    """The top level must be a mapping."""
    problem = only(refused("- a\n- b\n"))
    assert (problem.line, problem.message) == (
        1,
        "the top level must be a mapping with keys such as severities, teams and areas, not a list",
    )


def test_missing_config_file_says_how_to_start(tmp_path: Path) -> None:
    """A missing file names its path, the example file and FIREBELL_CONFIG."""
    path = tmp_path / "firebell.yaml"
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert str(path) in message
    assert "firebell.example.yaml" in message
    assert "FIREBELL_CONFIG" in message


def test_problems_name_the_file_they_come_from(tmp_path: Path) -> None:
    """load_config reports problems against the path it read."""
    path = tmp_path / "team.yaml"
    path.write_text(edit("responsible: ml", "responsible: mll"), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}:20: areas.model.responsible: ")


def test_empty_raci_table_is_refused() -> None:
    """At least one area is needed, or an incident has nobody to page."""
    problem = only(refused(BASE[: BASE.index("areas:")] + "areas: {}\n"))
    assert (problem.line, problem.where) == (17, "areas")
    assert problem.message == "no areas: the RACI table needs at least one row"


def test_yaml_boolean_team_key_is_explained() -> None:
    """`yes:` as a team key is a boolean to YAML; the problem says to quote it."""
    problem = only(
        refused(
            edit("  data: {name: Data Team", "  yes: {name: Data Team").replace(
                "consulted: [data]", "consulted: []"
            )
        )
    )
    assert (problem.line, problem.where) == (16, "teams")
    assert problem.message.startswith("keys must be text, got true (YAML reads yes, no, on, off")


def test_missing_top_level_block_is_refused_without_a_line() -> None:
    """A missing top-level block is reported against the file."""
    problem = only(
        refused("teams: {}\nareas: {a: {name: A, responsible: U0A, accountable: U0B}}\n")
    )
    assert str(problem) == "firebell.yaml: missing required key 'severities'"


def test_slo_targets_are_parsed_into_fractions_and_durations() -> None:
    """Percentages become fractions, latencies durations, the cost a number of dollars."""
    text = edit(
        "    rollback: {url: https://deploy.example.com/rollback}\n",
        "    slo: {success_rate: 99.5%, latency_p95: 3s, latency_p99: 8s, monthly_cost: 5000,\n"
        "          max_failure_rate: 5%, page_below: 99%, page_latency_above: 5s}\n",
    )
    slo = parse_config(text).services["assistant"].slo
    assert slo is not None
    assert (slo.success_rate, slo.max_failure_rate, slo.page_below) == (0.995, 0.05, 0.99)
    assert slo.latency_p95 == timedelta(seconds=3)
    assert slo.latency_p99 == timedelta(seconds=8)
    assert slo.page_latency_above == timedelta(seconds=5)
    assert slo.monthly_cost == 5000


def test_a_percentage_without_its_sign_says_what_to_write() -> None:
    """`success_rate: 99.5` is refused at its line, asking for 99.5%."""
    text = edit(
        "    rollback: {url: https://deploy.example.com/rollback}\n",
        "    slo:\n      success_rate: 99.5\n",
    )
    problem = only(refused(text))
    assert (problem.line, problem.where) == (29, "services.assistant.slo.success_rate")
    assert problem.message == "99.5 is not a percentage: write a percentage such as 99.5%"


def test_a_latency_without_a_unit_and_a_percentage_of_100_are_refused() -> None:
    """A bare number as latency and a 100% target (no error budget) say what to write."""
    text = edit(
        "    rollback: {url: https://deploy.example.com/rollback}\n",
        "    slo: {latency_p95: 3, max_failure_rate: 100%}\n",
    )
    messages = sorted(p.message for p in refused(text))
    assert messages == [
        "'100%' must be above 0% and below 100%",
        "3 is not a latency: write a duration such as 3s or 250ms",
    ]


def test_a_paging_threshold_above_its_target_is_refused() -> None:
    """page_below at or above success_rate, page_latency_above under latency_p95: refused."""
    text = edit(
        "    rollback: {url: https://deploy.example.com/rollback}\n",
        "    slo:\n      success_rate: 99%\n      page_below: 99.5%\n"
        "      latency_p95: 3s\n      page_latency_above: 2s\n",
    )
    problems = refused(text)
    assert [(p.line, p.where) for p in problems] == [
        (30, "services.assistant.slo.page_below"),
        (32, "services.assistant.slo.page_latency_above"),
    ]
    assert "99.5% is not below success_rate 99%: it would page while the target is met" in (
        problems[0].message
    )


def test_slo_metrics_template_with_an_unknown_placeholder_is_refused() -> None:
    """A misspelt placeholder in `slo_metrics` is named at its line, with the two allowed."""
    text = BASE + 'slo_metrics:\n  requests: sum(rate(reqs{app="{sevice}"}[{window}]))\n'
    problem = only(refused(text))
    assert (problem.line, problem.where) == (30, "slo_metrics.requests")
    assert problem.message == "unknown placeholder {sevice}: use {service} and {window} only"


def test_slo_metrics_templates_need_a_window_except_the_histogram_selector() -> None:
    """A rate template without {window}, a bucket selector with one: each says why."""
    text = edit(
        "    rollback: {url: https://deploy.example.com/rollback}\n",
        "    slo:\n      success_rate: 99%\n      metrics:\n"
        '        errors: sum(rate(errs{app="{service}"}[5m]))\n'
        "        latency_buckets: lat_bucket[{window}]\n",
    )
    problems = refused(text)
    assert [p.where for p in problems] == [
        "services.assistant.slo.metrics.errors",
        "services.assistant.slo.metrics.latency_buckets",
    ]
    assert problems[0].message.startswith("errors has no {window}: write the range as [{window}]")
    assert problems[1].message.startswith("latency_buckets is a series selector without a range")


def test_slo_metrics_default_to_conventional_metric_names() -> None:
    """Without `slo_metrics`, requests count http_requests_total, failures firebell's feedback."""
    metrics = parse_config(BASE).slo_metrics
    assert metrics.requests == 'sum(rate(http_requests_total{service="{service}"}[{window}]))'
    assert 'code=~"5.."' in metrics.errors
    assert 'kind=~"wrong_answer|thumbs_down"' in metrics.failures
