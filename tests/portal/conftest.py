"""Portal test fixtures: an app per backend served by FastAPI's TestClient, and a builder of small worlds.

Each test builds its own team, users, property and cases through the admin API
(unique names), so tests share one migrated database per backend yet stay independent.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from portal.core import migrate
from portal.core.config import PortalSettings
from portal.core.db import Database
from portal.main import create_app
from portal.services import records
from sync.protocol import AdminUserCreate
from tests.conftest import fresh_pg_database

API = "/api/v1"
PASSWORD = "correct horse battery"


@dataclass
class Portal:
    """A TestClient over a migrated database, with the admin signed in."""

    client: TestClient
    db: Database
    settings: PortalSettings
    admin: dict[str, str] = field(default_factory=dict)

    def call(self, method: str, path: str, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
        """A request to ``/api/v1`` + path."""
        return self.client.request(method, API + path, headers=headers, **kwargs)

    def login(self, username: str, password: str = PASSWORD, device: str = "laptop-1") -> dict[str, str]:
        """Sign in; returns the Authorization header."""
        response = self.call("POST", "/auth/login", json={"username": username, "password": password, "device_id": device})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['token']}"}

    def admin_post(self, what: str, body: dict[str, Any]) -> dict[str, Any]:
        """Create a record through the admin API (must succeed)."""
        response = self.call("POST", f"/admin/{what}", headers=self.admin, json=body)
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    def pull_all(self, headers: dict[str, str], cursor: int = 0, limit: int = 500) -> tuple[list[dict[str, Any]], int]:
        """Every page from ``cursor``; returns the changes and the final cursor."""
        changes: list[dict[str, Any]] = []
        while True:
            response = self.call("GET", f"/sync/pull?cursor={cursor}&limit={limit}", headers=headers)
            assert response.status_code == 200, response.text
            page = response.json()
            changes += page["changes"]
            cursor = page["next_cursor"]
            if not page["has_more"]:
                return changes, cursor

    def push(self, headers: dict[str, str], ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Push ops; returns the results (the call must answer 200)."""
        response = self.call("POST", "/sync/push", headers=headers, json={"device_id": "laptop-1", "ops": ops})
        assert response.status_code == 200, response.text
        return response.json()["results"]  # type: ignore[no-any-return]


def make_portal(database_url: str, blob_dir: Path, **overrides: Any) -> Portal:
    """Migrate, create the app, and sign in a fresh admin."""
    # Every TestClient request comes from one address: the whole suite's wrong passwords
    # must not add up to the per-address limit (tests/portal/test_throttle.py tests it).
    overrides.setdefault("login_address_max_failures", 100_000)
    settings = PortalSettings.from_env(database_url=database_url, blob_dir=blob_dir, **overrides)
    db = Database(database_url)
    migrate.upgrade(db.engine)
    client = TestClient(create_app(settings, db))
    name = f"admin-{uuid.uuid4().hex[:8]}"
    with db.write() as session:
        records.create_user(session, AdminUserCreate(username=name, display_name="Admin", role="admin", password=PASSWORD), settings.kdf)
    portal = Portal(client, db, settings)
    portal.admin = portal.login(name)
    return portal


@pytest.fixture(scope="session")
def pg_portal(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    """The portal app on the session's PostgreSQL database."""
    portal = make_portal(pg_url, tmp_path_factory.mktemp("pg_blobs"))
    yield portal
    portal.db.dispose()


@pytest.fixture(scope="session")
def sqlite_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    """The portal app on a SQLite file."""
    root = tmp_path_factory.mktemp("sqlite_portal")
    portal = make_portal(f"sqlite:///{root / 'portal.db'}", root / "blobs")
    yield portal
    portal.db.dispose()


@pytest.fixture(params=["pg", "sqlite"])
def any_portal(request: pytest.FixtureRequest) -> Portal:
    """Both backends, for the tests that must hold on each."""
    return request.getfixturevalue(f"{request.param}_portal")  # type: ignore[no-any-return]


TEMPLATE = {
    "name": "Damp check", "version": 1, "case_types": ["damp_mould"],
    "sections": [{"id": "s", "title": "Findings", "questions": [
        {"id": "mould", "label": "Mould present", "kind": "yes_no", "required": True},
        {"id": "rooms", "label": "Rooms", "kind": "multi_choice", "options": ["Kitchen", "Bathroom"]},
        {"id": "rh", "label": "Humidity", "kind": "number", "min": 0, "max": 100},
        {"id": "hz", "label": "Hazard", "kind": "hazard"},
        {"id": "pics", "label": "Photos", "kind": "photo"},
    ]}],
}


@dataclass
class World:
    """Two teams, their people, a property with residents and cases, signed in."""

    portal: Portal
    ids: dict[str, str]
    auth: dict[str, dict[str, str]]

    def case(self, name: str, officer: str | None, team: str = "team_a", prop: str = "prop1", residents: list[str] | None = None, **extra: Any) -> str:
        """Create a case; returns its id."""
        body = {
            "reference": f"T-{uuid.uuid4().hex[:10]}", "case_type": "damp_mould", "priority": "routine",
            "summary": "Mould in bathroom", "opened_at": "2026-03-02T09:00:00Z", "property_id": self.ids[prop],
            "resident_ids": [self.ids[r] for r in (residents if residents is not None else ["res1"])],
            "assigned_officer_id": self.ids[officer] if officer else None, "team_id": self.ids[team], **extra,
        }
        self.ids[name] = self.portal.admin_post("cases", body)["id"]
        return self.ids[name]

    def visit_op(self, officer: str, case: str, *, visit_id: str | None = None, base_version: int = 0, **doc: Any) -> dict[str, Any]:
        """A visit submit op by ``officer`` for ``case``."""
        data = {
            "case_id": self.ids[case], "officer_id": self.ids[officer], "template_id": self.ids["template"],
            "template_version": 1, "started_at": "2026-03-03T10:00:00Z", "completed_at": "2026-03-03T10:40:00Z",
            "outcome": "completed", "answers": {"mould": True, "rh": 71}, "notes": "", "hazards": [], "photos": [],
        }
        data.update(doc)
        return {"op_id": str(uuid.uuid4()), "entity": "visit", "id": visit_id or str(uuid.uuid4()), "kind": "submit", "base_version": base_version, "data": data}

    @staticmethod
    def decide_op(visit_id: str, decision: str = "approve", comment: str = "") -> dict[str, Any]:
        """A review decide op."""
        return {"op_id": str(uuid.uuid4()), "entity": "review", "id": str(uuid.uuid4()), "kind": "decide", "base_version": 0,
                "data": {"visit_id": visit_id, "decision": decision, "comment": comment}}


def build_world(portal: Portal) -> World:
    """officer1, officer2 and lead_a in team_a; officer_b and lead_b in team_b; cases for officer1 and officer_b."""
    tag = uuid.uuid4().hex[:8]
    ids: dict[str, str] = {}
    ids["team_a"] = portal.admin_post("teams", {"name": f"Team A {tag}"})["id"]
    ids["team_b"] = portal.admin_post("teams", {"name": f"Team B {tag}"})["id"]
    people = {"officer1": ("officer", "team_a"), "officer2": ("officer", "team_a"), "lead_a": ("lead", "team_a"),
              "officer_b": ("officer", "team_b"), "lead_b": ("lead", "team_b")}
    for name, (role, team) in people.items():
        ids[name] = portal.admin_post("users", {"username": f"{name}-{tag}", "display_name": name, "role": role, "team_id": ids[team], "password": PASSWORD})["id"]
    for prop in ("prop1", "prop2"):
        ids[prop] = portal.admin_post("properties", {"uprn": "100012345678", "address_lines": ["1 Mill Lane"], "town": "Harrowmere", "postcode": "HM1 2AB", "property_type": "house", "bedrooms": 2})["id"]
    ids["res1"] = portal.admin_post("residents", {"property_id": ids["prop1"], "full_name": "Grace Evans", "warnings": ["Dog on premises"]})["id"]
    ids["res2"] = portal.admin_post("residents", {"property_id": ids["prop2"], "full_name": "Jack Nowak"})["id"]
    ids["template"] = portal.admin_post("templates", TEMPLATE)["id"]
    auth = {name: portal.login(f"{name}-{tag}") for name in people}
    world = World(portal, ids, auth)
    world.case("case1", "officer1")
    world.case("case_b", "officer_b", team="team_b", prop="prop2", residents=["res2"])
    return world


@pytest.fixture
def world(pg_portal: Portal) -> World:
    """A fresh small world on PostgreSQL."""
    return build_world(pg_portal)


def jpeg_bytes(size: tuple[int, int] = (64, 48), colour: tuple[int, int, int] = (120, 80, 40)) -> bytes:
    """A real JPEG image."""
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def png_bytes(size: tuple[int, int] = (32, 32)) -> bytes:
    """A real PNG image."""
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 200, 30)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def any_world(any_portal: Portal) -> World:
    """A fresh small world on each backend."""
    return build_world(any_portal)


@pytest.fixture(params=["sqlite", "pg"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each backend, for this test alone (the portal is started on it by the test)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'portal.db'}"
        return
    with fresh_pg_database("fieldapp_empty") as url:
        yield url
