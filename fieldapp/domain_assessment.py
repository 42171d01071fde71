"""The assessment of a visit (PROTOCOL.md revision 2, "Assessment"): the question Awaab's Law turns on.

``{"finding": "emergency" | "significant" | "not_significant" | "no_hazard",
"hazards": [names], "reasons", "household_factors": [strings], "make_safe_done",
"safety_work", "supplementary_work" | null, "alternative_accommodation"}``, recorded
on the visit. It is required when the case is under the regulations (``awaab``) and
the visit's outcome is ``completed``. One check, used by the laptop's editor and store
and by the portal's push: problems are keyed ``assessment`` (as ``invalid_answers``
names it) with one sentence that says what to fix.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from enum import StrEnum
from typing import Any

ASSESSMENT_KEY = "assessment"


class Finding(StrEnum):
    """What the officer found, for this household."""

    EMERGENCY = "emergency"
    SIGNIFICANT = "significant"
    NOT_SIGNIFICANT = "not_significant"
    NO_HAZARD = "no_hazard"


#: Findings that start the safety-work clock and need the hazards and reasons named.
HAZARD_FINDINGS = frozenset({Finding.EMERGENCY, Finding.SIGNIFICANT})

#: The groups the government's guidance names as at greater risk (offered by the editor;
#: the field takes any short strings).
HOUSEHOLD_FACTORS: tuple[str, ...] = (
    "Children in the household",
    "Pregnancy",
    "Older people",
    "Respiratory illness",
    "Disability",
    "Weakened immune system",
)

_FIELDS = frozenset({
    "finding", "hazards", "reasons", "household_factors", "make_safe_done",
    "safety_work", "supplementary_work", "alternative_accommodation",
})


def needs_assessment(awaab: bool, outcome: str | None) -> bool:
    """Whether a visit must carry an assessment: the case is under the regulations and the visit completed."""
    return bool(awaab) and outcome == "completed"


def _shape_problem(assessment: Mapping[str, Any], hazard_names: Collection[str] | None) -> str | None:
    unknown = sorted(set(assessment) - _FIELDS)
    if unknown:
        return f"The assessment has fields it does not know: {', '.join(unknown)}."
    if assessment.get("finding") not in {f.value for f in Finding}:
        return "Say what you found: emergency, significant, not significant or no hazard."
    hazards = assessment.get("hazards", [])
    if not isinstance(hazards, list) or not all(isinstance(h, str) for h in hazards):
        return "List the assessed hazards by name."
    if hazard_names is not None:
        strange = [h for h in hazards if h not in hazard_names]
        if strange:
            return f"Choose the assessed hazards from the hazard list (not {', '.join(strange)})."
    factors = assessment.get("household_factors", [])
    if not isinstance(factors, list) or not all(isinstance(f, str) for f in factors):
        return "List the household's risk factors as short texts."
    for name in ("reasons", "safety_work"):
        if not isinstance(assessment.get(name, ""), str):
            return f"Write the {name.replace('_', ' ')} as text."
    if not isinstance(assessment.get("supplementary_work"), (str, type(None))):
        return "Write the supplementary work as text, or leave it empty when none is needed."
    for name in ("make_safe_done", "alternative_accommodation"):
        if not isinstance(assessment.get(name, False), bool):
            return f"Answer {name.replace('_', ' ')} with yes or no."
    return None


def assessment_problems(
    assessment: Any,
    *,
    required: bool,
    hazard_names: Collection[str] | None = None,
) -> dict[str, str]:
    """What is wrong with a visit's assessment, as ``{"assessment": message}`` (empty when fine).

    ``required``: the visit must have one (see ``needs_assessment``). ``hazard_names``:
    the vocabulary's hazards the assessment may name (None: not checked). An emergency
    or significant finding names at least one hazard and gives the reasons.
    """
    if assessment is None:
        if required:
            return {ASSESSMENT_KEY: "This case is under Awaab's Law: record the assessment (emergency, significant or neither, and why) before submitting."}
        return {}
    if not isinstance(assessment, Mapping):
        return {ASSESSMENT_KEY: "The assessment must be a set of answers (finding, hazards, reasons …)."}
    problem = _shape_problem(assessment, hazard_names)
    if problem is None and assessment["finding"] in HAZARD_FINDINGS:
        if not assessment.get("hazards"):
            problem = "Name the hazard you found to be an emergency or significant."
        elif not str(assessment.get("reasons", "")).strip():
            problem = "Say why the hazard is an emergency or significant for this household."
    return {ASSESSMENT_KEY: problem} if problem else {}


def has_supplementary_work(assessment: Mapping[str, Any]) -> bool:
    """Whether the assessment lists supplementary work (which starts two clocks)."""
    work = assessment.get("supplementary_work")
    return isinstance(work, str) and bool(work.strip())


def needs_summary(assessment: Mapping[str, Any]) -> bool:
    """Whether the tenant must get a written summary: always, unless no hazard was found and the work is done.

    "The work is done": nothing supplementary is outstanding, and any safety work was
    done at the visit (``make_safe_done``) or none was needed.
    """
    if assessment.get("finding") != Finding.NO_HAZARD:
        return True
    safety = str(assessment.get("safety_work") or "").strip()
    work_done = not has_supplementary_work(assessment) and (not safety or bool(assessment.get("make_safe_done")))
    return not work_done
