"""The password rule: at least 12 characters, and not in the shipped list of common or breached passwords.

One rule for every way a password is set: an admin creating or changing an account,
the ``add-user`` command, the demo seed, and an officer changing their own.
Where the list came from: ``portal/data/COMMON-PASSWORDS.md``.
"""

from __future__ import annotations

import gzip
from functools import lru_cache
from pathlib import Path

from portal.errors import ApiError
from sync.protocol import ErrorCode

MIN_LENGTH = 12
_LIST = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt.gz"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list, lowercased (about 40,000 entries, read once per process)."""
    with gzip.open(_LIST, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def password_problem(password: str) -> str | None:
    """Why the password is refused, as a sentence, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"Choose a password of at least {MIN_LENGTH} characters; a short phrase of a few words is easiest to remember."
    if password.strip().lower() in common_passwords():
        return "This password is on a list of common or breached passwords; choose another, such as a few unrelated words."
    return None


def check_password(password: str, field: str = "password") -> None:
    """422 ``weak_password`` naming the field, unless the password meets the rule."""
    problem = password_problem(password)
    if problem is not None:
        raise ApiError(422, ErrorCode.WEAK_PASSWORD, problem, {"fields": {field: problem}})
