"""A photo at full size, scrollable, fitted to the window until the lead asks for 100 %."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from fieldapp.types import Photo


class PhotoDialog(QDialog):
    """Shows one photo; the image arrives later (decoded off the GUI thread)."""

    #: The page's scroll area (the name hides QWidget.scroll(), which nothing here calls).
    scroll: QScrollArea  # type: ignore[assignment]

    def __init__(self, photo: Photo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.photo = photo
        self._pixmap: QPixmap | None = None
        self._fit = True
        self.setWindowTitle(photo.caption or "Photo")
        # Large, but never past the screen: at 1366x768 with 150% scaling a fixed 1000x760 hid the Close button.
        available = self.screen().availableGeometry()
        self.resize(min(1000, int(available.width() * 0.9)), min(760, int(available.height() * 0.9)))
        layout = QVBoxLayout(self)
        self.caption_label = QLabel(f"{photo.caption or 'No caption'} — {photo.width} × {photo.height} px")
        layout.addWidget(self.caption_label)
        self.image_label = QLabel("Loading the photo…")
        self.image_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.image_label)
        self.scroll.setWidgetResizable(True)
        self.scroll.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.scroll, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.close_button = buttons.button(QDialogButtonBox.StandardButton.Close)
        self.zoom_button = QPushButton("Actual size")
        self.zoom_button.setToolTip("Switch between fitting the window and 100 % (Ctrl+0)")
        self.zoom_button.setShortcut("Ctrl+0")
        self.zoom_button.setEnabled(False)
        self.zoom_button.clicked.connect(self._on_zoom_clicked)
        buttons.addButton(self.zoom_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def set_image(self, image: QImage) -> None:
        """Show the decoded photo (the QPixmap is made here, on the GUI thread)."""
        self._pixmap = QPixmap.fromImage(image)
        self.zoom_button.setEnabled(True)
        self._render()

    def set_failed(self, message: str) -> None:
        self.image_label.setText(message)

    @property
    def image_size(self) -> tuple[int, int] | None:
        """Pixel size of the photo shown, once it has arrived."""
        return (self._pixmap.width(), self._pixmap.height()) if self._pixmap else None

    def _on_zoom_clicked(self) -> None:
        self._fit = not self._fit
        self.zoom_button.setText("Actual size" if self._fit else "Fit to window")
        self._render()

    def _render(self) -> None:
        if self._pixmap is None:
            return
        if self._fit:
            self.scroll.setWidgetResizable(True)
            area = self.scroll.viewport().size()
            self.image_label.setPixmap(self._pixmap.scaled(
                area, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))
        else:
            self.scroll.setWidgetResizable(False)
            self.image_label.setPixmap(self._pixmap)
            self.image_label.adjustSize()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        if self._fit:
            self._render()
