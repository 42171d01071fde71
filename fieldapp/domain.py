"""Domain values and rules of Fieldapp: fixed vocabularies, HHSRS hazards and bands,
a visit's hazards and the Category 1 rule, what counts as a blank answer (the validation
of answers against a template is `fieldapp.domain_forms.validate_answers`).

Pure Python with no dependencies, so that the core, the sync client and (through
`sync.protocol`) the portal apply one and the same rule.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from enum import StrEnum
from typing import Any

from fieldapp.limits import TEXT_ANSWER_MAX_CHARS, too_long


class Role(StrEnum):
    OFFICER = "officer"
    LEAD = "lead"
    ADMIN = "admin"


class CaseType(StrEnum):
    DAMP_MOULD = "damp_mould"
    REPAIR = "repair"
    TENANCY_AUDIT = "tenancy_audit"
    VOID = "void"
    ASB = "asb"
    ESTATE = "estate"


class Priority(StrEnum):
    EMERGENCY = "emergency"
    URGENT = "urgent"
    ROUTINE = "routine"


class CaseStatus(StrEnum):
    OPEN = "open"
    SCHEDULED = "scheduled"
    VISITED = "visited"
    CLOSED = "closed"


#: Most pressing first; a priority the app does not know sorts after these.
PRIORITY_RANK: Mapping[str, int] = {Priority.EMERGENCY: 0, Priority.URGENT: 1, Priority.ROUTINE: 2}
#: Where cases without a due date go: after every dated one.
NO_DUE_DATE = datetime.max.replace(tzinfo=timezone.utc)


def case_list_position(due_at: datetime | None, priority: str, reference: str, status: str) -> tuple[datetime, int, str]:
    """The case list's order: soonest due first (none, and closed cases, last), then the most pressing priority, then the reference."""
    if due_at is None or status == CaseStatus.CLOSED:
        due = NO_DUE_DATE
    else:
        due = due_at if due_at.tzinfo else due_at.replace(tzinfo=timezone.utc)
    return due, PRIORITY_RANK.get(priority, len(PRIORITY_RANK)), reference


def is_case_overdue(due_at: datetime | None, status: str, now: datetime) -> bool:
    """A case is overdue when its due time has passed and it is not closed."""
    return due_at is not None and due_at < now and status != CaseStatus.CLOSED


class PropertyType(StrEnum):
    HOUSE = "house"
    FLAT = "flat"
    BUNGALOW = "bungalow"
    MAISONETTE = "maisonette"
    BEDSIT = "bedsit"


class QuestionKind(StrEnum):
    YES_NO = "yes_no"
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    RATING = "rating"
    HAZARD = "hazard"
    PHOTO = "photo"


class Outcome(StrEnum):
    COMPLETED = "completed"
    NO_ACCESS = "no_access"
    REFUSED = "refused"
    RESCHEDULED = "rescheduled"


class VisitStatus(StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    RETURNED = "returned"


class Decision(StrEnum):
    APPROVE = "approve"
    RETURN = "return"


class Entity(StrEnum):
    TEAM = "team"
    USER = "user"
    PROPERTY = "property"
    RESIDENT = "resident"
    CASE = "case"
    TEMPLATE = "template"
    VISIT = "visit"
    REVIEW = "review"
    # Revision 2.
    HAZARD_VOCABULARY = "hazard_vocabulary"
    AWAAB_SCHEDULE = "awaab_schedule"
    HAZARD_REPORT = "hazard_report"


class OpKind(StrEnum):
    SUBMIT = "submit"
    DECIDE = "decide"
    CREATE = "create"
    SUMMARY_ISSUED = "summary_issued"


class OpStatus(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"
    REJECTED = "rejected"


class ErrorCode(StrEnum):
    """Every error code the protocol fixes."""

    UNAUTHENTICATED = "unauthenticated"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    INVALID_CREDENTIALS = "invalid_credentials"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    RESYNC_REQUIRED = "resync_required"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    INVALID_ANSWERS = "invalid_answers"
    BLOB_MISSING = "blob_missing"
    VISIT_LOCKED = "visit_locked"
    OFFSET_MISMATCH = "offset_mismatch"
    HASH_MISMATCH = "hash_mismatch"
    UNSUPPORTED_MEDIA = "unsupported_media"
    INVALID_REQUEST = "invalid_request"
    CONFLICT = "conflict"
    #: An op_id already applied with different content (PROTOCOL revision 2).
    OP_ID_REUSED = "op_id_reused"
    #: A lead deciding a visit they submitted, or an amendment of one (revision 2).
    OWN_VISIT = "own_visit"
    #: Too many unfinished uploads of one user at once.
    TOO_MANY_UPLOADS = "too_many_uploads"
    WEAK_PASSWORD = "weak_password"
    #: An uploaded photo larger than any photo policy stores.
    IMAGE_TOO_LARGE = "image_too_large"
    #: A request body that did not arrive in time.
    REQUEST_TIMEOUT = "request_timeout"


#: The 29 HHSRS hazards, in the order of the Housing Health and Safety Rating System.
HHSRS_HAZARDS: tuple[str, ...] = (
    "Damp and mould growth",
    "Excess cold",
    "Excess heat",
    "Asbestos and MMF",
    "Biocides",
    "Carbon monoxide and fuel combustion products",
    "Lead",
    "Radiation",
    "Uncombusted fuel gas",
    "Volatile organic compounds",
    "Crowding and space",
    "Entry by intruders",
    "Lighting",
    "Noise",
    "Domestic hygiene, pests and refuse",
    "Food safety",
    "Personal hygiene, sanitation and drainage",
    "Water supply",
    "Falls associated with baths",
    "Falls on level surfaces",
    "Falls on stairs",
    "Falls between levels",
    "Electrical hazards",
    "Fire",
    "Flames and hot surfaces",
    "Collision and entrapment",
    "Explosions",
    "Position and operability of amenities",
    "Structural collapse and falling elements",
)

HHSRS_BANDS: tuple[str, ...] = ("A", "B", "C", "D", "E", "F", "G", "H", "I", "J")
#: Bands A–C are Category 1 hazards: the council must act.
CATEGORY_1_BANDS: frozenset[str] = frozenset({"A", "B", "C"})

# Lower bound of each band's HHSRS score; J is everything below 10.
_BAND_FLOORS: tuple[tuple[int, str], ...] = (
    (5000, "A"), (2000, "B"), (1000, "C"), (500, "D"), (200, "E"),
    (100, "F"), (50, "G"), (20, "H"), (10, "I"),
)


def band_for_score(score: float) -> str:
    """The HHSRS band (A–J) of a hazard score."""
    for floor, band in _BAND_FLOORS:
        if score >= floor:
            return band
    return "J"


def is_category_1(band: str | None, vocabulary: Mapping[str, Any] | None = None) -> bool:
    """The Category 1 rule (the council must act): HHSRS bands A–C; no band is never Category 1.

    With a vocabulary's data (PROTOCOL.md revision 2, ``bands: [{"band", "category_1"}]``)
    its own per-band flags decide. The one place the rule is decided: the editor, the
    store, the review queue and the portal all ask here.
    """
    if vocabulary is None:
        return band in CATEGORY_1_BANDS
    return bool(band) and any(isinstance(b, Mapping) and b.get("band") == band and bool(b.get("category_1"))
                              for b in vocabulary.get("bands") or [])


@dataclass(frozen=True)
class Hazard:
    """One hazard a visit records: a row of its Hazards list, or (``question_id`` set) a `hazard` answer."""

    hazard: str                     # "" while the officer has not chosen it yet
    band: str = ""                  # "" = no band (a visit's hazards may leave it null, PROTOCOL.md rev. 2)
    location: str = ""
    notes: str = ""
    question_id: str | None = None

    @property
    def category_1(self) -> bool:
        return is_category_1(self.band)


def hazard_record(raw: Mapping[str, Any] | Hazard, question_id: str | None = None) -> Hazard:
    """A stored or pulled hazard dict (``band`` null or absent = no band) as a `Hazard`."""
    if isinstance(raw, Hazard):
        return raw
    return Hazard(hazard=str(raw.get("hazard") or ""), band=str(raw.get("band") or ""),
                  location=str(raw.get("location") or ""), notes=str(raw.get("notes") or ""),
                  question_id=question_id)


def visit_hazards(hazards: Iterable[Mapping[str, Any] | Hazard], answers: Mapping[str, Any]) -> tuple[Hazard, ...]:
    """Every hazard of a visit: its Hazards list, then each answered `hazard` question.

    A hazard answer is the only answer whose value is an object (PROTOCOL.md answer
    values), so the answers alone say which they are: a visit whose template is not on
    this laptop still shows its hazards. A repeated section's answer (a list, one value
    per room) gives one hazard per answered room.
    """
    found = [hazard_record(h) for h in hazards]
    for question_id, value in answers.items():
        for one in value if isinstance(value, list) else [value]:
            if isinstance(one, Mapping):
                found.append(hazard_record(one, question_id))
    return tuple(found)


def is_valid_date(text: object) -> bool:
    """True for a ``YYYY-MM-DD`` calendar date."""
    if not isinstance(text, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def date_answer_text(text: str) -> str:
    """A date answer as people read it ("02 Dec 2026", as the app writes dates); anything else as it came."""
    return f"{date.fromisoformat(text):%d %b %Y}" if is_valid_date(text) else text


def _is_number(value: object) -> bool:
    # bool is an int in Python, but True is not an answer to "how many rooms".
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_value(
    question: Mapping[str, Any],
    value: Any,
    photo_ids: frozenset[str] | None,
    vocabularies: Mapping[str, tuple[frozenset[str], frozenset[str]]] | None = None,
    default_vocabulary: str = "hhsrs-2006",
) -> str | None:
    """The problem with one answer, or None when it is acceptable.

    ``vocabularies`` maps a vocabulary key to its (hazard names, bands) for ``hazard``
    answers, which may name their ``vocabulary`` (default: HHSRS as in revision 1).
    """
    kind = question.get("kind")
    options = list(question.get("options") or [])
    if kind == QuestionKind.YES_NO:
        return None if isinstance(value, bool) else "Answer yes or no."
    if kind == QuestionKind.CHOICE:
        return None if isinstance(value, str) and value in options else f"Choose one of: {', '.join(options)}."
    if kind == QuestionKind.MULTI_CHOICE:
        if not isinstance(value, list) or not all(isinstance(v, str) and v in options for v in value):
            return f"Choose from: {', '.join(options)}."
        return None if len(set(value)) == len(value) else "Choose each option at most once."
    if kind == QuestionKind.TEXT:
        return too_long(value, TEXT_ANSWER_MAX_CHARS) if isinstance(value, str) else "Enter text."
    if kind == QuestionKind.NUMBER:
        if not _is_number(value):
            return "Enter a number."
        low, high = question.get("min"), question.get("max")
        if low is not None and value < low:
            return f"Enter a number of at least {low:g}."
        if high is not None and value > high:
            return f"Enter a number of at most {high:g}."
        return None
    if kind == QuestionKind.DATE:
        return None if is_valid_date(value) else "Enter a date as YYYY-MM-DD."
    if kind == QuestionKind.RATING:
        ok = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 5
        return None if ok else "Choose a rating from 1 to 5."
    if kind == QuestionKind.HAZARD:
        if not isinstance(value, Mapping) or not {"hazard", "band"} <= set(value) <= {"hazard", "band", "vocabulary"}:
            return "Choose an HHSRS hazard and its band."
        key = value.get("vocabulary") or default_vocabulary
        known = vocabularies if vocabularies is not None else {"hhsrs-2006": (frozenset(HHSRS_HAZARDS), frozenset(HHSRS_BANDS))}
        if key not in known:
            return f"The hazard vocabulary {key!r} is not known; sync and choose the hazard again."
        names, bands = known[key]
        if value["hazard"] not in names:
            return "Choose a hazard from the HHSRS list." if key == "hhsrs-2006" else f"Choose a hazard from the {key} list."
        return None if value["band"] in bands else f"Choose a band from {', '.join(sorted(bands))}."
    if kind == QuestionKind.PHOTO:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return "Attach photos of this visit."
        if photo_ids is not None and not set(value) <= photo_ids:
            return "A photo attached here is not part of this visit."
        return None
    return f"Unknown question kind {kind!r}."


def is_blank(value: Any) -> bool:
    """An empty answer: treated as unanswered (and left out of the visit document)."""
    return value is None or value == "" or value == []


def submitted_in_chain(visit_id: str, user_id: str, officer_and_amends: Callable[[str], tuple[str, str | None] | None]) -> bool:
    """Whether ``user_id`` submitted the visit or any visit its chain of ``amends`` leads back to.

    A lead may not decide their own work, nor an amendment of it (the portal refuses with
    ``own_visit``). ``officer_and_amends`` reads a visit: its officer and the visit it amends,
    or None when it is not held; a chain that loops ends where it returns.
    """
    seen: set[str] = set()
    current: str | None = visit_id
    while current is not None and current not in seen:
        found = officer_and_amends(current)
        if found is None:
            return False
        officer_id, current_amends = found
        if officer_id == user_id:
            return True
        seen.add(current)
        current = current_amends
    return False
