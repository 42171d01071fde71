"""Request dependencies of the web pages: who is signed in, whether their role may use the pages,
and the posted form with its CSRF token checked."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import Depends, Request

from portal.web.reach import WEB_ROLES
from portal.web.render import PageAnswer, page, to_sign_in
from portal.web.session import WebUser, csrf_ok, signed_in

Form = dict[str, str]
#: The most fields a form of these pages has; more is not a form of ours.
_MAX_FIELDS = 20


def web_user(request: Request) -> WebUser:
    """The signed-in person, or a redirect to the sign-in page."""
    user = signed_in(request)
    if user is None:
        raise to_sign_in(request)
    return user


SignedIn = Annotated[WebUser, Depends(web_user)]


async def reviewer(request: Request, user: SignedIn) -> WebUser:
    """A lead or a manager (admin); anyone else gets the "not for your role" page."""
    if user.found.user.role not in WEB_ROLES:
        raise PageAnswer(page(request, "not_for_role.html", {"user": user, "csrf": user.csrf, "title": "Not for your role"}, 403))
    return user


Reviewer = Annotated[WebUser, Depends(reviewer)]


async def read_form(request: Request) -> Form:
    """The posted form's fields (first value of each); a body that is no form of ours is refused with a page."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise PageAnswer(page(request, "error.html", {"title": "Not a form", "message": "Send this page's form from the portal's own page."}, 415))
    try:
        pairs = parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True, max_num_fields=_MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        raise PageAnswer(page(request, "error.html", {"title": "Not a form", "message": "The form could not be read; go back and send it again."}, 400)) from None
    form: Form = {}
    for name, value in pairs:
        form.setdefault(name, value.replace("\x00", ""))
    return form


def refuse_forgery(request: Request, user: WebUser | None) -> PageAnswer:
    """403: the form did not carry this session's token (another site's form, or a stale page)."""
    return PageAnswer(page(request, "error.html", {
        "user": user, "csrf": user.csrf if user else "", "title": "Form refused",
        "message": "This form did not come from your current portal page, so nothing was changed. "
                   "Go back, reload the page and send it again.",
    }, 403))


async def checked_form(request: Request, user: SignedIn) -> Form:
    """The posted form of a signed-in person, its CSRF token checked against their session."""
    form = await read_form(request)
    if not csrf_ok(user.csrf, form.get("csrf")):
        raise refuse_forgery(request, user)
    return form


CheckedForm = Annotated[Form, Depends(checked_form)]
