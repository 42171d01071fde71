"""The plain frozen records that `FieldStore` returns (never ORM objects).

Qt signals carry these across threads, the CLI prints them and the sync engine reads
them; nothing here touches the database.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from fieldapp.domain import Hazard as Hazard  # re-exported: a record of the visit like the others
from fieldapp.domain import visit_hazards


class VisitState(StrEnum):
    """Where a visit stands, as the officer sees it."""

    DRAFT = "draft"          # local only, editable
    QUEUED = "queued"        # submitted on the laptop, waiting to sync
    SUBMITTED = "submitted"  # on the portal, waiting for review
    APPROVED = "approved"    # locked
    RETURNED = "returned"    # editable again, with the lead's comment


#: The portal's visit status, as the officer sees the visit (`portal_state`).
STATUS_STATE = {"submitted": VisitState.SUBMITTED, "approved": VisitState.APPROVED,
                "returned": VisitState.RETURNED}


def portal_state(status: object) -> VisitState:
    """The laptop's state of a visit the portal holds with this status; no status (or an unknown one) is submitted."""
    return STATUS_STATE.get(str(status), VisitState.SUBMITTED)


class ProblemAction(StrEnum):
    """What an officer or lead can do about a problem."""

    AMEND = "amend"      # file an amendment (a new visit with `amends`)
    RETRY = "retry"      # queue the op again on the portal's current version
    DISCARD = "discard"  # drop the local change (only where nothing typed is lost)
    DISMISS = "dismiss"  # acknowledge and hide


@dataclass(frozen=True)
class UserInfo:
    id: str
    username: str
    display_name: str
    role: str
    team_id: str | None = None

    @classmethod
    def recorded(cls, user_id: str | None, username: str | None, display_name: str | None, role: str | None,
                 team_id: str | None) -> UserInfo | None:
        """The signed-in user from the sync state's columns, or None when nobody signed in yet."""
        if user_id is None:
            return None
        return cls(id=user_id, username=username or "", display_name=display_name or "", role=role or "",
                   team_id=team_id)


@dataclass(frozen=True)
class Property:
    id: str
    uprn: str
    address_lines: tuple[str, ...]
    town: str
    postcode: str
    property_type: str
    bedrooms: int

    @property
    def one_line(self) -> str:
        """The address on one line, postcode last."""
        return ", ".join((*self.address_lines, self.town, self.postcode))


@dataclass(frozen=True)
class Resident:
    id: str
    full_name: str
    phone: str | None
    email: str | None
    vulnerabilities: tuple[str, ...]
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class CaseHeading:
    """What names a case in every view of it: the list's line and the case page start with these fields."""

    id: str
    reference: str
    case_type: str
    status: str
    priority: str
    summary: str


@dataclass(frozen=True)
class CaseSummary(CaseHeading):
    """One line of the case list."""

    address: str
    postcode: str
    resident_names: str
    opened_at: datetime
    due_at: datetime | None
    overdue: bool
    has_warnings: bool


@dataclass(frozen=True)
class SummaryIssued:
    """The tenant's written summary went out (PROTOCOL.md revision 2, "Written summary for the tenant")."""

    method: str                  # "hand" | "post" | "email"
    issued_at: datetime
    by_id: str
    sent: bool                   # False while the record waits on this laptop to be sent to the portal


@dataclass(frozen=True)
class VisitSummary:
    """A visit as listed under a case or in the review queue."""

    id: str
    case_id: str
    case_reference: str
    officer_id: str
    officer_name: str
    started_at: datetime
    outcome: str | None
    state: VisitState
    photo_count: int
    hazard_count: int
    category_1: bool
    submitted_at: datetime | None = None
    amends: str | None = None
    summary_issued: SummaryIssued | None = None


@dataclass(frozen=True)
class Clock:
    """One statutory clock of a case, as the portal computed it (PROTOCOL.md revision 2)."""

    stage: str                   # investigate | summary | safety_work | supplementary_start | supplementary_works
    due_at: datetime | None
    met_at: datetime | None
    basis: str = ""              # the rule, in the portal's words

    @property
    def met(self) -> bool:
        return self.met_at is not None


@dataclass(frozen=True)
class CaseDetail(CaseHeading):
    """A case as its page shows it: the heading, then the property, residents, visits and clocks."""

    description: str
    opened_at: datetime
    due_at: datetime | None
    overdue: bool
    property: Property
    residents: tuple[Resident, ...]
    assigned_officer_id: str | None
    team_id: str | None
    visits: tuple[VisitSummary, ...]
    aware_at: datetime | None = None
    reported_hazards: tuple[str, ...] = ()
    source: str = "crm"
    awaab: bool = False
    clocks: tuple[Clock, ...] = ()

    @builtins.property  # the field `property` above shadows the builtin's name in this class
    def warnings(self) -> tuple[str, ...]:
        """Every resident's cautionary-contact warnings, to show before a visit starts."""
        return tuple(w for r in self.residents for w in r.warnings)


@dataclass(frozen=True)
class Question:
    id: str
    label: str
    kind: str
    required: bool = False
    options: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    help: str | None = None
    #: Revision 2: {"question_id", "equals"}: shown only while that answer equals (or contains) the value.
    show_if: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    questions: tuple[Question, ...]
    #: Revision 2: answered once per repetition (room by room); answers are lists.
    repeat: bool = False


@dataclass(frozen=True)
class Template:
    id: str
    name: str
    version: int
    case_types: tuple[str, ...]
    sections: tuple[Section, ...]

    def rules_document(self) -> dict[str, Any]:
        """The template as the shared rules (`fieldapp.domain_forms`) read it: ids, kinds, options, conditions, repeats."""
        return {"sections": [
            {"id": s.id, "repeat": s.repeat, "questions": [
                {"id": q.id, "kind": q.kind, "required": q.required, "options": list(q.options),
                 "show_if": dict(q.show_if) if q.show_if else None}
                for q in s.questions
            ]}
            for s in self.sections
        ]}


@dataclass(frozen=True)
class Photo:
    id: str
    visit_id: str
    sha256: str
    content_type: str
    bytes: int
    width: int
    height: int
    caption: str
    question_id: str | None
    taken_at: datetime | None
    path: Path | None            # None until the file is on this laptop (a lead downloads on demand)
    thumbnail_path: Path | None
    uploaded: bool
    source_photo_id: str | None = None   # the photo this is an annotated copy of, when it is one


@dataclass(frozen=True)
class Review:
    decision: str               # "approve" | "return"
    comment: str
    lead_id: str
    decided_at: datetime | None


@dataclass(frozen=True)
class Visit:
    id: str
    case_id: str
    officer_id: str
    template_id: str
    template_version: int
    started_at: datetime
    completed_at: datetime | None
    outcome: str | None
    answers: Mapping[str, Any]
    notes: str
    hazards: tuple[Hazard, ...]
    photos: tuple[Photo, ...]
    state: VisitState
    server_version: int          # 0 until the portal has it
    review: Review | None
    amends: str | None
    problems: Mapping[str, str] = field(default_factory=dict)  # question id -> message (current validation)
    assessment: Mapping[str, Any] | None = None   # PROTOCOL.md revision 2 "Assessment", None until begun
    vocabulary: str = "hhsrs-2006"                # the hazard vocabulary the visit is recorded under
    summary_issued: SummaryIssued | None = None   # when the tenant's written summary went out

    @property
    def editable(self) -> bool:
        return self.state in (VisitState.DRAFT, VisitState.RETURNED)

    @property
    def all_hazards(self) -> tuple[Hazard, ...]:
        """Its Hazards list and the hazards answered at questions (`fieldapp.domain.visit_hazards`)."""
        return visit_hazards(self.hazards, self.answers)


@dataclass(frozen=True)
class VisitChanges:
    """What changed in a visit since a lead returned it."""

    answers_added: tuple[str, ...]
    answers_changed: tuple[str, ...]
    answers_removed: tuple[str, ...]
    photos_added: tuple[str, ...]
    photos_removed: tuple[str, ...]
    notes_changed: bool
    hazards_changed: bool
    returned_comment: str = ""   # what the lead wrote when returning it

    @property
    def empty(self) -> bool:
        return not (self.answers_added or self.answers_changed or self.answers_removed
                    or self.photos_added or self.photos_removed or self.notes_changed or self.hazards_changed)


@dataclass(frozen=True)
class ReviewItem:
    """A submitted visit of the lead's team, waiting for a decision."""

    visit_id: str
    case_id: str
    case_reference: str
    address: str
    officer_id: str
    officer_name: str
    started_at: datetime
    received_at: datetime        # when the laptop first pulled it (age in the queue)
    outcome: str | None
    hazards: tuple[Hazard, ...]
    photo_count: int
    category_1: bool
    resubmitted: bool            # it was returned before
    clock: Clock | None = None   # the nearest unmet statutory clock of the visit's case


@dataclass(frozen=True)
class DeadlineRow:
    """A case with an unmet statutory clock, for the Deadlines view (nearest clock first)."""

    case_id: str
    reference: str
    address: str
    case_type: str
    priority: str
    status: str
    assigned_officer_id: str | None
    officer_name: str
    clock: Clock                 # the nearest unmet clock
    other_unmet: int             # how many more unmet clocks the case has


@dataclass(frozen=True)
class HazardReport:
    """A hazard an officer reported from the field (a new case once the portal takes it)."""

    id: str                      # the new case's id
    property_id: str
    from_case_id: str | None
    visit_id: str | None
    hazards: tuple[str, ...]
    description: str
    observed_at: datetime
    priority: str
    photo_ids: tuple[str, ...]
    vocabulary: str
    state: str                   # "queued" | "sent" | "rejected"
    created_at: datetime


@dataclass(frozen=True)
class Pending:
    """Unsent work: what is queued to be sent, and drafts (started or corrected here, not yet submitted)."""

    visits: int
    reviews: int
    photos: int
    bytes: int
    drafts: int = 0
    reports: int = 0             # hazard reports from the field
    summaries: int = 0           # records that a tenant's written summary was issued

    @property
    def queued(self) -> int:
        """Visits, decisions, hazard reports and summary records waiting in the outbox."""
        return self.visits + self.reviews + self.reports + self.summaries

    @property
    def nothing_queued(self) -> bool:
        """Nothing waits to be sent (drafts may still exist: they are sent only once submitted)."""
        return not (self.queued or self.photos)

    @property
    def empty(self) -> bool:
        """No unsent work at all: nothing queued and no draft."""
        return self.nothing_queued and not self.drafts

    def queued_items(self) -> list[str]:
        """What waits in the outbox, in words ("2 visits", "1 hazard report"); photos are counted apart."""
        return counted_parts((self.visits, "visit"), (self.reviews, "decision"), (self.reports, "hazard report"),
                             (self.summaries, "written summary record"))


def counted(number: int, noun: str, after: str = "") -> str:
    """"1 photo", "2 photos", "2 photos to upload": a count, its noun in the right number, then ``after``."""
    text = f"{number} {noun}{'' if number == 1 else 's'}"
    return f"{text} {after}" if after else text


def counted_parts(*counts: tuple[int, str] | tuple[int, str, str]) -> list[str]:
    """The `counted` phrases of the counts that are not zero, in order: ``(3, "photo", "to upload")``, …"""
    return [counted(*count) for count in counts if count[0]]


@dataclass(frozen=True)
class Draft:
    """A visit started (or, after a return, corrected) on this laptop and not yet submitted."""

    visit_id: str
    case_id: str
    case_reference: str
    template_name: str
    state: VisitState            # DRAFT, or RETURNED with corrections not yet resubmitted
    started_at: datetime
    updated_at: datetime
    answers: int                 # questions answered
    photos: int
    hazards: int
    has_notes: bool
    amends: str | None = None

    @property
    def discardable(self) -> bool:
        """Only a draft that never reached the portal can be thrown away here."""
        return self.state == VisitState.DRAFT

    @property
    def contents(self) -> str:
        """What the draft holds, in words ("2 answers, 1 photo, notes"), for whoever decides its fate."""
        parts = counted_parts((self.answers, "answer"), (self.photos, "photo"), (self.hazards, "hazard"))
        if self.has_notes:
            parts.append("notes")
        if not parts:
            return "nothing entered yet"
        return ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]


@dataclass(frozen=True)
class Problem:
    id: str
    kind: str                    # "conflict" | "rejected" | "visit_locked" | "blob_missing" | ...
    entity: str                  # "visit" | "review"
    record_id: str
    message: str
    actions: tuple[ProblemAction, ...]
    created_at: datetime
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OutboxOp:
    """An op waiting to be pushed, in the protocol's shape."""

    op_id: str
    entity: str
    id: str
    kind: str
    base_version: int
    data: Mapping[str, Any]
    size: int                    # bytes of its JSON, for batching under max_push_bytes

    def to_wire(self) -> dict[str, Any]:
        return {"op_id": self.op_id, "entity": self.entity, "id": self.id, "kind": self.kind,
                "base_version": self.base_version, "data": dict(self.data)}


@dataclass(frozen=True)
class BlobRef:
    """A stored photo file the portal may not have yet."""

    sha256: str
    path: Path
    bytes: int
    content_type: str


@dataclass(frozen=True)
class SyncState:
    cursor: int
    last_sync_at: datetime | None
    user: UserInfo | None
    portal_url: str | None
    device_id: str
