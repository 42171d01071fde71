"""Sign in and sign out of the web pages, through the portal's own sign-in (``portal.services.auth``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from portal.errors import ApiError
from portal.services import auth
from portal.web.guards import CheckedForm, SignedIn, read_form, refuse_forgery
from portal.web.render import local_page, page
from portal.web.session import (
    DEVICE_NAME,
    address_of,
    cookies_refused,
    csrf_ok,
    csrf_token,
    device_id,
    end_session,
    keep_device,
    new_device_id,
    signed_in,
    start_session,
)
from sync.protocol import LoginRequest

router = APIRouter()
_HOME = "/web/queue"


def _next(value: str | None) -> str:
    """Where to go after signing in: the page asked for when it is one of ours, else the queue."""
    return value if value and local_page(value) else _HOME


def _form(request: Request, device: str, username: str = "", errors: dict[str, str] | None = None,
          message: str = "", status: int = 200, after: str | None = None) -> Response:
    answer = page(request, "sign_in.html", {
        "next": _next(after if after is not None else request.query_params.get("next")),
        "title": "Sign in", "csrf": csrf_token(device, "sign-in"), "username": username, "errors": errors or {},
        "message": message, "signed_out": request.query_params.get("signed_out") == "1", "insecure": cookies_refused(request),
    }, status)
    keep_device(answer, device)
    return answer


@router.get("/sign-in")
def sign_in_page(request: Request) -> Response:
    """The sign-in form (straight to the queue when already signed in)."""
    if signed_in(request) is not None:
        return RedirectResponse(_next(request.query_params.get("next")), status_code=303)
    return _form(request, device_id(request) or new_device_id())


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    """Check the username and password as the laptop's sign-in does (same throttle and audit)."""
    form = await read_form(request)
    device = device_id(request)
    if device is None or not csrf_ok(csrf_token(device, "sign-in"), form.get("csrf")):
        raise refuse_forgery(request, None)
    username, password = form.get("username", "").strip(), form.get("password", "")
    errors = {name: text for name, text, value in (
        ("username", "Enter your username.", username), ("password", "Enter your password.", password)) if not value}
    after = _next(form.get("next"))
    if errors:
        return _form(request, device, username, errors, status=422, after=after)
    try:
        body = LoginRequest(username=username, password=password, device_id=device, device_name=DEVICE_NAME)
        settings = request.app.state.settings
        session = await run_in_threadpool(auth.login, request.app.state.db, body, settings, address_of(request))
    except ValidationError:
        return _form(request, device, username[:150], {"username": "This username is too long; check it."}, status=422, after=after)
    except ApiError as refused:
        # A wrong password, an unknown user and a disabled account read alike; too many tries says when to retry.
        return _form(request, device, username, {"password": refused.message}, refused.message, status=refused.status, after=after)
    answer = RedirectResponse(after, status_code=303)
    start_session(answer, session.token, settings.token_hours)
    return answer


@router.post("/sign-out")
def sign_out(request: Request, user: SignedIn, _checked: CheckedForm) -> Response:
    """End the session on the portal (its token is revoked) and in the browser."""
    auth.logout(request.app.state.db, user.token, user.where)
    answer = RedirectResponse("/web/sign-in?signed_out=1", status_code=303)
    end_session(answer)
    return answer
