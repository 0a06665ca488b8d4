"""Machine-learning core of the BraTS viewer: I/O, labels, models, inference, training, metrics.

This package never imports Qt, VTK or the ``app`` package, so it runs headless.
"""

__version__ = "0.1.0"
