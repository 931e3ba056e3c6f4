"""`firebell check` renders a team's template overrides against the sample incident and
refuses one that does not render, before any real incident needs it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import REFUSED, main
from bot.config.load import load_config
from bot.config.model import Config
from bot.core.plan import check
from bot.postmortem.checks import check_templates
from bot.postmortem.render import FLAVOURS, SHIPPED, markdown, short_message, summary_message
from bot.postmortem.sample import sample_postmortem
from bot.postmortem.view import variables

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "firebell.example.yaml"
RUNBOOKS = ROOT / "runbooks"
AT = datetime(2026, 3, 2, 10, tzinfo=UTC)
GOOD_SUMMARY = (
    '{% extends "shipped/summary.slack.j2" %}\n'
    "{% block owners %}*Owners*: {{ raci.responsible }}{% endblock %}\n"
)


def config_with(tmp_path: Path, folder: Path | str) -> Path:
    """The SPEC example config with `templates: <folder>`."""
    path = tmp_path / "firebell.yaml"
    path.write_text(EXAMPLE.read_text(encoding="utf-8") + f"templates: {folder}\n")
    return path


def sample_config(tmp_path: Path, folder: Path) -> Config:
    """The example config with `templates: <folder>`."""
    return load_config(config_with(tmp_path, folder))


def overrides(tmp_path: Path, **files: str) -> Path:
    """A templates folder holding `files` (name with `_` for `.`: summary_slack_j2)."""
    folder = tmp_path / "templates"
    folder.mkdir()
    for key, text in files.items():
        (folder / key.replace("_", ".")).write_text(text, encoding="utf-8")
    return folder


def test_a_good_override_passes_and_the_plan_lists_it(tmp_path: Path) -> None:
    """A summary override that extends the shipped one passes; the plan names what is overridden."""
    folder = overrides(tmp_path, summary_slack_j2=GOOD_SUMMARY)
    (folder / "postmortem.md.j2").write_text("# {{ incident.ref }}: {{ incident.title }}\n")
    code, text = check(config_with(tmp_path, folder), RUNBOOKS, at=AT)
    assert code == 0, text
    assert (
        f"Templates: summary.slack.j2 and postmortem.md.j2 from {folder}; short.slack.j2 shipped"
        in text.splitlines()
    )
    assert "Plan for incidents declared at" in text


def test_a_missing_templates_folder_refuses_the_config_at_its_line(tmp_path: Path) -> None:
    """`templates` naming no folder: status 1, the config's file and line, what to do."""
    path = config_with(tmp_path, tmp_path / "no-such-folder")
    code, text = check(path, RUNBOOKS, at=AT)
    assert code == 1
    line = len(path.read_text().splitlines())
    assert (
        f"{path}:{line}: templates: the templates folder "
        f"{tmp_path / 'no-such-folder'} does not exist" in text
    )
    assert "remove `templates` to use the shipped templates" in text
    assert text.endswith(f"{path} refused: 1 problem.")


def test_a_templates_path_that_is_a_file_is_refused(tmp_path: Path, config: Config) -> None:
    """A file where the folder should be is refused as not a folder."""
    file = tmp_path / "summary.slack.j2"
    file.write_text(GOOD_SUMMARY)
    found = check_templates(config.model_copy(update={"templates": str(file)}), tmp_path / "c.yaml")
    assert [p.message.split(" (")[0] for p in found.problems] == [
        f"the templates folder {file} is a file, not a folder"
    ]


def test_a_syntax_error_refuses_naming_the_file_and_line(tmp_path: Path) -> None:
    """An override that does not parse is refused at its file and line."""
    folder = overrides(tmp_path, short_slack_j2="{{ incident.ref }}\n\n{% if %}\n")
    code, text = check(config_with(tmp_path, folder), RUNBOOKS, at=AT)
    assert code == 1
    assert f"{folder / 'short.slack.j2'}:3: syntax error: " in text
    assert "fix the template" in text


def test_an_undefined_variable_refuses_naming_it_and_its_line(tmp_path: Path) -> None:
    """A misspelt variable is refused with its name and the line it is on."""
    folder = overrides(tmp_path, postmortem_md_j2="# {{ incident.ref }}\n\n{{ incidnet.title }}\n")
    code, text = check(config_with(tmp_path, folder), RUNBOOKS, at=AT)
    assert code == 1
    assert f"{folder / 'postmortem.md.j2'}:3: undefined variable: 'incidnet' is undefined" in text
    assert "docs/postmortems.md" in text


def test_an_undefined_attribute_inside_a_loop_is_found_by_the_sample(tmp_path: Path) -> None:
    """The sample's lists have items, so a bad attribute in any loop body is reached."""
    loops = "".join(
        f"{{% for x in {name} %}}{{{{ x.nope_{name} }}}}{{% endfor %}}\n"
        for name in (
            "paging",
            "rollbacks",
            "runbooks",
            "status_updates",
            "pins",
            "followups",
            "timeline",
        )
    )
    folder = overrides(tmp_path, summary_slack_j2=loops)
    found = check_templates(sample_config(tmp_path, folder), tmp_path / "firebell.yaml")
    assert [(p.line, p.message.split(":")[1].strip()) for p in found.problems] == [
        (1, "'dict object' has no attribute 'nope_paging'")
    ]


def test_an_error_in_an_included_template_names_that_file(tmp_path: Path) -> None:
    """An override including a partial: the partial's file and line, and which override."""
    folder = overrides(
        tmp_path,
        summary_slack_j2='{{ incident.ref }}\n{% include "owners.j2" %}\n',
        owners_j2="Owners:\n{{ raci.nobody }}\n",
    )
    found = check_templates(sample_config(tmp_path, folder), tmp_path / "firebell.yaml")
    assert [str(p).split(": a template")[0] for p in found.problems] == [
        f"{folder / 'owners.j2'}:2: undefined variable (rendering summary.slack.j2): "
        "'dict object' has no attribute 'nobody'"
    ]
    assert found.warnings == []


def test_an_unused_template_file_is_a_warning_not_a_refusal(tmp_path: Path) -> None:
    """A misspelt override name is mentioned as a warning; the check still passes."""
    folder = overrides(tmp_path, summary_slack_j2=GOOD_SUMMARY, sumary_slack_j2="typo")
    code, text = check(config_with(tmp_path, folder), RUNBOOKS, at=AT)
    assert code == 0, text
    assert f"{folder / 'sumary.slack.j2'}: warning: not used: " in text
    assert f"{folder / 'summary.slack.j2'}: warning" not in text


def test_a_folder_with_no_overrides_says_every_template_is_shipped(tmp_path: Path) -> None:
    """An empty folder passes; the plan says nothing is overridden."""
    folder = overrides(tmp_path)
    code, text = check(config_with(tmp_path, folder), RUNBOOKS, at=AT)
    assert code == 0, text
    assert (
        f"Templates: none overridden in {folder}; "
        "summary.slack.j2, short.slack.j2 and postmortem.md.j2 shipped"
    ) in text


def test_without_templates_the_check_says_nothing_of_them() -> None:
    """A config without `templates` gets no Templates line."""
    code, text = check(EXAMPLE, RUNBOOKS, at=AT)
    assert code == 0
    assert "Templates:" not in text


def test_the_shipped_templates_pass_the_check(tmp_path: Path) -> None:
    """Copies of the shipped templates as overrides pass the check."""
    folder = overrides(tmp_path)
    for name in FLAVOURS:
        (folder / name).write_text((SHIPPED / name).read_text(encoding="utf-8"))
    code, text = check(config_with(tmp_path, folder), RUNBOOKS, at=AT)
    assert code == 0, text
    assert f"Templates: summary.slack.j2, short.slack.j2 and postmortem.md.j2 from {folder}" in text


def test_the_sample_exercises_every_list_of_the_shipped_templates(config: Config) -> None:
    """Every list a template gets has items, and Slack summaries leave some out between."""
    pm = sample_postmortem(config)
    slack = variables(pm, config, FLAVOURS["summary.slack.j2"])
    for name in (
        "paging",
        "rollbacks",
        "runbooks",
        "status_updates",
        "pins",
        "followups",
        "timeline",
    ):
        assert slack[name].total > 0, name
    for name in ("paging", "status_updates", "timeline"):
        assert slack[name].omitted > 0, name
        assert slack[name].last, name
    assert slack["severity_changes"]
    assert slack["raci"]["consulted"]
    assert slack["raci"]["informed"]
    assert all(
        value is not None for value in [*slack["times"].values(), *slack["durations"].values()]
    )
    text, blocks = summary_message(pm, config)
    assert "INC-42" in text
    assert len(blocks) > 1
    assert "@channel" not in short_message(pm, config)[0]
    assert markdown(pm, config).startswith("# INC-42: Sample")


def test_check_through_the_cli_refuses_a_broken_override(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`firebell check --config F` with a broken override: status 1, the problem on stderr."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FIREBELL_RUNBOOKS", str(RUNBOOKS))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'firebell.db'}")
    overrides(tmp_path, summary_slack_j2="{{ incident.ref }} {{ durations.forever }}\n")
    path = config_with(tmp_path, "./templates")
    assert main(["check", "--config", str(path)]) == REFUSED
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "templates/summary.slack.j2:1: undefined variable: " in captured.err
    assert "'forever'" in captured.err
    (tmp_path / "templates" / "summary.slack.j2").write_text(GOOD_SUMMARY)
    assert main(["check", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert (
        "Templates: summary.slack.j2 from ./templates; short.slack.j2 and postmortem.md.j2 shipped"
        in out
    )
