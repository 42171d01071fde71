"""Everything the visit review view shows, gathered in one database call.

`load_review` runs on the database executor and returns a frozen `ReviewData`, so the
view renders from plain records and never touches the store itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from fieldapp.errors import FieldappError
from fieldapp.types import Question, ReviewItem, Template, Visit, VisitChanges

if TYPE_CHECKING:
    from fieldapp.store import FieldStore


@dataclass(frozen=True)
class ReviewData:
    """A visit with its template (for labels), its queue row and what changed since a return."""

    visit: Visit
    template: Template | None
    item: ReviewItem | None
    changes: VisitChanges | None

    def question(self, question_id: str) -> Question | None:
        """The template's question with this id, if the template is known."""
        if self.template is None:
            return None
        for section in self.template.sections:
            for question in section.questions:
                if question.id == question_id:
                    return question
        return None

    def question_label(self, question_id: str) -> str:
        """The question's label, or its id when the template is not on this laptop."""
        question = self.question(question_id)
        return question.label if question else question_id


def load_review(store: FieldStore, visit_id: str, item: ReviewItem | None = None) -> ReviewData:
    """Read a visit, its template and its changes since a return (database thread)."""
    visit = store.visit(visit_id)
    template = None
    try:
        template = next((t for t in store.templates_for(visit.case_id) if t.id == visit.template_id), None)
    except FieldappError:
        # The case may have left the lead's scope; answers are then shown by question id.
        template = None
    changes = store.visit_changes(visit_id)
    return ReviewData(visit=visit, template=template, item=item, changes=changes)
