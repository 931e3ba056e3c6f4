"""Runbook front matter: the YAML block atop a runbook, and its problems with their lines."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.runbooks import Problem, Runbook, RunbookError, RunbookMeta, load_runbooks, read_runbooks
from bot.runbooks.frontmatter import read_front_matter

PATH = Path("runbooks/db-failover.md")


def problems(text: str) -> list[str]:
    """The problems of a runbook file holding `text`, as printed."""
    return [str(problem) for problem in read_front_matter(text, PATH).problems]


def test_front_matter_is_read_and_split_from_the_body() -> None:
    """Every key is read; the body starts on the line after the closing `---`."""
    text = (
        "---\n"
        "title: Database failover\n"
        "services: [checkout, search]\n"
        "areas: infra\n"
        "severities: [P0, P1]\n"
        "alerts: PostgresDown\n"
        "owner: platform\n"
        "reviewed: 2026-01-05\n"
        "review_every: 90d\n"
        "---\n"
        "# Failover\n"
    )
    front = read_front_matter(text, PATH)
    assert front.problems == []
    assert front.meta == RunbookMeta(
        title="Database failover",
        services=["checkout", "search"],
        areas=["infra"],
        severities=["P0", "P1"],
        alerts=["PostgresDown"],
        owner="platform",
        reviewed=date(2026, 1, 5),
        review_every=timedelta(days=90),
    )
    assert (front.body, front.body_line) == ("# Failover\n", 11)


def test_runbook_without_front_matter_is_all_body() -> None:
    """No `---` on the first line: the whole text is the body, with default metadata."""
    front = read_front_matter("# Title\n---\nnot front matter\n---\n", PATH)
    assert (front.meta, front.body_line, front.problems) == (RunbookMeta(), 1, [])
    assert front.body.startswith("# Title")


def test_empty_front_matter_is_fine() -> None:
    """`---` twice with nothing between is no metadata, and no problem."""
    front = read_front_matter("---\n---\n# Title\n", PATH)
    assert (front.meta, front.body, front.body_line, front.problems) == (
        RunbookMeta(),
        "# Title\n",
        3,
        [],
    )


def test_unknown_key_names_its_line_and_the_closest_key() -> None:
    """A misspelt key is refused at its line, with a did-you-mean."""
    [problem] = problems("---\nowner: ml\nservics: [checkout]\n---\n")
    assert problem.startswith(f"{PATH}:3: unknown key 'servics' in the front matter (expected")
    assert problem.endswith("did you mean 'services'?")


def test_impossible_date_is_a_bad_date_at_its_line() -> None:
    """`reviewed: 2026-13-01` is refused as no date, at line 4."""
    assert problems("---\nowner: ml\n\nreviewed: 2026-13-01\n---\n") == [
        f"{PATH}:4: reviewed: '2026-13-01' is not a date (month must be in 1..12)"
    ]


def test_date_in_another_form_asks_for_year_month_day() -> None:
    """`reviewed: 5 Jan 2026` is refused, saying how to write a date."""
    [problem] = problems("---\nreviewed: 5 Jan 2026\n---\n")
    assert problem == (
        f"{PATH}:2: reviewed: '5 Jan 2026' is not a date: write the day as YYYY-MM-DD, "
        "e.g. 2026-01-05"
    )


def test_duration_in_words_is_a_bad_duration_at_its_line() -> None:
    """`review_every: 3 weeks` is refused as the config would refuse it."""
    assert problems("---\nreview_every: 3 weeks\n---\n") == [
        f"{PATH}:2: review_every: '3 weeks' is not a duration: write a number and a unit, "
        "e.g. 30s, 15m, 1h, 2d"
    ]


def test_duration_without_unit_is_refused() -> None:
    """`review_every: 90` says the unit is missing."""
    assert problems("---\nreview_every: 90\n---\n") == [
        f"{PATH}:2: review_every: 90 has no unit: write e.g. 90d"
    ]


def test_single_name_stands_for_a_list_of_one() -> None:
    """`areas: model` is `areas: [model]`; an empty key is an empty list."""
    meta = read_front_matter("---\nareas: model\nalerts:\n---\n", PATH).meta
    assert (meta.areas, meta.alerts) == (["model"], [])


def test_wrong_types_are_refused_at_the_line_of_the_item() -> None:
    """A list item that is not a name, or a list where text belongs, names its own line."""
    text = "---\nservices:\n  - checkout\n  - {name: search}\nowner: [ml, data]\ntitle: 3\n---\n"
    assert problems(text) == [
        f"{PATH}:4: services: item 2 must be a name, got a mapping",
        f"{PATH}:5: owner: expected text, got a list",
        f"{PATH}:6: title: expected text, got 3",
    ]


def test_every_problem_of_a_file_is_reported() -> None:
    """Three bad keys give three problems, each at its line; the good keys are kept."""
    text = "---\nowner: ml\nbogus: 1\nreviewed: 2026-02-30\nreview_every: soon\n---\n"
    front = read_front_matter(text, PATH)
    assert [problem.line for problem in front.problems] == [3, 4, 5]
    assert front.meta.owner == "ml"


def test_key_written_twice_is_refused() -> None:
    """A repeated key names the other line instead of silently keeping one."""
    assert problems("---\nowner: ml\nowner: data\n---\n") == [
        f"{PATH}:3: owner: written twice: keep one (line 2 is the other)"
    ]


def test_invalid_yaml_names_the_line() -> None:
    """Broken YAML in the front matter is refused with the line the parser stopped at."""
    [problem] = read_front_matter("---\nowner: ml\nareas: [model\n---\n", PATH).problems
    assert problem.line is not None
    assert problem.line >= 3
    assert "front matter is not valid YAML" in problem.message


def test_front_matter_that_is_not_a_mapping_is_refused() -> None:
    """A list as front matter says what keys look like."""
    [problem] = problems("---\n- a\n- b\n---\n")
    assert problem.startswith(f"{PATH}:2: front matter must be keys such as services:")


def test_unclosed_front_matter_is_refused_at_line_one() -> None:
    """A first line `---` without a closing one is refused, not read as a runbook."""
    [problem] = problems("---\nowner: ml\n# Title\n")
    assert problem.startswith(f"{PATH}:1: front matter opened with --- on line 1 is never closed")


def test_front_matter_title_wins_over_the_heading(tmp_path: Path) -> None:
    """`title:` in the front matter is the title; the body is the text without it."""
    path = tmp_path / "a.md"
    path.write_text("---\ntitle: From the front matter\n---\n# From the heading\n", "utf-8")
    assert load_runbooks(tmp_path) == {
        "a": Runbook(
            name="a",
            title="From the front matter",
            path=path,
            text="# From the heading\n",
            body_line=4,
            meta=RunbookMeta(title="From the front matter"),
        )
    }


def test_problems_of_every_file_are_collected(tmp_path: Path) -> None:
    """Loading reports the problems of all files at once, not the first only."""
    (tmp_path / "a.md").write_text("---\nbogus: 1\n---\n", "utf-8")
    (tmp_path / "b.md").write_text("---\nreviewed: never\n---\n", "utf-8")
    (tmp_path / "c.md").write_bytes(b"\xff")
    with pytest.raises(RunbookError) as caught:
        load_runbooks(tmp_path)
    assert [(p.path.name, p.line) for p in caught.value.problems] == [
        ("a.md", 2),
        ("b.md", 2),
        ("c.md", None),
    ]


def test_runbook_with_bad_front_matter_is_still_indexed(tmp_path: Path) -> None:
    """`read_runbooks` keeps a runbook with problems, so services naming it still resolve."""
    (tmp_path / "a.md").write_text("---\nowner: ml\nbogus: 1\n---\n# A\n", "utf-8")
    runbooks, found = read_runbooks(tmp_path)
    assert runbooks["a"].meta.owner == "ml"
    assert found == [Problem(tmp_path / "a.md", 3, found[0].message)]
