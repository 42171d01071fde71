"""What revision 2 adds to checking and sending a visit: the assessment rule, hidden answers, vocabularies.

* The assessment is required when the case is under Awaab's Law and the outcome is
  ``completed`` (`fieldapp.domain_assessment`, the rule the portal applies too).
* Answers to questions hidden by ``show_if`` stay in the draft while the officer
  edits (nothing typed is lost by changing another answer), but are dropped from the
  document sent (`fieldapp.visits.visit_document`).
* The visit's hazards and hazard answers name the vocabulary it is recorded under
  (`visit_vocabulary`; each entry, as PROTOCOL.md writes it, the document itself has no such field).
"""

from __future__ import annotations


from sqlalchemy.orm import Session

from fieldapp.assessment import document_assessment
from fieldapp.domain_assessment import assessment_problems
from fieldapp.domain_required import assessment_required as required_by_outcome
from fieldapp.models import CaseRow, VisitRow
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
