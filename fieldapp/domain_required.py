"""Which answers a visit needs before it is submitted, by its outcome: one rule for the laptop and the portal.

- ``completed``: every required question that applies (``show_if``, repeat sections:
  `fieldapp.domain_forms`), and the assessment where the case is under Awaab's Law
  (`fieldapp.domain_assessment.needs_assessment`).
- ``no_access``, ``refused``, ``rescheduled``: the officer did not inspect the home, so no
  question is required; what they did answer is still checked.
- No outcome chosen yet (a draft on the laptop; the portal never sees one): the rules of
  ``completed``, the outcome an inspection has unless the officer says otherwise. So the
  submit check lists everything at once — the outcome *and* the unanswered questions —
  instead of the outcome first and the questions on the next try.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fieldapp.domain import Outcome
from fieldapp.domain_assessment import needs_assessment
from fieldapp.domain_forms import validate_answers
from fieldapp.domain_vocabulary import DEFAULT_VOCABULARY


def rules_outcome(outcome: str | None) -> str:
    """The outcome whose rules apply: the visit's own, ``completed`` while none is chosen."""
    return outcome or Outcome.COMPLETED.value


def answers_required(outcome: str | None) -> bool:
    """Whether the form's required questions must be answered for a visit with this outcome."""
    return rules_outcome(outcome) == Outcome.COMPLETED


def assessment_required(awaab: bool, outcome: str | None) -> bool:
    """Whether the visit must carry an assessment (case under the regulations, the visit an inspection)."""
    return needs_assessment(awaab, rules_outcome(outcome))


def answer_problems(
    template: Mapping[str, Any],
    answers: Mapping[str, Any],
    photo_ids: Sequence[str] | None,
    outcome: str | None,
    *,
    vocabularies: Mapping[str, Mapping[str, Any]] | None = None,
    default_vocabulary: str = DEFAULT_VOCABULARY,
) -> dict[str, str]:
    """Every problem of a visit's answers at submit, the required ones following the outcome."""
    return validate_answers(template, answers, photo_ids, require_complete=answers_required(outcome),
                            vocabularies=vocabularies, default_vocabulary=default_vocabulary)
