"""Background threads that yield the processor to the officer's own work.

Preparing photos keeps both cores of a small laptop busy for seconds; at normal
priority it takes the processor from the database thread, so a save queued meanwhile
took 100–200 ms instead of 10. Lowered threads still use every idle cycle, but the
scheduler runs the window's and the database's threads first.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

log = logging.getLogger(__name__)

#: How much nicer than the rest of the app a background thread runs on Linux (0 normal, 19 lowest).
BACKGROUND_NICENESS = 10
_LOWEST_NICENESS = 19
_THREAD_PRIORITY_BELOW_NORMAL = -1


def lower_this_thread() -> None:
    """Run the calling thread at background priority (best effort: unsupported systems keep it normal).

    Only ever called on threads made for background work: an unprivileged process can
    lower a thread's priority but not raise it back.
    """
    try:
        if sys.platform.startswith("linux"):
            # On Linux every thread has its own niceness, addressed by its native id. Relative to
            # the app's own (its main thread's, whose id is the process id), so an app started with
            # `nice` still puts its saves first; not to this thread's, which it inherits from the
            # thread that made it: the photo pool, made from the lowered import thread, got 19, so
            # on a busy machine the import's own helpers waited behind everything else.
            thread = threading.get_native_id()
            niceness = os.getpriority(os.PRIO_PROCESS, os.getpid()) + BACKGROUND_NICENESS
            os.setpriority(os.PRIO_PROCESS, thread, min(niceness, _LOWEST_NICENESS))
        elif sys.platform == "win32":
            import ctypes

            kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
            kernel32.SetThreadPriority(kernel32.GetCurrentThread(), _THREAD_PRIORITY_BELOW_NORMAL)
    except (OSError, AttributeError) as exc:
        log.debug("Could not lower the priority of thread %s: %s", threading.current_thread().name, exc)
