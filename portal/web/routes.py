"""The web pages' router: ``/web`` and its stylesheet, and the pages of ``routes_*``."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse, Response

from portal.headers import WEB_PREFIX
from portal.web import routes_compliance, routes_review, routes_signin
from portal.web.render import STATIC

router = APIRouter(prefix=WEB_PREFIX, include_in_schema=False)
for _module in (routes_signin, routes_review, routes_compliance):
    router.include_router(_module.router)


@router.get("")
@router.get("/")
def home() -> Response:
    """The review queue is the home page."""
    return RedirectResponse(f"{WEB_PREFIX}/queue", status_code=303)


@router.get("/static/site.css")
def stylesheet() -> Response:
    """The one stylesheet (no personal data: browsers may keep it a day)."""
    return FileResponse(STATIC / "site.css", media_type="text/css", headers={"Cache-Control": "public, max-age=86400"})
