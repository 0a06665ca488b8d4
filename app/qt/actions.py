"""The one actions table: every menu entry and keyboard shortcut of the main window.

Each row is (name, menu, text, shortcut); the window supplies one handler per name, and
:func:`build_actions` creates the QActions, fills the menus in table order and binds the keys.
A shortcut appears here once or not at all (``tests/gui/test_actions.py`` proves it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu, QMenuBar

MENUS = ("File", "Edit", "Segment", "Retrain", "View", "Help")

#: Handler of a plain action (called without arguments) or of a checkable one (called with its state).
Handler = Callable[..., object]


@dataclass(frozen=True)
class ActionSpec:
    """One row of the table."""

    name: str
    menu: str  # "File", or "View/Sequence" for a submenu
    text: str
    shortcuts: tuple[str, ...] = ()
    checkable: bool = False
    group: str | None = None  # exclusive group of checkable actions
    separator: bool = False  # a separator before this entry
    #: Shortcut active only while one of the widgets the action is added to has focus (not window-wide).
    widget_only: bool = False


A = ActionSpec
ACTIONS: tuple[ActionSpec, ...] = (
    A("open_folder", "File", "&Open case folder…", ("Ctrl+O",)),
    A("open_files", "File", "Open case &files…"),
    A("open_dicom", "File", "Open &DICOM folder…"),
    A("open_sample", "File", "Open &sample case (BraTS 2018)"),
    A("reopen_scheme", "File", "Reopen with another &label scheme…"),
    A("export", "File", "&Export segmentation…", ("Ctrl+E",), separator=True),
    A("report", "File", "&Report (PDF, HTML, JSON)…"),
    A("quit", "File", "&Quit", ("Ctrl+Q",), separator=True),
    A("undo", "Edit", "&Undo", ("Ctrl+Z",)),
    A("redo", "Edit", "&Redo", ("Ctrl+Shift+Z", "Ctrl+Y")),
    A("navigate", "Edit", "&Navigate (crosshair)", ("N",), True, "tool", separator=True),
    A("brush", "Edit", "&Brush", ("B",), True, "tool"),
    A("eraser", "Edit", "&Eraser", ("E",), True, "tool"),
    A("fill", "Edit", "&Flood fill in slice", ("F",), True, "tool"),
    A("lasso", "Edit", "&Lasso fill", ("L",), True, "tool"),
    A("polygon", "Edit", "&Polygon fill (click points, Enter closes)", ("P",), True, "tool"),
    A("close_polygon", "Edit", "&Close polygon (in a slice view)", ("Return", "Enter"), widget_only=True),
    A("label_NCR", "Edit", "Active label: NCR", ("Ctrl+1",), True, "label", separator=True),
    A("label_ED", "Edit", "Active label: ED", ("Ctrl+2",), True, "label"),
    A("label_ET", "Edit", "Active label: ET", ("Ctrl+3",), True, "label"),
    A("run_ai", "Segment", "&Run AI segmentation", ("Ctrl+R",)),
    A("device_auto", "Segment/&Device", "&Automatic (GPU when available)", (), True, "device"),
    A("device_cuda", "Segment/&Device", "&GPU (CUDA)", (), True, "device"),
    A("device_cpu", "Segment/&Device", "&CPU", (), True, "device"),
    A("tta", "Segment", "&Test-time augmentation (8 mirrors, slower)", (), True),
    A("raw_auto", "Segment/Raw-study &preprocessing", "&Automatic (detect raw studies)", (), True, "raw"),
    A("raw_raw", "Segment/Raw-study &preprocessing", "A&lways (co-register, skull-strip)", (), True, "raw"),
    A("raw_brats", "Segment/Raw-study &preprocessing", "&Never (BraTS-like input)", (), True, "raw"),
    A("review_next", "Segment", "&Next low-confidence region", ("]",), separator=True),
    A("review_previous", "Segment", "&Previous low-confidence region", ("[",)),
    A("review_mark", "Segment", "&Mark region reviewed", ("R",)),
    A("fine_tune", "Retrain", "&Fine-tune on my corrected cases…"),
    A("manage_models", "Retrain", "&Manage models…", separator=True),
    A("sequence_t1", "View/&Sequence", "T&1", ("1",), True, "sequence"),
    A("sequence_t1ce", "View/&Sequence", "T1&ce", ("2",), True, "sequence"),
    A("sequence_t2", "View/&Sequence", "T&2", ("3",), True, "sequence"),
    A("sequence_flair", "View/&Sequence", "&FLAIR", ("4",), True, "sequence"),
    A("reset_views", "View", "&Reset slice views (zoom and pan)"),
    A("neurological", "View", "&Neurological convention (patient left on the left)", (), True),
    A("show_labels", "View", "Show &labels", ("Shift+L",), True, separator=True),
    A("outline", "View", "Label &outlines", ("O",), True),
    A("confidence", "View", "AI &confidence overlay (uncertain voxels as a heat map)", ("C",), True),
    A(
        "check_alignment",
        "View",
        "Check &alignment… (raw study co-registration)",
        ("Ctrl+Shift+A",),
        separator=True,
    ),
    A("reset_camera", "View", "Reset 3D &camera", separator=True),
    A("screenshot_3d", "View", "Save 3D &screenshot…"),
    A("about", "Help", "&About BraTS Viewer"),
)


def build_actions(
    parent: QObject,
    menu_bar: QMenuBar,
    handlers: Mapping[str, Handler],
    table: tuple[ActionSpec, ...] = ACTIONS,
) -> tuple[dict[str, QAction], dict[str, QMenu]]:
    """Create the menus and actions of ``table``; ``handlers`` has exactly one callable per name.

    A checkable action's handler gets the new checked state (``toggled`` for a lone checkable action,
    ``triggered`` inside a group). Returns the actions and the menus (submenus as "View/Sequence").
    """
    names = [spec.name for spec in table]
    if set(handlers) != set(names) or len(set(names)) != len(names):
        missing, extra = set(names) - set(handlers), set(handlers) - set(names)
        raise ValueError(
            f"actions without handlers: {sorted(missing)}; handlers without actions: {sorted(extra)}"
        )
    menus: dict[str, QMenu] = {}
    for title in MENUS:
        menus[title] = menu_bar.addMenu(f"&{title}")
    groups: dict[str, QActionGroup] = {}
    actions: dict[str, QAction] = {}
    for spec in table:
        menu = _menu(menus, spec.menu)
        action = QAction(spec.text, parent)
        action.setObjectName(f"action_{spec.name}")
        action.setShortcuts([QKeySequence(key) for key in spec.shortcuts])
        if spec.widget_only:
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        handler = handlers[spec.name]
        if spec.checkable:
            action.setCheckable(True)
            if spec.group is not None:
                groups.setdefault(spec.group, QActionGroup(parent)).addAction(action)
                action.triggered.connect(lambda checked=False, h=handler: h(checked))
            else:
                action.toggled.connect(lambda checked, h=handler: h(checked))
        else:
            action.triggered.connect(lambda _checked=False, h=handler: h())
        if spec.separator:
            menu.addSeparator()
        menu.addAction(action)
        actions[spec.name] = action
    return actions, menus


def _menu(menus: dict[str, QMenu], path: str) -> QMenu:
    if path not in menus:
        parent, _, title = path.rpartition("/")
        menus[path] = _menu(menus, parent).addMenu(title)
    return menus[path]


def shortcut_clashes(table: tuple[ActionSpec, ...] = ACTIONS) -> dict[str, list[str]]:
    """Key sequences bound to more than one action (should be empty)."""
    seen: dict[str, list[str]] = {}
    for spec in table:
        for key in spec.shortcuts:
            seen.setdefault(QKeySequence(key).toString(), []).append(spec.name)
    return {key: names for key, names in seen.items() if len(names) > 1}
