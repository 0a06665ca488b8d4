"""PyInstaller hook: deepbet's network weights (inside its wheel, beside the package) and its compiled helpers.

deepbet reads ``<site-packages>/data/models/*.pt`` (``deepbet.utils.DATA_PATH``); in the frozen app that
is ``_internal/data/models``. The app's third-party notices (deepbet's licence among them) go to
``_internal/THIRD_PARTY_NOTICES.md``. Its GUI (customtkinter) and the TIV CSV writer (pandas) are never used.
"""

from pathlib import Path

from deepbet.utils import DATA_PATH

NOTICES = Path(__file__).resolve().parents[2] / "THIRD_PARTY_NOTICES.md"
datas = [(str(path), "data/models") for path in sorted(Path(DATA_PATH, "models").glob("*.pt"))]
datas.append((str(NOTICES), "."))
hiddenimports = ["cc3d", "fill_voids", "fastremap"]
excludedimports = ["deepbet.ui", "customtkinter", "pandas"]
