"""The one actions table: unique shortcuts, one handler per action, and keys doing what the menu says."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMenuBar, QWidget

from app.qt.actions import ACTIONS, ActionSpec, build_actions, shortcut_clashes


def test_every_shortcut_of_the_table_is_unique() -> None:
    assert shortcut_clashes() == {}
    keys = [QKeySequence(k).toString() for spec in ACTIONS for k in spec.shortcuts]
    assert len(keys) == len(set(keys)) and "L" in keys and "Shift+L" in keys


def test_a_clash_is_found() -> None:
    table = (ActionSpec("a", "View", "A", ("L",)), ActionSpec("b", "Edit", "B", ("l",)))
    assert shortcut_clashes(table) == {"L": ["a", "b"]}


def test_handlers_must_match_the_table(qtbot) -> None:
    host = QWidget()
    qtbot.addWidget(host)
    table = (ActionSpec("a", "View", "A", ("Ctrl+K",)), ActionSpec("b", "View/Sub", "B", (), True))
    with pytest.raises(ValueError, match=r"actions without handlers: \['b'\]"):
        build_actions(host, QMenuBar(host), {"a": lambda: None}, table)
    seen: list[object] = []
    actions, menus = build_actions(
        host, QMenuBar(host), {"a": lambda: seen.append("a"), "b": seen.append}, table
    )
    actions["a"].trigger()
    actions["b"].trigger()
    assert seen == ["a", True]
    assert menus["View/Sub"].actions() == [actions["b"]]


@pytest.mark.gui
def test_window_keys_select_sequences_labels_and_tools(qtbot, tmp_path, monkeypatch) -> None:
    from app.qt.main_window import MainWindow
    from tests.core.io_fixtures import make_case
    from tests.gui.test_issue17_bugs import activate

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    window = MainWindow()
    window.ask = lambda title, text: True
    qtbot.addWidget(window)
    window.show()
    window.state.set_case(make_case((16, 16, 16), with_labels=False))
    activate(window, qtbot)
    view = window.slice_views["axial"]
    view.setFocus()
    for key, sequence in ((Qt.Key.Key_1, "t1"), (Qt.Key.Key_4, "flair"), (Qt.Key.Key_2, "t1ce")):
        qtbot.keyClick(view, key)
        assert window.state.display.sequence == sequence
        assert window.actions[f"sequence_{sequence}"].isChecked()
    qtbot.keyClick(view, Qt.Key.Key_L, Qt.KeyboardModifier.ShiftModifier)
    assert not window.state.display.overlay.show and not window.actions["show_labels"].isChecked()
    qtbot.keyClick(view, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.edit.settings.label == 3 and window.tools_panel.label_combo.currentText() == "ET"
    window.display_dock.raise_()
    for key, tool in ((Qt.Key.Key_B, "brush"), (Qt.Key.Key_E, "eraser"), (Qt.Key.Key_F, "fill")):
        window.display_dock.raise_()
        qtbot.keyClick(view, key)
        assert window.edit.active == tool
        assert window.tools_panel.isVisible()  # the Tools tab is shown with the tool
    qtbot.keyClick(view, Qt.Key.Key_N)
    assert window.edit.active == "navigate"
    checked = {name for name, action in window.actions.items() if action.isChecked()}
    assert checked == {"navigate", "label_ET", "sequence_t1ce", "device_auto", "raw_auto"}  # one per group
    window.close()
