"""`PortalClient`: the field app's side of every call in PROTOCOL.md, over one `requests` Session.

Every call has explicit (connect, read) timeouts. Network errors, 5xx and 429 are
retried with exponential backoff and full jitter, honouring ``Retry-After``
(`sync.retry`); any other 4xx is final. Blob chunk uploads are the exception: they
are not retried here, because after a failure the committed offset must be asked
for first (the uploader in `sync.blobs` does that). Failures come out as
`sync.errors` exceptions whose messages a person can act on.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pydantic_core
import requests

from sync import protocol as p
from sync.pull_page import Page, read_page
from sync.errors import (
    AuthRequired,
    MalformedPage,
    PortalRedirected,
    PortalError,
    PortalUnavailable,
    PortalUnreachable,
    SyncCancelled,
    SyncError,
    TLSVerificationFailed,
)
from sync.retry import RetryPolicy, is_retryable_status, parse_retry_after
from sync.transport import build_session, check_portal_url

log = logging.getLogger(__name__)

Timeout = tuple[float, float]
DEFAULT_TIMEOUT: Timeout = (5.0, 30.0)   # (connect, read) seconds
PULL_TIMEOUT: Timeout = (5.0, 60.0)      # a page of 1000 changes may take the portal a while
UPLOAD_TIMEOUT: Timeout = (5.0, 120.0)   # a chunk over a slow uplink

_NETWORK_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)


@dataclass(frozen=True)
class ChunkResult:
    """What the portal said to one chunk: the committed offset, or that the blob is complete."""

    complete: bool
    offset: int


class PortalClient:
    """A signed-in (or not yet) connection to one portal; safe to use from one thread at a time."""

    def __init__(
        self,
        base_url: str,
        *,
        ca_bundle: str | None = None,
        token: str | None = None,
        retry: RetryPolicy | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
    ) -> None:
        self.base_url = check_portal_url(base_url)
        self._api = self.base_url + p.API_PREFIX
        self.token = token
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        # Set by the engine for the length of a run, so that a backoff wait ends at once on cancel.
        self.cancel: threading.Event | None = None
        self.request_count = 0
        self._ca_bundle = ca_bundle
        self._session = build_session(ca_bundle)

    def worker(self, *, cancel: threading.Event | None = None) -> "PortalClient":
        """Another client for one more thread: same portal, sign-in, retries and timeouts, its own connection.

        Its ``request_count`` starts at 0 (the caller adds it back); ``cancel`` ends its backoff waits.
        """
        clone = copy.copy(self)   # a shallow copy keeps a subclass's own settings (the tests' recorded waits)
        clone.cancel = cancel
        clone.request_count = 0
        clone._session = build_session(self._ca_bundle, pool_size=1)
        return clone

    # ------------------------------------------------------------ auth

    def login(self, username: str, password: str, device_id: str, device_name: str | None = None) -> p.LoginResponse:
        """Sign in; keeps the token for the following calls."""
        body = p.LoginRequest(username=username, password=password, device_id=device_id,
                              device_name=device_name).model_dump(exclude_none=True)
        response = self._call("POST", "/auth/login", json=body, auth=False)
        result = p.LoginResponse.model_validate_json(response.content)
        self.token = result.token
        return result

    def logout(self) -> None:
        """Revoke the token on the portal (an expired token is fine: it is gone either way)."""
        if not self.token:
            return
        try:
            self._call("POST", "/auth/logout", retry=False)
        except AuthRequired:
            pass
        finally:
            self.token = None

    # ------------------------------------------------------------ sync

    def health(self) -> p.Health:
        return p.Health.model_validate_json(self._call("GET", "/health", auth=False).content)

    def meta(self) -> p.SyncMeta:
        meta = p.SyncMeta.model_validate_json(self._call("GET", "/sync/meta").content)
        if meta.protocol != p.PROTOCOL_VERSION:
            raise SyncError(
                f"The portal speaks sync protocol {meta.protocol}, this app speaks {p.PROTOCOL_VERSION}. "
                "Install the app version IT provides for this portal."
            )
        return meta

    def pull_page(self, cursor: int, limit: int = 500) -> Page:
        """One page of changes after ``cursor``: (changes, next_cursor, has_more); PortalError 410
        resync_required when the cursor is too old, `MalformedPage` when the page is not the protocol's shape.

        The changes stay the plain dicts the store applies, their shape checked by `sync.pull_page`
        (a pydantic model per change cost several times the parsing). The body is parsed by
        pydantic_core (6 ms for a page of 1,000 changes here, ``json.loads`` 12 ms), ``json.loads``
        taking only what that refuses.
        """
        response = self._call("GET", "/sync/pull", params={"cursor": cursor, "limit": limit}, timeout=PULL_TIMEOUT)
        try:
            body = pydantic_core.from_json(response.content)
        except ValueError:
            try:
                body = response.json()
            except ValueError:
                raise MalformedPage("the answer is not JSON") from None
        return read_page(body)

    def push(self, device_id: str, ops: Sequence[Mapping[str, Any] | Any]) -> p.PushResponse:
        """Push a batch of ops (protocol dicts or objects with ``to_wire()``); replaying is safe."""
        wire = [op.to_wire() if hasattr(op, "to_wire") else dict(op) for op in ops]
        response = self._call("POST", "/sync/push", json={"device_id": device_id, "ops": wire})
        result = p.PushResponse.model_validate_json(response.content)
        if len(result.results) != len(wire):
            raise SyncError(
                f"The portal answered {len(result.results)} results to {len(wire)} ops. "
                "Nothing was lost; try again, and tell IT if it keeps happening."
            )
        return result

    # ------------------------------------------------------------ blobs

    def blobs_missing(self, hashes: Iterable[str]) -> list[str]:
        """The hashes the portal does not hold complete."""
        response = self._call("POST", "/blobs/missing", json={"hashes": list(hashes)})
        return p.BlobMissingResponse.model_validate_json(response.content).missing

    def upload_state(self, sha256: str) -> p.BlobUploadState:
        """How many bytes of the blob the portal has committed."""
        return p.BlobUploadState.model_validate_json(self._call("GET", f"/blobs/{sha256}/upload").content)

    def put_chunk(self, sha256: str, chunk: bytes, start: int, total: int) -> ChunkResult:
        """Send one chunk at ``start``; no retry here (see `sync.blobs`)."""
        content_range = p.ContentRange(start=start, end=start + len(chunk) - 1, total=total).header()
        response = self._call(
            "PUT", f"/blobs/{sha256}", data=chunk, retry=False, timeout=UPLOAD_TIMEOUT,
            headers={"Content-Range": content_range, "Content-Type": "application/octet-stream"},
        )
        if response.status_code == 201:
            return ChunkResult(complete=True, offset=total)
        return ChunkResult(complete=False, offset=int(response.json()["offset"]))

    def download_blob(self, sha256: str) -> bytes:
        """A photo's bytes, verified against its name."""
        response = self._call("GET", f"/blobs/{sha256}", timeout=UPLOAD_TIMEOUT,
                              headers={"Accept": "image/jpeg, image/png, */*"})
        data = response.content
        if hashlib.sha256(data).hexdigest() != sha256:
            raise PortalUnreachable(f"Photo {sha256[:12]}… arrived damaged (its bytes do not match its name). Try again.")
        return data

    def close(self) -> None:
        self._session.close()

    # ------------------------------------------------------------ plumbing

    def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: bytes | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout | None = None,
        retry: bool = True,
        auth: bool = True,
    ) -> requests.Response:
        """One protocol call with retries; returns a 2xx response or raises a `sync.errors` error."""
        url = self._api + path
        all_headers = dict(headers or {})
        if auth:
            if not self.token:
                raise AuthRequired("You are not signed in to the portal. Sign in again.")
            all_headers["Authorization"] = f"Bearer {self.token}"
        attempts = self.retry.attempts if retry else 1
        for attempt in range(1, attempts + 1):
            self._check_cancel()
            try:
                self.request_count += 1
                response = self._session.request(method, url, json=json, data=data, params=params,
                                                 headers=all_headers, timeout=timeout or self.timeout)
            except requests.exceptions.SSLError as exc:
                raise TLSVerificationFailed(
                    f"The portal at {self.base_url} did not prove its identity (TLS certificate not trusted: "
                    f"{_reason(exc)}). Check the portal address; if your council uses its own certificates, "
                    "ask IT to install them or to set the CA bundle."
                ) from exc
            except _NETWORK_ERRORS as exc:
                if attempt == attempts:
                    raise PortalUnreachable(
                        f"Cannot reach the portal at {self.base_url} ({_reason(exc)}). "
                        "Check the network connection or VPN and sync again; nothing was lost."
                    ) from exc
                self.backoff_wait(self.retry.delay(attempt, None), f"{method} {path}: {_reason(exc)}")
                continue
            if 300 <= response.status_code < 400:
                raise PortalRedirected(response.status_code, self.base_url, response.headers.get("Location", ""))
            if response.status_code < 400:
                return response
            if retry and is_retryable_status(response.status_code) and attempt < attempts:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                if retry_after is None or retry_after <= self.retry.max_retry_after:
                    self.backoff_wait(self.retry.delay(attempt, retry_after), f"{method} {path}: HTTP {response.status_code}")
                    continue
            raise self._error_for(response, method, path)
        raise AssertionError("unreachable")  # pragma: no cover - the loop always returns or raises

    def _error_for(self, response: requests.Response, method: str, path: str) -> SyncError:
        """The `sync.errors` exception for a 4xx/5xx answer, from its protocol error body."""
        status = response.status_code
        code, message, details = _parse_error_body(response)
        if status == 401 and code != "invalid_credentials":
            self.token = None
            return AuthRequired(message or "Your sign-in to the portal has expired or was revoked. Sign in again.")
        if not message:
            message = f"The portal answered HTTP {status} to {method} {path}."
        if is_retryable_status(status):
            wait = parse_retry_after(response.headers.get("Retry-After"))
            hint = f" Try again in {_human_seconds(wait)}." if wait else " Try again later; nothing was lost."
            if "try again" in message.lower():   # the portal's own sentence already says when
                hint = ""
            return PortalUnavailable(status, code or "unavailable", message.rstrip() + hint, details, retry_after=wait)
        return PortalError(status, code or f"http_{status}", message, details)

    def backoff_wait(self, seconds: float, why: str) -> None:
        """Sleep before a retry; ends early with SyncCancelled when the run is cancelled."""
        log.info("retrying in %.2fs after %s", seconds, why)
        if self.cancel is not None:
            if self.cancel.wait(seconds):
                raise SyncCancelled("Sync cancelled.")
        else:
            time.sleep(seconds)

    def _check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise SyncCancelled("Sync cancelled.")

    def __enter__(self) -> "PortalClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _parse_error_body(response: requests.Response) -> tuple[str, str, dict[str, Any]]:
    """(code, message, details) from ``{"error": {...}}``; empty strings when the body is something else."""
    try:
        body = response.json()
    except ValueError:
        return "", "", {}
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        try:
            error = p.ErrorBody.model_validate(body["error"])
        except ValueError:
            return "", "", {}
        return error.code, error.message, error.details
    return "", "", {}


def _reason(exc: BaseException) -> str:
    """A short readable cause of a transport error (requests nests them deeply)."""
    if isinstance(exc, requests.Timeout):
        return "no answer in time"
    if isinstance(exc, requests.exceptions.SSLError):
        text = str(exc)
        for marker in ("CERTIFICATE_VERIFY_FAILED", "certificate verify failed", "hostname mismatch", "Hostname mismatch"):
            if marker in text:
                return marker.replace("_", " ").lower()
        return "TLS handshake failed"
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "Connection reset", "Connection aborted",
                   "RemoteDisconnected", "Temporary failure in name resolution", "Network is unreachable"):
        if marker in text:
            return marker.lower()
    return type(exc).__name__


def _human_seconds(seconds: float) -> str:
    if seconds < 90:
        return f"{int(seconds) or 1} seconds"
    return f"{round(seconds / 60)} minutes"
