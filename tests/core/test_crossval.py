"""Cross-validation: the fold split, fold training through the CLI, resumable driver, the CV report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from segmentation_core.cli import main as cli_main
from segmentation_core.models.bundle import ModelBundle
from segmentation_core.training.config import TrainConfig
from segmentation_core.training.crossval import CrossValidation
from segmentation_core.training.crossval_report import (
    choose_coreless_rule,
    choose_min_et,
    comparison_markdown,
    write_report,
)
from segmentation_core.training.data import DatasetError
from segmentation_core.training.folds import fold_assignment, fold_cases, release_of
from segmentation_core.training.trainer import split_cases
from tests.core.io_fixtures import write_brats_case
from tests.core.model_fixtures import make_tiny_bundle

REAL_TRAINING = [
    "BraTS2021_00000", "BraTS2021_00002", "BraTS2021_00006", "BraTS2021_00014", "BraTS2021_00024",
    "Brats18_2013_11_1", "Brats18_2013_23_1", "Brats18_CBICA_ALU_1", "Brats18_CBICA_AQN_1",
    "Brats18_CBICA_AVG_1", "Brats18_TCIA01_378_1", "Brats18_TCIA01_425_1", "Brats18_TCIA01_499_1",
    "Brats18_TCIA02_135_1", "Brats18_TCIA02_370_1", "Brats18_TCIA03_265_1", "Brats18_TCIA10_637_1",
]  # fmt: skip
VALIDATION = ["Brats18_2013_20_1", "Brats18_CBICA_AME_1", "Brats18_TCIA10_628_1"]


def test_the_project_split_is_fixed_disjoint_covering_and_stratified_by_release() -> None:
    assignment = fold_assignment(reversed(REAL_TRAINING), 5)
    folds = [sorted(c for c, f in assignment.items() if f == k) for k in range(5)]
    assert folds == [
        ["BraTS2021_00002", "Brats18_2013_23_1", "Brats18_CBICA_ALU_1", "Brats18_TCIA10_637_1"],
        ["BraTS2021_00024", "Brats18_CBICA_AQN_1", "Brats18_TCIA01_425_1", "Brats18_TCIA02_370_1"],
        ["BraTS2021_00006", "Brats18_TCIA01_499_1", "Brats18_TCIA02_135_1"],
        ["BraTS2021_00000", "Brats18_CBICA_AVG_1", "Brats18_TCIA01_378_1"],
        ["BraTS2021_00014", "Brats18_2013_11_1", "Brats18_TCIA03_265_1"],
    ]
    assert sorted(sum(folds, [])) == sorted(REAL_TRAINING)  # covering and (by count) disjoint
    assert all(sum(release_of(c) == "brats2021" for c in fold) == 1 for fold in folds)
    assert fold_cases(REAL_TRAINING, 5, 2) == folds[2]


def test_bad_fold_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 2 folds"):
        fold_assignment(REAL_TRAINING, 1)
    with pytest.raises(ValueError, match="3 case"):
        fold_assignment(["a", "b", "c"], 5)
    with pytest.raises(ValueError, match="0..4"):
        fold_cases(REAL_TRAINING, 5, 5)


def test_excluded_cases_are_in_no_fold_training_or_validation(tmp_path) -> None:
    dirs = [tmp_path / name for name in REAL_TRAINING + VALIDATION]
    for fold in range(5):
        config = TrainConfig(data=tmp_path, out=tmp_path, folds=5, fold=fold, exclude_cases=VALIDATION)
        train, val = split_cases(dirs, config)
        names = {p.name for p in train} | {p.name for p in val}
        assert names == set(REAL_TRAINING) and not {p.name for p in train} & {p.name for p in val}
        assert [p.name for p in val] == fold_cases(REAL_TRAINING, 5, fold)
    with pytest.raises(DatasetError, match="not found"):
        split_cases(dirs, TrainConfig(data=tmp_path, out=tmp_path, exclude_cases=["Nope"]))
    with pytest.raises(DatasetError, match="not both"):
        split_cases(dirs, TrainConfig(data=tmp_path, out=tmp_path, folds=5, val_cases=VALIDATION))


def test_et_threshold_choice_has_exact_scores() -> None:
    ref_with_et = np.zeros((10, 10, 10), np.uint8)
    ref_with_et[2:4, 2:4, 2:4] = 3  # 8 ET voxels
    pred_hit = ref_with_et.copy()  # ET Dice 1 when kept
    ref_without = np.zeros((10, 10, 10), np.uint8)
    ref_without[5:8, 5:8, 5:8] = 1
    pred_false_et = ref_without.copy()
    pred_false_et[5, 5, 5:8] = 3  # 3 false ET voxels: Dice 0 kept, 1 dropped
    best, means = choose_min_et(
        [pred_hit, pred_false_et], [ref_with_et, ref_without], (2.0, 2.0, 2.0), (0.0, 20.0, 30.0, 100.0)
    )
    # 3 voxels = 24 mm^3, 8 voxels = 64 mm^3 at 2 mm
    assert means == {0.0: 0.5, 20.0: 0.5, 30.0: 1.0, 100.0: 0.5}
    assert best == 30.0


def test_coreless_rule_choice_has_exact_scores_and_prefers_the_least_intervention() -> None:
    ref = np.zeros((20, 20, 20), np.uint8)
    ref[1:5, 1:5, 1:5] = 1  # the tumour: 64 voxels of NCR (WT = TC), no ET
    pred = ref.copy()
    pred[10:14, 1:5, 1:5] = 2  # a false island of edema, 64 voxels, 6 mm from the tumour
    pred[16:18, 16:18, 16:18] = 1  # a false island with 8 core voxels (1/8 of the main core), 20.8 mm away
    fraction, reach, by_fraction, by_reach = choose_coreless_rule(
        [pred], [ref], (1.0, 1.0, 1.0), (0.0, 0.1, 0.2, 1.0), (0.0, 5.0, 7.0, 25.0)
    )
    # WT Dice 2*64/(64+136), 2*64/(64+72), 1; TC Dice 1, 2*64/(64+8), 1; ET 1 (both empty)
    untouched = (0.64 + 128 / 136 + 1) / 3
    assert by_fraction == pytest.approx(
        {0.0: untouched, 0.1: (128 / 136 + 128 / 136 + 1) / 3, 0.2: 1.0, 1.0: 1.0}
    )
    assert fraction == 0.2  # 0.2 and 1.0 tie: the smaller one
    # within 7 mm the edema island stays (WT Dice 2*64/(64+128)); within 25 mm both islands stay
    assert by_reach == pytest.approx({0.0: 1.0, 5.0: 1.0, 7.0: (128 / 192 + 2) / 3, 25.0: untouched})
    assert reach == 5.0  # 0 and 5 tie: the larger reach removes less
    with pytest.raises(ValueError, match="no cross-validation predictions"):
        choose_coreless_rule([], [])


@pytest.fixture(scope="module")
def cv_data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("cvdata")
    for i, name in enumerate(["A_1", "A_2", "A_3", "B_1", "B_2", "Val_1"]):
        write_brats_case(root / name, shape=(24, 24, 24), case_id=name, seed=i)
    return root


def tiny_cv(data: Path, out: Path) -> CrossValidation:
    settings = {"patch_size": (16, 16, 16), "spacing": None, "base_filters": 4, "depth": 3, "lr": 1e-2}
    return CrossValidation(
        data=data, out=out, recipe="tiny", settings=settings, folds=2, epochs=2,
        iterations_per_epoch=2, threads=1, exclude=("Val_1",),
    )  # fmt: skip


def test_train_cli_fold_holds_out_exactly_that_fold(cv_data, tmp_path) -> None:
    out = tmp_path / "fold1"
    code = cli_main(
        ["train", "--data", str(cv_data), "--out", str(out), "--folds", "2", "--fold", "1",
         "--exclude-cases", "Val_1", "--epochs", "1", "--iterations-per-epoch", "1", "--patch-size",
         "16", "16", "16", "--native-spacing", "--base-filters", "4", "--depth", "3", "--val-every", "0"]
    )  # fmt: skip
    assert code == 0
    training = ModelBundle.load(out).training
    held = fold_cases(["A_1", "A_2", "A_3", "B_1", "B_2"], 2, 1)
    assert training["val_cases"] == held
    assert sorted(training["train_cases"]) == sorted({"A_1", "A_2", "A_3", "B_1", "B_2"} - set(held))


def test_crossval_runs_resumes_and_reports(cv_data, tmp_path) -> None:
    out = tmp_path / "cv"
    cv = tiny_cv(cv_data, out)
    cv.check_description()
    cv.train_fold(0)  # fold 1 "killed" before it started; fold 0 trained but not predicted
    assert cv.trained(0) and not cv.trained(1)
    first_weights = (out / "fold0" / "weights.pt").read_bytes()
    cv = tiny_cv(cv_data, out)
    cv.run()  # continues: fold 0 is not retrained, fold 1 is trained, both are predicted
    assert (out / "fold0" / "weights.pt").read_bytes() == first_weights
    assert cv.folds_done() == 2
    assert cv.predicted_cases() == ["A_1", "A_2", "A_3", "B_1", "B_2"]
    probabilities = cv.probabilities("A_1")
    assert probabilities.shape == (3, 24, 24, 24) and 0 <= probabilities.min() <= probabilities.max() <= 1
    report = tmp_path / "experiments.md"
    report.write_text("# Experiments\n")
    text = write_report(cv, report)
    metrics = json.loads((out / "metrics.json").read_text())
    assert sorted(metrics["cases"]) == ["A_1", "A_2", "A_3", "B_1", "B_2"]
    assert metrics["summary"]["folds_trained"] == 2 and "Val_1" not in text
    assert json.loads((out / "postprocessing.json").read_text()) == metrics["postprocessing"]
    assert metrics["postprocessing"]["min_component_mm3"] == 100.0
    assert set(metrics["summary"]["core_threshold_scores"]) == {
        "0.0", "0.001", "0.01", "0.03", "0.1", "0.2", "0.3", "0.5", "1.0"
    }  # fmt: skip
    assert set(metrics["summary"]["keep_within_scores"]) == {"0.0", "5.0", "10.0", "15.0", "20.0"}
    assert "Core-less rule chosen over these CV predictions" in text
    assert report.read_text().startswith("# Experiments\n") and "### Recipe `tiny`" in report.read_text()
    assert text.count("(fold ") == 5
    bad = tiny_cv(cv_data, out)
    bad.epochs = 3
    with pytest.raises(ValueError, match="other settings"):
        bad.check_description()


REAL = (Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real").resolve()


@pytest.mark.skipif(not REAL.is_dir(), reason="real BraTS cases (../shared/data/real) not present")
def test_real_data_folds_never_see_the_validation_cases() -> None:
    from segmentation_core.io import find_cases
    from segmentation_core.training.crossval import PROJECT_VALIDATION_CASES

    dirs = find_cases(REAL)
    held = []
    for fold in range(5):
        config = TrainConfig(
            data=REAL, out=REAL, folds=5, fold=fold, exclude_cases=list(PROJECT_VALIDATION_CASES)
        )
        train, val = split_cases(dirs, config)
        assert not {p.name for p in train + val} & set(VALIDATION)
        assert len(train) + len(val) == 17
        held += [p.name for p in val]
    assert sorted(held) == sorted(REAL_TRAINING)


def test_train_stores_the_chosen_postprocessing_and_fine_tuning_keeps_it(cv_data, tmp_path, capsys) -> None:
    settings = tmp_path / "postprocessing.json"
    settings.write_text(
        json.dumps({"min_component_mm3": 100.0, "min_et_mm3": 300.0, "min_component_core_fraction": 0.2})
    )
    tiny = ["--epochs", "1", "--iterations-per-epoch", "1", "--patch-size", "16", "16", "16", "--native-spacing",
            "--base-filters", "4", "--depth", "3", "--val-every", "0", "--exclude-cases", "Val_1"]  # fmt: skip
    first = tmp_path / "first"
    assert (
        cli_main(
            ["train", "--data", str(cv_data), "--out", str(first), "--postprocessing", str(settings), *tiny]
        )
        == 0
    )
    expected = {
        "min_component_mm3": 100.0,
        "min_et_mm3": 300.0,
        "min_core_component_mm3": 0.0,
        "min_component_core_fraction": 0.2,
        "keep_component_within_mm": 0.0,
    }
    assert ModelBundle.load(first).postprocessing == expected
    tuned = tmp_path / "tuned"
    assert cli_main(["train", "--data", str(cv_data), "--out", str(tuned), "--init", str(first), *tiny]) == 0
    assert ModelBundle.load(tuned).postprocessing == expected
    settings.write_text('{"min_et_mm3": -5}')
    assert (
        cli_main(
            [
                "train",
                "--data",
                str(cv_data),
                "--out",
                str(tmp_path / "bad"),
                "--postprocessing",
                str(settings),
                *tiny,
            ]
        )
        == 2
    )
    assert f"{settings}: not usable post-processing settings" in capsys.readouterr().err


def test_comparison_uses_only_the_cases_every_run_scored(tmp_path) -> None:
    def scored(folder: str, cases: dict[str, float]) -> Path:
        out = tmp_path / folder
        out.mkdir()
        metrics = {c: {r: {"dice": d, "hd95": 10 * d} for r in ("WT", "TC", "ET")} for c, d in cases.items()}
        (out / "metrics.json").write_text(json.dumps({"cases": metrics}))
        return out

    a = scored("a", {"X": 0.5, "Y": 0.7, "Z": 0.1})
    b = scored("b", {"X": 0.9, "Y": 0.3})
    text = comparison_markdown([a, b])
    assert "over the 2 held-out cases scored by every run (a: 3, b: 2 scored)" in text
    assert "| a | 0.600 | 0.600 | 0.600 | 0.600 | 6.0 | 6.0 | 6.0 | 0.500 (X) |" in text
    assert "| b | 0.600 | 0.600 | 0.600 | 0.600 | 6.0 | 6.0 | 6.0 | 0.300 (Y) |" in text
    # paired per case over X and Y: differences +0.4 and -0.4 (sd 0.566, standard error 0.566 / sqrt(2))
    assert (
        "- `b`: mean difference +0.000 (standard error 0.400, n = 2); better on 1, worse on 1, equal on 0 "
        "cases; per region WT +0.000, TC +0.000, ET +0.000." in text
    )
    c = scored("c", {"X": 0.6, "Y": 0.9})  # +0.1 and +0.2 over a: sd 0.0707, standard error 0.05
    assert (
        "- `c`: mean difference +0.150 (standard error 0.050, n = 2); better on 2, worse on 0, equal on 0 "
        "cases; per region WT +0.150, TC +0.150, ET +0.150." in comparison_markdown([a, b, c])
    )
    with pytest.raises(ValueError, match="no scored cross-validation"):
        comparison_markdown([a, tmp_path])


def test_cascade_recipe_uses_the_coarse_runs_fold_models(cv_data, tmp_path) -> None:
    coarse = tmp_path / "coarse"
    early = tiny_cv(cv_data, tmp_path / "early")
    early.coarse = coarse
    early.check_description()
    early.train_fold(0)
    with pytest.raises(ValueError, match="fold 0 is not trained yet"):
        early.predict_fold(0)
    tiny_cv(cv_data, coarse).run()
    cascade = tiny_cv(cv_data, tmp_path / "fine")
    cascade.coarse = coarse
    cascade.run()
    assert cascade.predicted_cases() == ["A_1", "A_2", "A_3", "B_1", "B_2"]
    assert json.loads((tmp_path / "fine" / "recipe.json").read_text())["coarse"] == str(coarse.resolve())
    with pytest.raises(ValueError, match="other settings"):
        tiny_cv(cv_data, tmp_path / "fine").check_description()  # the same folder without --coarse


def test_guided_cascade_trains_on_the_coarse_runs_held_out_predictions(cv_data, tmp_path) -> None:
    from segmentation_core.io import load_case
    from segmentation_core.preprocessing import preprocess

    settings = {
        "patch_size": (16, 16, 16),
        "spacing": None,
        "base_filters": 4,
        "depth": 3,
        "coarse_input": True,
    }

    def guided(coarse: Path | None) -> CrossValidation:
        return CrossValidation(
            data=cv_data, out=tmp_path / "guided", recipe="tiny-guided", settings=settings, folds=2, epochs=1,
            iterations_per_epoch=2, threads=1, exclude=("Val_1",), coarse=coarse,
        )  # fmt: skip

    with pytest.raises(ValueError, match="recipe 'tiny-guided' takes a coarse run's predictions as input"):
        guided(None)
    coarse = tiny_cv(cv_data, tmp_path / "coarse")
    coarse.run()
    cv = guided(coarse.out)
    cv.run()
    assert cv.predicted_cases() == ["A_1", "A_2", "A_3", "B_1", "B_2"]
    bundle = ModelBundle.load(tmp_path / "guided" / "fold0")
    assert bundle.coarse_inputs == ("WT", "TC", "ET") and bundle.training["val_every"] == 0
    for case_id in bundle.training["train_cases"]:  # fold 1's cases, predicted by the coarse fold 1 model
        assert coarse.assignment[case_id] == 1
        image = np.load(tmp_path / "guided" / "cache" / f"{case_id}_image.npy")
        box = preprocess(load_case(cv_data / case_id), bundle.channels).box
        expected = coarse.probabilities(case_id)[(slice(None), *box)]
        assert image.shape == (7, *expected.shape[1:])
        np.testing.assert_allclose(image[4:].astype(np.float32), expected, rtol=0, atol=5e-4)


def test_a_guided_fine_stage_is_refused_when_set_up_inconsistently(cv_data, tmp_path, capsys) -> None:
    def error(*extra: str) -> str:
        code = cli_main(
            ["train", "--data", str(cv_data), "--out", str(tmp_path / "out"), "--epochs", "1",
             "--iterations-per-epoch", "1", "--patch-size", "16", "16", "16", "--native-spacing",
             "--base-filters", "4", "--depth", "3", *extra]
        )  # fmt: skip
        assert code != 0
        return capsys.readouterr().err.strip()

    assert error("--coarse-probabilities", str(tmp_path)).endswith("train it with --val-every 0")
    assert error("--coarse-probabilities", str(tmp_path / "nowhere"), "--val-every", "0") == (
        f"error: {tmp_path / 'nowhere'}: the coarse predictions folder does not exist"
    )
    assert error("--coarse-probabilities", str(tmp_path), "--val-every", "0").endswith(
        "expected one coarse prediction A_1.npz, found none"
    )
    plain = make_tiny_bundle(tmp_path / "plain")
    assert error("--init", str(plain), "--coarse-probabilities", str(tmp_path), "--val-every", "0") == (
        f"error: {plain}: this model takes no coarse probabilities; the new one must take the same inputs"
    )
    assert not (tmp_path / "out" / "model.json").exists()
