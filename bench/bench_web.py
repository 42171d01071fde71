"""Benchmark: the web compliance page and its CSV for a manager (every team) and a lead, over many cases.

Seeds a SQLite portal with CASES cases of the fictional council, signs in through the
web sign-in form (TestClient over HTTPS, the cookies as a browser keeps them), and
prints the median time of each page (rendering included) with the load average.
"""

from __future__ import annotations

import os
import re
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("FIELDAPP_PORTAL_KDF_N", "16")

from fastapi.testclient import TestClient  # noqa: E402

from portal.core.config import PortalSettings  # noqa: E402
from portal.main import create_app  # noqa: E402
from portal.seed import seed  # noqa: E402
from portal.server import prepare  # noqa: E402

CASES = int(os.environ.get("BENCH_WEB_CASES", "3000"))
ROUNDS = 5


def _signed_in(app: object, username: str, password: str) -> TestClient:
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)  # type: ignore[arg-type]
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/web/sign-in").text)
    assert token is not None
    answer = client.post("/web/sign-in", data={"csrf": token.group(1), "username": username, "password": password})
    assert answer.status_code == 303, answer.text
    return client


def _median_ms(client: TestClient, path: str) -> float:
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        assert client.get(path).status_code == 200
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="bench_web_"))
    url = f"sqlite:///{root / 'portal.db'}"
    started = time.perf_counter()
    result = seed(url, CASES)
    print(f"seeded {CASES} cases in {time.perf_counter() - started:.1f} s")
    settings = PortalSettings.from_env(database_url=url, blob_dir=root / "blobs")
    app = create_app(settings, prepare(settings))
    for role in ("admin", "lead"):
        who = result.account(role)
        client = _signed_in(app, who.username, who.password)
        for path in ("/web/compliance", "/web/compliance.csv", "/web/queue"):
            print(f"{role:5} GET {path:20} median {_median_ms(client, path):7.1f} ms over {ROUNDS}")
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
