"""The protocol's shapes the core itself writes and reads (../shared/PROTOCOL.md), as pydantic models.

The laptop builds the visit document it sends (`VisitDocument`, the ``data`` of a visit
submit op) and records the push results it gets back (`OpResult`) with these models;
the portal validates what it receives with the same ones, re-exported by `sync.protocol`
(the core may not import `sync`). The base models of every request and response body
live here too, so that those shapes and the rest of the protocol's share one rule.

Pydantic takes a while to build models: modules `fieldapp sync` and the window load at
start import this one only when they need it (or for type checking). Building the models
on first use instead (``defer_build``) would save a `fieldapp sync` ~18 ms, but is not
done: the portal's FastAPI request adapters inherit the setting and would then be built
by the first concurrent requests, outside pydantic's rebuild lock.
"""

# No `from __future__ import annotations` here: see sync/protocol.py.

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, model_validator
from pydantic_core import PydanticCustomError

from fieldapp.domain import OpStatus, Outcome
from fieldapp.limits import (
    CAPTION_MAX_CHARS,
    HAZARD_LOCATION_MAX_CHARS,
    HAZARD_NOTES_MAX_CHARS,
    MAX_HAZARDS,
    MAX_PHOTOS,
    NOTES_MAX_CHARS,
    unstorable,
)

UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"

Uuid = Annotated[str, Field(pattern=UUID_PATTERN)]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]

#: The pydantic error type of a value no database can store (NUL, int64, NaN).
UNSTORABLE = "unstorable"


# ---------------------------------------------------------------- base models


class Incoming(BaseModel):
    """A request body: strict, unknown fields refused, nothing a database cannot store.

    Text with NUL, integers outside signed 64 bits and non-finite numbers are refused
    anywhere in the body (``fieldapp.limits.unstorable``), free-form ``Any`` fields
    included, except under the fields named in ``raw_fields`` (validated later, one by one).
    """

    model_config = ConfigDict(extra="forbid")
    raw_fields: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        if isinstance(data, dict):
            checked = {k: v for k, v in data.items() if k not in cls.raw_fields} if cls.raw_fields else data
            found = unstorable(checked)
            if found:
                raise PydanticCustomError(UNSTORABLE, "{field}: {reason}", {"field": found[0], "reason": found[1]})
        return data


class Outgoing(BaseModel):
    """A response body: tolerant, unknown fields ignored when the client parses it."""

    model_config = ConfigDict(extra="ignore")


class ErrorBody(Outgoing):
    code: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


# ---------------------------------------------------------------- the visit document


class HazardEntry(Incoming):
    hazard: StrictStr = Field(max_length=200)
    #: Revision 2: null when not rated (the regulations never require a band);
    #: checked against the entry's vocabulary.
    band: StrictStr | None = Field(default=None, max_length=10)
    location: StrictStr = Field(default="", max_length=HAZARD_LOCATION_MAX_CHARS)
    notes: StrictStr = Field(default="", max_length=HAZARD_NOTES_MAX_CHARS)
    vocabulary: StrictStr | None = Field(default=None, max_length=60)


class PhotoEntry(Incoming):
    id: Uuid
    sha256: Sha256
    content_type: Literal["image/jpeg", "image/png"]
    bytes: StrictInt = Field(ge=1)
    width: StrictInt = Field(ge=1)
    height: StrictInt = Field(ge=1)
    caption: StrictStr = Field(default="", max_length=CAPTION_MAX_CHARS)
    question_id: StrictStr | None = Field(default=None, max_length=100)
    taken_at: StrictStr | None = Field(default=None, max_length=40)


class VisitDocument(Incoming):
    """The visit document an officer submits (the `data` of a visit submit op)."""

    case_id: Uuid
    officer_id: Uuid
    template_id: Uuid
    template_version: StrictInt
    started_at: StrictStr = Field(max_length=40)
    completed_at: StrictStr | None = Field(default=None, max_length=40)
    outcome: Outcome
    answers: dict[str, Any] = Field(default_factory=dict)
    notes: StrictStr = Field(default="", max_length=NOTES_MAX_CHARS)
    hazards: list[HazardEntry] = Field(default_factory=list, max_length=MAX_HAZARDS)
    photos: list[PhotoEntry] = Field(default_factory=list, max_length=MAX_PHOTOS)
    amends: Uuid | None = None
    # Revision 2: checked by fieldapp.domain_assessment (rejected invalid_answers, key assessment).
    assessment: dict[str, Any] | None = None
    #: The vocabulary the visit's hazards are named from, when an entry names none.
    vocabulary: StrictStr | None = None

    def wire(self) -> dict[str, Any]:
        """The document as JSON data: the fields it was given, in the model's order, nothing added."""
        # A document built from a draft (the tenant's letter is made from drafts) may hold what a
        # submit refuses, an outcome not chosen yet included: it is carried as typed, unwarned.
        return self.model_dump(mode="json", exclude_unset=True, warnings=False)


# ---------------------------------------------------------------- push results


class OpResult(Outgoing):
    """The portal's answer to one pushed op (PROTOCOL.md "Ops")."""

    op_id: str
    status: OpStatus
    version: int | None = None
    seq: int | None = None
    current: dict[str, Any] | None = None
    error: ErrorBody | None = None

    @property
    def code(self) -> str:
        """The error code of a refused op ("" when there is none)."""
        return self.error.code if self.error is not None else ""

    @property
    def accepted(self) -> bool:
        """Applied, or applied before (a replay)."""
        return self.status in (OpStatus.APPLIED, OpStatus.DUPLICATE)
