"""The case list: FTS5 trigram search on each field (parts of words), odd input, filters, sort, detail and templates."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import factories as f
from fieldapp import FieldStore
from fieldapp.errors import NotFoundError, ValidationError
from store_helpers import officer_info
from fieldapp.search import CaseFilter


@pytest.fixture()
def store(tmp_path: Path) -> FieldStore:
    """A store with five distinct cases."""
    store = FieldStore.open(tmp_path)
    world = f.world(0)
    store.sign_in(officer_info(world), "https://portal.example.gov.uk")
    t = world.team_id
    p1 = f.property_("SE1 4AB", lines=("Flat 3", "12 Long Lane"))
    p2 = f.property_("LS6 2QQ", lines=("7 Mill Road",), town="Leeds")
    r1 = f.resident(p1["id"], "Amira Haskins", warnings=["Dog on premises"])
    r2 = f.resident(p2["id"], "Zoë Brennan-O'Neil")
    past = (datetime.now(timezone.utc) - timedelta(days=3)).isoformat().replace("+00:00", "Z")
    cases = [
        f.case(p1["id"], t, reference="DM-2025-00101", resident_ids=[r1["id"]], due_at="2030-03-01T12:00:00Z",
               priority="urgent", id="c-due-late"),
        f.case(p1["id"], t, reference="RP-2025-00102", case_type="repair", due_at=None, priority="emergency",
               id="c-no-due"),
        f.case(p2["id"], t, reference="DM-2025-00103", resident_ids=[r2["id"]], due_at=past, id="c-overdue"),
        f.case(p2["id"], t, reference="VO-2025-00104", case_type="void", due_at=past, status="closed",
               id="c-closed"),
        f.case(p2["id"], t, reference="DM-2025-00105", due_at="2029-01-01T12:00:00Z", status="scheduled",
               opened_at="2025-12-01T09:00:00Z", id="c-due-soon"),
    ]
    store.apply_changes([*world.changes, p1, p2, r1, r2, *cases], 50)
    yield store
    store.close()


def ids(rows: list) -> list[str]:
    return [r.id for r in rows]


@pytest.mark.parametrize("text, expected", [
    ("DM-2025-00101", {"c-due-late"}),           # reference
    ("dm-2025-0010", {"c-due-late", "c-overdue", "c-due-soon"}),  # reference prefix, any case
    ("long lane", {"c-due-late", "c-no-due"}),   # address
    ("Leeds", {"c-overdue", "c-closed", "c-due-soon"}),  # town
    ("SE1 4", {"c-due-late", "c-no-due"}),       # postcode prefix as typed
    ("ls6 2qq", {"c-overdue", "c-closed", "c-due-soon"}),  # full postcode, lower case
    ("hask", {"c-due-late"}),                    # resident name prefix
    ("zoe", {"c-overdue"}),                      # diacritics folded
    ("o'neil", {"c-overdue"}),                   # apostrophe in a name
    ("amira long", {"c-due-late"}),              # words from different fields all must match
    ("ong lan", {"c-due-late", "c-no-due"}),     # parts of words, not only their starts
    ("se14ab", {"c-due-late", "c-no-due"}),      # postcode without its space
    ("2025-00101", {"c-due-late"}),              # the middle of a reference
])
def test_search_finds_by_each_field(store: FieldStore, text: str, expected: set[str]) -> None:
    """Reference, address, postcode and resident names are searched, every word as a part of a word."""
    assert set(ids(store.cases(CaseFilter(text)))) == expected


@pytest.mark.parametrize("text", ['"', '""', "'", "*", "OR", "AND NOT", "NEAR(", "a:b", "^x", "(", "-", "{}",
                                  "\\", "%_", "DM\"2025", "   ", "🙂", "x" * 500])
def test_odd_input_never_raises(store: FieldStore, text: str) -> None:
    """Quotes, operators and symbols are plain text to the search, never an FTS5 syntax error."""
    store.cases(CaseFilter(text))


def test_punctuation_only_search_lists_everything_open(store: FieldStore) -> None:
    """A search with no words in it does not filter."""
    assert len(store.cases(CaseFilter("--"))) == 5


def test_filters(store: FieldStore) -> None:
    """Status, type, priority, overdue and due-before filter the list and combine."""
    assert set(ids(store.cases(CaseFilter(status=["scheduled"])))) == {"c-due-soon"}
    assert set(ids(store.cases(CaseFilter(case_type=["repair", "void"])))) == {"c-no-due", "c-closed"}
    assert set(ids(store.cases(CaseFilter(priority=["urgent", "emergency"])))) == {"c-due-late", "c-no-due"}
    assert ids(store.cases(CaseFilter(overdue=True))) == ["c-overdue"]  # the closed one is not overdue
    assert "c-overdue" not in ids(store.cases(CaseFilter(overdue=False))) and "c-no-due" in ids(store.cases(CaseFilter(overdue=False)))
    assert set(ids(store.cases(CaseFilter(due_before=datetime(2029, 6, 1, tzinfo=timezone.utc))))) == {
        "c-overdue", "c-closed", "c-due-soon"}
    assert ids(store.cases(CaseFilter("leeds", case_type=["damp_mould"], overdue=True))) == ["c-overdue"]


def test_sorted_by_due_date_first_with_no_date_last(store: FieldStore) -> None:
    """The default order is the due date, earliest first, cases without one (then the closed) at the end."""
    rows = [r for r in store.cases() if r.status != "closed"]
    assert rows[-1].id == "c-no-due"
    dues = [r.due_at for r in rows if r.due_at is not None]
    assert dues == sorted(dues)


def test_closed_cases_come_last_whatever_their_due_date(store: FieldStore) -> None:
    """A closed case (its due date long past) sits below every open one, not above the overdue."""
    rows = store.cases(CaseFilter(status=["open", "scheduled", "closed"]))
    assert ids(rows)[-2:] == ["c-no-due", "c-closed"]
    assert ids(store.cases(CaseFilter(status=["closed", "open"]), sort="priority"))[-1] == "c-closed"


def test_other_sorts_and_limit(store: FieldStore) -> None:
    """Priority, opened (newest first) and reference sorts; limit cuts the list."""
    assert store.cases(sort="priority")[0].id == "c-no-due"
    assert store.cases(sort="opened")[0].id == "c-due-soon"
    refs = [r.reference for r in store.cases(sort="reference")]
    assert refs == sorted(refs)
    assert len(store.cases(limit=2)) == 2
    with pytest.raises(ValidationError, match="Sort the cases by"):
        store.cases(sort="colour")


def test_row_fields(store: FieldStore) -> None:
    """A list line carries address, postcode, names, warnings flag and overdue flag."""
    [row] = store.cases(CaseFilter("DM-2025-00101"))
    assert (row.address, row.postcode, row.resident_names) == ("Flat 3, 12 Long Lane, London", "SE1 4AB", "Amira Haskins")
    assert row.has_warnings and not row.overdue and row.due_at.tzinfo is not None
    assert store.cases(CaseFilter("DM-2025-00103"))[0].overdue


def test_changes_to_people_and_places_update_the_search(store: FieldStore) -> None:
    """A renamed resident or a moved postcode is found by its new value and no longer by the old."""
    case = store.case("c-due-late")
    resident_id = case.residents[0].id
    store.apply_changes([f.resident(case.property.id, "Amira Patel", id=resident_id, version=2),
                         f.property_("SE1 9ZZ", id=case.property.id, version=2)], 60)
    assert ids(store.cases(CaseFilter("patel"))) == ["c-due-late"]
    assert store.cases(CaseFilter("haskins")) == []
    assert set(ids(store.cases(CaseFilter("SE1 9Z")))) == {"c-due-late", "c-no-due"}


def test_older_versions_never_overwrite_newer(store: FieldStore) -> None:
    """A change with a lower version than the stored one is ignored."""
    property_id = store.case("c-due-late").property.id
    store.apply_changes([f.property_("SE1 9ZZ", id=property_id, version=5)], 60)
    store.apply_changes([f.property_("SE1 1AA", id=property_id, version=4)], 61)
    assert store.case("c-due-late").property.postcode == "SE1 9ZZ"


def test_tombstoned_case_leaves_the_list(store: FieldStore) -> None:
    """A case out of scope is not listed (it stays readable until purged)."""
    store.apply_changes([f.tombstone("case", "c-due-late")], 70)
    assert "c-due-late" not in ids(store.cases())
    assert store.case("c-due-late").reference == "DM-2025-00101"


def test_case_detail_and_unknown_case(store: FieldStore) -> None:
    """The detail has property, residents with warnings; an unknown id is NotFoundError."""
    detail = store.case("c-due-late")
    assert detail.property.postcode == "SE1 4AB" and detail.warnings == ("Dog on premises",)
    assert detail.residents[0].phone == "07700 900123" and detail.visits == ()
    with pytest.raises(NotFoundError):
        store.case("nope")


def test_templates_for_a_case_are_the_newest_matching(store: FieldStore) -> None:
    """Only templates for the case's type, each at its newest version."""
    damp = f.template("Damp v2", number=2, version=2)
    store.apply_changes([damp, f.template("Damp v1", number=1, id=damp["id"]),
                         f.template("Repairs", case_types=("repair",))], 80)
    names = {(t.name, t.version) for t in store.templates_for("c-due-late")}
    assert names == {("Damp and mould inspection", 1), ("Damp v2", 2)}
    assert [t.name for t in store.templates_for("c-no-due")] == ["Repairs"]


def test_order_and_overdue_are_the_domain_rules(store: FieldStore) -> None:
    """The list is in `case_list_position` order and its overdue flags are `is_case_overdue`, case by case."""
    from fieldapp.clock import utc_now
    from fieldapp.domain import case_list_position, is_case_overdue

    rows = store.cases()
    assert rows == sorted(rows, key=lambda r: case_list_position(r.due_at, r.priority, r.reference, r.status))
    now = utc_now()
    assert [r.overdue for r in rows] == [is_case_overdue(r.due_at, r.status, now) for r in rows]
    assert set(store.case_ids(CaseFilter(overdue=True))) == {r.id for r in rows if r.overdue}


def test_case_ids_answer_what_cases_lists(store: FieldStore) -> None:
    """case_ids finds the same cases as cases() for searches and filters."""
    for text, filters in [("", {}), ("lane", {}), ("dm", {"status": ["open"]}), ("leeds", {"overdue": False}),
                          ("zz", {})]:
        assert store.case_ids(CaseFilter(text, **filters)) == set(ids(store.cases(CaseFilter(text, **filters))))


def test_a_damaged_search_index_is_rebuilt_on_open(tmp_path: Path, store: FieldStore) -> None:
    """A case missing from the search index (or a line without its search text) is indexed again at the next open."""
    import sqlite3

    folder = store.data_dir
    store.close()
    conn = sqlite3.connect(folder / "fieldapp.db")
    with conn:
        conn.execute("DELETE FROM case_index WHERE case_id = 'c-due-late'")
    conn.close()
    reopened = FieldStore.open(folder)
    try:
        assert ids(reopened.cases(CaseFilter("haskins"))) == ["c-due-late"]
    finally:
        reopened.close()
