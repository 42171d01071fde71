"""Importing a command's heavy libraries at the least cost: without the garbage collector, then frozen.

SQLAlchemy, pydantic and requests build tens of thousands of long-lived objects as they
import. With the collector on, each import triggers collections that walk that growing
heap again and again, and at exit the interpreter walks it once more — together about a
third of a no-op `fieldapp sync` process's CPU. So a command imports them with the
collector off and then freezes what they built (`gc.freeze`: later collections, and the
last one at exit, skip it); collection runs as usual for everything made afterwards.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def imports_without_gc(first_module: str) -> Iterator[None]:
    """Run the ``import`` statements of the block with the collector off, then freeze what they built.

    Only when ``first_module`` was not imported yet, i.e. in a fresh process: a process that
    already holds it (a test calling the command in-process) keeps its heap as it is.
    """
    if first_module in sys.modules:
        yield
        return
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
