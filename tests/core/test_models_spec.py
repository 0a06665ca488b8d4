"""model.json is read in one place, without torch; the bundle adds the network on top."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import resources
from segmentation_core.models.spec import BundleError, ModelSpec

REPO = Path(__file__).resolve().parents[2]


def test_reading_a_model_description_imports_no_torch() -> None:
    code = (
        "import sys; from segmentation_core.models import ModelSpec; import resources\n"
        "spec = ModelSpec.load(resources.default_model_dir())\n"
        "print(spec.outputs, 'torch' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "('WT', 'TC', 'ET') False"


def test_the_bundle_is_the_spec_plus_the_network() -> None:
    from segmentation_core.models import ModelBundle

    spec = ModelSpec.load(resources.default_model_dir())
    bundle = ModelBundle.load(resources.default_model_dir())
    assert isinstance(bundle, ModelSpec) and type(spec) is ModelSpec
    assert bundle.to_json() == spec.to_json()


def test_a_bad_description_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "model.json").write_text(json.dumps({"name": "x", "version": "1"}))
    with pytest.raises(BundleError, match=r"model.json: missing keys \['architecture', 'channels'"):
        ModelSpec.load(tmp_path)
    with pytest.raises(BundleError, match="not a model bundle"):
        ModelSpec.load(tmp_path / "nowhere")
