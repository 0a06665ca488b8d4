"""The confidence heat map: exact blending where the uncertainty reaches the threshold, and its settings."""

from __future__ import annotations

import numpy as np

from app.render.slice_image import apply_heat
from app.state.display_settings import DisplaySettings


def test_heat_is_blended_only_where_the_uncertainty_reaches_the_threshold() -> None:
    rgba = np.full((1, 4, 4), 100, np.uint8)
    uncertainty = np.array([[0, 127, 128, 255]], np.uint8)
    apply_heat(rgba, uncertainty, threshold=0.5, opacity=0.5)
    assert rgba[0, 0].tolist() == rgba[0, 1].tolist() == [100, 100, 100, 100]
    t = 128 / 255  # orange (255, 140, 0) to magenta (255, 0, 255)
    expected = np.rint(np.array([255, 140 * (1 - t), 255 * t]) * 0.5 + 100 * 0.5)
    assert rgba[0, 2, :3].tolist() == expected.tolist() and rgba[0, 2, 3] == 100
    assert rgba[0, 3, :3].tolist() == [178, 50, 178]  # round(127.5 + 50), round(50), round(127.5 + 50)
    untouched = np.full((1, 2, 4), 7, np.uint8)
    apply_heat(untouched, np.array([[255, 255]], np.uint8), threshold=0.5, opacity=0.0)
    assert (untouched == 7).all()


def test_confidence_settings_are_evented_and_clamped() -> None:
    display = DisplaySettings()
    events: list[str] = []
    display.changed.connect(events.append)
    display.update_confidence(show=True, threshold=3.0)
    assert display.confidence.show and display.confidence.threshold == 1.0 and events == ["confidence"]
    display.update_confidence(threshold=0.0)
    assert display.confidence.threshold == 0.01
    display.update_confidence(threshold=0.01)
    assert events == ["confidence", "confidence"]  # no change, no event
