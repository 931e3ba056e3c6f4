"""`/incident slo <service>`: a service's SLIs now against its agreed targets, live from
Prometheus (read within `bot.slo.status.BUDGET`, so the answer is in time for Slack)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.config.source import did_you_mean
from bot.core.escaping import escape
from bot.incidents.errors import UserError
from bot.slack.invocation import Invocation, UsageError
from bot.slo.status import read_status
from bot.slo.status_render import status_answer, targets


async def slo(call: Invocation) -> str:
    """The live status; without `prometheus_url` (or an `slo` block) what to configure."""
    config = call.runtime.config
    service = call.text.strip()
    if not service:
        raise UsageError(f"Name a service: {_known(call)}.")
    if service not in config.services:
        hint = did_you_mean(service, config.services).removeprefix("; ")
        hint = f" {hint[0].upper()}{hint[1:]}" if hint else ""
        raise UserError(
            f"There is no service `{escape(service)}`.{escape(hint)} Known services: "
            f"{_known(call)}."
        )
    agreed = config.services[service].slo
    if agreed is None:
        return (
            f"`{escape(service)}` has no agreed targets yet. Add an `slo` block under "
            f"`services.{escape(service)}` in the config, e.g. "
            "`slo: {success_rate: 99.5%, latency_p95: 3s}` (docs/slo.md), then restart firebell."
        )
    if config.prometheus_url is None:
        return (
            f"*SLO of {escape(service)}*: agreed {targets(agreed)}.\n"
            "Live values need a Prometheus: set `prometheus_url` in the config "
            "(e.g. `prometheus_url: http://127.0.0.1:9090`), then restart firebell."
        )
    status = await read_status(config, service, now=datetime.now(UTC))
    assert status is not None  # noqa: S101 - prometheus_url and the slo block are set
    return status_answer(status, agreed)


def _known(call: Invocation) -> str:
    services = call.runtime.config.services
    return ", ".join(f"`{escape(name)}`" for name in sorted(services)) or "none"
