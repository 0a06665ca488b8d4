"""K-fold cross-validation splits: deterministic, disjoint, covering, stratified by data release."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable

#: The seed of every split, independent of the training seed, so that recipes share their folds.
FOLD_SEED = 0


def release_of(case_id: str) -> str:
    """The data release a case comes from, read from its name (``Brats18_...`` -> ``brats18``)."""
    return case_id.split("_", 1)[0].lower()


def fold_assignment(case_ids: Iterable[str], folds: int, seed: int = FOLD_SEED) -> dict[str, int]:
    """Case id -> fold index (0..folds-1).

    Cases are grouped by release, shuffled within each group by ``seed`` (starting from sorted order,
    so the result does not depend on the input order) and dealt round-robin over the folds, group after
    group: every fold gets its share of each release and fold sizes differ by at most one.
    """
    ids = sorted(set(case_ids))
    if folds < 2:
        raise ValueError(f"cross-validation needs at least 2 folds, got {folds}")
    if len(ids) < folds:
        raise ValueError(f"{len(ids)} case(s) cannot be split into {folds} folds; use fewer folds")
    groups: dict[str, list[str]] = defaultdict(list)
    for case_id in ids:
        groups[release_of(case_id)].append(case_id)
    rng = random.Random(seed)
    assignment: dict[str, int] = {}
    dealt = 0
    for release in sorted(groups, key=lambda r: (-len(groups[r]), r)):
        members = groups[release]
        rng.shuffle(members)
        for case_id in members:
            assignment[case_id] = dealt % folds
            dealt += 1
    return assignment


def fold_cases(case_ids: Iterable[str], folds: int, fold: int, seed: int = FOLD_SEED) -> list[str]:
    """The held-out cases of fold ``fold`` (sorted); training uses all the others."""
    if not 0 <= fold < folds:
        raise ValueError(f"fold must be in 0..{folds - 1}, got {fold}")
    assignment = fold_assignment(case_ids, folds, seed)
    return sorted(c for c, f in assignment.items() if f == fold)
