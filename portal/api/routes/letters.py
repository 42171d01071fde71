"""The tenant's written summary: the letter of a visit, and the CRM recording that it was issued."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from fieldapp.letter import LetterError, LetterTemplateError
from fieldapp.letter.words import LONDON
from portal.api.deps import AdminDep, BlobsDep, CallerDep, DbDep, JsonBody, SettingsDep, WhereDep
from portal.api.rows import row_or_404
from portal.api.schemas import RecordPublic
from portal.errors import ApiError, invalid_request, not_found
from portal.models import VisitRow
from portal.openapi import error_responses
from portal.services import audit, summary
from portal.services.audit import Action, Event
from portal.services.records import public
from sync.protocol import SummaryIssuedData, utc_now

router = APIRouter(tags=["letters"])


def letter_error(exc: LetterError) -> ApiError:
    """A broken template is the council's setting to fix (422); anything else is the visit's state (409)."""
    status = 422 if isinstance(exc, LetterTemplateError) else 409
    return ApiError(status, exc.code, exc.message, exc.details)


@router.get("/visits/{visit_id}/summary.pdf", response_class=Response, responses={
    200: {"content": {"application/pdf": {}}, "description": "The letter, as PDF."}, **error_responses(409)})
def summary_pdf(visit_id: str, caller: CallerDep, db: DbDep, blobs: BlobsDep, settings: SettingsDep, where: WhereDep) -> Response:
    """The letter to the tenant for a visit (its officer, a lead of its team, an admin; else 404)."""
    with db.read() as session:
        visit = row_or_404(session, VisitRow, visit_id, "visit")
        if not summary.may_read_letter(session, caller, visit):
            raise not_found("visit")
        try:
            pdf = summary.letter_pdf(session, blobs, visit, settings.letter_template,
                                     utc_now().astimezone(LONDON).date())
        except LetterError as exc:
            raise letter_error(exc) from None
    audit.record(db, where, Event(Action.LETTER_READ, "visit", visit_id))
    return Response(pdf, media_type="application/pdf", headers={
        "Cache-Control": "no-store",  # personal data: never kept by a proxy or the browser
        "Content-Disposition": f'inline; filename="summary-{visit_id}.pdf"'})


@router.post("/admin/visits/{visit_id}/summary-issued", response_model=RecordPublic, responses=error_responses(409))
def summary_issued(visit_id: str, admin: AdminDep, _json: JsonBody, body: SummaryIssuedData, db: DbDep, where: WhereDep) -> dict[str, Any]:
    """The CRM posted (or emailed) the summary: the visit records it and the summary clock is met."""
    with db.write() as session:
        visit = row_or_404(session, VisitRow, visit_id, "visit", for_update=True)
        try:
            summary.record_issued(session, admin.id, visit, body)
        except summary.SummaryRefused as refused:
            if refused.status == "conflict":
                raise ApiError(409, refused.code, refused.message, {"current": public(visit)}) from None
            raise invalid_request(refused.fields, refused.message) from None
        audit.add(session, where, [Event(Action.ADMIN_UPDATE, "visit", visit.id, {"fields": ["summary_issued"], "method": str(body.method)})])
        return public(visit)
