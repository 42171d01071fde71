"""The tenant's written summary (Awaab's Law): one renderer for the portal and the laptop.

``letter_facts`` takes protocol-shaped records (a visit document, its case, property and
residents) and gives what the letter says; ``load_template`` the council's wording;
``render_letter`` the PDF. No Qt and no network here: the portal serves the bytes, the
laptop previews, prints and saves them.
"""

from typing import TYPE_CHECKING

from fieldapp.letter.errors import LetterError, LetterPhotoError, LetterTemplateError, NoAssessmentError
from fieldapp.letter.facts import LetterFacts, LetterHazard, LetterPhoto, LetterStep, letter_facts
from fieldapp.letter.template import LetterTemplate, load_template

if TYPE_CHECKING:
    from fieldapp.letter.render import PhotoSource as PhotoSource
    from fieldapp.letter.render import render_letter as render_letter



def __getattr__(name: str) -> object:
    # The renderer loads reportlab and Pillow: only what draws a letter pays for them, not a
    # headless `fieldapp sync`, whose store needs just the letter's facts.
    if name in ("PhotoSource", "render_letter"):
        from fieldapp.letter import render

        return getattr(render, name)
    raise AttributeError(f"module 'fieldapp.letter' has no attribute {name!r}")


__all__ = [
    "LetterError", "LetterFacts", "LetterHazard", "LetterPhoto", "LetterPhotoError", "LetterStep",
    "LetterTemplate", "LetterTemplateError", "NoAssessmentError", "PhotoSource", "letter_facts",
    "load_template", "render_letter",
]
