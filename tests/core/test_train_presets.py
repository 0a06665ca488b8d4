"""``brats-seg train --preset``: the GPU recipe's settings, explicit options winning, a tiny CPU run."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
import torch

from segmentation_core.cli import main as cli_main
from segmentation_core.models.bundle import ModelBundle
from segmentation_core.training.checkpoint import LAST, load_checkpoint
from segmentation_core.training.cli_args import add_train_arguments, config_from_args
from segmentation_core.training.trainer import autocast_dtype
from tests.core.io_fixtures import write_brats_case


def parse(*argv: str):
    parser = argparse.ArgumentParser()
    add_train_arguments(parser)
    return config_from_args(parser.parse_args(["--data", "d", "--out", "o", *argv]))


def test_gpu_preset_is_the_full_resolution_recipe() -> None:
    c = parse("--preset", "gpu")
    assert (c.spacing, c.patch_size, c.base_filters, c.depth) == ((1.0, 1.0, 1.0), (128, 128, 128), 32, 5)
    assert (c.batch_size, c.deep_supervision, c.precision, c.lr, c.workers) == (2, True, "amp", 1e-3, 4)
    assert (c.epochs, c.iterations_per_epoch) == (300, 250)


def test_explicit_options_override_the_preset_and_cpu_keeps_the_defaults() -> None:
    c = parse("--preset", "gpu", "--patch-size", "16", "16", "16", "--no-deep-supervision", "--lr", "0.01")
    assert (c.patch_size, c.deep_supervision, c.lr, c.spacing) == ((16, 16, 16), False, 0.01, (1.0, 1.0, 1.0))
    c = parse()
    assert (c.spacing, c.patch_size, c.base_filters, c.depth) == ((2.0, 2.0, 2.0), (48, 48, 48), 16, 4)
    assert (c.batch_size, c.deep_supervision, c.precision, c.lr, c.workers) == (2, False, "auto", 3e-3, 0)
    assert parse("--native-spacing").spacing is None
    with pytest.raises(ValueError, match="--fold needs --folds"):
        parse("--fold", "1")


def test_mixed_precision_types() -> None:
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert autocast_dtype("auto", cpu) is None and autocast_dtype("fp32", cuda) is None
    assert autocast_dtype("auto", cuda) == torch.float16 and autocast_dtype("amp", cuda) == torch.float16
    assert autocast_dtype("amp", cpu) == torch.bfloat16
    with pytest.raises(ValueError, match="unknown precision"):
        autocast_dtype("fp8", cpu)


def test_gpu_preset_trains_on_the_cpu_with_small_sizes(tmp_path) -> None:
    data = tmp_path / "data"
    for i in range(2):
        write_brats_case(data / f"Case_{i}", shape=(24, 24, 24), case_id=f"Case_{i}", seed=i)
    out = tmp_path / "run"
    argv = ["train", "--preset", "gpu", "--data", str(data), "--out", str(out), "--device", "cpu",
            "--patch-size", "16", "16", "16", "--base-filters", "4", "--depth", "3", "--epochs", "1",
            "--iterations-per-epoch", "2", "--workers", "0", "--val-every", "0"]  # fmt: skip
    assert cli_main(argv) == 0
    bundle = ModelBundle.load(out)
    assert bundle.spacing == (1.0, 1.0, 1.0) and bundle.patch_size == (16, 16, 16)
    assert bundle.architecture == {"base_filters": 4, "depth": 3, "deep_supervision": False}
    training = bundle.training
    assert (training["precision"], training["deep_supervision"], training["batch_size"]) == ("amp", True, 2)
    state = load_checkpoint(Path(out) / LAST, torch.device("cpu"))
    assert state["iteration"] == 2 and any(k.startswith("heads.1") for k in state["model"])
    assert all(torch.isfinite(v).all() for v in state["model"].values() if v.is_floating_point())


def test_augmentation_option_reaches_the_training_config() -> None:
    assert parse().augmentation == "default"
    assert parse("--augmentation", "strong").augmentation == "strong"
    with pytest.raises(SystemExit):
        parse("--augmentation", "heavy")
