"""The bundled resources are found through importlib.resources."""

from __future__ import annotations

from pathlib import Path

import resources

REPO = Path(__file__).resolve().parents[2]


def test_resource_paths_point_into_the_package() -> None:
    assert resources.sample_case_dir() == REPO / "resources" / "sample" / "Brats18_CBICA_AME_1"
    assert resources.default_model_dir() == REPO / "resources" / "models" / "default"
