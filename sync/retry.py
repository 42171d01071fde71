"""When and how long to wait before trying a request again.

Only failures that may pass on their own are retried: network errors, 5xx and 429.
Waits grow exponentially with *full jitter* (a random wait between 0 and the
exponential ceiling), so that a hundred laptops coming back online after an outage
do not hammer the portal in lock-step. A ``Retry-After`` from the portal is honoured,
up to a cap: if the portal asks for a longer wait than the cap, waiting inside one
sync would look like a hang, so the caller gives up with a message instead.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime


@dataclass(frozen=True)
class RetryPolicy:
    """How many attempts a request gets and how long to wait between them."""

    attempts: int = 5                 # total tries of one request, the first included
    base_delay: float = 0.5           # seconds: the ceiling of the first wait
    max_delay: float = 20.0           # seconds: the ceiling of any computed wait
    max_retry_after: float = 60.0     # seconds: the longest Retry-After we sit through
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def backoff(self, retry_number: int) -> float:
        """Full-jitter wait before retry ``retry_number`` (1 for the first retry)."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** max(0, retry_number - 1)))
        return self.rng.uniform(0.0, ceiling)

    def delay(self, retry_number: int, retry_after: float | None) -> float:
        """The wait before a retry: the portal's Retry-After when given, else the backoff."""
        if retry_after is not None:
            # A little jitter on top spreads clients that were told the same instant.
            return min(retry_after, self.max_retry_after) + self.rng.uniform(0.0, min(1.0, self.base_delay))
        return self.backoff(retry_number)


def is_retryable_status(status: int) -> bool:
    """5xx and 429 mean "try again later"; any other 4xx will fail the same way again."""
    return status == 429 or 500 <= status <= 599


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (when - now).total_seconds())
