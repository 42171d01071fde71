"""The tenant's letter as a PDF: one renderer for the portal and the laptop (ReportLab, no Qt).

Fonts are DejaVu Sans, embedded (subset) so that every name prints: "Zofia Husár",
"Siobhán Ní Bhriain", "Łukasz". The document is built in memory and returned only when
complete: a photo or template problem raises `LetterError` before any byte is handed out.
Output is invariant (no creation time or random ids), so one visit gives the same PDF
bytes on both sides.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Image,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from fieldapp.letter.facts import LetterFacts, LetterPhoto
from fieldapp.letter.images import print_jpeg
from fieldapp.letter.template import LetterTemplate
from fieldapp.letter.words import deadline, joined, local, long_date
from fieldapp.resources import resource_path

#: Where a photo's bytes come from: its file (or bytes); raises `LetterPhotoError` when it is not there.
PhotoSource = Callable[[LetterPhoto], Path | bytes]

FONT, BOLD = "DejaVuSans", "DejaVuSans-Bold"
_INK = colors.HexColor("#1a1a1a")
_QUIET = colors.HexColor("#555555")
_BAND = colors.HexColor("#eef2f6")
_MARGIN = 20 * mm
#: The text column: the page less its margins and the frame's own 6 pt padding on each side.
_WIDTH = A4[0] - 2 * _MARGIN - 12
_PHOTO_WIDTH = 78 * mm
_PHOTO_HEIGHT = 62 * mm
_fonts_lock = threading.Lock()
_fonts_ready = False


def _register_fonts() -> None:
    """Register the embedded fonts once per process (parsing a TTF costs ~30 ms)."""
    global _fonts_ready
    with _fonts_lock:
        if _fonts_ready:
            return
        pdfmetrics.registerFont(TTFont(FONT, str(resource_path("fonts", "DejaVuSans.ttf"))))
        pdfmetrics.registerFont(TTFont(BOLD, str(resource_path("fonts", "DejaVuSans-Bold.ttf"))))
        pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT, boldItalic=BOLD)
        _fonts_ready = True


def _styles() -> dict[str, ParagraphStyle]:
    body = ParagraphStyle("body", fontName=FONT, fontSize=10.5, leading=15, textColor=_INK, spaceAfter=6)
    return {
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=9, leading=12.5, spaceAfter=0),
        "right": ParagraphStyle("right", parent=body, fontSize=9, leading=12.5, spaceAfter=0, alignment=TA_RIGHT),
        "council": ParagraphStyle("council", parent=body, fontName=BOLD, fontSize=16, leading=20, spaceAfter=0),
        "title": ParagraphStyle("title", parent=body, fontName=BOLD, fontSize=14, leading=18, spaceBefore=4,
                                spaceAfter=10),
        "heading": ParagraphStyle("heading", parent=body, fontName=BOLD, fontSize=12, leading=16, spaceBefore=8,
                                  spaceAfter=4, keepWithNext=True),
        "bullet": ParagraphStyle("bullet", parent=body, leftIndent=12, bulletIndent=2, spaceAfter=3,
                                 bulletFontName=FONT),
        "finding": ParagraphStyle("finding", parent=body, fontName=BOLD, spaceAfter=0),
        "caption": ParagraphStyle("caption", parent=body, fontSize=8.5, leading=11, textColor=_QUIET, spaceAfter=0),
    }


def _p(text: str, style: ParagraphStyle) -> list[Paragraph]:
    """Plain text as paragraphs (a blank line starts a new one); nothing in it is read as markup."""
    return [Paragraph(escape(part.strip()).replace("\n", "<br/>"), style)
            for part in text.split("\n\n") if part.strip()]


def placeholder_values(facts: LetterFacts, template: LetterTemplate) -> dict[str, str]:
    """What each ``$placeholder`` of the wording stands for in this letter."""
    council = template.council
    return {
        "council": council.name, "phone": council.phone, "email": council.email, "website": council.website,
        "opening_hours": council.opening_hours, "emergency_phone": council.emergency_phone,
        "tenant": joined(facts.tenant_names) or "the tenant", "address": ", ".join(a for a in facts.address_lines if a),
        "reference": facts.reference, "inspection_date": long_date(local(facts.inspected_at).date()),
        "officer": facts.officer_name,
    }


class _Letter:
    """Builds the story of one letter."""

    def __init__(self, facts: LetterFacts, template: LetterTemplate, photos: PhotoSource, issued_on: date) -> None:
        self.facts, self.template, self.photos, self.issued_on = facts, template, photos, issued_on
        self.s = _styles()
        self.values = placeholder_values(facts, template)

    def text(self, key: str, style: str = "body") -> list[Paragraph]:
        return _p(self.template.text(key, self.values), self.s[style])

    def heading(self, text: str) -> Paragraph:
        return Paragraph(escape(text), self.s["heading"])

    def story(self) -> list[Flowable]:
        pictures = self.pictures()  # first: a missing photo stops the letter before any layout work
        story: list[Flowable] = [self.letterhead(), Spacer(1, 8 * mm), self.addressee(), Spacer(1, 8 * mm)]
        story += self.text("title", "title")
        names = joined(self.facts.tenant_names)
        story.append(Paragraph(escape(f"Dear {names or 'tenant'},"), self.s["body"]))
        story += self.text("introduction")
        story += self.found()
        story += self.work()
        story.append(self.heading("If things get worse"))
        story += [_boxed(self.text("if_worse")), Spacer(1, 2 * mm)]
        story.append(self.heading("Contact us"))
        story += self.text("contact") + self.text("complaints") + self.text("other_formats")
        story.append(KeepTogether(self.signature()))
        if pictures:
            story.append(self.heading("Photos from the inspection"))
            story.append(pictures)
        return story

    def letterhead(self) -> Table:
        council = self.template.council
        left: Flowable | list[Flowable]
        if council.logo is not None:
            logo = Image(str(council.logo))
            scale = min(60 * mm / logo.imageWidth, 22 * mm / logo.imageHeight)
            logo.drawWidth, logo.drawHeight = logo.imageWidth * scale, logo.imageHeight * scale
            logo.hAlign = "LEFT"
            left = [logo, Paragraph(escape(council.name), self.s["small"])]
        else:
            left = [Paragraph(escape(council.name), self.s["council"])]
            if council.department:
                left.append(Paragraph(escape(council.department), self.s["small"]))
        lines = [*council.address, f"Phone {council.phone}", council.email, council.website]
        right = Paragraph("<br/>".join(escape(line) for line in lines if line), self.s["right"])
        table = Table([[left, right]], colWidths=[_WIDTH * 0.6, _WIDTH * 0.4])
        table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                   ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                                   ("LINEBELOW", (0, 0), (-1, 0), 0.75, _QUIET),
                                   ("BOTTOMPADDING", (0, 0), (-1, -1), 4 * mm)]))
        return table

    def addressee(self) -> Table:
        facts = self.facts
        to = [*(facts.tenant_names or ("The tenant",)), *(a for a in facts.address_lines if a)]
        left = Paragraph("<br/>".join(escape(line) for line in to), self.s["body"])
        details = [("Date", long_date(self.issued_on)), ("Our reference", facts.reference),
                   ("Inspected by", facts.officer_name), ("Phone", self.template.council.phone)]
        right = Paragraph("<br/>".join(f"<b>{escape(k)}:</b> {escape(v)}" for k, v in details), self.s["right"])
        table = Table([[left, right]], colWidths=[_WIDTH * 0.6, _WIDTH * 0.4])
        table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                   ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
        return table

    def found(self) -> list[Flowable]:
        facts = self.facts
        story: list[Flowable] = [self.heading("What we found")]
        story += [_boxed(self.text(f"finding_{facts.finding}", "finding")), Spacer(1, 3 * mm)]
        if facts.hazards:
            label = "The hazard we found:" if len(facts.hazards) == 1 else "The hazards we found:"
            story.append(Paragraph(escape(label), self.s["body"]))
            for hazard in facts.hazards:
                where = f" (in the {joined(hazard.locations).lower()})" if hazard.locations else ""
                story.append(Paragraph(escape(hazard.name + where), self.s["bullet"], bulletText="•"))
        if facts.reasons:
            story.append(Paragraph(f"<b>Why:</b> {escape(facts.reasons)}", self.s["body"]))
        if facts.household_factors:
            story.append(Paragraph(f"<b>What we took into account about your household:</b> "
                                   f"{escape(joined(facts.household_factors))}.", self.s["body"]))
        if facts.make_safe_done:
            story += self.text("made_safe")
        return story

    def work(self) -> list[Flowable]:
        facts = self.facts
        story: list[Flowable] = [self.heading("What we will do")]
        if not facts.steps:
            story += self.text("no_work")
        else:
            story += self.text("steps_intro")
            rows = []
            for step in facts.steps:
                what = f"<b>{escape(self.template.text('step_' + step.stage, self.values))}</b>"
                if step.what:
                    what += f"<br/>{escape(step.what)}"
                rows.append([Paragraph(what, self.s["body"]),
                             Paragraph(f"<b>{escape(deadline(step, emergency=facts.emergency))}</b>", self.s["body"])])
            table = Table(rows, colWidths=[_WIDTH * 0.66, _WIDTH * 0.34])
            table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                                       ("LINEBELOW", (0, 0), (-1, -1), 0.5, _BAND),
                                       ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                       ("TOPPADDING", (0, 0), (-1, -1), 2 * mm)]))
            story.append(table)
        if facts.alternative_accommodation:
            story += self.text("alternative_accommodation")
        return story

    def signature(self) -> list[Flowable]:
        lines = [self.facts.officer_name, self.template.officer_title, self.template.council.name]
        return [Spacer(1, 4 * mm), *self.text("closing"), Spacer(1, 6 * mm),
                Paragraph("<br/>".join(escape(line) for line in lines if line), self.s["body"])]

    def pictures(self) -> Table | None:
        """The photos as a two-column grid, each scaled for print; None when the letter shows none."""
        if not self.template.include_photos or not self.template.max_photos:
            return None
        cells: list[list[Flowable]] = []
        for photo in self.facts.photos[: self.template.max_photos]:
            jpeg, width, height = print_jpeg(self.photos(photo), photo)
            scale = min(_PHOTO_WIDTH / width, _PHOTO_HEIGHT / height)
            image = Image(io.BytesIO(jpeg), width=width * scale, height=height * scale)
            cell: list[Flowable] = [image]
            if photo.caption:
                cell.append(Paragraph(escape(photo.caption), self.s["caption"]))
            cells.append(cell)
        if not cells:
            return None
        rows = [cells[i:i + 2] + ([[]] if len(cells[i:i + 2]) == 1 else []) for i in range(0, len(cells), 2)]
        table = Table(rows, colWidths=[_WIDTH / 2, _WIDTH / 2])
        table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                   ("BOTTOMPADDING", (0, 0), (-1, -1), 4 * mm)]))
        return table


def _boxed(content: list[Paragraph]) -> Table:
    """Text in a shaded box across the column: what a resident must not miss."""
    box = Table([[content]], colWidths=[_WIDTH])
    box.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, -1), _BAND), ("BOX", (0, 0), (-1, -1), 0.5, _QUIET),
                             ("LEFTPADDING", (0, 0), (-1, -1), 3 * mm), ("RIGHTPADDING", (0, 0), (-1, -1), 3 * mm),
                             ("TOPPADDING", (0, 0), (-1, -1), 2.5 * mm), ("BOTTOMPADDING", (0, 0), (-1, -1), 2 * mm)]))
    return box


def _numbered_canvas(footer: str) -> type[Canvas]:
    """A canvas that writes "<footer> · Page N of M" on every page (M known only at the end)."""

    class NumberedCanvas(Canvas):  # type: ignore[misc]  # reportlab ships no types
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802  (ReportLab's name)
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            for number, state in enumerate(self._pages, 1):
                self.__dict__.update(state)
                self.setFont(FONT, 8)
                self.setFillColor(_QUIET)
                self.drawString(_MARGIN + 6, 12 * mm, f"{footer} · Page {number} of {len(self._pages)}")
                super().showPage()
            super().save()

    return NumberedCanvas


def render_letter(facts: LetterFacts, template: LetterTemplate, photos: PhotoSource,
                  issued_on: date) -> bytes:
    """The complete letter as PDF bytes; `LetterError` (nothing written) when it cannot be made."""
    _register_fonts()
    letter = _Letter(facts, template, photos, issued_on)
    story = letter.story()
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out, pagesize=A4, leftMargin=_MARGIN, rightMargin=_MARGIN, topMargin=16 * mm, bottomMargin=22 * mm,
        title=f"Written summary of your home inspection ({facts.reference})", author=template.council.name,
        subject=f"Inspection of {letter.values['address']}", creator="Fieldapp", invariant=True,
        # Otherwise every page names Helvetica, a font that is not embedded (and has no "Ł").
        initialFontName=FONT)
    footer = f"{template.council.name} · Reference {facts.reference}"
    doc.build(story, canvasmaker=_numbered_canvas(footer))
    return out.getvalue()

