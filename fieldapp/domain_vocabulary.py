"""Hazard vocabularies (PROTOCOL.md revision 2, "Vocabularies"): the data a visit's hazards are named from.

A vocabulary is plain data, ``{"key", "name", "effective_from", "hazards": [{"name",
"group"}], "bands": [{"band", "min_score"?, "category_1"}]}``; the portal serves it and
the field app takes it from the pull. ``hhsrs-2006`` ships with both: the 29 hazards of
the Housing Health and Safety Rating System in its four groups, and bands A–J.

Pure Python, so the laptop and (through ``sync.protocol``) the portal validate alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fieldapp.domain import CATEGORY_1_BANDS, HHSRS_BANDS, HHSRS_HAZARDS, is_category_1

DEFAULT_VOCABULARY = "hhsrs-2006"

# The four groups of the HHSRS Operating Guidance (2006), by the number of hazards each
# holds in HHSRS_HAZARDS order: 10 physiological, 4 psychological, 4 infection, 11 accidents.
_GROUPS: tuple[tuple[str, int], ...] = (
    ("Physiological requirements", 10),
    ("Psychological requirements", 4),
    ("Protection against infection", 4),
    ("Protection against accidents", 11),
)
_MIN_SCORES: dict[str, int] = {"A": 5000, "B": 2000, "C": 1000, "D": 500, "E": 200, "F": 100, "G": 50, "H": 20, "I": 10, "J": 0}


def _grouped() -> list[dict[str, str]]:
    names = iter(HHSRS_HAZARDS)
    return [{"name": next(names), "group": group} for group, count in _GROUPS for _ in range(count)]


#: The vocabulary revision 2 ships (the 29 hazards and bands A–J of revision 1).
HHSRS_2006: dict[str, Any] = {
    "key": DEFAULT_VOCABULARY,
    "name": "Housing Health and Safety Rating System (England) 2006",
    "effective_from": "2006-04-06",
    "hazards": _grouped(),
    "bands": [{"band": band, "min_score": _MIN_SCORES[band], "category_1": band in CATEGORY_1_BANDS} for band in HHSRS_BANDS],
}


def hazard_names(vocabulary: Mapping[str, Any]) -> frozenset[str]:
    """The hazard names a vocabulary allows."""
    return frozenset(h["name"] for h in vocabulary.get("hazards", []) if isinstance(h, Mapping) and "name" in h)


def band_names(vocabulary: Mapping[str, Any]) -> frozenset[str]:
    """The band names a vocabulary allows."""
    return frozenset(b["band"] for b in vocabulary.get("bands", []) if isinstance(b, Mapping) and "band" in b)


def category_1_bands(vocabulary: Mapping[str, Any]) -> frozenset[str]:
    """The bands of a vocabulary that are Category 1 (the council must act)."""
    return frozenset(band for band in band_names(vocabulary) if is_category_1(band, vocabulary))


def vocabulary_problems(data: Mapping[str, Any]) -> dict[str, str]:
    """What is wrong with a vocabulary's data (beyond its shape), as ``{field: message}``."""
    problems: dict[str, str] = {}
    names = [h.get("name") for h in data.get("hazards", [])]
    if not names:
        problems["hazards"] = "List at least one hazard."
    if len(set(names)) != len(names):
        problems["hazards"] = "Each hazard name may appear only once."
    bands = [b.get("band") for b in data.get("bands", [])]
    if not bands:
        problems["bands"] = "List at least one band."
    elif len(set(bands)) != len(bands):
        problems["bands"] = "Each band may appear only once."
    return problems


def check_hazard_list(
    hazards: Sequence[Any], vocabularies: Mapping[str, Mapping[str, Any]], default_key: str = DEFAULT_VOCABULARY
) -> dict[str, str]:
    """Problems of a visit's ``hazards`` entries, keyed ``hazards.N``.

    Each entry names its ``vocabulary`` (default ``default_key``); its ``hazard`` must be
    in that vocabulary and its ``band``, when not null, one of its bands (revision 2: a
    band is never required by the regulations).
    """
    problems: dict[str, str] = {}
    for index, entry in enumerate(hazards):
        if not isinstance(entry, Mapping):
            problems[f"hazards.{index}"] = "Each hazard is an object with a hazard name and a band."
            continue
        key = entry.get("vocabulary") or default_key
        vocabulary = vocabularies.get(key)
        if vocabulary is None:
            problems[f"hazards.{index}"] = f"The hazard vocabulary {key!r} is not known; sync and choose the hazard again."
        elif entry.get("hazard") not in hazard_names(vocabulary):
            problems[f"hazards.{index}"] = f"Choose a hazard from the {vocabulary.get('name') or key} list."
        elif entry.get("band") is not None and entry.get("band") not in band_names(vocabulary):
            problems[f"hazards.{index}"] = f"Choose a band from {', '.join(sorted(band_names(vocabulary)))}, or leave it empty."
    return problems
