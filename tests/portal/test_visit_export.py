"""The CRM's export of an approved visit: document, review, photos by address with hash and size, the summary PDF inline."""

from __future__ import annotations

import base64
import hashlib

from tests.portal.conftest import World, jpeg_bytes
from tests.portal.test_audit import _events, _last_id
from tests.portal.test_summary import ASSESSMENT, _submitted


def _export(world: World, visit_id: str, headers: dict[str, str] | None = None) -> object:
    return world.portal.call("GET", f"/admin/visits/{visit_id}/export", headers=headers or world.portal.admin)


def test_an_approved_visit_exports_with_its_photos_and_summary(world: World) -> None:
    """The CRM gets everything to attach to its case, checks each file by its hash, and the export is audited."""
    photo = jpeg_bytes((320, 240), (10, 90, 30))
    visit_id = _submitted(world, photo=photo)
    [decided] = world.portal.push(world.auth["lead_a"], [world.decide_op(visit_id, "approve", "Agreed: treat it.")])
    assert decided["status"] == "applied", decided
    since = _last_id(world.portal)
    response = _export(world, visit_id)
    assert response.status_code == 200, response.text
    export = response.json()
    visit = export["visit"]
    assert visit["id"] == visit_id and visit["status"] == "approved" and visit["assessment"] == ASSESSMENT
    assert visit["answers"] == {"mould": True, "rh": 71} and visit["hazards"] == []
    assert export["review"]["decision"] == "approve" and export["review"]["comment"] == "Agreed: treat it."
    assert export["case"]["id"] == world.ids["case1"]
    [entry] = export["photos"]
    assert entry["sha256"] == hashlib.sha256(photo).hexdigest() and entry["size"] == len(photo)
    assert entry["content_type"] == "image/jpeg" and entry["caption"] == "Bathroom ceiling"
    download = world.portal.client.get(entry["url"], headers=world.portal.admin)
    assert download.status_code == 200 and hashlib.sha256(download.content).hexdigest() == entry["sha256"]
    assert world.portal.client.get(entry["url"]).status_code == 401  # authenticated addresses only
    pdf = base64.b64decode(export["summary_pdf"]["base64"])
    assert pdf.startswith(b"%PDF") and len(pdf) == export["summary_pdf"]["size"]
    assert hashlib.sha256(pdf).hexdigest() == export["summary_pdf"]["sha256"]
    [logged] = [e for e in _events(world.portal, since) if e["action"] == "admin.export" and e["entity_id"] == visit_id]
    assert logged["details"] == {"photos": 1, "summary_pdf": True} and logged["actor_id"]


def test_a_visit_not_approved_is_a_409_saying_why(world: World) -> None:
    """Submitted (or returned) visits are not exported; unknown ids are 404; field roles are refused."""
    visit_id = _submitted(world)
    response = _export(world, visit_id)
    assert response.status_code == 409
    assert "submitted, not approved" in response.json()["error"]["message"]
    assert _export(world, "6f1d0c5e-4b8a-4e1f-9a37-0d2b8f6c1a99").status_code == 404
    assert _export(world, visit_id, world.auth["lead_a"]).status_code == 403
