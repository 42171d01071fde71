"""A simulated field link on loopback: an asyncio TCP proxy with latency, a shared uplink and loss.

``FieldLink(upstream_url, LinkPlan())`` listens on 127.0.0.1 (``.url``) and forwards every
connection to the portal through one simulated 4G link:

- latency: every piece of data arrives ``round_trip / 2`` after it left, each way, so a
  request and its answer cost a whole round trip;
- bandwidth: the uplink (laptop → portal) is one queue for all connections together,
  ``up_bits_per_second``; the downlink likewise at ``down_bits_per_second``;
- loss: each segment (``segment`` bytes) is lost with probability ``loss``. TCP hides a
  loss from the application as a stall: a piece with a lost segment arrives one more
  round trip (a fast retransmit) later and holds up what follows it on that connection.
  With probability ``reset`` per piece the connection is cut instead (both sides closed),
  as a 4G handover does, so the client's retry and resume paths run too.

`tc netem` would be the real thing; in this container ``tc qdisc add dev lo root netem
delay 25ms`` answers "Specified qdisc kind is unknown" (no sch_netem in the kernel), hence
the proxy.
"""

from __future__ import annotations

import asyncio
import random
import threading
from dataclasses import dataclass

PIECE = 16 * 1024


@dataclass(frozen=True)
class LinkPlan:
    """The link's figures (defaults: issue 17's field link)."""

    round_trip: float = 0.050
    up_bits_per_second: float = 20e6
    down_bits_per_second: float = 40e6
    loss: float = 0.01
    segment: int = 1460
    reset: float = 0.0002
    seed: int = 17


class _Direction:
    """One way of the link: a serialising queue with a propagation delay."""

    def __init__(self, bits_per_second: float, delay: float) -> None:
        self._rate = bits_per_second / 8
        self._delay = delay
        self._free_at = 0.0

    def arrival(self, now: float, size: int) -> float:
        """When ``size`` bytes sent at ``now`` arrive at the far end."""
        start = max(now, self._free_at)
        self._free_at = start + size / self._rate
        return self._free_at + self._delay


class FieldLink:
    """The proxy, served from its own thread with its own event loop; use as a context manager."""

    def __init__(self, upstream_url: str, plan: LinkPlan | None = None) -> None:
        host_port = upstream_url.split("://", 1)[1].rstrip("/")
        host, _, port = host_port.rpartition(":")
        self._upstream = (host, int(port))
        self.plan = plan or LinkPlan()
        self._rng = random.Random(self.plan.seed)
        self._up = _Direction(self.plan.up_bits_per_second, self.plan.round_trip / 2)
        self._down = _Direction(self.plan.down_bits_per_second, self.plan.round_trip / 2)
        self.bytes_up = 0
        self.connections = 0
        self.losses = 0       # connections cut
        self.stalls = 0       # pieces held up by a lost segment
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fieldlink", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        self.url = f"http://127.0.0.1:{self._port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncio.start_server(self._accept, "127.0.0.1", 0))
        self._port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    def close(self) -> None:
        async def stop() -> None:
            self._server.close()
            for task in [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]:
                task.cancel()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def __enter__(self) -> "FieldLink":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def _accept(self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter) -> None:
        self.connections += 1
        loop = asyncio.get_running_loop()
        # The TCP handshake crosses the link once before the first byte can.
        await asyncio.sleep(self.plan.round_trip)
        try:
            portal_in, portal_out = await asyncio.open_connection(*self._upstream)
        except OSError:
            client_out.close()
            return
        cut = asyncio.Event()
        pipes = [loop.create_task(self._pipe(client_in, portal_out, self._up, cut, upstream=True)),
                 loop.create_task(self._pipe(portal_in, client_out, self._down, cut, upstream=False))]
        await cut.wait()
        for task in pipes:
            task.cancel()
        for writer in (client_out, portal_out):
            writer.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, direction: _Direction,
                    cut: asyncio.Event, *, upstream: bool) -> None:
        """Forward one way: each piece leaves at its arrival time, in order, stalled when a segment is lost."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                at, data = await queue.get()
                if not data:
                    return
                wait = at - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                writer.write(data)
                await writer.drain()

        sender = loop.create_task(deliver())
        last = 0.0
        try:
            while True:
                data = await reader.read(PIECE)
                if not data:
                    break
                if upstream:
                    self.bytes_up += len(data)
                if self._rng.random() < self.plan.reset:
                    self.losses += 1
                    break
                at = direction.arrival(loop.time(), len(data))
                segments = -(-len(data) // self.plan.segment)
                if self._rng.random() < 1 - (1 - self.plan.loss) ** segments:
                    self.stalls += 1
                    at += self.plan.round_trip   # the retransmission, one round trip later
                last = max(last, at)             # TCP delivers in order: nothing overtakes a stalled piece
                queue.put_nowait((last, data))
        except (ConnectionError, OSError):
            pass
        finally:
            queue.put_nowait((0.0, b""))
            try:
                await sender
            except (ConnectionError, OSError, asyncio.CancelledError):
                pass
            cut.set()
