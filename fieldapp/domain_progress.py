"""How far a visit's form is done: the required questions that apply, answered or not, section by section.

What applies follows the shared rules: a question hidden by ``show_if`` does not count;
a required question of a repeat section counts once per repetition (once while the
section has none, as the submit check asks for at least one); and no question is
required for an outcome that is not an inspection (`fieldapp.domain_required`).
A section is complete when every required question that applies in it is answered; a
section with none that apply counts as complete once any of its shown questions is
answered, and a section whose questions are all hidden does not count at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# _MISSING is what FormShape.value answers for an unanswered question (kept private there).
from fieldapp.domain_forms import _MISSING, FormShape
from fieldapp.domain_required import answers_required


@dataclass(frozen=True)
class RequiredItem:
    """A required question that applies: in one repetition of a repeat section, or once."""

    question_id: str
    section_id: str
    #: The repetition (0-based) in a repeat section that has some; None otherwise.
    index: int | None
    answered: bool


@dataclass(frozen=True)
class FormProgress:
    """The numbers of the progress line and the unanswered questions in form order."""

    required_answered: int
    required_total: int
    sections_complete: int
    sections_total: int
    #: Question ids of the required questions still unanswered, in form order, each once.
    unanswered: tuple[str, ...]

    @property
    def done(self) -> bool:
        """Whether every required question that applies is answered."""
        return self.required_answered == self.required_total

    def next_unanswered(self, after: str | None = None, order: tuple[str, ...] = ()) -> str | None:
        """The first unanswered question after ``after`` in ``order`` (form order), wrapping round; None when none."""
        if not self.unanswered:
            return None
        if after is None or after not in order:
            return self.unanswered[0]
        position = order.index(after)
        later = [q for q in self.unanswered if q in order and order.index(q) > position]
        return later[0] if later else self.unanswered[0]


def required_items(template: Mapping[str, Any], answers: Mapping[str, Any], outcome: str | None) -> list[RequiredItem]:
    """Every required question that applies to the answers as they stand, in form order."""
    if not answers_required(outcome):
        return []
    shape = FormShape.of(template)
    items: list[RequiredItem] = []
    for section in template.get("sections", []):
        count = shape.repetitions(answers, section["id"]) if section.get("repeat") else 0
        indexes: list[int | None] = list(range(count)) if count else [None]
        for index in indexes:
            for question in section.get("questions", []):
                qid = question["id"]
                if not question.get("required") or not shape.is_shown(answers, qid, index):
                    continue
                answered = shape.value(answers, qid, index) is not _MISSING
                items.append(RequiredItem(qid, section["id"], index, answered))
    return items


def form_progress(template: Mapping[str, Any], answers: Mapping[str, Any], outcome: str | None) -> FormProgress:
    """The progress of a visit's form (see the module's docstring for what counts)."""
    shape = FormShape.of(template)
    items = required_items(template, answers, outcome)
    complete = total = 0
    for section in template.get("sections", []):
        questions = [q["id"] for q in section.get("questions", [])]
        shown = [q for q in questions if shape.is_shown(answers, q, 0 if section.get("repeat") else None)
                 or shape.is_shown(answers, q)]
        if not shown:
            continue
        total += 1
        own = [i for i in items if i.section_id == section["id"]]
        if own:
            complete += all(i.answered for i in own)
        else:
            complete += any(shape.value(answers, q, None) is not _MISSING for q in shown)
    unanswered = tuple(dict.fromkeys(i.question_id for i in items if not i.answered))
    return FormProgress(sum(i.answered for i in items), len(items), complete, total, unanswered)
