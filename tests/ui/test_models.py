"""Case list models, search and due-date wording."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from PySide6.QtCore import Qt

from fieldapp.types import CaseSummary, Photo, Problem, ProblemAction
from ui.format import Urgency, due_text
from ui.models import OVERDUE_COLOUR, CaseTableModel, PhotoListModel, ProblemTableModel, UrgencyRole

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


def row(n: int, *, due_days: float | None = 1.0, status: str = "open", priority: str = "routine",
        case_type: str = "repair", resident: str = "Amira Khan") -> CaseSummary:
    due = NOW + timedelta(days=due_days) if due_days is not None else None
    return CaseSummary(id=f"id{n}", reference=f"HC-{n:05d}", case_type=case_type, status=status, priority=priority,
                   summary="Black mould", address=f"{n} Mill Lane, Ashford", postcode="AB1 2XY",
                   resident_names=resident, opened_at=NOW - timedelta(days=3), due_at=due,
                   overdue=due is not None and due < NOW, has_warnings=n % 2 == 0)


def test_case_model_passes_qt_model_tester(qtmodeltester: Any) -> None:
    """The case table model keeps Qt's model rules through resets."""
    model = CaseTableModel()
    model.set_rows([row(n) for n in range(50)], NOW)
    qtmodeltester.check(model, force_py=True)
    model.set_rows([], NOW)
    qtmodeltester.check(model, force_py=True)


def test_photo_and_problem_models_pass_qt_model_tester(qtmodeltester: Any) -> None:
    """The photo grid and problems models keep Qt's model rules."""
    photos = PhotoListModel()
    photos.set_rows([Photo(f"p{n}", "v", "a" * 64, "image/jpeg", 1000, 10, 10, "", None, None, None, None, False)
                     for n in range(4)])
    qtmodeltester.check(photos, force_py=True)
    problems = ProblemTableModel()
    problems.set_rows([Problem("x", "conflict", "visit", "v1", "The portal has a newer version.",
                               (ProblemAction.RETRY,), NOW)])
    qtmodeltester.check(problems, force_py=True)


def test_overdue_is_red_and_says_how_late() -> None:
    """An overdue case shows 'Overdue N days' in red; one due tomorrow is amber."""
    model = CaseTableModel()
    model.set_rows([row(1, due_days=-3.0), row(2, due_days=1.0)], NOW)
    late = model.index(0, CaseTableModel.COL_DUE)
    assert late.data() == "Overdue 3 days"
    assert late.data(UrgencyRole) == Urgency.OVERDUE
    assert late.data(Qt.ItemDataRole.ForegroundRole).color() == OVERDUE_COLOUR
    assert model.index(1, CaseTableModel.COL_DUE).data(UrgencyRole) == Urgency.SOON


def test_due_text_wording() -> None:
    """Due dates read plainly."""
    assert due_text(NOW + timedelta(days=1), NOW) == ("Due tomorrow", Urgency.SOON)
    assert due_text(NOW - timedelta(days=1, hours=1), NOW) == ("Overdue 1 day", Urgency.OVERDUE)
    assert due_text(None, NOW)[1] == Urgency.NONE




def test_photo_grid_numbers_each_photo_as_the_photo_questions_do(qtbot: Any) -> None:
    """Under its thumbnail a photo reads "Photo 2: ..." as a photo question's tick list names it, so the two match up."""
    from fieldapp.types import Question
    from ui.questions import PhotoQuestionWidget

    photos = [Photo(f"p{n}", "v", "a" * 64, "image/jpeg", 1000, 10, 10, caption, None, None, None, None, False)
              for n, caption in enumerate(("", "Bathroom ceiling", ""))]
    grid = PhotoListModel()
    grid.set_rows(photos)
    question = PhotoQuestionWidget(Question("room_photos", "Photos of this room", "photo"))
    qtbot.addWidget(question)
    question.set_photos(photos)
    for number in range(3):
        ticked = question.list.item(number).text()
        assert grid.index(number).data().split("\n")[0] == ticked
    assert grid.index(1).data() == "Photo 2: Bathroom ceiling"
