"""The compliance page (the reached cases by clock standing, with a chart) and its CSV download."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from portal.services import audit
from portal.services.audit import Action, Event
from portal.web.compliance import STANDINGS, by_stage, counts, csv_text, standings
from portal.web.guards import Reviewer
from portal.web.render import page
from sync.protocol import utc_now

router = APIRouter()


def _read(request: Request, user: Reviewer, what: str) -> list:  # type: ignore[type-arg]
    with request.app.state.db.read() as session:
        found = standings(session, user.caller, utc_now())
    audit.record(request.app.state.db, user.where, Event(Action.WEB_PAGE_READ, "case", None, {"page": what, "cases": len(found)}))
    return found


@router.get("/compliance")
def compliance(request: Request, user: Reviewer) -> Response:
    """Open cases by how their nearest statutory clock stands: a chart, the figures, and the cases."""
    found = _read(request, user, "compliance")
    totals = counts(found)
    return page(request, "compliance.html", {
        "user": user, "csrf": user.csrf, "title": "Compliance", "cases": found, "totals": totals,
        "standings": STANDINGS, "stages": by_stage(found), "peak": max(totals.values(), default=0) or 1,
    })


@router.get("/compliance.csv")
def compliance_csv(request: Request, user: Reviewer) -> Response:
    """The same cases as CSV."""
    found = _read(request, user, "compliance.csv")
    return Response(csv_text(found), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="compliance-{utc_now():%Y-%m-%d}.csv"'})
