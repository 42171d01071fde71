"""``serve`` from several processes: uvicorn's workers, each building the portal from the parent's settings.

Why: a request's Python runs under one interpreter lock, so one process uses one CPU
however many connections upload at once; with a worker per CPU a push's parallel photo
uploads use them all. Everything the portal shares lives in the database (sign-in
throttling, webhook leases, upload rows), so the workers need nothing from each other.

uvicorn starts each worker as a new interpreter and sends it, pickled through
multiprocessing's pipe, the configuration it serves. `WorkerConfig` is that configuration
carrying the portal's settings (the database URL may hold a password): they reach every
worker, and every worker the supervisor starts again after a failed health check, without
passing through the environment (readable in ``/proc/PID/environ`` for a process's life,
and inherited by whatever it starts), a file or the command line. A worker dies with its
parent: uvicorn's supervisor stops its workers when it is stopped, but after a ``kill -9``
(or a crash) of the supervisor, Linux kills them (``PR_SET_PDEATHSIG``) rather than leave
them serving the port unsupervised.
"""

from __future__ import annotations

import ctypes
import gc
import os
import signal
import sys
from functools import partial
from typing import Any

import uvicorn
from fastapi import FastAPI
from uvicorn.supervisors import Multiprocess

from portal.accept import use_balanced_workers
from portal.core.config import PortalSettings
from portal.core.db import Database
from portal.main import create_app

#: What uvicorn names the workers' app (its import string; `WorkerConfig` gives the factory itself).
WORKER_APP = f"{__name__}:worker_app"
_PR_SET_PDEATHSIG = 1
#: How long uvicorn's supervisor waits for a worker to answer its health check before it
#: kills and replaces it. uvicorn's 5 s is less than a worker takes to start on a busy
#: host (its interpreter imports the portal before it can answer: 2 s idle, 6-7 s measured
#: at load 10 on 2 CPUs), so every worker was killed while starting, and again, for ever.
#: A longer wait only delays replacing a worker that hangs.
HEALTHCHECK_SECONDS = 60


def default_workers() -> int:
    """One worker per CPU, at most 4 (past that the database's writes, not Python, are the limit)."""
    return max(1, min(os.cpu_count() or 1, 4))


class WorkerConfig(uvicorn.Config):
    """uvicorn's configuration of a served portal's workers, carrying its settings to each of them."""

    def __init__(self, settings: PortalSettings, **options: Any) -> None:
        super().__init__(WORKER_APP, factory=True, **options)
        # Plain values, pickled with the rest of the configuration for each worker uvicorn starts.
        self.portal_settings = settings.to_json()
        self.supervisor = os.getpid()

    def load_app(self) -> Any:
        """In a worker (uvicorn calls it there): the app's factory, given the settings carried here."""
        return partial(worker_app, PortalSettings.from_json(self.portal_settings), self.supervisor)


def serve_workers(settings: PortalSettings, workers: int, **options: Any) -> None:
    """Serve from ``workers`` processes under uvicorn's supervisor until it is stopped (what `uvicorn.run` does for
    workers, with `WorkerConfig`); ``options`` are uvicorn's."""
    config = WorkerConfig(settings, workers=workers, timeout_worker_healthcheck=HEALTHCHECK_SECONDS, **options)
    if os.name != "nt":
        # Windows hands each worker the socket its own way: uvicorn's servers as they are.
        use_balanced_workers()
    sock = config.bind_socket()
    try:
        Multiprocess(config, sockets=[sock]).run()
    finally:
        sock.close()


def worker_app(settings: PortalSettings, supervisor: int) -> FastAPI:
    """The app of one worker process: dies with the supervisor, serves the settings it was given."""
    _die_with_supervisor(supervisor)
    app = create_app(settings, Database(settings.database_url))
    freeze_startup_heap()
    return app


def freeze_startup_heap() -> None:
    """Leave every object a served process holds once its app is built out of the collector's walks.

    The app, its routes and models, and SQLAlchemy's and pydantic's tables live as long as the
    process, yet each full collection walked them all: a first sync's pull pages make objects
    enough for one every few pages, and in the pull service of a 20,000-case first sync the
    collector took 0.9-1.1 s of 3.5-4.8 s CPU (0.35-0.4 s with the start-up heap frozen). Only
    what exists now is frozen; what requests make is collected as before.
    """
    gc.collect()   # garbage of the start-up itself is freed, not kept
    gc.freeze()


def _die_with_supervisor(supervisor: int) -> None:
    if not sys.platform.startswith("linux"):
        return  # elsewhere only uvicorn's own shutdown stops the workers
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != supervisor:
        # The supervisor died before the request took effect.
        os._exit(1)
