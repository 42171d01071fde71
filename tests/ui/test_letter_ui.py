"""The tenant's letter on the laptop: preview, save, print and record as given, all off the GUI thread."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from PySide6.QtPrintSupport import QPrinter

from factory import TEMPLATE_ID, screenshot, write_jpeg
from ui.letter import SummaryStatusWidget, TenantLetterDialog

ASSESSMENT = {"finding": "significant", "hazards": ["Damp and mould growth"],
              "reasons": "Mould over the cot in the back bedroom.", "household_factors": ["a baby"],
              "make_safe_done": False, "safety_work": "Treat the mould and repair the gutter.",
              "supplementary_work": None, "alternative_accommodation": False}
ANSWERS = {"mould_seen": True, "severity": "Severe", "cause": "Condensation"}


def _text(pdf: bytes) -> str:
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))


def _visit(store: Any, tmp_path: Path, *, assessment: dict[str, Any] | None = ASSESSMENT, submit: bool = True) -> str:
    case_id = store.cases()[0].id
    visit = store.start_visit(case_id, TEMPLATE_ID)
    store.update_visit(visit.id, answers=ANSWERS, outcome="completed",
                       **({"assessment": assessment} if assessment else {}))
    store.add_photo(visit.id, write_jpeg(tmp_path / "wall.jpg", 1600, 1200, hue=3), caption="Mould by the window")
    return store.submit_visit(visit.id).id if submit else visit.id


def _dialog(qtbot: Any, tasks: Any, store: Any, visit_id: str) -> TenantLetterDialog:
    dialog = TenantLetterDialog(store, visit_id)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.sig_ready, timeout=20_000):
        dialog.show()
    return dialog


def test_the_letter_is_previewed_saved_and_printed(qtbot: Any, tasks: Any, store_factory: Any, tmp_path: Path,
                                                   artifacts: Path) -> None:
    """The pages show; Save writes the same PDF the store makes; Print sends every page to the printer."""
    store = store_factory(cases=3)
    visit_id = _visit(store, tmp_path)
    dialog = _dialog(qtbot, tasks, store, visit_id)
    assert dialog.letter is not None and len(dialog.letter.pages) >= 2
    assert dialog.save_button.isEnabled() and dialog.print_button.isEnabled()
    for width, height, name in ((1366, 768, "ui_letter_dialog.png"), (1280, 720, "ui_letter_dialog_1280.png")):
        dialog.resize(min(width, 900), height - 60)
        screenshot(dialog, artifacts / name)

    target = tmp_path / "out" / "summary"
    (tmp_path / "out").mkdir()
    with qtbot.waitSignal(dialog.sig_saved, timeout=10_000) as saved:
        dialog.save_to(target)
    assert saved.args == [str(target) + ".pdf"]
    assert _text(Path(saved.args[0]).read_bytes()) == _text(store.tenant_letter(visit_id))

    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "printed.pdf"))
    printer.setResolution(150)
    with qtbot.waitSignal(dialog.sig_printed, timeout=20_000):
        dialog.print_to(printer)
    assert len(PdfReader(tmp_path / "printed.pdf").pages) == len(dialog.letter.pages)


def test_recording_it_as_given_queues_the_op_and_shows_it(qtbot: Any, tasks: Any, store_factory: Any,
                                                         tmp_path: Path) -> None:
    """Record as given (posted) under the visit: it shows waiting to sync, the outbox holds the op, the choice goes."""
    store = store_factory(cases=3)
    visit_id = _visit(store, tmp_path)
    status = SummaryStatusWidget()
    qtbot.addWidget(status)
    status.use_store(store)
    status.show_visit(store.visit(visit_id))
    status.show()
    assert "not given yet" in status.text.text() and status.record_buttons["post"].isVisible()
    with qtbot.waitSignal(status.sig_recorded, timeout=10_000) as recorded:
        status.record_buttons["post"].click()
    visit = recorded.args[0]
    assert visit.summary_issued.method == "post" and not visit.summary_issued.sent
    assert "posted on" in status.text.text() and "waiting to sync" in status.text.text()
    assert not any(button.isVisible() for button in status.record_buttons.values())
    assert [op.kind for op in store.outbox()] == ["submit", "summary_issued"]


def test_a_visit_without_an_assessment_says_what_to_record(qtbot: Any, tasks: Any, store_factory: Any,
                                                           tmp_path: Path) -> None:
    """No assessment: the dialog says to record it and offers nothing to save or print."""
    store = store_factory(cases=3)
    dialog = _dialog(qtbot, tasks, store, _visit(store, tmp_path, assessment=None, submit=False))
    assert dialog.error is not None and "record the assessment" in dialog.error
    assert dialog.letter is None and not dialog.save_button.isEnabled() and not dialog.print_button.isEnabled()


def test_the_status_line_shows_for_completed_visits_only(qtbot: Any, store_factory: Any, tmp_path: Path) -> None:
    """Under a completed visit the line says whether the summary was given; under a no-access visit it hides."""
    store = store_factory(cases=3)
    visit = store.visit(_visit(store, tmp_path))
    status = SummaryStatusWidget()
    qtbot.addWidget(status)
    status.show_visit(visit)
    assert not status.isHidden() and "not given yet" in status.text.text()
    assert status.record_buttons["hand"].isHidden()  # nowhere to record it without the store
    status.show_visit(store.update_visit(store.start_visit(store.cases()[1].id, TEMPLATE_ID).id, outcome="no_access"))
    assert status.isHidden()
