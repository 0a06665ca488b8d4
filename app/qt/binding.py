"""One binding helper: a widget's value <-> a value in evented (psygnal) state, both ways, without loops.

``bind(widget, read=..., write=..., changed=...)`` works for spin boxes, sliders, combo boxes (item data),
check boxes, checkable group boxes and checkable actions; ``bind_field`` binds a field of an
evented dataclass (``model.events.<name>``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QAbstractButton, QAbstractSlider, QAbstractSpinBox, QComboBox, QGroupBox


def _adapter(widget: QObject) -> tuple[Callable[[], Any], Callable[[Any], None], Any]:
    """(get, set, changed signal) of a widget's value."""
    if isinstance(widget, QComboBox):
        return (
            widget.currentData,
            lambda value: widget.setCurrentIndex(widget.findData(value)),
            widget.currentIndexChanged,
        )
    if isinstance(widget, QAbstractSlider):
        return widget.value, widget.setValue, widget.valueChanged
    if isinstance(widget, QAbstractSpinBox):
        return widget.value, widget.setValue, widget.valueChanged  # type: ignore[attr-defined]
    if isinstance(widget, QAbstractButton | QGroupBox | QAction):
        return widget.isChecked, widget.setChecked, widget.toggled
    raise TypeError(f"cannot bind a {type(widget).__name__}")


def bind(
    widget: QObject,
    *,
    read: Callable[[], Any],
    write: Callable[[Any], None],
    changed: Any,
    to_model: Callable[[Any], Any] = lambda v: v,
    to_widget: Callable[[Any], Any] = lambda v: v,
) -> Callable[[], None]:
    """Keep ``widget`` and a state value equal: the widget writes through ``write``; ``changed`` (a
    psygnal signal of the state, any arguments) refreshes the widget from ``read``. Returns the refresh."""
    get, set_, signal = _adapter(widget)

    def refresh(*_args: object) -> None:
        value = to_widget(read())
        if get() != value:
            blocked = widget.blockSignals(True)
            try:
                set_(value)
            finally:
                widget.blockSignals(blocked)

    signal.connect(lambda *_args: write(to_model(get())))
    changed.connect(refresh)
    refresh()
    return refresh


def bind_field(widget: QObject, model: Any, name: str, **convert: Callable[[Any], Any]) -> Callable[[], None]:
    """Bind ``widget`` to field ``name`` of an evented dataclass ``model``."""
    return bind(
        widget,
        read=lambda: getattr(model, name),
        write=lambda value: setattr(model, name, value),
        changed=getattr(model.events, name),
        **convert,
    )
