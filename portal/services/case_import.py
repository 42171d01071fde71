"""The CRM's case import: create or update cases by ``external_ref``, a batch per transaction.

Each row meets the rules of ``POST /admin/cases`` (``sync.protocol.CaseData`` and
portal/services/case_checks.py) and gets the same statutory clocks (``records.case_row``).
A row whose ``external_ref`` is new creates a case; one naming an existing case changes
it as ``PATCH /admin/cases/{id}`` would with the fields the row gives
(``records.patch_case``), or leaves it alone — no new version, nothing to pull — when
they already hold. Replaying an import therefore changes nothing. A rejected row says
which fields to correct and does not stop the others; an ``external_ref`` given twice in
one file is rejected the second time.

Set-based: a batch reads what its rows reference and the cases holding their
``external_ref`` in a few queries, takes its change numbers in one statement, and writes
its new cases, their residents and the scope grants they cause as multi-row inserts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, cast

from pydantic import ValidationError
from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from portal.core.db import Database
from portal.errors import ApiError, field_errors
from portal.models import CaseResidentRow, CaseRow
from portal.services import audit, case_clocks, records
from portal.services.audit import Action, Event
from portal.services.bulk import among, insert_rows
from portal.services.case_checks import CaseRefs, new_case_values, timestamp
from portal.services.case_rows import Row, clean
from portal.services.scope import (
    Caller,
    Touched,
    affected_callers,
    record_scope_changes,
    snapshot,
    touched_by,
)
from portal.services.sequence import next_seqs
from sync.protocol import AdminCasePatch, CaseData, ErrorCode

CREATED, UPDATED, UNCHANGED, REJECTED = "created", "updated", "unchanged", "rejected"
STATUSES = (CREATED, UPDATED, UNCHANGED, REJECTED)
#: Rows per transaction: large enough for set-based work to pay, small enough to hold few locks for long.
BATCH_ROWS = 1000
_CASES, _CASE_RESIDENTS = cast(Table, CaseRow.__table__), cast(Table, CaseResidentRow.__table__)
_CASE_COLUMNS = tuple(_CASES.columns.keys())


@dataclass(frozen=True)
class RowResult:
    """What happened to one row: ``error`` (rejected) is ``{"code", "message", "fields"}``."""

    row: int
    status: str
    id: str | None = None
    error: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """The row's entry of ``{"results": [...]}``."""
        answer: dict[str, Any] = {"row": self.row, "status": self.status}
        if self.id is not None:
            answer["id"] = self.id
        if self.error is not None:
            answer["error"] = self.error
        return answer


def rejection(row: int, fields: dict[str, str]) -> RowResult:
    """A rejected row, its message naming each field to correct and why."""
    message = "Correct " + "; ".join(f"{name}: {reason.rstrip('.')}" for name, reason in sorted(fields.items())) + "."
    return RowResult(row, REJECTED, error={"code": ErrorCode.INVALID_REQUEST, "message": message, "fields": fields})


@dataclass
class Totals:
    """The counts by status, and the rejected rows (for the summary at the end)."""

    counts: Counter[str] = field(default_factory=Counter)
    rejected: list[RowResult] = field(default_factory=list)

    def add(self, results: Iterable[RowResult]) -> None:
        for result in results:
            self.counts[result.status] += 1
            if result.status == REJECTED:
                self.rejected.append(result)


@dataclass(frozen=True)
class _Valid:
    """A row that meets the case model: its fields (protocol JSON) and the names it gave."""

    row: int
    values: dict[str, Any]
    given: frozenset[str]


def _field_errors(exc: ValidationError) -> dict[str, str]:
    """The model's complaints by field, a missing field said as IT can act on it."""
    missing = {".".join(map(str, e["loc"])) for e in exc.errors() if e.get("type") == "missing"}
    fields = field_errors(exc.errors(), drop_prefix=())
    return {name: "missing (every row gives it)" if name in missing else reason for name, reason in fields.items()}


#: What a row is compared with: the columns of its fields (``due_at``: the service date the CRM gave or the standard's).
_STORED = [CaseRow.id, CaseRow.service_due_at, *(getattr(CaseRow, name) for name in CaseData.model_fields if name != "due_at")]


def _stored(session: Session, external_refs: list[str]) -> dict[str, dict[str, Any]]:
    """The cases holding these external_refs, as their fields (read as columns: a replay builds no ORM objects)."""
    found = {}
    for row in session.execute(select(*_STORED).where(among(session, CaseRow.external_ref, external_refs))).mappings():
        fields = dict(row)
        fields["due_at"] = fields.pop("service_due_at")
        fields["aware_at"] = fields["aware_at"] or fields["opened_at"]
        fields["reported_hazards"] = list(fields["reported_hazards"] or [])
        found[fields["external_ref"]] = fields
    return found


def _changed_fields(stored: dict[str, Any], values: dict[str, Any], given: frozenset[str]) -> list[str]:
    """The fields the row gives that differ from the case (times compared in the protocol's form)."""
    changed = []
    for name in sorted(given):
        value = values[name]
        if name in ("opened_at", "due_at", "aware_at") and value is not None:
            value = timestamp(value, name, {}) or value
        if value != stored[name]:
            changed.append(name)
    return changed


class CaseImport:
    """One import (an API call or a file of the CLI), fed its rows in batches.

    ``where`` is the audit side of whoever imports; ``via`` ("api", "cli") goes in the
    audit details. It remembers the ``external_ref`` of every row so far, for duplicates.
    """

    def __init__(self, db: Database, where: audit.Where, via: str, batch_rows: int = BATCH_ROWS) -> None:
        self.db, self.where, self.via, self.batch_rows = db, where, via, batch_rows
        self._seen: dict[str, int] = {}

    def run(self, rows: Iterable[Row]) -> Iterator[list[RowResult]]:
        """Import the rows, committing and yielding the results of each batch in turn."""
        pending = iter(rows)
        while batch := list(islice(pending, self.batch_rows)):
            with self.db.write() as session:
                results, events = self._batch(session, batch)
                counts = Counter(r.status for r in results)
                summary = Event(Action.ADMIN_IMPORT, "case", None, {"via": self.via, "rows": len(results), **{s: counts[s] for s in STATUSES}})
                audit.add(session, self.where, [*events, summary])
            yield results

    def _parse(self, row: Row) -> _Valid | RowResult:
        if row.problem is not None:
            return rejection(row.number, {"row": row.problem})
        cleaned = clean(row.fields)
        ref = cleaned.get("external_ref")
        if ref is None:
            return rejection(row.number, {"external_ref": "Give the CRM's reference of the case: the import creates or updates by it."})
        fields: dict[str, str] = {}
        first = self._seen.setdefault(str(ref), row.number)
        if first != row.number:
            fields["external_ref"] = f"Row {first} of this import has the same external_ref; give each case once."
        try:
            body = CaseData.model_validate(cleaned)
        except ValidationError as exc:
            fields = {**_field_errors(exc), **fields}
        if fields:
            return rejection(row.number, fields)
        return _Valid(row.number, body.model_dump(mode="json"), frozenset(cleaned))

    def _batch(self, session: Session, rows: list[Row]) -> tuple[list[RowResult], list[Event]]:
        results: dict[int, RowResult] = {}
        valid: list[_Valid] = []
        for row in rows:
            parsed = self._parse(row)
            if isinstance(parsed, RowResult):
                results[row.number] = parsed
            else:
                valid.append(parsed)
        existing = _stored(session, [v.values["external_ref"] for v in valid])
        events = self._update(session, [v for v in valid if v.values["external_ref"] in existing], existing, results)
        events += self._create(session, [v for v in valid if v.values["external_ref"] not in existing], results)
        return [results[row.number] for row in rows], events

    def _update(self, session: Session, rows: list[_Valid], existing: dict[str, dict[str, Any]], results: dict[int, RowResult]) -> list[Event]:
        """Existing cases: unchanged, or patched with the fields the row gives (one by one: updates are the few)."""
        events = []
        for row in rows:
            stored = existing[row.values["external_ref"]]
            changed = _changed_fields(stored, row.values, row.given)
            if not changed:
                results[row.row] = RowResult(row.row, UNCHANGED, stored["id"])
                continue
            case = session.get(CaseRow, stored["id"], with_for_update=True)
            assert case is not None  # read in this transaction, which holds the write lock
            try:
                records.patch_case(session, case, AdminCasePatch.model_validate({n: row.values[n] for n in row.given}))
            except ApiError as exc:
                results[row.row] = rejection(row.row, exc.details.get("fields") or {"row": exc.message})
                continue
            results[row.row] = RowResult(row.row, UPDATED, case.id)
            events.append(Event(Action.ADMIN_UPDATE, "case", case.id, {"fields": changed, "via": f"import ({self.via})"}))
        return events

    def _create(self, session: Session, rows: list[_Valid], results: dict[int, RowResult]) -> list[Event]:
        """New cases, checked against one set of lookups and written as multi-row inserts."""
        if not rows:
            return []
        refs = CaseRefs.load(session, [row.values for row in rows])
        references: dict[str, int] = {}
        accepted: list[tuple[_Valid, dict[str, Any]]] = []
        for row in rows:
            fields: dict[str, str] = {}
            values = new_case_values(refs, row.values, fields)
            first = references.setdefault(str(values["reference"]), row.row)
            if first != row.row:
                fields["reference"] = f"Row {first} of this import has the same reference; each case has its own."
            if fields:
                results[row.row] = rejection(row.row, fields)
            else:
                accepted.append((row, values))
        plan = (case_clocks.schedule(session), case_clocks.calendar(session))
        cases = [
            records.case_row(session, values, case_id=records.new_id(), seq=seq, plan=plan)
            for (_row, values), seq in zip(accepted, next_seqs(session, len(accepted)))
        ]
        if not cases:
            return []
        callers, touched = _holders(session, cases)
        before = snapshot(session, callers, touched)
        insert_rows(session, _CASES, [{name: case[name] for name in _CASE_COLUMNS} for case in cases])
        insert_rows(session, _CASE_RESIDENTS, [{"case_id": c["id"], "resident_id": r} for c in cases for r in dict.fromkeys(c["resident_ids"])])
        record_scope_changes(session, callers, touched, before, new_cases=True)
        events = []
        for (row, _values), case in zip(accepted, cases):
            results[row.row] = RowResult(row.row, CREATED, case["id"])
            events.append(Event(Action.ADMIN_CREATE, "case", case["id"], {"fields": sorted(row.given), "via": f"import ({self.via})"}))
        return events


def _holders(session: Session, cases: list[dict[str, Any]]) -> tuple[list[Caller], dict[str, Touched]]:
    """Whose scope the new cases can change (assignees, their teams' leads), and for each, what it can change."""
    callers = affected_callers(session, {c["assigned_officer_id"] for c in cases}, {c["team_id"] for c in cases})
    touched: dict[str, Touched] = {}
    for caller in callers:
        held = [c for c in cases if c["assigned_officer_id"] == caller.id or (caller.is_lead and c["team_id"] == caller.team_id)]
        touched[caller.id] = touched_by(session, [c["id"] for c in held], {c["property_id"] for c in held}, [r for c in held for r in c["resident_ids"]])
    return callers, touched
