"""`FieldStore`: the one application-service boundary of the core.

Used alike by the desktop app, the CLI, the sync engine and the tests. Every method
opens its own short unit of work (one SQLAlchemy session), returns plain frozen
records from `fieldapp.types`, and raises `fieldapp.errors` exceptions.

Threads: one `FieldStore` may be used from several threads at once (the UI's worker
and the sync engine). They share one engine; every call has its own session; writes
begin with ``BEGIN IMMEDIATE`` and wait on SQLite's busy timeout for each other.
The rules themselves live in small modules: `fieldapp.visits`, `fieldapp.outbox`,
`fieldapp.review`, `fieldapp.search` and `fieldapp.sync_apply`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from fieldapp import drafts as draft_rules
from fieldapp import deadlines as deadline_rules
from fieldapp import hazard_reports as report_rules
from fieldapp import outbox as outbox_rules
from fieldapp import returned as returned_rules
from fieldapp import review as review_rules
from fieldapp.returned import ReturnedVisit
from fieldapp import summaries as summary_rules
from fieldapp import sync_apply
from fieldapp.clock import as_utc, utc_now
from fieldapp.db import DB_FILENAME, checkpoint_deferred, make_engine, upgrade_to, writer
from fieldapp.errors import NotFoundError, StoreBusyError, StoreError
from fieldapp.letter import LetterFacts
from fieldapp.models import (
    PhotoRow,
    SyncStateRow,
    VisitRow,
)
from fieldapp.photo_files import photo_path, remove_files, scratch_dir, stored_files, sweep_scratch, thumbnail_path
from fieldapp.private import prepare_data_folder, private_umask
from fieldapp.records import (
    case_detail,
    photo_record,
    template_record,
    user_info,
    visit_record,
)
from fieldapp import amendments
from fieldapp import problems as problem_rules
from fieldapp import signin as signin_rules
from fieldapp import visit_photos as photo_rules
from fieldapp import visits as visit_rules
from fieldapp.signin import signed_in_user
from fieldapp import search as search_rules
from fieldapp.search import ANY_CASE, CaseFilter, list_cases
from fieldapp.types import (
    BlobRef,
    CaseDetail,
    CaseSummary,
    Clock,
    DeadlineRow,
    Draft,
    Hazard,
    HazardReport,
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
from fieldapp.vocabulary import HazardVocabulary, current_key, vocabulary
from fieldapp.visits import (
    apply_edit,
    current_problems,
    get_visit,
    new_id,
    template_of,
)

if TYPE_CHECKING:  # Pillow is loaded only when a photo is handled
    from fieldapp.photos import PreparedPhoto
    from fieldapp.photos_marks import Mark
    from fieldapp.wire import OpResult

log = logging.getLogger(__name__)

class FieldStore:
    """The officer's local store: cases, visits, photos, outbox and sync state."""

    def __init__(self, data_dir: Path, photo_policy: Any | None) -> None:
        """Use `FieldStore.open`."""
        self._data_dir = data_dir
        self._photos_dir = data_dir / "photos"
        self._photo_policy = photo_policy
        self._engine = make_engine(data_dir / DB_FILENAME)
        self._write_engine = writer(self._engine)
        self._closed = False
        # Re-entrant: attaching a photo removes its files again under the same lock when it fails.
        self._files_lock = threading.RLock()

    # ------------------------------------------------------------ lifecycle

    @classmethod
    def open(cls, data_dir: Path | str, *, photo_policy: Any | None = None) -> "FieldStore":
        """Open (create, back up and migrate) the store in ``data_dir``."""
        folder = Path(data_dir).expanduser()
        # Residents' data: readable by this user alone, old installs included (fieldapp.private).
        prepare_data_folder(folder)
        # What a crash or power cut mid-encode left: parts of a resident's photo, never a photo.
        sweep_scratch(folder / "photos")
        try:
            with private_umask():
                upgrade_to(folder / DB_FILENAME)
                store = cls(folder, photo_policy)
                store._ensure_state()
                store._ensure_case_index()
        except OperationalError as exc:
            if "locked" in str(exc):
                raise StoreBusyError(f"The data folder {folder} is busy in another Fieldapp. "
                                     "Close it and try again.") from exc
            raise StoreError(f"The local database in {folder} cannot be opened: {exc.orig}. "
                             "Contact IT support.") from exc
        except SQLAlchemyError as exc:
            raise StoreError(f"The local database in {folder} cannot be opened ({exc.__class__.__name__}). "
                             "It may be damaged: contact IT support.") from exc
        return store

    def _ensure_state(self) -> None:
        with self._write() as session:
            if session.get(SyncStateRow, 1) is None:
                # The device id is made once and kept for the life of the data folder.
                session.add(SyncStateRow(id=1, device_id=new_id(), cursor=0))

    def _ensure_case_index(self) -> None:
        with self._read() as session:
            if search_rules.index_is_complete(session):
                return
        with self._write() as session:
            log.info("Rebuilding the case search index")
            search_rules.reindex_all(session)

    def close(self) -> None:
        """Release the database; the store is unusable afterwards."""
        self._closed = True
        self._engine.dispose()

    @property
    def data_dir(self) -> Path:
        """The folder holding the database and the photos."""
        return self._data_dir

    @property
    def photos_dir(self) -> Path:
        """The content-addressed photo folder."""
        return self._photos_dir

    @contextmanager
    def _read(self) -> Iterator[Session]:
        self._check_open()
        with Session(self._engine, expire_on_commit=False) as session, session.begin():
            yield session

    @contextmanager
    def _write(self) -> Iterator[Session]:
        self._check_open()
        with Session(self._write_engine, expire_on_commit=False) as session, session.begin():
            yield session

    @contextmanager
    def _pull_write(self) -> Iterator[Session]:
        """`_write` for pulled pages, whose commits leave the WAL's checkpoint for later (`checkpoint_deferred`)."""
        self._check_open()
        with (checkpoint_deferred(self._write_engine, self._data_dir / DB_FILENAME) as connection,
              Session(connection, expire_on_commit=False) as session, session.begin()):
            yield session

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("The local store is closed; open it again.")

    def _policy(self) -> Any:
        if self._photo_policy is None:
            from fieldapp.photo_policy import PhotoPolicy

            self._photo_policy = PhotoPolicy()
        return self._photo_policy

    # ------------------------------------------------------------ cases

    def cases(self, wanted: CaseFilter = ANY_CASE, *, sort: str = "due", limit: int | None = None) -> list[CaseSummary]:
        """Cases matching a search (reference, address, postcode, resident name) and filters.

        ``sort``: "due" | "priority" | "opened" | "reference".
        """
        with self._read() as session:
            return list_cases(session, wanted, sort=sort, limit=limit)

    def case_ids(self, wanted: CaseFilter = ANY_CASE) -> set[str]:
        """The ids of the cases `cases` lists for the same search and filters, in no order (no rows built)."""
        with self._read() as session:
            return search_rules.case_ids(session, wanted)

    def case(self, case_id: str) -> CaseDetail:
        """A case with its property, residents (and their warnings) and visits."""
        with self._read() as session:
            return case_detail(session, case_id)

    def templates_for(self, case_id: str) -> list[Template]:
        """The templates whose case types include this case's type (newest version of each)."""
        with self._read() as session:
            return sorted((template_record(t) for t in visit_rules.forms_for(session, case_id)),
                          key=lambda t: (t.name, t.id))

    # ------------------------------------------------------------ visits

    def _visit_record(self, session: Session, row: VisitRow) -> Visit:
        return visit_record(session, row, self._photos_dir, current_problems(session, row))

    def start_visit(self, case_id: str, template_id: str) -> Visit:
        """A new draft visit by the signed-in officer."""
        with self._write() as session:
            row = visit_rules.start(session, case_id=case_id, template_id=template_id,
                                    officer_id=signed_in_user(session).id)
            session.flush()
            return self._visit_record(session, row)

    def update_visit(
        self,
        visit_id: str,
        *,
        answers: Mapping[str, Any] | None = None,   # merged: a key set to None removes that answer
        notes: str | None = None,
        outcome: str | None = None,                 # "" clears the outcome
        hazards: Sequence[Hazard] | None = None,    # replaces the list
        assessment: Mapping[str, Any] | None = None,  # merged like answers: a field set to None is removed
    ) -> Visit:
        """Save an edit at once (draft or returned visits only). Invalid values are saved and reported in ``Visit.problems``."""
        with self._write() as session:
            row = get_visit(session, visit_id)
            apply_edit(session, row, answers=answers, notes=notes, outcome=outcome, hazards=hazards,
                       assessment=assessment)
            session.flush()
            return self._visit_record(session, row)

    def add_photo(self, visit_id: str, path: Path | str, caption: str = "", question_id: str | None = None) -> Photo:
        """Import a photo file into the visit (verified, rotated, scaled, stripped, hashed): prepare, then attach."""
        with self._read() as session:  # a photo for a locked visit is refused before the slow part
            photo_rules.target(session, visit_id, question_id)
        return self.attach_photo(visit_id, self.prepare_photo(path), caption=caption, question_id=question_id)

    def prepare_photo(self, path: Path | str) -> PreparedPhoto:
        """The slow part of an import, no database: verify, rotate, scale, strip, encode, then store the files.

        The files are written here (atomically, content-addressed) so that `attach_photo`
        is only a short transaction. A prepared photo that is never attached must be
        handed to `discard_prepared`, which removes its files unless a photo uses them.
        """
        from fieldapp.photos import prepare, write_prepared

        self._check_open()
        prepared = prepare(Path(path), self._policy(), scratch_dir(self._photos_dir))
        # No files lock: a removal racing this write is repaired by `attach_photo`, which holds it.
        write_prepared(prepared, self._photos_dir)
        return prepared

    def discard_prepared(self, prepared: PreparedPhoto) -> None:
        """Forget a prepared photo that will not be attached (a cancelled import): its files go if unused."""
        self._remove_unused_files([prepared.sha256])

    def attach_photo(self, visit_id: str, prepared: PreparedPhoto, caption: str = "",
                     question_id: str | None = None) -> Photo:
        """Add a prepared photo to the visit in one short transaction (see `_attach`)."""

        def add(session: Session) -> PhotoRow:
            return photo_rules.add(session, photo_rules.target(session, visit_id, question_id), prepared, caption,
                                   question_id)

        return self._attach(prepared, add)

    def prepare_annotated(self, photo: Photo, marks: Sequence[Mark]) -> PreparedPhoto:
        """The slow part of annotating, no database: draw the marks on a copy of the photo, prepare it, store its files.

        The original's file is only read, and must still match its hash. Attach the
        result with `attach_annotated`, or hand it to `discard_prepared`.
        """
        from fieldapp.photos import write_prepared
        from fieldapp.photos_annotate import annotated_copy, read_original

        self._check_open()
        original = read_original(photo_path(self._photos_dir, photo.sha256, photo.content_type), photo.sha256)
        prepared = annotated_copy(original, marks, self._policy(), f"The annotated copy of {photo.caption or 'the photo'}",
                                  scratch_dir(self._photos_dir))
        write_prepared(prepared, self._photos_dir)
        return prepared

    def attach_annotated(self, source_photo_id: str, prepared: PreparedPhoto) -> Photo:
        """Add an annotated copy as a new photo of its source's visit, on the same question, linked to the source.

        The source photo stays as it was. The copy's caption says which photo it marks
        up, since the link itself is not part of what the portal is sent.
        """
        return self._attach(prepared, lambda session: photo_rules.add_annotated(session, source_photo_id, prepared))

    def keep_annotation_draft(self, photo_id: str, marks: Sequence[Mark]) -> None:
        """Keep the marks being drawn on a photo (none: forget them); the visit itself does not change."""
        from fieldapp.photos_marks import marks_to_data

        with self._write() as session:
            photo, _ = photo_rules.editable_photo(session, photo_id)
            photo.annotation_draft = marks_to_data(marks) if marks else None

    def annotation_draft(self, photo_id: str) -> tuple[Mark, ...]:
        """The marks kept on a photo since they were last drawn and not saved (empty when none, or damaged)."""
        from fieldapp.photos_marks import marks_from_data

        with self._read() as session:
            photo = session.get(PhotoRow, photo_id)
            if photo is None:
                raise NotFoundError(f"Photo {photo_id} is not on this laptop.")
            if not photo.annotation_draft:
                return ()
            try:
                return marks_from_data(photo.annotation_draft)
            except ValueError as exc:  # a damaged draft must not keep the photo from being annotated afresh
                log.warning("Ignoring the kept marks of photo %s: %s", photo_id, exc)
                return ()

    def _attach(self, prepared: PreparedPhoto, add: Callable[[Session], PhotoRow]) -> Photo:
        """Add the row ``add`` makes for a prepared photo in one short transaction, its files certainly there.

        The files lock keeps a concurrent removal of the same content (another visit's
        photo removed, a purge) from deleting the files between the check and the
        commit; files removed before it are written again from memory, so no row ever
        names a missing file. If the row cannot be added the files go, unless used.
        """
        from fieldapp.photos import write_prepared

        with self._files_lock:
            try:
                stored = (photo_path(self._photos_dir, prepared.sha256, prepared.content_type),
                          thumbnail_path(self._photos_dir, prepared.sha256))
                if not all(path.exists() for path in stored):
                    write_prepared(prepared, self._photos_dir)
                with self._write() as session:
                    return photo_record(session, add(session), self._photos_dir)
            except BaseException:
                self.discard_prepared(prepared)
                raise

    def remove_orphan_photos(self, older_than_s: float = 3600.0) -> int:
        """Delete photo files no photo uses, left by an import cut short (a crash, a power cut); how many went.

        Only files older than ``older_than_s`` go, so an import under way keeps its staged
        files; temporary files of a write that never finished go too.
        """

        cutoff = time.time() - older_than_s
        # The folder is read without the files lock (attaching must not wait on a scan)...
        candidates = [(path, sha256) for path, sha256 in stored_files(self._photos_dir)
                      if path.stat().st_mtime < cutoff]
        if not candidates:
            return 0
        # ...and what is still unused is decided and removed under it.
        with self._files_lock, self._read() as session:
            used = set(session.scalars(select(PhotoRow.sha256).distinct()))
            return remove_files((path for path, sha256 in candidates if sha256 not in used),
                                "photo file(s) that no photo uses (an import cut short)")

    def update_photo(self, photo_id: str, *, caption: str | None = None, question_id: str | None = None) -> Photo:
        """Change a photo's caption, or the question it belongs to ("" detaches it from any question)."""
        with self._write() as session:
            photo = photo_rules.change(session, photo_id, caption=caption, question_id=question_id)
            return photo_record(session, photo, self._photos_dir)

    def remove_photo(self, photo_id: str) -> None:
        """Take a photo off a draft (its file goes too unless another visit uses it)."""
        with self._write() as session:
            sha256 = photo_rules.remove(session, photo_id)
        self._remove_unused_files([sha256])

    def submit_visit(self, visit_id: str) -> Visit:
        """Validate completely, freeze and queue the visit; ValidationError lists what is missing."""
        with self._write() as session:
            row = get_visit(session, visit_id)
            visit_rules.submit(session, row)
            session.flush()
            return self._visit_record(session, row)

    def visit(self, visit_id: str) -> Visit:
        """The visit with its current problems."""
        with self._read() as session:
            return self._visit_record(session, get_visit(session, visit_id))

    def visit_template(self, visit_id: str) -> Template | None:
        """The form version the visit was started on (kept while the visit needs it, even out of scope)."""
        with self._read() as session:
            template = template_of(session, get_visit(session, visit_id))
            return template_record(template) if template is not None else None

    def visit_changes(self, visit_id: str) -> VisitChanges | None:
        """What changed since the visit was last returned (None if it never was)."""
        with self._read() as session:
            return amendments.visit_changes(session, visit_id)

    def file_amendment(self, visit_id: str) -> Visit:
        """A new draft that amends an approved visit, carrying over its answers, notes, hazards and photos.

        If an amendment of it is already being written, that draft is returned: one amendment at a time.
        """
        with self._write() as session:
            source = get_visit(session, visit_id)
            draft = draft_rules.open_amendment(session, source.id) or amendments.amend(session, source, signed_in_user(session).id)
            return self._visit_record(session, draft)

    # ------------------------------------------------------------ the tenant's written summary

    def letter_facts(self, visit_id: str) -> LetterFacts:
        """What the tenant's letter says about this visit (`fieldapp.letter.LetterError` when it cannot be made)."""
        with self._read() as session:
            return summary_rules.facts(session, get_visit(session, visit_id))

    def tenant_letter(self, visit_id: str, template: Path | None = None, issued_on: date | None = None) -> bytes:
        """The tenant's letter as PDF bytes, made offline (``template``: the council's file, else the shipped one)."""
        from fieldapp.letter import load_template, render_letter
        from fieldapp.letter.words import LONDON

        facts = self.letter_facts(visit_id)
        # Rendering runs outside any transaction: it reads only files.
        return render_letter(facts, load_template(template), summary_rules.photo_files(self._photos_dir),
                             issued_on or utc_now().astimezone(LONDON).date())

    def record_summary_issued(self, visit_id: str, method: str, issued_at: datetime | None = None) -> Visit:
        """Record that the tenant's summary was handed over, posted or emailed; queued for the portal."""
        with self._write() as session:
            row = get_visit(session, visit_id)
            summary_rules.record_issued(session, signed_in_user(session), row, method, as_utc(issued_at or utc_now()))
            session.flush()
            return self._visit_record(session, row)

    # ------------------------------------------------------------ statutory clocks and vocabularies

    def nearest_clocks(self, case_ids: Sequence[str] | None = None) -> dict[str, Clock]:
        """The nearest unmet statutory clock of each case that has one (for the case list)."""
        with self._read() as session:
            return deadline_rules.nearest_clocks(session, case_ids)

    def deadlines(self) -> list[DeadlineRow]:
        """The cases on this laptop (a lead's: the team's) with an unmet clock, nearest clock first."""
        with self._read() as session:
            return deadline_rules.deadline_rows(session)

    def hazard_vocabulary(self, key: str | None = None) -> HazardVocabulary:
        """A hazard vocabulary by key (default: the one new visits use), pulled or, before the first pull, bundled."""
        with self._read() as session:
            return vocabulary(session, key or current_key(session))

    # ------------------------------------------------------------ hazard reports from the field

    def report_hazard(
        self,
        *,
        hazards: Sequence[str],
        description: str,
        observed_at: datetime | None = None,
        priority: str | None = None,
        case_id: str | None = None,
        visit_id: str | None = None,
        property_id: str | None = None,
        photo_ids: Sequence[str] = (),
    ) -> HazardReport:
        """Record a hazard seen on a visit or case and queue it for the portal (a new case for the team)."""
        with self._write() as session:
            signed_in_user(session)
            row = report_rules.report_hazard(
                session, property_id=property_id, from_case_id=case_id, visit_id=visit_id, hazards=hazards,
                description=description, observed_at=observed_at or utc_now(), priority=priority,
                photo_ids=photo_ids)
            session.flush()
            return report_rules.report_record(row)

    def hazard_reports(self) -> list[HazardReport]:
        """The hazard reports made on this laptop, newest first."""
        with self._read() as session:
            return report_rules.reports(session)

    # ------------------------------------------------------------ review (leads)

    def returned_visits(self) -> list[ReturnedVisit]:
        """The officer's visits a lead returned, waiting for corrections (latest first, with the comment)."""
        with self._read() as session:
            return returned_rules.returned_visits(session)

    def review_queue(self) -> list[ReviewItem]:
        """Submitted visits of the lead's team with no decision yet; Category 1 and oldest first."""
        with self._read() as session:
            state = session.get(SyncStateRow, 1)
            return review_rules.review_queue(session, user_info(state) if state else None)

    def decide(self, visit_id: str, decision: str, comment: str = "") -> None:
        """Queue a lead's decision ("approve" or "return"; return needs a comment)."""
        with self._write() as session:
            review_rules.decide(session, signed_in_user(session), visit_id, decision, comment)

    # ------------------------------------------------------------ waiting work and problems

    def pending(self) -> Pending:
        """Unsent work: visits, reviews, photos and bytes queued to be sent, and drafts not yet submitted."""
        with self._read() as session:
            visits, reviews, photos, size, reports, summaries = outbox_rules.pending_counts(session, self._photos_dir)
            return Pending(visits=visits, reviews=reviews, photos=photos, bytes=size,
                           drafts=draft_rules.count_drafts(session), reports=reports, summaries=summaries)

    def drafts(self, case_id: str | None = None) -> list[Draft]:
        """The officer's drafts (of one case, or all), oldest first, with what each holds."""
        with self._read() as session:
            return draft_rules.list_drafts(session, case_id)

    def discard_draft(self, visit_id: str) -> None:
        """Throw away a draft on the officer's word: its answers, notes, hazards and photos (files only if unused)."""
        with self._write() as session:
            dropped = draft_rules.discard(session, visit_id)
        self._remove_unused_files(dropped)

    def problems(self) -> list[Problem]:
        """Unresolved problems, oldest first."""
        with self._read() as session:
            return problem_rules.listed(session)

    def resolve_problem(self, problem_id: str, action: ProblemAction) -> Visit | None:
        """Carry out one of the problem's actions; returns the new or changed visit if any."""
        with self._write() as session:
            row, dropped = problem_rules.resolve(session, problem_id, action)
            session.flush()
            result = self._visit_record(session, row) if row is not None else None
        self._remove_unused_files(dropped)
        return result

    # ------------------------------------------------------------ for the sync engine

    def sign_in(self, user: UserInfo, portal_url: str) -> None:
        """Record who works in this store (refused if another user's work is unsent).

        A different user, or a different portal, starts from empty: the previous
        user's portal data is removed (it is not in the new user's scope).
        """
        with self._write() as session:
            dropped = signin_rules.record_sign_in(session, user, portal_url)
        self._remove_unused_files(dropped)

    def remove_personal_data(self) -> None:
        """After signing out: remove every case, person, visit and photo from this laptop.

        Refused (ValidationError saying what is unsent) while ``pending()`` is not empty
        or a visit still has unresolved work; never loses an officer's record.
        """
        from fieldapp import wipe

        with self._files_lock:
            with self._write() as session:
                wipe.clear_tables(session)
            wipe.scrub_database(self._write_engine)
            wipe.remove_files(self._data_dir, self._photos_dir, DB_FILENAME)

    def current_user(self) -> UserInfo | None:
        """Who works in this store, if anyone signed in yet."""
        with self._read() as session:
            state = session.get(SyncStateRow, 1)
            return user_info(state) if state is not None else None

    def sync_state(self) -> SyncState:
        """Cursor, last sync, user, portal and this laptop's device id."""
        with self._read() as session:
            state = session.get(SyncStateRow, 1)
            assert state is not None
            return SyncState(cursor=state.cursor, last_sync_at=state.last_sync_at, user=user_info(state),
                             portal_url=state.portal_url, device_id=state.device_id)

    def apply_changes(self, changes: Sequence[Mapping[str, Any]], next_cursor: int) -> None:
        """Apply one pulled page (protocol change dicts) and its cursor in one transaction."""
        with self._pull_write() as session:
            state = session.get(SyncStateRow, 1)
            me = state.user_id if state is not None else None
            dropped = sync_apply.apply_changes(session, changes, next_cursor, me)
        self._remove_unused_files(dropped)

    def reset_portal_data(self) -> None:
        """After 410 resync_required: drop portal-owned data, keep unsent work, cursor 0."""
        with self._write() as session:
            dropped = sync_apply.reset_portal_data(session)
        self._remove_unused_files(dropped)

    def outbox(self, limit: int = 100, max_bytes: int | None = None) -> list[OutboxOp]:
        """The oldest ops waiting to be pushed, within the limits."""
        with self._read() as session:
            return outbox_rules.oldest(session, limit, max_bytes)

    def blobs_to_upload(self) -> list[BlobRef]:
        """Photo files referenced by queued ops that the portal has not confirmed."""
        with self._read() as session:
            return outbox_rules.blobs_waiting(session, self._photos_dir)

    def mark_blobs_uploaded(self, hashes: Sequence[str]) -> None:
        """The portal holds these blobs completely."""
        with self._write() as session:
            outbox_rules.confirm_uploaded(session, hashes)

    def record_results(self, ops: Sequence[OutboxOp], results: Sequence[OpResult]) -> int:
        """Apply push results (one per op, in order); how many ops are queued again (lost photos)."""
        with self._write() as session:
            return outbox_rules.record_results(session, ops, results)

    def mark_synced(self, at: datetime) -> None:
        """Remember when a sync last completed."""
        with self._write() as session:
            state = session.get(SyncStateRow, 1)
            assert state is not None
            state.last_sync_at = as_utc(at)

    def purge_out_of_scope(self) -> int:
        """Remove tombstoned cases (and their people) once no unsent work needs them."""
        with self._write() as session:
            count, dropped = sync_apply.purge_out_of_scope(session)
        self._remove_unused_files(dropped)
        return count

    def save_blob(self, sha256: str, data: bytes) -> Path:
        """Keep a downloaded photo (hash verified) and return its path."""
        from fieldapp.photos import store_photo_bytes

        self._check_open()
        path = store_photo_bytes(self._photos_dir, sha256, data)
        with self._write() as session:
            outbox_rules.set_uploaded(session, [sha256], True)
        return path

    def photo_file(self, sha256: str) -> Path | None:
        """The photo file with this hash, if it is on this laptop."""

        with self._read() as session:
            content_type = session.scalar(select(PhotoRow.content_type).where(PhotoRow.sha256 == sha256).limit(1))
        path = photo_path(self._photos_dir, sha256, content_type or "image/jpeg")
        return path if path.exists() else None

    # ------------------------------------------------------------ files

    def _remove_unused_files(self, hashes: Sequence[str]) -> None:
        """Delete photo files (and thumbnails) that no photo row uses any more: personal data leaves."""
        hashes = sorted(set(hashes))
        if not hashes:
            return
        with self._files_lock, self._read() as session:
            used = set(session.scalars(select(PhotoRow.sha256).where(PhotoRow.sha256.in_(hashes))))
            remove_files((path for sha256 in hashes if sha256 not in used
                          for path in (photo_path(self._photos_dir, sha256, "image/jpeg"),
                                       photo_path(self._photos_dir, sha256, "image/png"),
                                       thumbnail_path(self._photos_dir, sha256))),
                         "unused photo file(s)")
