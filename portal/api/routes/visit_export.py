"""``GET /admin/visits/{id}/export``: an approved visit with its photos and written summary, for the CRM."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from fieldapp.letter import LetterError
from fieldapp.letter.words import LONDON
from portal.api.deps import AdminDep, BlobsDep, DbDep, SettingsDep, WhereDep
from portal.api.routes.letters import letter_error
from portal.api.rows import row_or_404
from portal.errors import ApiError
from portal.models import VisitRow
from portal.openapi import error_responses
from portal.services import audit, visit_export
from portal.services.audit import Action, Event
from sync.protocol import ErrorCode, utc_now

router = APIRouter(prefix="/admin", tags=["admin"])


class VisitExport(BaseModel):
    """The export (portal/README.md, "Exporting a visit to the CRM")."""

    model_config = ConfigDict(extra="allow")
    exported_at: str
    visit: dict[str, Any]
    case: dict[str, Any]
    review: dict[str, Any] | None
    photos: list[dict[str, Any]]
    summary_pdf: dict[str, Any]


@router.get("/visits/{visit_id}/export", response_model=VisitExport, responses=error_responses(409))
def export_visit(visit_id: str, _admin: AdminDep, db: DbDep, blobs: BlobsDep, settings: SettingsDep, where: WhereDep) -> dict[str, Any]:
    """An approved visit as JSON: its document, review, photos (download addresses) and summary PDF (base64)."""
    with db.read() as session:
        visit = row_or_404(session, VisitRow, visit_id, "visit")
        try:
            answer = visit_export.export(session, blobs, visit, settings.letter_template, utc_now().astimezone(LONDON).date())
        except visit_export.NotExportable as exc:
            raise ApiError(409, ErrorCode.CONFLICT, exc.message, {"status": exc.status}) from None
        except LetterError as exc:
            raise letter_error(exc) from None
    # Who exported which visit, and how much of it: never its contents.
    audit.record(db, where, Event(Action.ADMIN_EXPORT, "visit", visit_id, {"photos": len(answer["photos"]), "summary_pdf": True}))
    return answer
