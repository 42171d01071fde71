"""The team lead's review screens: the queue, one visit, and approve/return decisions."""

from ui.review.widget import ReviewWidget

__all__ = ["ReviewWidget"]
