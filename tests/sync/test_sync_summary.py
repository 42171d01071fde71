"""The sentence a sync ends with: its counts, each in the right number, and what to do next."""

from __future__ import annotations

from sync.engine import _summary, _Tally


def test_the_summary_counts_in_the_right_number_and_points_to_problems() -> None:
    """Singular counts read as singular; conflicts, refusals and failed photos appear only when there are some."""
    tally = _Tally(pulled=1, blobs_uploaded=2, applied=1, conflicts=1, rejected=2, blob_failures=["a"])
    assert _summary(tally, cancelled=False, left=1) == (
        "1 change received, 2 photos uploaded, 1 item accepted, 1 conflict, 2 items rejected, 1 photo failed. "
        "1 item still waiting to be sent. See Needs attention for what to do.")
    assert _summary(_Tally(pulled=3), cancelled=False, left=0) == "3 changes received."
    assert _summary(_Tally(), cancelled=False, left=0) == "Nothing new to send or receive."
    # Items left unsent (refused, or their photos failed): not "nothing new to send" beside them.
    assert _summary(_Tally(), cancelled=False, left=2) == "Nothing new received. 2 items still waiting to be sent."


def test_a_cancelled_summary_says_that_nothing_unsent_is_lost() -> None:
    """A cancelled sync says what it did and that everything not sent stays queued."""
    assert _summary(_Tally(pulled=2), cancelled=True, left=5) == (
        "Sync cancelled; 2 changes received. Everything not sent stays queued.")
