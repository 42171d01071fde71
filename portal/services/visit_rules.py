"""What a submitted visit must satisfy beyond its shape (PROTOCOL.md, revision 2 included).

Answers against the template (``show_if``, repeat sections, the hazard vocabulary), the
visit's hazard list against the vocabularies it names, and the assessment where the
case is under Awaab's Law: one dictionary of problems, keyed as ``invalid_answers``
names them (question ids, ``hazards.N``, ``assessment``). The checks themselves are the
shared rules of ``fieldapp`` (through ``sync.protocol``), as the laptop runs them.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import HazardVocabularyRow
from sync.protocol import (
    DEFAULT_VOCABULARY,
    VisitDocument,
    answer_problems,
    assessment_problems,
    assessment_required,
    check_hazard_list,
    drop_hidden,
    hazard_names,
)

# Vocabularies never change once created (a new one has a new key): kept per process,
# read again only when a visit names a key this process has not seen.
_VOCABULARIES: dict[str, dict[str, Any]] = {}
_LOCK = threading.Lock()


def vocabularies(session: Session, wanted: set[str]) -> dict[str, dict[str, Any]]:
    """The stored vocabularies, read from the database when one of ``wanted`` is not cached."""
    with _LOCK:
        if wanted <= set(_VOCABULARIES):
            return dict(_VOCABULARIES)
    rows = {row.key: row.data() for row in session.scalars(select(HazardVocabularyRow))}
    with _LOCK:
        _VOCABULARIES.update(rows)
        return dict(_VOCABULARIES)


def visit_problems(session: Session, template: dict[str, Any], doc: VisitDocument, *, awaab: bool) -> dict[str, str]:
    """Every problem of the visit's answers, hazards and assessment (empty when it may be stored)."""
    default = doc.vocabulary or DEFAULT_VOCABULARY
    hazards = [h.model_dump() for h in doc.hazards]
    wanted = {default} | {h["vocabulary"] for h in hazards if h.get("vocabulary")}
    wanted |= {a["vocabulary"] for a in doc.answers.values() if isinstance(a, dict) and isinstance(a.get("vocabulary"), str)}
    known = vocabularies(session, wanted)
    # Which questions are required follows the outcome: the laptop's rule (fieldapp.domain_required).
    problems = answer_problems(template, doc.answers, [p.id for p in doc.photos], doc.outcome,
                               vocabularies=known, default_vocabulary=default)
    problems.update(check_hazard_list(hazards, known, default))
    names = hazard_names(known[default]) if default in known else frozenset()
    problems.update(assessment_problems(doc.assessment, required=assessment_required(awaab, doc.outcome), hazard_names=names))
    return problems


def stored_document(template: dict[str, Any], doc: VisitDocument) -> dict[str, Any]:
    """The visit document as stored: answers to hidden questions dropped (PROTOCOL "Templates")."""
    document = doc.model_dump(mode="json")
    document["answers"] = drop_hidden(template, document["answers"])
    return document
