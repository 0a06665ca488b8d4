"""PyInstaller runtime hook: deepbet imports pandas at import time but uses it only to write TIV CSV files,
which the app never asks for. pandas (60 MB) is not in the build; a bare module stands in for that import
and fails clearly if anything ever uses it."""

import importlib.util
import sys
import types

if importlib.util.find_spec("pandas") is None:

    def _missing(name: str) -> object:
        raise AttributeError(f"pandas is not part of this build (pandas.{name} was asked for)")

    stand_in = types.ModuleType("pandas")
    stand_in.__getattr__ = _missing  # type: ignore[method-assign]
    sys.modules["pandas"] = stand_in
