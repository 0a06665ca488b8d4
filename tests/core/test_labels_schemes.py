"""Label schemes: conversion between file conventions and the internal labels, region masks."""

from __future__ import annotations

import numpy as np
import pytest

from segmentation_core.labels import ED, ET, NCR, LabelValueError, convert, region_mask


def test_brats_to_internal_and_back() -> None:
    brats = np.array([0, 1, 2, 4, 4, 0], dtype=np.int16)
    internal = convert(brats, "brats", "internal")
    assert internal.tolist() == [0, NCR, ED, ET, ET, 0]
    assert internal.dtype == np.uint8
    assert convert(internal, "internal", "brats").tolist() == brats.tolist()


def test_msd_order_maps_edema_and_core() -> None:
    msd = np.array([0, 1, 2, 3])
    assert convert(msd, "msd", "internal").tolist() == [0, ED, NCR, ET]
    assert convert(msd, "msd", "brats").tolist() == [0, 2, 1, 4]


def test_unknown_values_are_listed() -> None:
    with pytest.raises(LabelValueError, match=r"\[3, 7\].*'brats'"):
        convert(np.array([0, 3, 7, 1]), "brats", "internal")


def test_unknown_scheme_names_the_choices() -> None:
    with pytest.raises(ValueError, match="unknown label scheme 'bogus'"):
        convert(np.array([0]), "bogus", "internal")


def test_regions_nest() -> None:
    labels = np.array([0, NCR, ED, ET])
    assert region_mask(labels, "WT").tolist() == [False, True, True, True]
    assert region_mask(labels, "TC").tolist() == [False, True, False, True]
    assert region_mask(labels, "ET").tolist() == [False, False, False, True]
    assert region_mask(labels, "ED").tolist() == [False, False, True, False]
