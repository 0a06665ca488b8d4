"""PyInstaller runtime hook: deepbet imports pandas at import time but uses it only to write TIV CSV files,
which the app never asks for. pandas (60 MB) is not in the build; a bare module stands in for that import
and fails clearly if anything ever uses it. The stand-in is put in place only when deepbet is imported, so
processes that never run brain extraction (training, plain prediction) see no pandas at all."""

import importlib.machinery
import importlib.util
import sys
import types


def _missing(name: str) -> object:
    raise AttributeError(f"pandas is not part of this build (pandas.{name} was asked for)")


class _PandasForDeepbet:
    """A meta-path finder that, when deepbet is about to be imported, puts the pandas stand-in in place."""

    @staticmethod
    def find_spec(name: str, path: object = None, target: object = None) -> None:
        if name == "deepbet" and "pandas" not in sys.modules:
            stand_in = types.ModuleType("pandas")
            stand_in.__getattr__ = _missing  # type: ignore[method-assign]
            stand_in.__spec__ = importlib.machinery.ModuleSpec("pandas", None, origin="stand-in")
            sys.modules["pandas"] = stand_in
        return None  # the normal finders import deepbet itself


if importlib.util.find_spec("pandas") is None:
    sys.meta_path.insert(0, _PandasForDeepbet())
