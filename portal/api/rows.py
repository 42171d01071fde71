"""One record by the id in the address, or the 404 that never says whether it exists."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy.orm import Session

from portal.errors import not_found
from portal.models import Base
from sync.protocol import UUID_RE

RowT = TypeVar("RowT", bound=Base)


def row_or_404(session: Session, row: type[RowT], row_id: str, what: str, *, for_update: bool = False) -> RowT:
    """The row with this id; an id that is no UUID is as absent as one no row has."""
    found = session.get(row, row_id, with_for_update=for_update) if UUID_RE.fullmatch(row_id) else None
    if found is None:
        raise not_found(what)
    return found


def require_id(row_id: str, what: str) -> None:
    """The 404 for an address id that is no UUID, before any query."""
    if not UUID_RE.fullmatch(row_id):
        raise not_found(what)
