"""A small QPainter plot of a training run: loss (top) and validation Dice per region (bottom)."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.jobs.retrain import REGIONS, TrainingHistory

REGION_COLOURS = {"WT": QColor("#2ca02c"), "TC": QColor("#ff7f0e"), "ET": QColor("#d62728")}
LOSS_COLOUR = QColor("#1f77b4")
#: The loss of single steps inside epochs: thin and light, behind the epoch means.
STEP_LOSS_COLOUR = QColor(31, 119, 180, 90)
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 48, 12, 22, 22


def loss_axis(losses: list[float], ticks: int = 4) -> tuple[float, float]:
    """Y range of the loss panel: ``ticks`` intervals of a round step (1, 2, 2.5, 3, 4 or 5 x 10^k) that
    hold the data with a small margin, never below 0; 0..1 without data."""
    if not losses:
        return 0.0, 1.0
    low, high = min(losses), max(losses)
    pad = 0.05 * (high - low) or 0.05 * abs(high) or 0.05
    low, high = max(0.0, low - pad), high + pad
    magnitude = 10 ** math.floor(math.log10((high - low) / ticks))
    for factor in (1, 2, 2.5, 3, 4, 5, 10, 20):
        step = factor * magnitude
        start = math.floor(low / step) * step
        if start + ticks * step >= high:
            return round(start, 12), round(start + ticks * step, 12)
    raise AssertionError("unreachable: a factor of 20 always covers the range")


def tick_label(value: float, step: float) -> str:
    """``value`` with the fewest decimals (at most 6) that show ticks ``step`` apart to within 5 %."""
    decimals = next((d for d in range(7) if abs(round(step, d) - step) <= 0.05 * step), 6)
    return f"{value:.{decimals}f}"


class TrainingPlot(QWidget):
    """Draws a TrainingHistory; call ``set_history`` (or ``update``) after every new event."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.history = TrainingHistory()
        self.setMinimumSize(360, 280)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(560, 380)

    def set_history(self, history: TrainingHistory) -> None:
        self.history = history
        self.update()

    def _x_range(self) -> tuple[float, float]:
        xs = [x for x, _ in self.history.loss + self.history.step_loss]
        xs += [x for r in REGIONS for x, _ in self.history.dice[r]]
        high = max([float(self.history.epochs), *xs, 1.0])
        return 0.0, high

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("white"))
        half = self.height() / 2
        x_range = self._x_range()
        losses = [y for _, y in self.history.loss + self.history.step_loss]
        loss_range = loss_axis(losses)
        top = QRectF(0, 0, self.width(), half)
        bottom = QRectF(0, half, self.width(), half)
        self._panel(
            painter,
            top,
            "loss by epoch (thin: single steps)",
            x_range,
            loss_range,
            [("step", STEP_LOSS_COLOUR, self.history.step_loss), ("loss", LOSS_COLOUR, self.history.loss)],
        )
        series = [(r, REGION_COLOURS[r], self.history.dice[r]) for r in REGIONS]
        self._panel(painter, bottom, "validation Dice by epoch", x_range, (0.0, 1.0), series, markers=True)
        painter.end()

    def _panel(
        self,
        painter: QPainter,
        area: QRectF,
        title: str,
        x_range: tuple[float, float],
        y_range: tuple[float, float],
        series: list[tuple[str, QColor, list[tuple[float, float]]]],
        markers: bool = False,
    ) -> None:
        plot = area.adjusted(MARGIN_LEFT, MARGIN_TOP, -MARGIN_RIGHT, -MARGIN_BOTTOM)
        (x0, x1), (y0, y1) = x_range, y_range

        def to_screen(x: float, y: float) -> QPointF:
            fx = (x - x0) / (x1 - x0) if x1 > x0 else 0.0
            fy = (y - y0) / (y1 - y0) if y1 > y0 else 0.0
            return QPointF(plot.left() + fx * plot.width(), plot.bottom() - fy * plot.height())

        painter.setPen(QPen(QColor("#444"), 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)  # a frame, never a filled box
        painter.drawRect(plot)
        painter.drawText(
            QRectF(plot.left(), area.top() + 2, plot.width(), 18), Qt.AlignmentFlag.AlignLeft, title
        )
        grid_pen = QPen(QColor("#ddd"), 1, Qt.PenStyle.DashLine)
        for i in range(5):
            y = y0 + (y1 - y0) * i / 4
            point = to_screen(x0, y)
            painter.setPen(grid_pen)
            painter.drawLine(point, QPointF(plot.right(), point.y()))
            painter.setPen(QColor("#444"))
            painter.drawText(
                QRectF(area.left(), point.y() - 8, MARGIN_LEFT - 4, 16),
                Qt.AlignmentFlag.AlignRight,
                tick_label(y, (y1 - y0) / 4),
            )
        step = max(1, math.ceil((x1 - x0) / 10))
        for x in range(math.ceil(x0), math.floor(x1) + 1, step):
            point = to_screen(x, y0)
            painter.drawText(
                QRectF(point.x() - 20, plot.bottom() + 2, 40, 16), Qt.AlignmentFlag.AlignHCenter, str(x)
            )
        legend_x = plot.right()
        for name, colour, points in reversed(series):
            legend_x -= 44
            painter.setPen(QPen(colour, 2))
            painter.drawLine(QPointF(legend_x, area.top() + 11), QPointF(legend_x + 12, area.top() + 11))
            painter.setPen(QColor("#444"))
            painter.drawText(QPointF(legend_x + 15, area.top() + 15), name)
            self._curve(painter, [to_screen(x, y) for x, y in points], colour, markers)

    @staticmethod
    def _curve(painter: QPainter, points: list[QPointF], colour: QColor, markers: bool) -> None:
        if not points:
            return
        path = QPainterPath(points[0])
        for point in points[1:]:
            path.lineTo(point)
        painter.setPen(QPen(colour, 2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(path)
        if markers or len(points) == 1:
            painter.setBrush(colour)
            for point in points:
                painter.drawEllipse(point, 3, 3)
            painter.setBrush(Qt.BrushStyle.NoBrush)
