"""Templates of revision 2 (PROTOCOL.md "Templates"): ``show_if`` questions and ``repeat`` sections.

- A question with ``"show_if": {"question_id", "equals"}`` is shown, and can be
  required, only while the named question's answer equals the value (for a
  ``multi_choice`` answer: contains it). A question controlled by a hidden question is
  hidden too. Answers to hidden questions are not required, not checked, and dropped on
  submit (``drop_hidden``).
- A section with ``"repeat": true`` is answered once per repetition (room by room): each
  of its answers is a list ``[value per repetition]``, ``null`` where a repetition leaves
  the question unanswered. A ``show_if`` between two questions of one repeat section is
  decided per repetition. A required question of a repeat section needs an answer in
  every repetition, and at least one repetition.

``validate_answers`` (re-exported by ``fieldapp.domain``) checks a visit's answers with
these rules; the laptop and the portal both call it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fieldapp.domain import QuestionKind, check_value, is_blank
from fieldapp.domain_vocabulary import DEFAULT_VOCABULARY, HHSRS_2006

_MISSING = object()


@dataclass(frozen=True)
class FormShape:
    """A template's questions by id, and which section each repeat question belongs to."""

    questions: dict[str, Mapping[str, Any]]
    #: question id -> id of its repeat section (questions of plain sections are absent).
    repeated: dict[str, str]

    @classmethod
    def of(cls, template: Mapping[str, Any]) -> "FormShape":
        """The shape of a template's data."""
        questions: dict[str, Mapping[str, Any]] = {}
        repeated: dict[str, str] = {}
        for section in template.get("sections", []):
            for question in section.get("questions", []):
                questions[question["id"]] = question
                if section.get("repeat"):
                    repeated[question["id"]] = section["id"]
        return cls(questions, repeated)

    def repetitions(self, answers: Mapping[str, Any], section_id: str) -> int:
        """How many repetitions a repeat section's answers hold (the longest list)."""
        lengths = [len(v) for q, v in answers.items() if self.repeated.get(q) == section_id and isinstance(v, list)]
        return max(lengths, default=0)

    def value(self, answers: Mapping[str, Any], question_id: str, index: int | None) -> Any:
        """A question's answer (in one repetition when ``index`` is given and it repeats); _MISSING when none."""
        value = answers.get(question_id, _MISSING)
        if question_id in self.repeated and index is not None:
            if not isinstance(value, list) or index >= len(value):
                return _MISSING
            value = value[index]
        return _MISSING if value is _MISSING or is_blank(value) else value

    def is_shown(self, answers: Mapping[str, Any], question_id: str, index: int | None = None, _depth: int = 0) -> bool:
        """Whether a question is shown given the answers (in repetition ``index`` of its section)."""
        condition = self.questions[question_id].get("show_if")
        if not condition:
            return True
        parent = condition.get("question_id")
        if parent not in self.questions or _depth > len(self.questions):
            return False  # a condition on nothing (or a cycle) never shows the question
        # Per repetition only when both questions repeat in the same section.
        same_section = index is not None and self.repeated.get(parent) == self.repeated.get(question_id)
        parent_index = index if same_section else None
        if not self.is_shown(answers, parent, parent_index, _depth + 1):
            return False
        value = self.value(answers, parent, parent_index)
        if value is _MISSING:
            return False
        wanted = condition.get("equals")
        if isinstance(value, list) and self.questions[parent].get("kind") == QuestionKind.MULTI_CHOICE:
            return wanted in value
        if isinstance(value, list) and parent in self.repeated and not same_section:
            return wanted in value  # a repeat answer seen from outside: shown if any repetition matches
        # True == 1 in Python, but a yes/no answer does not equal a number.
        return value == wanted and isinstance(value, bool) == isinstance(wanted, bool)


def is_shown(template: Mapping[str, Any], answers: Mapping[str, Any], question_id: str, index: int | None = None) -> bool:
    """Whether a question of the template is shown given the answers (``index``: the repetition)."""
    return FormShape.of(template).is_shown(answers, question_id, index)


def drop_hidden(template: Mapping[str, Any], answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers without those to hidden questions (what a submit keeps).

    In a repeat section a hidden repetition's value becomes ``null``; a list left with
    nothing but nulls is dropped. Answers to questions the template lacks are kept (the
    validation reports them).
    """
    shape = FormShape.of(template)
    kept: dict[str, Any] = {}
    for question_id, value in answers.items():
        if question_id not in shape.questions:
            kept[question_id] = value
        elif question_id in shape.repeated and isinstance(value, list):
            values = [v if shape.is_shown(answers, question_id, i) else None for i, v in enumerate(value)]
            if any(not is_blank(v) for v in values):
                kept[question_id] = values
        elif shape.is_shown(answers, question_id):
            kept[question_id] = value
    return kept


def _vocabulary_terms(vocabularies: Mapping[str, Mapping[str, Any]] | None) -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    from fieldapp.domain_vocabulary import band_names, hazard_names

    known = vocabularies if vocabularies is not None else {DEFAULT_VOCABULARY: HHSRS_2006}
    return {key: (hazard_names(v), band_names(v)) for key, v in known.items()}


def validate_answers(
    template: Mapping[str, Any],
    answers: Mapping[str, Any],
    photo_ids: Sequence[str] | None = None,
    *,
    require_complete: bool = True,
    vocabularies: Mapping[str, Mapping[str, Any]] | None = None,
    default_vocabulary: str = DEFAULT_VOCABULARY,
) -> dict[str, str]:
    """Check answers against a template's questions; returns ``{question_id: message}``.

    An empty result means the answers are valid. ``template`` is the template's data
    (``sections`` of ``questions``). With ``require_complete`` false, unanswered
    required questions are not reported (a draft may be incomplete). ``photo_ids``,
    when given, are the ids of the visit's photos that photo questions may refer to.
    ``vocabularies`` (key -> vocabulary data; default: ``hhsrs-2006`` alone) name the
    hazards and bands a ``hazard`` answer may use; an answer names its ``vocabulary``,
    else ``default_vocabulary``. Hidden questions (``show_if``) are neither checked nor
    required; repeat sections are checked repetition by repetition.
    """
    shape = FormShape.of(template)
    ids = frozenset(photo_ids) if photo_ids is not None else None
    terms = _vocabulary_terms(vocabularies)
    problems: dict[str, str] = {}

    def check(question_id: str, value: Any, where: str) -> None:
        message = check_value(shape.questions[question_id], value, ids, terms, default_vocabulary)
        if message:
            problems[question_id] = f"{where}{message}"

    for question_id, value in answers.items():
        if question_id not in shape.questions:
            problems[question_id] = "This question is not part of the template."
        elif question_id in shape.repeated:
            if not isinstance(value, list):
                problems[question_id] = "This question repeats: give a list with one answer per repetition."
                continue
            for index, item in enumerate(value):
                if not is_blank(item) and shape.is_shown(answers, question_id, index) and question_id not in problems:
                    check(question_id, item, f"Repetition {index + 1}: ")
        elif not is_blank(value) and shape.is_shown(answers, question_id):
            check(question_id, value, "")
    if require_complete:
        for question_id, question in shape.questions.items():
            if not question.get("required") or question_id in problems:
                continue
            missing = _missing_repetition(shape, answers, question_id)
            if missing is not None:
                problems[question_id] = missing
    return problems


def _missing_repetition(shape: FormShape, answers: Mapping[str, Any], question_id: str) -> str | None:
    """The message for a required question left unanswered where it is shown, else None."""
    section = shape.repeated.get(question_id)
    if section is None:
        if shape.is_shown(answers, question_id) and shape.value(answers, question_id, None) is _MISSING:
            return "This question must be answered."
        return None
    count = shape.repetitions(answers, section)
    if count == 0:
        if not shape.is_shown(answers, question_id):
            return None
        return "Record at least one repetition of this section and answer this question in it."
    for index in range(count):
        if shape.is_shown(answers, question_id, index) and shape.value(answers, question_id, index) is _MISSING:
            return f"Repetition {index + 1}: this question must be answered."
    return None
