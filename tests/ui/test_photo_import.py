"""Photo import never holds up a save, and a stopped import leaves only the photos it added."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from factory import screenshot, wait_idle, write_jpeg
from test_photos_ui import _open_editor


def test_save_queued_behind_an_import_completes_before_the_import(qtbot: Any, window: Any, tmp_path: Path) -> None:
    """Notes typed while four photos import are saved before the import finishes (order of signals)."""
    editor = _open_editor(qtbot, window)
    sources = [write_jpeg(tmp_path / f"room{n}.jpg", 2400, 1800, hue=n * 30, noise=True) for n in range(4)]
    finished: list[str] = []
    editor.sig_saved.connect(lambda _visit: finished.append("save"))
    editor.photos.sig_import_finished.connect(lambda _result: finished.append("import"))
    with qtbot.waitSignal(editor.photos.sig_import_finished, timeout=60000) as imported:
        editor.photos.import_files(sources)
        qtbot.keyClicks(editor.notes, "Mould behind the wardrobe")
        editor.flush()  # the save is queued now, behind the import's first steps
    qtbot.waitUntil(lambda: "save" in finished, timeout=10000)
    assert finished[:2] == ["save", "import"]
    assert len(imported.args[0].added) == 4
    visit = window.ctx.store.visit(editor.visit.id)
    assert visit.notes == "Mould behind the wardrobe"
    assert [p.sha256 for p in visit.photos] == [p.sha256 for p in imported.args[0].added]
    wait_idle(qtbot, window.ctx.tasks)


def test_stopped_import_keeps_what_it_added_and_leaves_no_other_file(qtbot: Any, window: Any, tmp_path: Path,
                                                                      artifacts: Path) -> None:
    """Stopping after the first photo is added keeps that photo; the files on disk are exactly the added ones."""
    editor = _open_editor(qtbot, window)
    panel = editor.photos
    sources = [write_jpeg(tmp_path / f"hall{n}.jpg", 2000, 1500, hue=n * 50, noise=True) for n in range(4)]
    with qtbot.waitSignal(panel.sig_import_finished, timeout=60000) as stopped:
        panel.import_files(sources)
        [job] = panel.running_imports
        assert panel.stop_button.isVisible()
        screenshot(panel, artifacts / "ui_photo_import_running.png")
        job.sig_attached.connect(lambda _photo: panel.stop_button.click())
    result = stopped.args[0]
    assert result.cancelled and 1 <= len(result.added) < len(sources) and not result.refused
    assert "Import stopped" in panel.message.text() and not panel.stop_button.isVisible()
    store = window.ctx.store
    kept = store.visit(editor.visit.id).photos
    assert [p.id for p in kept] == [p.id for p in result.added]
    on_disk = {p for p in store.photos_dir.rglob("*") if p.is_file()}
    expected = {p.path for p in kept} | {p.thumbnail_path for p in kept}
    assert on_disk == expected  # no prepared-but-dropped photo, no temporary file
    wait_idle(qtbot, window.ctx.tasks)


def test_shutdown_during_an_import_leaves_only_attached_photos(qtbot: Any, store_factory: Any, tmp_path: Path) -> None:
    """Closing the app mid-import keeps every photo attached so far; no file of the others survives the next start."""
    from ui.photo_import import PhotoImportJob
    from ui.tasks import Op, TaskManager

    store = store_factory(cases=2)
    case = store.cases()[0]
    visit = store.start_visit(case.id, store.templates_for(case.id)[0].id)
    sources = [write_jpeg(tmp_path / f"loft{n}.jpg", 2000, 1500, hue=n * 70, noise=True) for n in range(4)]
    manager = TaskManager()
    previous, Op.manager = Op.manager, manager
    try:
        job = PhotoImportJob(store, visit.id, sources)
        attached: list[Any] = []
        job.sig_attached.connect(lambda photo: (attached.append(photo), manager.shutdown()))
        job.start()
        qtbot.waitUntil(lambda: bool(attached), timeout=60000)
    finally:
        manager.shutdown()
        Op.manager = previous
    kept = store.visit(visit.id).photos
    assert 1 <= len(kept) < len(sources)
    # A photo prepared the moment the app closed may have been staged; the start-up tidy (here without
    # its hour's grace) removes it, and nothing attached.
    store.remove_orphan_photos(older_than_s=-1)
    on_disk = {p for p in store.photos_dir.rglob("*") if p.is_file()}
    assert on_disk == {p.path for p in kept} | {p.thumbnail_path for p in kept}
