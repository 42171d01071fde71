"""How a pushed op ends when it does not apply, and how one is told apart from a replay.

``OpOutcome`` carries a ``conflict`` or ``rejected`` result out of an op's evaluation;
``parse`` validates with a protocol model and rejects naming each bad field;
``op_digest`` and ``as_duplicate`` answer a replayed op with its stored result, and a
reused ``op_id`` with other content as ``rejected`` ``op_id_reused``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from portal.errors import field_errors, not_found
from portal.services import scope
from sync.protocol import UNSTORABLE, ErrorCode, Op


class OpOutcome(Exception):
    """Ends an op early with a conflict or a rejection (nothing of the op is kept)."""

    def __init__(self, result: dict[str, Any]) -> None:
        super().__init__(result.get("status"))
        self.result = result


def rejected(op_id: str, code: str, message: str, details: dict[str, Any] | None = None) -> OpOutcome:
    return OpOutcome({"op_id": op_id, "status": "rejected", "error": {"code": code, "message": message, "details": details or {}}})


def conflict(op_id: str, code: str, message: str, current: dict[str, Any] | None) -> OpOutcome:
    return OpOutcome({
        "op_id": op_id, "status": "conflict", "current": current,
        "error": {"code": code, "message": message, "details": {}},
    })


def not_found_outcome(op_id: str, what: str) -> OpOutcome:
    err = not_found(what)
    return rejected(op_id, err.code, err.message)


_Model = TypeVar("_Model", bound=BaseModel)


def parse(model: type[_Model], data: Any, op_id: str, what: str) -> _Model:
    """Validate with the protocol model; a bad value rejects the op naming each field.

    The code is invalid_request, or invalid_answers for a value no database can store
    (NUL in text, an integer beyond 64 bits: PROTOCOL revision 2).
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        if any(err.get("type") == UNSTORABLE for err in errors):
            # Named as in the op's data (an answer's question id, "notes"), as invalid_answers names them.
            questions = {str(err["ctx"]["field"]).removeprefix("data."): str(err["ctx"]["reason"]) for err in errors if err.get("type") == UNSTORABLE}
            raise rejected(op_id, ErrorCode.INVALID_ANSWERS, f"Some values cannot be stored: {', '.join(sorted(questions))}.", {"questions": questions}) from None
        fields = field_errors(errors)
        raise rejected(op_id, ErrorCode.INVALID_REQUEST, f"The {what} is not valid; correct: {', '.join(sorted(fields))}.", {"fields": fields}) from None


def op_digest(op: Op) -> str:
    """SHA-256 of the op's content (all but its op_id), as canonical JSON."""
    content = {"entity": op.entity, "id": op.id, "kind": op.kind, "base_version": op.base_version, "data": op.data}
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()


def as_duplicate(
    caller: scope.Caller, op: Op, digest: str, user_id: str | None, result: dict[str, Any] | None, stored_digest: str | None,
) -> dict[str, Any] | None:
    """The stored result as a ``duplicate`` (None when nothing was stored); ``digest`` is the op's own."""
    if user_id is None or result is None:
        return None
    # Results stored before digests were kept (digest NULL) are taken on trust.
    if user_id != caller.id or (stored_digest is not None and stored_digest != digest):
        raise rejected(
            op.op_id, ErrorCode.OP_ID_REUSED,
            "This op_id was already used for other content; the portal kept the first. Push the new content with a new op_id.",
            {"fields": {"op_id": "used for other content"}},
        )
    return {**result, "status": "duplicate"}
