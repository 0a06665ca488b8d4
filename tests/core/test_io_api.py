"""The public names of ``segmentation_core.io`` resolve, and importing the package loads no slow library."""

from __future__ import annotations

import subprocess
import sys

import segmentation_core.io as io


def test_every_public_name_resolves_to_its_submodule_object() -> None:
    for name in io.__all__:
        value = getattr(io, name)
        assert value.__name__ == name
        assert value.__module__.startswith("segmentation_core.io.")


def test_unknown_names_raise_attribute_error() -> None:
    try:
        io.no_such_function  # noqa: B018 (the attribute access is the test)
    except AttributeError as exc:
        assert "no_such_function" in str(exc)
    else:
        raise AssertionError("an unknown name resolved")


def test_importing_the_error_type_loads_neither_nibabel_nor_simpleitk() -> None:
    code = "import sys; from segmentation_core.io import CaseLoadError; print('nibabel' in sys.modules, 'SimpleITK' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]
