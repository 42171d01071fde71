"""Which hazards Awaab's Law covers, and from when: the phase schedule, held as data.

The schedule is the one ``awaab_schedule`` record (PROTOCOL.md revision 2): phases with
the day they come into force, the significant hazards they add, and which emergency
hazards they cover ("all"). A hazard is in force at a moment when a phase that names it
started on or before that moment's Europe/London date; phases add up, so Phase 2 lists
only what it adds to Phase 1. An admin replaces the schedule (``PUT
/admin/awaab-schedule``) to add Phase 3 when its date is set: no release needed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")

#: The schedule this release ships (SI 2025/1042 and the government's guidance).
SHIPPED_SCHEDULE: dict[str, Any] = {
    "phases": [
        {"phase": 1, "from": "2025-10-27", "significant_hazards": ["Damp and mould growth"], "emergency": "all"},
        {"phase": 2, "from": "2026-11-30", "significant_hazards": [
            "Excess cold", "Excess heat",
            "Falls associated with baths", "Falls on level surfaces", "Falls on stairs", "Falls between levels",
            "Structural collapse and falling elements", "Explosions", "Fire", "Flames and hot surfaces",
            "Electrical hazards", "Domestic hygiene, pests and refuse", "Food safety",
            "Personal hygiene, sanitation and drainage",
        ], "emergency": "all"},
    ],
}


@dataclass(frozen=True)
class InForce:
    """What the regulations cover on one day."""

    significant: dict[str, Any]  # hazard name -> the phase that brought it in
    emergency_all: Any | None  # the first phase covering every emergency hazard, or None
    emergency_named: dict[str, Any]  # emergency hazard name -> phase (phases that list names)

    def significant_phase(self, hazards: Iterable[str]) -> Any | None:
        """The earliest phase under which one of the hazards is significant, or None."""
        phases = [self.significant[h] for h in hazards if h in self.significant]
        return min(phases, key=_phase_order) if phases else None

    def emergency_phase(self, hazards: Iterable[str]) -> Any | None:
        """The phase under which an emergency about these hazards is covered, or None."""
        if self.emergency_all is not None:
            return self.emergency_all
        phases = [self.emergency_named[h] for h in hazards if h in self.emergency_named]
        return min(phases, key=_phase_order) if phases else None


def _phase_order(phase: Mapping[str, Any]) -> str:
    return str(phase["from"])


def london_day(moment: datetime) -> date:
    """The Europe/London calendar date of an aware moment."""
    return moment.astimezone(LONDON).date()


def in_force(schedule: Mapping[str, Any], day: date) -> InForce:
    """What the schedule covers on ``day`` (a London date)."""
    significant: dict[str, Any] = {}
    emergency_all = None
    named: dict[str, Any] = {}
    for phase in sorted(schedule.get("phases", []), key=_phase_order):
        if date.fromisoformat(phase["from"]) > day:
            continue
        for name in phase.get("significant_hazards", []):
            significant.setdefault(name, phase)
        emergency = phase.get("emergency", "all")
        if emergency == "all":
            emergency_all = emergency_all or phase
        else:
            for name in emergency or []:
                named.setdefault(name, phase)
    return InForce(significant, emergency_all, named)


def phase_label(phase: Mapping[str, Any]) -> str:
    """``Phase 2, in force from 2026-11-30``."""
    return f"Phase {phase['phase']}, in force from {phase['from']}"


def is_awaab(schedule: Mapping[str, Any], aware_at: datetime, priority: str, reported_hazards: Iterable[str]) -> bool:
    """Whether a case is under the regulations: its priority and reported hazards against the schedule at ``aware_at``."""
    hazards = list(reported_hazards)
    covered = in_force(schedule, london_day(aware_at))
    if priority == "emergency" and covered.emergency_phase(hazards) is not None:
        return True
    return covered.significant_phase(hazards) is not None


def schedule_problems(schedule: Mapping[str, Any], known_hazards: frozenset[str]) -> dict[str, str]:
    """What is wrong with a schedule beyond its shape: unknown hazards, duplicate phases, bad dates."""
    problems: dict[str, str] = {}
    seen: set[str] = set()
    for index, phase in enumerate(schedule.get("phases", [])):
        where = f"phases.{index}"
        try:
            date.fromisoformat(phase["from"])
        except ValueError:
            problems[f"{where}.from"] = "Give the day the phase comes into force as YYYY-MM-DD."
        if str(phase["phase"]) in seen:
            problems[f"{where}.phase"] = f"Phase {phase['phase']} is listed twice."
        seen.add(str(phase["phase"]))
        names = list(phase.get("significant_hazards", []))
        if phase.get("emergency") != "all":
            names += list(phase.get("emergency") or [])
        strange = sorted(set(names) - known_hazards)
        if strange:
            problems[f"{where}.significant_hazards"] = f"Not hazards of any vocabulary: {', '.join(strange)}."
    return problems
