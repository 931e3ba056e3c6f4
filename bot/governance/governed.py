"""The governed part of a service's config, and its hash: what a sign-off approves.

A sign-off covers the service's `slo`, `classification` and `rollback` and its area's
RACI row. The hash is sha256 over canonical JSON (sorted keys, no spaces), so the same
values always hash alike however the YAML was written, and any change to one of them
makes earlier sign-offs stale.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from bot.config.model import Config


def governed(config: Config, service: str) -> dict[str, Any]:
    """The values a sign-off of `service` approves, as plain JSON values."""
    settings = config.services[service]
    area = config.areas.get(settings.area)
    return {
        "slo": None if settings.slo is None else settings.slo.model_dump(mode="json"),
        "classification": settings.classification,
        "rollback": None
        if settings.rollback is None
        else settings.rollback.model_dump(mode="json"),
        "area": settings.area,
        "raci": None if area is None else area.model_dump(mode="json"),
    }


def governed_hash(config: Config, service: str) -> str:
    """sha256 (hex) of `governed(config, service)` as canonical JSON."""
    canonical = json.dumps(governed(config, service), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
