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
from fieldapp.domain import is_category_1
from fieldapp.domain_vocabulary import DEFAULT_VOCABULARY, HHSRS_2006
from fieldapp.models import HazardVocabularyRow


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
        """True when the band is Category 1 in this vocabulary (the one rule, `fieldapp.domain.is_category_1`)."""
        return is_category_1(band, {"bands": [{"band": b.band, "category_1": b.category_1} for b in self.bands]})


def vocabulary_from_data(data: Mapping[str, Any]) -> HazardVocabulary:
    """A vocabulary's protocol data as a record."""
    return HazardVocabulary(
        key=str(data["key"]), name=str(data.get("name") or data["key"]),
        effective_from=str(data.get("effective_from") or ""),
        hazards=tuple(VocabularyHazard(str(h["name"]), str(h.get("group") or "")) for h in data["hazards"]),
        bands=tuple(VocabularyBand(str(b["band"]), b.get("min_score"), bool(b.get("category_1")))
                    for b in data.get("bands") or []))


#: The vocabulary of revision 1 (`fieldapp.domain_vocabulary`), used before the first pull.
BUNDLED = vocabulary_from_data(HHSRS_2006)


def _row_data(row: HazardVocabularyRow) -> dict[str, Any]:
    return {"key": row.key, "name": row.name, "effective_from": row.effective_from, "hazards": row.hazards,
            "bands": row.bands}


def _newest_rows(session: Session) -> dict[str, HazardVocabularyRow]:
    rows: dict[str, HazardVocabularyRow] = {}
    for row in session.scalars(select(HazardVocabularyRow).order_by(HazardVocabularyRow.version)):
        rows[row.key] = row
    return rows


def vocabularies_data(session: Session) -> dict[str, dict[str, Any]]:
    """Every vocabulary here by key, as the shared validation takes them (the bundled one unless pulled)."""
    known: dict[str, dict[str, Any]] = {DEFAULT_VOCABULARY: dict(HHSRS_2006)}
    known.update({key: _row_data(row) for key, row in _newest_rows(session).items()})
    return known


def vocabulary(session: Session, key: str | None) -> HazardVocabulary:
    """The vocabulary named ``key`` (default ``hhsrs-2006``): pulled if here, else the bundled one."""
    wanted = key or DEFAULT_VOCABULARY
    row = session.scalar(select(HazardVocabularyRow).where(HazardVocabularyRow.key == wanted)
                         .order_by(HazardVocabularyRow.version.desc()).limit(1))
    if row is not None:
        return vocabulary_from_data(_row_data(row))
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
