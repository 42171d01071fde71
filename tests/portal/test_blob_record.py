"""``services.blobs.record_whole``: the row of a blob stored whole, on each backend (one statement on PostgreSQL)."""

from __future__ import annotations

import hashlib
import uuid

from sqlalchemy import select

from portal.models import BlobRow, BlobUploaderRow
from portal.services import blobs as blob_service
from portal.services.imagecheck import ImageFacts
from portal.services.sequence import utcnow
from portal.services.scope import Caller
from tests.portal.conftest import World


def _caller(world: World, name: str) -> Caller:
    token = world.auth[name]["Authorization"].removeprefix("Bearer ")
    found = blob_service.whole_caller_and_state(world.portal.db, token, "0" * 64)
    assert found is not None
    return found[0]


def test_the_first_upload_makes_the_row_a_later_one_touches_it(any_world: World) -> None:
    db = any_world.portal.db
    first, second = _caller(any_world, "officer1"), _caller(any_world, "officer2")
    sha = hashlib.sha256(uuid.uuid4().bytes).hexdigest()
    facts = ImageFacts("image/jpeg", 2560, 1920)
    blob_service.record_whole(db, first, sha, 640_000, facts)
    with db.read() as session:
        made = session.get(BlobRow, sha)
        assert made is not None
        assert (made.state, made.offset, made.total, made.content_type, made.width, made.height) == (
            "complete", 640_000, 640_000, "image/jpeg", 2560, 1920)
        created_at = made.updated_at
    # Another upload of the same bytes that passed its state check before the row was made
    # (the race ``_put_whole`` allows): the row stays, its grace period restarts.
    before_second = utcnow()
    blob_service.record_whole(db, second, sha, 640_000, ImageFacts("image/png", 1, 1))
    blob_service.record_whole(db, first, sha, 640_000, facts)  # a repeat changes nothing but the time
    with db.read() as session:
        row = session.get(BlobRow, sha)
        assert row is not None
        assert (row.content_type, row.width, row.height) == ("image/jpeg", 2560, 1920)
        assert row.updated_at >= before_second >= created_at
        uploaders = set(session.scalars(select(BlobUploaderRow.user_id).where(BlobUploaderRow.sha256 == sha)))
    assert uploaders == {first.id, second.id}
