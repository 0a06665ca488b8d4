"""Training settings (recorded in the checkpoint and in the output bundle's model.json)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

#: Training precisions: "auto" (fp16 mixed precision on CUDA, fp32 on the CPU), "amp", "fp32".
PRECISIONS = ("auto", "amp", "fp32")


@dataclass
class TrainConfig:
    data: Path
    out: Path
    init: Path | None = None
    cache: Path | None = None  # preprocessed-case cache (default OUT/cache); runs may share one
    #: A cascade's fine stage: folder of a coarse model's held-out predictions (``<case>.npz``, as
    #: ``crossval`` saves them), whose WT/TC/ET probabilities become extra input channels.
    coarse_probabilities: Path | None = None
    epochs: int = 50
    iterations_per_epoch: int = 50
    batch_size: int = 2
    patch_size: tuple[int, int, int] = (48, 48, 48)
    spacing: tuple[float, float, float] | None = (2.0, 2.0, 2.0)
    base_filters: int = 16
    depth: int = 4
    deep_supervision: bool = False
    loss: str = "dice_bce"
    optimizer: str = "adamw"
    lr: float = 3e-3
    weight_decay: float = 3e-5
    grad_clip: float = 12.0
    foreground_fraction: float = 1 / 3
    augmentation: str = "default"  # training.augment.AUGMENTATIONS: "default" (mild) or "strong" (nnU-Net's)
    val_cases: list[str] = field(default_factory=list)
    exclude_cases: list[str] = field(default_factory=list)
    folds: int | None = None
    fold: int = 0
    val_fraction: float = 0.2
    val_every: int = 5
    seed: int = 0
    postprocessing: dict | None = None  # clean-up settings for the bundle (inference.Postprocessing)
    precision: str = "auto"
    device: str = "auto"
    workers: int = 0
    threads: int | None = None
    name: str = "brats-unet"
    version: str = "1"

    def to_json(self) -> dict:
        data = asdict(self)
        for key in ("data", "out", "init", "cache", "coarse_probabilities"):
            data[key] = None if data[key] is None else str(data[key])
        return data
