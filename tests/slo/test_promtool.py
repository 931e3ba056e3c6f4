"""The generated rules as Prometheus reads them: `promtool check rules` and the shipped
`promtool test rules` unit tests (tests/slo/promtool/*.yml, over the golden file).

Without promtool these skip (apt-get install -y prometheus), unless
FIREBELL_REQUIRE_PROMTOOL=1 (as `.ci/run` sets) makes that a failure.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from bot.slo.rules import rules_yaml, slo_rules
from tests.slo.test_rules import GOLDEN, config_with

PROMTOOL = Path("/usr/bin/promtool")
UNIT_TESTS = sorted((Path(__file__).parent / "promtool").glob("*.yml"))


@pytest.fixture
def promtool() -> Path:
    """The promtool binary, or a skip (a failure with FIREBELL_REQUIRE_PROMTOOL=1)."""
    if not PROMTOOL.exists():
        reason = "promtool is not installed: apt-get install -y prometheus"
        if os.environ.get("FIREBELL_REQUIRE_PROMTOOL") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return PROMTOOL


def run(promtool: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """promtool with `args`, its output kept for the assertion message."""
    return subprocess.run(  # noqa: S603 - a fixed binary, our own arguments
        [str(promtool), *map(str, args)], capture_output=True, text=True, timeout=60, check=False
    )


def test_the_golden_rule_file_passes_promtool_check(promtool: Path) -> None:
    """The example config's rules are valid Prometheus rules."""
    result = run(promtool, "check", "rules", GOLDEN)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 25 rules found" in result.stdout


def test_rules_of_every_target_kind_pass_promtool_check(promtool: Path, tmp_path: Path) -> None:
    """Every target, a p99, an override, a quoted name and scaled windows stay valid."""
    config = config_with(
        "  api:\n    area: model\n    slo:\n      success_rate: 99.9%\n      latency_p95: 250ms\n"
        "      latency_p99: 1s\n      page_below: 99%\n      page_latency_above: 2s\n"
        "      monthly_cost: 120.5\n      max_failure_rate: 1%\n      metrics:\n"
        '        latency_buckets: rpc_seconds_bucket{app="{service}",route!="/health"}\n'
        "  'say \"hi\"': {area: model, slo: {success_rate: 99%, max_failure_rate: 5%}}\n"
    )
    path = tmp_path / "rules.yml"
    path.write_text(rules_yaml(slo_rules(config, window_scale=7)), encoding="utf-8")
    result = run(promtool, "check", "rules", path)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("unit_test", UNIT_TESTS, ids=[path.stem for path in UNIT_TESTS])
def test_shipped_promtool_unit_tests_pass(promtool: Path, unit_test: Path) -> None:
    """A service failing at a known rate fires exactly the expected alerts, with their text."""
    result = run(promtool, "test", "rules", unit_test)
    assert result.returncode == 0, result.stdout + result.stderr
