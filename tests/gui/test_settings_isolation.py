"""Every test gets its own Qt settings: what one test's window remembers is not offered in the next."""

from __future__ import annotations

from PySide6.QtCore import QSettings


def remembered() -> QSettings:
    return QSettings("brats-viewer", "BraTS Viewer")


def test_a_window_remembers_an_export_folder() -> None:
    settings = remembered()
    assert settings.value("export/folder") is None
    settings.setValue("export/folder", "/somewhere/only/this/test/chose")
    settings.sync()
    assert remembered().value("export/folder") == "/somewhere/only/this/test/chose"


def test_the_next_test_does_not_see_it() -> None:
    assert remembered().value("export/folder") is None
