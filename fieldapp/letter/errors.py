"""Why a letter cannot be made: each error names what to fix, and no PDF is produced."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fieldapp.errors import FieldappError


class LetterError(FieldappError):
    """The tenant's letter cannot be made from this visit; ``code`` says which kind of fix is needed."""

    #: The visit itself must change (no assessment, not an inspection): the portal answers 409.
    code = "letter_unavailable"

    def __init__(self, message: str, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})


class NoAssessmentError(LetterError):
    """The visit records no assessment, so the letter could not say what was found."""

    code = "no_assessment"


class LetterPhotoError(LetterError):
    """A photo the letter shows is not available (``details["hashes"]`` names it)."""

    code = "blob_missing"


class LetterTemplateError(LetterError):
    """The council's letter template is broken; the message names the file and the key."""

    code = "letter_template_invalid"
