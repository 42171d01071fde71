"""`FieldStore`: the one application-service boundary of the core.

Used alike by the desktop app, the CLI, the sync engine and the tests. Every method
opens its own short unit of work (one SQLAlchemy session), returns plain frozen
records from `fieldapp.types`, and raises `fieldapp.errors` exceptions.

INTERFACE STUB: the signatures and docstrings below are the contract other packages
code against; the bodies are being written (issue 2).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from fieldapp.types import (
    BlobRef,
    CaseDetail,
    CaseRow,
    Hazard,
    OutboxOp,
    Pending,
    Photo,
    Problem,
    ProblemAction,
    ReviewItem,
    SyncState,
    Template,
    UserInfo,
    Visit,
    VisitChanges,
)


class FieldStore:
    """The officer's local store: cases, visits, photos, outbox and sync state."""

    # ------------------------------------------------------------ lifecycle

    @classmethod
    def open(cls, data_dir: Path | str, *, photo_policy: Any | None = None) -> "FieldStore":
        """Open (create, back up and migrate) the store in ``data_dir``."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the database; the store is unusable afterwards."""
        raise NotImplementedError

    @property
    def data_dir(self) -> Path:
        raise NotImplementedError

    # ------------------------------------------------------------ cases

    def cases(
        self,
        search: str = "",
        *,
        status: Sequence[str] | None = None,
        case_type: Sequence[str] | None = None,
        priority: Sequence[str] | None = None,
        overdue: bool | None = None,
        due_before: datetime | None = None,
        sort: str = "due",          # "due" | "priority" | "opened" | "reference"
        limit: int | None = None,
    ) -> list[CaseRow]:
        """Cases matching a search (reference, address, postcode, resident name) and filters."""
        raise NotImplementedError

    def case(self, case_id: str) -> CaseDetail:
        raise NotImplementedError

    def templates_for(self, case_id: str) -> list[Template]:
        """The templates whose case types include this case's type (newest version of each)."""
        raise NotImplementedError

    # ------------------------------------------------------------ visits

    def start_visit(self, case_id: str, template_id: str) -> Visit:
        """A new draft visit by the signed-in officer."""
        raise NotImplementedError

    def update_visit(
        self,
        visit_id: str,
        *,
        answers: Mapping[str, Any] | None = None,   # merged: a key set to None removes that answer
        notes: str | None = None,
        outcome: str | None = None,
        hazards: Sequence[Hazard] | None = None,    # replaces the list
    ) -> Visit:
        """Save an edit at once (draft or returned visits only). Invalid values are saved and reported in ``Visit.problems``."""
        raise NotImplementedError

    def add_photo(self, visit_id: str, path: Path | str, caption: str = "", question_id: str | None = None) -> Photo:
        """Import a photo file into the visit (verified, rotated, scaled, stripped, hashed)."""
        raise NotImplementedError

    def update_photo(self, photo_id: str, *, caption: str | None = None, question_id: str | None = None) -> Photo:
        raise NotImplementedError

    def remove_photo(self, photo_id: str) -> None:
        raise NotImplementedError

    def submit_visit(self, visit_id: str) -> Visit:
        """Validate completely, freeze and queue the visit; ValidationError lists what is missing."""
        raise NotImplementedError

    def visit(self, visit_id: str) -> Visit:
        raise NotImplementedError

    def visit_changes(self, visit_id: str) -> VisitChanges | None:
        """What changed since the visit was last returned (None if it never was)."""
        raise NotImplementedError

    def file_amendment(self, visit_id: str) -> Visit:
        """A new draft that amends an approved visit, carrying over its answers, notes, hazards and photos."""
        raise NotImplementedError

    # ------------------------------------------------------------ review (leads)

    def review_queue(self) -> list[ReviewItem]:
        """Submitted visits of the lead's team with no decision yet; Category 1 and oldest first."""
        raise NotImplementedError

    def decide(self, visit_id: str, decision: str, comment: str = "") -> None:
        """Queue a lead's decision ("approve" or "return"; return needs a comment)."""
        raise NotImplementedError

    # ------------------------------------------------------------ waiting work and problems

    def pending(self) -> Pending:
        raise NotImplementedError

    def problems(self) -> list[Problem]:
        raise NotImplementedError

    def resolve_problem(self, problem_id: str, action: ProblemAction) -> Visit | None:
        """Carry out one of the problem's actions; returns the new or changed visit if any."""
        raise NotImplementedError

    # ------------------------------------------------------------ for the sync engine

    def sign_in(self, user: UserInfo, portal_url: str) -> None:
        """Record who works in this store (refused if another user's work is unsent)."""
        raise NotImplementedError

    def current_user(self) -> UserInfo | None:
        raise NotImplementedError

    def sync_state(self) -> SyncState:
        raise NotImplementedError

    def apply_changes(self, changes: Sequence[Mapping[str, Any]], next_cursor: int) -> None:
        """Apply one pulled page (protocol change dicts) and its cursor in one transaction."""
        raise NotImplementedError

    def reset_portal_data(self) -> None:
        """After 410 resync_required: drop portal-owned data, keep unsent work, cursor 0."""
        raise NotImplementedError

    def outbox(self, limit: int = 100, max_bytes: int | None = None) -> list[OutboxOp]:
        """The oldest ops waiting to be pushed, within the limits."""
        raise NotImplementedError

    def blobs_to_upload(self) -> list[BlobRef]:
        """Photo files referenced by queued ops that the portal has not confirmed."""
        raise NotImplementedError

    def mark_blobs_uploaded(self, hashes: Sequence[str]) -> None:
        raise NotImplementedError

    def record_results(self, ops: Sequence[OutboxOp], results: Sequence[Mapping[str, Any]]) -> None:
        """Apply push results (protocol result dicts, one per op, in order)."""
        raise NotImplementedError

    def mark_synced(self, at: datetime) -> None:
        raise NotImplementedError

    def purge_out_of_scope(self) -> int:
        """Remove tombstoned cases (and their people) once no unsent work needs them."""
        raise NotImplementedError

    def save_blob(self, sha256: str, data: bytes) -> Path:
        """Keep a downloaded photo (hash verified) and return its path."""
        raise NotImplementedError

    def photo_file(self, sha256: str) -> Path | None:
        raise NotImplementedError
