"""The one image loader of the UI: a photo file decoded into a `QImage`, off the GUI thread."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage, QImageReader

from fieldapp.errors import FieldappError


def load_image(path: Path, max_edge: int | None = None) -> QImage:
    """Read an image file (EXIF rotation applied), scaled so its long edge fits ``max_edge``.

    Runs off the GUI thread: `QImage` is safe there, `QPixmap` is not.
    """
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    if max_edge:
        size = reader.size()
        if size.isValid() and max(size.width(), size.height()) > max_edge:
            # Scaling inside the reader lets the JPEG decoder skip most of the work.
            reader.setScaledSize(size.scaled(QSize(max_edge, max_edge), Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if image.isNull():
        raise FieldappError(f"The photo file {path.name} could not be shown: it is missing or damaged "
                            f"({reader.errorString()}).")
    return image
