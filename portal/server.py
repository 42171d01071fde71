"""Running the portal: in a background thread (tests, demo) or in the foreground (``serve``)."""

from __future__ import annotations

import socket
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn

from portal.core import migrate
from portal.core.config import PortalSettings
from portal.core.db import Database
from portal.main import create_app
from portal.workers import freeze_startup_heap, serve_workers


def prepare(settings: PortalSettings) -> Database:
    """Open and migrate the database, and make the blob directory."""
    Path(settings.blob_dir).mkdir(parents=True, exist_ok=True)
    db = Database(settings.database_url)
    migrate.upgrade(db.engine)
    return db


@dataclass
class BackgroundPortal:
    """A portal serving on 127.0.0.1 from a thread; ``.stop()`` or use as a context manager."""

    url: str
    database_url: str
    blob_dir: Path
    settings: PortalSettings
    server: uvicorn.Server
    thread: threading.Thread
    db: Database
    #: Filled by whoever seeds the database (the test fixtures), for convenience.
    accounts: list[Any] = field(default_factory=list)

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.db.dispose()

    def __enter__(self) -> "BackgroundPortal":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def start_background(
    database_url: str, blob_dir: Path, host: str = "127.0.0.1", port: int = 0, *, settings: PortalSettings | None = None
) -> BackgroundPortal:
    """Create/migrate the database and serve the portal from a thread; returns once it accepts requests."""
    settings = settings or PortalSettings.from_env(database_url=database_url, blob_dir=Path(blob_dir))
    db = prepare(settings)
    app = create_app(settings, db)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    # proxy_headers off: the portal itself decides whom to believe (portal.forwarded).
    # lifespan on: the webhook worker runs as in ``serve``.
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", proxy_headers=False,
                            **connection_limits(settings))
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="portal-server", daemon=True)
    thread.start()
    started = threading.Event()
    # Server.started flips once the socket listens; poll it with a short wait, not a fixed sleep.
    while not server.started and thread.is_alive():
        started.wait(0.01)
    if not server.started:
        raise RuntimeError("The portal did not start; see the log above.")
    bound_host, bound_port = sock.getsockname()[:2]
    return BackgroundPortal(f"http://{bound_host}:{bound_port}", database_url, Path(blob_dir), settings, server, thread, db)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` right now (for starting servers in tests and benchmarks)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_healthy(url: str, alive: Callable[[], bool], timeout: float = 60.0) -> None:
    """Poll ``url/health`` until it answers 200; RuntimeError if ``alive()`` turns false or time runs out."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError(f"The portal at {url} exited before it was healthy.")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass  # not listening yet
        pause.wait(0.1)
    raise RuntimeError(f"The portal at {url} did not become healthy within {timeout:.0f} s.")


def serve(settings: PortalSettings, host: str, port: int, *, access_log: bool = False, workers: int = 1) -> None:
    """Serve in the foreground until interrupted, from ``workers`` processes (``portal.workers``).

    The access log is off unless asked for: a line per request costs CPU that the
    reverse proxy in front of a real deployment logs anyway.
    """
    db = prepare(settings)
    # uvicorn's own proxy handling would believe X-Forwarded-For from any loopback peer;
    # the portal decides itself, from ``trusted_proxies`` (portal.forwarded).
    options: dict[str, Any] = {"host": host, "port": port, "log_level": "info", "proxy_headers": False,
                               "access_log": access_log, **connection_limits(settings)}
    if workers > 1:
        # Each worker opens its own database; the migration above ran once, here.
        db.dispose()
        serve_workers(settings, workers, **options)
    else:
        app = create_app(settings, db)
        freeze_startup_heap()
        uvicorn.run(app, **options)


def connection_limits(settings: PortalSettings) -> dict[str, Any]:
    """uvicorn's connection options: idle keep-alive connections close after ``idle_timeout_seconds``.

    (Slow bodies are cut by ``BodyLimitMiddleware``'s deadline; uvicorn has no option for them.)
    """
    return {"timeout_keep_alive": settings.idle_timeout_seconds, "timeout_graceful_shutdown": 30}
