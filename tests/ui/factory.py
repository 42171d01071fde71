"""Builds pulled-change pages (PROTOCOL.md shapes) to fill a real FieldStore for UI tests and benchmarks."""

from __future__ import annotations

import io
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from fieldapp.types import UserInfo

TEAM_ID = "7d1c1f0e-0000-4000-8000-000000000001"
OFFICER = UserInfo(id="7d1c1f0e-0000-4000-8000-0000000000a1", username="olivia", display_name="Olivia Officer",
                   role="officer", team_id=TEAM_ID)
LEAD = UserInfo(id="7d1c1f0e-0000-4000-8000-0000000000b1", username="liam", display_name="Liam Lead",
                role="lead", team_id=TEAM_ID)
TEMPLATE_ID = "7d1c1f0e-0000-4000-8000-0000000000c1"
STREETS = ("Mill Lane", "Church Road", "Station Street", "Park Avenue", "Victoria Road", "High Street", "Orchard Close")
NAMES = ("Amira Khan", "John Smith", "Grace O'Neill", "Tomasz Nowak", "Mary Brown", "Kwame Mensah", "Li Wei")
SUMMARIES = ("Black mould in back bedroom", "Leaking kitchen tap", "Annual tenancy check", "Void inspection",
             "Noise complaint follow-up", "Broken communal door", "Condensation in bathroom")

TEMPLATE_DATA: dict[str, Any] = {
    "name": "Damp and mould inspection", "version": 1,
    "case_types": ["damp_mould", "repair", "tenancy_audit", "void", "asb", "estate"],
    "sections": [
        {"id": "s1", "title": "The home", "questions": [
            {"id": "mould_seen", "label": "Is mould visible?", "kind": "yes_no", "required": True},
            {"id": "rooms", "label": "Rooms affected", "kind": "multi_choice", "required": False,
             "options": ["Kitchen", "Bathroom", "Bedroom", "Living room"]},
            {"id": "severity", "label": "Severity", "kind": "choice", "required": True,
             "options": ["Minor", "Moderate", "Severe"]},
            {"id": "area", "label": "Affected area (m²)", "kind": "number", "required": False, "min": 0, "max": 500},
        ]},
        {"id": "s2", "title": "Assessment", "questions": [
            {"id": "condition", "label": "Overall condition", "kind": "rating", "required": False},
            {"id": "next_date", "label": "Follow-up date", "kind": "date", "required": False},
            {"id": "main_hazard", "label": "Main hazard", "kind": "hazard", "required": False},
            {"id": "evidence", "label": "Photos of the damage", "kind": "photo", "required": False},
            {"id": "cause", "label": "Likely cause", "kind": "text", "required": True,
             "help": "For example: condensation, a leak, rising damp."},
        ]},
    ],
}


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Page:
    """A list of changes with increasing seq numbers."""

    changes: list[dict[str, Any]] = field(default_factory=list)
    seq: int = 0

    def add(self, entity: str, record_id: str, data: dict[str, Any], version: int = 1) -> None:
        self.seq += 1
        self.changes.append({"entity": entity, "id": record_id, "version": version, "seq": self.seq,
                             "deleted": False, "data": data})


def case_pages(count: int, *, seed: int = 1, now: datetime | None = None, officer: UserInfo = OFFICER,
               warnings_every: int = 7) -> Page:
    """Team, users, a template and ``count`` cases with their properties and residents."""
    rng = random.Random(seed)
    now = now or datetime.now(timezone.utc)
    page = Page()
    page.add("team", TEAM_ID, {"name": "North team"})
    for user in (OFFICER, LEAD):
        page.add("user", user.id, {"username": user.username, "display_name": user.display_name,
                                   "role": user.role, "team_id": user.team_id})
    page.add("template", TEMPLATE_ID, TEMPLATE_DATA)
    for number in range(count):
        prop_id, res_id, case_id = (str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(3))
        street = STREETS[number % len(STREETS)]
        page.add("property", prop_id, {"uprn": f"1000{number:08d}", "address_lines": [f"{number % 200 + 1} {street}"],
                                       "town": "Ashford", "postcode": f"AB{number % 9 + 1} {number % 10}XY",
                                       "property_type": ("house", "flat", "bungalow")[number % 3], "bedrooms": 2})
        warnings = ["Dog on premises", "Visit in pairs"] if number % warnings_every == 0 else []
        page.add("resident", res_id, {"property_id": prop_id, "full_name": NAMES[number % len(NAMES)],
                                      "phone": "01234 567890", "email": None,
                                      "vulnerabilities": ["Asthma"] if number % 5 == 0 else [], "warnings": warnings})
        due = now + timedelta(days=(number % 30) - 5, hours=2)
        page.add("case", case_id, {
            "reference": f"HC-{number + 1:05d}", "case_type": ("damp_mould", "repair", "void")[number % 3],
            "status": ("open", "scheduled", "open", "visited")[number % 4],
            "priority": ("routine", "urgent", "emergency", "routine")[number % 4],
            "summary": SUMMARIES[number % len(SUMMARIES)], "description": "Reported through the customer portal.",
            "opened_at": _iso(now - timedelta(days=10)), "due_at": _iso(due), "property_id": prop_id,
            "resident_ids": [res_id], "assigned_officer_id": officer.id, "team_id": TEAM_ID})
    return page


def fill_store(store: Any, count: int, *, user: UserInfo = OFFICER, portal_url: str = "http://127.0.0.1:9",
               batch: int = 3000, **kwargs: Any) -> None:
    """Sign ``user`` into the store and apply ``count`` cases as pulled pages."""
    store.sign_in(user, portal_url)
    page = case_pages(count, **kwargs)
    for start in range(0, len(page.changes), batch):
        chunk = page.changes[start:start + batch]
        store.apply_changes(chunk, chunk[-1]["seq"])


def write_jpeg(path: Path, width: int = 1200, height: int = 900, hue: int = 0, *, noise: bool = False) -> Path:
    """A real JPEG with some structure; ``hue`` makes it unique, ``noise`` makes it photo-sized (hundreds of KB)."""
    rng = random.Random(hue)
    image = Image.new("RGB", (width, height), (90 + hue % 120, 130, 160))
    draw = ImageDraw.Draw(image)
    for n in range(0, width, 90):
        draw.rectangle((n, height // 3, n + 45, height // 3 + 150), fill=(50, 70 + n % 150, 40))
    for _ in range(12):  # a pattern of its own, so no two seeds give the same bytes
        x, y = rng.randrange(width), rng.randrange(height)
        draw.ellipse((x, y, x + width // 8, y + height // 8), fill=tuple(rng.randrange(256) for _ in range(3)))
    if noise:
        grain = Image.effect_noise((width, height // 2), 40).convert("RGB")
        image.paste(grain, (0, height // 2))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    path.write_bytes(out.getvalue())
    return path


def wait_idle(qtbot: Any, tasks: Any) -> None:
    """Wait until every submitted background job has delivered its result."""
    qtbot.waitUntil(lambda: not tasks.busy, timeout=15000)


def screenshot(widget: Any, path: Path) -> None:
    """Save ``widget.grab()`` once pending layout and show events are done (not a sleep: nothing waits)."""
    from PySide6.QtWidgets import QApplication

    QApplication.sendPostedEvents()
    QApplication.processEvents()
    widget.grab().save(str(path))


def loaded_review_page(qtbot: Any, store: Any, client: Any = None, *, size: tuple[int, int] = (1200, 800),
                       timeout: int = 10000) -> Any:
    """The lead's review page over ``store``, shown at ``size`` once its queue has loaded."""
    from ui.review import ReviewWidget

    page = ReviewWidget(store, client=client)
    qtbot.addWidget(page)
    page.resize(*size)
    page.show()
    with qtbot.waitSignal(page.sig_queue_loaded, timeout=timeout):
        page.refresh()
    return page


def open_new_visit(qtbot: Any, window: Any) -> Any:
    """Start a visit to the first case without warnings from the window's case page; the editor once loaded."""
    case_id = next(r.id for r in window.case_list.model.rows() if not r.has_warnings)
    window.case_list.select_case(case_id)
    qtbot.waitUntil(lambda: window.case_detail.case is not None and window.case_detail.case.id == case_id)
    with qtbot.waitSignal(window.editor.sig_loaded, timeout=10000):
        window.case_detail.start_visit()
    return window.editor


def import_one_photo(qtbot: Any, panel: Any, folder: Path) -> None:
    """Import one JPEG into an editor's photo panel and wait until the grid shows it."""
    with qtbot.waitSignal(panel.sig_import_finished, timeout=20000):
        panel.import_files([write_jpeg(folder / "wall.jpg")])
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1, timeout=10000)
