"""`firebell slo rules --self`: alerts on firebell's own health, from its real metric
names, that Prometheus accepts and Alertmanager can route away from firebell.

`tests/slo/golden/self-rules.yml` is the command's output; `tests/slo/promtool/self*.yml`
are `promtool test rules` unit tests over it (run by tests/slo/test_promtool.py). After
a deliberate change, rewrite it with `FIREBELL_UPDATE_GOLDEN=1 pytest
tests/slo/test_self_rules.py`, read the diff, and run the promtool tests.
"""

from __future__ import annotations

import os
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.metrics import DatabaseFacts, Metrics, database_families
from bot.slo.rules import rules_yaml
from bot.slo.self_rules import SELF_LABEL, self_rules
from tests.slo.test_command import status
from tests.slo.test_promtool import PROMTOOL, promtool, run  # noqa: F401 - the fixture
from tests.slo.test_rules import ROOT

GOLDEN = Path(__file__).parent / "golden" / "self-rules.yml"
METRICS_DOC = ROOT / "docs" / "metrics.md"
AMTOOL = Path("/usr/bin/amtool")
# Series firebell does not serve itself: Prometheus' own, and PromQL's.
NOT_FIREBELLS = {"up", "absent", "rate", "increase", "sum", "max", "histogram_quantile"}


def alerts(rules: dict[str, Any]) -> list[dict[str, Any]]:
    """The alerting rules of the file, in order."""
    return [rule for group in rules["groups"] for rule in group["rules"]]


def exposed_names() -> set[str]:
    """Every series name a firebell process serves on /metrics: its instruments' (moved
    once), and its database gauges' as shown for plain facts."""
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    facts = DatabaseFacts(
        now=now, pending=1, failed=0, oldest_pending=now, undelivered_pages=0, incidents=[]
    )
    metrics = Metrics()
    # A labelled instrument serves its series once the edges have moved it.
    metrics.lateness.labels("escalate").observe(1.5)
    metrics.api_calls.labels("chat.postMessage", "ok").inc()
    families = [*metrics.registry.collect(), *database_families(facts)]
    return {sample.name for family in families for sample in family.samples}


def test_the_self_rules_match_the_golden_file() -> None:
    """The default rule file is the golden one the promtool unit tests exercise."""
    text = rules_yaml(self_rules())
    if os.environ.get("FIREBELL_UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_every_self_alert_is_marked_graded_and_explained_but_names_no_service() -> None:
    """firebell_self routes it to firebell's operators; no `service` routes it into firebell."""
    found = alerts(self_rules())
    assert [rule["alert"] for rule in found] == [
        "FirebellDown",
        "FirebellAbsent",
        "FirebellDatabaseDown",
        "FirebellOutboxStuck",
        "FirebellDeadlinesLate",
        "FirebellDeliveriesFailing",
        "FirebellSlackApiFailing",
    ]
    for rule in found:
        labels = rule["labels"]
        assert labels[SELF_LABEL] == "true"
        assert (labels["firebell_severity"], labels["severity"]) in {
            ("P1", "critical"),
            ("P2", "warning"),
        }
        assert "service" not in labels
        assert set(rule["annotations"]) == {"summary", "description", "runbook"}
        assert rule["for"]


def test_the_self_rules_read_only_metrics_firebell_serves_and_only_its_job() -> None:
    """Every firebell_* series in an expression exists in bot/metrics.py; each selects the job."""
    served = exposed_names()
    for rule in alerts(self_rules(job="ops-firebell")):
        expr = rule["expr"]
        for name in re.findall(r"\b([a-z_]+)\{", expr):
            assert name in served or name in NOT_FIREBELLS, (rule["alert"], name)
        selectors = re.findall(r"\{([^}]*)\}", expr)
        assert selectors
        assert all(s.startswith('job="ops-firebell"') for s in selectors), expr


def test_a_job_name_is_escaped_and_windows_scale_but_thresholds_stay() -> None:
    """A quote in --job stays inside its label value; --window-scale 60 makes 10m 10s."""
    rules = {r["alert"]: r for r in alerts(self_rules(job='fire"bell', window_scale=60))}
    assert rules["FirebellDown"]["expr"] == 'up{job="fire\\"bell"} == 0'
    assert rules["FirebellDown"]["for"] == "2s"
    late = rules["FirebellDeadlinesLate"]["expr"]
    assert "[10s]" in late
    assert late.endswith("> 30")
    assert rules["FirebellOutboxStuck"]["expr"].endswith("> 300")


@pytest.mark.usefixtures("promtool")
def test_the_golden_self_rules_pass_promtool_check(tmp_path: Path) -> None:
    """Prometheus accepts the file, and a scaled one with an odd job name."""
    result = run(PROMTOOL, "check", "rules", GOLDEN)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 7 rules found" in result.stdout
    odd = tmp_path / "odd.yml"
    odd.write_text(rules_yaml(self_rules(job='fire"bell\\x', window_scale=7)), encoding="utf-8")
    result = run(PROMTOOL, "check", "rules", odd)
    assert result.returncode == 0, result.stdout + result.stderr


def test_self_rules_are_written_to_the_output_file_without_a_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--self -o FILE` writes the golden file and reads no config (none exists here)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FIREBELL_CONFIG", str(tmp_path / "missing.yaml"))
    out = tmp_path / "self.yml"
    assert status(["slo", "rules", "--self", "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == GOLDEN.read_text(encoding="utf-8")


def test_self_rules_go_to_stdout_for_the_named_job(capsys: pytest.CaptureFixture[str]) -> None:
    """`--self --job firebell-prod` prints rules selecting that job."""
    assert status(["slo", "rules", "--self", "--job", "firebell-prod"]) == 0
    text = capsys.readouterr().out
    exprs = [rule["expr"] for rule in alerts(yaml.safe_load(text))]
    assert exprs[0] == 'up{job="firebell-prod"} == 0'
    assert 'job="firebell"' not in text


def test_a_job_without_self_or_a_blank_job_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """--job alone says it goes with --self; --job '' says what to name; nothing is written."""
    out = tmp_path / "rules.yml"
    assert status(["slo", "rules", "--job", "firebell", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--job names firebell's own scrape job, so it goes with --self" in err
    assert status(["slo", "rules", "--self", "--job", " ", "-o", str(out)]) == 2
    assert "--job must name the scrape job of firebell's /metrics" in capsys.readouterr().err
    assert not out.exists()


def _documented_routes() -> str:
    """The Alertmanager config of docs/metrics.md's "Route them away from firebell"."""
    doc = METRICS_DOC.read_text(encoding="utf-8")
    section = doc.split("### Route them away from firebell", 1)[1]
    return section.split("```yaml\n", 1)[1].split("```", 1)[0]


def test_the_documented_route_sends_self_alerts_past_firebell(tmp_path: Path) -> None:
    """amtool: a firebell_self alert goes to firebell-operators, a service's to firebell."""
    if not AMTOOL.exists():
        reason = "amtool is not installed: apt-get install -y prometheus-alertmanager"
        if os.environ.get("FIREBELL_REQUIRE_ALERTMANAGER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    config = tmp_path / "alertmanager.yml"
    config.write_text(_documented_routes(), encoding="utf-8")

    def receiver(*labels: str) -> str:
        result = subprocess.run(  # noqa: S603 - a fixed binary, our own arguments
            [str(AMTOOL), "config", "routes", "test", f"--config.file={config}", *labels],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout.strip()

    for rule in alerts(self_rules()):
        labels = [f"alertname={rule['alert']}", *(f"{k}={v}" for k, v in rule["labels"].items())]
        assert receiver(*labels) == "firebell-operators"
    slo_alert = ("alertname=SloSuccessRateBurn1h", "service=checkout-assistant")
    assert receiver(*slo_alert, "firebell_severity=P1") == "firebell"
