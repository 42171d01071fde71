"""Sign-in throttling under truly parallel guesses, against a real served portal on PostgreSQL and SQLite.

Each test sends its guesses from threads through real HTTP at once (a barrier releases
them together). The portal trusts X-Forwarded-For from 127.0.0.1 here, so each test
speaks for a client address of its own (documentation addresses, never contacted).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from portal.core.config import PortalSettings
from portal.server import BackgroundPortal, start_background
from portal.services import records, throttle
from sync.protocol import AdminUserCreate
from tests.portal.conftest import API, PASSWORD

_ADDRESSES = iter(f"198.51.100.{n}" for n in range(1, 250))


@pytest.fixture(scope="module", params=["pg", "sqlite"])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackgroundPortal]:
    """A portal serving on 127.0.0.1 from a thread, behind a 'proxy' at 127.0.0.1."""
    root = tmp_path_factory.mktemp(f"throttle_{request.param}")
    url = request.getfixturevalue("pg_url") if request.param == "pg" else f"sqlite:///{root / 'portal.db'}"
    settings = PortalSettings.from_env(database_url=url, blob_dir=root / "blobs", trusted_proxies=("127.0.0.1",))
    portal = start_background(url, root / "blobs", settings=settings)
    yield portal
    portal.stop()


def _user(portal: BackgroundPortal) -> str:
    name = f"thr-{uuid.uuid4().hex[:8]}"
    with portal.db.write() as session:
        records.create_user(session, AdminUserCreate(username=name, display_name="T", role="admin", password=PASSWORD), portal.settings.kdf)
    return name


def _login(portal: BackgroundPortal, username: str, password: str, device: str, address: str) -> requests.Response:
    return requests.post(f"{portal.url}{API}/auth/login", json={"username": username, "password": password, "device_id": device},
                         headers={"X-Forwarded-For": address}, timeout=60)


def _at_once(calls: list[Any]) -> list[requests.Response]:
    """Run the calls in threads released together; their answers in order."""
    barrier = threading.Barrier(len(calls))

    def run(call: Any) -> requests.Response:
        barrier.wait(timeout=30)
        return call()  # type: ignore[no-any-return]

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def test_parallel_guesses_check_at_most_five(served: BackgroundPortal) -> None:
    """24 guesses at once, the right password among them: at most 5 are checked, the rest answer 429."""
    name, address = _user(served), next(_ADDRESSES)
    passwords = [PASSWORD] + [f"wrong guess {i:02d}" for i in range(23)]
    answers = _at_once([lambda p=p, i=i: _login(served, name, p, f"attacker-{i}", address) for i, p in enumerate(passwords)])
    codes = [a.status_code for a in answers]
    assert set(codes) <= {200, 401, 429}
    assert len([c for c in codes if c != 429]) <= 5, codes
    assert codes.count(429) >= 19
    limited = next(a for a in answers if a.status_code == 429)
    assert limited.json()["error"]["code"] == "too_many_attempts" and 0 < int(limited.headers["Retry-After"]) <= 900


def test_known_device_is_not_locked_out_by_others_guesses(served: BackgroundPortal) -> None:
    """After others' guesses lock a username, a new device gets 429 even with the right password, the officer's laptop signs in."""
    name = _user(served)
    assert _login(served, name, PASSWORD, "officers-laptop", next(_ADDRESSES)).status_code == 200
    attacker = next(_ADDRESSES)
    _at_once([lambda i=i: _login(served, name, f"wrong guess {i}", f"attacker-{i}", attacker) for i in range(10)])
    assert _login(served, name, PASSWORD, "a-new-laptop", next(_ADDRESSES)).status_code == 429
    assert _login(served, name, PASSWORD, "officers-laptop", next(_ADDRESSES)).status_code == 200


def test_known_device_has_its_own_limit(served: BackgroundPortal) -> None:
    """A known device id is no master key: its own wrong passwords are limited to 5 at once too."""
    name = _user(served)
    assert _login(served, name, PASSWORD, "laptop", next(_ADDRESSES)).status_code == 200
    address = next(_ADDRESSES)
    codes = [a.status_code for a in _at_once([lambda i=i: _login(served, name, f"wrong {i:02d} guess", "laptop", address) for i in range(12)])]
    assert codes.count(401) <= 5 and codes.count(429) >= 7, codes


def test_spraying_one_password_across_usernames_is_slowed(served: BackgroundPortal) -> None:
    """One address trying one password on 25 usernames at once: at most the address limit (20) are checked."""
    names = [f"spray-{uuid.uuid4().hex[:8]}" for _ in range(25)]
    address = next(_ADDRESSES)
    answers = _at_once([lambda n=n: _login(served, n, "Winter2026!!", "sprayer", address) for n in names])
    codes = [a.status_code for a in answers]
    assert codes.count(401) <= served.settings.login_address_max_failures and codes.count(429) >= 5, codes
    # Another address is not affected by this one's failures.
    name = _user(served)
    assert _login(served, name, PASSWORD, "elsewhere", next(_ADDRESSES)).status_code == 200


def test_forwarded_for_is_ignored_without_a_trusted_proxy(tmp_path: Path) -> None:
    """With no proxy configured, a client cannot dodge the address limit by inventing X-Forwarded-For values."""
    url = f"sqlite:///{tmp_path / 'portal.db'}"
    settings = PortalSettings.from_env(database_url=url, blob_dir=tmp_path / "blobs", login_address_max_failures=3)
    with start_background(url, tmp_path / "blobs", settings=settings) as portal:
        codes = [_login(portal, f"n-{i}-{uuid.uuid4().hex[:6]}", "some password here", "d", f"203.0.113.{i}").status_code for i in range(5)]
    assert codes == [401, 401, 401, 429, 429]


def test_one_typo_then_many_new_laptops_is_not_throttled(served: BackgroundPortal) -> None:
    """An officer who mistyped once can then sign in on seven new laptops in a row: successes alone never throttle."""
    name, address = _user(served), next(_ADDRESSES)
    assert _login(served, name, "a typo in it", "laptop-0", address).status_code == 401
    assert [_login(served, name, PASSWORD, f"laptop-{i}", address).status_code for i in range(1, 8)] == [200] * 7


def _reserve(portal: BackgroundPortal, who: throttle.Who, at: datetime) -> str:
    with portal.db.plain(writes=True) as session:
        return throttle.reserve(session, who, portal.settings, at, known=False)


@pytest.mark.parametrize("right_at", [0, 2, 4])
def test_a_right_password_anywhere_in_a_burst_frees_no_slot(served: BackgroundPortal, right_at: int) -> None:
    """The interleaving threads only hit now and then, played in order: the right password
    is reserved after ``right_at`` guesses still being checked and succeeds before the
    rest reserve; at most five passwords are checked in all."""
    who = throttle.Who(f"burst-{uuid.uuid4().hex[:8]}", next(_ADDRESSES), None, "laptop-x")
    now = datetime.now(UTC).replace(tzinfo=None)
    pending = [_reserve(served, who, now) for _ in range(right_at)]
    right = _reserve(served, who, now)
    with served.db.plain(writes=True) as session:
        throttle.succeeded(session, right, now)
    checked = right_at + 1
    for _ in range(24):
        try:
            pending.append(_reserve(served, who, now))
        except throttle.Throttled:
            continue
        checked += 1
    assert checked == served.settings.login_max_failures
    for attempt in pending:
        with served.db.plain(writes=True) as session:
            throttle.failed(session, attempt)
    with pytest.raises(throttle.Throttled):
        _reserve(served, who, now)


def test_a_success_after_a_checked_typo_does_not_count(served: BackgroundPortal) -> None:
    """A typo checked and refused, then the right password: only the typo counts."""
    who = throttle.Who(f"typo-{uuid.uuid4().hex[:8]}", next(_ADDRESSES), None, "laptop-y")
    now = datetime.now(UTC).replace(tzinfo=None)
    typo = _reserve(served, who, now)
    with served.db.plain(writes=True) as session:
        throttle.failed(session, typo)
    right = _reserve(served, who, now)
    with served.db.plain(writes=True) as session:
        throttle.succeeded(session, right, now)
        assert throttle._counted(session, f"u:{who.username}", now - timedelta(minutes=15)) == 1
