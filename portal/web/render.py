"""Server-rendered pages: the Jinja2 environment, and the answers that end a request early.

Templates autoescape everything (an officer's text is shown, never run). A route or
dependency ends a request with a page by raising ``PageAnswer``; ``install`` registers
the router and the handler that sends it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from fieldapp.clock import parse_optional
from fieldapp.clocks import london_text, stage_text

_HERE = Path(__file__).resolve().parent
STATIC = _HERE / "static"
_ENV = Environment(loader=FileSystemLoader(_HERE / "templates"), autoescape=select_autoescape(["html"]),
                   trim_blocks=True, lstrip_blocks=True)
_ENV.filters["london"] = london_text


def when(text: str | None) -> str:
    """A stored timestamp as read in England (a text that is no timestamp is shown as it is)."""
    try:
        return london_text(parse_optional(text))
    except ValueError:
        return str(text)


_ENV.filters["when"] = when
_ENV.filters["stage"] = stage_text


class PageAnswer(Exception):
    """Ends the request with this response (a sign-in redirect, a "not for your role" page, a refusal)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def page(request: Request, template: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    """The template rendered with the request, signed-in person and CSRF token the layout needs."""
    values = {"request": request, "user": None, "csrf": "", "title": "", **context}
    return HTMLResponse(_ENV.get_template(template).render(values), status_code=status)


def to_sign_in(request: Request) -> PageAnswer:
    """To the sign-in page (303: the browser follows with a GET), which comes back to this page after."""
    back = request.url.path if request.method == "GET" and local_page(request.url.path) else ""
    return PageAnswer(RedirectResponse(f"/web/sign-in?{urlencode({'next': back})}" if back else "/web/sign-in", status_code=303))


def local_page(path: str) -> bool:
    """Whether ``path`` is one of these pages' own addresses (so a redirect there never leaves the portal)."""
    return path.startswith("/web/") and not path.startswith("/web/sign-") and "//" not in path and "\\" not in path


def install(app: FastAPI) -> None:
    """The web pages on the app: their router and the handler of ``PageAnswer``."""
    from portal.web.routes import router

    async def _answer(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageAnswer)
        return exc.response

    app.add_exception_handler(PageAnswer, _answer)
    app.include_router(router)
