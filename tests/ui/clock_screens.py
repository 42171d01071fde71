"""Screenshots of the clock screens at one display size, in a process of its own (Qt's scale is per process).

Run as ``python clock_screens.py OUT_DIR WIDTH HEIGHT SCALE``: a real store with
clocks, the main window at the logical size of that display (1366x768 at 150 % is
911x512 points), the case list, a case page, the editor with its assessment and the
Deadlines view saved as ``clocks_<name>_<WIDTH>x<HEIGHT>@<SCALE>.png``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "offscreen"


def main(out: Path, width: int, height: int, scale: float) -> None:
    os.environ["QT_SCALE_FACTOR"] = f"{scale:g}"
    sys.path.insert(0, str(Path(__file__).parent))
    from PySide6.QtWidgets import QApplication

    from clock_factory import add_clocks
    from factory import fill_store
    from fieldapp.store import FieldStore
    from ui.app import create_main_window, ensure_app, shutdown_window
    from ui.look import apply_style

    app = ensure_app()
    apply_style(app)
    with tempfile.TemporaryDirectory() as folder:
        store = FieldStore.open(Path(folder))
        fill_store(store, 40)
        ids = add_clocks(store)
        window = create_main_window(store)
        window.resize(round(width / scale), round(height / scale))
        window.show()

        def settle(condition: object = None) -> None:
            for _ in range(400):
                app.processEvents()
                if not window.ctx.tasks.busy and (condition is None or condition()):
                    break
                time.sleep(0.01)   # a script, not a test: the background threads deliver meanwhile
            QApplication.sendPostedEvents()
            app.processEvents()

        def shot(name: str) -> None:
            settle()
            window.grab().save(str(out / f"clocks_{name}_{width}x{height}@{scale:g}.png"))

        settle(lambda: window.case_list.model.rowCount() > 0 and window.case_list.model.clock_of(ids[0]))
        shot("case_list")
        window.case_list.select_case(ids[1])
        settle(lambda: window.case_detail.case is not None and window.case_detail.case.id == ids[1])
        shot("case_page")
        visit = store.start_visit(ids[1], store.templates_for(ids[1])[0].id)
        store.update_visit(visit.id, outcome="completed", assessment={
            "finding": "significant", "hazards": ["Damp and mould growth"],
            "reasons": "Child with asthma sleeps in the room", "household_factors": ["Children in the household"]})
        window.open_visit(visit.id)
        settle(lambda: window.editor.visit is not None)
        window.editor.scroll.ensureWidgetVisible(window.editor.assessment)
        shot("editor_assessment")
        window.show_deadlines()
        settle(lambda: window.deadlines.model.rowCount() > 0)
        shot("deadlines")
        shutdown_window(window)
        store.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
