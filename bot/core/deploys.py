"""Deploy history and the rollback target: plain data in, plain data out.

A service's history in one environment is its deploys, oldest first. The current
version is the newest deploy's. The rollback target is the version deployed before it,
skipping:

- the current version itself (a redeploy of `v2` over `v2` does not make `v2` its own
  target; the version before the first of them is);
- versions that were rolled back from: a deploy of `X` is rolled back from when a
  later deploy carried out a rollback whose `from_version` was `X`. Going back to it
  would bring back what a rollback already took away. A version deployed again after
  its rollback (fixed, and shipped under the same name) counts again, because the
  check looks only at rollbacks later than that deploy.

So a rollback of a rollback goes further back, never forward: after `v1, v2, v3` and a
rollback from `v3` to `v2`, the target is `v1`; after a second rollback from `v2` to
`v1`, there is no target. Moving forward again is a deploy, not a rollback.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from bot.config.model import Config

DEFAULT_ENVIRONMENT = "production"


@dataclass(frozen=True)
class DeployFact:
    """One deploy of a history: its version, when, and the `from_version` of the
    rollback it carried out (None when it is not a rollback's deploy)."""

    version: str
    at: datetime
    rolled_back_from: str | None = None


class Target(NamedTuple):
    """The current version and the rollback target; None when there is none."""

    current: str | None
    target: str | None


def rollback_target(history: Sequence[DeployFact]) -> Target:
    """The current version and the version a rollback would go back to.

    `history` is one service's deploys in one environment, oldest first. No deploys:
    neither is known. One deploy (or only redeploys of one version): no target.
    """
    if not history:
        return Target(None, None)
    current = history[-1].version
    rolled_back: set[str] = set()
    for deploy in reversed(history):
        # A rollback's deploy rules out its `from_version` for every deploy before it.
        if deploy.version != current and deploy.version not in rolled_back:
            return Target(current, deploy.version)
        if deploy.rolled_back_from is not None:
            rolled_back.add(deploy.rolled_back_from)
    return Target(current, None)


def environment_of(config: Config, service: str) -> str:
    """The environment a service's deploys go to unless told, and the one its incidents
    show: the environment its rollback acts on (`production` without one)."""
    settings = config.services.get(service)
    if settings is not None and settings.rollback is not None:
        return settings.rollback.environment
    return DEFAULT_ENVIRONMENT
