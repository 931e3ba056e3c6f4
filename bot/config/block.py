"""The base of every config block: unknown keys refused, values frozen."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Block(BaseModel):
    """A block of the config file."""

    model_config = ConfigDict(extra="forbid", frozen=True)
