"""A realistic fictional council for demos and tests: ``seed(database_url, cases=200, seed=1)``.

Harrowmere Borough Council (fictional): two area housing teams with officers and a
lead each, an administrator, council homes with 12-digit UPRNs and real-format
postcodes, residents (some with cautionary-contact warnings and vulnerabilities), cases
of every type and priority (emergencies and overdue ones included) and inspection
templates for damp and mould, repairs, tenancy audits and voids. Reports triaged as a
hazard (damp and mould, a broken boiler, a loose handrail) carry it in ``reported_hazards``,
so their statutory clocks run as Awaab's Law sets them.

Seeding is deterministic for a given ``seed`` (the clock aside: cases are opened in the
weeks before now) and idempotent: seeding a seeded database returns the same accounts.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from portal.core import migrate
from portal.core.config import PortalSettings
from portal.core.db import Database
from portal.models import CounterRow
from portal.services import records
from sync.protocol import (
    AdminUserCreate,
    CaseData,
    PropertyData,
    ResidentData,
    TeamData,
    TemplateData,
    format_timestamp,
    utc_now,
)

TEMPLATES_FILE = Path(__file__).resolve().parent / "data" / "seed_templates.json"
_SEEDED = "seeded_with"


@dataclass(frozen=True)
class DemoAccount:
    """A demo sign-in: username, password, role, display name and team name (None for the admin)."""

    username: str
    password: str
    role: str
    display_name: str
    team: str | None


@dataclass(frozen=True)
class SeedResult:
    """What was seeded."""

    accounts: list[DemoAccount]
    cases: int

    def account(self, role: str, team: str | None = None, index: int = 0) -> DemoAccount:
        """The ``index``-th account of a role (and team), for tests and demos."""
        matches = [a for a in self.accounts if a.role == role and (team is None or a.team == team)]
        return matches[index]


NORTH = "North Area Housing"
SOUTH = "South Area Housing"
# (username, display name, role, team)
_PEOPLE: tuple[tuple[str, str, str, str | None], ...] = (
    ("aisha.khan", "Aisha Khan", "officer", NORTH),
    ("tom.bennett", "Tom Bennett", "officer", NORTH),
    ("priya.shah", "Priya Shah", "officer", NORTH),
    ("helen.okafor", "Helen Okafor", "lead", NORTH),
    ("liam.walsh", "Liam Walsh", "officer", SOUTH),
    ("sofia.rossi", "Sofia Rossi", "officer", SOUTH),
    ("david.mensah", "David Mensah", "lead", SOUTH),
    ("admin", "Portal Administrator", "admin", None),
)
_WORDS = ("amber", "birch", "cedar", "delta", "ember", "fjord", "harbour", "juniper", "kestrel", "lumen", "maple", "nectar", "orchid", "pebble", "quartz", "rowan", "saffron", "thistle", "willow", "yarrow")
_STREETS = ("Mill Lane", "Station Road", "Church Street", "Orchard Close", "Victoria Road", "Meadow Way", "Kingfisher Court", "Albion Terrace", "Beech Grove", "Canal Walk", "Foundry Row", "Hawthorn Drive", "Tannery Yard", "Priory Gardens", "Windmill Rise")
_BLOCKS = ("Marlowe House", "Ashdown Court", "Fenwick Tower", "Caxton House", "Linden Court")
_TOWNS = (("Harrowmere", "HM"), ("Eastbrook", "EB"), ("Kilnsey Vale", "KV"))
_FIRST = ("Olivia", "Mohammed", "Grace", "Jack", "Amelia", "Yusuf", "Chloe", "Daniel", "Fatima", "George", "Ewa", "Kwame", "Siobhan", "Rhys", "Mei", "Arjun", "Hannah", "Tariq", "Zofia", "Callum")
_LAST = ("Thompson", "Ahmed", "Evans", "Nowak", "Okoye", "Patel", "Hughes", "Begum", "Murphy", "Wright", "Chen", "Adeyemi", "Kowalski", "Hussain", "Clarke", "Robinson", "Ali", "Doherty")
_WARNINGS = ("Dog on premises", "Lone worker: visit in pairs", "Verbal aggression towards staff recorded", "Oxygen in use: no naked flames", "Call before visiting: resident works nights", "Needles may be present")
_VULNERABILITIES = ("Mobility impairment", "Hearing impaired", "Child under 5 in household", "Respiratory condition", "Aged over 75", "Mental health support", "English not first language", "Pregnant")
_SUMMARIES = {
    "damp_mould": ("Black mould in bathroom and bedroom", "Condensation and mould on bedroom walls", "Damp patch spreading on living room ceiling", "Mould around windows, child with asthma"),
    "repair": ("Boiler not working, no hot water", "Front door will not lock", "Leak from kitchen ceiling", "Broken stair handrail", "Window frame rotten in bedroom"),
    "tenancy_audit": ("Annual tenancy audit", "Occupancy check following report", "Tenancy audit: succession request"),
    "void": ("Void inspection after tenancy end", "Pre-let inspection", "Void: clearance and works assessment"),
    "asb": ("Noise complaint from neighbours", "Report of rubbish dumped in communal area", "Harassment reported by resident"),
    "estate": ("Estate walkabout: communal lighting", "Bin store damaged", "Graffiti in stairwell"),
}
#: What the CRM's triage records a report as about (HHSRS names): the statutory clocks follow these.
_REPORTED = {
    "Black mould in bathroom and bedroom": ["Damp and mould growth"],
    "Condensation and mould on bedroom walls": ["Damp and mould growth"],
    "Damp patch spreading on living room ceiling": ["Damp and mould growth"],
    "Mould around windows, child with asthma": ["Damp and mould growth"],
    "Boiler not working, no hot water": ["Excess cold"],
    "Broken stair handrail": ["Falls on stairs"],
    "Window frame rotten in bedroom": ["Excess cold"],
    "Front door will not lock": ["Entry by intruders"],
}
_PREFIX = {"damp_mould": "DM", "repair": "RP", "tenancy_audit": "TA", "void": "VD", "asb": "AS", "estate": "ES"}


def _password(rng: random.Random) -> str:
    return f"{rng.choice(_WORDS)}-{rng.choice(_WORDS)}-{rng.randint(10, 99)}"


def _accounts(seed: int) -> list[DemoAccount]:
    rng = random.Random(f"accounts-{seed}")
    return [DemoAccount(u, _password(rng), role, name, team) for u, name, role, team in _PEOPLE]


def _postcode(rng: random.Random, area: str) -> str:
    letters = "ABDEFGHJLNPQRSTUWXYZ"  # the letters the inward code uses
    return f"{area}{rng.randint(1, 9)} {rng.randint(1, 9)}{rng.choice(letters)}{rng.choice(letters)}"


def _property(rng: random.Random, index: int) -> PropertyData:
    town, area = rng.choice(_TOWNS)
    if rng.random() < 0.45:
        block = rng.choice(_BLOCKS)
        lines = [f"Flat {rng.randint(1, 48)}", block, f"{rng.randint(1, 90)} {rng.choice(_STREETS)}"]
        kind, beds = rng.choice((("flat", rng.randint(1, 3)), ("maisonette", rng.randint(2, 3)), ("bedsit", 0)))
    else:
        lines = [f"{rng.randint(1, 180)} {rng.choice(_STREETS)}"]
        kind, beds = rng.choice((("house", rng.randint(2, 4)), ("bungalow", rng.randint(1, 2))))
    uprn = f"10{rng.randint(0, 9)}{index:09d}"[:12].rjust(12, "0")
    return PropertyData(uprn=uprn, address_lines=lines, town=town, postcode=_postcode(rng, area), property_type=kind, bedrooms=beds)


def _resident(rng: random.Random, property_id: str) -> ResidentData:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    warnings = rng.sample(_WARNINGS, rng.choice((1, 1, 2))) if rng.random() < 0.18 else []
    vulnerabilities = rng.sample(_VULNERABILITIES, rng.choice((1, 2))) if rng.random() < 0.3 else []
    return ResidentData(
        property_id=property_id, full_name=f"{first} {last}", phone=f"07{rng.randint(100, 999)} {rng.randint(100000, 999999)}",
        email=f"{first.lower()}.{last.lower()}{rng.randint(1, 99)}@example.org" if rng.random() < 0.7 else None,
        vulnerabilities=vulnerabilities, warnings=warnings,
    )


def seed(database_url: str, cases: int = 200, *, seed: int = 1) -> SeedResult:
    """Migrate the database and fill it with the fictional council (once)."""
    settings = PortalSettings.from_env(database_url=database_url)
    db = Database(database_url)
    try:
        migrate.upgrade(db.engine)
        accounts = _accounts(seed)
        with db.write() as session:
            done = session.scalar(select(CounterRow.value).where(CounterRow.name == _SEEDED))
            if done is not None:
                if done != seed:
                    raise ValueError(f"This database was seeded with seed {done}; use that seed or a fresh database.")
                return SeedResult(accounts, cases)
            session.execute(insert(CounterRow).values(name=_SEEDED, value=seed))
            _fill(session, accounts, cases, seed, settings)
        return SeedResult(accounts, cases)
    finally:
        db.dispose()


def _fill(session: Session, accounts: list[DemoAccount], cases: int, seed: int, settings: PortalSettings) -> None:
    rng = random.Random(seed)
    teams = {name: records.create_team(session, TeamData(name=name)) for name in (NORTH, SOUTH)}
    users = {}
    for account in accounts:
        body = AdminUserCreate(
            username=account.username, display_name=account.display_name, role=account.role,
            team_id=teams[account.team].id if account.team else None, password=account.password,
        )
        users[account.username] = records.create_user(session, body, settings.kdf)
    for template in json.loads(TEMPLATES_FILE.read_text(encoding="utf-8")):
        records.create_template(session, TemplateData.model_validate(template))
    homes = []
    for index in range(max(1, int(cases / 1.3))):
        prop = records.create_property(session, _property(rng, index + 1))
        people = [records.create_resident(session, _resident(rng, prop.id)) for _ in range(rng.choice((1, 1, 2, 3)))]
        homes.append((prop, people))
    field_staff = {team: [users[a.username] for a in accounts if a.team == team] for team in teams}
    types = list(_PREFIX)
    now = utc_now()
    for index in range(cases):
        case_type = types[index % len(types)]
        # Shifted every round of types, so each team (and so each officer) gets cases of every type.
        team = NORTH if (index + index // len(types)) % 3 else SOUTH
        prop, people = homes[index % len(homes)]
        priority = "emergency" if index % 17 == 0 else rng.choice(("urgent", "routine", "routine"))
        # Opened up to 40 days ago: older ones are overdue under their rule.
        opened = now - timedelta(days=rng.uniform(0, 40), hours=rng.uniform(0, 8))
        staff = field_staff[team]
        officer = None if index % 23 == 5 else rng.choice(staff)
        # Drawn in the order of earlier releases, so a seed gives the same council.
        status = "closed" if index % 19 == 7 else rng.choice(("open", "open", "scheduled"))
        summary = rng.choice(_SUMMARIES[case_type])
        case_body = CaseData(
            reference=f"HBC-{_PREFIX[case_type]}-{index + 1:06d}", case_type=case_type,
            status=status, priority=priority, summary=summary, reported_hazards=_REPORTED.get(summary, []),
            description="Reported by the resident through the customer portal.", opened_at=format_timestamp(opened),
            property_id=prop.id, resident_ids=[p.id for p in people],
            assigned_officer_id=officer.id if officer else None, team_id=teams[team].id,
        )
        records.create_case(session, case_body, track_scope=False)


def format_accounts(result: SeedResult) -> str:
    """The demo accounts as a table for the terminal."""
    lines = [f"{'username':<14} {'password':<24} {'role':<8} team"]
    lines += [f"{a.username:<14} {a.password:<24} {a.role:<8} {a.team or '-'}" for a in result.accounts]
    return "\n".join(lines)
