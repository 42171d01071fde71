"""Benchmark: ``fieldapp-portal import-cases`` of 100,000 CRM cases on PostgreSQL (goal <= 60 s), then its replay.

A fresh database gets the fictional council (portal/seed.py: teams, officers, leads,
templates) and 77,000 properties with their tenants (addresses, names, phones; written
set-based, not timed). The CRM's file is a CSV of 100,000 cases of every type and
priority, with reported hazards for the damp, leak and fire reports, some unassigned
and some with a due date of the CRM's own. The command imports it (the first import:
every row created, with clocks, residents and scope grants), then imports it again
(the replay: every row unchanged). Prints rows/s and seconds for each, and the load.

``FIELDAPP_BENCH_ROWS`` changes the number of cases, ``FIELDAPP_BENCH_BATCH`` the rows per
transaction (``--batch-size``, 5000 here), ``FIELDAPP_BENCH_PG`` the server.
"""

from __future__ import annotations

import csv
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import psycopg
from sqlalchemy import func, insert, select

from portal.cli import main as portal_cli
from portal.core.db import Database
from portal.models import CaseRow, PropertyRow, ResidentRow, TeamRow, UserRow
from portal.seed import _PREFIX, _REPORTED, _SUMMARIES, _property, _resident, seed
from portal.services.sequence import next_seqs
from sync.protocol import format_timestamp, utc_now

ROWS = int(os.environ.get("FIELDAPP_BENCH_ROWS", "100000"))
ADMIN_DSN = os.environ.get("FIELDAPP_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
GOAL_SECONDS = 60.0
BATCH = int(os.environ.get("FIELDAPP_BENCH_BATCH", "5000"))
COLUMNS = ["external_ref", "reference", "case_type", "status", "priority", "summary", "description", "opened_at", "due_at",
           "property_id", "resident_ids", "assigned_officer_id", "team_id", "aware_at", "reported_hazards"]


def _homes(db: Database, count: int, rng: random.Random) -> list[tuple[str, list[str]]]:
    """Properties with one to three tenants each, inserted in bulk; (property id, resident ids)."""
    homes: list[tuple[str, list[str]]] = []
    with db.write() as session:
        props, people = [], []
        for index in range(count):
            prop_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            props.append({"id": prop_id, "version": 1, **_property(rng, index + 1).model_dump(mode="json")})
            tenants = []
            for _ in range(rng.choice((1, 1, 2, 3))):
                resident = _resident(rng, prop_id).model_dump(mode="json")
                resident_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                people.append({"id": resident_id, "version": 1, **resident})
                tenants.append(resident_id)
            homes.append((prop_id, tenants))
        for rows, model in ((props, PropertyRow), (people, ResidentRow)):
            for row, seq in zip(rows, next_seqs(session, len(rows))):
                row["seq"] = seq
            session.execute(insert(model), rows)
    return homes


def _write_csv(path: Path, db: Database, homes: list[tuple[str, list[str]]], rng: random.Random) -> None:
    """The CRM's file: one case a line, every type, priority and hazard mix."""
    with db.read() as session:
        teams = list(session.scalars(select(TeamRow.id)))
        staff = {team: list(session.scalars(select(UserRow.id).where(UserRow.team_id == team, UserRow.role.in_(("officer", "lead")))))
                 for team in teams}
    now = utc_now()
    types = list(_PREFIX)
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for index in range(ROWS):
            case_type = types[index % len(types)]
            team = teams[index % len(teams)]
            prop_id, tenants = homes[index % len(homes)]
            summary = rng.choice(_SUMMARIES[case_type])
            opened = now - timedelta(days=rng.uniform(0, 40), hours=rng.uniform(0, 8))
            aware = opened - timedelta(hours=rng.uniform(0, 48)) if index % 5 == 0 else None
            due = opened + timedelta(days=30) if index % 11 == 0 else None
            officer = "" if index % 9 == 4 else rng.choice(staff[team])
            writer.writerow([
                f"CRM-{index + 1:07d}", f"BENCH-{_PREFIX[case_type]}-{index + 1:07d}", case_type,
                "closed" if index % 19 == 7 else rng.choice(("open", "open", "scheduled")),
                "emergency" if index % 17 == 0 else rng.choice(("urgent", "routine", "routine")),
                summary, "Reported to the contact centre, tenant called back." if index % 3 == 0 else "",
                format_timestamp(opened), format_timestamp(due) if due else "", prop_id, ";".join(tenants), officer, team,
                format_timestamp(aware) if aware else "", ";".join(_REPORTED.get(summary, [])),
            ])


def _timed_import(label: str, path: Path, url: str) -> float:
    started = time.perf_counter()
    status = portal_cli(["import-cases", str(path), "--database-url", url, "--quiet", "--batch-size", str(BATCH)])
    seconds = time.perf_counter() - started
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{label}: {ROWS} rows in {seconds:.1f} s = {ROWS / seconds:,.0f} rows/s, batches of {BATCH} (goal <= {GOAL_SECONDS:.0f} s; "
          f"exit {status}; load average {load})", flush=True)
    return seconds


def main() -> int:
    """Build the council and the file, import twice, print the figures."""
    name = f"fieldapp_bench_import_{os.getpid()}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + f"/{name}"
    try:
        rng = random.Random(15)
        seed(url, 0)
        db = Database(url)
        try:
            homes = _homes(db, int(ROWS / 1.3), rng)
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "crm-cases.csv"
                _write_csv(path, db, homes, rng)
                print(f"file: {path.stat().st_size / 1e6:.1f} MB, {ROWS} cases over {len(homes)} properties "
                      f"(load average {', '.join(f'{x:.2f}' for x in os.getloadavg())})", flush=True)
                first = _timed_import("first import (all created)", path, url)
                with db.read() as session:
                    created = session.scalar(select(func.count()).select_from(CaseRow).where(CaseRow.external_ref.is_not(None)))
                    top = session.scalar(select(func.max(CaseRow.seq)))
                replay = _timed_import("replay (all unchanged)", path, url)
                with db.read() as session:
                    after = session.scalar(select(func.max(CaseRow.seq)))
                print(f"cases created: {created}; replay changed {'nothing' if after == top else 'SOMETHING'} "
                      f"(max case seq {top} -> {after})")
        finally:
            db.dispose()
    finally:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0 if first <= GOAL_SECONDS and replay <= GOAL_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
