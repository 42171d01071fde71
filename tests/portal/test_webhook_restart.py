"""A served portal stopped with webhook deliveries pending delivers them when it starts again (state is only in the database)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import requests

from fieldapp.domain import Role
from portal.core import migrate
from portal.core.config import PortalSettings
from portal.core.db import Database
from portal.server import BackgroundPortal, start_background
from portal.services import records
from sync.protocol import AdminUserCreate, format_timestamp, utc_now
from tests.portal.conftest import PASSWORD
from tests.portal.webhook_receiver import Receiver


def _serve(database_url: str, blob_dir: Path) -> BackgroundPortal:
    settings = PortalSettings.from_env(database_url=database_url, blob_dir=blob_dir, webhook_retry_delays=(0.3,),
                                       webhook_poll_seconds=0.05, webhook_timeout_seconds=1.0)
    return start_background(database_url, blob_dir, settings=settings)


class Api:
    """JSON calls to a served portal."""

    def __init__(self, portal: BackgroundPortal) -> None:
        self.base = f"{portal.url}/api/v1"

    def login(self, username: str) -> dict[str, str]:
        response = requests.post(f"{self.base}/auth/login", json={"username": username, "password": PASSWORD, "device_id": "d1"}, timeout=30)
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['token']}"}

    def call(self, method: str, path: str, auth: dict[str, str], body: Any = None, status: int = 200) -> Any:
        response = requests.request(method, self.base + path, json=body, headers=auth, timeout=30)
        assert response.status_code == status, response.text
        return response.json() if response.content else None


def _first_life(api: Api, receiver: Receiver) -> str:
    """A team, an officer with a case, a webhook; the officer reports a hazard. Returns the webhook's id."""
    admin = api.login("root")
    team = api.call("POST", "/admin/teams", admin, {"name": "North"}, 201)["id"]
    api.call("POST", "/admin/users", admin, {"username": "olive", "display_name": "Olive", "role": "officer", "team_id": team,
                                              "password": PASSWORD}, 201)
    officer_id = api.call("GET", "/me", api.login("olive"))["id"]
    prop = api.call("POST", "/admin/properties", admin, {"uprn": "100012345678", "address_lines": ["1 Mill Lane"], "town": "Harrowmere",
                                                          "postcode": "HM1 2AB", "property_type": "house", "bedrooms": 2}, 201)["id"]
    api.call("POST", "/admin/cases", admin, {"reference": "R-1", "case_type": "repair", "priority": "routine", "summary": "Leak",
                                              "opened_at": format_timestamp(utc_now()), "property_id": prop, "resident_ids": [],
                                              "assigned_officer_id": officer_id, "team_id": team}, 201)
    webhook = api.call("POST", "/admin/webhooks", admin, {"url": receiver.url, "events": ["case.created"]}, 201)
    receiver.secret = webhook["secret"]
    report = {"op_id": str(uuid.uuid4()), "entity": "hazard_report", "id": str(uuid.uuid4()), "kind": "create", "base_version": 0,
              "data": {"property_id": prop, "hazards": ["Fire"], "description": "Scorched socket", "observed_at": format_timestamp(utc_now())}}
    results = api.call("POST", "/sync/push", api.login("olive"), {"device_id": "d1", "ops": [report]})["results"]
    assert results[0]["status"] == "applied", results
    return str(webhook["id"])


def test_pending_deliveries_survive_a_restart(database_url: str, tmp_path: Path) -> None:
    """Stopped while the receiver fails (the delivery pending), started again: the event arrives, once, signed."""
    db = Database(database_url)
    migrate.upgrade(db.engine)
    with db.write() as session:
        records.create_user(session, AdminUserCreate(username="root", display_name="Root", role=Role.ADMIN, password=PASSWORD),
                            PortalSettings.from_env().kdf)
    db.dispose()
    receiver = Receiver(script=["500"] * 1000).start()
    try:
        with _serve(database_url, tmp_path / "blobs") as first:
            webhook_id = _first_life(Api(first), receiver)
            receiver.wait_for(lambda r: len(r.received) >= 2)
        failed_tries = len(receiver.received)
        assert receiver.delivered() == []
        receiver.script.clear()  # the CRM is back
        with _serve(database_url, tmp_path / "blobs") as second:
            receiver.wait_for(lambda r: len(r.delivered()) == 1)
            api = Api(second)
            page = api.call("GET", f"/admin/webhooks/{webhook_id}/deliveries", api.login("root"))
    finally:
        receiver.stop()
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1
    assert receiver.delivered()[0].payload["type"] == "case.created"
    (delivery,) = page["deliveries"]
    assert delivery["status"] == "delivered" and len(delivery["attempts"]) >= failed_tries + 1
    assert delivery["attempts"][0]["status_code"] == 204 and delivery["attempts"][-1]["status_code"] == 500
