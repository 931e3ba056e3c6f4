"""Garbage-collector pauses: keep them short, and measure them.

A full collection walks every object the process holds, and everything in a firebell
process shares one event loop: while the collector runs, no deadline fires and no
request is answered. Most of those objects are the imported libraries and the loaded
config, which live as long as the process. `settle()` moves them out of the
collector's sight once start-up is done (`gc.freeze`), so a full collection walks
only what the process made since. `GcWatch` times every collection, for `/metrics`
and a warning when one stalls the loop.
"""

from __future__ import annotations

import gc
import logging
import time
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)
SLOW_PAUSE = 0.05  # seconds: a collection this long is logged


def settle() -> int:
    """After start-up: collect once, then exempt every surviving object from future
    collections. Returns how many objects were frozen."""
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.info("start-up objects kept out of garbage collection: %d", frozen)
    return frozen


@dataclass
class GcWatch:
    """Times the collector's runs, per generation (0, 1, 2)."""

    collections: list[int] = field(default_factory=lambda: [0, 0, 0])
    total: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    longest: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    _started: float | None = None

    def install(self) -> GcWatch:
        """Start timing collections (idempotent)."""
        if self._callback not in gc.callbacks:
            gc.callbacks.append(self._callback)
        return self

    def uninstall(self) -> None:
        """Stop timing collections."""
        if self._callback in gc.callbacks:
            gc.callbacks.remove(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        if self._started is None:
            return
        pause = time.perf_counter() - self._started
        self._started = None
        generation = int(info.get("generation", 2))
        self.collections[generation] += 1
        self.total[generation] += pause
        self.longest[generation] = max(self.longest[generation], pause)
        if pause >= SLOW_PAUSE:
            log.warning(
                "garbage collection of generation %d stalled the process for %.0f ms "
                "(%d objects collected)",
                generation,
                pause * 1000,
                info.get("collected", 0),
            )

    def metrics(self) -> list[str]:
        """Prometheus text lines."""
        lines = [
            "# HELP firebell_gc_pause_seconds Time the garbage collector stopped the process.",
            "# TYPE firebell_gc_pause_seconds summary",
        ]
        for generation in range(3):
            label = f'{{generation="{generation}"}}'
            lines += [
                f"firebell_gc_pause_seconds_count{label} {self.collections[generation]}",
                f"firebell_gc_pause_seconds_sum{label} {self.total[generation]:.6f}",
            ]
        lines += [
            "# HELP firebell_gc_pause_seconds_max The longest such pause since start.",
            "# TYPE firebell_gc_pause_seconds_max gauge",
            *(
                f'firebell_gc_pause_seconds_max{{generation="{g}"}} {self.longest[g]:.6f}'
                for g in range(3)
            ),
        ]
        return lines
