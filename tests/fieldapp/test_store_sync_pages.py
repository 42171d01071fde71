"""A first sync's pages applied set-based: the same store whatever the page size, tombstones and links included."""

from __future__ import annotations

import sqlite3
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import Table, select
from sqlalchemy.orm import Session

import factories as f
from fieldapp import FieldStore
from fieldapp.bulk_rows import insert_rows
from fieldapp.clock import utc_now
from fieldapp.models import CaseRow
from fieldapp.search import CaseFilter
from fieldapp.sync_apply import _case_values

_TABLES = ("properties", "residents", "cases", "case_residents", "case_index")


def _changes() -> list[dict[str, Any]]:
    """A first sync's changes in portal order, with a record changed, a case re-linked and one tombstoned."""
    team = f.team()
    changes: list[dict[str, Any]] = [team]
    cases = []
    for n in range(12):
        prop = f.property_(f"SE{n} 4AB", lines=(f"{n} Long Lane",))
        people = [f.resident(prop["id"], f"Zoë Person{n}-{r}", warnings=["Dog"] if n % 3 == 0 else [])
                  for r in range(1 + n % 3)]
        cases.append(f.case(prop["id"], team["id"], reference=f"DM-{n:05d}", resident_ids=[p["id"] for p in people]))
        changes += [prop, *people, cases[-1]]
    first_case, fourth_case = cases[2], cases[3]   # the first names three residents
    # Later in the stream: a newer version of a case with its residents reordered, and a tombstone.
    changes.append({**first_case, "version": 2, "data": {**first_case["data"], "summary": "Leak returned",
                                                         "resident_ids": first_case["data"]["resident_ids"][::-1]}})
    changes.append(f.tombstone("case", fourth_case["id"]))
    for seq, change in enumerate(changes, start=1):
        change["seq"] = seq
    return changes


def _apply_in_pages(path: Path, changes: list[dict[str, Any]], size: int) -> FieldStore:
    store = FieldStore.open(path)
    for start in range(0, len(changes), size):
        page = changes[start:start + size]
        store.apply_changes(page, page[-1]["seq"])
    return store


def _tables(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    with sqlite3.connect(path / "fieldapp.db") as conn:
        dumped = {t: sorted(map(tuple, conn.execute(f"SELECT * FROM {t}")), key=repr) for t in _TABLES}
        # case_index ids depend on insert order; what is listed and found must not.
        dumped["case_index"] = sorted((row[1:] for row in dumped["case_index"]), key=repr)
        return dumped


@pytest.mark.parametrize("size", [1, 2, 5, 7])
def test_pages_of_any_size_leave_the_store_a_single_page_leaves(tmp_path: Path, size: int) -> None:
    """A first sync split into pages (records and their parents in different pages) equals one page of it all."""
    changes = _changes()
    whole = _apply_in_pages(tmp_path / "whole", changes, len(changes))
    paged = _apply_in_pages(tmp_path / "paged", changes, size)
    try:
        assert _tables(tmp_path / "paged") == _tables(tmp_path / "whole")
        for search in ("zoe person4", "long lane", "se7 4ab", "leak returned", "dm-0"):
            assert paged.cases(CaseFilter(search)) == whole.cases(CaseFilter(search)), search
        assert len(whole.cases(CaseFilter("person"))) == 11          # the tombstoned case is not listed
        [relinked] = whole.cases(CaseFilter("DM-00002"))
        assert relinked.summary == "Leak returned"
        assert paged.sync_state().cursor == whole.sync_state().cursor == changes[-1]["seq"]
    finally:
        whole.close()
        paged.close()


def test_bulk_rows_are_stored_as_the_orm_stores_them(tmp_path: Path) -> None:
    """Timestamps, JSON and defaults written by insert_rows read back exactly as an ORM insert's."""
    store = FieldStore.open(tmp_path)
    prop = f.property_()
    data = f.case(prop["id"], f.new_id(), reference="ORM-1")["data"]
    values = _case_values(data)
    values.pop("clocks")       # left to the column's default in both
    engine = store._write_engine
    try:
        with Session(engine) as session, session.begin():
            session.add(CaseRow(id="orm", version=1, **values))
            insert_rows(session, cast(Table, CaseRow.__table__), [{"id": "bulk", "version": 1, **values}])
        with Session(engine) as session:
            orm, bulk = (session.scalars(select(CaseRow).where(CaseRow.id == i)).one() for i in ("orm", "bulk"))
            columns = [c.key for c in CaseRow.__table__.columns if c.key != "id"]
            assert {c: getattr(bulk, c) for c in columns} == {c: getattr(orm, c) for c in columns}
            raw = session.connection().exec_driver_sql("SELECT * FROM cases ORDER BY id").fetchall()
            assert raw[0][1:] == raw[1][1:]   # the same text in the file, not only the same values read back
    finally:
        store.close()


def test_bulk_rows_sharing_values_are_each_stored_as_the_orm_stores_them(tmp_path: Path) -> None:
    """insert_rows converts each distinct value once: values equal in Python but stored differently
    (True and 1, 0.0 and -0.0 in JSON; one instant in two time zones) are still each stored as the ORM stores them."""
    store = FieldStore.open(tmp_path)
    prop = f.property_()
    base = _case_values(f.case(prop["id"], f.new_id(), reference="X")["data"])
    opened = base["opened_at"]
    variants = [{"reported_hazards": hazards} for hazards in ([], ["Fire"], ["Fire"], [1], [True], [1.0], [0.0], [-0.0])]
    variants += [{"opened_at": opened.astimezone(timezone(timedelta(hours=5)))}, {"opened_at": opened},
                 {"awaab": True}, {"awaab": 1}, {"clocks": [{"stage": "summary", "due_at": None}]}]
    engine = store._write_engine
    try:
        with Session(engine) as session, session.begin():
            rows = []
            for n, variant in enumerate(variants):
                values = {**base, "reference": f"R-{n}", **variant}
                session.add(CaseRow(id=f"orm-{n:02d}", version=1, **values))
                rows.append({"id": f"bulk-{n:02d}", "version": 1, **values})
            session.flush()
            insert_rows(session, cast(Table, CaseRow.__table__), rows)
        with Session(engine) as session:
            raw = {row[0]: row[1:] for row in session.connection().exec_driver_sql("SELECT * FROM cases")}
            hazards = dict(session.connection().exec_driver_sql("SELECT id, reported_hazards FROM cases").fetchall())
        for n in range(len(variants)):
            assert raw[f"bulk-{n:02d}"] == raw[f"orm-{n:02d}"], variants[n]
        assert [hazards[f"bulk-{n:02d}"] for n in range(3, 8)] == ["[1]", "[true]", "[1.0]", "[0.0]", "[-0.0]"]
    finally:
        store.close()


def _record_line_writes(path: Path) -> None:
    """From now on every list line written is noted in ``line_writes`` (its row id alone cannot tell:
    SQLite gives a line rebuilt after the newest one was deleted that same id again)."""
    with sqlite3.connect(path / "fieldapp.db") as conn:
        conn.execute("CREATE TABLE line_writes (case_id TEXT)")
        conn.execute("CREATE TRIGGER note_line_write AFTER INSERT ON case_index "
                     "BEGIN INSERT INTO line_writes VALUES (NEW.case_id); END")


def _lines_written(path: Path) -> set[str]:
    """The cases whose list line was written since the last call."""
    with sqlite3.connect(path / "fieldapp.db") as conn:
        written = {case_id for (case_id,) in conn.execute("SELECT case_id FROM line_writes")}
        conn.execute("DELETE FROM line_writes")
        return written


def test_a_case_back_at_a_new_version_with_nothing_changed_keeps_its_line(tmp_path: Path) -> None:
    """The echo of a push (each visit's case at a new version, same fields) rebuilds no list line; a real change does."""
    changes = _changes()
    store = _apply_in_pages(tmp_path, changes, len(changes))
    try:
        once = [c for c in changes if c["entity"] == "case" and [d["id"] for d in changes].count(c["id"]) == 1]
        cases = [c for c in once if len(c["data"]["resident_ids"]) > 1][:4]
        _record_line_writes(tmp_path)
        store.apply_changes([{**c, "version": 5} for c in cases[:3]], 1000)
        assert _lines_written(tmp_path) == set()
        with sqlite3.connect(tmp_path / "fieldapp.db") as conn:
            ids = [c["id"] for c in cases[:3]]
            assert {v for (v,) in conn.execute(f"SELECT version FROM cases WHERE id IN ({', '.join('?' * 3)})", ids)} == {5}
        # New residents order, a new summary, a new version of the same fields: only the first two are rebuilt.
        renamed = {**cases[0], "version": 6, "data": {**cases[0]["data"], "resident_ids": cases[0]["data"]["resident_ids"][:1]}}
        resumed = {**cases[1], "version": 6, "data": {**cases[1]["data"], "summary": "Damp back"}}
        store.apply_changes([renamed, resumed, {**cases[3], "version": 6}], 1001)
        assert _lines_written(tmp_path) == {cases[0]["id"], cases[1]["id"]}
        [line] = store.cases(CaseFilter(cases[0]["data"]["reference"]))
        assert line.resident_names == next(c["data"]["full_name"] for c in changes
                                           if c["id"] == cases[0]["data"]["resident_ids"][0])
        assert store.cases(CaseFilter("damp back"))[0].reference == cases[1]["data"]["reference"]
    finally:
        store.close()


def test_pulled_pages_commit_and_leave_the_checkpoint_to_the_next_ordinary_commit(tmp_path: Path) -> None:
    """Pages past SQLite's 1,000-page checkpoint point stay in the WAL, committed (another connection reads
    them); the next ordinary write checkpoints them; pooled connections keep SQLite's own checkpoint setting."""
    store = FieldStore.open(tmp_path)
    team = f.team()
    pages: list[list[dict[str, Any]]] = [[team], []]
    for n in range(3000):
        prop = f.property_(f"SE{n % 9} 4AB", lines=(f"{n} Long Lane", "A rather long second address line"))
        person = f.resident(prop["id"], f"Resident Number {n}", warnings=["Dog"])
        pages[n % 2] += [prop, person, f.case(prop["id"], team["id"], reference=f"CK-{n:05d}", resident_ids=[person["id"]])]
    db, wal = tmp_path / "fieldapp.db", tmp_path / "fieldapp.db-wal"
    try:
        store.apply_changes(pages[0], 98)
        store.apply_changes(pages[1], 99)
        assert wal.stat().st_size > 1000 * 4096 > db.stat().st_size    # not checkpointed into the file
        with sqlite3.connect(db) as other:
            assert other.execute("SELECT count(*) FROM cases").fetchone()[0] == 3000
            assert other.execute("SELECT cursor FROM sync_state").fetchone()[0] == 99
        for _ in range(3):   # whichever pooled connection comes next: SQLite's default again
            with store._engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000
        store.mark_synced(utc_now())
        assert db.stat().st_size > 1000 * 4096                          # the ordinary commit checkpointed
    finally:
        store.close()
