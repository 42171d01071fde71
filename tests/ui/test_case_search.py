"""One case search: the window shows exactly what the core finds, in the core's order; stale answers are dropped."""

from __future__ import annotations

from typing import Any

import pytest

from ui.case_search import CaseQuery, CaseSearchRunner
from fieldapp.search import CaseFilter

# What officers type, and what each must find in the 60-case store (None: only "window == core").
QUERIES: list[tuple[str, Any]] = [
    ("", 60),
    ("ill lane", lambda rows: rows and all("Mill Lane" in r.address for r in rows)),   # part of a word
    ("MILL LANE", lambda rows: rows and all("Mill Lane" in r.address for r in rows)),
    ("lane mill", lambda rows: rows and all("Mill Lane" in r.address for r in rows)),  # any order
    ("HC-00012", lambda rows: [r.reference for r in rows] == ["HC-00012"]),
    ("hc-0001", lambda rows: len(rows) == 10),                                         # reference start
    ("ab3 2xy", lambda rows: rows and {r.postcode for r in rows} == {"AB3 2XY"}),      # postcode as written
    ("ab32xy", lambda rows: rows and {r.postcode for r in rows} == {"AB3 2XY"}),       # without the space
    ("AB3 2XY,", lambda rows: rows and {r.postcode for r in rows} == {"AB3 2XY"}),     # punctuation around a word
    ("zoe", lambda rows: [r.resident_names for r in rows] == ["Zoë Brennan-O’Neil"]),  # accents folded
    ("o'neil", lambda rows: "Zoë Brennan-O’Neil" in {r.resident_names for r in rows}),  # either apostrophe
    ("grace ashford", lambda rows: rows and all("Grace" in r.resident_names for r in rows)),
    ("mould bedroom", lambda rows: rows and all(r.summary == "Black mould in back bedroom" for r in rows)),
    ("xy", 60),                                                                        # two letters: no index
    ("k", None),
    ("  ,  ", 60),
    ("%", 60),                                                                         # punctuation only: no words
    ("a%b", 0),                                                                        # % is a character, not a wildcard
    ("a_b", 0),
    ('"mill', lambda rows: rows and all("Mill Lane" in r.address for r in rows)),
    ("nothing like this", 0),
]


@pytest.fixture
def renamed(window: Any, qtbot: Any) -> Any:
    """The window's store with one resident renamed to a name with an accent and a curly apostrophe."""
    store = window.ctx.store
    case = store.case(window.case_list.model.rows()[3].id)
    resident = case.residents[0]
    store.apply_changes([{"entity": "resident", "id": resident.id, "version": 2, "seq": 10_000, "deleted": False,
                          "data": {"property_id": case.property.id, "full_name": "Zoë Brennan-O’Neil",
                                   "phone": "", "email": None, "vulnerabilities": [], "warnings": []}}], 10_000)
    with qtbot.waitSignal(window.case_list.sig_filtered, timeout=10000):  # loaded, and its search answered
        window.case_list.reload()
    return window


def test_window_and_core_agree(qtbot: Any, renamed: Any) -> None:
    """Typing each query shows the core's cases for it, in the core's order, and they are the ones expected."""
    case_list = renamed.case_list
    for text, expected in QUERIES:
        if case_list.search.text() == text:
            with qtbot.waitSignal(case_list.sig_filtered, timeout=10000):
                case_list.search.setText("-")
        with qtbot.waitSignal(case_list.sig_filtered, timeout=10000):
            case_list.search.setText(text)
        shown = case_list.model.rows()
        core = renamed.ctx.store.cases(CaseFilter(text))
        assert [r.id for r in shown] == [r.id for r in core], f"window and core disagree on {text!r}"
        if isinstance(expected, int):
            assert len(shown) == expected, f"{text!r} found {len(shown)} cases"
        elif expected is not None:
            assert expected(shown), f"{text!r} found {[r.reference for r in shown]}"


def test_filters_agree_with_the_core(qtbot: Any, window: Any) -> None:
    """A search with status and overdue filters shows what the core lists for the same filters."""
    case_list = window.case_list
    status = case_list.status_filter
    with qtbot.waitSignal(case_list.sig_filtered, timeout=10000):
        status.setCurrentIndex(status.findData("open"))
    with qtbot.waitSignal(case_list.sig_filtered, timeout=10000):
        case_list.overdue_filter.setChecked(True)
    with qtbot.waitSignal(case_list.sig_filtered, timeout=10000):
        case_list.search.setText("lane")
    core = window.ctx.store.cases(CaseFilter("lane", status=["open"], overdue=True))
    assert core and [r.id for r in case_list.model.rows()] == [r.id for r in core]


class _CountingStore:
    """A real store that records which searches reached it."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.asked: list[str] = []

    def case_ids(self, wanted: CaseFilter) -> set[str]:
        self.asked.append(wanted.search)
        return self.store.case_ids(wanted)


def test_only_the_newest_query_is_answered(qtbot: Any, store: Any, tasks: Any) -> None:
    """Queries typed while a search runs: the running one's answer is dropped, only the newest waiting one runs."""
    counting = _CountingStore(store)
    runner = CaseSearchRunner(counting)
    answers: list[tuple[str, int]] = []
    rows = tuple(store.cases())
    runner.sig_found.connect(lambda query, found: answers.append((query.text, len(found))))
    for text in ("m", "mi", "mil", "mill"):
        runner.request(CaseQuery(text), rows)
    qtbot.waitUntil(lambda: bool(answers) and not tasks.busy, timeout=10000)
    assert answers == [("mill", len(store.case_ids(CaseFilter("mill"))))]
    assert counting.asked == ["m", "mill"]  # "mi" and "mil" were replaced before they ran
