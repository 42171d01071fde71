"""The marks model: what may be drawn on a photo, the sizes that follow the photo, and undo/redo."""

from __future__ import annotations

import pytest

from fieldapp.errors import ValidationError
from fieldapp.photos_marks import (
    MAX_MARKS,
    TEXT_MAX_CHARS,
    Mark,
    MarkHistory,
    MarkKind,
    MarkStyle,
    arrow_geometry,
    mark_bounds,
    validate_marks,
)

ARROW = Mark(MarkKind.ARROW, ((10, 10), (90, 10)))


def test_valid_marks_of_every_kind_pass() -> None:
    """An arrow, an ellipse, a freehand line and a text inside the photo are accepted."""
    validate_marks([ARROW, Mark(MarkKind.ELLIPSE, ((0, 0), (100, 50)), "yellow"),
                    Mark(MarkKind.FREEHAND, ((1, 1), (2, 2), (3, 1)), "blue"),
                    Mark(MarkKind.TEXT, ((5, 5),), "white", "mould")], 100, 50)


@pytest.mark.parametrize("mark, fragment", [
    (Mark(MarkKind.ARROW, ((10, 10), (120, 10))), "outside the 100 x 50 photo"),
    (Mark(MarkKind.ARROW, ((10, 10),)), "needs 2 point"),
    (Mark(MarkKind.ARROW, ((10, 10), (10, 10))), "drag further"),
    (Mark(MarkKind.ELLIPSE, ((0, 0), (float("nan"), 5))), "outside"),
    (Mark(MarkKind.FREEHAND, ((1, 1),)), "a line needs 2"),
    (Mark(MarkKind.TEXT, ((5, 5),), "red", "   "), "text is empty"),
    (Mark(MarkKind.TEXT, ((5, 5),), "red", "x" * (TEXT_MAX_CHARS + 1)), f"keep it to {TEXT_MAX_CHARS}"),
    (Mark(MarkKind.TEXT, ((5, 5),), "red", "two\nlines"), "one line"),
    (Mark(MarkKind.ARROW, ((10, 10), (20, 10)), "pink"), "not one of the colours"),
])
def test_bad_marks_are_refused_with_what_to_change(mark: Mark, fragment: str) -> None:
    """Each broken mark is refused with a sentence naming the mark and the fix."""
    with pytest.raises(ValidationError, match="Mark 2") as caught:
        validate_marks([ARROW, mark], 100, 50)
    assert fragment in str(caught.value)


def test_nothing_drawn_and_too_many_marks_are_refused() -> None:
    """Saving with no mark, or past the limit, says what to do."""
    with pytest.raises(ValidationError, match="at least one mark"):
        validate_marks([], 100, 50)
    with pytest.raises(ValidationError, match=f"at most {MAX_MARKS}"):
        validate_marks([ARROW] * (MAX_MARKS + 1), 100, 50)


def test_style_follows_the_photo_size() -> None:
    """Strokes are 0.6% of the long edge (15 px on a 2560 px photo), never thinner than 3 px."""
    big, small = MarkStyle.for_image(2560, 1920), MarkStyle.for_image(120, 80)
    assert big.stroke == pytest.approx(15.4, abs=0.1) and small.stroke == 3
    assert big.halo > 2 and big.font_px == 77 and small.font_px == 14


def test_arrow_head_points_at_the_head_and_shaft_stops_inside_it() -> None:
    """The head's tip is the arrow's head point and the shaft ends between tail and tip."""
    style = MarkStyle.for_image(1000, 1000)
    shaft_end, (tip, left, right) = arrow_geometry((0, 0), (100, 0), style)
    assert tip == (100, 0) and 0 < shaft_end[0] < 100 and shaft_end[1] == 0
    assert left[0] == right[0] < shaft_end[0] and left[1] == -right[1] != 0
    x0, y0, x1, y1 = mark_bounds(Mark(MarkKind.ARROW, ((0, 0), (100, 0))), style)
    assert x0 < 0 and x1 > 100 and y0 < min(left[1], right[1]) and y1 > max(left[1], right[1])


def test_history_undo_redo_and_a_new_step_drops_the_redo() -> None:
    """Undo takes a step back, redo forward; drawing after an undo forgets what was undone."""
    history = MarkHistory()
    second = Mark(MarkKind.ELLIPSE, ((0, 0), (5, 5)))
    history.add(ARROW)
    history.add(second)
    history.undo()
    assert history.marks == (ARROW,) and history.can_redo
    history.redo()
    assert history.marks == (ARROW, second)
    history.remove(0)
    assert history.marks == (second,)
    history.undo()
    history.undo()
    history.add(second)
    assert history.marks == (ARROW, second) and not history.can_redo


def test_moves_of_one_mark_in_a_row_are_one_undo_step() -> None:
    """Nudging a mark with the arrow keys five times is undone by one Undo."""
    history = MarkHistory()
    history.add(ARROW)
    for _ in range(5):
        history.move(0, 2, 0)
    assert history.marks[0].points == ((20, 10), (100, 10))
    history.undo()
    assert history.marks == (ARROW,)
    history.undo()
    assert history.marks == () and not history.can_undo


def test_marks_round_trip_as_data_and_damaged_data_is_refused() -> None:
    """Kept marks read back equal; something else is a ValueError, never a crash later."""
    from fieldapp.photos_marks import marks_from_data, marks_to_data

    marks = (ARROW, Mark(MarkKind.TEXT, ((5, 5),), "white", "mould"))
    assert marks_from_data(marks_to_data(marks)) == marks
    for bad in ({"kind": "arrow"}, [{"kind": "spiral", "points": []}], [{"points": [[1, 2]]}], [{"kind": "text", "points": [1]}]):
        with pytest.raises(ValueError):
            marks_from_data(bad)


def test_a_resumed_history_undoes_to_nothing() -> None:
    """Marks brought back from a crash are one step: Undo clears them, Redo returns them."""
    history = MarkHistory.resumed((ARROW,))
    assert history.marks == (ARROW,) and history.can_undo
    history.undo()
    assert history.marks == ()
    history.redo()
    assert history.marks == (ARROW,)
    assert MarkHistory.resumed(()).marks == () and not MarkHistory.resumed(()).can_undo
