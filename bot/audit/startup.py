"""What the audit trail does when firebell starts: record the config it loaded (with
its hash: firebell has no live reload, so each start's record says which config ran
from then on), log the chain's head and keep the daily prune planned."""

from __future__ import annotations

import hashlib
import json
import logging

from sqlmodel import Session

from bot.audit.prune import schedule_pruning
from bot.audit.records import chain_ends
from bot.audit.trail import audit
from bot.config.model import Config
from bot.store.db import db_now

log = logging.getLogger(__name__)


def config_hash(config: Config) -> str:
    """sha256 (hex) of the config as firebell read it (canonical JSON: the same config
    hashes the same however its YAML is laid out; secrets are not in it)."""
    dumped = config.model_dump(mode="json")
    canonical = json.dumps(dumped, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def audit_start(session: Session, config: Config, instance: str) -> int:
    """Record the config `instance` loaded and plan the prune; return the rows planned.

    The chain's head is logged too: a log kept by another system is a copy of it out of
    reach of whoever can write the database (and recompute the unkeyed chain).
    """
    head = chain_ends(session).head
    log.info("audit trail head at start: seq %d, hash %s", head.seq, head.hash or "(none)")
    audit(
        session,
        at=db_now(session),
        actor="firebell",
        action="config.loaded",
        object="config",
        source="terminal",
        detail={"hash": config_hash(config), "instance": instance},
    )
    return schedule_pruning(session, config)
