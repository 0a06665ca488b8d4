"""Training batches as a pure function of (seed, iteration): exact resume, any number of workers."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from segmentation_core.training.augment import augment
from segmentation_core.training.sampling import PatchSampler


class BatchDataset(Dataset):
    """Item ``k`` is the augmented batch of iteration ``start + k``, drawn from its own seeded RNGs."""

    def __init__(
        self,
        sampler: PatchSampler,
        batch_size: int,
        seed: int,
        start: int,
        stop: int,
        augmentation: str = "default",
        guide_channels: int = 0,
    ) -> None:
        self.sampler = sampler
        self.augmentation = augmentation
        self.guide_channels = guide_channels
        self.batch_size = batch_size
        self.seed = seed
        self.start = start
        self.stop = stop

    def __len__(self) -> int:
        return max(0, self.stop - self.start)

    def __getitem__(self, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        iteration = self.start + k
        rng = np.random.default_rng([self.seed, iteration])
        images, targets = self.sampler.batch(self.batch_size, rng)
        generator = torch.Generator().manual_seed(int(rng.integers(2**63 - 1)))
        return augment(
            torch.from_numpy(images),
            torch.from_numpy(targets),
            generator,
            self.augmentation,
            self.guide_channels,
        )
