"""Progress of a sync: frozen snapshots, delivered at a bounded rate.

A progress callback usually crosses into the GUI thread; a flood of updates (one per
pulled page or per chunk) would keep the window busy repainting, so updates are
throttled to about ten a second, except phase changes and the final one, which
always go through.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

PHASES = ("pull", "upload", "push", "done")


@dataclass(frozen=True)
class SyncProgress:
    """Where a running sync stands."""

    phase: str            # "pull" | "upload" | "push" | "done"
    done: int = 0         # changes pulled / blobs uploaded / ops pushed in this phase
    total: int = 0        # 0 when unknown (pulling: the portal does not say how many are left)
    bytes_done: int = 0
    bytes_total: int = 0
    message: str = ""


class ProgressReporter:
    """Keeps the latest progress and forwards it to a callback, throttled."""

    def __init__(self, callback: Callable[[SyncProgress], None] | None, min_interval: float = 0.1,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._callback = callback
        self._min_interval = min_interval
        self._clock = clock
        self._last_sent = float("-inf")
        self.current = SyncProgress(phase="pull")
        self._sent_phase: str | None = None

    def phase(self, phase: str, *, total: int = 0, bytes_total: int = 0, message: str = "") -> None:
        """Start a phase (always reported)."""
        self.current = SyncProgress(phase=phase, total=total, bytes_total=bytes_total, message=message)
        self._emit(force=True)

    def update(self, *, done: int | None = None, total: int | None = None, bytes_done: int | None = None,
               bytes_total: int | None = None, message: str | None = None, force: bool = False) -> None:
        """Change counters of the current phase (reported if enough time passed)."""
        changes: dict[str, Any] = {k: v for k, v in (("done", done), ("total", total), ("bytes_done", bytes_done),
                                     ("bytes_total", bytes_total), ("message", message)) if v is not None}
        self.current = replace(self.current, **changes)
        self._emit(force=force)

    def _emit(self, force: bool) -> None:
        if self._callback is None:
            return
        now = self._clock()
        if not force and self.current.phase == self._sent_phase and now - self._last_sent < self._min_interval:
            return
        self._last_sent = now
        self._sent_phase = self.current.phase
        self._callback(self.current)
