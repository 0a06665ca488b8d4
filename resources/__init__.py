"""Bundled data: the default model, the sample case, colour maps and icons (read via importlib.resources)."""
