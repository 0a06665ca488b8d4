"""Raw patient studies (skull on, thick oblique slices, sequences not aligned) -> model-ready input and back.

Modules, one per step: ``study``/``identify`` (sequences), ``detect`` (BraTS-like or raw),
``registration`` (rigid co-registration), ``brain_mask`` (deepbet), ``resampling`` (1 mm canonical grid),
``mapping`` (probabilities back to the native grid); ``pipeline``/``segment`` chain them with progress,
cancel and a cache (``cache``); ``output`` writes the preprocessed study.
"""
