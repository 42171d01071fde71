"""Size limits of what an officer records, shared by the laptop and the portal.

A real visit never comes near these (the longest notes in the pilot councils' exports
were about 6,000 characters); an attack does (3.9 MB of notes made a lead's pull 39 MB).
The portal refuses anything beyond them and the laptop's editor tells the officer
before they reach them, so nothing typed is refused at sync time without warning.
"""

from __future__ import annotations

import math
from typing import Any

#: Characters of a visit's notes (about 3,000 words).
NOTES_MAX_CHARS = 20_000
#: Characters of one text answer.
TEXT_ANSWER_MAX_CHARS = 4_000
#: Characters of a photo caption.
CAPTION_MAX_CHARS = 500
#: Characters of a lead's review comment.
COMMENT_MAX_CHARS = 4_000
#: Characters of a hazard's location and of its notes.
HAZARD_LOCATION_MAX_CHARS = 200
HAZARD_NOTES_MAX_CHARS = 2_000
#: Hazard rows and photos of one visit.
MAX_HAZARDS = 100
MAX_PHOTOS = 300

#: The largest long edge, in pixels, a photo policy may store (``photo_long_edge``);
#: the portal refuses larger photos (a decompression bomb declared small is one).
PHOTO_MAX_EDGE = 8192

#: Integers the portal stores are signed 64-bit (PostgreSQL BIGINT).
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


def too_long(text: str, limit: int) -> str | None:
    """A sentence saying by how much ``text`` is over ``limit`` characters, or None when it fits."""
    if len(text) <= limit:
        return None
    return f"Keep this to {limit:,} characters; it has {len(text):,}. Shorten it by {len(text) - limit:,}."


def unstorable(value: Any, path: str = "") -> tuple[str, str] | None:
    """The first place in a JSON value that no database can store, and why; None when all is storable.

    Text holding NUL (PostgreSQL refuses it), integers outside signed 64 bits and
    numbers that are not finite (NaN, infinities) are refused wherever they appear.
    """
    if isinstance(value, str):
        return (path or "value", "Text may not contain the NUL character (\\u0000).") if "\x00" in value else None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return None if INT64_MIN <= value <= INT64_MAX else (path or "value", "The number is outside the signed 64-bit range.")
    if isinstance(value, float):
        return None if math.isfinite(value) else (path or "value", "The number must be finite.")
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            found = unstorable(key, inner) if isinstance(key, str) and "\x00" in key else unstorable(item, inner)
            if found:
                return found
        return None
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = unstorable(item, f"{path}.{index}" if path else str(index))
            if found:
                return found
    return None


def text_problems(notes: str, hazards: list[dict[str, Any]], captions: list[str]) -> dict[str, str]:
    """Problems of a visit's free text past the limits, keyed as the visit's other problems are."""
    problems: dict[str, str] = {}
    if message := too_long(notes or "", NOTES_MAX_CHARS):
        problems["notes"] = message
    for index, hazard in enumerate(hazards):
        for field, limit in (("location", HAZARD_LOCATION_MAX_CHARS), ("notes", HAZARD_NOTES_MAX_CHARS)):
            if message := too_long(str(hazard.get(field) or ""), limit):
                problems.setdefault(f"hazards.{index}", f"The {field}: {message}")
    if len(hazards) > MAX_HAZARDS:
        problems["hazards"] = f"A visit can hold at most {MAX_HAZARDS} hazards; it has {len(hazards)}."
    for number, caption in enumerate(captions, start=1):
        if message := too_long(caption or "", CAPTION_MAX_CHARS):
            problems.setdefault("photos", f"The caption of photo {number}: {message}")
    if len(captions) > MAX_PHOTOS:
        problems["photos"] = f"A visit can hold at most {MAX_PHOTOS} photos; it has {len(captions)}."
    return problems
