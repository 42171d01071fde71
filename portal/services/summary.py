"""The tenant's written summary on the portal (PROTOCOL.md revision 2).

The letter is made by the same renderer as on the laptop (`fieldapp.letter`), from the
records in the protocol's shapes, so a visit gives the same letter wherever it is made.
Recording that it was issued (an officer's op or the CRM's admin call) adds
``summary_issued`` to the visit and meets the case's ``summary`` clock.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from fieldapp.letter import LetterPhoto, letter_facts, load_template, render_letter
from fieldapp.letter.images import missing_photo
from portal.blobstore import BlobStore
from portal.models import CaseRow, PropertyRow, ResidentRow, UserRow, VisitRow
from portal.services.case_clocks import meet_clock
from portal.services.scope import Caller
from portal.services.sequence import stamp
from sync.protocol import ErrorCode, SummaryIssuedData, format_timestamp, parse_timestamp, utc_now

#: A device's clock may run a little fast; an issue time further ahead than this is a mistake.
_CLOCK_SKEW = timedelta(minutes=5)


class SummaryRefused(Exception):
    """A summary_issued that cannot be recorded: ``status`` is "conflict" or "rejected"."""

    def __init__(self, status: str, code: str, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields or {}


def _team_of(session: Session, visit: VisitRow) -> str | None:
    officer = session.get(UserRow, visit.officer_id)
    return officer.team_id if officer is not None else None


def may_record(session: Session, caller: Caller, visit: VisitRow) -> bool:
    """The visit's officer or a lead of its team may record that its summary was issued."""
    if visit.officer_id == caller.id:
        return True
    return caller.is_lead and caller.team_id is not None and _team_of(session, visit) == caller.team_id


def may_read_letter(session: Session, caller: Caller, visit: VisitRow) -> bool:
    """The visit's officer, a lead of its team, or an admin may have its letter."""
    return caller.is_admin or may_record(session, caller, visit)


def letter_pdf(session: Session, blobs: BlobStore, visit: VisitRow, template: Path | None, issued_on: date) -> bytes:
    """The visit's letter as PDF bytes; `fieldapp.letter.LetterError` when it cannot be made."""
    case = session.get(CaseRow, visit.case_id)
    assert case is not None  # a visit's case is a foreign key
    prop = session.get(PropertyRow, case.property_id)
    residents = [r for r in (session.get(ResidentRow, rid) for rid in case.resident_ids) if r is not None]
    officer = session.get(UserRow, visit.officer_id)
    facts = letter_facts(visit.id, visit.document, case.data(), prop.data() if prop else {},
                         [r.data() for r in residents], officer.display_name if officer else "")

    def photo(entry: LetterPhoto) -> bytes:
        if not blobs.exists(entry.sha256):
            raise missing_photo(entry)
        return b"".join(blobs.read(entry.sha256))

    return render_letter(facts, load_template(template), photo, issued_on)


def record_issued(session: Session, by_id: str, visit: VisitRow, body: SummaryIssuedData) -> None:
    """Add ``summary_issued`` to the visit (new version and seq) and meet the case's summary clock."""
    try:
        issued_at = parse_timestamp(body.issued_at)
    except ValueError:
        raise SummaryRefused("rejected", ErrorCode.INVALID_REQUEST,
                             "Give issued_at as an ISO-8601 time, e.g. 2026-12-02T14:30:00Z.",
                             {"issued_at": "not an ISO-8601 time"}) from None
    if issued_at > utc_now() + _CLOCK_SKEW:
        raise SummaryRefused("rejected", ErrorCode.INVALID_REQUEST,
                             "issued_at is in the future; give the time the summary was handed over, posted or sent.",
                             {"issued_at": "in the future"})
    started = visit.document.get("started_at")
    # Whole seconds: the laptop records the issue to the second and the start to the
    # microsecond, so a letter handed over within the visit's first second is not "before" it.
    if started and issued_at < parse_timestamp(str(started)).replace(microsecond=0):
        raise SummaryRefused("rejected", ErrorCode.INVALID_REQUEST,
                             "issued_at is before the inspection began; give the time the summary went out.",
                             {"issued_at": "before the visit"})
    if visit.summary_issued:
        before = visit.summary_issued
        raise SummaryRefused("conflict", ErrorCode.CONFLICT,
                             f"The summary of this visit was already recorded as issued ({before.get('method')}, "
                             f"{before.get('issued_at')}); nothing was changed.")
    visit.summary_issued = {"method": body.method, "issued_at": format_timestamp(issued_at), "by_id": by_id}
    visit.version += 1
    session.flush()
    stamp(session, visit)
    case = session.get(CaseRow, visit.case_id)
    if case is not None:
        meet_summary_clock(session, case, format_timestamp(issued_at))


def meet_summary_clock(session: Session, case: CaseRow, met_at: str) -> None:
    """Meet the case's ``summary`` clock at ``met_at``, if it has one (a met clock keeps its time)."""
    clock = next((c for c in case.clocks or [] if c.get("stage") == "summary"), None)
    if clock is not None and not clock.get("met_at"):
        meet_clock(session, case, "summary", parse_timestamp(met_at))
