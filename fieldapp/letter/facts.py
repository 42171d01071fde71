"""What a tenant's letter says, taken from protocol-shaped records (PROTOCOL.md revision 2).

Both sides build the letter from the same shapes: the portal from its stored records,
the laptop from its local copies of them. So one visit gives one letter wherever it is
made. Nothing here formats or lays out text; that is `fieldapp.letter.render`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fieldapp.clock import parse_optional, parse_timestamp
from fieldapp.letter.errors import LetterError, NoAssessmentError

FINDINGS = ("emergency", "significant", "not_significant", "no_hazard")

#: The clocks a letter reports, in the order the council works through them. The
#: ``investigate`` clock is met by the visit itself and ``summary`` by this letter.
WORK_STAGES = ("safety_work", "supplementary_start", "supplementary_works")


@dataclass(frozen=True)
class LetterHazard:
    """A hazard found, with where in the home it was seen (empty when not recorded)."""

    name: str
    locations: tuple[str, ...] = ()


@dataclass(frozen=True)
class LetterStep:
    """Something the council will do, with its deadline when the portal has set one."""

    stage: str                   # one of WORK_STAGES
    what: str                    # the officer's description of the work ("" when none was written)
    due_at: datetime | None      # None until the portal has computed the clock (offline, at the door)
    met_at: datetime | None


@dataclass(frozen=True)
class LetterPhoto:
    """A photo of the visit that the letter shows."""

    id: str
    sha256: str
    content_type: str
    caption: str


@dataclass(frozen=True)
class LetterFacts:
    """Everything the letter says about this inspection, independent of the council's wording."""

    visit_id: str
    reference: str
    tenant_names: tuple[str, ...]
    address_lines: tuple[str, ...]
    inspected_at: datetime
    officer_name: str
    finding: str                 # one of FINDINGS
    hazards: tuple[LetterHazard, ...]
    reasons: str
    household_factors: tuple[str, ...]
    make_safe_done: bool
    alternative_accommodation: bool
    emergency: bool              # the case is an emergency (its safety work runs from when the council knew)
    steps: tuple[LetterStep, ...]
    photos: tuple[LetterPhoto, ...]


def letter_facts(
    visit_id: str,
    visit: Mapping[str, Any],
    case: Mapping[str, Any],
    property_data: Mapping[str, Any],
    residents: Sequence[Mapping[str, Any]],
    officer_name: str,
) -> LetterFacts:
    """The letter's facts from a visit document, its case, property and residents (``data`` shapes).

    Raises `LetterError` when the visit was not an inspection (no access, refused...)
    and `NoAssessmentError` when it records no assessment.
    """
    outcome = visit.get("outcome")
    if outcome != "completed":
        shown = str(outcome or "not recorded").replace("_", " ")
        raise LetterError(
            f"This visit's outcome is {shown!r}: there was no inspection to summarise. The letter is made "
            "from a completed visit; record the inspection, then make the letter.", {"outcome": outcome})
    assessment = visit.get("assessment")
    if not isinstance(assessment, Mapping) or assessment.get("finding") not in FINDINGS:
        raise NoAssessmentError(
            "This visit has no assessment, so the letter cannot say what was found. Open the visit, "
            "record the assessment (the finding and the hazards), submit it, then make the letter.",
            {"field": "assessment"})
    finding = str(assessment["finding"])
    clocks = {c.get("stage"): c for c in case.get("clocks") or [] if isinstance(c, Mapping)}
    return LetterFacts(
        visit_id=visit_id,
        reference=str(case.get("reference") or ""),
        tenant_names=tuple(str(r["full_name"]) for r in residents if r.get("full_name")),
        address_lines=(*(str(line) for line in property_data.get("address_lines") or []),
                       str(property_data.get("town") or ""), str(property_data.get("postcode") or "")),
        inspected_at=parse_timestamp(str(visit.get("completed_at") or visit["started_at"])),
        officer_name=officer_name,
        finding=finding,
        hazards=_hazards(assessment, visit),
        reasons=str(assessment.get("reasons") or "").strip(),
        household_factors=tuple(str(f) for f in assessment.get("household_factors") or [] if str(f).strip()),
        make_safe_done=bool(assessment.get("make_safe_done")),
        alternative_accommodation=bool(assessment.get("alternative_accommodation")),
        emergency=case.get("priority") == "emergency" or finding == "emergency",
        steps=_steps(finding, assessment, clocks),
        photos=tuple(LetterPhoto(id=str(p["id"]), sha256=str(p["sha256"]),
                                 content_type=str(p.get("content_type") or "image/jpeg"),
                                 caption=str(p.get("caption") or "")) for p in visit.get("photos") or []),
    )


def _hazards(assessment: Mapping[str, Any], visit: Mapping[str, Any]) -> tuple[LetterHazard, ...]:
    """The assessment's hazards, each with the locations the officer gave it in the visit's hazard list."""
    locations: dict[str, list[str]] = {}
    for entry in visit.get("hazards") or []:
        where = str(entry.get("location") or "").strip()
        if where and where not in locations.setdefault(str(entry.get("hazard")), []):
            locations[str(entry.get("hazard"))].append(where)
    names = [str(n) for n in assessment.get("hazards") or []]
    return tuple(LetterHazard(name, tuple(locations.get(name, ()))) for name in dict.fromkeys(names))


def _steps(finding: str, assessment: Mapping[str, Any], clocks: Mapping[Any, Mapping[str, Any]]) -> tuple[LetterStep, ...]:
    """The work the council owes, by the assessment; deadlines from the case's clocks where known."""
    wanted: list[tuple[str, str]] = []
    if finding in ("emergency", "significant"):
        wanted.append(("safety_work", str(assessment.get("safety_work") or "").strip()))
    supplementary = str(assessment.get("supplementary_work") or "").strip()
    if supplementary:
        wanted += [("supplementary_start", supplementary), ("supplementary_works", supplementary)]
    steps = []
    for stage, what in wanted:
        clock = clocks.get(stage) or {}
        steps.append(LetterStep(stage=stage, what=what, due_at=parse_optional(clock.get("due_at")),
                                met_at=parse_optional(clock.get("met_at"))))
    return tuple(steps)
