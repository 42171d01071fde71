"""The review queue, a visit's page with its photos and written summary, and the lead's decision.

Photos and the summary are answered by the API's own route functions (the same access
rules and audit events as the laptop's downloads); a decision is a ``review``/``decide``
op applied by the same push service as the laptop's (``audit_sync.push_recorded``).
"""

from __future__ import annotations

import io
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from PIL import Image
from starlette.concurrency import run_in_threadpool

from portal.api.routes import blobs as blob_routes
from portal.api.routes import letters as letter_routes
from portal.errors import ApiError
from portal.services import audit
from portal.services.audit import Action, Event
from portal.services.audit_sync import push_recorded
from portal.web.guards import CheckedForm, Reviewer
from portal.web.queue import review_queue
from portal.web.render import PageAnswer, page
from portal.web.session import WebUser
from portal.web.visit_view import VisitView, visit_view
from sync.protocol import COMMENT_MAX_CHARS, UUID_RE, Decision, utc_now

router = APIRouter()
THUMBNAIL_EDGE = 320


def _common(user: WebUser, title: str) -> dict[str, Any]:
    return {"user": user, "csrf": user.csrf, "title": title}


def _missing(request: Request, user: WebUser, what: str) -> PageAnswer:
    return PageAnswer(page(request, "error.html", {
        **_common(user, "Not found"), "message": f"No such {what}, or it is not yours to see. Go back to the review queue."}, 404))


def _view(request: Request, user: WebUser, visit_id: str) -> VisitView:
    if not UUID_RE.fullmatch(visit_id):
        raise _missing(request, user, "visit")
    with request.app.state.db.read() as session:
        view = visit_view(session, user.caller, visit_id, utc_now())
    if view is None:
        raise _missing(request, user, "visit")
    return view


@router.get("/queue")
def queue(request: Request, user: Reviewer) -> Response:
    """The submitted visits waiting for review, nearest statutory deadline first."""
    with request.app.state.db.read() as session:
        rows = review_queue(session, user.caller, utc_now())
    audit.record(request.app.state.db, user.where, Event(Action.WEB_PAGE_READ, "visit", None, {"page": "queue", "visits": len(rows)}))
    decided = request.query_params.get("decided", "")
    return page(request, "queue.html", {**_common(user, "Review queue"), "rows": rows,
                                        "decided": decided if decided in {d.value for d in Decision} else ""})


def _visit_page(request: Request, user: WebUser, view: VisitView, form: dict[str, str] | None = None,
                errors: dict[str, str] | None = None, message: str = "", status: int = 200) -> Response:
    return page(request, "visit.html", {
        **_common(user, f"Visit for case {view.case.reference}"), "v": view, "form": form or {}, "errors": errors or {},
        "message": message, "comment_max": COMMENT_MAX_CHARS,
    }, status)


@router.get("/visits/{visit_id}")
def visit(visit_id: str, request: Request, user: Reviewer) -> Response:
    """A visit with its answers, hazards, assessment, photos, written summary and review."""
    view = _view(request, user, visit_id)
    audit.record(request.app.state.db, user.where, Event(Action.WEB_PAGE_READ, "visit", visit_id, {"page": "visit"}))
    return _visit_page(request, user, view)


@router.post("/visits/{visit_id}/decision")
def decide(visit_id: str, request: Request, user: Reviewer, form: CheckedForm) -> Response:
    """Approve or return the visit: the laptop's ``review``/``decide`` op, through the same push service."""
    view = _view(request, user, visit_id)
    decision, comment = form.get("decision", ""), form.get("comment", "")
    if decision not in {d.value for d in Decision}:
        return _visit_page(request, user, view, form, {"decision": "Choose Approve or Return."}, "Choose Approve or Return.", 422)
    op = {"op_id": str(uuid.uuid4()), "entity": "review", "id": str(uuid.uuid4()), "kind": "decide", "base_version": 0,
          "data": {"visit_id": visit_id, "decision": decision, "comment": comment}}
    result = push_recorded(request.app.state.db, user.caller, [op], user.where)[0]
    if result["status"] == "applied":
        return RedirectResponse(f"/web/queue?decided={decision}", status_code=303)
    error = result.get("error") or {}
    fields = {name: str(text) for name, text in ((error.get("details") or {}).get("fields") or {}).items()}
    if "comment" in fields:
        fields["comment"] = error.get("message", fields["comment"])
    status = 409 if result["status"] == "conflict" else 422
    return _visit_page(request, user, _view(request, user, visit_id), form, fields, str(error.get("message", "")), status)


def _photo_of(request: Request, user: WebUser, visit_id: str, sha256: str) -> tuple[VisitView, dict[str, Any]]:
    """The visit and its photo; a 404 page unless the photo belongs to the visit and the caller reaches the visit."""
    view = _view(request, user, visit_id)
    found = next((p for p in view.photos if p["sha256"] == sha256), None)
    if found is None:
        raise _missing(request, user, "photo")
    return view, found


def _download(request: Request, user: WebUser, sha256: str) -> Response:
    try:
        return blob_routes.download(sha256, user.caller, request.app.state.db, request.app.state.blobs, user.where)
    except ApiError as refused:
        raise _missing(request, user, "photo") from refused


@router.get("/visits/{visit_id}/photos/{sha256}")
def photo_page(visit_id: str, sha256: str, request: Request, user: Reviewer) -> Response:
    """A page with the photo at full size, its caption and the way back to the visit."""
    view, found = _photo_of(request, user, visit_id, sha256)
    return page(request, "photo.html", {**_common(user, f"Photo {found['number']} of case {view.case.reference}"),
                                        "v": view, "p": found})


@router.get("/visits/{visit_id}/photos/{sha256}/full")
def photo(visit_id: str, sha256: str, request: Request, user: Reviewer) -> Response:
    """The photo's bytes at full size (the API's download: its access rule and audit event)."""
    _photo_of(request, user, visit_id, sha256)
    return _download(request, user, sha256)


def _thumbnail(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        image.draft("RGB", (THUMBNAIL_EDGE, THUMBNAIL_EDGE))  # JPEG: decode at a fraction of the size
        small = image.convert("RGB")
        small.thumbnail((THUMBNAIL_EDGE, THUMBNAIL_EDGE))
        out = io.BytesIO()
        small.save(out, "JPEG", quality=80)
        return out.getvalue()


@router.get("/visits/{visit_id}/photos/{sha256}/thumbnail")
async def thumbnail(visit_id: str, sha256: str, request: Request, user: Reviewer) -> Response:
    """The photo made small for the visit page (read through the same download as full size)."""
    await run_in_threadpool(_photo_of, request, user, visit_id, sha256)
    full = await run_in_threadpool(_download, request, user, sha256)
    data = b"".join([chunk async for chunk in full.body_iterator])  # type: ignore[attr-defined]
    return Response(await run_in_threadpool(_thumbnail, data), media_type="image/jpeg")


@router.get("/visits/{visit_id}/summary.pdf")
def summary_pdf(visit_id: str, request: Request, user: Reviewer) -> Response:
    """The written summary to the tenant (the API's ``GET /visits/{id}/summary.pdf``)."""
    _view(request, user, visit_id)
    state = request.app.state
    try:
        return letter_routes.summary_pdf(visit_id, user.caller, state.db, state.blobs, state.settings, user.where)
    except ApiError as refused:
        raise PageAnswer(page(request, "error.html", {
            **_common(user, "No written summary"), "message": refused.message}, refused.status)) from refused
