"""One visit as the web page shows it: the case, its clocks, the answers by section, hazards,
assessment, photos, written summary and review, and whether the caller may decide it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapp.clocks import clocks_of, stage_text, time_left_text
from portal.models import CaseRow, PropertyRow, TemplateRow, UserRow, VisitRow
from portal.services.push import submitted_by
from portal.services.scope import Caller
from portal.web.queue import address_of
from portal.web.reach import visits_reached
from portal.web.standing import standing, working_days
from sync.protocol import VisitStatus, date_answer_text, visit_hazards

_ASSESSMENT_LABELS = {
    "finding": "Finding", "hazards": "Hazards assessed", "reasons": "Reasons",
    "household_factors": "Household factors", "make_safe_done": "Made safe at the visit",
    "safety_work": "Safety work", "supplementary_work": "Supplementary work",
    "alternative_accommodation": "Alternative accommodation needed",
}


@dataclass(frozen=True)
class Answer:
    label: str
    values: tuple[str, ...]  # one per room in a repeated section


@dataclass(frozen=True)
class Section:
    title: str
    answers: tuple[Answer, ...]


@dataclass
class VisitView:
    """What the visit page shows."""

    visit: VisitRow
    case: CaseRow
    address: str
    officer_name: str
    template_name: str
    clocks: list[dict[str, Any]]
    sections: list[Section]
    hazards: list[dict[str, Any]]
    assessment: list[tuple[str, str]]
    photos: list[dict[str, Any]]
    lead_name: str = ""
    #: Why the caller may not decide it (a sentence), or "" when they may.
    decide_refusal: str = ""


def text_of(value: Any) -> str:
    """An answer value in words."""
    if value is None or value == "" or value == []:
        return "Not answered"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, dict):
        band = value.get("band")
        return f"{value.get('hazard', '')}{f' (band {band})' if band else ''}"
    if isinstance(value, list):
        return ", ".join(text_of(v) for v in value)
    return str(value)


def _sections(template: dict[str, Any] | None, answers: dict[str, Any], photo_numbers: dict[str, int]) -> list[Section]:
    def value_text(kind: str, value: Any) -> str:
        if kind == "photo" and isinstance(value, list):
            return ", ".join(f"Photo {photo_numbers[p]}" for p in value if p in photo_numbers) or "No photo"
        if kind == "date" and isinstance(value, str):
            return date_answer_text(value)
        return text_of(value)

    if template is None:  # a template the portal no longer has: the answers by id
        return [Section("Answers", tuple(Answer(k, (text_of(v),)) for k, v in answers.items()))]
    sections = []
    for section in template.get("sections", []):
        rows = []
        for question in section.get("questions", []):
            if question["id"] not in answers:
                continue
            value = answers[question["id"]]
            kind = str(question.get("kind", ""))
            values = [value_text(kind, v) for v in value] if section.get("repeat") and isinstance(value, list) else [value_text(kind, value)]
            rows.append(Answer(str(question.get("label", question["id"])), tuple(values)))
        if rows:
            sections.append(Section(str(section.get("title", "")), tuple(rows)))
    return sections


def _question_labels(template: dict[str, Any] | None) -> dict[str, str]:
    return {q["id"]: str(q.get("label", q["id"])) for s in (template or {}).get("sections", []) for q in s.get("questions", [])}


def _hazards(doc: dict[str, Any], labels: dict[str, str]) -> list[dict[str, Any]]:
    """Every hazard of the visit (its list, then hazard answers: ``visit_hazards``), with where it was recorded."""
    return [{"hazard": h.hazard, "band": h.band, "category_1": h.category_1, "location": h.location, "notes": h.notes,
             "recorded": f"Answer: {labels.get(h.question_id, h.question_id)}" if h.question_id else "Hazards list"}
            for h in visit_hazards(doc.get("hazards") or [], doc.get("answers") or {}) if h.hazard]


def _decide_refusal(session: Session, caller: Caller, visit: VisitRow) -> str:
    if caller.is_admin:
        return "Managers see reviews; the team's lead decides them."
    if visit.status != VisitStatus.SUBMITTED:
        return f"This visit is {visit.status}; there is nothing to decide."
    if submitted_by(session, visit, caller.id):
        return "You submitted this visit (or the visit it amends); another lead of your team must decide it."
    return ""


def visit_view(session: Session, caller: Caller, visit_id: str, now: datetime) -> VisitView | None:
    """The visit, or None when it does not exist or the caller does not reach it."""
    visit = session.scalar(select(VisitRow).where(VisitRow.id == visit_id, visits_reached(caller)))
    if visit is None:
        return None
    case = session.get(CaseRow, visit.case_id)
    assert case is not None  # a visit's case is a foreign key
    officer = session.get(UserRow, visit.officer_id)
    template = session.get(TemplateRow, visit.document.get("template_id"))
    doc = visit.document
    photos = [{"number": n, **p} for n, p in enumerate(doc.get("photos") or [], start=1)]
    numbers = {p["id"]: p["number"] for p in photos}
    labels = _question_labels(template.data() if template else None)
    holidays = working_days(session)
    clocks = [{"stage": stage_text(c.stage), "due": c.due_at, "state": standing(c, now, holidays), "left": time_left_text(c, now),
               "basis": c.basis} for c in clocks_of(case.clocks or [])]
    assessment = doc.get("assessment") or {}
    lead = session.get(UserRow, (visit.review or {}).get("lead_id")) if visit.review else None
    view = VisitView(
        visit=visit, case=case, address=address_of(session.get(PropertyRow, case.property_id)),
        officer_name=officer.display_name if officer else "", template_name=template.name if template else "",
        clocks=clocks, sections=_sections(template.data() if template else None, doc.get("answers") or {}, numbers),
        hazards=_hazards(doc, labels),
        assessment=[(_ASSESSMENT_LABELS.get(k, k.replace("_", " ").capitalize()), text_of(v)) for k, v in assessment.items()],
        photos=photos, lead_name=lead.display_name if lead else "",
    )
    view.decide_refusal = _decide_refusal(session, caller, visit)
    return view
