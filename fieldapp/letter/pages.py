"""Page images of a letter, for an on-screen preview (PDFium through pypdfium2; no Qt).

PDFium is not thread-safe, so every use goes through one lock; a preview renders a
page or two, so nobody waits long.
"""

from __future__ import annotations

import threading

from PIL import Image

_PDFIUM = threading.Lock()


def page_images(pdf: bytes, dpi: float = 110.0) -> list[Image.Image]:
    """Every page of the PDF as an RGB image at ``dpi``."""
    import pypdfium2

    with _PDFIUM:
        document = pypdfium2.PdfDocument(pdf)
        try:
            images = []
            for index in range(len(document)):
                page = document[index]
                bitmap = page.render(scale=dpi / 72.0)
                try:
                    # to_pil() shares the bitmap's memory: copy before the bitmap is freed, and free
                    # it here, under the lock, rather than whenever a garbage collection comes.
                    images.append(bitmap.to_pil().convert("RGB").copy())
                finally:
                    bitmap.close()
                    page.close()
            return images
        finally:
            document.close()
