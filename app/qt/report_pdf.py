"""The report as a one-page PDF, written with Qt's own PDF writer (QPdfWriter + QTextDocument).

Needs a QGuiApplication (the command line starts one on the offscreen platform when there is no
display). The HTML is the one ``segmentation_core.review.report.report_html`` lays out; key images are
handed to the document as resources, by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QSizeF, QUrl
from PySide6.QtGui import QGuiApplication, QImage, QPageLayout, QPageSize, QPainter, QPdfWriter, QTextDocument

#: Layout units of the PDF: CSS pixels (96 per inch), so HTML sizes mean what they do on screen.
DPI = 96
MARGIN_MM = 12.0


def rgba_to_qimage(rgba: np.ndarray) -> QImage:
    """A QImage owning a copy of an (rows, cols, 4) uint8 RGBA array."""
    rgba = np.ascontiguousarray(rgba, dtype=np.uint8)
    rows, cols = rgba.shape[:2]
    return QImage(rgba.data, cols, rows, 4 * cols, QImage.Format.Format_RGBA8888).copy()


def png_bytes(rgba: np.ndarray) -> bytes:
    """PNG encoding of an RGBA array (for the standalone HTML's data URIs)."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not rgba_to_qimage(rgba).save(buffer, "PNG"):
        raise OSError("PNG encoding failed")
    buffer.close()
    return bytes(data.data())


def write_report_pdf(path: Path, html: str, images: Mapping[str, np.ndarray], title: str = "") -> Path:
    """Write ``html`` (with ``images`` by name) as a one-page A4 PDF at ``path``.

    The page is scaled down as a whole when the content is taller than one page. ``path`` is written
    directly: callers stage it with ``segmentation_core.atomic.Commit``.
    """
    if QGuiApplication.instance() is None:
        raise RuntimeError("writing a PDF needs a QGuiApplication")
    _render(Path(path), html, images, title)
    return Path(path)


def _render(target: Path, html: str, images: Mapping[str, np.ndarray], title: str) -> None:
    writer = QPdfWriter(str(target))
    writer.setResolution(DPI)
    writer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4),
            QPageLayout.Orientation.Portrait,
            QMarginsF(MARGIN_MM, MARGIN_MM, MARGIN_MM, MARGIN_MM),
            QPageLayout.Unit.Millimeter,
        )
    )
    writer.setTitle(title)
    writer.setCreator("brats-viewer")
    page = writer.pageLayout().paintRectPixels(DPI)
    document = QTextDocument()
    document.documentLayout().setPaintDevice(writer)
    for name, rgba in images.items():
        document.addResource(QTextDocument.ResourceType.ImageResource, QUrl(name), rgba_to_qimage(rgba))
    document.setHtml(html)
    scale = _fit(document, page.width(), page.height())
    painter = QPainter()
    if not painter.begin(writer):
        raise OSError(f"{target}: the PDF cannot be written")
    try:
        painter.scale(scale, scale)
        document.drawContents(painter)
    finally:
        painter.end()


def _fit(document: QTextDocument, width: float, height: float) -> float:
    """The scale at which the document, laid out to the page's width, fits one page's height."""
    scale = 1.0
    for _ in range(8):
        document.setTextWidth(width / scale)
        document.setPageSize(QSizeF(width / scale, 1e9))
        needed = document.size().height() * scale
        if needed <= height:
            break
        scale *= height / needed * 0.99
    return scale
