"""`firebell slo rules [-o FILE]`: what it writes, where, and how it refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import REFUSED, USAGE, main
from tests.slo.test_rules import GOLDEN, ROOT, SEVERITIES

EXAMPLE = ROOT / "firebell.example.yaml"


def status(argv: list[str]) -> int:
    """main's exit status, also when argparse exits on its own."""
    try:
        return main(argv)
    except SystemExit as stop:
        return int(stop.code or 0)


def test_rules_are_written_to_the_output_file(tmp_path: Path) -> None:
    """-o FILE gets the example config's rule file, the golden one."""
    out = tmp_path / "slo-rules.yml"
    assert status(["slo", "rules", "--config", str(EXAMPLE), "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == GOLDEN.read_text(encoding="utf-8")


def test_rules_go_to_stdout_and_the_config_comes_from_firebell_config(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Without -o the file is printed; without --config FIREBELL_CONFIG names it."""
    monkeypatch.chdir(tmp_path)  # no `.env` in reach
    monkeypatch.setenv("FIREBELL_CONFIG", str(EXAMPLE))
    assert status(["slo", "rules"]) == 0
    assert capsys.readouterr().out == GOLDEN.read_text(encoding="utf-8")


def test_a_refused_config_exits_1_with_its_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad target is named with its line, and nothing is written."""
    path = tmp_path / "bad.yaml"
    path.write_text(
        SEVERITIES + "services: {api: {area: model, slo: {success_rate: '99.5'}}}\n",
        encoding="utf-8",
    )
    out = tmp_path / "rules.yml"
    assert status(["slo", "rules", "--config", str(path), "-o", str(out)]) == REFUSED
    err = capsys.readouterr().err
    assert "firebell slo rules: the config was refused" in err
    assert f"{path}:8: services.api.slo.success_rate: '99.5' is not a percentage" in err
    assert not out.exists()


def test_a_config_without_slos_writes_an_empty_rule_file_and_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No service has an slo block: an empty but valid file, and a hint on stderr."""
    path = tmp_path / "plain.yaml"
    path.write_text(SEVERITIES, encoding="utf-8")
    assert status(["slo", "rules", "--config", str(path)]) == 0
    captured = capsys.readouterr()
    assert captured.out.endswith("groups: []\n")
    assert "has an slo block" in captured.err


def test_slo_without_an_action_and_a_zero_scale_are_usage_errors(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`firebell slo` prints its help; --window-scale 0 is refused by the parser."""
    assert status(["slo"]) == USAGE
    assert "rules" in capsys.readouterr().err
    assert status(["slo", "rules", "--config", str(EXAMPLE), "--window-scale", "0"]) == USAGE
    assert "must be above 0" in capsys.readouterr().err


def test_an_unwritable_output_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing folder for -o is named, with status 2."""
    out = tmp_path / "missing" / "rules.yml"
    assert status(["slo", "rules", "--config", str(EXAMPLE), "-o", str(out)]) == USAGE
    assert f"cannot write {out}" in capsys.readouterr().err
