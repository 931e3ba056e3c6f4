"""Runbook checks: references into the config, name clashes, links, and overdue reviews."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot.config.model import Config
from bot.core.plan import check
from bot.runbooks import Problem, Runbook, RunbookMeta, Stale, check_runbooks, stale_runbooks
from bot.runbooks.index import parse_runbook

AT = datetime(2026, 3, 2, 10, tzinfo=UTC)
FOLDER = Path("runbooks")
SEVERITY = {"name": "x", "respond_within": "1h", "notify": "owner"}
CONFIG = Config.model_validate(
    {
        "severities": dict.fromkeys(("P0", "P1", "P2", "P3"), SEVERITY),
        "teams": {"ml": {"name": "ML"}, "platform": {"name": "Platform"}},
        "areas": {
            "model": {"name": "Model", "responsible": "ml", "accountable": "U01LEAD"},
            "infra": {"name": "Infra", "responsible": "platform", "accountable": "U01LEAD"},
        },
        "services": {"checkout": {"area": "model"}},
    }
)


def runbooks(**files: str) -> dict[str, Runbook]:
    """Runbooks parsed from file texts, by name (`db_failover` is `db-failover.md`)."""
    index = {}
    for stem, text in files.items():
        runbook, problems = parse_runbook(FOLDER / f"{stem.replace('_', '-')}.md", text)
        assert problems == []
        index[runbook.name] = runbook
    return index


def messages(found: list[Problem]) -> list[str]:
    """Problems as `firebell check` prints them."""
    return [str(problem) for problem in found]


def test_references_to_unknown_services_areas_teams_and_severities_name_their_lines() -> None:
    """Each unknown name is a problem at the line of its list item or key."""
    text = (
        "---\n"
        "services: [checkout, chekout]\n"
        "areas:\n"
        "  - model\n"
        "  - infr\n"
        "severities: [P5, p1]\n"
        "owner: mll\n"
        "---\n"
        "# Failover\n"
    )
    found = check_runbooks(runbooks(a=text), CONFIG, at=AT)
    assert messages(found) == [
        "runbooks/a.md:2: services: 'chekout' is not a service of the config "
        "(services: checkout); did you mean 'checkout'?",
        "runbooks/a.md:5: areas: 'infr' is not an area of the config (areas: model, infra); "
        "did you mean 'infra'?",
        "runbooks/a.md:6: severities: 'P5' is not a severity: use P0, P1, P2, P3",
        "runbooks/a.md:6: severities: 'p1' is not a severity: use P0, P1, P2, P3; did you mean "
        "'P1'?",
        "runbooks/a.md:7: owner: 'mll' is not a team of the config (teams: ml, platform); "
        "did you mean 'ml'?",
    ]


def test_known_references_pass() -> None:
    """A runbook naming what the config defines has no problem."""
    text = "---\nservices: checkout\nareas: [model]\nseverities: P2\nowner: ml\n---\n# Ok\n"
    assert check_runbooks(runbooks(a=text), CONFIG, at=AT) == []


def test_without_a_config_only_config_free_checks_run() -> None:
    """A refused config still lets bad severities and links be reported."""
    text = "---\nservices: nowhere\nseverities: P9\n---\nSee [x](missing.md).\n"
    assert [p.line for p in check_runbooks(runbooks(a=text), None, at=AT)] == [3, 5]


def test_names_differing_only_in_case_clash() -> None:
    """`DB-Failover.md` next to `db-failover.md` is refused: one file on macOS and Windows."""
    found = check_runbooks(runbooks(DB_Failover="# A\n", db_failover="# A\n"), CONFIG, at=AT)
    assert messages(found) == [
        "runbooks/db-failover.md: db-failover.md and DB-Failover.md differ only in case: "
        "rename one (services name runbooks by file name, and macOS and Windows see the two "
        "as one file)"
    ]


def test_two_runbooks_with_the_same_title_are_fine() -> None:
    """Titles need not be unique: the name tells runbooks apart."""
    assert check_runbooks(runbooks(a="# Same\n", b="# Same\n"), CONFIG, at=AT) == []


def test_broken_relative_links_name_file_and_line() -> None:
    """Links to runbooks that are not in the folder are refused at their line of the file."""
    text = (
        "---\nowner: ml\n---\n"
        "# A\n"
        "See [b](b.md) and [c](./c.md#steps).\n"
        "Then [missing](./gone.md#anchor) or [up](../docs/x.md).\n"
        "[ref]: <also-gone.md>\n"
    )
    found = check_runbooks(runbooks(a=text, b="# B\n", c="# C\n"), CONFIG, at=AT)
    assert messages(found) == [
        "runbooks/a.md:6: link to './gone.md#anchor': there is no gone.md in the runbooks folder",
        "runbooks/a.md:6: link to '../docs/x.md' leaves the runbooks folder: link to runbooks "
        "by file name, e.g. (other-runbook.md)",
        "runbooks/a.md:7: link to 'also-gone.md': there is no also-gone.md in the runbooks folder",
    ]


def test_web_links_code_and_other_files_are_not_checked() -> None:
    """http(s), mailto, anchors, pictures and links inside code are left alone."""
    text = (
        "# A\n"
        "[web](https://example.com/x.md) [mail](mailto:oncall@example.com) [top](#a)\n"
        "![graph](graph.png) `[x](inline-code.md)`\n"
        "```\n[x](in-a-block.md)\n```\n"
        "~~~markdown\n[x](in-tildes.md)\n~~~\n"
    )
    assert check_runbooks(runbooks(a=text), CONFIG, at=AT) == []


def test_overdue_review_says_how_overdue() -> None:
    """Reviewed 100 days ago with a 90-day cadence is 10 days overdue, at the reviewed line."""
    reviewed = (AT - timedelta(days=100)).date()
    text = f"---\nowner: ml\nreviewed: {reviewed}\nreview_every: 90d\n---\n# A\n"
    [stale] = stale_runbooks(runbooks(a=text), AT)
    assert stale == Stale(
        name="a",
        path=FOLDER / "a.md",
        line=3,
        review_every=timedelta(days=90),
        reviewed=reviewed,
        due=datetime.combine(reviewed, datetime.min.time(), UTC) + timedelta(days=90),
        overdue=timedelta(days=10, hours=10),
    )
    assert str(stale) == (
        f"runbooks/a.md:3: warning: review overdue by 10d (reviewed {reviewed}, review_every: 90d)"
    )


def test_review_within_its_cadence_is_not_stale() -> None:
    """Reviewed recently, or with no cadence, is not stale."""
    index = runbooks(
        recent="---\nreviewed: 2026-02-01\nreview_every: 90d\n---\n",
        no_cadence="---\nreviewed: 2020-01-01\n---\n",
        plain="# Nothing\n",
    )
    assert stale_runbooks(index, AT) == []


def test_cadence_without_a_review_is_stale() -> None:
    """`review_every` without `reviewed`: never reviewed, at the cadence's line."""
    meta_text = "---\nreview_every: 30d\n---\n"
    [stale] = stale_runbooks(runbooks(a=meta_text), AT)
    assert (stale.line, stale.overdue) == (2, None)
    assert "never reviewed" in str(stale)


def test_problem_renders_as_path_line_message() -> None:
    """A problem prints as `path:line: message`, or `path: message` for the whole file."""
    assert str(Problem(Path("r/a.md"), 3, "bad")) == "r/a.md:3: bad"
    assert str(Problem(Path("r/a.md"), None, "bad")) == "r/a.md: bad"


def test_runbook_metadata_defaults_to_general() -> None:
    """A runbook without front matter names nothing, so it fits every incident."""
    assert RunbookMeta().general
    assert not RunbookMeta(reviewed=date(2026, 1, 1), alerts=["X"]).general


EXAMPLE = Path(__file__).resolve().parents[2] / "firebell.example.yaml"


def test_firebell_check_refuses_runbook_problems_each_on_its_line(tmp_path: Path) -> None:
    """Bad front matter and unknown references fail `check` with one `file:line` line each."""
    (tmp_path / "model-quality-regression.md").write_text(
        "---\nareas: [modle]\nreviewed: 2026-13-01\n---\n# M\n", "utf-8"
    )
    code, text = check(EXAMPLE, tmp_path, at=AT)
    path = tmp_path / "model-quality-regression.md"
    assert code == 1
    assert text.splitlines() == [
        f"{path}:2: areas: 'modle' is not an area of the config (areas: model, infra, data, "
        "ux, policy); did you mean 'model'?",
        f"{path}:3: reviewed: '2026-13-01' is not a date (month must be in 1..12)",
        f"{tmp_path} refused: 2 problems.",
    ]


def test_firebell_check_warns_of_stale_runbooks_without_failing(tmp_path: Path) -> None:
    """An overdue review is printed before the plan; the check still passes."""
    (tmp_path / "model-quality-regression.md").write_text(
        "---\nreviewed: 2025-01-01\nreview_every: 30d\n---\n# M\n", "utf-8"
    )
    code, text = check(EXAMPLE, tmp_path, at=AT)
    assert code == 0
    assert text.splitlines()[2] == (
        f"{tmp_path / 'model-quality-regression.md'}:2: warning: review overdue by 395d "
        "(reviewed 2025-01-01, review_every: 30d)"
    )
