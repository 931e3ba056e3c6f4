"""The sandbox's people, drills and sources, as plain values: no server, no Slack."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import BaseModel

from bot.config.load import load_config
from bot.config.model import Config
from bot.sandbox.drill import SHORTEST, Drill, DrillError, sped_up
from bot.sandbox.launch import shipped
from bot.sandbox.mode import sandbox_sources
from bot.sandbox.people import OUTSIDER, role_of, sandbox_people
from bot.sandbox.seed import config_people
from bot.settings import Settings

# The shipped rotation: U01ML1 from its anchor (2026-01-05 09:00 UTC), U01ML2 a week later.
FIRST_WEEK = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
SECOND_WEEK = FIRST_WEEK + timedelta(days=7)


@pytest.fixture(scope="module")
def shipped_config() -> Config:
    """The example config shipped with firebell, which the sandbox runs by default."""
    return load_config(shipped("firebell.yaml"))


def test_the_on_call_engineer_is_said_to_be_on_call_now(shipped_config: Config) -> None:
    """The rotation's current engineer is in their team and on call; the other is only in it."""
    owns = " (responsible for Model/Prompt)"
    assert role_of(shipped_config, "U01ML1", FIRST_WEEK) == f"ML Team, on call now{owns}"
    assert role_of(shipped_config, "U01ML2", FIRST_WEEK) == f"ML Team{owns}"
    assert role_of(shipped_config, "U01ML2", SECOND_WEEK) == f"ML Team, on call now{owns}"


def test_an_areas_lead_is_said_to_be_accountable_for_it(shipped_config: Config) -> None:
    """The accountable person of an area is named as accountable for it, by its name."""
    assert role_of(shipped_config, "U01MLLEAD", FIRST_WEEK) == "accountable for Model/Prompt"


def test_a_team_member_is_named_by_their_team_and_what_it_owns(shipped_config: Config) -> None:
    """A member of a team without a rotation is named by the team and the areas it is
    responsible for, never as on call."""
    assert role_of(shipped_config, "U01PR1", FIRST_WEEK) == (
        "Product Team (responsible for User Experience)"
    )


def test_people_named_in_raci_rows_by_id_get_those_roles(shipped_config: Config) -> None:
    """A user ID as an area's responsible, consulted or informed is said to be so, for
    those areas."""
    areas = shipped_config.areas
    changed = {
        "infra": areas["infra"].model_copy(update={"responsible": "U0ADVISOR"}),
        "model": areas["model"].model_copy(
            update={"consulted": ["data", "U0ADVISOR"], "informed": ["U0ADVISOR"]}
        ),
    }
    config = shipped_config.model_copy(update={"areas": {**areas, **changed}})
    assert role_of(config, "U0ADVISOR", FIRST_WEEK) == (
        "responsible for Infra/Deploy; consulted on Model/Prompt; informed on Model/Prompt"
    )


def test_people_are_everyone_in_the_config_then_the_outsider(shipped_config: Config) -> None:
    """Everyone the config names, sorted by ID with a stable made-up name, then the
    outsider, who has no role."""
    people = sandbox_people(shipped_config, FIRST_WEEK)
    ids = [p.id for p in people]
    assert ids == [*sorted(config_people(shipped_config)), OUTSIDER]
    assert people[0].name == "Ada Okafor"
    assert all(p.name and p.role for p in people)
    assert len({p.name for p in people}) == len(people)
    assert people[-1].id == "U0GUEST"
    assert "not in the config" in people[-1].role
    assert sandbox_people(shipped_config, FIRST_WEEK) == people


def test_people_say_who_is_on_call_at_the_time_given(shipped_config: Config) -> None:
    """Whose role says "on call now" follows the rotation at the time asked about."""
    by_id = {p.id: p.role for p in sandbox_people(shipped_config, SECOND_WEEK)}
    assert by_id["U01ML2"].startswith("ML Team, on call now")
    assert "on call" not in by_id["U01ML1"]


def _leaves(value: object, path: str = "") -> Iterator[tuple[str, object]]:
    """Every plain value inside a config, with where it is."""
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _leaves(getattr(value, name), f"{path}.{name}")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, f"{path}[{key}]")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{path}[{index}]")
    else:
        yield path, value


@pytest.mark.parametrize("speed", [60, 3600, 2.5])
def test_a_drill_divides_every_duration_and_nothing_else(
    shipped_config: Config, speed: float
) -> None:
    """Every duration is divided by the speed (never below a second); keywords, dates,
    IDs and numbers stay as they are."""
    before = dict(_leaves(shipped_config))
    after = dict(_leaves(sped_up(shipped_config, speed)))
    assert after.keys() == before.keys()
    durations = 0
    for path, value in before.items():
        if isinstance(value, timedelta):
            durations += 1
            assert after[path] == max(value / speed, SHORTEST), path
        else:
            assert after[path] == value, path
    assert durations >= 8  # the shipped config's severities, sprint and rotation


def test_a_drill_keeps_keywords_and_dates(shipped_config: Config) -> None:
    """`next_sprint`, `respond_within` and the sprint's and rotation's anchors are untouched;
    a fifteen-minute deadline becomes fifteen seconds at speed 60."""
    fast = sped_up(shipped_config, 60)
    assert fast.severities["P3"].respond_within == "next_sprint"
    assert fast.escalation.every == "respond_within"
    assert fast.severities["P0"].respond_within == timedelta(seconds=15)
    assert fast.sprint is not None
    assert fast.sprint.anchor == date(2026, 1, 5)
    assert fast.sprint.length == timedelta(days=14) / 60
    oncall = fast.teams["ml"].oncall
    assert oncall is not None
    assert oncall.anchor == datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    assert oncall.every == timedelta(days=7) / 60


def test_a_duration_never_goes_below_a_second(shipped_config: Config) -> None:
    """At an hour a second, a fifteen-minute deadline is one second, not a quarter of one."""
    fastest = sped_up(shipped_config, 3600)
    assert fastest.severities["P0"].respond_within == timedelta(seconds=1)


def test_real_time_returns_the_same_config(shipped_config: Config) -> None:
    """Speed 1 returns the config itself, not a copy."""
    assert sped_up(shipped_config, 1) is shipped_config


def test_a_drill_refuses_an_unknown_severity() -> None:
    """A severity that is not P0-P3 is a DrillError naming the levels and what was given."""
    with pytest.raises(DrillError, match=r"one of P0, P1, P2, P3; not 'P5'"):
        Drill("P5")


@pytest.mark.parametrize("speed", [0.5, 0, -1, 3601])
def test_a_drill_refuses_a_speed_out_of_range(speed: float) -> None:
    """A speed below real time or above an hour a second is a DrillError saying the range."""
    with pytest.raises(DrillError, match=r"--speed must be from 1 .* to 3600"):
        Drill("P1", speed=speed)


@pytest.mark.parametrize("speed", [1, 3600])
def test_a_drill_takes_the_ends_of_the_range(speed: float) -> None:
    """Real time and an hour a second are both drills firebell runs."""
    assert Drill("P1", speed=speed).speed == speed


def test_drill_time_is_real_time_times_the_speed() -> None:
    """Ten real seconds at speed 60 are ten drill minutes; before the start, none."""
    drill = Drill("P1", speed=60, started_at=1_000.0)
    assert drill.elapsed(1_010.0) == timedelta(minutes=10)
    assert drill.elapsed(1_000.0) == timedelta(0)
    assert drill.elapsed(900.0) == timedelta(0)


@pytest.fixture
def empty_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder, with no firebell settings in the environment."""
    for name in ("DATABASE_URL", "FIREBELL_CONFIG", "FIREBELL_RUNBOOKS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_with_nothing_here_the_sandbox_runs_what_is_shipped(empty_folder: Path) -> None:
    """No config, runbooks or database setting: the shipped config and runbooks and a
    database in the scratch folder, each with a note saying so."""
    scratch = empty_folder / "scratch"
    sources = sandbox_sources(Settings(), config=None, scratch=scratch)
    assert sources.config == shipped("firebell.yaml")
    assert sources.config.is_file()
    assert sources.runbooks == shipped("runbooks")
    assert sources.runbooks.is_dir()
    assert sources.database_url == f"sqlite:///{scratch / 'sandbox.db'}"
    assert len(sources.notes) == 3
    config_note, runbooks_note, database_note = sources.notes
    assert "firebell.yaml" in config_note
    assert "example config" in config_note
    assert "runbooks" in runbooks_note
    assert "DATABASE_URL" in database_note


def test_explicit_settings_are_kept_even_when_their_files_are_missing(empty_folder: Path) -> None:
    """A config, runbooks folder and database the user set are used as set, with no notes."""
    settings = Settings(
        firebell_config=empty_folder / "mine.yaml",
        firebell_runbooks=empty_folder / "my-runbooks",
        database_url="postgresql://firebell@db.example.com/firebell",
    )
    sources = sandbox_sources(settings, config=None, scratch=empty_folder / "scratch")
    assert sources.config == empty_folder / "mine.yaml"
    assert sources.runbooks == empty_folder / "my-runbooks"
    assert sources.database_url == "postgresql://firebell@db.example.com/firebell"
    assert sources.notes == []


def test_a_setting_set_to_its_default_counts_as_not_chosen(empty_folder: Path) -> None:
    """Settings set to their defaults (as a `.env` copied from `.env.example` does) fall
    back to the shipped files and a temporary database, as if unset."""
    settings = Settings(
        firebell_config=Path("./firebell.yaml"),
        firebell_runbooks=Path("./runbooks"),
        database_url="sqlite:///./firebell.db",
    )
    sources = sandbox_sources(settings, config=None, scratch=empty_folder)
    assert sources.config == shipped("firebell.yaml")
    assert sources.runbooks == shipped("runbooks")
    assert sources.database_url == f"sqlite:///{empty_folder / 'sandbox.db'}"
    assert len(sources.notes) == 3


def test_the_config_option_wins_over_the_shipped_config(empty_folder: Path) -> None:
    """`--config` is used even where no ./firebell.yaml exists, and needs no note."""
    chosen = empty_folder / "other.yaml"
    sources = sandbox_sources(Settings(), config=chosen, scratch=empty_folder)
    assert sources.config == chosen
    assert not any("example config" in note for note in sources.notes)


def test_files_in_the_folder_are_used_before_the_shipped_ones(empty_folder: Path) -> None:
    """A ./firebell.yaml and ./runbooks here are what the sandbox runs, without notes."""
    (empty_folder / "firebell.yaml").write_text("# mine\n")
    (empty_folder / "runbooks").mkdir()
    sources = sandbox_sources(Settings(), config=None, scratch=empty_folder / "scratch")
    assert sources.config == Path("firebell.yaml")
    assert sources.runbooks == Path("runbooks")
    assert len(sources.notes) == 1
    assert "DATABASE_URL" in sources.notes[0]
