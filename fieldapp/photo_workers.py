"""The photo code's small shared thread pool.

Pillow releases the GIL while it decodes, resamples, turns, pastes and encodes into a
real file, so work handed to these threads runs beside the caller's on another core.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

from fieldapp.priority import lower_this_thread

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def workers() -> ThreadPoolExecutor:
    """The shared pool, made on first use; its threads run at background priority, so saves and the window keep the processor."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1), thread_name_prefix="photo",
                                       initializer=lower_this_thread)
        return _pool
