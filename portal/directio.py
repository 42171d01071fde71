"""Writing a blob's bytes to a file around the page cache (``O_DIRECT``), where the OS and file system allow it.

Why: a photo is written once and read rarely, so caching its pages buys nothing, yet a
buffered write copies it into freshly allocated page-cache pages and writeback then
walks them again: on this project's hosts about 2 ms of CPU for a 0.6 MB photo, more
than everything else an upload does. A direct write hands the device the bytes from one
page-aligned buffer (reused, so its pages are warm) instead.

Only the block-aligned middle of a write goes direct; the unaligned head and tail (at
most a block each) are written through the cache as before. The kernel keeps the two
coherent (a direct write first flushes and drops cached pages it overlaps). Where
``O_DIRECT`` is missing (macOS, Windows) or refused (a file system without it) every
byte is written the ordinary way.

Durability is the caller's, unchanged: a direct write may still sit in the device's
volatile cache, and the file's size and extents in dirty metadata, until ``fdatasync``.
"""

from __future__ import annotations

import errno
import mmap
import os
import threading

#: Alignment of a direct write's offset, length and buffer: a page, which covers the
#: logical block size of every disk in use (512 or 4096).
ALIGN = mmap.PAGESIZE
#: Below this a direct write saves less than it costs (the buffer copy, two fcntl calls).
MIN_DIRECT = 64 * 1024
_O_DIRECT: int = getattr(os, "O_DIRECT", 0)


class _AlignedBuffers:
    """Page-aligned anonymous buffers, kept for reuse (a fresh page costs a fault, a reused one nothing)."""

    def __init__(self, keep: int = 8) -> None:
        self._free: list[mmap.mmap] = []
        self._keep = keep
        self._lock = threading.Lock()

    def take(self, size: int) -> mmap.mmap:
        with self._lock:
            for n, buffer in enumerate(self._free):
                if len(buffer) >= size:
                    return self._free.pop(n)
        return mmap.mmap(-1, -(-size // (1024 * 1024)) * 1024 * 1024)

    def give(self, buffer: mmap.mmap) -> None:
        with self._lock:
            if len(self._free) < self._keep:
                self._free.append(buffer)
                return
        buffer.close()


_buffers = _AlignedBuffers()
#: False once a file system refused O_DIRECT: the process then writes through the cache.
_direct_works = _O_DIRECT != 0


def _pwrite_all(fd: int, data: memoryview, offset: int) -> None:
    pwrite = getattr(os, "pwrite", None)
    if pwrite is None:
        # Windows has no pwrite: the descriptor is this write's alone (the blob store opens one per
        # request), so seeking it first is as good.
        os.lseek(fd, offset, os.SEEK_SET)
        while data:
            data = data[os.write(fd, data):]
        return
    while data:
        written = pwrite(fd, data, offset)
        data, offset = data[written:], offset + written


def write_at(fd: int, offset: int, data: bytes) -> None:
    """Write all of ``data`` at ``offset`` of the open file ``fd`` (opened for writing, without O_APPEND)."""
    global _direct_works
    view = memoryview(data)
    head = min(len(view), -offset % ALIGN)
    middle = (len(view) - head) // ALIGN * ALIGN
    if not _direct_works or middle < MIN_DIRECT:
        _pwrite_all(fd, view, offset)
        return
    _pwrite_all(fd, view[:head], offset)
    start = offset + head
    try:
        _write_direct(fd, view[head:head + middle], start)
    except OSError as exc:
        if exc.errno != errno.EINVAL:
            raise
        # This file system takes no direct writes: write the middle the ordinary way, from now on always.
        _direct_works = False
        _pwrite_all(fd, view[head:head + middle], start)
    _pwrite_all(fd, view[head + middle:], start + middle)


def _write_direct(fd: int, aligned: memoryview, offset: int) -> None:
    """Write ``aligned`` (a multiple of ALIGN long, at an ALIGN offset) with O_DIRECT, through a reused aligned buffer."""
    import fcntl  # here, not at the top: Windows has neither fcntl nor O_DIRECT, and never comes here
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    buffer = _buffers.take(len(aligned))
    try:
        buffer[:len(aligned)] = aligned
        fcntl.fcntl(fd, fcntl.F_SETFL, flags | _O_DIRECT)
        with memoryview(buffer) as whole:
            done = 0
            while done < len(aligned):
                # A short direct write ends on a block boundary, so the rest stays aligned.
                done += os.pwrite(fd, whole[done:len(aligned)], offset + done)
    finally:
        fcntl.fcntl(fd, fcntl.F_SETFL, flags)
        _buffers.give(buffer)
