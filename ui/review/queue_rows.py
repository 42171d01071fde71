"""The review queue's rules, in plain Python: default order, filters and display text.

Kept free of Qt so the ordering and filtering rules are tested (and reused by the
table model) without a widget, and stay instant over thousands of rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

from fieldapp.review import queue_order
from fieldapp.types import ReviewItem
from ui.hazard_text import summary_text


@dataclass(frozen=True)
class QueueFilter:
    """What the lead narrowed the queue to; the default shows everything."""

    officer_id: str | None = None
    outcome: str | None = None
    category_1_only: bool = False
    text: str = ""

    def matches(self, item: ReviewItem) -> bool:
        """Whether ``item`` passes every criterion of this filter."""
        if self.officer_id is not None and item.officer_id != self.officer_id:
            return False
        if self.outcome is not None and item.outcome != self.outcome:
            return False
        if self.category_1_only and not item.category_1:
            return False
        needle = self.text.strip().casefold()
        return not needle or needle in search_text(item)


def search_text(item: ReviewItem) -> str:
    """Everything the free-text filter looks through, folded for caseless matching."""
    parts = [item.case_reference, item.address, item.officer_name, item.outcome or ""]
    parts.extend(h.hazard for h in item.hazards)
    return " ".join(parts).casefold()


def _aware(moment: datetime) -> datetime:
    """Treat a naive timestamp as UTC so naive and aware values compare."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def default_order(items: Iterable[ReviewItem]) -> list[ReviewItem]:
    """The nearest statutory clock first, then Category 1 hazards, then the visits waiting longest."""
    return queue_order(items)


def age_text(since: datetime, now: datetime) -> str:
    """How long something has waited, in the largest unit that reads naturally."""
    seconds = max(0, int((_aware(now) - _aware(since)).total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


def age_seconds(since: datetime, now: datetime) -> int:
    """Whole seconds waited, for sorting the age column."""
    return max(0, int((_aware(now) - _aware(since)).total_seconds()))


def hazards_text(item: ReviewItem) -> str:
    """The hazards of a queue row, Category 1 first and marked (`ui.hazard_text.summary_text`)."""
    return summary_text(item.hazards)
