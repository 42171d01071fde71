"""Counted phrases ("1 photo", "3 photos to upload"): the one way every sentence of counts is built."""

from __future__ import annotations

from fieldapp.types import Pending, counted, counted_parts


def test_counted_puts_the_noun_in_the_number_of_its_count() -> None:
    """One takes the singular, zero and many the plural; the words after the noun stay as given."""
    assert [counted(n, "photo", "to upload") for n in (0, 1, 2)] == [
        "0 photos to upload", "1 photo to upload", "2 photos to upload"]
    assert counted(1, "draft visit") == "1 draft visit"


def test_counted_parts_leave_out_the_zero_counts_and_keep_the_order() -> None:
    """Only the counts that are not zero are phrased, in the order given."""
    assert counted_parts((2, "item", "waiting to be sent"), (0, "photo", "to upload"), (1, "draft visit")) == [
        "2 items waiting to be sent", "1 draft visit"]
    assert counted_parts((0, "photo")) == []


def test_pending_names_its_queued_items_in_words() -> None:
    """What waits in the outbox, each kind counted apart; photos are not among them."""
    pending = Pending(visits=1, reviews=0, photos=4, bytes=0, reports=2, summaries=1)
    assert pending.queued_items() == ["1 visit", "2 hazard reports", "1 written summary record"]
