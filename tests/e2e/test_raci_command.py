"""`/incident raci [area|service]` through signed HTTP: the seed's RACI matrix with who
is on call now."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.config.model import Config
from bot.core.oncall import on_call
from tests.e2e.scenario import SERVICE
from tests.harness import Firebell


def sections(response: Any) -> list[str]:
    """The texts of the answer's sections."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["response_type"] == "ephemeral"
    return [b["text"]["text"] for b in body["blocks"] if b["type"] == "section"]


def test_raci_lists_every_area_with_who_is_on_call_now(firebell: Firebell, config: Config) -> None:
    """Without an argument: one section per area, in config order, with R, A, C, I, what
    it covers, and the ML team's on-call person now."""
    shown = sections(firebell.slack.command("raci"))
    assert len(shown) == len(config.areas)
    model = shown[0]
    assert model.startswith("*Model/Prompt* (`model`) · Covers: Accuracy, Quality")
    oncall = on_call(config.teams["ml"], datetime.now(UTC))
    assert f"*Responsible:* ML Team (on call now: <@{oncall}>)" in model
    assert "*Accountable:* <@U01MLLEAD>" in model
    assert "*Consulted:* Data Team (<@U01DA1>)" in model
    assert "*Informed:* Product Team (<@U01PR1>)" in model
    assert f"*Services:* `{SERVICE}`" in model
    assert "*Consulted:* ML Team (on call now:" in shown[1]


def test_raci_of_an_area_or_a_service_shows_its_row(firebell: Firebell) -> None:
    """`raci infra` shows Infra/Deploy only; `raci <service>` its area and says so."""
    [infra] = sections(firebell.slack.command("raci infra"))
    assert infra.startswith("*Infra/Deploy* (`infra`)")
    response = firebell.slack.command(f"raci {SERVICE}")
    [model] = sections(response)
    assert model.startswith("*Model/Prompt*")
    assert f"`{SERVICE}` is in area `model`." in response.text


def test_raci_of_an_unknown_name_lists_the_choices(firebell: Firebell) -> None:
    """`raci <!channel>` is refused, escaped, naming the areas and services."""
    body = firebell.slack.command("raci <!channel>").json()
    assert "`&lt;!channel&gt;` is neither an area nor a service" in body["text"]
    assert "`model`, `infra`, `data`, `ux`, `policy`" in body["text"]
    assert f"Services: `{SERVICE}`" in body["text"]
