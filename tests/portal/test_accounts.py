"""Accounts and sessions (PROTOCOL revision 2): disable, revoke, password change, logout-all, the password rule."""

from __future__ import annotations

import uuid
from typing import Any

from tests.portal.conftest import PASSWORD, Portal, World


def _login(portal: Portal, username: str, password: str = PASSWORD, device: str = "laptop-1") -> Any:
    return portal.call("POST", "/auth/login", json={"username": username, "password": password, "device_id": device})


def _new_user(portal: Portal, role: str = "admin", **extra: Any) -> tuple[str, str]:
    name = f"acc-{uuid.uuid4().hex[:8]}"
    created = portal.admin_post("users", {"username": name, "display_name": "Acc", "role": role, "password": PASSWORD, **extra})
    return created["id"], name


def _patch(portal: Portal, user_id: str, body: dict[str, Any]) -> Any:
    return portal.call("PATCH", f"/admin/users/{user_id}", headers=portal.admin, json=body)


def test_disabling_an_account_revokes_every_token_and_refuses_its_login(any_portal: Portal) -> None:
    """active false: both laptops' tokens answer 401 at once, and the right password answers like a wrong one."""
    user_id, name = _new_user(any_portal)
    laptops = [any_portal.login(name, device=d) for d in ("laptop-1", "laptop-2")]
    answer = _patch(any_portal, user_id, {"active": False})
    assert answer.status_code == 200, answer.text
    assert answer.json()["active"] is False and answer.json()["id"] == user_id
    for headers in laptops:
        assert any_portal.call("GET", "/me", headers=headers).status_code == 401
    refused, wrong = _login(any_portal, name), _login(any_portal, name, "a wrong passphrase")
    assert refused.status_code == wrong.status_code == 401
    assert refused.json() == wrong.json() and refused.json()["error"]["code"] == "invalid_credentials"
    assert _patch(any_portal, user_id, {"active": True}).status_code == 200
    assert _login(any_portal, name).status_code == 200


def test_admin_changes_name_role_team_and_password(world: World) -> None:
    """PATCH changes any subset; a new password works at once and the old sessions end."""
    portal = world.portal
    user_id = world.ids["officer2"]
    headers = world.auth["officer2"]
    username = portal.call("GET", "/me", headers=headers).json()["username"]
    answer = _patch(portal, user_id, {"display_name": "Renamed", "role": "lead", "team_id": world.ids["team_b"]})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["display_name"], body["role"], body["team_id"]) == ("Renamed", "lead", world.ids["team_b"])
    assert body["version"] == 2
    assert portal.call("GET", "/me", headers=headers).status_code == 401  # a new scope: sign in again
    assert _patch(portal, user_id, {"password": "a brand new passphrase"}).status_code == 200
    assert _login(portal, username).status_code == 401
    assert _login(portal, username, "a brand new passphrase").status_code == 200


def test_patch_user_refuses_bad_values(world: World) -> None:
    """Unknown user 404; unknown team, an officer without a team, unknown fields 422; a weak password 422 weak_password."""
    portal = world.portal
    assert _patch(portal, str(uuid.uuid4()), {"display_name": "x"}).status_code == 404
    officer = world.ids["officer1"]
    assert _patch(portal, officer, {"team_id": str(uuid.uuid4())}).json()["error"]["details"]["fields"].keys() == {"team_id"}
    assert _patch(portal, officer, {"team_id": None}).status_code == 422
    assert _patch(portal, officer, {"username": "changed"}).status_code == 422
    weak = _patch(portal, officer, {"password": "password1234"})
    assert weak.status_code == 422 and weak.json()["error"]["code"] == "weak_password"
    assert portal.call("GET", "/me", headers=world.auth["officer1"]).status_code == 200  # nothing changed


def test_only_admins_patch_users(world: World) -> None:
    """A lead cannot change accounts: 403 forbidden."""
    answer = world.portal.call("PATCH", f"/admin/users/{world.ids['officer1']}", headers=world.auth["lead_a"], json={"active": False})
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "forbidden"


def test_password_change_keeps_this_session_and_revokes_the_others(any_portal: Portal) -> None:
    """204; the calling token still works, the user's other tokens do not, and only the new password signs in."""
    _, name = _new_user(any_portal)
    this, other = any_portal.login(name, device="a"), any_portal.login(name, device="b")
    body = {"current_password": PASSWORD, "new_password": "violet kettle orbit"}
    answer = any_portal.call("POST", "/auth/password", headers=this, json=body)
    assert answer.status_code == 204, answer.text
    assert any_portal.call("GET", "/me", headers=this).status_code == 200
    assert any_portal.call("GET", "/me", headers=other).status_code == 401
    assert _login(any_portal, name).status_code == 401
    assert _login(any_portal, name, "violet kettle orbit").status_code == 200


def test_password_change_needs_the_current_password_and_a_strong_new_one(any_portal: Portal) -> None:
    """A wrong current password is 401 invalid_credentials; a short or common new one 422 weak_password; nothing changes."""
    _, name = _new_user(any_portal)
    headers = any_portal.login(name)
    wrong = any_portal.call("POST", "/auth/password", headers=headers, json={"current_password": "not my password", "new_password": "violet kettle orbit"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_credentials"
    for weak in ("short one", "qwertyuiop123", " Cookiemonster "):
        answer = any_portal.call("POST", "/auth/password", headers=headers, json={"current_password": PASSWORD, "new_password": weak})
        assert answer.status_code == 422 and answer.json()["error"]["code"] == "weak_password", weak
        assert "new_password" in answer.json()["error"]["details"]["fields"]
    assert any_portal.call("GET", "/me", headers=headers).status_code == 200
    assert _login(any_portal, name).status_code == 200


def test_password_change_guesses_are_throttled(any_portal: Portal) -> None:
    """A stolen session cannot guess the current password: after 5 wrong ones it answers 429."""
    _, name = _new_user(any_portal)
    headers = any_portal.login(name)
    body = {"current_password": "guess guess guess", "new_password": "violet kettle orbit"}
    codes = [any_portal.call("POST", "/auth/password", headers=headers, json=body).status_code for _ in range(6)]
    assert codes == [401] * 5 + [429]


def test_logout_all_revokes_every_token(any_portal: Portal) -> None:
    """POST /auth/logout-all answers 204 and every token of the user, the caller's included, answers 401."""
    _, name = _new_user(any_portal)
    tokens = [any_portal.login(name, device=d) for d in ("a", "b", "c")]
    assert any_portal.call("POST", "/auth/logout-all", headers=tokens[0]).status_code == 204
    assert [any_portal.call("GET", "/me", headers=t).status_code for t in tokens] == [401, 401, 401]
    assert _login(any_portal, name).status_code == 200


def test_new_accounts_need_twelve_characters_not_on_the_common_list(any_portal: Portal) -> None:
    """POST /admin/users: 11 characters or a listed password is 422 weak_password naming the field; 12 good ones pass."""
    team = any_portal.admin_post("teams", {"name": "T"})["id"]
    base = {"display_name": "N", "role": "officer", "team_id": team}
    for weak in ("eleven char", "asdfghjkl123", "Christopher1"):
        answer = any_portal.call("POST", "/admin/users", headers=any_portal.admin, json={**base, "username": f"w-{uuid.uuid4().hex[:6]}", "password": weak})
        assert answer.status_code == 422, weak
        assert answer.json()["error"]["code"] == "weak_password" and "password" in answer.json()["error"]["details"]["fields"]
    made = any_portal.call("POST", "/admin/users", headers=any_portal.admin, json={**base, "username": f"s-{uuid.uuid4().hex[:6]}", "password": "twelve chars"})
    assert made.status_code == 201, made.text


def test_demo_seed_passwords_meet_the_rule() -> None:
    """Every demo account the seed creates has a password the portal accepts."""
    from portal.seed import _accounts
    from portal.services.passwords import password_problem

    for seed in range(1, 6):
        assert all(password_problem(account.password) is None for account in _accounts(seed))


def _pull_from(portal: Portal, headers: dict[str, str], cursor: int) -> tuple[dict[tuple[str, str], bool], int]:
    changes, cursor = portal.pull_all(headers, cursor)
    return {(c["entity"], c["id"]): c["deleted"] for c in changes}, cursor


def test_a_new_team_or_role_moves_scope_for_everyone_it_affects(world: World) -> None:
    """Moving an officer to another team tombstones them and their visits at the old lead and grants them to the new; a promoted officer pulls the team's cases."""
    portal, ids = world.portal, world.ids
    case2 = world.case("case2", "officer2")
    visit = world.visit_op("officer2", "case2")
    assert portal.push(world.auth["officer2"], [visit])[0]["status"] == "applied"
    _, lead_a_cursor = portal.pull_all(world.auth["lead_a"])
    _, lead_b_cursor = portal.pull_all(world.auth["lead_b"])
    _, officer1_cursor = portal.pull_all(world.auth["officer1"])
    assert _patch(portal, ids["officer2"], {"team_id": ids["team_b"]}).status_code == 200
    at_a, _ = _pull_from(portal, world.auth["lead_a"], lead_a_cursor)
    at_b, _ = _pull_from(portal, world.auth["lead_b"], lead_b_cursor)
    assert at_a[("visit", visit["id"])] is True and at_a[("user", ids["officer2"])] is True
    assert at_b[("visit", visit["id"])] is False and at_b[("user", ids["officer2"])] is False
    assert ("case", case2) not in at_b  # the case stays with team A
    username = portal.call("GET", "/me", headers=world.auth["officer1"]).json()["username"]
    assert _patch(portal, ids["officer1"], {"role": "lead"}).status_code == 200
    seen, _ = _pull_from(portal, portal.login(username), officer1_cursor)
    assert seen[("case", case2)] is False and seen[("user", ids["lead_a"])] is False
    assert ("user", ids["officer2"]) not in seen  # now in team B


def test_add_user_command_refuses_a_weak_password(tmp_path: Any, monkeypatch: Any, capsys: Any) -> None:
    """`fieldapp-portal add-user` applies the same rule: a listed password exits 1 and says why."""
    import io

    from portal.cli import main

    url = f"sqlite:///{tmp_path / 'p.db'}"
    monkeypatch.setattr("sys.stdin", io.StringIO("password1234\n"))
    assert main(["add-user", "--database-url", url, "--username", "root", "--role", "admin", "--password-stdin"]) == 1
    assert "common or breached" in capsys.readouterr().err
