"""One way to compare usernames, the same on PostgreSQL and SQLite.

SQLite's ``lower()`` folds ASCII only, so "Łukasz" and "łukasz" were two accounts there
and the first could never sign in. The key is computed here, in Python (Unicode NFKC,
then case folding), stored in ``users.username_key`` under a unique index, and every
lookup compares keys: the database's own collation never decides.
"""

from __future__ import annotations

import unicodedata


def username_key(username: str) -> str:
    """The comparison key of a username: trimmed, NFKC-normalised, case-folded."""
    return unicodedata.normalize("NFKC", username.strip()).casefold()
