"""Signing in and out: one place that ties the portal token, the store's user and the keyring.

`sign_in` logs in, records the user in the store (the store refuses a different user
while someone else's work is unsent) and keeps the token through `sync.credentials`.
`restore` rebuilds a signed-in client at start-up from the store and the keyring,
or returns None when the user must sign in.
"""

from __future__ import annotations

import logging
import platform
from fieldapp.types import UserInfo
from sync import credentials
from sync.client import PortalClient
from sync.store_api import SessionStore

log = logging.getLogger(__name__)


def sign_in(store: SessionStore, portal_url: str, username: str, password: str, *,
            ca_bundle: str | None = None) -> PortalClient:
    """Log in to the portal as this laptop's device and return a signed-in client."""
    client = PortalClient(portal_url, ca_bundle=ca_bundle)
    device_id = store.sync_state().device_id
    result = client.login(username, password, device_id, device_name=platform.node()[:200] or None)
    user = UserInfo(id=result.user.id, username=result.user.username, display_name=result.user.display_name,
                    role=str(result.user.role), team_id=result.user.team_id)
    try:
        store.sign_in(user, client.base_url)
    except Exception:
        # The store refused (for example another officer's work is unsent): do not leave a live token behind.
        client.logout()
        raise
    if not credentials.save_token(client.base_url, user.username, result.token):
        log.info("no OS keyring: the portal token is kept in memory only")
    return client


def restore(store: SessionStore, *, ca_bundle: str | None = None) -> PortalClient | None:
    """A client with the kept token of the store's user, or None if they must sign in."""
    state = store.sync_state()
    if state.user is None or not state.portal_url:
        return None
    token = credentials.load_token(state.portal_url, state.user.username)
    if not token:
        return None
    return PortalClient(state.portal_url, ca_bundle=ca_bundle, token=token)


def session_ended(store: SessionStore) -> None:
    """The portal refused the token (revoked or expired): forget it, so no restart tries it again.

    Nothing else changes: unsent work stays queued for the next sign-in.
    """
    state = store.sync_state()
    if state.user is not None and state.portal_url:
        credentials.delete_token(state.portal_url, state.user.username)


def sign_out(store: SessionStore, client: PortalClient) -> None:
    """Revoke the token on the portal (best effort) and forget it on this laptop."""
    state = store.sync_state()
    try:
        client.logout()
    except Exception as exc:  # offline sign-out must still forget the token locally
        log.info("could not revoke the token on the portal: %s", exc)
        client.token = None
    if state.user is not None and state.portal_url:
        credentials.delete_token(state.portal_url, state.user.username)
