"""Reviewing an AI result: confidence map and review queue, lesion table, RANO measurements, report.

Qt-free: the viewer's panels, the key images and the PDF writer live in ``app``.
"""
