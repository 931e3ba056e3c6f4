"""The `firebell` command's conventions: --version, usage on stderr with status 2, the
same status for the same refusal in `check` and `serve`, help that says what it reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import REFUSED, USAGE, main

ROOT = Path(__file__).resolve().parents[2]
SPEC_ENVIRONMENT = [
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "DATABASE_URL",
    "FIREBELL_CONFIG",
    "FIREBELL_RUNBOOKS",
    "FIREBELL_HOST",
    "FIREBELL_PORT",
    "FIREBELL_WEBHOOK_TOKEN",
    "LOG_LEVEL",
    "LOG_FORMAT",
]


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Slack settings set, the repository's config and runbooks, no `.env` in reach."""
    monkeypatch.chdir(tmp_path)
    for name in SPEC_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "test-signing-secret")
    monkeypatch.setenv("FIREBELL_CONFIG", str(ROOT / "firebell.example.yaml"))
    monkeypatch.setenv("FIREBELL_RUNBOOKS", str(ROOT / "runbooks"))


def _exit_status(argv: list[str]) -> int:
    """main's status, also when argparse exits on its own."""
    try:
        return main(argv)
    except SystemExit as stop:
        return int(stop.code or 0)


def _bad_config(tmp_path: Path) -> Path:
    path = tmp_path / "bad.yaml"
    text = (ROOT / "firebell.example.yaml").read_text()
    path.write_text(text + "\nnot_a_key: 1\n")
    return path


def test_version_prints_the_distribution_version(capsys: pytest.CaptureFixture[str]) -> None:
    """`firebell --version` prints `firebell <version>` and exits 0."""
    assert _exit_status(["--version"]) == 0
    assert capsys.readouterr().out.startswith("firebell ")


def test_no_command_prints_help_on_stderr_with_status_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A bare `firebell` is a usage error: the help goes to stderr, status 2."""
    assert _exit_status([]) == USAGE
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "serve" in captured.err


def test_db_without_an_action_prints_its_own_help(capsys: pytest.CaptureFixture[str]) -> None:
    """`firebell db` shows the db actions (not the top-level help) on stderr, status 2."""
    assert _exit_status(["db"]) == USAGE
    err = capsys.readouterr().err
    assert "usage: firebell db" in err
    assert "upgrade" in err
    assert "current" in err


def test_unknown_option_is_a_usage_error_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown option: usage on stderr, status 2."""
    assert _exit_status(["serve", "--no-such-option"]) == USAGE
    err = capsys.readouterr().err
    assert err.startswith("usage: firebell")
    assert "unrecognized arguments: --no-such-option" in err


@pytest.mark.parametrize("port", ["0", "70000", "-1"])
def test_port_option_out_of_range_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], port: str
) -> None:
    """`serve --port 70000` is refused by the command line, status 2."""
    assert _exit_status(["serve", "--port", port]) == USAGE
    assert "1 to 65535" in capsys.readouterr().err


def test_port_setting_out_of_range_is_refused_in_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """FIREBELL_PORT=70000 is refused before anything starts: one line, status 2."""
    monkeypatch.setenv("FIREBELL_PORT", "70000")
    assert _exit_status(["serve"]) == USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "FIREBELL_PORT" in err
    assert "1 to 65535, not 70000" in err


@pytest.mark.parametrize("command", ["check", "serve"])
def test_a_refused_config_exits_1_in_check_and_serve_alike(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str
) -> None:
    """The same bad file gets status 1 and the same problem from `check` and `serve`."""
    bad = _bad_config(tmp_path)
    assert _exit_status([command, "--config", str(bad)]) == REFUSED
    err = capsys.readouterr().err
    assert "not_a_key" in err
    assert str(bad) in err


def test_serve_config_option_wins_over_the_setting(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`serve --config F` reads F, whatever FIREBELL_CONFIG says."""
    monkeypatch.setenv("FIREBELL_CONFIG", str(tmp_path / "elsewhere.yaml"))
    bad = _bad_config(tmp_path)
    assert _exit_status(["serve", "--config", str(bad)]) == REFUSED
    err = capsys.readouterr().err
    assert str(bad) in err
    assert "elsewhere.yaml" not in err


@pytest.mark.parametrize("command", ["check", "serve"])
def test_a_missing_runbooks_folder_is_named_as_such(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    command: str,
) -> None:
    """FIREBELL_RUNBOOKS naming no folder: status 1 and a line saying the folder is missing."""
    missing = tmp_path / "no-such-runbooks"
    monkeypatch.setenv("FIREBELL_RUNBOOKS", str(missing))
    assert _exit_status([command]) == REFUSED
    err = capsys.readouterr().err
    assert f"{missing}: no runbooks folder here" in err
    assert "FIREBELL_RUNBOOKS" in err


def test_serve_help_lists_every_environment_variable_it_reads(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`firebell serve --help` names each variable of the SPEC's environment table."""
    assert _exit_status(["serve", "--help"]) == 0
    out = capsys.readouterr().out
    for name in SPEC_ENVIRONMENT:
        assert name in out, name
    assert "exit status" in out


def test_missing_slack_settings_exit_2_in_serve(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No bot token is an environment problem: status 2, naming the variable."""
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    assert _exit_status(["serve"]) == USAGE
    assert "SLACK_BOT_TOKEN" in capsys.readouterr().err


def test_speed_without_a_drill_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """`--speed` alone says it goes with `--drill`."""
    assert _exit_status(["serve", "--speed", "60"]) == USAGE
    assert "--speed goes with --drill" in capsys.readouterr().err


def test_a_drill_of_an_unknown_severity_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`--drill P9` names the severities a drill can rehearse."""
    assert _exit_status(["serve", "--drill", "P9"]) == USAGE
    assert "P0, P1, P2, P3" in capsys.readouterr().err


def test_a_drill_too_fast_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """`--speed` beyond an hour a second is refused with the range."""
    assert _exit_status(["serve", "--drill", "P1", "--speed", "99999"]) == USAGE
    assert "from 1 (real time) to 3600" in capsys.readouterr().err


def test_the_sandbox_over_socket_mode_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The sandbox talks HTTP: `--sandbox --socket-mode` says to drop one."""
    assert _exit_status(["serve", "--sandbox", "--socket-mode"]) == USAGE
    assert "drop --socket-mode" in capsys.readouterr().err


def test_missing_signing_secret_with_a_token_is_still_an_error_not_the_sandbox(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Half a Slack setup is a mistake to report, not a reason to serve the sandbox."""
    monkeypatch.delenv("SLACK_SIGNING_SECRET")
    assert _exit_status(["serve"]) == USAGE
    assert "SLACK_SIGNING_SECRET" in capsys.readouterr().err
