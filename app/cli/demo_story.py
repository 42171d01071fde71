"""The demo council's day so far, played once per demo portal through the real sync path.

An officer records inspections with photos (and one visit where no one was in) on a laptop
and syncs them; their team lead reviews on
another laptop and returns one with a comment; the officer syncs the return and starts a
draft on another case. So `fieldapp demo` opens on a lead's queue with submitted visits and
photos, and on an officer's list with a returned visit and a draft, as real use leaves them.
"""

from __future__ import annotations

import io
import random
from datetime import date
from pathlib import Path
from typing import Any

#: Written in the portal folder once the story is told, so a kept demo folder is not told it twice.
STORY_MARK = "story-told"
VISITS = 4
#: The kinds of case the officer's visits are of, in order (the last one is where no one was in).
VISIT_CASE_TYPES = ("damp_mould", "repair", "void", "tenancy_audit")
#: The one of the officer's visits where no one was in (the others are full inspections).
NO_ACCESS_VISIT = VISITS - 1
PHOTO_CAPTIONS = ("Mould on the bathroom ceiling", "Bedroom 1, external wall behind the wardrobe")
RETURN_COMMENT = "Please add a photo of the extractor fan and say whether it works."


def demo_officer(accounts: list[Any]) -> Any:
    """The officer `fieldapp demo` signs in as."""
    return next(a for a in accounts if a.role == "officer")


def demo_lead(accounts: list[Any]) -> Any:
    """The team lead of the demo officer's team (`fieldapp demo --role lead`)."""
    team = demo_officer(accounts).team
    return next(a for a in accounts if a.role == "lead" and a.team == team)


def store_folder(folder: Path, account: Any) -> Path:
    """Each demo account's laptop data folder inside the demo folder."""
    return folder / f"app-{account.username}"


def demo_photo(path: Path, seed: int) -> Path:
    """A small JPEG of a wall with dark patches (the demo's stand-in for a photo of mould)."""
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    image = Image.new("RGB", (800, 600), (rng.randint(200, 235), rng.randint(195, 225), rng.randint(180, 210)))
    draw = ImageDraw.Draw(image)
    for _ in range(30):
        x, y, r = rng.randint(0, 800), rng.randint(0, 250), rng.randint(8, 45)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(rng.randint(30, 70), rng.randint(40, 70), rng.randint(30, 50)))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    path.write_bytes(buffer.getvalue())
    return path


def tell_story(folder: Path, portal_url: str, accounts: list[Any]) -> None:
    """Officer visits with photos, a lead's return with a comment, and a draft: each through a real sync."""
    mark = folder / "portal" / STORY_MARK
    if mark.exists():
        return
    officer, lead = demo_officer(accounts), demo_lead(accounts)
    visit_ids = _officer_submits(folder, portal_url, officer)
    _lead_returns(folder, portal_url, lead, visit_ids[0])
    _officer_gets_return_and_drafts(folder, portal_url, officer)
    mark.write_text("The demo's visits, return and draft were made.\n", encoding="utf-8")


def _signed_in(folder: Path, portal_url: str, account: Any) -> tuple[Any, Any]:
    from fieldapp import FieldStore
    from sync.session import sign_in

    store = FieldStore.open(store_folder(folder, account))
    return store, sign_in(store, portal_url, account.username, account.password)


def _sync_and_close(store: Any, client: Any) -> None:
    """Sync, then sign out (the demo signs in again when it opens the window) and close."""
    from sync.engine import SyncEngine
    from sync.errors import SyncError
    from sync.session import sign_out

    try:
        report = SyncEngine(store, client).run()
        if not report.ok:
            raise SyncError(f"The demo's sync did not finish: {getattr(report, 'message', '')}")
    finally:
        sign_out(store, client)
        store.close()


def _own_cases(store: Any, user_id: str) -> list[Any]:
    """The officer's open cases that have a form on this laptop, most urgent first."""
    from fieldapp.search import CaseFilter

    rows = [c for c in store.cases(CaseFilter(status=("open", "scheduled"))) if store.templates_for(c.id)]
    own = [c for c in rows if store.case(c.id).assigned_officer_id == user_id]
    return own or rows


def _cases_to_visit(store: Any, user_id: str) -> list[Any]:
    """One case of each kind the demo shows, damp and mould first (the visit the lead returns), most urgent of each."""
    cases = _own_cases(store, user_id)
    chosen = [next(c for c in cases if c.case_type == kind) for kind in VISIT_CASE_TYPES if any(c.case_type == kind for c in cases)]
    return (chosen + [c for c in cases if c not in chosen])[:VISITS]


def _officer_submits(folder: Path, portal_url: str, officer: Any) -> list[str]:
    """Inspections with photos (and one visit where no one was in), submitted and synced; their ids."""
    from sync.engine import SyncEngine

    from app.cli.demo_inspection import ASSESSMENT, inspection_answers

    store, client = _signed_in(folder, portal_url, officer)
    SyncEngine(store, client).run()
    photos = folder / "demo-photos"
    photos.mkdir(exist_ok=True)
    user = store.current_user()
    ids = []
    for number, case in enumerate(_cases_to_visit(store, user.id)):
        template = store.templates_for(case.id)[0]
        visit = store.start_visit(case.id, template.id)
        photo_ids = [
            store.add_photo(visit.id, demo_photo(photos / f"visit{number}-{n}.jpg", number * 10 + n), caption=caption).id
            for n, caption in enumerate(PHOTO_CAPTIONS)
        ]
        if number == NO_ACCESS_VISIT:
            # No one was in: the visit needs no answers, and the lead still has photos to look at.
            store.update_visit(visit.id, outcome="no_access", notes="Card left; neighbour says the tenant works days. "
                                                                     "Photos of the door and the damp visible from the hallway.")
        else:
            store.update_visit(visit.id, outcome="completed", answers=inspection_answers(template, photo_ids, date.today()),
                               assessment=dict(ASSESSMENT) if store.case(case.id).awaab else None,
                               notes="Tenant was home and showed me round; readings taken in each room with mould.")
        ids.append(store.submit_visit(visit.id).id)
    _sync_and_close(store, client)
    return ids


def _lead_returns(folder: Path, portal_url: str, lead: Any, visit_id: str) -> None:
    from sync.engine import SyncEngine

    store, client = _signed_in(folder, portal_url, lead)
    SyncEngine(store, client).run()
    store.decide(visit_id, "return", RETURN_COMMENT)
    _sync_and_close(store, client)


def _officer_gets_return_and_drafts(folder: Path, portal_url: str, officer: Any) -> None:
    from sync.engine import SyncEngine

    store, client = _signed_in(folder, portal_url, officer)
    SyncEngine(store, client).run()
    user = store.current_user()
    fresh = _own_cases(store, user.id)   # the visited cases are no longer open
    if not fresh:
        _sync_and_close(store, client)
        return
    case = fresh[0]
    template = store.templates_for(case.id)[0]
    draft = store.start_visit(case.id, template.id)
    store.update_visit(draft.id, notes="Started at the door; resident asked me to come back after school run.")
    _sync_and_close(store, client)
