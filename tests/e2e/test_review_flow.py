"""End to end: officers submit, a team lead reviews, officers see the decision.

Real portal on loopback (SQLite and PostgreSQL fixtures of tests/conftest.py), real
`FieldStore` files in temporary folders, real `SyncEngine` and `PortalClient`, and the
lead's real `ReviewWidget` (pytest-qt, offscreen) for the screens' part.
"""

from __future__ import annotations

import os
import socket
import sys
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
import requests  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402

from fieldapp import FieldStore  # noqa: E402
from fieldapp.domain import HHSRS_HAZARDS  # noqa: E402
from fieldapp.errors import FieldappError, VisitLockedError  # noqa: E402
from fieldapp.types import Hazard, Visit, VisitState  # noqa: E402
from sync.client import PortalClient  # noqa: E402
from sync.engine import SyncEngine, SyncReport  # noqa: E402
from sync.errors import PortalUnreachable  # noqa: E402
from sync.retry import RetryPolicy  # noqa: E402
from sync.session import sign_in  # noqa: E402
from ui.review import ReviewWidget  # noqa: E402
from ui.tasks import Op, TaskManager  # noqa: E402

from sync_support import answer_for, as_repeats, assessment_for, make_photo  # noqa: E402  (tests/e2e helpers of the sync engineer)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ui"))
from factory import loaded_review_page  # noqa: E402  (the UI tests' review page, loaded)

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


# ---------------------------------------------------------------------- helpers


def photo_file(folder: Path, name: str, shade: int) -> Path:
    """A real JPEG on disk, different for each ``shade``."""
    return make_photo(folder / name, seed=shade, size=(1200, 900))


@dataclass
class Laptop:
    """One person's laptop: a real store signed in to the portal."""

    name: str
    store: FieldStore
    client: PortalClient
    folder: Path

    def sync(self) -> SyncReport:
        return SyncEngine(self.store, self.client).run()

    def record_visit(self, case_index: int, photos: int, *, cat1: bool = False) -> Visit:
        """Start, fill, photograph and submit a visit on one of the officer's cases."""
        cases = self.store.cases(sort="reference")
        case = cases[case_index % len(cases)]
        template = self.store.templates_for(case.id)[0]
        visit = self.store.start_visit(case.id, template.id)
        photo_ids = []
        for n in range(photos):
            path = photo_file(self.folder, f"{visit.id[:8]}-{n}.jpg", shade=case_index * 7 + n * 31)
            photo_ids.append(self.store.add_photo(visit.id, path, caption=f"Evidence {n + 1}").id)
        answers = {q.id: answer_for(q, photo_ids) for s in template.sections for q in s.questions
                   if q.required or q.kind in ("text", "rating")}
        answers = as_repeats(template, {k: v for k, v in answers.items() if v is not None})
        hazards = [Hazard(HHSRS_HAZARDS[0], "B" if cat1 else "E", "Bathroom", "Mould above the bath")]
        self.store.update_visit(visit.id, answers=answers, outcome="completed", notes="Visit notes.",
                                hazards=hazards, assessment=assessment_for(self.store, case.id))
        return self.store.submit_visit(visit.id)


def account(portal: Any, role: str, team: str | None = None, skip: int = 0) -> Any:
    """The seeded account with this role (and team), the ``skip``-th of them."""
    found = [a for a in portal.accounts if a.role == role and (team is None or a.team == team)]
    return found[skip]


def closed_port_url() -> str:
    """A loopback URL where nothing listens (the portal "unreachable")."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class CountingClient:
    """Wraps a PortalClient to count photo downloads (the UI must not download twice)."""

    def __init__(self, client: PortalClient) -> None:
        self.client = client
        self.downloads: list[str] = []

    def download_blob(self, sha256: str) -> bytes:
        self.downloads.append(sha256)
        return self.client.download_blob(sha256)


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.postgres)])
def portal(request: pytest.FixtureRequest) -> Any:
    """The seeded portal, on SQLite and on PostgreSQL."""
    return request.getfixturevalue(f"portal_{request.param}")


@pytest.fixture
def portal_lite(portal_sqlite: Any) -> Any:
    """The seeded SQLite portal, for the flows where one database is enough."""
    return portal_sqlite


@pytest.fixture
def laptops(tmp_path: Path) -> Iterator[Any]:
    """Opens laptops (stores signed in to a portal) and closes them after the test."""
    opened: list[Laptop] = []

    def open_laptop(portal: Any, who: Any, name: str) -> Laptop:
        folder = tmp_path / name
        folder.mkdir()
        store = FieldStore.open(folder / "data")
        client = sign_in(store, portal.url, who.username, who.password)
        laptop = Laptop(name, store, client, folder)
        opened.append(laptop)
        return laptop

    yield open_laptop
    for laptop in opened:
        laptop.client.close()
        laptop.store.close()


@pytest.fixture
def tasks(qtbot: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[TaskManager]:
    """A real task manager, also the app-wide default (the officer's editor uses ``Op.manager``)."""
    manager = TaskManager(network_workers=2)
    monkeypatch.setattr(Op, "manager", manager)
    yield manager
    manager.shutdown(timeout=10)


def review_page(qtbot: Any, tasks: TaskManager, laptop: Laptop, client: Any) -> ReviewWidget:
    """The lead's real review page over their store, loaded."""
    return loaded_review_page(qtbot, laptop.store, client, size=(1200, 820))


def decide_in_ui(qtbot: Any, page: ReviewWidget, visit_id: str, decision: str, comment: str = "") -> None:
    """Open a visit from the queue and approve or return it through the dialog."""
    item = next(i for i in page.queue.model.items() if i.visit_id == visit_id)
    with qtbot.waitSignal(page.sig_visit_shown, timeout=10000):
        page.open_item(item)
    button = page.visit_view.approve_button if decision == "approve" else page.visit_view.return_button
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    dialog = page.decide_dialog
    assert dialog is not None
    if comment:
        qtbot.keyClicks(dialog.comment_edit, comment)
    with qtbot.waitSignal(page.sig_decided, timeout=10000):
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)


def show_in_officer_editor(qtbot: Any, tasks: TaskManager, laptop: Laptop, visit_id: str, shot: str,
                           expect: str) -> Any:
    """Open the visit in the officer's editor (the UI engineer's), check its banner, save a screenshot."""
    try:
        from ui.context import AppContext
        from ui.visit_editor import VisitEditorWidget
    except ImportError:  # the officer's editor is another engineer's part; the store API checks still run
        return None
    editor = VisitEditorWidget(AppContext(store=laptop.store, tasks=tasks, client=laptop.client))
    qtbot.addWidget(editor)
    editor.resize(1100, 800)
    editor.show()
    with qtbot.waitSignal(editor.sig_loaded, timeout=10000):
        editor.open_visit(visit_id)
    qtbot.waitUntil(lambda: not tasks.busy, timeout=10000)   # its photos and case details load after
    assert expect in editor.state_banner.text.text()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    editor.grab().save(str(ARTIFACTS / shot))
    return editor


def submitted_visit(laptops: Any, portal: Any, case_index: int, photos: int,
                    cat1: bool = False) -> tuple[Laptop, Visit]:
    """The first officer's laptop, after recording a visit and syncing it to the portal."""
    officer = laptops(portal, account(portal, "officer", skip=0), "officer")
    officer.sync()
    visit = officer.record_visit(case_index, photos=photos, cat1=cat1)
    assert officer.sync().ok
    return officer, visit


def queue_ids(laptop: Laptop) -> set[str]:
    return {i.visit_id for i in laptop.store.review_queue()}


# ---------------------------------------------------------------------- the round trip


def test_officers_submit_lead_reviews_officers_see_decisions(qtbot: Any, portal: Any, laptops: Any,
                                                              tasks: TaskManager,
                                                              request: pytest.FixtureRequest) -> None:
    """Two officers submit with photos; the lead approves one and returns one; each officer sees it; the lead sees what changed."""
    lead_account = account(portal, "lead")
    officers = [a for a in portal.accounts if a.role == "officer" and a.team == lead_account.team]
    officer1 = laptops(portal, officers[0], "officer1")
    officer2 = laptops(portal, officers[1], "officer2")
    lead = laptops(portal, lead_account, "lead")
    for laptop in (officer1, officer2, lead):
        laptop.sync()

    approved = officer1.record_visit(0, photos=2, cat1=True)
    returned = officer2.record_visit(0, photos=2)
    assert officer1.sync().ok and officer2.sync().ok
    assert officer1.store.visit(approved.id).state == VisitState.SUBMITTED

    lead.sync()
    queue = {i.visit_id: i for i in lead.store.review_queue()}
    assert {approved.id, returned.id} <= set(queue)
    assert queue[approved.id].photo_count == 2 and queue[approved.id].category_1
    assert queue[returned.id].officer_id == officer2.store.current_user().id

    # The lead's screens: photos download once, off the GUI thread, and stay on the laptop.
    counting = CountingClient(lead.client)
    page = review_page(qtbot, tasks, lead, counting)
    assert page.queue.visible_items()[0].category_1
    item = next(i for i in page.queue.model.items() if i.visit_id == approved.id)
    with qtbot.waitSignal(page.sig_visit_shown, timeout=10000):
        page.open_item(item)
    qtbot.waitUntil(lambda: page.visit_view.unseen_photos() == 0, timeout=20000)
    assert len(counting.downloads) == 2
    assert all(lead.store.photo_file(sha) is not None for sha in counting.downloads)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.grab().save(str(ARTIFACTS / f"review_e2e_visit_{request.node.callspec.params['portal']}.png"))
    page.show_queue()
    with qtbot.waitSignal(page.sig_visit_shown, timeout=10000):
        page.open_item(item)
    qtbot.waitUntil(lambda: page.visit_view.unseen_photos() == 0, timeout=20000)
    assert len(counting.downloads) == 2, "a kept photo was downloaded again"
    page.show_queue()

    decide_in_ui(qtbot, page, approved.id, "approve")
    decide_in_ui(qtbot, page, returned.id, "return", "Add a photo of the extractor fan, please.")
    qtbot.waitUntil(lambda: not tasks.busy, timeout=10000)
    assert lead.store.pending().reviews == 2
    report = lead.sync()
    assert report.ok and report.applied >= 2
    assert {approved.id, returned.id}.isdisjoint(queue_ids(lead))

    # Officer 1: approved, locked; an edit is offered as an amendment.
    officer1.sync()
    seen = officer1.store.visit(approved.id)
    assert seen.state == VisitState.APPROVED and not seen.editable
    with pytest.raises(VisitLockedError):
        officer1.store.update_visit(approved.id, notes="A late change")
    editor = show_in_officer_editor(qtbot, tasks, officer1, approved.id, "review_e2e_officer_approved.png",
                                    expect="Approved")
    assert editor is None or editor.state_banner.amend_button.isVisibleTo(editor)
    amendment = officer1.store.file_amendment(approved.id)
    assert amendment.amends == approved.id and amendment.state == VisitState.DRAFT
    # Carried over: every answer (photo answers point at the amendment's own photo ids) and photo.
    assert set(amendment.answers) == set(seen.answers)
    assert sorted(p.sha256 for p in amendment.photos) == sorted(p.sha256 for p in seen.photos)

    # Officer 2: returned with the comment, edits and resubmits.
    officer2.sync()
    back = officer2.store.visit(returned.id)
    assert back.state == VisitState.RETURNED and back.editable
    assert back.review is not None and back.review.comment == "Add a photo of the extractor fan, please."
    show_in_officer_editor(qtbot, tasks, officer2, returned.id, "review_e2e_officer_returned.png",
                           expect="Add a photo of the extractor fan, please.")
    text_question = next(q for s in officer2.store.templates_for(back.case_id)[0].sections if not s.repeat
                         for q in s.questions if q.kind == "text" and q.show_if is None)
    officer2.store.update_visit(returned.id, answers={text_question.id: "Extractor fan replaced last year."},
                                notes="Added the fan photo.")
    officer2.store.remove_photo(back.photos[1].id)
    officer2.store.add_photo(returned.id, photo_file(officer2.folder, "fan.jpg", 99), caption="Extractor fan")
    officer2.store.submit_visit(returned.id)
    assert officer2.sync().ok

    # The lead sees it again, with what changed since the return.
    lead.sync()
    again = {i.visit_id: i for i in lead.store.review_queue()}
    assert again[returned.id].resubmitted
    changes = lead.store.visit_changes(returned.id)
    assert changes is not None
    assert text_question.id in changes.answers_changed + changes.answers_added
    assert len(changes.photos_added) == 1 and len(changes.photos_removed) == 1 and changes.notes_changed
    assert changes.returned_comment == "Add a photo of the extractor fan, please."
    with qtbot.waitSignal(page.sig_queue_loaded, timeout=10000):
        page.refresh()
    with qtbot.waitSignal(page.sig_visit_shown, timeout=10000):
        page.open_item(again[returned.id])
    assert page.visit_view.changes_label.isVisibleTo(page.visit_view)
    assert "Photos added: 1" in page.visit_view.changes_label.text()
    assert text_question.label in page.visit_view.changes_label.text()
    assert "extractor fan, please" in page.visit_view.changes_label.text()
    qtbot.waitUntil(lambda: page.visit_view.unseen_photos() == 0, timeout=20000)
    page.grab().save(str(ARTIFACTS / f"review_e2e_changes_{request.node.callspec.params['portal']}.png"))


# ---------------------------------------------------------------------- offline and conflicts


def test_lead_decides_offline_and_the_decision_syncs_later(laptops: Any, portal_lite: Any) -> None:
    """With the portal unreachable the decision is queued; the next sync sends it and the officer sees it."""
    portal = portal_lite
    officer, visit = submitted_visit(laptops, portal, 3, photos=1)
    lead = laptops(portal, account(portal, "lead", account(portal, "officer", skip=0).team), "lead")
    lead.sync()
    assert visit.id in queue_ids(lead)

    online = lead.client
    lead.client = PortalClient(closed_port_url(), token=online.token, retry=RetryPolicy(attempts=1))
    lead.store.decide(visit.id, "return", "Which room is the photo of?")
    assert lead.store.pending().reviews == 1
    with pytest.raises(PortalUnreachable):
        lead.sync()
    assert lead.store.pending().reviews == 1, "the queued decision must survive a failed sync"
    lead.client.close()

    lead.client = online
    assert lead.sync().ok
    assert lead.store.pending().reviews == 0
    officer.sync()
    seen = officer.store.visit(visit.id)
    assert seen.state == VisitState.RETURNED and seen.review is not None
    assert seen.review.comment == "Which room is the photo of?"


def create_second_lead(portal: Any, team_id: str) -> tuple[str, str]:
    """A second lead of the same team, made through the portal's admin API."""
    admin = account(portal, "admin")
    session = requests.Session()
    login = session.post(f"{portal.url}/api/v1/auth/login", json={
        "username": admin.username, "password": admin.password, "device_id": str(uuid.uuid4())}, timeout=10)
    login.raise_for_status()
    session.headers["Authorization"] = f"Bearer {login.json()['token']}"
    username, password = f"lead2_{uuid.uuid4().hex[:8]}", "second-lead-password-1"
    made = session.post(f"{portal.url}/api/v1/admin/users", json={
        "username": username, "password": password, "display_name": "Second Lead", "role": "lead",
        "team_id": team_id}, timeout=10)
    assert made.status_code == 201, made.text
    return username, password


@dataclass(frozen=True)
class _Who:
    username: str
    password: str


def test_two_leads_decide_the_same_visit_second_gets_a_problem(qtbot: Any, laptops: Any, portal_lite: Any,
                                                                tasks: TaskManager) -> None:
    """The second lead's decision meets a decided visit: a problem in 'Needs attention', not an error."""
    portal = portal_lite
    officer, visit = submitted_visit(laptops, portal, 5, photos=1)
    lead1 = laptops(portal, account(portal, "lead", account(portal, "officer", skip=0).team), "lead1")
    team_id = lead1.store.current_user().team_id
    lead2 = laptops(portal, _Who(*create_second_lead(portal, team_id)), "lead2")
    lead1.sync()
    lead2.sync()
    assert visit.id in queue_ids(lead1) and visit.id in queue_ids(lead2)

    lead1.store.decide(visit.id, "approve")
    lead2.store.decide(visit.id, "return", "Needs the boiler photo.")
    assert lead1.sync().ok
    report = lead2.sync()          # no exception: the conflict is recorded, not raised
    assert report.conflicts == 1 and not report.ok
    problems = [p for p in lead2.store.problems() if p.entity == "review"]
    assert len(problems) == 1 and problems[0].message
    assert visit.id not in queue_ids(lead2)

    page = review_page(qtbot, tasks, lead2, lead2.client)
    assert page.attention_label.isVisibleTo(page)
    assert problems[0].message in page.attention_label.text()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.grab().save(str(ARTIFACTS / "review_e2e_conflict.png"))

    officer.sync()
    assert officer.store.visit(visit.id).state == VisitState.APPROVED


def test_a_lead_of_another_team_cannot_decide(laptops: Any, portal_lite: Any) -> None:
    """The other team's lead never sees the visit, and the portal refuses their decision op."""
    portal = portal_lite
    officer, visit = submitted_visit(laptops, portal, 7, photos=0)
    team = account(portal, "officer", skip=0).team
    other = laptops(portal, next(a for a in portal.accounts if a.role == "lead" and a.team != team), "other")
    other.sync()
    assert visit.id not in queue_ids(other)
    with pytest.raises(FieldappError):
        other.store.decide(visit.id, "approve")
    # Straight to the portal, as a tampered laptop would: refused, and the visit is unchanged.
    op = {"op_id": str(uuid.uuid4()), "entity": "review", "id": str(uuid.uuid4()), "kind": "decide",
          "base_version": 0, "data": {"visit_id": visit.id, "decision": "approve", "comment": ""}}
    result = other.client.push(other.store.sync_state().device_id, [op]).results[0]
    assert result.status in ("rejected", "conflict")
    assert _error_code(result) == "not_found"
    officer.sync()
    assert officer.store.visit(visit.id).state == VisitState.SUBMITTED


def _error_code(result: Any) -> str | None:
    error = getattr(result, "error", None)
    if isinstance(error, Mapping):
        return error.get("code")
    return getattr(error, "code", error)


def test_lead_main_window_has_the_review_page(qtbot: Any, laptops: Any, portal_lite: Any,
                                              tasks: TaskManager) -> None:
    """Signed in as a lead, the main window offers the Review page, and it lists the team's visit."""
    from ui.app import create_main_window

    portal = portal_lite
    _officer, visit = submitted_visit(laptops, portal, 9, photos=1, cat1=True)
    lead = laptops(portal, account(portal, "lead", account(portal, "officer", skip=0).team), "lead")
    lead.sync()

    window = create_main_window(lead.store, client=lead.client, tasks=tasks)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitUntil(lambda: window.review is not None, timeout=10000)
    assert window.review_action.isVisible()
    window.review_action.trigger()
    assert window.pages.currentWidget() is window.review
    qtbot.waitUntil(lambda: visit.id in {i.visit_id for i in window.review.queue.visible_items()}, timeout=10000)
    qtbot.waitUntil(lambda: not tasks.busy, timeout=10000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(ARTIFACTS / "review_e2e_main_window.png"))
    window.close()
