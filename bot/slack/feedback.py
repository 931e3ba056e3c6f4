"""`/incident feedback <service>`: a service's failure cases of the last week."""

from __future__ import annotations

from datetime import timedelta

from bot.config.source import did_you_mean
from bot.core.escaping import escape
from bot.feedback.cases import summarise
from bot.feedback.render import slack_feedback
from bot.incidents.errors import UserError
from bot.slack.invocation import Invocation, UsageError

DAYS = 7
EXAMPLES = 10


async def feedback(call: Invocation) -> str:
    """The counts by kind over the last `DAYS` days and the newest `EXAMPLES` cases."""
    services = call.runtime.config.services
    service = call.text.strip()
    if not service:
        raise UsageError(f"Name a service: {_known(call)}.")
    if service not in services:
        hint = did_you_mean(service, services).removeprefix("; ")
        hint = f" {hint[0].upper()}{hint[1:]}" if hint else ""
        raise UserError(
            f"There is no service `{escape(service)}`.{escape(hint)} Known services: "
            f"{_known(call)}."
        )
    summary = await call.runtime.run(
        summarise, over=timedelta(days=DAYS), service=service, examples=EXAMPLES
    )
    return slack_feedback(service, summary, days=DAYS)


def _known(call: Invocation) -> str:
    return ", ".join(f"`{escape(name)}`" for name in sorted(call.runtime.config.services)) or "none"
