"""Wire shapes of sync protocol version 1 (../shared/PROTOCOL.md), shared by client and portal.

One definition of every request and response body, as pydantic models (those the
core builds or reads itself, the visit document and push results, are defined in
`fieldapp.wire` and re-exported here with the core's rules). The portal
validates what it receives with them (unknown fields are refused: ``extra="forbid"``
on requests), and the client parses what it receives with them (unknown fields are
ignored, so a newer portal can add fields without breaking older laptops).

Only the standard library, pydantic and the core are imported here: the portal may
import this module and nothing else of `sync`.
"""

# No `from __future__ import annotations` here: the interpreter evaluates the field annotations
# once, where pydantic would compile each string again (~4 ms of every `fieldapp sync`).

import re
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

# The fixed values and domain rules live in the core; the protocol re-exports them so
# that the portal needs no import of `fieldapp` of its own (``X as X``: an explicit re-export).
from fieldapp.clock import (
    format_timestamp as format_timestamp,
    parse_timestamp as parse_timestamp,
    utc_now as utc_now,
)
from fieldapp.domain import (
    CATEGORY_1_BANDS as CATEGORY_1_BANDS,
    HHSRS_BANDS as HHSRS_BANDS,
    HHSRS_HAZARDS as HHSRS_HAZARDS,
    CaseStatus as CaseStatus,
    CaseType as CaseType,
    Decision as Decision,
    Entity as Entity,
    ErrorCode as ErrorCode,
    OpKind as OpKind,
    OpStatus as OpStatus,
    Outcome as Outcome,
    Priority as Priority,
    PropertyType as PropertyType,
    QuestionKind as QuestionKind,
    Role as Role,
    VisitStatus as VisitStatus,
    band_for_score as band_for_score,
    date_answer_text as date_answer_text,
    is_category_1 as is_category_1,
    submitted_in_chain as submitted_in_chain,
    visit_hazards as visit_hazards,
)
from fieldapp.limits import (
    CAPTION_MAX_CHARS as CAPTION_MAX_CHARS,
    COMMENT_MAX_CHARS as COMMENT_MAX_CHARS,
    HAZARD_LOCATION_MAX_CHARS as HAZARD_LOCATION_MAX_CHARS,
    HAZARD_NOTES_MAX_CHARS as HAZARD_NOTES_MAX_CHARS,
    INT64_MAX as INT64_MAX,
    INT64_MIN as INT64_MIN,
    MAX_HAZARDS as MAX_HAZARDS,
    MAX_PHOTOS as MAX_PHOTOS,
    NOTES_MAX_CHARS as NOTES_MAX_CHARS,
    PHOTO_MAX_EDGE as PHOTO_MAX_EDGE,
    unstorable as unstorable,
)
from fieldapp.domain_assessment import (
    HOUSEHOLD_FACTORS as HOUSEHOLD_FACTORS,
    Finding as Finding,
    assessment_problems as assessment_problems,
    has_supplementary_work as has_supplementary_work,
    needs_assessment as needs_assessment,
    needs_summary as needs_summary,
)
from fieldapp.domain_forms import (
    drop_hidden as drop_hidden,
    is_shown as is_shown,
    validate_answers as validate_answers,
)
from fieldapp.domain_required import (
    answer_problems as answer_problems,
    answers_required as answers_required,
    assessment_required as assessment_required,
)
from fieldapp.domain_vocabulary import (
    DEFAULT_VOCABULARY as DEFAULT_VOCABULARY,
    HHSRS_2006 as HHSRS_2006,
    band_names as band_names,
    category_1_bands as category_1_bands,
    check_hazard_list as check_hazard_list,
    hazard_names as hazard_names,
    vocabulary_problems as vocabulary_problems,
)
# The visit document the laptop builds and the push results it records are the core's models too.
from fieldapp.wire import (
    UNSTORABLE as UNSTORABLE,
    UUID_PATTERN as UUID_PATTERN,
    ErrorBody as ErrorBody,
    HazardEntry as HazardEntry,
    Incoming as Incoming,
    OpResult as OpResult,
    Outgoing as Outgoing,
    PhotoEntry as PhotoEntry,
    Sha256 as Sha256,
    Uuid as Uuid,
    VisitDocument as VisitDocument,
)

PROTOCOL_VERSION = 1
#: Revision 2 is additive (PROTOCOL.md): same version, more fields, entities and ops.
PROTOCOL_REVISION = 2
API_PREFIX = "/api/v1"

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
UUID_RE = re.compile(UUID_PATTERN)


# ---------------------------------------------------------------- errors


class ErrorResponse(Outgoing):
    error: ErrorBody


# ---------------------------------------------------------------- auth


class LoginRequest(Incoming):
    username: StrictStr = Field(min_length=1, max_length=150)
    password: StrictStr = Field(min_length=1, max_length=1024)
    device_id: StrictStr = Field(min_length=1, max_length=100)
    device_name: StrictStr | None = Field(default=None, max_length=200)


class UserPublic(Outgoing):
    id: str
    username: str
    display_name: str
    role: Role
    team_id: str | None = None


class LoginResponse(Outgoing):
    token: str
    expires_at: str
    user: UserPublic


# ---------------------------------------------------------------- sync meta and pull


class SyncMeta(Outgoing):
    protocol: int
    server_time: str
    max_push_ops: int
    max_push_bytes: int
    max_blob_bytes: int
    chunk_bytes: int
    tombstone_days: int
    #: Absent from a revision-1 portal.
    revision: int = 1


class Change(Outgoing):
    entity: Entity
    id: str
    version: int
    seq: int
    deleted: bool
    data: dict[str, Any] | None = None


class PullResponse(Outgoing):
    changes: list[Change]
    next_cursor: int
    has_more: bool


# ---------------------------------------------------------------- entities (data of changes)


class TeamData(Incoming):
    name: StrictStr = Field(min_length=1, max_length=200)


class UserData(Incoming):
    username: StrictStr = Field(min_length=1, max_length=150)
    display_name: StrictStr = Field(min_length=1, max_length=200)
    role: Role
    team_id: Uuid | None = None


class PropertyData(Incoming):
    uprn: StrictStr = Field(pattern=r"^[0-9]{1,12}$")
    address_lines: list[StrictStr] = Field(min_length=1, max_length=6)
    town: StrictStr = Field(min_length=1, max_length=100)
    postcode: StrictStr = Field(min_length=5, max_length=8)
    property_type: PropertyType
    bedrooms: StrictInt = Field(ge=0, le=20)


class ResidentData(Incoming):
    property_id: Uuid
    full_name: StrictStr = Field(min_length=1, max_length=200)
    phone: StrictStr | None = Field(default=None, max_length=40)
    email: StrictStr | None = Field(default=None, max_length=254)
    vulnerabilities: list[StrictStr] = Field(default_factory=list)
    warnings: list[StrictStr] = Field(default_factory=list)


class CaseData(Incoming):
    reference: StrictStr = Field(min_length=1, max_length=40)
    case_type: CaseType
    status: CaseStatus = CaseStatus.OPEN
    priority: Priority
    summary: StrictStr = Field(min_length=1, max_length=300)
    description: StrictStr = ""
    opened_at: StrictStr
    due_at: StrictStr | None = None
    property_id: Uuid
    resident_ids: list[Uuid] = Field(default_factory=list)
    assigned_officer_id: Uuid | None = None
    team_id: Uuid
    # Revision 2: statutory clocks follow these (aware_at defaults to opened_at).
    aware_at: StrictStr | None = Field(default=None, max_length=40)
    reported_hazards: list[StrictStr] = Field(default_factory=list, max_length=29)
    #: The CRM's reference (unique): ``POST /admin/cases/import`` creates or updates by it.
    external_ref: StrictStr | None = Field(default=None, min_length=1, max_length=100)


class ShowIf(Incoming):
    """The question is shown only while another question's answer equals (or, multi-choice, contains) a value."""

    question_id: StrictStr = Field(min_length=1, max_length=100)
    equals: StrictBool | StrictInt | float | StrictStr


class QuestionData(Incoming):
    id: StrictStr = Field(min_length=1, max_length=100)
    label: StrictStr = Field(min_length=1)
    kind: QuestionKind
    required: StrictBool = False
    options: list[StrictStr] | None = None
    min: float | None = None
    max: float | None = None
    help: StrictStr | None = None
    show_if: ShowIf | None = None


class SectionData(Incoming):
    id: StrictStr = Field(min_length=1, max_length=100)
    title: StrictStr
    questions: list[QuestionData]
    #: Answered once per repetition (room by room); absent means once.
    repeat: StrictBool | None = None


class TemplateData(Incoming):
    name: StrictStr = Field(min_length=1, max_length=200)
    version: StrictInt = Field(ge=1)
    case_types: list[CaseType]
    sections: list[SectionData]

    def questions(self) -> dict[str, QuestionData]:
        """Every question of the template by id."""
        return {q.id: q for s in self.sections for q in s.questions}


class ReviewPublic(Outgoing):
    decision: Decision
    comment: str = ""
    lead_id: str
    decided_at: str


class DecideData(Incoming):
    """The `data` of a review decide op."""

    visit_id: Uuid
    decision: Decision
    comment: StrictStr = Field(default="", max_length=COMMENT_MAX_CHARS)


class SummaryIssuedData(Incoming):
    """Revision 2: the tenant's written summary went out (the `data` of a visit summary_issued op, or the
    body of ``POST /admin/visits/{id}/summary-issued``)."""

    method: Literal["hand", "post", "email"]
    issued_at: StrictStr = Field(max_length=40)


# ---------------------------------------------------------------- push


class HazardReportData(Incoming):
    """The `data` of a hazard_report create op: an officer reports a hazard, the portal opens a case."""

    property_id: Uuid
    from_case_id: Uuid | None = None
    visit_id: Uuid | None = None
    hazards: list[StrictStr] = Field(min_length=1, max_length=29)
    description: StrictStr = Field(max_length=10_000)
    observed_at: StrictStr
    priority: Priority = Priority.URGENT
    photo_ids: list[Uuid] = Field(default_factory=list, max_length=200)


class Op(Incoming):
    op_id: Uuid
    entity: Literal["visit", "review", "hazard_report"]
    id: Uuid
    kind: Literal["submit", "decide", "create", "summary_issued"]
    base_version: StrictInt = Field(ge=0)
    data: dict[str, Any]


class PushResponse(Outgoing):
    results: list[OpResult]


# ---------------------------------------------------------------- blobs


class BlobMissingRequest(Incoming):
    hashes: list[StrictStr] = Field(max_length=5000)


class BlobMissingResponse(Outgoing):
    missing: list[str]


class BlobUploadState(Outgoing):
    state: Literal["absent", "partial", "complete"]
    offset: int


class ContentRange(BaseModel):
    """A parsed ``Content-Range: bytes START-END/TOTAL`` header (END inclusive)."""

    start: int
    end: int
    total: int

    _PATTERN: ClassVar[re.Pattern[str]] = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")

    @classmethod
    def parse(cls, header: str) -> "ContentRange":
        """Parse the header; ValueError when it is malformed or inconsistent."""
        match = cls._PATTERN.match(header.strip())
        if not match:
            raise ValueError(f"Content-Range must look like 'bytes START-END/TOTAL', got {header!r}")
        start, end, total = (int(g) for g in match.groups())
        if start > end or end >= total:
            raise ValueError(f"Content-Range {header!r} is not a valid range of the blob")
        return cls(start=start, end=end, total=total)

    def header(self) -> str:
        return f"bytes {self.start}-{self.end}/{self.total}"

    @property
    def length(self) -> int:
        return self.end - self.start + 1


# ---------------------------------------------------------------- admin


class AdminUserCreate(UserData):
    # The length and common-password rule is the portal's (422 weak_password), not a shape check.
    password: StrictStr = Field(min_length=1, max_length=1024)


class AdminUserPatch(Incoming):
    """Revision 2: any subset of an account's changeable fields."""

    display_name: StrictStr | None = Field(default=None, min_length=1, max_length=200)
    role: Role | None = None
    team_id: Uuid | None = None
    active: StrictBool | None = None
    password: StrictStr | None = Field(default=None, min_length=1, max_length=1024)


class PasswordChange(Incoming):
    """Revision 2: ``POST /auth/password``."""

    current_password: StrictStr = Field(min_length=1, max_length=1024)
    new_password: StrictStr = Field(min_length=1, max_length=1024)


class AuditEventPublic(Outgoing):
    id: int
    at: str
    actor_id: str | None = None
    action: str
    entity: str | None = None
    entity_id: str | None = None
    device_id: str | None = None
    address: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class AuditPage(Outgoing):
    """Revision 2: ``GET /admin/audit``."""

    events: list[AuditEventPublic]
    next_since: int
    has_more: bool


class AdminCasePatch(Incoming):
    """Any subset of a case's fields."""

    reference: StrictStr | None = Field(default=None, min_length=1, max_length=40)
    case_type: CaseType | None = None
    status: CaseStatus | None = None
    priority: Priority | None = None
    summary: StrictStr | None = Field(default=None, min_length=1, max_length=300)
    description: StrictStr | None = None
    opened_at: StrictStr | None = None
    due_at: StrictStr | None = None
    property_id: Uuid | None = None
    resident_ids: list[Uuid] | None = None
    assigned_officer_id: Uuid | None = None
    team_id: Uuid | None = None
    aware_at: StrictStr | None = Field(default=None, max_length=40)
    reported_hazards: list[StrictStr] | None = Field(default=None, max_length=29)
    external_ref: StrictStr | None = Field(default=None, min_length=1, max_length=100)
    #: {stage: ISO time}: the CRM reports works done.
    clocks_met: dict[StrictStr, StrictStr] | None = Field(default=None, max_length=5)


class VocabularyHazard(Incoming):
    name: StrictStr = Field(min_length=1, max_length=200)
    group: StrictStr = Field(min_length=1, max_length=200)


class VocabularyBand(Incoming):
    band: StrictStr = Field(min_length=1, max_length=10)
    min_score: StrictInt | None = Field(default=None, ge=0, le=2**63 - 1)
    category_1: StrictBool


class HazardVocabularyData(Incoming):
    """Entity ``hazard_vocabulary`` (and the body of ``POST /admin/hazard-vocabularies``)."""

    key: StrictStr = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,59}$")
    name: StrictStr = Field(min_length=1, max_length=200)
    effective_from: StrictStr = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    hazards: list[VocabularyHazard] = Field(min_length=1, max_length=500)
    bands: list[VocabularyBand] = Field(min_length=1, max_length=50)


class AwaabPhase(Incoming):
    phase: StrictInt | StrictStr
    #: The day (Europe/London) from which the phase is in force.
    from_: StrictStr = Field(alias="from", pattern=r"^\d{4}-\d{2}-\d{2}$")
    significant_hazards: list[StrictStr] = Field(default_factory=list, max_length=500)
    #: "all": every emergency hazard; or the names of the emergency hazards covered.
    emergency: Literal["all"] | list[StrictStr] = "all"

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class AwaabScheduleData(Incoming):
    """Entity ``awaab_schedule`` (and the body of ``PUT /admin/awaab-schedule``)."""

    phases: list[AwaabPhase] = Field(min_length=1, max_length=50)


class BankHolidayCreate(Incoming):
    """``POST /admin/bank-holidays``: a one-off day of the council's (a coronation, a jubilee)."""

    date: StrictStr = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    name: StrictStr = Field(min_length=1, max_length=200)


class AdminVisitsResponse(Outgoing):
    visits: list[dict[str, Any]]
    next_since: int
    has_more: bool


class Health(Outgoing):
    status: str
    database: str
