"""`/incident feedback <service>`: a service's failure cases of the last week (counts
only for a `confidential` or `pii` service: its cases' text is never read here)."""

from __future__ import annotations

from datetime import timedelta

from bot.config.source import did_you_mean
from bot.core.escaping import escape
from bot.core.visibility import RESTRICTED_CLASSES
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
    classification = services[service].classification
    hidden_as = classification if classification in RESTRICTED_CLASSES else None
    examples = 0 if hidden_as else EXAMPLES
    summary = await call.runtime.run(
        summarise, over=timedelta(days=DAYS), service=service, examples=examples
    )
    return slack_feedback(service, summary, days=DAYS, hidden_as=hidden_as)


def _known(call: Invocation) -> str:
    return ", ".join(f"`{escape(name)}`" for name in sorted(call.runtime.config.services)) or "none"
