"""The review queue's order: one rule for the laptop's queue and the portal's web queue."""

from __future__ import annotations

from typing import Any

from fieldapp.clocks import clock_order
from fieldapp.types import Clock


def review_key(clock: Clock | None, category_1: bool, received: Any, reference: str) -> tuple[Any, ...]:
    """Nearest unmet statutory clock first (Awaab's Law deadlines outrank everything), then Category 1,
    then the visit waiting longest (``received``: any value that sorts by arrival), then the case reference."""
    return (*clock_order(clock), not category_1, received, reference)
