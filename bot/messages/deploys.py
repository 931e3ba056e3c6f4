"""Wording of deploys: `/incident deploys` and the main message's version line.

Pure functions of stored facts; what a pipeline reported (versions, actors, links) is
escaped here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.core.deploys import Target
from bot.core.escaping import escape
from bot.messages.words import when
from bot.store.tables import Deploy

SHOWN = 10  # deploys listed per environment


def version_line(service: str, environment: str, target: Target) -> str | None:
    """`checkout-assistant production: v42 (rollback target v41)`; None before the
    first deploy."""
    if target.current is None:
        return None
    then = (
        f" (rollback target {escape(target.target)})"
        if target.target
        else " (no earlier version to roll back to)"
    )
    return f"{escape(service)} {escape(environment)}: {escape(target.current)}{then}"


def deploy_line(deploy: Deploy) -> str:
    """`v42 · <date> · by alice · <url|link> (rollback)`."""
    parts = [f"*{escape(deploy.version)}*", when(deploy.at)]
    if deploy.actor:
        parts.append(f"by {escape(deploy.actor)}")
    if deploy.url:
        parts.append(f"<{escape(deploy.url)}|link>")
    line = " · ".join(parts)
    return line + (" (rollback)" if deploy.rollback_id is not None else "")


def deploy_list(
    service: str,
    deploys: Mapping[str, Sequence[Deploy]],
    targets: Mapping[str, Target],
) -> str:
    """`/incident deploys`: per environment, its current version and rollback target
    and its last ten deploys, newest first. `deploys` are oldest first."""
    if not deploys:
        return f"No deploys of {escape(service)} have been reported yet."
    sections = []
    for environment, history in deploys.items():
        target = targets[environment]
        heading = version_line(service, environment, target) or escape(environment)
        newest = list(reversed(history))[:SHOWN]
        shown = "\n".join(f"• {deploy_line(deploy)}" for deploy in newest)
        more = f"\n_and {len(history) - SHOWN} earlier_" if len(history) > SHOWN else ""
        sections.append(f"*{heading}*\n{shown}{more}")
    return "\n\n".join(sections)
