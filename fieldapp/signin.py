"""Who works in this store: recording a sign-in, refusing one that would lose another user's unsent work,
and the signed-in user that recording visits, decisions and reports needs."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from fieldapp import drafts as draft_rules
from fieldapp import sync_apply
from fieldapp.errors import ValidationError
from fieldapp.models import OutboxRow, ProblemRow, SyncStateRow, VisitRow
from fieldapp.records import user_info
from fieldapp.types import UserInfo


def signed_in_user(session: Session) -> UserInfo:
    """The user who works in this store; ValidationError saying what to do when nobody signed in yet."""
    state = session.get(SyncStateRow, 1)
    user = user_info(state) if state is not None else None
    if user is None:
        raise ValidationError("Sign in to the portal once before recording visits.")
    return user


def record_sign_in(session: Session, user: UserInfo, portal_url: str) -> list[str]:
    """Record ``user`` of ``portal_url``; the hashes of photo files no longer needed (to remove after commit).

    A different user, or a different portal, starts from empty: the previous user's portal
    data is removed (it is not in the new user's scope), unless their work is unsent here.
    """
    dropped: list[str] = []
    state = session.get(SyncStateRow, 1)
    assert state is not None
    switching = (state.user_id is not None and state.user_id != user.id) or (
        state.portal_url is not None and state.portal_url.rstrip("/") != portal_url.rstrip("/"))
    if switching:
        unsent = session.scalar(select(func.count()).select_from(OutboxRow)) or 0
        drafts = [v for v in session.scalars(select(VisitRow)) if sync_apply.has_local_work(session, v)]
        if unsent or drafts:
            # A sync sends only submitted work: drafts need their officer to submit or discard them.
            own_drafts = draft_rules.list_drafts(session)
            todo = (f"Sign in as {state.username}, submit or discard the drafts of cases "
                    f"{', '.join(sorted({d.case_reference for d in own_drafts}))}, then sync."
                    if own_drafts else f"Sign in as {state.username} and sync first.")
            raise ValidationError(
                f"Work of {state.display_name or state.username} on this laptop is not sent yet. {todo}")
        dropped = sync_apply.reset_portal_data(session)
        session.execute(delete(VisitRow))
        session.execute(delete(ProblemRow))
    state.user_id, state.username, state.display_name = user.id, user.username, user.display_name
    state.role, state.team_id, state.portal_url = user.role, user.team_id, portal_url
    return dropped
