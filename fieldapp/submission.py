"""What revision 2 adds to checking and sending a visit: the assessment rule, hidden answers, vocabularies.

* The assessment is required when the case is under Awaab's Law and the outcome is
  ``completed`` (`fieldapp.domain_assessment`, the rule the portal applies too).
* Answers to questions hidden by ``show_if`` stay in the draft while the officer
  edits (nothing typed is lost by changing another answer), but are dropped from the
  document sent (`fieldapp.domain_forms.drop_hidden`).
* The visit's hazards and hazard answers name the vocabulary it is recorded under
  (each entry, as PROTOCOL.md writes it; the document itself has no such field).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from fieldapp.assessment import document_assessment
from fieldapp.domain_assessment import assessment_problems
from fieldapp.domain_required import assessment_required as required_by_outcome
from fieldapp.domain_forms import drop_hidden
from fieldapp.models import CaseRow, TemplateRow, VisitRow
from fieldapp.domain_vocabulary import DEFAULT_VOCABULARY
from fieldapp.vocabulary import vocabulary


def visit_vocabulary(row: VisitRow) -> str:
    """The key of the vocabulary the visit is recorded under."""
    return row.vocabulary or DEFAULT_VOCABULARY


def assessment_required(session: Session, row: VisitRow) -> bool:
    """Whether the visit must carry an assessment (its case is under the regulations and it is completed)."""
    case = session.get(CaseRow, row.case_id)
    return required_by_outcome(bool(case is not None and case.awaab), row.outcome)


def visit_assessment_problems(session: Session, row: VisitRow, *, complete: bool) -> dict[str, str]:
    """``{"assessment": message}`` when the assessment stops the visit (missing only counts when ``complete``)."""
    if not complete:
        return {}  # a draft assessment is half-answered by nature: it is checked when the officer submits
    names = vocabulary(session, visit_vocabulary(row)).names
    return assessment_problems(document_assessment(row.assessment), required=assessment_required(session, row),
                               hazard_names=set(names) or None)


def _named(value: Any, key: str) -> Any:
    """A hazard answer (an object) with its vocabulary named; lists (repeat sections) answer by answer."""
    if isinstance(value, list):
        return [_named(v, key) for v in value]
    if isinstance(value, Mapping) and "hazard" in value:
        return {**value, "vocabulary": value.get("vocabulary") or key}
    return value


def finish_document(row: VisitRow, template: TemplateRow | None, document: Mapping[str, Any]) -> dict[str, Any]:
    """The visit document as revision 2 sends it: hidden answers dropped, vocabulary named."""
    key = visit_vocabulary(row)
    finished = dict(document)
    answers = dict(document.get("answers") or {})
    if template is not None:
        answers = drop_hidden({"sections": template.sections}, answers)
    finished["answers"] = {qid: _named(value, key) for qid, value in answers.items()}
    finished["hazards"] = [{**h, "vocabulary": h.get("vocabulary") or key} for h in document.get("hazards") or []]
    return finished
