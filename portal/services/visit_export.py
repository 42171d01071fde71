"""The CRM's export of an approved visit (issue 15 point 5): one JSON the CRM attaches to its own case.

It holds the visit as sync carries it (the officer's document — answers, hazards,
assessment, photos — with its status, review decision and summary_issued), the case's
``reference`` and ``external_ref``, each photo as an authenticated download address
with its sha256 and size (photos are content-addressed, so what the address serves is
what the hash names, however much later it is fetched), and the tenant's written
summary as PDF inline in base64 with its sha256 and size (a letter is made at the
moment of export, so it travels with it). Only approved visits are exported: what the
CRM files is what a lead signed off.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.blobstore import BlobStore
from portal.models import BlobRow, CaseRow, VisitRow
from portal.services import summary
from portal.services.records import public
from sync.protocol import API_PREFIX, VisitStatus, format_timestamp, utc_now


class NotExportable(Exception):
    """The visit is not approved: ``message`` says why and what to do."""

    def __init__(self, message: str, status: str) -> None:
        super().__init__(message)
        self.message, self.status = message, status


def _photos(session: Session, visit: VisitRow) -> list[dict[str, Any]]:
    entries = [p for p in visit.document.get("photos") or [] if isinstance(p, dict)]
    stored = {b.sha256: b for b in session.scalars(select(BlobRow).where(BlobRow.sha256.in_({p.get("sha256") for p in entries})))}
    photos = []
    for entry in entries:
        blob = stored.get(str(entry.get("sha256")))
        photos.append({
            "id": entry.get("id"), "question_id": entry.get("question_id"), "caption": entry.get("caption", ""),
            "sha256": entry.get("sha256"), "size": blob.total if blob is not None else entry.get("bytes"),
            "content_type": (blob.content_type if blob is not None else None) or entry.get("content_type"),
            "url": f"{API_PREFIX}/blobs/{entry.get('sha256')}",
        })
    return photos


def export(session: Session, blobs: BlobStore, visit: VisitRow, letter_template: Path | None, today: date) -> dict[str, Any]:
    """The export of an approved visit; ``NotExportable`` otherwise, ``fieldapp.letter.LetterError`` when its letter cannot be made."""
    if visit.status != VisitStatus.APPROVED:
        raise NotExportable(
            f"This visit is {visit.status}, not approved: only visits a lead has approved are exported. "
            "Export it once it is approved (GET /admin/visits?status=approved lists them).", visit.status)
    case = session.get(CaseRow, visit.case_id)
    pdf = summary.letter_pdf(session, blobs, visit, letter_template, today)
    return {
        "exported_at": format_timestamp(utc_now()),
        "visit": public(visit),
        "case": {"id": visit.case_id, "reference": case.reference if case else None, "external_ref": case.external_ref if case else None},
        "review": visit.review,
        "photos": _photos(session, visit),
        "summary_pdf": {
            "filename": f"summary-{visit.id}.pdf", "content_type": "application/pdf", "size": len(pdf),
            "sha256": hashlib.sha256(pdf).hexdigest(), "base64": base64.b64encode(pdf).decode("ascii"),
        },
    }
