"""Training: cached data, patch sampling, augmentation, region losses, the loop, checkpoints, DDP.

Run it as ``brats-seg train`` or ``python -m segmentation_core.training``.
"""
