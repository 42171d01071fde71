"""A sync runner for the kill -9 tests: imports once, then forks one child per sync.

Starting Python and importing the store, SQLAlchemy and pydantic takes seconds on a
small VM; forking a process that already has them makes each killed sync cheap, so
many seeded kill points fit in the suite. The runner is single-threaded, so forking
it is safe.

Protocol on stdin/stdout: the test writes one JSON line per sync
``{"data_dir", "url", "username", "password"}``; the runner prints ``child PID``,
the child prints one line per progress report and ``finished`` (or ``error ...``),
and the runner prints ``reaped PID STATUS`` when the child is gone (killed or not).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from fieldapp import FieldStore
from sync.client import PortalClient
from sync.engine import SyncEngine
from sync.progress import SyncProgress


def _child(job: dict[str, Any]) -> None:
    store = FieldStore.open(job["data_dir"])
    try:
        client = PortalClient(job["url"])
        client.login(job["username"], job["password"], store.sync_state().device_id)

        def show(progress: SyncProgress) -> None:
            print(f"{progress.phase} {progress.done} {progress.bytes_done}", flush=True)

        report = SyncEngine(store, client).run(progress=show)
        print(f"finished ok={report.ok}", flush=True)
    finally:
        store.close()


def main() -> None:
    print("ready", flush=True)
    for line in sys.stdin:
        job = json.loads(line)
        pid = os.fork()
        if pid == 0:
            status = 0
            try:
                _child(job)
            except BaseException as exc:  # noqa: BLE001 - reported to the test, which decides
                print(f"error {exc!r}", flush=True)
                status = 1
            finally:
                sys.stdout.flush()
                os._exit(status)
        print(f"child {pid}", flush=True)
        _, status = os.waitpid(pid, 0)
        print(f"reaped {pid} {status}", flush=True)


if __name__ == "__main__":
    main()
