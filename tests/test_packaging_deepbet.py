"""The frozen build carries deepbet's weights, runs it without pandas, and lists its licence."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_packaging import HOOKS, PACKAGING, REPO, load_module


def test_deepbet_hook_collects_the_weights_where_deepbet_looks_for_them() -> None:
    pytest.importorskip("PyInstaller", reason="PyInstaller is not installed (pip install pyinstaller)")
    from deepbet.utils import DATA_PATH

    hook = load_module(HOOKS / "hook-deepbet.py", "hook_deepbet")
    weights = {(Path(src).name, dest) for src, dest in hook.datas if src.endswith(".pt")}
    assert weights == {("model.pt", "data/models"), ("bbox_model.pt", "data/models")}
    assert all(Path(src).stat().st_size > 1_000_000 for src, _ in hook.datas if src.endswith(".pt"))
    # frozen: deepbet/utils.pyc sits in _internal/deepbet, so DATA_PATH = _internal/data
    assert Path(DATA_PATH).name == "data"
    assert (str(REPO / "THIRD_PARTY_NOTICES.md"), ".") in hook.datas
    assert {"pandas", "customtkinter"} <= set(hook.excludedimports)


def test_the_runtime_hook_lets_deepbet_load_without_pandas() -> None:
    # pandas looks absent (as in the frozen build): find_spec says so, as PyInstaller's importer would
    code = (
        "import importlib.util\n_find = importlib.util.find_spec\n"
        "importlib.util.find_spec = lambda name, *a: None if name == 'pandas' else _find(name, *a)\n"
        f"exec(open({str(PACKAGING / 'rthook_deepbet.py')!r}).read())\n"
        "from deepbet import BrainExtraction\n"
        "BrainExtraction(no_gpu=True)\n"
        "import pandas\n"
        "try:\n    pandas.DataFrame\nexcept AttributeError as e:\n    print('clear:', e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True
    )
    assert "clear: pandas is not part of this build (pandas.DataFrame was asked for)" in out.stdout


def test_the_spec_runs_the_pandas_runtime_hook_and_keeps_pandas_out() -> None:
    text = (PACKAGING / "brats_viewer.spec").read_text()
    assert '"pandas", "customtkinter", "darkdetect"' in text
    assert 'runtime_hooks=[str(ROOT / "packaging" / "rthook_deepbet.py")]' in text


def test_third_party_notices_carry_deepbets_licence() -> None:
    notices = (REPO / "THIRD_PARTY_NOTICES.md").read_text(encoding="utf-8")
    assert "## deepbet 1.0.2" in notices
    assert "Copyright (c) 2023 Medical Machine Learning Lab - University of Münster" in notices
    assert "Permission is hereby granted, free of charge" in notices
    for dependency in ("connected-components-3d", "fill_voids", "fastremap", "tqdm"):
        assert dependency in notices
