"""Marks an officer draws on a photo (arrow, ellipse, freehand line, short text), and their undo history.

Marks are plain data in the stored photo's pixel coordinates (x right, y down, the
photo upright), so the screen that draws them and the renderer that burns them into
the annotated copy (`fieldapp.photos_annotate`) agree to the pixel whatever the zoom.
The sizes of strokes, arrow heads and text follow the photo's size (`MarkStyle`) and
are computed here once for both. No Pillow and no Qt: this module is pure geometry.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

from fieldapp.errors import ValidationError

Point = tuple[float, float]

#: Characters of one text mark: a label ("mould", "crack 4 mm"), not a note.
TEXT_MAX_CHARS = 60
#: Marks on one photo; far beyond what points at a defect, short of a drawing program.
MAX_MARKS = 200
#: Points of one freehand line (a minute of dragging at the mouse's 60 moves a second).
MAX_FREEHAND_POINTS = 4000


class MarkKind(str, Enum):
    """What a mark is; its points mean, in order:

    arrow: the tail, then the head (the point it points at); ellipse: two opposite
    corners of the box it fills; freehand: every point of the line; text: the top-left
    corner of the text.
    """

    ARROW = "arrow"
    ELLIPSE = "ellipse"
    FREEHAND = "freehand"
    TEXT = "text"


#: How many points each kind has (None: freehand, at least two).
_POINTS = {MarkKind.ARROW: 2, MarkKind.ELLIPSE: 2, MarkKind.TEXT: 1}


@dataclass(frozen=True)
class MarkColour:
    """A colour marks can be drawn in, with the halo that keeps it visible on any background."""

    name: str
    rgb: tuple[int, int, int]
    halo: tuple[int, int, int]

    @property
    def hex(self) -> str:
        return "#{:02x}{:02x}{:02x}".format(*self.rgb)

    @property
    def halo_hex(self) -> str:
        return "#{:02x}{:02x}{:02x}".format(*self.halo)


_BLACK, _WHITE = (0, 0, 0), (255, 255, 255)

#: A few colours that read on black mould, pale plaster, brick and timber alike. Each
#: mark is drawn over a halo of the opposite lightness: a red arrow keeps a white edge
#: on dark mould and is plain red on a pale wall.
COLOURS: tuple[MarkColour, ...] = (
    MarkColour("red", (230, 20, 40), _WHITE),
    MarkColour("yellow", (255, 214, 0), _BLACK),
    MarkColour("blue", (20, 110, 255), _WHITE),
    MarkColour("white", (255, 255, 255), _BLACK),
)
COLOURS_BY_NAME = {colour.name: colour for colour in COLOURS}


@dataclass(frozen=True)
class Mark:
    """One mark on a photo, in the photo's pixel coordinates."""

    kind: MarkKind
    points: tuple[Point, ...]
    colour: str = "red"
    text: str = ""

    def moved(self, dx: float, dy: float) -> Mark:
        """The same mark shifted by (dx, dy) pixels."""
        return replace(self, points=tuple((x + dx, y + dy) for x, y in self.points))


@dataclass(frozen=True)
class MarkStyle:
    """Sizes in photo pixels: thick enough to see on a 2560 px photo shown small, never hairlines."""

    stroke: float
    halo: float
    head: float
    font_px: int

    @classmethod
    def for_image(cls, width: int, height: int) -> MarkStyle:
        """The style for a photo of this size (0.6 % of the long edge: 15 px on a 2560 px photo)."""
        edge = max(width, height, 1)
        stroke = max(3.0, round(edge * 0.006, 1))
        return cls(stroke=stroke, halo=max(2.0, round(stroke * 0.4, 1)), head=stroke * 4.5,
                   font_px=max(14, round(edge * 0.03)))


def marks_to_data(marks: Sequence[Mark]) -> list[dict[str, Any]]:
    """Marks as JSON-ready data (kept while the officer draws, so a crash loses none)."""
    return [{"kind": m.kind.value, "points": [list(p) for p in m.points], "colour": m.colour, "text": m.text}
            for m in marks]


def marks_from_data(data: Any) -> tuple[Mark, ...]:
    """Marks from `marks_to_data`'s output; ValueError if it is not that shape."""
    if not isinstance(data, list):
        raise ValueError("the kept marks are not a list")
    try:
        return tuple(Mark(MarkKind(item["kind"]), tuple((float(x), float(y)) for x, y in item["points"]),
                          str(item.get("colour", "red")), str(item.get("text", ""))) for item in data)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"the kept marks are damaged ({exc})") from None


def validate_marks(marks: Sequence[Mark], width: int, height: int) -> None:
    """ValidationError, saying what to change, unless every mark can be drawn on a width x height photo."""
    if not marks:
        raise ValidationError("Draw at least one mark (an arrow, a circle, a line or a text) before saving.")
    if len(marks) > MAX_MARKS:
        raise ValidationError(f"A photo can hold at most {MAX_MARKS} marks; it has {len(marks)}. "
                              "Undo some, or save this copy and annotate it again.")
    for number, mark in enumerate(marks, start=1):
        problem = _mark_problem(mark, width, height)
        if problem:
            raise ValidationError(f"Mark {number} ({mark.kind.value}): {problem}")


def _mark_problem(mark: Mark, width: int, height: int) -> str | None:
    if not isinstance(mark.kind, MarkKind):
        return "is not a kind of mark Fieldapp knows."
    if mark.colour not in COLOURS_BY_NAME:
        return f"{mark.colour!r} is not one of the colours ({', '.join(COLOURS_BY_NAME)})."
    wanted = _POINTS.get(mark.kind)
    count = len(mark.points)
    if wanted is not None and count != wanted:
        return f"needs {wanted} point(s), not {count}."
    if wanted is None and not 2 <= count <= MAX_FREEHAND_POINTS:
        return f"a line needs 2 to {MAX_FREEHAND_POINTS} points, not {count}."
    for x, y in mark.points:
        if not (math.isfinite(x) and math.isfinite(y) and 0 <= x <= width and 0 <= y <= height):
            return f"the point ({x:g}, {y:g}) is outside the {width} x {height} photo."
    if mark.kind is MarkKind.TEXT:
        text = mark.text.strip()
        if not text:
            return "the text is empty; type what it should say, or remove it."
        if len(text) > TEXT_MAX_CHARS:
            return f"the text has {len(text)} characters; keep it to {TEXT_MAX_CHARS} (a label, not a note)."
        if any(ord(c) < 32 for c in text):
            return "the text must be one line."
    elif mark.kind is not MarkKind.FREEHAND and _span(mark.points) < 1:
        return "its two points are the same; drag further."
    return None


def _span(points: Sequence[Point]) -> float:
    (x0, y0), (x1, y1) = points[0], points[-1]
    return math.hypot(x1 - x0, y1 - y0)


def clamp(point: Point, width: int, height: int) -> Point:
    """The point moved inside the photo (a drag that leaves the picture ends at its edge)."""
    x, y = point
    return min(max(x, 0.0), float(width)), min(max(y, 0.0), float(height))


def arrow_geometry(tail: Point, head: Point, style: MarkStyle) -> tuple[Point, tuple[Point, Point, Point]]:
    """Where the shaft of an arrow ends and the three corners of its head (tip first).

    The shaft stops inside the head, so its square end never pokes out past the tip.
    A very short arrow gets a head no longer than itself.
    """
    (tx, ty), (hx, hy) = tail, head
    length = math.hypot(hx - tx, hy - ty)
    if length == 0:
        return tail, (head, head, head)
    ux, uy = (hx - tx) / length, (hy - ty) / length
    size = min(style.head, length)
    half = size * 0.6
    base = (hx - ux * size, hy - uy * size)
    left = (base[0] - uy * half, base[1] + ux * half)
    right = (base[0] + uy * half, base[1] - ux * half)
    shaft_end = (hx - ux * size * 0.5, hy - uy * size * 0.5)
    return shaft_end, (head, left, right)


def ellipse_box(mark: Mark) -> tuple[float, float, float, float]:
    """The box (left, top, right, bottom) an ellipse fills, whichever corners were given."""
    (x0, y0), (x1, y1) = mark.points
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


def mark_bounds(mark: Mark, style: MarkStyle, text_size: tuple[float, float] | None = None) -> tuple[float, float, float, float]:
    """The box (left, top, right, bottom) a mark covers, stroke included; for picking one with the mouse.

    A text mark's size depends on its font, so the caller that measured it passes
    ``text_size``; without it the text is guessed at 0.6 em a character.
    """
    pad = style.stroke / 2 + style.halo
    if mark.kind is MarkKind.TEXT:
        x, y = mark.points[0]
        w, h = text_size or (len(mark.text) * style.font_px * 0.6, style.font_px * 1.2)
        return x - style.halo, y - style.halo, x + w + style.halo, y + h + style.halo
    points = list(mark.points)
    if mark.kind is MarkKind.ARROW:
        points += list(arrow_geometry(mark.points[0], mark.points[1], style)[1])
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs) - pad, min(ys) - pad, max(xs) + pad, max(ys) + pad


@dataclass
class MarkHistory:
    """The marks being drawn, with undo and redo; each change is one step.

    Moving the same mark several times in a row (arrow key after arrow key) is one
    step, so one Undo puts it back where it was.
    """

    _states: list[tuple[Mark, ...]] = field(default_factory=lambda: [()])
    _at: int = 0
    _moving: int | None = None  # the mark the last step moved, while moves can still merge

    @property
    def marks(self) -> tuple[Mark, ...]:
        return self._states[self._at]

    @property
    def can_undo(self) -> bool:
        return self._at > 0

    @property
    def can_redo(self) -> bool:
        return self._at < len(self._states) - 1

    @classmethod
    def resumed(cls, marks: Sequence[Mark]) -> MarkHistory:
        """A history that goes on from marks kept earlier (one Undo takes them all away)."""
        return cls([(), tuple(marks)], 1) if marks else cls()

    def add(self, mark: Mark) -> int:
        """Add a mark on top; returns its index."""
        self._push(self.marks + (mark,))
        return len(self.marks) - 1

    def remove(self, index: int) -> None:
        marks = self.marks
        self._push(marks[:index] + marks[index + 1:])

    def move(self, index: int, dx: float, dy: float) -> None:
        """Shift a mark; consecutive moves of one mark merge into one step."""
        marks = list(self.marks)
        marks[index] = marks[index].moved(dx, dy)
        if self._moving == index and self._at > 0:
            self._states[self._at] = tuple(marks)
            del self._states[self._at + 1:]
        else:
            self._push(tuple(marks))
        self._moving = index

    def replace(self, index: int, mark: Mark) -> None:
        marks = list(self.marks)
        marks[index] = mark
        self._push(tuple(marks))

    def undo(self) -> None:
        if self.can_undo:
            self._at -= 1
        self._moving = None

    def redo(self) -> None:
        if self.can_redo:
            self._at += 1
        self._moving = None

    def _push(self, marks: tuple[Mark, ...]) -> None:
        del self._states[self._at + 1:]
        self._states.append(marks)
        self._at += 1
        self._moving = None
