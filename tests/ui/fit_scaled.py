"""The main screens' fit at a real Qt scale factor, in a process of its own (Qt's scale is per process).

Run as ``python fit_scaled.py WIDTH HEIGHT SCALE``: the main window at the logical size of
that display, less a taskbar, on the case page of a home with warnings and in the editor of a
new visit; prints every fault `fit.misfits` finds (one a line) and exits 1 when there is any.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "offscreen"

TASKBAR = 48   # device pixels a desktop's panel takes from the screen


def _settle(app: object, until: object, seconds: float = 20.0) -> None:
    """Run the event loop until ``until()`` holds (background loads arrive through it)."""
    import time

    deadline = time.monotonic() + seconds
    while not until() and time.monotonic() < deadline:   # type: ignore[operator]
        app.processEvents()   # type: ignore[attr-defined]
        time.sleep(0.01)


def main(width: int, height: int, scale: float) -> int:
    os.environ["QT_SCALE_FACTOR"] = f"{scale:g}"
    sys.path.insert(0, str(Path(__file__).parent))
    from factory import fill_store
    from fit import in_view, misfits

    from fieldapp.store import FieldStore
    from ui.app import create_main_window, ensure_app, shutdown_window

    app = ensure_app()
    faults: list[str] = []
    with tempfile.TemporaryDirectory() as folder:
        store = FieldStore.open(Path(folder))
        fill_store(store, 30)
        window = create_main_window(store)
        window.resize(round(width / scale), round((height - TASKBAR) / scale))
        window.show()
        _settle(app, lambda: window.case_list.model.rowCount() > 0)
        case_id = next(r.id for r in window.case_list.model.rows() if r.has_warnings)
        window.case_list.select_case(case_id)
        _settle(app, lambda: window.case_detail.case is not None and not window.ctx.tasks.busy)
        faults += [f"case page: {f}" for f in misfits(window)]
        if not in_view(window.case_detail.start_button, window):
            faults.append("case page: Start visit is not in view")
        window.case_detail._create_visit(window.case_detail.template_choice.currentData())
        _settle(app, lambda: window.pages.currentWidget() is window.editor and not window.ctx.tasks.busy)
        faults += [f"editor: {f}" for f in misfits(window)]
        if not in_view(window.editor.submit_button, window):
            faults.append("editor: Submit is not in view")
        shutdown_window(window)
        store.close()
    print(f"window {window.width()}x{window.height()} at {window.devicePixelRatio():g}x", *faults, sep="\n")
    return 1 if faults else 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])))
