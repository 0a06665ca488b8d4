"""The one binding helper: widgets and evented state stay equal both ways, without feedback loops."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from psygnal import evented
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QSlider, QSpinBox

from app.qt.binding import bind, bind_field


@evented
@dataclass
class Model:
    count: int = 3
    name: str = "b"
    on: bool = False


def test_fields_follow_both_ways_and_write_once_per_change(qtbot) -> None:
    model = Model()
    writes: list[int] = []
    model.events.count.connect(writes.append)
    spin, combo, box = QSpinBox(), QComboBox(), QCheckBox()
    for widget in (spin, combo, box):
        qtbot.addWidget(widget)
    combo.addItem("A", "a")
    combo.addItem("B", "b")
    bind_field(spin, model, "count")
    bind_field(combo, model, "name")
    bind_field(box, model, "on")
    assert (spin.value(), combo.currentText(), box.isChecked()) == (3, "B", False)  # state -> widget at once
    spin.setValue(7)
    combo.setCurrentIndex(0)
    box.setChecked(True)
    assert (model.count, model.name, model.on) == (7, "a", True)
    model.count = 2
    assert spin.value() == 2
    assert writes == [7, 2]  # the refresh from the model did not write back


def test_converters_sliders_and_actions(qtbot) -> None:
    model = Model(count=50)
    slider = QSlider()
    qtbot.addWidget(slider)
    slider.setRange(0, 1000)
    bind_field(slider, model, "count", to_widget=lambda v: v * 10, to_model=lambda v: v // 10)
    assert slider.value() == 500
    slider.setValue(120)
    assert model.count == 12
    action = QAction("toggle")
    bind(action, read=lambda: model.on, write=lambda v: setattr(model, "on", v), changed=model.events.on)
    model.on = True
    assert action.isChecked() is False  # not checkable: Qt keeps it unchecked
    action.setCheckable(True)
    model.on = False
    model.on = True
    assert action.isChecked()


def test_unsupported_widgets_are_refused(qtbot) -> None:
    label = QLabel()
    qtbot.addWidget(label)
    with pytest.raises(TypeError, match="cannot bind a QLabel"):
        bind_field(label, Model(), "name")
