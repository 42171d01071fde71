"""The environment a benchmarked product process runs in: as installed, with its bytecode cached.

An installed Fieldapp (pip, or the bundle) runs from compiled ``.pyc`` files. A shell with
``PYTHONDONTWRITEBYTECODE=1`` (this machine's engineers' shells have it) makes every
process compile the tree's modules from source again — about half a second of a
`fieldapp sync` — which no officer's laptop pays. Benchmarks of a whole process start it
with bytecode written to and read from a cache outside the tree (``PYTHONPYCACHEPREFIX``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

PYCACHE = Path(tempfile.gettempdir()) / "fieldapp-bench-pycache"


def installed_env(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` with bytecode caching on (in `PYCACHE`, so the tree stays clean)."""
    found = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    found["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    return found


def show_bytecode_setting() -> str:
    """What this bench's own shell would have done, for the printed header."""
    return "bytecode cached (as installed)" + (
        "; this shell has PYTHONDONTWRITEBYTECODE=1, not passed on" if os.environ.get("PYTHONDONTWRITEBYTECODE") else "")
