"""Helpers of the sync end-to-end tests: record visits offline, sync, and read the portal's truth.

The portal's state is read through its own API (admin export of visits, a fresh
pull from cursor 0 as the user, blob downloads), never its database.
"""

from __future__ import annotations

import hashlib
import io
import random
import sqlite3
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from PIL import Image

from app.cli.demo_inspection import plausible_answer
from fieldapp import FieldStore
from fieldapp.domain import HHSRS_HAZARDS
from fieldapp.types import Template, Visit
from sync import session
from sync.client import PortalClient
from sync.engine import SyncEngine, SyncReport
from sync.errors import SyncError

ANSWER_DATE = date(2026, 1, 15)
HAZARD = {"hazard": HHSRS_HAZARDS[0], "band": "D"}
#: The assessment a completed visit of a case under Awaab's Law must carry (PROTOCOL revision 2).
ASSESSMENT = {"finding": "significant", "hazards": [HHSRS_HAZARDS[0]], "reasons": "Young child with asthma in the household.",
              "household_factors": ["Children in the household"], "make_safe_done": False,
              "safety_work": "Mould wash and extractor fan repair.", "supplementary_work": None,
              "alternative_accommodation": False}


def make_photo(path: Path, seed: int, size: tuple[int, int] = (480, 360)) -> Path:
    """A small real JPEG of random noise (unique bytes per seed)."""
    rng = random.Random(seed)
    image = Image.effect_noise(size, 60 + rng.random() * 20).convert("RGB")
    image = Image.merge("RGB", [image.getchannel(0).point(lambda v, k=k: (v + k) % 256) for k in
                                (rng.randrange(256), rng.randrange(256), rng.randrange(256))])
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    path.write_bytes(buffer.getvalue())
    return path


def answer_for(question: Any, photo_ids: list[str]) -> Any:
    """A valid answer for a question of the template (required or not): the demo officer's for its kind."""
    if question.kind == "hazard":
        return dict(HAZARD)
    if question.kind == "photo":
        return list(photo_ids) or None
    value = plausible_answer(question, ANSWER_DATE)
    if value is None:
        raise AssertionError(f"no answer for question kind {question.kind}")
    return value


def fill(template: Template, photo_ids: list[str]) -> dict[str, Any]:
    """Answers for every question the template has (photo questions get the visit's photos)."""
    answers = {}
    for section in template.sections:
        for question in section.questions:
            value = answer_for(question, photo_ids)
            if value is not None:
                answers[question.id] = value
    return as_repeats(template, answers)


def as_repeats(template: Template, answers: dict[str, Any]) -> dict[str, Any]:
    """The answers with those of repeat sections as lists of one repetition (room by room)."""
    repeated = {q.id for s in template.sections if s.repeat for q in s.questions}
    return {k: [v] if k in repeated else v for k, v in answers.items()}


def assessment_for(store: FieldStore, case_id: str) -> dict[str, Any] | None:
    """The assessment a completed visit of this case needs, or None where Awaab's Law does not apply."""
    return dict(ASSESSMENT) if store.case(case_id).awaab else None


def record_visit(store: FieldStore, case_id: str, photo_dir: Path, photos: int, seed: int,
                 photo_size: tuple[int, int] = (480, 360)) -> Visit:
    """Start, fill (with ``photos`` photos) and submit a visit on the laptop, offline."""
    template = store.templates_for(case_id)[0]
    visit = store.start_visit(case_id, template.id)
    photo_ids = []
    for n in range(photos):
        source = make_photo(photo_dir / f"src_{seed}_{n}.jpg", seed * 1000 + n, photo_size)
        photo_ids.append(store.add_photo(visit.id, source, caption=f"photo {n}").id)
    store.update_visit(visit.id, answers=fill(template, photo_ids), notes=f"visit {seed}", outcome="completed",
                       assessment=assessment_for(store, case_id))
    return store.submit_visit(visit.id)


def as_recorded(store: FieldStore, visit_id: str) -> tuple[Any, ...]:
    """What the officer typed, chose and photographed in a visit (not its sync state), photo files' hashes included."""
    visit = store.visit(visit_id)
    photos = [(p.id, p.sha256, p.caption, p.question_id, p.bytes,
               hashlib.sha256(Path(store.photo_file(p.sha256) or "").read_bytes()).hexdigest()) for p in visit.photos]
    return (visit.answers, visit.notes, visit.outcome, visit.assessment, visit.hazards, visit.completed_at, photos)


def open_signed_in(data_dir: Path, portal_url: str, account: Any) -> tuple[FieldStore, PortalClient]:
    """Open a store in ``data_dir`` and sign it in as ``account``."""
    store = FieldStore.open(data_dir)
    client = session.sign_in(store, portal_url, account.username, account.password)
    return store, client


def sync(store: FieldStore, client: PortalClient) -> SyncReport:
    return SyncEngine(store, client).run()


def sync_until_ok(store: FieldStore, client: PortalClient, attempts: int = 40) -> tuple[SyncReport, int]:
    """Sync again and again (as a person would) until a sync reports ok; returns it and the tries used."""
    last: Exception | None = None
    for attempt in range(1, attempts + 1):
        try:
            report = SyncEngine(store, client).run()
        except SyncError as exc:
            last = exc
            continue
        if report.ok:
            return report, attempt
    raise AssertionError(f"no successful sync in {attempts} attempts (last error: {last!r})")


def admin_visits(portal_url: str, admin: Any) -> list[dict[str, Any]]:
    """Every visit on the portal, through the admin export (paged)."""
    client = PortalClient(portal_url)
    client.login(admin.username, admin.password, "e2e-admin")
    visits: list[dict[str, Any]] = []
    since = 0
    while True:
        response = client._session.get(f"{client.base_url}/api/v1/admin/visits",
                                        params={"since": since, "limit": 500},
                                        headers={"Authorization": f"Bearer {client.token}"}, timeout=(5, 30))
        response.raise_for_status()
        body = response.json()
        visits.extend(body["visits"])
        since = body["next_since"]
        if not body["has_more"]:
            return visits


def portal_scope(portal_url: str, account: Any) -> dict[str, dict[str, dict[str, Any]]]:
    """What the portal gives ``account`` from cursor 0: live records by entity and id."""
    client = PortalClient(portal_url)
    client.login(account.username, account.password, "e2e-verifier")
    live: dict[str, dict[str, dict[str, Any]]] = {}
    cursor = 0
    while True:
        changes, cursor, has_more = client.pull_page(cursor, 1000)
        for change in changes:
            bucket = live.setdefault(str(change["entity"]), {})
            if change.get("deleted"):
                bucket.pop(change["id"], None)
            else:
                bucket[change["id"]] = {"version": change.get("version"), **(change.get("data") or {})}
        if not has_more:
            return live


def local_visit_ids(store: FieldStore) -> set[str]:
    """The ids of every non-draft visit under the laptop's cases."""
    ids = set()
    for row in store.cases():
        for visit in store.case(row.id).visits:
            if visit.state != "draft":
                ids.add(visit.id)
    return ids


def blob_hashes_ok(portal_url: str, account: Any, hashes: Iterable[str]) -> bool:
    """Every blob downloads from the portal and its bytes hash to its name."""
    client = PortalClient(portal_url)
    client.login(account.username, account.password, "e2e-blobs")
    for name in hashes:
        if hashlib.sha256(client.download_blob(name)).hexdigest() != name:
            return False
    return True


def integrity_ok(data_dir: Path) -> bool:
    """PRAGMA integrity_check of every SQLite file in the data folder."""
    files = [p for p in Path(data_dir).rglob("*.db") if p.is_file()]
    assert files, f"no database file in {data_dir}"
    for path in files:
        with sqlite3.connect(path) as connection:
            if connection.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                return False
    return True
