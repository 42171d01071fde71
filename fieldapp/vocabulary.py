"""Hazard vocabularies on the laptop: the pulled ones, and the bundled ``hhsrs-2006`` before the first pull.

The portal serves every vocabulary (PROTOCOL.md revision 2, "Vocabularies"); the
editor offers the hazards of the vocabulary a visit is recorded under. A new visit
takes the newest vocabulary in force; a visit keeps its vocabulary for good, so a
vocabulary added later never changes what an officer recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapp.clock import utc_now
from fieldapp.domain import CATEGORY_1_BANDS, HHSRS_BANDS, HHSRS_HAZARDS
from fieldapp.models import HazardVocabularyRow

DEFAULT_VOCABULARY = "hhsrs-2006"

# The four HHSRS groups and how many of the 29 hazards (in HHSRS order) each holds.
_HHSRS_GROUPS = (("Physiological requirements", 10), ("Psychological requirements", 4),
                 ("Protection against infection", 4), ("Protection against accidents", 11))
_BAND_FLOORS = {"A": 5000, "B": 2000, "C": 1000, "D": 500, "E": 200, "F": 100, "G": 50, "H": 20, "I": 10, "J": 0}


@dataclass(frozen=True)
class VocabularyHazard:
    name: str
    group: str


@dataclass(frozen=True)
class VocabularyBand:
    band: str
    min_score: float | None
    category_1: bool


@dataclass(frozen=True)
class HazardVocabulary:
    """The hazards (in their groups) and bands an officer chooses from."""

    key: str
    name: str
    effective_from: str
    hazards: tuple[VocabularyHazard, ...]
    bands: tuple[VocabularyBand, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(h.name for h in self.hazards)

    def is_category_1(self, band: str | None) -> bool:
        """True when the band is Category 1 in this vocabulary."""
        return any(b.band == band and b.category_1 for b in self.bands)


def _bundled() -> HazardVocabulary:
    groups = [group for group, count in _HHSRS_GROUPS for _ in range(count)]
    return HazardVocabulary(
        key=DEFAULT_VOCABULARY, name="HHSRS (2006)", effective_from="2006-04-06",
        hazards=tuple(VocabularyHazard(name, group) for name, group in zip(HHSRS_HAZARDS, groups, strict=True)),
        bands=tuple(VocabularyBand(b, _BAND_FLOORS[b], b in CATEGORY_1_BANDS) for b in HHSRS_BANDS))


#: The vocabulary of revision 1, shipped so the editor works before the first pull.
BUNDLED = _bundled()


def vocabulary_record(row: HazardVocabularyRow) -> HazardVocabulary:
    """A pulled vocabulary as a record."""
    return HazardVocabulary(
        key=row.key, name=row.name, effective_from=row.effective_from,
        hazards=tuple(VocabularyHazard(str(h["name"]), str(h.get("group") or "")) for h in row.hazards),
        bands=tuple(VocabularyBand(str(b["band"]), b.get("min_score"), bool(b.get("category_1")))
                    for b in row.bands))


def vocabulary(session: Session, key: str | None) -> HazardVocabulary:
    """The vocabulary named ``key`` (default ``hhsrs-2006``): pulled if here, else the bundled one."""
    wanted = key or DEFAULT_VOCABULARY
    row = session.scalar(select(HazardVocabularyRow).where(HazardVocabularyRow.key == wanted)
                         .order_by(HazardVocabularyRow.version.desc()).limit(1))
    if row is not None:
        return vocabulary_record(row)
    if wanted == DEFAULT_VOCABULARY:
        return BUNDLED
    # A visit's own vocabulary that is not here (yet): its names are shown as recorded, nothing lost.
    return HazardVocabulary(key=wanted, name=wanted, effective_from="", hazards=(), bands=BUNDLED.bands)


def current_key(session: Session) -> str:
    """The vocabulary a new visit is recorded under: the pulled one in force most recently."""
    today = utc_now().date().isoformat()
    rows = [r for r in session.scalars(select(HazardVocabularyRow)) if r.effective_from[:10] <= today]
    if not rows:
        return DEFAULT_VOCABULARY
    return max(rows, key=lambda r: (r.effective_from, r.key)).key


def document_vocabulary(document: Mapping[str, Any]) -> str | None:
    """The vocabulary a pulled visit document was recorded under (its hazards or hazard answers name it)."""
    named = [h.get("vocabulary") for h in document.get("hazards") or [] if isinstance(h, Mapping)]
    named += [v.get("vocabulary") for v in (document.get("answers") or {}).values() if isinstance(v, Mapping)]
    return next((str(key) for key in named if key), None)
