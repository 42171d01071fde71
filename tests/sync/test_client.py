"""The requests client: retries, timeouts, error mapping, one session, URL rules."""

from __future__ import annotations

import hashlib
import json
import threading
from itertools import count
from typing import Any

import pytest

from sync.errors import (AuthRequired, InsecurePortalURL, MalformedPage, PortalError, PortalUnavailable, PortalUnreachable,
                         SyncCancelled)
from sync.transport import check_portal_url

from httpstub import Reply, error

META = {"protocol": 1, "server_time": "2026-01-01T00:00:00Z", "max_push_ops": 100, "max_push_bytes": 1_000_000,
        "max_blob_bytes": 20_000_000, "chunk_bytes": 1_000_000, "tombstone_days": 30}
PAGE = {"changes": [], "next_cursor": 5, "has_more": False}


def scripted(*replies: Reply) -> Any:
    """A handler answering the given replies in turn, then the last one forever."""
    calls = count()

    def handler(request: Any) -> Any:
        return replies[min(next(calls), len(replies) - 1)]

    return handler


def test_retries_503_then_succeeds_honouring_retry_after(stub: Any, make_client: Any) -> None:
    """A 503 with Retry-After is retried after (at least) the asked wait, then the answer is used."""
    server = stub(scripted(error(503, "unavailable", "Down for a moment.", Retry_After="3"), Reply(200, PAGE)))
    client = make_client(server.url)
    _changes, next_cursor, _more = client.pull_page(0, 10)
    assert next_cursor == 5
    assert len(server.requests) == 2
    assert 3.0 <= client.waits[0] <= 4.0


def test_retry_after_longer_than_cap_fails_at_once_with_the_wait(stub: Any, make_client: Any) -> None:
    """A 429 asking for 15 minutes is not sat through: the error says when to try again."""
    server = stub(scripted(error(429, "too_many_attempts", "Too many sign-in attempts.", Retry_After="900")))
    client = make_client(server.url, token=None)
    with pytest.raises(PortalUnavailable) as info:
        client.login("ann", "pw", "dev")
    assert len(server.requests) == 1
    assert "15 minutes" in str(info.value)
    assert info.value.code == "too_many_attempts"


def test_a_portal_sentence_that_says_when_is_not_repeated(stub: Any, make_client: Any) -> None:
    """The portal's own "try again in 15 minutes" is the whole message: no second "Try again in" added."""
    server = stub(scripted(error(429, "too_many_attempts", "Too many failed sign-ins; try again in 15 minutes.",
                                 Retry_After="900")))
    client = make_client(server.url, token=None)
    with pytest.raises(PortalUnavailable) as info:
        client.login("ann", "pw", "dev")
    assert str(info.value).lower().count("try again") == 1


@pytest.mark.parametrize("status,code", [(400, "invalid_request"), (404, "not_found"), (409, "offset_mismatch"),
                                         (413, "payload_too_large"), (422, "invalid_request")])
def test_4xx_is_never_retried(stub: Any, make_client: Any, status: int, code: str) -> None:
    """Any 4xx other than 429 fails after exactly one request, with the portal's message."""
    server = stub(scripted(error(status, code, "Fix the thing named here.", {"field": "x"})))
    client = make_client(server.url)
    with pytest.raises(PortalError) as info:
        client.push("dev", [])
    assert len(server.requests) == 1
    assert (info.value.status, info.value.code, info.value.message) == (status, code, "Fix the thing named here.")
    assert info.value.details == {"field": "x"}


def test_5xx_retried_with_growing_full_jitter_then_gives_up(stub: Any, make_client: Any) -> None:
    """Persistent 500s are retried attempts-1 times with waits within the exponential ceilings."""
    server = stub(scripted(Reply(500, b"oops")))
    client = make_client(server.url)
    with pytest.raises(PortalUnavailable) as info:
        client.meta()
    assert len(server.requests) == 4
    assert [w <= 0.05 * 2 ** i for i, w in enumerate(client.waits)] == [True, True, True]
    assert "HTTP 500" in str(info.value)


def test_dropped_connection_is_retried(stub: Any, make_client: Any) -> None:
    """A connection closed without an answer counts as a network error and is retried."""
    server = stub(scripted(Reply(drop=True), Reply(200, META)))
    client = make_client(server.url)
    assert client.meta().chunk_bytes == 1_000_000
    assert len(server.requests) == 2


def test_read_timeout_is_retried(stub: Any, make_client: Any) -> None:
    """An answer slower than the read timeout is abandoned and the call retried."""
    server = stub(scripted(Reply(200, PAGE, delay=0.6), Reply(200, PAGE)))
    client = make_client(server.url, timeout=(2.0, 0.2))
    client.pull_page(0, 10)  # pull has its own longer timeout; meta uses the client's default
    server.requests.clear()
    server.handler = scripted(Reply(200, META, delay=0.6), Reply(200, META))
    assert client.meta().protocol == 1
    assert len(server.requests) == 2


def test_refused_connection_gives_readable_unreachable(make_client: Any) -> None:
    """Nothing listening: PortalUnreachable naming the portal and what to check."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = make_client(f"http://127.0.0.1:{port}")
    with pytest.raises(PortalUnreachable) as info:
        client.meta()
    assert f"127.0.0.1:{port}" in str(info.value) and "network" in str(info.value)
    assert len(client.waits) == 3


def test_401_means_sign_in_again(stub: Any, make_client: Any) -> None:
    """An expired token gives AuthRequired and the client forgets the token."""
    server = stub(scripted(error(401, "unauthenticated", "Your session has expired. Sign in again.")))
    client = make_client(server.url)
    with pytest.raises(AuthRequired, match="Sign in again"):
        client.pull_page(0, 10)
    assert client.token is None and len(server.requests) == 1


def test_wrong_password_is_a_portal_error_not_auth_required(stub: Any, make_client: Any) -> None:
    """Login's 401 invalid_credentials is the portal's message, not 'sign in again'."""
    server = stub(scripted(error(401, "invalid_credentials", "Wrong username or password.")))
    client = make_client(server.url, token=None)
    with pytest.raises(PortalError) as info:
        client.login("ann", "bad", "dev")
    assert info.value.code == "invalid_credentials" and not isinstance(info.value, AuthRequired)


def test_every_call_sends_bearer_token_and_reuses_one_connection(stub: Any, make_client: Any) -> None:
    """Calls carry the token and share one keep-alive connection (one Session)."""
    server = stub(lambda r: Reply(200, META if r.path.endswith("meta") else PAGE))
    client = make_client(server.url)
    client.meta()
    client.pull_page(0, 10)
    client.meta()
    assert {r.headers["Authorization"] for r in server.requests} == {"Bearer tok"}
    assert len({r.client_port for r in server.requests}) == 1
    assert client.request_count == 3


def test_every_request_has_explicit_connect_and_read_timeouts(stub: Any, make_client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """No call leaves requests without a (connect, read) timeout."""
    server = stub(lambda r: Reply(201 if r.method == "PUT" else 200,
                                  {"state": "absent", "offset": 0, "missing": [], "results": []} | META | PAGE))
    client = make_client(server.url)
    seen = []
    real = client._session.request

    def spy(*args, **kwargs) -> None:
        seen.append(kwargs.get("timeout"))
        return real(*args, **kwargs)

    monkeypatch.setattr(client._session, "request", spy)
    client.meta(), client.pull_page(0, 1), client.push("d", []), client.blobs_missing([]), client.upload_state("a" * 64)
    client.put_chunk("a" * 64, b"x", 0, 1)
    assert len(seen) == 6
    assert all(isinstance(t, tuple) and len(t) == 2 and all(v > 0 for v in t) for t in seen)


def test_cancel_interrupts_backoff(stub: Any) -> None:
    """A cancel during a long Retry-After wait ends the call at once with SyncCancelled."""
    from sync.client import PortalClient
    server = stub(scripted(error(503, "unavailable", "Busy.", Retry_After="20")))
    client = PortalClient(server.url, token="t")
    client.cancel = threading.Event()
    threading.Timer(0.2, client.cancel.set).start()
    with pytest.raises(SyncCancelled):
        client.meta()
    assert len(server.requests) == 1


def test_download_blob_verifies_hash(stub: Any, make_client: Any) -> None:
    """A blob whose bytes do not hash to its name is refused."""
    good = b"\x89PNG fake"
    name = hashlib.sha256(good).hexdigest()
    server = stub(lambda r: Reply(200, good if r.path.endswith(name) else b"tampered"))
    client = make_client(server.url)
    assert client.download_blob(name) == good
    with pytest.raises(PortalUnreachable, match="damaged"):
        client.download_blob("b" * 64)


@pytest.mark.parametrize("url", ["http://localhost:8000", "http://127.0.0.1:9/", "http://[::1]:80",
                                 "https://portal.example.gov.uk", "https://10.0.0.5:8443/"])
def test_allowed_portal_urls(url: str) -> None:
    """https anywhere and plain http to this computer are accepted (trailing slash dropped)."""
    assert not check_portal_url(url).endswith("/")


@pytest.mark.parametrize("url", ["http://portal.example.gov.uk", "http://10.0.0.5", "http://127.0.0.2.evil.com",
                                 "ftp://x", "portal", ""])
def test_refused_portal_urls(url: str) -> None:
    """Plain http to another machine, or no URL at all, is refused with a clear message."""
    with pytest.raises(InsecurePortalURL) as info:
        check_portal_url(url)
    assert "https://" in str(info.value) or "web address" in str(info.value)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirect_is_an_error_naming_the_new_address_and_nothing_is_resent(stub: Any, make_client: Any, status: int) -> None:
    """A redirect to an http address is a readable PortalRedirected; the login body and a push never reach it."""
    from sync.errors import PortalRedirected, SettingsError

    target = stub(lambda request: Reply(200, {"token": "stolen"}))
    moved = f"{target.url}/elsewhere"
    portal = stub(lambda request: Reply(status, b"", {"Location": moved}))
    client = make_client(portal.url)
    with pytest.raises(PortalRedirected) as raised:
        client.login("officer", "secret password", "device-1")
    assert isinstance(raised.value, SettingsError) and raised.value.location == moved
    assert moved in str(raised.value) and "ask IT" in str(raised.value)
    with pytest.raises(PortalRedirected):
        client.push("device-1", [])
    assert len(portal.requests) == 2 and target.requests == []


def test_a_pulled_page_reads_as_json_loads_reads_it(stub: Any, make_client: Any) -> None:
    """Names with accents, escapes, big and float numbers, and a lone surrogate (which only json.loads takes)."""
    data = {"full_name": "Zoë O\u2019Neill", "note": "tab\tquote\"", "big": 2**70, "reading": 61.5, "none": None}
    change = {"entity": "resident", "id": "r1", "version": 1, "seq": 4, "deleted": False, "data": data}
    body = json.dumps({"changes": [change], "next_cursor": 4, "has_more": True}).encode()
    server = stub(scripted(Reply(200, body, {"Content-Type": "application/json"}),
                           Reply(200, body.replace(b"Zo\\u00eb", b"Zo\\ud800"), {"Content-Type": "application/json"})))
    client = make_client(server.url)
    assert client.pull_page(0, 10) == ([change], 4, True)
    [odd], _, _ = client.pull_page(0, 10)
    assert odd["data"]["full_name"] == "Zo\ud800 O\u2019Neill"


GOOD_CHANGE = {"entity": "case", "id": "c1", "version": 2, "seq": 7, "deleted": False, "data": {"reference": "R-1"}}


@pytest.mark.parametrize(("body", "fault"), [
    ([GOOD_CHANGE], "not a JSON object"),
    ({"changes": {"0": GOOD_CHANGE}, "next_cursor": 7, "has_more": False}, '"changes" is not a list'),
    ({"changes": [GOOD_CHANGE], "next_cursor": "7", "has_more": False}, '"next_cursor" is not a whole number'),
    ({"changes": [GOOD_CHANGE], "next_cursor": True, "has_more": False}, '"next_cursor" is not a whole number'),
    ({"changes": [GOOD_CHANGE], "next_cursor": 7}, '"has_more" is not true or false'),
    ({"changes": [GOOD_CHANGE, "case"], "next_cursor": 7, "has_more": False}, "change 2 of the page: it is not a JSON object"),
    ({"changes": [{**GOOD_CHANGE, "entity": "spaceship"}], "next_cursor": 7, "has_more": False},
     "change 1 of the page: the entity 'spaceship' is not one"),
    ({"changes": [{**GOOD_CHANGE, "entity": ["case"]}], "next_cursor": 7, "has_more": False}, '"entity" is missing'),
    ({"changes": [{k: v for k, v in GOOD_CHANGE.items() if k != "id"}], "next_cursor": 7, "has_more": False},
     '"id" is missing or not a string'),
    ({"changes": [{**GOOD_CHANGE, "version": 2.5}], "next_cursor": 7, "has_more": False},
     '"version" is missing or not a whole number'),
    ({"changes": [{**GOOD_CHANGE, "seq": None}], "next_cursor": 7, "has_more": False},
     '"seq" is missing or not a whole number'),
    ({"changes": [{**GOOD_CHANGE, "deleted": 0}], "next_cursor": 7, "has_more": False},
     '"deleted" is missing or not true or false'),
    ({"changes": [{**GOOD_CHANGE, "data": ["R-1"]}], "next_cursor": 7, "has_more": False},
     '"data" is neither an object nor null'),
])
def test_a_malformed_page_is_refused_whole_with_what_is_wrong(stub: Any, make_client: Any, body: Any,
                                                              fault: str) -> None:
    """A page not of the protocol's shape is a MalformedPage naming the fault (not a pydantic or KeyError), retried never."""
    server = stub(scripted(Reply(200, body)))
    client = make_client(server.url)
    with pytest.raises(MalformedPage) as raised:
        client.pull_page(0, 10)
    assert fault in str(raised.value) and "Nothing from them was saved" in str(raised.value)
    assert len(server.requests) == 1


def test_a_page_that_is_not_json_is_malformed(stub: Any, make_client: Any) -> None:
    server = stub(scripted(Reply(200, b"<html>proxy login</html>", {"Content-Type": "text/html"})))
    with pytest.raises(MalformedPage, match="not JSON"):
        make_client(server.url).pull_page(0, 10)


def test_a_well_formed_page_is_taken_as_sent(stub: Any, make_client: Any) -> None:
    """A tombstone (data null or absent), unknown extra keys and every entity of the protocol pass unchanged."""
    changes = [GOOD_CHANGE, {**GOOD_CHANGE, "id": "c2", "deleted": True, "data": None},
               {"entity": "resident", "id": "r1", "version": 1, "seq": 8, "deleted": True},
               {**GOOD_CHANGE, "entity": "awaab_schedule", "id": "s1", "later_field": [1]}]
    server = stub(scripted(Reply(200, {"changes": changes, "next_cursor": 9, "has_more": True, "extra": 1})))
    assert make_client(server.url).pull_page(0, 10) == (changes, 9, True)
