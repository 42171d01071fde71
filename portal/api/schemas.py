"""Response models of the admin endpoints: a record is its protocol data plus ``id``, ``version``, ``seq``.

Built from the request models of ``sync.protocol`` so the two never drift. They are
lenient on purpose (no length limits, extra fields kept): they describe what the portal
answers in its OpenAPI schema and must never turn a stored record into a 500.
"""

from __future__ import annotations

from typing import Any, get_args, get_origin

from pydantic import BaseModel, ConfigDict, create_model

from sync.protocol import CaseData, ErrorBody, Health, PropertyData, ResidentData, TeamData, TemplateData, UserData


class RecordPublic(BaseModel):
    """A portal record as the admin endpoints return it."""

    model_config = ConfigDict(extra="allow")
    id: str
    version: int
    seq: int


def _lenient(annotation: Any) -> Any:
    """Nested request models (strict, extra fields refused) become plain objects in an answer."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return dict[str, Any]
    if get_origin(annotation) is list and any(isinstance(a, type) and issubclass(a, BaseModel) for a in get_args(annotation)):
        return list[dict[str, Any]]
    return annotation


def _record(name: str, data_model: type[BaseModel]) -> type[RecordPublic]:
    fields: dict[str, Any] = {
        field: (_lenient(info.annotation), ... if info.is_required() else None) for field, info in data_model.model_fields.items()
    }
    return create_model(name, __base__=RecordPublic, __doc__=f"A {name.removesuffix('Public').lower()} record.", **fields)


TeamPublic = _record("TeamPublic", TeamData)
UserRecordPublic = _record("UserRecordPublic", UserData)
PropertyPublic = _record("PropertyPublic", PropertyData)
ResidentPublic = _record("ResidentPublic", ResidentData)
TemplatePublic = _record("TemplatePublic", TemplateData)
CasePublic = _record("CasePublic", CaseData)


class HealthDown(Health):
    """``/health`` when the database does not answer (503): the status plus the error envelope."""

    error: ErrorBody


class ChunkAccepted(BaseModel):
    """``PUT /blobs/{sha256}`` while the upload is partial (200): bytes committed so far."""

    offset: int


class BlobComplete(BaseModel):
    """``PUT /blobs/{sha256}`` once the blob is complete (201)."""

    state: str
