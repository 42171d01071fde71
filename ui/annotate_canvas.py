"""The drawing surface of photo annotation: the photo in a QGraphicsView, marks drawn by mouse or keyboard.

The scene's coordinates are the stored photo's pixels, so a mark is recorded exactly
where it will be burnt in (`fieldapp.photos_marks`), whatever the zoom. The marks are
painted with the same sizes the renderer uses (`MarkStyle`), halo first.

Keyboard drawing: the arrow keys move a cross (Shift: five times further); Enter or
Space sets a point (an arrow's tail then its head, a circle's two corners, a line's
start then its end, each move of the cross adding a point); with Select, Page Up/Down
chooses a mark and the arrow keys move it. Delete removes the chosen mark; Esc drops
what is half drawn, then the choice, then goes to the dialog. Zoom (`zoom_by`, Ctrl+wheel)
closes in on the cross, for a hairline crack on a photo shown small.
"""

from __future__ import annotations

import functools
import itertools
import math
from enum import Enum

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontDatabase,
    QFontMetricsF,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QPolygonF,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QStyleOptionGraphicsItem,
    QWidget,
)

from fieldapp.photos_annotate import FONT_FILE
from fieldapp.photos_marks import (
    COLOURS_BY_NAME,
    MAX_FREEHAND_POINTS,
    Mark,
    MarkHistory,
    MarkKind,
    MarkStyle,
    Point,
    arrow_geometry,
    clamp,
    ellipse_box,
    mark_bounds,
)
from fieldapp.resources import resource_path


class Tool(str, Enum):
    """What the mouse and the Enter key do on the photo."""

    SELECT = "select"
    ARROW = "arrow"
    ELLIPSE = "ellipse"
    FREEHAND = "freehand"
    TEXT = "text"


_KIND = {Tool.ARROW: MarkKind.ARROW, Tool.ELLIPSE: MarkKind.ELLIPSE, Tool.FREEHAND: MarkKind.FREEHAND}
_STEPS = {Qt.Key.Key_Left: (-1, 0), Qt.Key.Key_Right: (1, 0), Qt.Key.Key_Up: (0, -1), Qt.Key.Key_Down: (0, 1)}
#: One arrow-key step, as a share of the photo's long edge (Shift: five steps), at the whole-photo zoom;
#: zoomed in, a step is that much smaller, so a crack can be followed closely.
KEY_STEP = 0.01
#: Each zoom step, and the closest zoom (times the whole-photo size).
ZOOM_STEP = 1.5
MAX_ZOOM = 8.0


@functools.cache
def _mark_family() -> str:
    """Load the bundled face once; Qt's own DejaVu Sans if the file cannot be loaded."""
    families = QFontDatabase.applicationFontFamilies(
        QFontDatabase.addApplicationFont(str(resource_path(*FONT_FILE))))
    return families[0] if families else "DejaVu Sans"


def mark_font(style: MarkStyle) -> QFont:
    """The bundled face the renderer uses, at the style's pixel size (scene pixels are photo pixels)."""
    font = QFont(_mark_family())
    font.setBold(True)
    font.setPixelSize(style.font_px)
    return font


def text_size(text: str, font: QFont) -> tuple[float, float]:
    """Width and height of a text mark, for choosing it with the mouse."""
    metrics = QFontMetricsF(font)
    return metrics.horizontalAdvance(text), metrics.height()


def mark_shape(mark: Mark, style: MarkStyle, font: QFont) -> tuple[QPainterPath, QPainterPath]:
    """What is stroked (lines, outlines) and what is filled (the arrow's head, letters) for one mark."""
    stroke, fill = QPainterPath(), QPainterPath()
    points = [QPointF(x, y) for x, y in mark.points]
    if mark.kind is MarkKind.TEXT:
        # Pillow places text by its top (anchor "la"); Qt by its baseline, one ascent lower.
        fill.addText(points[0] + QPointF(0, QFontMetricsF(font).ascent()), font, mark.text.strip())
    elif mark.kind is MarkKind.ELLIPSE:
        left, top, right, bottom = ellipse_box(mark)
        stroke.addEllipse(QRectF(left, top, right - left, bottom - top))
    elif mark.kind is MarkKind.ARROW:
        shaft_end, head = arrow_geometry(mark.points[0], mark.points[1], style)
        stroke.moveTo(points[0])
        stroke.lineTo(QPointF(*shaft_end))
        fill.addPolygon(QPolygonF([QPointF(x, y) for x, y in head]))
        fill.closeSubpath()
    else:
        stroke.moveTo(points[0])
        for point in points[1:]:
            stroke.lineTo(point)
    return stroke, fill


class MarkItem(QGraphicsItem):
    """One mark as the renderer will draw it: the halo, then the colour."""

    def __init__(self, mark: Mark, style: MarkStyle, font: QFont, selected: bool = False) -> None:
        super().__init__()
        self.mark = mark
        self._style = style
        self._stroke, self._fill = mark_shape(mark, style, font)
        self._selected = selected
        x0, y0, x1, y1 = mark_bounds(mark, style, text_size(mark.text, font) if mark.kind is MarkKind.TEXT else None)
        self._bounds = QRectF(x0, y0, x1 - x0, y1 - y0)

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt name)
        pad = self._style.stroke * 2
        return self._bounds.adjusted(-pad, -pad, pad, pad)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        colour = COLOURS_BY_NAME[self.mark.colour]
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        for rgb, grow in ((colour.halo, self._style.halo), (colour.rgb, 0.0)):
            pen = QPen(QColor(*rgb), self._style.stroke + 2 * grow, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                       Qt.PenJoinStyle.RoundJoin)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(self._stroke)
            # Letters and the arrow's head: filled, with the halo as their outline.
            outline = QPen(QColor(*rgb), 2 * grow, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
            painter.setPen(outline if grow else Qt.PenStyle.NoPen)
            painter.setBrush(QBrush(QColor(*rgb)))
            painter.drawPath(self._fill)
        if self._selected:
            # Dashed black over white, a few screen pixels wide whatever the zoom: seen on any photo.
            for shade, dashes in ((Qt.GlobalColor.white, Qt.PenStyle.SolidLine), (Qt.GlobalColor.black, Qt.PenStyle.DashLine)):
                pen = QPen(shade, 2, dashes)
                pen.setCosmetic(True)
                painter.setPen(pen)
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRect(self._bounds)


class CrossItem(QGraphicsItem):
    """The keyboard's cross: the same size on screen at any zoom, black and white so it shows everywhere."""

    ARM = 12.0

    def __init__(self) -> None:
        super().__init__()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.setZValue(10)

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt name)
        return QRectF(-self.ARM - 2, -self.ARM - 2, 2 * self.ARM + 4, 2 * self.ARM + 4)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        for shade, width in ((Qt.GlobalColor.white, 4.0), (Qt.GlobalColor.black, 2.0)):
            painter.setPen(QPen(shade, width))
            painter.drawLine(QPointF(-self.ARM, 0), QPointF(self.ARM, 0))
            painter.drawLine(QPointF(0, -self.ARM), QPointF(0, self.ARM))


class AnnotateCanvasWidget(QGraphicsView):
    """The photo with its marks; draws with the mouse or the keyboard, keeps the undo history."""

    sig_changed = Signal()            # marks, choice or what is half drawn changed
    sig_text_wanted = Signal(object)  # Point: where a text mark should go; the dialog asks for the words

    #: Where the keyboard's cross stands, in image pixels (the name hides QWidget.cursor(), unused here).
    cursor: Point  # type: ignore[assignment]

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.SmoothPixmapTransform)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName("Photo to annotate")
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.zoom = 1.0   # times the size that fits the view
        self.setBackgroundBrush(QColor(40, 40, 40))
        self.history = MarkHistory()
        self.tool = Tool.ARROW
        self.colour = "red"
        self.selected: int | None = None
        self.pending: list[Point] | None = None   # the points of a mark being drawn
        self.cursor = (0.0, 0.0)
        self._size = (0, 0)
        self._style = MarkStyle.for_image(1, 1)
        self._font = mark_font(self._style)
        self._photo: QGraphicsPixmapItem | None = None
        self._items: list[QGraphicsItem] = []
        self._cross = CrossItem()
        self._drag: tuple[Point, Point] | None = None  # Select: where a drag began, and where it is now

    # ------------------------------------------------------------ state

    def set_image(self, image: QImage, photo_size: tuple[int, int] | None = None) -> None:
        """Show the photo (its QPixmap is made here, on the GUI thread); drawing can begin.

        ``photo_size`` is the stored photo's size when ``image`` is a smaller copy of it:
        the copy is stretched over the photo's pixels, so marks keep the photo's coordinates.
        """
        self._size = photo_size or (image.width(), image.height())
        self._style = MarkStyle.for_image(*self._size)
        self._font = mark_font(self._style)
        self._photo = self.scene().addPixmap(QPixmap.fromImage(image))
        self._photo.setScale(self._size[0] / max(image.width(), 1))
        self._photo.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().setSceneRect(QRectF(0, 0, *self._size))
        self.scene().addItem(self._cross)
        self.cursor = (self._size[0] / 2, self._size[1] / 2)
        self._fit()
        self._refresh()

    @property
    def ready(self) -> bool:
        return self._photo is not None

    @property
    def marks(self) -> tuple[Mark, ...]:
        return self.history.marks

    @property
    def image_size(self) -> tuple[int, int]:
        return self._size

    def set_tool(self, tool: Tool) -> None:
        self.tool = tool
        self.pending = None
        self._refresh()

    def set_colour(self, name: str) -> None:
        """Draw in this colour from now on; with Select, the chosen mark takes it too (one undo step).

        Only with Select: a mark just drawn is chosen too (so Delete removes it), and
        picking the next mark's colour must not repaint the last one.
        """
        self.colour = name
        if self.tool is Tool.SELECT and self.selected is not None and self.marks[self.selected].colour != name:
            mark = self.marks[self.selected]
            self.history.replace(self.selected, Mark(mark.kind, mark.points, name, mark.text))
        self._refresh()

    def resume(self, marks: tuple[Mark, ...]) -> None:
        """Go on from marks drawn before (one Undo clears them)."""
        self.history = MarkHistory.resumed(marks)
        self.selected = None
        self.pending = None
        self._refresh()

    def undo(self) -> None:
        self.pending = None
        self.history.undo()
        self._keep_selection_valid()
        self._refresh()

    def redo(self) -> None:
        self.pending = None
        self.history.redo()
        self._keep_selection_valid()
        self._refresh()

    def delete_selected(self) -> None:
        if self.selected is not None:
            self.history.remove(self.selected)
            self.selected = None
            self._refresh()

    def add_text(self, at: Point, text: str) -> None:
        """Place a text mark (the dialog asked for the words)."""
        if text.strip():
            self._add(Mark(MarkKind.TEXT, (at,), self.colour, text.strip()))

    def select_next(self, step: int) -> None:
        """Choose the next (or previous) mark, round the end."""
        if not self.marks:
            return
        if self.selected is None:
            self.selected = 0 if step > 0 else len(self.marks) - 1
        else:
            self.selected = (self.selected + step) % len(self.marks)
        self.cursor = self.marks[self.selected].points[0]
        self._refresh()

    def _add(self, mark: Mark) -> None:
        self.selected = self.history.add(mark)
        self.pending = None
        self._refresh()

    def _keep_selection_valid(self) -> None:
        if self.selected is not None and self.selected >= len(self.marks):
            self.selected = None

    # ------------------------------------------------------------ drawing

    def _refresh(self) -> None:
        """Rebuild the mark items from the history (a few dozen at most: cheaper than tracking changes)."""
        for item in self._items:
            self.scene().removeItem(item)
        self._items = []
        for index, mark in enumerate(self.marks):
            if self._drag is not None and index == self.selected:
                (x0, y0), (x1, y1) = self._drag
                mark = mark.moved(x1 - x0, y1 - y0)
            self._show(MarkItem(mark, self._style, self._font, selected=index == self.selected))
        preview = self._pending_mark()
        if preview is not None:
            self._show(MarkItem(preview, self._style, self._font))
        self._cross.setPos(QPointF(*self.cursor))
        if self.zoom > 1:
            self.ensureVisible(QRectF(self.cursor[0] - 1, self.cursor[1] - 1, 2, 2))
        self.sig_changed.emit()

    def _show(self, item: QGraphicsItem) -> None:
        self.scene().addItem(item)
        self._items.append(item)

    def _pending_mark(self) -> Mark | None:
        if not self.pending or self.tool not in _KIND:
            return None
        points = self.pending if len(self.pending) > 1 else self.pending * 2
        if self.tool is not Tool.FREEHAND:
            points = [points[0], points[-1]]
        return Mark(_KIND[self.tool], tuple(points), self.colour)

    def _finish_pending(self) -> None:
        mark = self._pending_mark()
        self.pending = None
        if mark is None or _length(mark.points) < self._style.stroke:
            self._refresh()   # a click without a drag draws nothing
            return
        self._add(mark)

    def _fit(self) -> None:
        """Scale the view to the zoom (1: the whole photo fits), keeping the cross in sight."""
        if self._photo is None:
            return
        width, height = self._size
        area = self.viewport().size()
        scale = min(area.width() / max(width, 1), area.height() / max(height, 1)) * self.zoom
        self.resetTransform()
        self.scale(scale, scale)
        self.centerOn(QPointF(*self.cursor) if self.zoom > 1 else self.scene().sceneRect().center())

    def zoom_by(self, factor: float) -> None:
        """Zoom in (factor > 1) or out around the cross, between the whole photo and eight times that."""
        self.zoom = min(max(self.zoom * factor, 1.0), MAX_ZOOM)
        self._fit()
        self._refresh()

    def zoom_to_fit(self) -> None:
        self.zoom = 1.0
        self._fit()
        self._refresh()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 (Qt name)
        """Ctrl+wheel zooms around the pointer; the wheel alone scrolls a zoomed photo."""
        if self.ready and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            point = self.mapToScene(event.position().toPoint())
            self.cursor = clamp((point.x(), point.y()), *self._size)
            self.zoom_by(ZOOM_STEP if event.angleDelta().y() > 0 else 1 / ZOOM_STEP)
            event.accept()
            return
        super().wheelEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        self._fit()

    # ------------------------------------------------------------ mouse

    def _scene_point(self, event: QMouseEvent) -> Point:
        point = self.mapToScene(event.position().toPoint())
        return clamp((point.x(), point.y()), *self._size)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt name)
        if not self.ready or event.button() != Qt.MouseButton.LeftButton:
            super().mousePressEvent(event)
            return
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        point = self.cursor = self._scene_point(event)
        if self.tool is Tool.SELECT:
            self.selected = self._mark_at(point)
            self._drag = (point, point) if self.selected is not None else None
        elif self.tool is Tool.TEXT:
            self._refresh()
            self.sig_text_wanted.emit(point)
            return
        else:
            self.pending = [point]
        self._refresh()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt name)
        if not self.ready or not event.buttons() & Qt.MouseButton.LeftButton:
            super().mouseMoveEvent(event)
            return
        point = self.cursor = self._scene_point(event)
        if self._drag is not None:
            self._drag = (self._drag[0], self._keep_inside(self._drag[0], point))
        elif self.pending is not None:
            self._extend(point)
        self._refresh()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt name)
        if not self.ready or event.button() != Qt.MouseButton.LeftButton:
            super().mouseReleaseEvent(event)
            return
        if self._drag is not None:
            (x0, y0), (x1, y1) = self._drag
            self._drag = None
            if (x0, y0) != (x1, y1) and self.selected is not None:
                self.history.move(self.selected, x1 - x0, y1 - y0)
            self._refresh()
        elif self.pending is not None:
            self._extend(self._scene_point(event))
            self._finish_pending()

    def _extend(self, point: Point) -> None:
        """Follow the pointer (or the cross): a line gains points, the others move their second one."""
        assert self.pending is not None
        if self.tool is Tool.FREEHAND:
            last = self.pending[-1]
            # Points closer than a third of the stroke change nothing visible; the cap keeps a marathon drag bounded.
            if math.dist(last, point) >= self._style.stroke / 3 and len(self.pending) < MAX_FREEHAND_POINTS:
                self.pending.append(point)
        else:
            self.pending[1:] = [point]

    def _mark_at(self, point: Point) -> int | None:
        """The topmost mark under the point."""
        x, y = point
        for index in range(len(self.marks) - 1, -1, -1):
            mark = self.marks[index]
            size = text_size(mark.text, self._font) if mark.kind is MarkKind.TEXT else None
            x0, y0, x1, y1 = mark_bounds(mark, self._style, size)
            if x0 <= x <= x1 and y0 <= y <= y1:
                return index
        return None

    def _keep_inside(self, start: Point, end: Point) -> Point:
        """Where a move of the chosen mark from ``start`` towards ``end`` must stop so every point stays on the photo."""
        assert self.selected is not None
        xs = [p[0] for p in self.marks[self.selected].points]
        ys = [p[1] for p in self.marks[self.selected].points]
        dx = min(max(end[0] - start[0], -min(xs)), self._size[0] - max(xs))
        dy = min(max(end[1] - start[1], -min(ys)), self._size[1] - max(ys))
        return start[0] + dx, start[1] + dy

    # ------------------------------------------------------------ keyboard

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt name)
        if not self.ready:
            super().keyPressEvent(event)
            return
        key = event.key()
        if key in _STEPS:
            self._step(_STEPS[Qt.Key(key)], bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier))
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self._place()
        elif key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.delete_selected()
        elif key in (Qt.Key.Key_PageDown, Qt.Key.Key_PageUp):
            self.select_next(1 if key == Qt.Key.Key_PageDown else -1)
        elif key == Qt.Key.Key_Escape and (self.pending is not None or self.selected is not None):
            if self.pending is not None:
                self.pending = None
            else:
                self.selected = None
            self._refresh()
        else:
            super().keyPressEvent(event)   # Esc with nothing to drop closes the dialog (which asks first)

    def _step(self, direction: tuple[int, int], far: bool) -> None:
        step = max(self._size) * KEY_STEP * (5 if far else 1) / self.zoom
        dx, dy = direction[0] * step, direction[1] * step
        if self.tool is Tool.SELECT and self.selected is not None:
            start = self.marks[self.selected].points[0]
            end = self._keep_inside(start, (start[0] + dx, start[1] + dy))
            if end != start:
                self.history.move(self.selected, end[0] - start[0], end[1] - start[1])
                self.cursor = self.marks[self.selected].points[0]
        else:
            self.cursor = clamp((self.cursor[0] + dx, self.cursor[1] + dy), *self._size)
            if self.pending is not None:
                self._extend(self.cursor)
        self._refresh()

    def _place(self) -> None:
        """Enter: begin or end the mark at the cross (a text asks for its words; Select picks what is under it)."""
        if self.tool is Tool.SELECT:
            self.selected = self._mark_at(self.cursor)
            self._refresh()
        elif self.tool is Tool.TEXT:
            self.sig_text_wanted.emit(self.cursor)
        elif self.pending is None:
            self.pending = [self.cursor]
            self._refresh()
        else:
            self._extend(self.cursor)
            self._finish_pending()


def _length(points: tuple[Point, ...]) -> float:
    """How far a mark reaches: the path of a line, the distance between the two points of the others."""
    return sum(math.dist(a, b) for a, b in itertools.pairwise(points))
