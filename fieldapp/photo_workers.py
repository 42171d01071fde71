"""The photo code's small shared thread pools, and Pillow's memory set up for a photo's big pictures.

Pillow releases the GIL while it decodes, resamples, turns, pastes and encodes into a
real file, so work handed to these threads runs beside the caller's on another core.
"""

from __future__ import annotations

import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

from PIL import Image

from fieldapp.priority import lower_this_thread

# An import makes and frees some 40 pictures of 1-20 MB (decodes, resamples, halves). Pillow's default
# (16 MB blocks, none kept) hands each to malloc, which returns most to the system, so every import
# touched fresh zeroed pages again: 12,000 page faults, 20 ms of processor, in a 35 ms decode alone
# (measured on this VM; Windows' heap does the same for any block over 1 MB). Kept 1 MB blocks
# are reused instead; 48 of them (48 MB) hold what one camera photo's import needs at once.
_BLOCK_SIZE = 1024 * 1024
_BLOCKS_KEPT = 48

_THREAD_PRIORITY_ERROR_RETURN = 0x7FFFFFFF
_pools: dict[bool, ThreadPoolExecutor] = {}  # by whether the threads asking are lowered
_pool_lock = threading.Lock()


def reuse_picture_memory() -> None:
    """Have Pillow keep and reuse the blocks of freed pictures, unless IT set its own (PILLOW_BLOCK_SIZE, _BLOCKS_MAX)."""
    core = Image.core  # type: ignore[attr-defined]  # Pillow's allocator, as its PILLOW_* variables set it
    if "PILLOW_BLOCK_SIZE" not in os.environ:
        core.set_block_size(_BLOCK_SIZE)
    if "PILLOW_BLOCKS_MAX" not in os.environ:
        core.set_blocks_max(max(core.get_blocks_max(), _BLOCKS_KEPT))


def workers() -> ThreadPoolExecutor:
    """A shared pool whose threads run at the calling thread's priority, made on first use.

    An import is as urgent as the thread that runs it, helpers included: the app's lowered
    import thread gets lowered helpers, so saves and the window keep the processor. Helpers
    lowered under a normal caller instead waited behind every other program on a busy machine
    (measured: the colour decode's 40 ms took 270), with the caller idle meanwhile.
    """
    lowered = _this_thread_lowered()
    with _pool_lock:
        pool = _pools.get(lowered)
        if pool is None:
            pool = _pools[lowered] = ThreadPoolExecutor(
                max_workers=min(4, os.cpu_count() or 1), thread_name_prefix="photo-low" if lowered else "photo",
                initializer=lower_this_thread if lowered else None)
        return pool


def _this_thread_lowered() -> bool:
    """Whether the calling thread runs below the app's priority (as `lower_this_thread` sets it)."""
    try:
        if sys.platform.startswith("linux"):
            return os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) > os.getpriority(os.PRIO_PROCESS, os.getpid())
        if sys.platform == "win32":
            import ctypes

            kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
            # the pseudo-handle (-2) passed as a full-width handle; MAXLONG means it failed
            priority = kernel32.GetThreadPriority(ctypes.c_void_p(kernel32.GetCurrentThread()))
            return bool(priority < 0 or priority == _THREAD_PRIORITY_ERROR_RETURN)
    except (OSError, AttributeError):
        pass
    return True  # where it cannot be told, as before: helpers at background priority


# Set once, when the photo code is first imported: the figures above are for every photo after that.
reuse_picture_memory()
