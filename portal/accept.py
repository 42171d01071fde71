"""Worker processes that share one listening socket take its connections least-busy first.

Why: uvicorn's workers each serve the shared socket with an ordinary asyncio server, and
whichever worker's loop wakes first accepts every connection waiting (libuv and asyncio
accept until the queue is empty). A push opens its four upload connections at once, so
all four went to one worker: one CPU did the work while the other idled (measured: 3.81 s
of CPU in one worker, 0.03 s in the other). Kernel-side spreading (``SO_REUSEPORT``)
hashes the client's port, which splits four connections 2:2 only three times in eight.

Here each worker accepts from the shared socket itself, and before each accept waits a
moment for every connection it already holds (``STEP_SECONDS`` each, at most
``MAX_WAIT_SECONDS``): an idle worker takes a new connection at once, a busier one only
if no less busy worker has taken it meanwhile. No state is shared between the workers,
so one that hangs or dies costs a new connection at most that wait. Once connections
have been waiting longer than that (every worker is busy: a reverse proxy opening one per
request under load, say), waiting would only cap how many a worker accepts a second, so
the workers take them at once until the queue is empty. Accepted sockets go to uvicorn's
own protocol, as its server would hand them.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import select
import socket
from collections.abc import Callable
from typing import Any

import uvicorn
from uvicorn.supervisors import multiprocess

log = logging.getLogger(__name__)

#: Wait before accepting, per connection the worker holds. Longer than the event loop's
#: usual delay under load (the interpreter lock switches threads every 5 ms), so the less
#: busy worker reliably gets there first.
STEP_SECONDS = 0.02
MAX_WAIT_SECONDS = 0.1


def accept_wait(held: int) -> float:
    """Seconds a worker holding ``held`` connections waits before it accepts another."""
    return min(held * STEP_SECONDS, MAX_WAIT_SECONDS)


class BalancedListener:
    """Accepts connections on ``sock`` (listening, shared with other workers) for ``protocol_factory``.

    Stands in for the asyncio server in uvicorn's list: ``close`` stops accepting.
    """

    def __init__(self, sock: socket.socket, protocol_factory: Callable[[], asyncio.Protocol],
                 held: Callable[[], int], ssl: Any = None) -> None:
        self.sock = sock
        self._factory = protocol_factory
        self._held = held
        self._ssl = ssl
        sock.setblocking(False)
        self._task = asyncio.get_running_loop().create_task(self._accept_forever())

    async def _accept_forever(self) -> None:
        loop = asyncio.get_running_loop()
        queued_since: float | None = None   # when this worker last saw the queue go from empty to waiting
        while True:
            if not _waiting(self.sock):
                queued_since = None   # the queue is empty: the next connection is a new one to wait for
                await _readable(loop, self.sock)
            now = loop.time()
            queued_since = now if queued_since is None else queued_since
            # Connections queued longer than any worker's wait: all are busy, so none waits (see the module's doc).
            wait = 0.0 if now - queued_since >= MAX_WAIT_SECONDS else accept_wait(self._held())
            if wait:
                await asyncio.sleep(wait)
            try:
                connection, _ = self.sock.accept()
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                continue  # another worker took it, or the client gave up
            except OSError as exc:
                # Out of descriptors or memory, say: it passes once other connections close.
                log.error("Cannot accept a connection (%s); trying again in a second.", exc)
                await asyncio.sleep(1)
                continue
            connection.setblocking(False)
            try:
                await loop.connect_accepted_socket(self._factory, connection, ssl=self._ssl)
            except OSError:
                connection.close()  # it closed before its transport was made

    def close(self) -> None:
        self._task.cancel()

    async def wait_closed(self) -> None:
        try:
            await self._task
        except asyncio.CancelledError:
            pass


def _waiting(sock: socket.socket) -> bool:
    """Whether another connection waits on ``sock`` right now (without waiting for one)."""
    return bool(select.select([sock], [], [], 0)[0])


async def _readable(loop: asyncio.AbstractEventLoop, sock: socket.socket) -> None:
    """Until ``sock`` has a connection waiting (or another worker may just have taken it)."""
    ready = loop.create_future()
    fd = sock.fileno()

    def on_readable() -> None:
        loop.remove_reader(fd)
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(fd, on_readable)
    try:
        await ready
    finally:
        loop.remove_reader(fd)


class BalancedServer(uvicorn.Server):
    """uvicorn's server, accepting on the sockets its supervisor hands it through ``BalancedListener``."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        if not sockets:
            await super().startup(sockets)
            return
        # uvicorn's start-up (the lifespan, its checks) without servers of its own.
        await super().startup([])
        config = self.config
        factory = functools.partial(config.http_protocol_class, config=config, server_state=self.server_state,  # type: ignore[call-arg]
                                    app_state=self.lifespan.state)
        for sock in sockets:
            sock.listen(config.backlog)  # the supervisor only binds them (asyncio's server would listen)
        listeners = [BalancedListener(sock, factory, lambda: len(self.server_state.connections), config.ssl) for sock in sockets]
        self.servers = listeners  # type: ignore[assignment]  # uvicorn only closes them


class BalancedProcess(multiprocess.Process):
    """uvicorn's worker process, running a ``BalancedServer``."""

    @property
    def server(self) -> uvicorn.Server:
        if self._server is None:
            self._server = BalancedServer(config=self.config)
        return self._server


def use_balanced_workers() -> None:
    """Make uvicorn's multi-process supervisor start ``BalancedProcess`` workers (it names its class at module level)."""
    multiprocess.Process = BalancedProcess  # type: ignore[misc]
