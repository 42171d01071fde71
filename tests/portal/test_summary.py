"""The tenant's written summary on the portal: the letter endpoint and recording that it was issued."""

from __future__ import annotations

import hashlib
import io
import re
import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from portal.models import VisitRow
from tests.portal.conftest import World, jpeg_bytes

ASSESSMENT = {
    "finding": "significant", "hazards": ["Damp and mould growth"],
    "reasons": "Mould over the bathroom ceiling; the tenant has asthma.", "household_factors": ["asthma"],
    "make_safe_done": False, "safety_work": "Treat the mould and fix the extractor fan.",
    "supplementary_work": None, "alternative_accommodation": False,
}


def _upload(world: World, data: bytes) -> str:
    sha = hashlib.sha256(data).hexdigest()
    response = world.portal.call("PUT", f"/blobs/{sha}", headers={
        **world.auth["officer1"], "Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}",
        "Content-Type": "application/octet-stream"}, content=data)
    assert response.status_code == 201, response.text
    return sha


def _submitted(world: World, *, assessment: dict[str, Any] | None = ASSESSMENT, photo: bytes | None = None) -> str:
    """A submitted visit of officer1 on case1; the assessment is set on the stored document."""
    photos = []
    if photo is not None:
        photos = [{"id": str(uuid.uuid4()), "sha256": _upload(world, photo), "content_type": "image/jpeg",
                   "bytes": len(photo), "width": 64, "height": 48, "caption": "Bathroom ceiling"}]
    op = world.visit_op("officer1", "case1", photos=photos)
    [result] = world.portal.push(world.auth["officer1"], [op])
    assert result["status"] == "applied", result
    if assessment is not None:
        # A revision-2 document: the assessment rides on the visit (checked by the submit rules of issue 11).
        with world.portal.db.write() as session:
            visit = session.get(VisitRow, op["id"])
            visit.document = {**visit.document, "assessment": assessment}
    return str(op["id"])


def _letter(world: World, visit_id: str, who: str) -> Any:
    headers = world.portal.admin if who == "admin" else world.auth[who]
    return world.portal.call("GET", f"/visits/{visit_id}/summary.pdf", headers=headers)


def _text(pdf: bytes) -> str:
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))


def test_the_officer_gets_the_letter_as_a_pdf(world: World) -> None:
    """GET /visits/{id}/summary.pdf: a PDF, never cached, holding the tenant, the address, the finding and the work."""
    visit_id = _submitted(world, photo=jpeg_bytes((640, 480)))
    response = _letter(world, visit_id, "officer1")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "no-store"
    text = _text(response.content)
    for part in ("Grace Evans", "1 Mill Lane", "HM1 2AB", "Tuesday 3 March 2026", "officer1", "significant hazard",
                 "Damp and mould growth", "Treat the mould and fix the extractor fan", "Bathroom ceiling",
                 "emergency repairs line", "Harrowmere Borough Council"):
        assert part in text, part


def test_only_the_officer_a_lead_of_the_team_and_an_admin_get_the_letter(world: World) -> None:
    """Another officer or another team's lead gets 404, as for a visit that does not exist."""
    visit_id = _submitted(world)
    assert _letter(world, visit_id, "lead_a").status_code == 200
    assert _letter(world, visit_id, "admin").status_code == 200
    for who in ("officer2", "lead_b", "officer_b"):
        response = _letter(world, visit_id, who)
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found", who
    assert _letter(world, str(uuid.uuid4()), "officer1").status_code == 404
    assert world.portal.call("GET", f"/visits/{visit_id}/summary.pdf").status_code == 401


def test_a_visit_without_an_assessment_is_409_saying_what_to_fix(world: World) -> None:
    """No assessment: 409 no_assessment in the protocol's error body, with the fix in the message."""
    response = _letter(world, _submitted(world, assessment=None), "officer1")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "no_assessment" and "record the assessment" in error["message"]


def test_a_lost_photo_is_409_naming_it(world: World) -> None:
    """A photo whose blob is gone from the store: 409 blob_missing naming the photo, never a letter without it."""
    photo = jpeg_bytes((80, 60), (10, 20, 30))
    visit_id = _submitted(world, photo=photo)
    sha = hashlib.sha256(photo).hexdigest()
    Path(world.portal.settings.blob_dir, sha[:2], f"{sha}.bin").unlink()
    response = _letter(world, visit_id, "officer1")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "blob_missing" and error["details"]["hashes"] == [sha]
    assert "Bathroom ceiling" in error["message"]


def test_a_broken_template_is_422_naming_the_file_and_key(world: World, tmp_path: Path) -> None:
    """The council's template with an unknown placeholder: 422 naming the file and the key."""
    broken = tmp_path / "letter.toml"
    broken.write_text('[wording]\nif_worse = "Ring $emergancy"\n', encoding="utf-8")
    visit_id = _submitted(world)
    state = world.portal.client.app.state  # type: ignore[attr-defined]
    original = state.settings
    state.settings = replace(original, letter_template=broken)
    try:
        response = _letter(world, visit_id, "officer1")
    finally:
        state.settings = original
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "letter_template_invalid"
    assert str(broken) in error["message"] and "wording.if_worse" in error["message"]


def _issued_op(visit_id: str, base_version: int, *, method: str = "hand", at: str | None = None) -> dict[str, Any]:
    issued_at = at or datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return {"op_id": str(uuid.uuid4()), "entity": "visit", "id": visit_id, "kind": "summary_issued",
            "base_version": base_version, "data": {"method": method, "issued_at": issued_at}}


def _pulled_visit(world: World, who: str, visit_id: str) -> dict[str, Any]:
    changes, _ = world.portal.pull_all(world.auth[who])
    return next(c for c in changes if c["entity"] == "visit" and c["id"] == visit_id)


def test_the_officer_records_the_summary_handed_over(world: World) -> None:
    """A summary_issued op adds summary_issued {method, issued_at, by_id}; the visit's version and seq advance."""
    visit_id = _submitted(world)
    op = _issued_op(visit_id, 1, at="2026-03-03T11:00:00Z")
    [result] = world.portal.push(world.auth["officer1"], [op])
    assert result["status"] == "applied" and result["version"] == 2
    pulled = _pulled_visit(world, "officer1", visit_id)
    assert pulled["version"] == 2 and pulled["seq"] == result["seq"]
    assert pulled["data"]["summary_issued"] == {"method": "hand", "issued_at": "2026-03-03T11:00:00Z",
                                                "by_id": world.ids["officer1"]}
    assert _pulled_visit(world, "lead_a", visit_id)["data"]["summary_issued"]["method"] == "hand"
    [again] = world.portal.push(world.auth["officer1"], [op])
    assert again["status"] == "duplicate"


def test_a_stale_version_a_second_issue_and_a_stranger_are_refused(world: World) -> None:
    """Wrong base_version or already issued: conflict with the current visit; another team: not_found."""
    visit_id = _submitted(world)
    [stale] = world.portal.push(world.auth["officer1"], [_issued_op(visit_id, 7)])
    assert stale["status"] == "conflict" and stale["current"]["version"] == 1
    [stranger] = world.portal.push(world.auth["officer_b"], [_issued_op(visit_id, 1)])
    assert stranger["status"] == "rejected" and stranger["error"]["code"] == "not_found"
    [first] = world.portal.push(world.auth["lead_a"], [_issued_op(visit_id, 1, method="post")])
    assert first["status"] == "applied"
    [second] = world.portal.push(world.auth["officer1"], [_issued_op(visit_id, 2)])
    assert second["status"] == "conflict" and "already recorded" in second["error"]["message"]
    assert second["current"]["summary_issued"]["by_id"] == world.ids["lead_a"]


def test_an_issue_time_in_the_future_or_a_bad_method_is_rejected(world: World) -> None:
    """issued_at in the future, or before the visit, and an unknown method are rejected, naming the field."""
    visit_id = _submitted(world)
    later = (datetime.now(timezone.utc) + timedelta(days=2)).isoformat().replace("+00:00", "Z")
    results = world.portal.push(world.auth["officer1"], [
        _issued_op(visit_id, 1, at=later), _issued_op(visit_id, 1, at="2026-01-01T09:00:00Z"),
        _issued_op(visit_id, 1, method="pigeon")])
    assert [r["status"] for r in results] == ["rejected"] * 3
    assert "future" in results[0]["error"]["message"] and "before the inspection" in results[1]["error"]["message"]
    assert "method" in results[2]["error"]["details"]["fields"]


def test_the_crm_records_a_posted_summary(world: World) -> None:
    """POST /admin/visits/{id}/summary-issued: 200 with the visit; others 403; unknown visit 404."""
    visit_id = _submitted(world)
    body = {"method": "post", "issued_at": "2026-03-04T09:00:00Z"}
    path = f"/admin/visits/{visit_id}/summary-issued"
    assert world.portal.call("POST", path, headers=world.auth["lead_a"], json=body).status_code == 403
    response = world.portal.call("POST", path, headers=world.portal.admin, json=body)
    assert response.status_code == 200, response.text
    record = response.json()
    assert record["version"] == 2 and record["summary_issued"]["method"] == "post"
    assert _pulled_visit(world, "officer1", visit_id)["data"]["summary_issued"]["issued_at"] == "2026-03-04T09:00:00Z"
    again = world.portal.call("POST", path, headers=world.portal.admin, json=body)
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    unknown = world.portal.call("POST", f"/admin/visits/{uuid.uuid4()}/summary-issued", headers=world.portal.admin,
                                json=body)
    assert unknown.status_code == 404
    bad = world.portal.call("POST", path, headers=world.portal.admin, json={"method": "fax", "issued_at": "x"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_request"


def test_a_summary_handed_over_within_the_visits_first_second_is_recorded(world: World) -> None:
    """The laptop stamps the issue to the second and the start to the microsecond: the same second is not "before"."""
    visit_id = _submitted(world)
    with world.portal.db.write() as session:
        visit = session.get(VisitRow, visit_id)
        visit.document = {**visit.document, "started_at": "2026-03-03T11:00:00.750000Z"}
    [result] = world.portal.push(world.auth["officer1"], [_issued_op(visit_id, 1, at="2026-03-03T11:00:00Z")])
    assert result["status"] == "applied", result
