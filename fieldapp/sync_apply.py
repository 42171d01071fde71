"""Applying pulled changes, resetting after ``resync_required``, and purging what left scope.

A pulled page is applied with its cursor in the caller's single transaction. Every
record is an upsert by id that never goes back to an older ``version``. Tombstones of
cases, properties and residents only mark them: they stay until `purge` finds that
no unsent work needs them, so an officer never loses the case of a draft.

Pulled visits: the officer's own visits take the portal's state, review and version;
their content too, unless work on them is unsent here (a queued op, a problem, edits
after a return), which always wins locally. A lead's team visits are stored for the
review queue. Every pulled version is kept in ``visit_history`` so "what changed
since it was returned" can be answered, except the echo of this laptop's own push (the
visit as it sent it, at the version the push result gave): recognised from the stored
visit's state columns alone and skipped, so the pull after a push costs next to nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, delete, exists, select, update
from sqlalchemy.orm import Session

from fieldapp.bulk_rows import among, insert_rows
from fieldapp.clock import parse_optional, parse_timestamp, utc_now
from fieldapp.domain import OpKind
from fieldapp.drafts import has_unsent_work
from fieldapp.errors import StoreError
from fieldapp.models import (
    AwaabScheduleRow,
    CaseRow,
    CaseResidentRow,
    HazardVocabularyRow,
    LocalReviewRow,
    OutboxRow,
    PhotoRow,
    ProblemRow,
    PropertyRow,
    ResidentRow,
    SyncStateRow,
    TeamRow,
    TemplateRow,
    UserRow,
    VisitHistoryRow,
    VisitRow,
)
from fieldapp.search import cases_touched, reindex_all, reindex_cases
from fieldapp.types import VisitState, portal_state
from fieldapp.summaries import take_pulled as take_pulled_summary
from fieldapp.visits import take_document, take_portal_state

log = logging.getLogger(__name__)


@dataclass
class _Page:
    """What one page touched, for the search index and the photo files to remove."""

    me: str | None
    now: datetime
    cases: set[str] = field(default_factory=set)
    properties: set[str] = field(default_factory=set)
    residents: set[str] = field(default_factory=set)
    links: dict[str, list[str]] = field(default_factory=dict)
    dropped_hashes: list[str] = field(default_factory=list)
    known: dict[tuple[type, str], Any] = field(default_factory=dict)
    #: (visit id, version) pairs already in visit_history, and each stored case's resident links.
    history: set[tuple[str, int]] = field(default_factory=set)
    old_links: dict[str, list[str]] = field(default_factory=dict)
    #: New rows of the bulk kinds, inserted together (`insert_new`) rather than one ORM object each.
    new: dict[type, dict[str, dict[str, Any]]] = field(default_factory=dict)
    #: (id, version) of the page's visits that echo this laptop's own push (`_visit_echoes`): skipped unread.
    echoes: set[tuple[str, int]] = field(default_factory=set)

    def existing(self, session: Session, model: type, cid: str) -> Any:
        """The stored row (or None) from the page's prefetch, without a query per change."""
        if cid in self.new.get(model, ()):
            self.insert_new(session)   # the same record twice in a page: the second sees the first
        key = (model, cid)
        if key in self.known:
            return self.known[key]
        return session.get(model, cid)

    def insert_new(self, session: Session) -> None:
        """Insert the page's new properties, residents and cases, a statement per kind, parents first."""
        for model in _BULK:
            rows = self.new.pop(model, None)
            if rows:
                insert_rows(session, cast(Table, model.__table__), list(rows.values()))
                for cid in rows:
                    self.known.pop((model, cid), None)   # stored now: a later look-up reads the row


def _stale(row: Any, version: int) -> bool:
    return row is not None and row.version > version


def _team_values(data: Mapping[str, Any]) -> dict[str, Any]:
    return {"name": data["name"]}


def _user_values(data: Mapping[str, Any]) -> dict[str, Any]:
    return {"username": data["username"], "display_name": data["display_name"], "role": data["role"],
            "team_id": data.get("team_id")}


def _user(session: Session, page: _Page, cid: str, version: int, data: Mapping[str, Any] | None) -> None:
    _plain_user(session, page, cid, version, data)
    if cid == page.me and data is not None:
        state = session.get(SyncStateRow, 1)
        row = page.existing(session, UserRow, cid)
        if state is not None and row is not None and row.version == version:
            state.username, state.display_name = row.username, row.display_name
            state.role, state.team_id = row.role, row.team_id


def _property_values(data: Mapping[str, Any]) -> dict[str, Any]:
    return {"uprn": data["uprn"], "address_lines": list(data["address_lines"]), "town": data["town"],
            "postcode": data["postcode"], "property_type": data["property_type"],
            "bedrooms": int(data["bedrooms"])}


def _resident_values(data: Mapping[str, Any]) -> dict[str, Any]:
    return {"property_id": data["property_id"], "full_name": data["full_name"], "phone": data.get("phone"),
            "email": data.get("email"), "vulnerabilities": list(data.get("vulnerabilities") or []),
            "warnings": list(data.get("warnings") or [])}


def _case_values(data: Mapping[str, Any]) -> dict[str, Any]:
    opened_at = parse_timestamp(data["opened_at"])
    return {"reference": data["reference"], "case_type": data["case_type"], "status": data["status"],
            "priority": data["priority"], "summary": data["summary"],
            "description": data.get("description") or "", "opened_at": opened_at,
            "due_at": parse_optional(data.get("due_at")), "property_id": data["property_id"],
            "assigned_officer_id": data.get("assigned_officer_id"), "team_id": data.get("team_id"),
            # Revision 2; a revision-1 portal sends none of these (PROTOCOL.md: aware_at defaults to opened_at).
            "aware_at": parse_optional(data.get("aware_at")) or opened_at,
            "reported_hazards": [str(h) for h in data.get("reported_hazards") or []],
            "source": str(data.get("source") or "crm"), "awaab": bool(data.get("awaab", False)),
            "clocks": [_clock(c) for c in data.get("clocks") or []]}


def _clock(raw: Mapping[str, Any]) -> dict[str, Any]:
    """One clock as stored: the portal's fields, timestamps checked so a bad one fails the page, not the screen."""
    for key in ("due_at", "met_at"):
        parse_optional(raw.get(key))
    return {"stage": str(raw["stage"]), "due_at": raw.get("due_at"), "met_at": raw.get("met_at"),
            "basis": str(raw.get("basis") or "")}


def _vocabulary_values(data: Mapping[str, Any]) -> dict[str, Any]:
    return {"key": str(data["key"]), "name": str(data.get("name") or data["key"]),
            "effective_from": str(data.get("effective_from") or ""),
            "hazards": [{"name": str(h["name"]), "group": str(h.get("group") or "")} for h in data["hazards"]],
            "bands": [{"band": str(b["band"]), "min_score": b.get("min_score"),
                       "category_1": bool(b.get("category_1", False))} for b in data.get("bands") or []]}


def _schedule_values(data: Mapping[str, Any]) -> dict[str, Any]:
    return {"phases": [dict(phase) for phase in data["phases"]]}


_Handler = Callable[[Session, _Page, str, int, Mapping[str, Any] | None], None]


def _handler(model: type, values: Callable[[Mapping[str, Any]], dict[str, Any]], touched: str | None = None) -> _Handler:
    """The upsert handler of one kind of portal record.

    Records the case list shows (``touched`` names the page's set) are kept and marked
    by a tombstone until the purge; others (teams, users) are deleted at once.
    """

    def handle(session: Session, page: _Page, cid: str, version: int, data: Mapping[str, Any] | None) -> None:
        row = page.existing(session, model, cid)
        if _stale(row, version):
            return
        if data is None:
            if row is not None and touched is not None:
                row.version, row.deleted = version, True
                getattr(page, touched).add(cid)
            elif row is not None:
                session.delete(row)
                page.known[(model, cid)] = None
            return
        fields = values(data) if touched is None else {**values(data), "deleted": False}
        changed = _upsert(session, page, model, row, cid, version, fields)
        if model is CaseRow:
            links = page.links[cid] = list(dict.fromkeys(data.get("resident_ids") or []))
            changed = changed or links != page.old_links.get(cid, [])
        if touched is not None and changed:
            # Only a record whose fields (or a case's residents) changed can change a list line: the echo
            # of a push brings back each visit's case at a new version with the same fields.
            getattr(page, touched).add(cid)

    return handle


def _template(session: Session, page: _Page, cid: str, version: int, data: Mapping[str, Any] | None) -> None:
    rows = list(session.scalars(select(TemplateRow).where(TemplateRow.id == cid)))
    if any(r.version > version for r in rows):
        return
    if data is None:
        for r in rows:
            r.version, r.deleted = version, True
        return
    number = int(data["version"])
    row = next((r for r in rows if r.template_version == number), None)
    values = {"version": version, "name": data["name"], "case_types": list(data["case_types"]),
              "sections": list(data["sections"]), "deleted": False}
    if row is None:
        session.add(TemplateRow(id=cid, template_version=number, **values))
    else:
        for key, value in values.items():
            setattr(row, key, value)


def _upsert(session: Session, page: _Page, model: type, row: Any, cid: str, version: int,
            values: Mapping[str, Any]) -> bool:
    """Store the record at this version; True when it is new or any of its fields changed."""
    if row is None and model in _BULK:
        # A first sync brings tens of thousands of these: one executemany, not an ORM object each.
        page.new.setdefault(model, {})[cid] = {"id": cid, "version": version, **values}
        return True
    if row is None:
        page.known[(model, cid)] = new = model(id=cid, version=version, **values)
        session.add(new)
        return True
    row.version = version
    changed = False
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed = True
    return changed


def has_local_work(session: Session, visit: VisitRow) -> bool:
    """True when something about this visit is unsent or unresolved here, so it must stay as it is."""
    if visit.own:
        if has_unsent_work(visit):
            return True
        # A queued summary_issued is no edit of the visit's content: a pull may still update that.
        content_op = OutboxRow.kind != OpKind.SUMMARY_ISSUED
        return bool(session.scalar(select(
            exists().where(OutboxRow.record_id == visit.id, content_op) | exists().where(ProblemRow.record_id == visit.id))))
    return bool(session.scalar(select(exists().where(
        LocalReviewRow.visit_id == visit.id, LocalReviewRow.sent.is_(False)))))


def _pulled_status(data: Mapping[str, Any]) -> str:
    """A pulled visit document's status; one without a status is read as ``submitted``."""
    return str(data.get("status") or "submitted")


def _visit(session: Session, page: _Page, cid: str, version: int, data: Mapping[str, Any] | None) -> None:
    if (cid, version) in page.echoes:
        return   # the laptop holds this version: it sent it (see `_is_echo`)
    row = page.existing(session, VisitRow, cid)
    if data is None:
        if row is not None and not has_local_work(session, row):
            page.dropped_hashes += [p.sha256 for p in row_photos(session, cid)]
            session.delete(row)
        return
    status = _pulled_status(data)
    if row is None:
        row = VisitRow(id=cid, answers={}, hazards=[], notes="", state=portal_state(status).value, server_version=version,
                       own=data.get("officer_id") == page.me, local_edits=False, updated_at=page.now,
                       received_at=page.now)
        page.known[(VisitRow, cid)] = row
        session.add(row)
        page.dropped_hashes += take_document(session, row, data)
        row.review = data.get("review")
        take_pulled_summary(session, row, data)
        session.flush()
    elif version <= row.server_version and (cid, version) in page.history:
        return  # seen already
    elif _is_echo(row, version, status, data):
        return  # the echo of this laptop's own push, met again in the page (see `_visit_echoes`)
    else:
        row.review = data.get("review")
        take_pulled_summary(session, row, data)
        row.server_version = max(row.server_version, version)
        # A team visit is the portal's alone (a lead's unsent decision lives in local_reviews).
        if not row.own or not has_local_work(session, row):
            page.dropped_hashes += take_document(session, row, data)
            take_portal_state(row, status, page.now)
    if (cid, version) not in page.history:
        page.history.add((cid, version))
        session.add(VisitHistoryRow(visit_id=cid, version=version, status=status, document=dict(data),
                                    received_at=page.now))


#: What `_is_echo` reads of a stored visit: its state, not its content (answers, hazards, assessment).
_ECHO_COLUMNS = (VisitRow.id, VisitRow.own, VisitRow.server_version, VisitRow.state, VisitRow.op_id,
                 VisitRow.local_edits, VisitRow.review, VisitRow.summary_issued)


def _is_echo(row: Any, version: int, status: str, data: Mapping[str, Any]) -> bool:
    """True when a pulled visit is the laptop's own push coming back: same version, nothing new in it.

    The push result already set the visit to the portal's version, and the document the
    portal holds at that version is the one this laptop sent (what the officer typed
    stays as typed); re-applying it would only rewrite every field and photo row. Nor
    does it go into ``visit_history``: the visit row is that version, and history is read
    for the versions a lead returned. ``row`` is a `VisitRow` or a row of `_ECHO_COLUMNS`.
    """
    return (row.own and version == row.server_version and status == "submitted"
            and row.state == VisitState.SUBMITTED.value and row.op_id is None and not row.local_edits
            and data.get("review") is None and row.review is None
            and (data.get("summary_issued") or None) == (row.summary_issued or None))


def row_photos(session: Session, visit_id: str) -> list[PhotoRow]:
    """The photo rows of a visit."""
    return list(session.scalars(select(PhotoRow).where(PhotoRow.visit_id == visit_id)))


_plain_user = _handler(UserRow, _user_values)
_HANDLERS: dict[str, _Handler] = {
    "team": _handler(TeamRow, _team_values), "user": _user, "template": _template, "visit": _visit,
    "property": _handler(PropertyRow, _property_values, "properties"),
    "resident": _handler(ResidentRow, _resident_values, "residents"),
    "case": _handler(CaseRow, _case_values, "cases"),
    "hazard_vocabulary": _handler(HazardVocabularyRow, _vocabulary_values),
    "awaab_schedule": _handler(AwaabScheduleRow, _schedule_values),
}


def apply_changes(session: Session, changes: Sequence[Mapping[str, Any]], next_cursor: int,
                  me: str | None) -> list[str]:
    """Apply one pulled page and set the cursor; returns hashes of photo files that may now be unused."""
    page = _Page(me=me, now=utc_now())
    _prefetch(session, page, changes)
    for change in changes:
        entity = str(change.get("entity"))
        handler = _HANDLERS.get(entity)
        if handler is None:
            log.warning("Ignoring a pulled change of unknown entity %r", entity)
            continue
        data = None if change.get("deleted") else change.get("data")
        try:
            handler(session, page, str(change["id"]), int(change["version"]), data)
        except (KeyError, TypeError, ValueError) as exc:
            raise StoreError(
                f"The portal sent a {entity} this version of Fieldapp cannot read ({exc!r}); nothing from "
                "this sync was saved. Install the latest version, or contact IT support.") from exc
    page.insert_new(session)
    session.flush()
    _relink(session, page.links, page.old_links)
    reindex_cases(session, cases_touched(session, page.cases, page.properties, page.residents))
    state = session.get(SyncStateRow, 1)
    assert state is not None
    state.cursor = next_cursor
    return page.dropped_hashes


_PREFETCH: dict[str, type[Any]] = {"team": TeamRow, "user": UserRow, "property": PropertyRow, "resident": ResidentRow,
             "case": CaseRow, "visit": VisitRow}
#: Inserted in this order (a case names its property; links and list lines name the case).
_BULK = (PropertyRow, ResidentRow, CaseRow)


def _prefetch(session: Session, page: _Page, changes: Sequence[Mapping[str, Any]]) -> None:
    # Load the page's existing rows in a few queries, and note which ids are new, so the
    # upserts neither query nor autoflush once per change.
    ids: dict[str, list[str]] = {}
    for change in changes:
        ids.setdefault(str(change.get("entity")), []).append(str(change.get("id")))
    for entity, model in _PREFETCH.items():
        wanted = ids.get(entity)
        if not wanted:
            continue
        # Ids first (an index read): on a first sync nothing is stored and no row is loaded.
        stored = list(session.scalars(select(model.id).where(among(model.id, wanted))))
        if model is VisitRow and stored:
            page.history.update((visit_id, version) for visit_id, version in session.execute(
                select(VisitHistoryRow.visit_id, VisitHistoryRow.version).where(among(VisitHistoryRow.visit_id, stored))))
            page.echoes = _visit_echoes(session, changes, stored)
            echoed = {cid for cid, _version in page.echoes}
            stored = [cid for cid in stored if cid not in echoed]
            # An echoed visit is left out of `known`: should the page hold it again, that change reads the row.
            wanted = [cid for cid in wanted if cid not in echoed]
        found = {row.id: row for row in session.scalars(select(model).where(among(model.id, stored)))} if stored else {}
        page.known.update({(model, cid): found.get(cid) for cid in wanted})
        if model is CaseRow and found:
            for case_id, resident_id in session.execute(
                    select(CaseResidentRow.case_id, CaseResidentRow.resident_id)
                    .where(among(CaseResidentRow.case_id, found)).order_by(CaseResidentRow.position)):
                page.old_links.setdefault(case_id, []).append(resident_id)


def _visit_echoes(session: Session, changes: Sequence[Mapping[str, Any]], stored: Sequence[str]) -> set[tuple[str, int]]:
    """(id, version) of the page's visits that echo this laptop's push, from their state columns alone.

    The pull after a push brings back every visit just pushed; loading each as a row (its
    answers, hazards and assessment decoded) only to find nothing new was most of its cost.
    """
    states = {row.id: row for row in session.execute(select(*_ECHO_COLUMNS).where(among(VisitRow.id, stored)))}
    echoes: set[tuple[str, int]] = set()
    for change in changes:
        state = states.get(str(change.get("id"))) if change.get("entity") == "visit" else None
        data = change.get("data")
        if state is None or change.get("deleted") or not isinstance(data, Mapping):
            continue
        version = change.get("version")
        if isinstance(version, int) and _is_echo(state, version, _pulled_status(data), data):
            echoes.add((state.id, version))
    return echoes


def _relink(session: Session, links: Mapping[str, list[str]], old: Mapping[str, list[str]]) -> None:
    """Store each case's resident links, skipping the cases whose links did not change."""
    links = {case_id: ids for case_id, ids in links.items() if old.get(case_id, []) != ids}
    if not links:
        return
    # Only stored cases have links to drop (``old``: every stored case of the page that has any).
    replaced = [case_id for case_id in links if case_id in old]
    if replaced:
        session.execute(delete(CaseResidentRow).where(among(CaseResidentRow.case_id, replaced)))
    insert_rows(session, cast(Table, CaseResidentRow.__table__), [
        {"case_id": case_id, "resident_id": resident_id, "position": position}
        for case_id, resident_ids in links.items() for position, resident_id in enumerate(resident_ids)])


# ---------------------------------------------------------------- reset and purge


def _work_visits(session: Session) -> list[VisitRow]:
    return [v for v in session.scalars(select(VisitRow)) if has_local_work(session, v)]


def reset_portal_data(session: Session) -> list[str]:
    """Drop portal-owned data but keep unsent work (and the cases, people and templates it needs)."""
    keep = _work_visits(session)
    keep_ids = {v.id for v in keep}
    case_ids = {v.case_id for v in keep}
    cases = list(session.scalars(select(CaseRow).where(CaseRow.id.in_(case_ids))))
    property_ids = {c.property_id for c in cases}
    resident_ids = set(session.scalars(
        select(CaseResidentRow.resident_id).where(CaseResidentRow.case_id.in_(case_ids))))
    templates = {(v.template_id, v.template_version) for v in keep}
    dropped = [p.sha256 for p in session.scalars(select(PhotoRow).where(PhotoRow.visit_id.not_in(keep_ids)))]
    session.execute(delete(VisitRow).where(VisitRow.id.not_in(keep_ids)))
    session.execute(delete(LocalReviewRow).where(LocalReviewRow.sent.is_(True)))
    session.execute(delete(CaseRow).where(CaseRow.id.not_in(case_ids)))
    session.execute(delete(PropertyRow).where(PropertyRow.id.not_in(property_ids)))
    session.execute(delete(ResidentRow).where(ResidentRow.id.not_in(resident_ids)))
    session.execute(delete(TeamRow))
    session.execute(delete(UserRow))
    for template in session.scalars(select(TemplateRow)):
        if (template.id, template.template_version) not in templates:
            session.delete(template)
    # What is kept counts as a tombstone at version 0: the pull from 0 brings back what is
    # still in scope, and the purge removes the rest once the work is sent.
    for model in (CaseRow, PropertyRow, ResidentRow, TemplateRow):
        session.execute(update(model).values(version=0, deleted=True))
    session.execute(update(VisitRow).values(server_version=0).where(VisitRow.server_version > 0,
                                                                    VisitRow.own.is_(False)))
    state = session.get(SyncStateRow, 1)
    assert state is not None
    state.cursor = 0
    session.flush()
    reindex_all(session)
    return dropped


def purge_out_of_scope(session: Session) -> tuple[int, list[str]]:
    """Remove tombstoned cases and people no unsent work needs; returns (cases purged, dropped hashes)."""
    tombstoned = [exists().where(model.deleted.is_(True)) for model in (CaseRow, PropertyRow, ResidentRow)]
    if not session.scalar(select(tombstoned[0] | tombstoned[1] | tombstoned[2])):
        return 0, []   # the usual case after a sync; the checks below read every visit
    protected = {v.case_id for v in _work_visits(session)}
    doomed = [c for c in session.scalars(select(CaseRow).where(CaseRow.deleted.is_(True)))
              if c.id not in protected]
    doomed_ids = [c.id for c in doomed]
    dropped: list[str] = []
    for visit in session.scalars(select(VisitRow).where(VisitRow.case_id.in_(doomed_ids))):
        dropped += [p.sha256 for p in row_photos(session, visit.id)]
        session.delete(visit)
    for case in doomed:
        session.delete(case)
    session.flush()
    live_properties = set(session.scalars(select(CaseRow.property_id)))
    live_residents = set(session.scalars(select(CaseResidentRow.resident_id)))
    _delete_unused(session, PropertyRow, live_properties)
    _delete_unused(session, ResidentRow, live_residents)
    return len(doomed), dropped


def _delete_unused(session: Session, model: type[Any], live: Iterable[str]) -> None:
    session.execute(delete(model).where(model.deleted.is_(True), model.id.not_in(list(live))))
