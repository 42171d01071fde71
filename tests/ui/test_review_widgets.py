"""UI tests of the lead's review screens (pytest-qt, offscreen), over a store double.

The store double implements the `FieldStore` review methods the screens call, so these
tests pin the screens' behaviour; tests/e2e/test_review*.py run the same screens over
the real store, sync engine and portal.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
import uuid
from datetime import datetime, timedelta, timezone
from html import escape
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QMessageBox  # noqa: E402

from factory import loaded_review_page  # noqa: E402
from fieldapp.domain import Decision  # noqa: E402
from fieldapp.errors import ValidationError  # noqa: E402
from fieldapp.types import (  # noqa: E402
    Hazard,
    Photo,
    Problem,
    ProblemAction,
    Question,
    Review,
    ReviewItem,
    Section,
    Template,
    Visit,
    VisitChanges,
    VisitState,
)
from ui.review import ReviewWidget  # noqa: E402
from ui.review.decide_dialog import DecideDialog  # noqa: E402
from ui.review.queue_model import COL_AGE, COL_PHOTOS, ReviewQueueTableModel  # noqa: E402
from ui.review.queue_rows import QueueFilter, default_order  # noqa: E402
from ui.tasks import TaskManager  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


def jpeg_bytes(width: int = 1600, height: int = 1200, hue: int = 0) -> bytes:
    """A real JPEG with some structure (so thumbnails are visibly pictures)."""
    image = Image.new("RGB", (width, height), (90 + hue % 100, 120, 160))
    draw = ImageDraw.Draw(image)
    for n in range(0, width, 80):
        draw.rectangle((n, height // 3, n + 40, height // 3 + 200), fill=(40, 60 + n % 150, 30))
    draw.ellipse((width // 3, height // 2, width // 3 + 300, height // 2 + 300), fill=(30, 30, 30))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


TEMPLATE = Template(
    id="tpl-damp", name="Damp and mould inspection", version=1, case_types=("damp_mould",),
    sections=(
        Section("s1", "Conditions", (
            Question("q_mould", "Is there visible mould?", "yes_no", required=True),
            Question("q_rooms", "Which rooms are affected?", "multi_choice", options=("Bathroom", "Bedroom", "Kitchen")),
            Question("q_rating", "Ventilation (1 poor – 5 good)", "rating"),
        )),
        Section("s2", "Evidence", (
            Question("q_photos", "Photos of the affected areas", "photo"),
            Question("q_notes", "Cause noted by the officer", "text"),
        )),
    ))


def item(n: int, *, officer: str = "o1", cat1: bool = False, age_days: float = 1.0, outcome: str = "completed",
         photos: int = 0, ref: str | None = None) -> ReviewItem:
    """A queue row; ``age_days`` is how long it has waited."""
    hazards = (Hazard("Damp and mould growth", "B" if cat1 else "E"),) if cat1 or n % 2 else ()
    return ReviewItem(
        visit_id=f"v{n}", case_id=f"c{n}", case_reference=ref or f"DM-{1000 + n}", address=f"{n} Mill Lane, Leeds",
        officer_id=officer, officer_name={"o1": "Asha Patel", "o2": "Ben Okafor"}.get(officer, officer),
        started_at=NOW - timedelta(days=age_days + 0.2), received_at=NOW - timedelta(days=age_days),
        outcome=outcome, hazards=hazards, photo_count=photos, category_1=cat1, resubmitted=False)


class BlobClientDouble:
    """Stands in for `PortalClient.download_blob`; records the thread and count of each download."""

    def __init__(self, blobs: dict[str, bytes]) -> None:
        self.blobs = blobs
        self.calls: list[str] = []
        self.threads: list[str] = []

    def download_blob(self, sha256: str) -> bytes:
        self.calls.append(sha256)
        self.threads.append(threading.current_thread().name)
        return self.blobs[sha256]


class ReviewStoreDouble:
    """The `FieldStore` review methods, in memory, with photo files under a real folder."""

    def __init__(self, folder: Path, items: list[ReviewItem], visits: dict[str, Visit],
                 changes: dict[str, VisitChanges] | None = None) -> None:
        self.folder = folder
        self.items = items
        self.visits = visits
        self.changes = changes or {}
        self.decisions: list[tuple[str, str, str]] = []
        self.review_problems: list[Problem] = []
        self.files: dict[str, Path] = {}
        self.threads: set[str] = set()

    def _touch(self) -> None:
        self.threads.add(threading.current_thread().name)

    def review_queue(self) -> list[ReviewItem]:
        self._touch()
        decided = {d[0] for d in self.decisions}
        return [i for i in self.items if i.visit_id not in decided]

    def problems(self) -> list[Problem]:
        self._touch()
        return list(self.review_problems)

    def visit(self, visit_id: str) -> Visit:
        self._touch()
        return self.visits[visit_id]

    def templates_for(self, case_id: str) -> list[Template]:
        self._touch()
        return [TEMPLATE]

    def visit_changes(self, visit_id: str) -> VisitChanges | None:
        self._touch()
        return self.changes.get(visit_id)

    def photo_file(self, sha256: str) -> Path | None:
        self._touch()
        return self.files.get(sha256)

    def save_blob(self, sha256: str, data: bytes) -> Path:
        self._touch()
        assert hashlib.sha256(data).hexdigest() == sha256
        path = self.folder / f"{sha256}.jpg"
        path.write_bytes(data)
        self.files[sha256] = path
        return path

    def decide(self, visit_id: str, decision: str, comment: str = "") -> None:
        self._touch()
        if decision == "return" and not comment.strip():
            raise ValidationError("A returned visit needs a comment for the officer.")
        self.decisions.append((visit_id, decision, comment))


def make_visit(visit_id: str, blobs: dict[str, bytes], *, returned_before: bool = False) -> Visit:
    """A submitted visit with answers, a Category 1 hazard and the given photos."""
    photos = tuple(
        Photo(id=f"p{n}", visit_id=visit_id, sha256=sha, content_type="image/jpeg", bytes=len(data),
              width=1600, height=1200, caption=("Bathroom ceiling", "Bedroom wall", "Window frame")[n % 3],
              question_id="q_photos", taken_at=None, path=None, thumbnail_path=None, uploaded=True)
        for n, (sha, data) in enumerate(blobs.items()))
    review = Review("return", "Please add a photo of the window frame.", "lead1", NOW - timedelta(days=2)) \
        if returned_before else None
    return Visit(
        id=visit_id, case_id="c1", officer_id="o1", template_id=TEMPLATE.id, template_version=1,
        started_at=NOW - timedelta(days=3), completed_at=NOW - timedelta(days=3), outcome="completed",
        answers={"q_mould": True, "q_rooms": ["Bathroom", "Bedroom"], "q_rating": 2,
                 "q_photos": [p.id for p in photos]},
        notes="Black mould above the bath and behind the wardrobe. Extractor fan not working.",
        hazards=(Hazard("Damp and mould growth", "B", "Bathroom", "Spreading to the bedroom"),
                 Hazard("Excess cold", "E", "Bedroom")),
        photos=photos, state=VisitState.SUBMITTED, server_version=2 if returned_before else 1,
        review=review, amends=None)


@pytest.fixture
def blobs() -> dict[str, bytes]:
    data = [jpeg_bytes(hue=n * 40) for n in range(3)]
    return {hashlib.sha256(d).hexdigest(): d for d in data}


@pytest.fixture
def store(tmp_path: Path, blobs: dict[str, bytes]) -> ReviewStoreDouble:
    items = [item(1, age_days=1, photos=3), item(2, officer="o2", cat1=True, age_days=0.5, photos=1),
             item(3, age_days=6, outcome="no_access"), item(4, officer="o2", age_days=3, outcome="refused", photos=2),
             item(5, officer="o2", cat1=True, age_days=2, photos=5, ref="DM-2040")]
    visits = {"v1": make_visit("v1", blobs, returned_before=True)}
    changes = {"v1": VisitChanges(answers_added=("q_rating",), answers_changed=("q_rooms",),
                                  answers_removed=("q_notes",), photos_added=("p2",), photos_removed=("old",),
                                  notes_changed=True, hazards_changed=False)}
    return ReviewStoreDouble(tmp_path, items, visits, changes)


@pytest.fixture
def client(blobs: dict[str, bytes]) -> BlobClientDouble:
    return BlobClientDouble(blobs)


@pytest.fixture
def widget(qtbot: Any, tasks: TaskManager, store: ReviewStoreDouble, client: BlobClientDouble) -> ReviewWidget:
    """A loaded review page, 1200×800."""
    return loaded_review_page(qtbot, store, client, timeout=5000)


def open_first_visit(qtbot: Any, page: ReviewWidget) -> None:
    """Open v1 and wait until every thumbnail has arrived."""
    target = next(i for i in page.queue.model.items() if i.visit_id == "v1")
    with qtbot.waitSignal(page.sig_visit_shown, timeout=5000):
        page.open_item(target)
    qtbot.waitUntil(lambda: page.visit_view.unseen_photos() == 0, timeout=10000)


def save_artifact(widget: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    assert widget.grab().save(str(path))
    return path


# ---------------------------------------------------------------------- queue


def test_queue_model_passes_qt_model_tester(qtmodeltester: Any, store: ReviewStoreDouble) -> None:
    """The queue's table model keeps Qt's model invariants, unfiltered, filtered and sorted."""
    model = ReviewQueueTableModel()
    model.set_rows(store.items, NOW)
    qtmodeltester.check(model)
    model.set_queue_filter(QueueFilter(category_1_only=True))
    model.sort(COL_PHOTOS, Qt.SortOrder.DescendingOrder)
    qtmodeltester.check(model)
    assert [i.visit_id for i in model.visible_items()] == ["v5", "v2"]


def test_default_order_puts_category_1_then_longest_waiting_first(widget: ReviewWidget) -> None:
    """Unsorted, the queue shows Category 1 visits first, each group oldest first."""
    shown = [i.visit_id for i in widget.queue.visible_items()]
    assert shown == ["v5", "v2", "v3", "v4", "v1"]
    assert [i.visit_id for i in default_order(reversed(widget.queue.model.items()))] == shown


def test_filters_narrow_the_queue(qtbot: Any, widget: ReviewWidget) -> None:
    """Officer, outcome, Category 1 and free text each narrow the rows, and combine."""
    queue = widget.queue
    queue.officer_combo.setCurrentIndex(queue.officer_combo.findText("Ben Okafor"))
    assert {i.officer_name for i in queue.visible_items()} == {"Ben Okafor"}
    queue.cat1_check.setChecked(True)
    assert [i.visit_id for i in queue.visible_items()] == ["v5", "v2"]
    qtbot.keyClicks(queue.search_edit, "dm-2040")
    assert [i.visit_id for i in queue.visible_items()] == ["v5"]
    assert queue.count_label.text() == "1 of 5"
    queue.search_edit.clear()
    queue.cat1_check.setChecked(False)
    queue.officer_combo.setCurrentIndex(0)
    queue.outcome_combo.setCurrentIndex(queue.outcome_combo.findData("no_access"))
    assert [i.visit_id for i in queue.visible_items()] == ["v3"]
    queue.search_edit.setText("no such place")
    assert queue.visible_items() == [] and queue.empty_label.isVisibleTo(queue)


def test_columns_sort_by_their_natural_values(widget: ReviewWidget) -> None:
    """Sorting by photo count orders numbers as numbers (5 above 3 above 1), both ways."""
    widget.queue.table.sortByColumn(COL_PHOTOS, Qt.SortOrder.DescendingOrder)
    assert [i.photo_count for i in widget.queue.visible_items()] == [5, 3, 2, 1, 0]
    widget.queue.table.sortByColumn(COL_PHOTOS, Qt.SortOrder.AscendingOrder)
    assert [i.photo_count for i in widget.queue.visible_items()] == [0, 1, 2, 3, 5]
    widget.queue.table.sortByColumn(COL_AGE, Qt.SortOrder.DescendingOrder)
    assert [i.visit_id for i in widget.queue.visible_items()] == ["v3", "v4", "v5", "v1", "v2"]
    widget.queue.cat1_check.setChecked(True)   # a filter keeps the lead's sort
    assert [i.visit_id for i in widget.queue.visible_items()] == ["v5", "v2"]


def test_enter_on_a_row_opens_the_visit(qtbot: Any, widget: ReviewWidget) -> None:
    """Keyboard use: arrow to a row and press Enter to open that visit."""
    table = widget.queue.table
    table.setFocus()
    table.setCurrentIndex(widget.queue.model.index(0, 0))
    qtbot.keyClick(table, Qt.Key.Key_Down)
    with qtbot.waitSignal(widget.queue.sig_open, timeout=2000) as blocker:
        qtbot.keyClick(table, Qt.Key.Key_Return)
    assert blocker.args[0].visit_id == "v2"


def test_store_is_only_read_off_the_gui_thread(widget: ReviewWidget, store: ReviewStoreDouble) -> None:
    """Every store call of the page ran on the task manager's database thread."""
    assert store.threads and all(name.startswith("fieldapp-db") for name in store.threads)


def test_queue_screenshot(widget: ReviewWidget) -> None:
    """The queue renders with its filters and rows (screenshot saved for a person to look at)."""
    path = save_artifact(widget, "review_queue.png")
    assert path.stat().st_size > 0


# ---------------------------------------------------------------------- one visit


def test_photos_download_off_thread_once_and_are_kept(qtbot: Any, widget: ReviewWidget,
                                                       client: BlobClientDouble, store: ReviewStoreDouble) -> None:
    """Opening a visit downloads each photo once on the network pool; reopening downloads nothing."""
    open_first_visit(qtbot, widget)
    assert sorted(client.calls) == sorted(store.visits["v1"].photos[i].sha256 for i in range(3))
    assert all(name.startswith("fieldapp-net") for name in client.threads)
    assert set(store.files) == set(client.calls)
    widget.show_queue()
    open_first_visit(qtbot, widget)
    assert len(client.calls) == 3


def test_thumbnail_signal_carries_a_scaled_image(qtbot: Any, widget: ReviewWidget) -> None:
    """A thumbnail arrives as a QImage scaled to the thumbnail edge."""
    target = next(i for i in widget.queue.model.items() if i.visit_id == "v1")
    with qtbot.waitSignal(widget.loader.sig_thumbnail, timeout=10000) as blocker:
        widget.open_item(target)
    image = blocker.args[1]
    assert not image.isNull() and max(image.width(), image.height()) <= 240


def test_photo_opens_full_size(qtbot: Any, widget: ReviewWidget) -> None:
    """Clicking a thumbnail opens the photo at its full pixel size."""
    open_first_visit(qtbot, widget)
    tile = next(iter(widget.visit_view.tiles.values()))
    with qtbot.waitSignal(widget.loader.sig_full, timeout=10000):
        qtbot.mouseClick(tile, Qt.MouseButton.LeftButton)
    assert widget.photo_dialog is not None and widget.photo_dialog.image_size == (1600, 1200)
    widget.photo_dialog.close()


def test_a_photo_that_cannot_be_fetched_is_marked_not_an_error_dialog(
        qtbot: Any, tasks: TaskManager, store: ReviewStoreDouble) -> None:
    """Without a portal client the tiles say the photo is not available, and approving warns about it."""
    page = ReviewWidget(store)   # offline: no client
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.sig_queue_loaded, timeout=5000):
        page.refresh()
    with qtbot.waitSignal(page.loader.sig_failed, timeout=5000):
        page.open_visit("v1", store.items[0])
    qtbot.waitUntil(lambda: all("Not available" in t.text() for t in page.visit_view.tiles.values()), timeout=5000)
    page.ask_decision(Decision.APPROVE)
    assert page.decide_dialog is not None
    assert "could not be shown" in page.decide_dialog.findChild(type(page.notice_label), "reviewWarning").text()
    page.decide_dialog.reject()


def test_changes_since_return_are_highlighted(qtbot: Any, widget: ReviewWidget) -> None:
    """A resubmitted visit lists what changed and marks the changed answers and photo."""
    open_first_visit(qtbot, widget)
    view = widget.visit_view
    assert view.changes_label.isVisibleTo(view)
    summary = view.changes_label.text()
    for expected in ("Ventilation (1 poor – 5 good)", "Which rooms are affected?", "Cause noted by the officer",
                     "Photos added: 1", "Photos removed: 1", "Notes changed"):
        assert expected in summary
    marked = {lbl.property("change") for lbl in view.scroll.widget().findChildren(type(view.meta_label))
              if lbl.property("change")}
    assert marked == {"added", "changed", "removed"}
    assert view.tiles[widget.visit_view.data.visit.photos[2].sha256].added
    assert "Please add a photo of the window frame." in view.comment_label.text()


def test_visit_view_shows_every_answer_with_template_labels(qtbot: Any, widget: ReviewWidget) -> None:
    """Answers, hazards and notes appear with the template's labels and readable values."""
    open_first_visit(qtbot, widget)
    texts = [lbl.text() for lbl in widget.visit_view.scroll.widget().findChildren(type(widget.visit_view.meta_label))]
    joined = "\n".join(texts)
    for expected in ("Is there visible mould?", "Yes", "Bathroom, Bedroom", "2 / 5   (new)",
                     "Damp and mould growth, band B (Category 1) — Bathroom: Spreading to the bedroom",
                     "Black mould above the bath"):
        assert expected in joined


def test_visit_review_screenshot(qtbot: Any, widget: ReviewWidget) -> None:
    """The visit review view renders with thumbnails (screenshot saved for a person to look at)."""
    open_first_visit(qtbot, widget)
    save_artifact(widget, "review_visit.png")
    widget.visit_view.scroll.verticalScrollBar().setValue(widget.visit_view.scroll.verticalScrollBar().maximum())
    save_artifact(widget, "review_visit_photos.png")


# ---------------------------------------------------------------------- decisions


def test_return_dialog_needs_a_comment(qtbot: Any) -> None:
    """Return stays disabled until a comment is typed; approve needs none."""
    dialog = DecideDialog(Decision.RETURN, "DM-1001")
    qtbot.addWidget(dialog)
    assert not dialog.ok_button.isEnabled()
    qtbot.keyClicks(dialog.comment_edit, "   ")
    assert not dialog.ok_button.isEnabled()
    qtbot.keyClicks(dialog.comment_edit, "Photo of the window, please")
    assert dialog.ok_button.isEnabled() and dialog.comment == "Photo of the window, please"
    approve = DecideDialog(Decision.APPROVE, "DM-1001")
    qtbot.addWidget(approve)
    assert approve.ok_button.isEnabled()
    assert dialog.ok_button.property("primary") and approve.ok_button.property("primary")  # styled as the primary action


def test_return_with_comment_is_queued_in_the_store(qtbot: Any, widget: ReviewWidget,
                                                     store: ReviewStoreDouble, blobs: dict[str, bytes]) -> None:
    """Returning through the dialog queues the decision and its comment, then opens the queue's next visit."""
    shown = widget.queue.visible_items()
    at = [i.visit_id for i in shown].index("v1")
    following = shown[at + 1] if at + 1 < len(shown) else shown[at - 1]   # the last one decided: the one above
    store.visits[following.visit_id] = make_visit(following.visit_id, blobs)
    open_first_visit(qtbot, widget)
    qtbot.mouseClick(widget.visit_view.return_button, Qt.MouseButton.LeftButton)
    dialog = widget.decide_dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.keyClicks(dialog.comment_edit, "The bedroom wall photo is blurred.")
    with qtbot.waitSignal(widget.sig_decided, timeout=5000) as blocker:
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert blocker.args == ["v1", "return"]
    assert store.decisions == [("v1", "return", "The bedroom wall photo is blurred.")]
    qtbot.waitUntil(lambda: "v1" not in {i.visit_id for i in widget.queue.model.items()}, timeout=5000)
    qtbot.waitUntil(lambda: widget.visit_view.data is not None
                    and widget.visit_view.data.visit.id == following.visit_id, timeout=5000)
    assert widget.stack.currentWidget() is widget.visit_view
    # The next visit opened by itself: the lead still reads what became of the one decided.
    assert widget.notice_label.isVisibleTo(widget)
    assert "Returned to the officer: DM-1001" in widget.notice_label.text()
    with qtbot.waitSignal(widget.sig_visit_shown, timeout=5000):
        widget.open_item(following)   # opened by the lead: the last decision's notice goes
    assert not widget.notice_label.isVisibleTo(widget)


def test_approve_is_queued_in_the_store(qtbot: Any, widget: ReviewWidget, store: ReviewStoreDouble) -> None:
    """Approving through the dialog queues an approve decision."""
    open_first_visit(qtbot, widget)
    widget.ask_decision(Decision.APPROVE)
    assert widget.decide_dialog is not None
    with qtbot.waitSignal(widget.sig_decided, timeout=5000):
        widget.decide_dialog.ok_button.click()
    assert store.decisions == [("v1", "approve", "")]


def test_decision_problem_is_a_notice_not_an_error_dialog(qtbot: Any, widget: ReviewWidget,
                                                          store: ReviewStoreDouble,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A decision the portal refused shows as a 'needs attention' notice linking to the problems view."""
    def no_dialogs(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("no modal dialog expected")
    for name in ("critical", "warning", "information"):
        monkeypatch.setattr(QMessageBox, name, no_dialogs)
    store.review_problems = [Problem(
        id=str(uuid.uuid4()), kind="conflict", entity="review", record_id="r1",
        message="Visit DM-1003 was already decided by another lead (approved).",
        actions=(ProblemAction.DISMISS,), created_at=NOW)]
    with qtbot.waitSignal(widget.sig_queue_loaded, timeout=5000):
        widget.refresh()
    assert widget.attention_label.isVisibleTo(widget)
    assert "already decided by another lead" in widget.attention_label.text()
    with qtbot.waitSignal(widget.sig_show_problems, timeout=2000):
        widget.attention_label.linkActivated.emit("problems")
    save_artifact(widget, "review_queue_attention.png")


def test_a_decision_problem_with_markup_in_it_is_shown_as_typed(qtbot: Any, widget: ReviewWidget,
                                                               store: ReviewStoreDouble) -> None:
    """The attention label is rich text (its link): a lead's comment or a reference holding markup is shown, not rendered,
    and escaped once."""
    message = "Visit <b>DM-1003</b> & Co: <a href='https://example.org'>see</a> was already decided."
    store.review_problems = [Problem(id=str(uuid.uuid4()), kind="conflict", entity="review", record_id="r1",
                                     message=message, actions=(ProblemAction.DISMISS,), created_at=NOW)]
    with qtbot.waitSignal(widget.sig_queue_loaded, timeout=5000):
        widget.refresh()
    text = widget.attention_label.text()
    assert escape(message) in text and "<b>" not in text and "&amp;amp;" not in text
    assert text.count("<a ") == 1 and "<a href='problems'>" in text   # the only link is the label's own
