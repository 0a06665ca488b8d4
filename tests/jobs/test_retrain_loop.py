"""The whole loop on tiny data, CPU, real child process running the real ``brats-seg train``:

add corrected cases to the training library → retrain → version 2 registered with metrics → activate →
Segment loads version 2 → roll back to version 1.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from app.jobs.retrain import RetrainRequest, TrainingHistory, new_run_dir, read_held_out
from resources import default_model_dir
from segmentation_core.io import load_case
from segmentation_core.labels import REGION_NAMES as REGIONS
from segmentation_core.registry import (
    DATA_DIR_ENV,
    ModelRegistry,
    active_bundle_path,
    active_version,
    add_to_training_library,
    evaluate_missing,
    library_cases,
    runs_dir,
    training_library_dir,
)
from segmentation_core.training.progress import parse_event
from tests.core.io_fixtures import oblique_affine, write_brats_case
from tests.core.model_fixtures import make_tiny_bundle


def weights_of(bundle: Path) -> dict[str, np.ndarray]:
    from segmentation_core.models.bundle import ModelBundle

    return {k: v.numpy() for k, v in ModelBundle.load(bundle).load_network().state_dict().items()}


def same_weights(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_export_retrain_register_activate_segment_roll_back(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    from segmentation_core.inference import Predictor, run_prediction
    from segmentation_core.models.bundle import ModelBundle

    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))
    registry = ModelRegistry(default_bundle=make_tiny_bundle(tmp_path / "default", seed=1))

    # 1. "Export ▸ add to my training set" for three corrected cases.
    for index in range(3):
        source = write_brats_case(
            tmp_path / "src" / f"C{index}", (24, 24, 24), oblique_affine(), case_id=f"C{index}", seed=index
        )
        case = load_case(source)
        add_to_training_library(case, case.labels.array, model_version="1")
    assert [p.name for p in library_cases()] == ["C0", "C1", "C2"]

    # 2. Retrain in a real child process with the real CLI.
    request = RetrainRequest(
        data_dir=training_library_dir(),
        init_bundle=registry.active_bundle_path(),
        out_dir=new_run_dir(runs_dir()),
        epochs=2,
        device="cpu",
        base_version=1,
        extra_args=("--iterations-per-epoch", "2", "--val-every", "2"),
    )
    result = subprocess.run(request.command(), capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    history = TrainingHistory(epochs=2)
    for line in result.stdout.splitlines():
        event = parse_event(line)
        assert event is not None, f"not a progress event of the schema: {line!r}"
        history.feed(event)
    assert [x for x, _ in history.loss] == [1.0, 2.0]
    assert all([x for x, _ in history.dice[r]] == [2.0] for r in REGIONS)
    assert history.bundle == str(request.out_dir)

    # 3. Register as version 2; its held-out case becomes the fixed validation set; evaluate.
    held_out = read_held_out(request.out_dir)
    assert held_out is not None and len(held_out) == 1
    version = registry.register(request.out_dir, base_version=1, data_size=2, validation_cases=held_out)
    assert version.number == 2
    assert registry.validation_cases() == held_out
    assert evaluate_missing(registry, device="cpu") == [1, 2]
    for number in (1, 2):
        evaluation = registry.version(number).evaluation
        assert list(evaluation["cases"]) == [held_out[0].name]
        for region in REGIONS:
            assert 0.0 <= registry.version(number).mean_metric(region, "dice") <= 1.0
            assert registry.version(number).mean_metric(region, "hd95") >= 0.0

    # 4. Activate: Segment loads version 2's weights (the fine-tuned ones, not version 1's).
    registry.activate(2)
    assert active_bundle_path() == registry.dir / "versions" / "2"
    tuned = weights_of(active_bundle_path())
    assert same_weights(tuned, weights_of(request.out_dir))
    assert not same_weights(tuned, weights_of(registry.default_bundle))
    case = load_case(library_cases()[0])
    labels = np.asarray(
        run_prediction(Predictor(ModelBundle.load(active_bundle_path()), device="cpu"), case).labels
    )
    assert labels.shape == case.shape

    # 5. Roll back: version 1 is active again and version 2 stays registered.
    assert registry.roll_back() == 1
    assert registry.active_bundle_path() == registry.default_bundle
    assert active_version() == 1 and active_bundle_path() == default_model_dir()  # the user's registry
    assert [v.number for v in registry.versions()] == [1, 2]
