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


def test_coarse_inputs_round_trip_widen_the_network_and_are_checked(tmp_path: Path) -> None:
    from segmentation_core.models import ModelBundle
    from tests.core.model_fixtures import make_tiny_bundle

    bundle = ModelBundle.load(make_tiny_bundle(tmp_path / "fine", coarse_inputs=("WT", "ET")))
    assert bundle.coarse_inputs == ("WT", "ET")
    assert next(bundle.load_network().parameters()).shape[1] == 6  # first convolution: 4 sequences + 2 maps
    assert ModelBundle.load(make_tiny_bundle(tmp_path / "plain")).coarse_inputs == ()
    data = json.loads((tmp_path / "fine" / "model.json").read_text())
    for wrong in (["WT", "WT"], ["NCR"], "WT"):
        (tmp_path / "fine" / "model.json").write_text(json.dumps({**data, "coarse_inputs": wrong}))
        with pytest.raises(BundleError, match=r"fine/model.json: .*coarse_inputs"):
            ModelSpec.load(tmp_path / "fine")
