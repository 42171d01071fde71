"""The web pages for leads and managers, through FastAPI's TestClient over HTTPS (portal/web).

The browser's side (real Chromium: cookies, CSP, keyboard, phone width, axe) is
tests/e2e/test_web_browser.py; here the rules: who sees what, the queue's order, the
decision through the push service with its audit, CSRF refusals, sign-out revoking.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from portal.models_security import AuditEventRow
from portal.web.session import SESSION_COOKIE
from sync.protocol import format_timestamp, utc_now
from tests.portal.conftest import PASSWORD, Portal, World, build_world

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def web_world(sqlite_portal: Portal) -> World:
    return build_world(sqlite_portal)


def browser(portal: Portal) -> TestClient:
    """A fresh "browser" (its own cookie jar) on the portal, over HTTPS so Secure cookies are sent."""
    return TestClient(portal.client.app, base_url="https://testserver", follow_redirects=False)


def username(world: World, name: str) -> str:
    with world.portal.db.read() as session:
        from portal.models import UserRow
        user = session.get(UserRow, world.ids[name])
        assert user is not None
        return user.username


def sign_in(world: World, name: str) -> TestClient:
    client = browser(world.portal)
    token = _CSRF.search(client.get("/web/sign-in").text)
    assert token is not None
    answer = client.post("/web/sign-in", data={"csrf": token.group(1), "username": username(world, name), "password": PASSWORD})
    assert answer.status_code == 303 and answer.headers["location"] == "/web/queue", answer.text
    return client


def csrf_of(client: TestClient, path: str) -> str:
    found = _CSRF.search(client.get(path).text)
    assert found is not None
    return found.group(1)


def submitted(world: World, officer: str, case: str, **doc: Any) -> str:
    op = world.visit_op(officer, case, outcome="no_access", answers={}, **doc)
    result = world.portal.push(world.auth[officer], [op])[0]
    assert result["status"] == "applied", result
    return str(op["id"])


def test_sign_in_form_refuses_a_missing_token_and_says_what_is_wrong(web_world: World) -> None:
    client = browser(web_world.portal)
    forged = client.post("/web/sign-in", data={"username": username(web_world, "lead_a"), "password": PASSWORD})
    assert forged.status_code == 403 and SESSION_COOKIE not in forged.headers.get("set-cookie", "")
    token = csrf_of(client, "/web/sign-in")
    empty = client.post("/web/sign-in", data={"csrf": token, "username": "", "password": ""})
    assert empty.status_code == 422 and 'aria-describedby="username-error"' in empty.text and "Enter your password." in empty.text
    wrong = client.post("/web/sign-in", data={"csrf": token, "username": username(web_world, "lead_a"), "password": "not the password"})
    assert wrong.status_code == 401 and "The username or password is wrong" in wrong.text
    with web_world.portal.db.read() as session:
        failed = session.scalars(select(AuditEventRow).where(AuditEventRow.action == "auth.login_failed",
                                                          AuditEventRow.actor_id == web_world.ids["lead_a"])).all()
    assert failed and failed[-1].device_id.startswith("web-")


def test_officer_gets_not_for_your_role(web_world: World) -> None:
    client = sign_in(web_world, "officer1")
    for path in ("/web/queue", "/web/compliance", "/web/compliance.csv"):
        answer = client.get(path)
        assert answer.status_code == 403 and "Not for your role" in answer.text


def test_queue_is_the_teams_in_deadline_order(web_world: World) -> None:
    now = utc_now()
    emergency = web_world.case("emergency", "officer2", priority="emergency", reported_hazards=["Damp and mould growth"],
                               aware_at=format_timestamp(now - timedelta(hours=2)))
    significant = web_world.case("significant", "officer1", reported_hazards=["Damp and mould growth"],
                                 aware_at=format_timestamp(now - timedelta(days=1)))
    assert emergency and significant
    later = submitted(web_world, "officer1", "case1")  # no statutory clock: last
    second = submitted(web_world, "officer1", "significant")
    first = submitted(web_world, "officer2", "emergency")
    other_team = submitted(web_world, "officer_b", "case_b")
    page = sign_in(web_world, "lead_a").get("/web/queue")
    assert page.status_code == 200
    order = re.findall(r'href="/web/visits/([0-9a-f-]{36})"', page.text)
    assert order == [first, second, later]
    assert other_team not in page.text
    lead_b = sign_in(web_world, "lead_b").get(f"/web/visits/{first}")
    assert lead_b.status_code == 404


def test_return_needs_a_comment_then_goes_through_the_push_service(web_world: World) -> None:
    visit_id = submitted(web_world, "officer1", "case1")
    client = sign_in(web_world, "lead_a")
    token = csrf_of(client, f"/web/visits/{visit_id}")
    bare = client.post(f"/web/visits/{visit_id}/decision", data={"csrf": token, "decision": "return", "comment": " "})
    assert bare.status_code == 422 and 'aria-describedby="comment-error"' in bare.text and "needs a comment" in bare.text
    sent = client.post(f"/web/visits/{visit_id}/decision", data={"csrf": token, "decision": "return", "comment": "Add the humidity."})
    assert sent.status_code == 303 and sent.headers["location"] == "/web/queue?decided=return"
    visit = next(c["data"] for c in web_world.portal.pull_all(web_world.auth["officer1"])[0] if c["id"] == visit_id)
    assert visit["status"] == "returned" and visit["review"]["comment"] == "Add the humidity."
    assert visit["review"]["lead_id"] == web_world.ids["lead_a"]
    with web_world.portal.db.read() as session:
        decided = session.scalars(select(AuditEventRow).where(AuditEventRow.action == "review.decided", AuditEventRow.entity_id == visit_id)).all()
    assert len(decided) == 1 and decided[0].actor_id == web_world.ids["lead_a"] and decided[0].details["decision"] == "return"


def test_a_forged_decision_changes_nothing(web_world: World) -> None:
    visit_id = submitted(web_world, "officer1", "case1")
    client = sign_in(web_world, "lead_a")
    for data in ({"decision": "approve"}, {"decision": "approve", "csrf": "0" * 64}, {"decision": "approve", "csrf": csrf_of(sign_in(web_world, "lead_a"), "/web/queue")}):
        answer = client.post(f"/web/visits/{visit_id}/decision", data=data)
        assert answer.status_code == 403 and "nothing was changed" in answer.text
    json_post = client.post(f"/web/visits/{visit_id}/decision", json={"decision": "approve", "csrf": csrf_of(client, "/web/queue")})
    assert json_post.status_code == 415
    visit = next(c["data"] for c in web_world.portal.pull_all(web_world.auth["officer1"])[0] if c["id"] == visit_id)
    assert visit["status"] == "submitted"


def test_manager_sees_every_team_read_only(web_world: World) -> None:
    visit_id = submitted(web_world, "officer_b", "case_b")
    client = browser(web_world.portal)
    with web_world.portal.db.read() as session:
        from portal.models import UserRow
        admin = session.scalars(select(UserRow).where(UserRow.role == "admin")).first()
        assert admin is not None
    token = csrf_of(client, "/web/sign-in")
    assert client.post("/web/sign-in", data={"csrf": token, "username": admin.username, "password": PASSWORD}).status_code == 303
    assert visit_id in client.get("/web/queue").text
    page = client.get(f"/web/visits/{visit_id}")
    assert page.status_code == 200 and "lead decides them" in page.text and 'name="decision"' not in page.text
    refused = client.post(f"/web/visits/{visit_id}/decision", data={"csrf": csrf_of(client, "/web/queue"), "decision": "approve"})
    assert refused.status_code == 422  # the push service's own rule: only a lead of the team decides


def test_compliance_counts_and_csv(web_world: World) -> None:
    now = utc_now()
    web_world.case("late", "officer1", priority="emergency", reported_hazards=["Damp and mould growth"],
                   aware_at=format_timestamp(now - timedelta(hours=30)))
    web_world.case("soon", "officer1", priority="emergency", reported_hazards=["Damp and mould growth"],
                   aware_at=format_timestamp(now - timedelta(hours=1)))
    client = sign_in(web_world, "lead_a")
    page = client.get("/web/compliance").text
    totals = dict(re.findall(r'id="total-(\w+)">(\d+)<', page))
    assert totals == {"on_track": "0", "amber": "1", "breached": "1"}
    assert "<svg" in page and "Breached: 1" in page
    download = client.get("/web/compliance.csv")
    assert download.headers["content-type"].startswith("text/csv") and "attachment" in download.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert sorted(r["standing"] for r in rows) == ["amber", "breached"]
    assert {r["stage"] for r in rows} == {"Investigate the hazard"}


def test_pages_allow_only_self_and_the_api_keeps_its_policy(web_world: World) -> None:
    client = browser(web_world.portal)
    page = client.get("/web/sign-in")
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"
    cookie = page.headers["set-cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=strict" in cookie
    assert client.get("/api/v1/health").headers["content-security-policy"] == "frame-ancestors 'none'"


def test_sign_in_comes_back_to_the_page_asked_for_and_never_elsewhere(web_world: World) -> None:
    visit_id = submitted(web_world, "officer1", "case1")
    client = browser(web_world.portal)
    asked = client.get(f"/web/visits/{visit_id}")
    assert asked.status_code == 303 and asked.headers["location"] == f"/web/sign-in?next=%2Fweb%2Fvisits%2F{visit_id}"
    token = csrf_of(client, asked.headers["location"])
    answer = client.post("/web/sign-in", data={"csrf": token, "username": username(web_world, "lead_a"), "password": PASSWORD,
                                               "next": f"/web/visits/{visit_id}"})
    assert answer.headers["location"] == f"/web/visits/{visit_id}"
    for hostile in ("https://evil.example/", "//evil.example/web/", "/web//evil.example", "/api/v1/me", "/web/sign-out"):
        other = browser(web_world.portal)
        token = csrf_of(other, "/web/sign-in")
        answer = other.post("/web/sign-in", data={"csrf": token, "username": username(web_world, "lead_a"), "password": PASSWORD,
                                                  "next": hostile})
        assert answer.headers["location"] == "/web/queue", hostile


def test_plain_http_to_another_host_is_explained(web_world: World) -> None:
    plain = TestClient(web_world.portal.client.app, base_url="http://portal.example")
    assert "plain HTTP" in plain.get("/web/sign-in").text
    assert "plain HTTP" not in browser(web_world.portal).get("/web/sign-in").text


def test_sign_out_revokes_the_session(web_world: World) -> None:
    client = sign_in(web_world, "lead_a")
    cookie = client.cookies.get(SESSION_COOKIE)
    assert client.post("/web/sign-out", data={"csrf": "wrong"}).status_code == 403
    out = client.post("/web/sign-out", data={"csrf": csrf_of(client, "/web/queue")})
    assert out.status_code == 303 and out.headers["location"] == "/web/sign-in?signed_out=1"
    replay = browser(web_world.portal)
    replay.cookies.set(SESSION_COOKIE, str(cookie))
    again = replay.get("/web/queue")
    assert again.status_code == 303 and again.headers["location"] == "/web/sign-in?next=%2Fweb%2Fqueue"
