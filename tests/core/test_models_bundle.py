"""UNet3D shapes and parameter counts; model bundles save, load and refuse broken folders."""

from __future__ import annotations

import json

import pytest
import torch

from segmentation_core.inference.postprocess import Postprocessing, bundle_postprocessing
from segmentation_core.models import BundleError, ModelBundle, UNet3D
from tests.core.model_fixtures import make_tiny_bundle


def test_unet_output_shapes_and_size() -> None:
    net = UNet3D(in_channels=4, out_channels=3, base_filters=4, depth=3).eval()
    assert net(torch.zeros(2, 4, 16, 24, 8)).shape == (2, 3, 16, 24, 8)
    assert net.divisor == 4
    # default family member: 4 levels, 32 base filters
    assert sum(p.numel() for p in UNet3D().parameters()) == 5_603_779


def test_deep_supervision_returns_full_resolution_first_in_training_only() -> None:
    net = UNet3D(base_filters=4, depth=3, deep_supervision=True)
    outputs = net.train()(torch.zeros(1, 4, 16, 16, 16))
    assert [tuple(o.shape[2:]) for o in outputs] == [(16, 16, 16), (8, 8, 8)]
    assert net.eval()(torch.zeros(1, 4, 16, 16, 16)).shape == (1, 3, 16, 16, 16)


def test_bundle_round_trip_keeps_weights_in_fp16(tmp_path) -> None:
    folder = make_tiny_bundle(tmp_path / "m", spacing=(2.0, 2.0, 2.0))
    bundle = ModelBundle.load(folder)
    assert bundle.spacing == (2.0, 2.0, 2.0) and bundle.patch_size == (16, 16, 16)
    assert bundle.channels == ("t1", "t1ce", "t2", "flair")
    stored = torch.load(folder / "weights.pt", weights_only=True)
    assert all(v.dtype == torch.float16 for v in stored.values() if v.is_floating_point())
    net = bundle.load_network()
    first = next(iter(stored))
    assert torch.equal(net.state_dict()[first], stored[first].float())


def test_missing_folder_names_the_file(tmp_path) -> None:
    with pytest.raises(BundleError, match=r"model\.json.*not a model bundle"):
        ModelBundle.load(tmp_path)


def test_foreign_json_is_refused(tmp_path) -> None:
    (tmp_path / "model.json").write_text(json.dumps({"hello": 1}))
    with pytest.raises(BundleError, match="missing keys"):
        ModelBundle.load(tmp_path)
    (tmp_path / "model.json").write_text("{not json")
    with pytest.raises(BundleError, match="unreadable"):
        ModelBundle.load(tmp_path)


def test_weights_that_do_not_match_are_refused(tmp_path) -> None:
    folder = make_tiny_bundle(tmp_path / "m")
    data = json.loads((folder / "model.json").read_text())
    data["architecture"]["base_filters"] = 8
    (folder / "model.json").write_text(json.dumps(data))
    with pytest.raises(BundleError, match="do not match the architecture"):
        ModelBundle.load(folder).load_network()
    (folder / "weights.pt").write_bytes(b"garbage")
    with pytest.raises(BundleError, match="cannot read weights"):
        ModelBundle.load(folder).load_network()


def test_norm_layers_are_instance_norm() -> None:
    """GroupNorm with one group per channel: the same result and parameter names as InstanceNorm3d."""
    torch.manual_seed(0)
    net = UNet3D(base_filters=4, depth=3)
    norm = net.encoders[1][1]
    torch.nn.init.normal_(norm.weight)
    torch.nn.init.normal_(norm.bias)
    x = torch.randn(2, 8, 6, 5, 7) * 3 + 1
    reference = torch.nn.InstanceNorm3d(8, affine=True)
    reference.load_state_dict(norm.state_dict())
    torch.testing.assert_close(norm(x), reference(x), atol=1e-5, rtol=1e-5)


def test_the_bundled_default_model_loads_with_its_flags() -> None:
    """model.json's architecture holds flags (deep_supervision: false) besides numbers; it must load."""
    from resources import default_model_dir

    folder = default_model_dir()
    architecture = json.loads((folder / "model.json").read_text())["architecture"]
    assert any(isinstance(v, bool) for v in architecture.values())
    bundle = ModelBundle.load(folder)
    assert bundle.version == "2.1"
    # the clean-up chosen by cross-validation (docs/model-experiments.md): core-less islands removed
    assert bundle_postprocessing(bundle) == Postprocessing(
        min_component_mm3=100.0,
        min_et_mm3=200.0,
        min_component_core_fraction=0.2,
        keep_component_within_mm=20.0,
    )
