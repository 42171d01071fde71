"""Annotated copies: marks burnt in where placed, imported like any photo, the original untouched."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import photo_samples as samples  # noqa: E402
from store_helpers import Filled, filled_store  # noqa: E402

from fieldapp.errors import PhotoError, ValidationError, VisitLockedError  # noqa: E402
from fieldapp.photos import PhotoPolicy  # noqa: E402
from fieldapp.photos_annotate import annotated_caption, draw_marks  # noqa: E402
from fieldapp.photos_marks import COLOURS_BY_NAME, Mark, MarkKind, MarkStyle  # noqa: E402

GREY = (128, 128, 128)
RED = COLOURS_BY_NAME["red"].rgb


def near(pixel: tuple[int, ...], colour: tuple[int, int, int], tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], colour))


def test_marks_land_where_placed_with_a_contrasting_halo() -> None:
    """An arrow, an ellipse, a line and a text colour the pixels under them, each edged in white; the rest stays."""
    image = Image.new("RGB", (400, 300), GREY)
    style = MarkStyle.for_image(400, 300)
    marks = [Mark(MarkKind.ARROW, ((20, 40), (380, 40))),
             Mark(MarkKind.ELLIPSE, ((100, 100), (300, 200))),
             Mark(MarkKind.FREEHAND, ((20, 280), (200, 280), (380, 250))),
             Mark(MarkKind.TEXT, ((20, 100),), "red", "MM")]
    drawn = draw_marks(image, marks)
    edge = round(40 + style.stroke / 2 + style.halo / 2)   # just outside the red, inside the halo
    assert near(drawn.getpixel((200, 40)), RED, 5) and near(drawn.getpixel((200, edge)), (255, 255, 255), 5)
    assert near(drawn.getpixel((200, 100)), RED, 5) and near(drawn.getpixel((300, 150)), RED, 5)  # top, right of the ellipse
    assert drawn.getpixel((200, 150)) == GREY                                                  # inside it: untouched
    assert near(drawn.getpixel((100, 280)), RED, 5)
    text_box = drawn.crop((20, 100, 20 + style.font_px * 2, 100 + style.font_px))
    assert any(near(p, RED, 5) for p in text_box.get_flattened_data())
    assert drawn.getpixel((380, 150)) == GREY and drawn.getpixel((60, 200)) == GREY
    assert image.getpixel((200, 40)) == GREY   # the picture given is not drawn on


def test_yellow_gets_a_dark_halo() -> None:
    """A light colour is edged in black so it shows on a pale wall."""
    drawn = draw_marks(Image.new("RGB", (400, 300), (240, 240, 235)),
                       [Mark(MarkKind.ARROW, ((20, 40), (380, 40)), "yellow")])
    style = MarkStyle.for_image(400, 300)
    assert near(drawn.getpixel((200, round(40 + style.stroke / 2 + style.halo / 2))), (0, 0, 0), 5)


def _photo_of_draft(filled: Filled, tmp_path: Path, caption: str = "Wall") -> tuple[str, object]:
    visit = filled.draft()
    source = samples.save_photo(tmp_path / "IMG_0001.jpg", (800, 600))
    return visit.id, filled.store.add_photo(visit.id, source, caption=caption, question_id="pics")


def test_annotated_copy_is_a_new_photo_of_the_visit_and_the_original_is_kept(filled: Filled, tmp_path: Path) -> None:
    """Saving adds one photo (captioned, same question, linked); the original's row and file bytes are unchanged."""
    visit_id, original = _photo_of_draft(filled, tmp_path)
    before = original.path.read_bytes()
    arrow = Mark(MarkKind.ARROW, ((100, 300), (600, 300)))
    prepared = filled.store.prepare_annotated(original, [arrow])
    copy = filled.store.attach_annotated(original.id, prepared)

    visit = filled.store.visit(visit_id)
    assert [p.id for p in visit.photos] == [original.id, copy.id]
    assert visit.photos[0] == original
    assert original.path.read_bytes() == before and hashlib.sha256(before).hexdigest() == original.sha256
    assert copy.source_photo_id == original.id and copy.caption == "Annotated copy of photo 1: Wall"
    assert copy.question_id == "pics" and copy.id in visit.answers["pics"]
    assert copy.sha256 != original.sha256 and hashlib.sha256(copy.path.read_bytes()).hexdigest() == copy.sha256
    assert copy.taken_at == original.taken_at and (copy.width, copy.height) == (original.width, original.height)
    assert copy.thumbnail_path is not None and copy.thumbnail_path.exists()
    with Image.open(copy.path) as stored:
        assert stored.format == "JPEG"
        assert near(stored.getpixel((350, 300)), RED)
        assert stored.getpixel((350, 500)) == pytest.approx(Image.open(original.path).getpixel((350, 500)), abs=12)


def test_the_copy_is_sent_as_a_plain_photo_entry(filled: Filled, tmp_path: Path) -> None:
    """The submit op carries the copy as the protocol's photo entry: its caption says what it is, no extra field."""
    visit = filled.complete()
    original = filled.store.add_photo(visit.id, samples.save_photo(tmp_path / "IMG.jpg", (400, 300)), question_id="pics")
    copy = filled.store.attach_annotated(original.id, filled.store.prepare_annotated(
        original, [Mark(MarkKind.ARROW, ((10, 10), (200, 100)))]))
    filled.store.submit_visit(visit.id)
    [op] = filled.store.outbox()
    entries = {e["id"]: e for e in op.data["photos"]}
    assert set(entries[copy.id]) == {"id", "sha256", "content_type", "bytes", "width", "height", "caption",
                                     "question_id", "taken_at"}
    assert entries[copy.id]["caption"] == "Annotated copy of photo 1" and op.data["answers"]["pics"] == [original.id, copy.id]


def test_exif_of_the_copy_follows_the_policy(tmp_path: Path) -> None:
    """The copy keeps the date taken, keeps GPS only when the policy does, never a serial or owner."""
    for keep_gps in (True, False):
        filled = filled_store(tmp_path / f"data{keep_gps}", photo_policy=PhotoPolicy(keep_gps=keep_gps))
        try:
            _, original = _photo_of_draft(filled, tmp_path)
            copy = filled.store.attach_annotated(original.id, filled.store.prepare_annotated(
                original, [Mark(MarkKind.ELLIPSE, ((10, 10), (200, 100)), "blue")]))
            exif = Image.open(copy.path).getexif()
            sub = exif.get_ifd(samples.EXIF_IFD)
            assert sub.get(samples.DATETIME_ORIGINAL) == "2026:03:14 10:15:00"
            assert bool(exif.get_ifd(samples.GPS_IFD)) is keep_gps
            raw = copy.path.read_bytes()
            assert b"SN-0042-SECRET" not in raw and b"Jane Officer" not in raw and b"MAKERNOTE" not in raw
        finally:
            filled.store.close()


def test_gps_a_stricter_policy_drops_is_not_carried_over_from_the_original(tmp_path: Path) -> None:
    """A photo imported with GPS, annotated after IT turned GPS off, yields a copy without GPS."""
    filled = filled_store(tmp_path / "data")
    try:
        _, original = _photo_of_draft(filled, tmp_path)
        assert Image.open(original.path).getexif().get_ifd(samples.GPS_IFD)
        filled.store._photo_policy = PhotoPolicy(keep_gps=False)   # as if reopened under the new site config
        copy = filled.store.attach_annotated(original.id, filled.store.prepare_annotated(
            original, [Mark(MarkKind.TEXT, ((10, 10),), "white", "crack")]))
        assert not Image.open(copy.path).getexif().get_ifd(samples.GPS_IFD)
    finally:
        filled.store.close()


def test_png_photo_gets_a_png_copy(filled: Filled, tmp_path: Path) -> None:
    """A screenshot stored as PNG stays lossless: its annotated copy is a PNG too."""
    visit = filled.draft()
    png = tmp_path / "screen.png"
    Image.new("RGBA", (300, 200), (250, 250, 250, 255)).save(png)
    original = filled.store.add_photo(visit.id, png)
    copy = filled.store.attach_annotated(original.id, filled.store.prepare_annotated(
        original, [Mark(MarkKind.FREEHAND, ((10, 100), (290, 100)))]))
    assert copy.content_type == "image/png" and Image.open(copy.path).getpixel((150, 100))[:3] == RED


def test_a_locked_visit_refuses_the_copy_and_leaves_no_file(filled: Filled, tmp_path: Path) -> None:
    """Once the visit is submitted the copy is refused with the reason, and its staged files go."""
    visit = filled.complete()
    source = samples.save_photo(tmp_path / "IMG.jpg", (400, 300))
    original = filled.store.add_photo(visit.id, source)
    prepared = filled.store.prepare_annotated(original, [Mark(MarkKind.ARROW, ((10, 10), (200, 100)))])
    filled.store.submit_visit(visit.id)
    with pytest.raises(VisitLockedError, match="waiting to sync"):
        filled.store.attach_annotated(original.id, prepared)
    names = {p.stem for p in filled.store.photos_dir.rglob("*.jpg")}
    assert prepared.sha256 not in names and original.sha256 in names
    assert len(filled.store.visit(visit.id).photos) == 1


def test_marks_outside_the_photo_and_a_damaged_original_are_refused(filled: Filled, tmp_path: Path) -> None:
    """Nothing is made from marks that do not fit, nor from a file that no longer matches its hash."""
    _, original = _photo_of_draft(filled, tmp_path)
    with pytest.raises(ValidationError, match="outside the 800 x 600 photo"):
        filled.store.prepare_annotated(original, [Mark(MarkKind.ARROW, ((10, 10), (900, 10)))])
    original.path.write_bytes(original.path.read_bytes()[:-10])
    with pytest.raises(PhotoError, match="damaged"):
        filled.store.prepare_annotated(original, [Mark(MarkKind.ARROW, ((10, 10), (90, 10)))])


def test_removing_the_original_keeps_the_copy_unlinked(filled: Filled, tmp_path: Path) -> None:
    """The officer may remove the original later; the annotated copy stays, its link cleared."""
    visit_id, original = _photo_of_draft(filled, tmp_path)
    copy = filled.store.attach_annotated(original.id, filled.store.prepare_annotated(
        original, [Mark(MarkKind.ARROW, ((10, 10), (200, 100)))]))
    filled.store.remove_photo(original.id)
    photos = filled.store.visit(visit_id).photos
    assert [p.id for p in photos] == [copy.id] and photos[0].source_photo_id is None and photos[0].path.exists()


def test_caption_numbers_the_photo_and_fits_the_limit() -> None:
    """The caption says which photo, with its caption, cut to the caption limit."""
    assert annotated_caption(3, "") == "Annotated copy of photo 3"
    long = annotated_caption(1, "x" * 600)
    assert len(long) == 500 and long.endswith("…")


def test_a_returned_visit_pulled_again_keeps_which_photo_is_a_copy_of_which(filled: Filled, tmp_path: Path) -> None:
    """The portal's document has no link; pulling the visit back (returned) keeps the laptop's own link."""
    import factories as f

    visit = filled.complete()
    original = filled.store.add_photo(visit.id, samples.save_photo(tmp_path / "IMG.jpg", (400, 300)))
    copy = filled.store.attach_annotated(original.id, filled.store.prepare_annotated(
        original, [Mark(MarkKind.ARROW, ((10, 10), (200, 100)))]))
    filled.store.submit_visit(visit.id)
    [op] = filled.store.outbox()
    filled.store.record_results([op], [f.pushed(op, "applied", version=1, seq=7)])
    w = filled.world
    returned = f.visit(filled.case_id, w.officer_id, w.template_id, id=visit.id, version=2, status="returned",
                       photos=op.data["photos"], answers=op.data["answers"],
                       review={"decision": "return", "comment": "Closer photo", "lead_id": w.lead_id,
                               "decided_at": "2025-11-21T09:00:00Z"})
    filled.store.apply_changes([returned], 200)
    photos = {p.id: p for p in filled.store.visit(visit.id).photos}
    assert filled.store.visit(visit.id).editable
    assert photos[copy.id].source_photo_id == original.id and photos[original.id].source_photo_id is None


def test_marks_being_drawn_survive_a_restart_until_saved(tmp_path: Path) -> None:
    """Kept marks are there after the store is reopened (a crash), and go once the copy is saved."""
    from fieldapp import FieldStore

    filled = filled_store(tmp_path / "data")
    _, original = _photo_of_draft(filled, tmp_path)
    marks = (Mark(MarkKind.ARROW, ((10.5, 10), (200, 100)), "yellow"), Mark(MarkKind.TEXT, ((5, 5),), "white", "damp"),
             Mark(MarkKind.FREEHAND, ((1, 1), (2, 3), (4, 4))))
    filled.store.keep_annotation_draft(original.id, marks)
    filled.store.close()
    store = FieldStore.open(tmp_path / "data")
    try:
        assert store.annotation_draft(original.id) == marks
        store.attach_annotated(original.id, store.prepare_annotated(original, marks))
        assert store.annotation_draft(original.id) == ()
        store.keep_annotation_draft(original.id, marks[:1])
        store.keep_annotation_draft(original.id, ())
        assert store.annotation_draft(original.id) == ()
    finally:
        store.close()


def test_a_damaged_draft_is_ignored_and_a_locked_visit_keeps_none(filled: Filled, tmp_path: Path) -> None:
    """Kept marks that no longer read are dropped with a log line; a submitted visit's photo takes no new marks."""
    from sqlalchemy import update

    from fieldapp.models import PhotoRow

    visit = filled.complete()
    original = filled.store.add_photo(visit.id, samples.save_photo(tmp_path / "IMG.jpg", (400, 300)))
    with filled.store._write() as session:
        session.execute(update(PhotoRow).where(PhotoRow.id == original.id).values(annotation_draft=[{"kind": "blob"}]))
    assert filled.store.annotation_draft(original.id) == ()
    filled.store.submit_visit(visit.id)
    with pytest.raises(VisitLockedError):
        filled.store.keep_annotation_draft(original.id, [Mark(MarkKind.ARROW, ((10, 10), (200, 100)))])


def test_the_screen_copy_of_a_large_photo_is_smaller_but_knows_the_photo_size(filled: Filled, tmp_path: Path) -> None:
    """A photo past the screen edge is shown from a smaller copy; its own size is what marks are placed in."""
    from fieldapp.photos_annotate import decode_pixels

    _, original = _photo_of_draft(filled, tmp_path)
    pixels = decode_pixels(original.path, original.sha256, max_edge=400)
    assert (pixels.width, pixels.height, pixels.photo_width, pixels.photo_height) == (400, 300, 800, 600)
    assert len(pixels.rgb) == 400 * 300 * 3
    full = decode_pixels(original.path, original.sha256)
    assert (full.width, full.height) == (800, 600) and len(full.rgb) == 800 * 600 * 3
