"""Model-registry work as jobs: activate, roll back, import, register and evaluate.

Each of these loads a network with torch (to check a bundle, or to run it on the validation set),
which takes seconds: never on the GUI thread. Requests are frozen; ``run`` yields Progress.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

from app.jobs.background import yield_progress
from segmentation_core.registry import ModelRegistry, ModelVersion, import_zip
from segmentation_core.types import CancelToken, Progress


@dataclass(frozen=True, eq=False)
class ActivateRequest:
    """Make version ``number`` the active one (its bundle is loaded once to check it)."""

    registry: ModelRegistry
    number: int

    def run(self, cancel: CancelToken) -> Generator[Progress, None, int]:
        yield Progress(0, 1, f"checking model version {self.number}")
        self.registry.activate(self.number)
        return self.number


@dataclass(frozen=True, eq=False)
class RollBackRequest:
    """Re-activate the version that was active before the current one."""

    registry: ModelRegistry

    def run(self, cancel: CancelToken) -> Generator[Progress, None, int]:
        yield Progress(0, 1, "checking the previous model version")
        return self.registry.roll_back()


@dataclass(frozen=True, eq=False)
class ImportRequest:
    """Add the bundle in a zip as version N+1 (checked before it is added)."""

    registry: ModelRegistry
    zip_path: Path

    def run(self, cancel: CancelToken) -> Generator[Progress, None, ModelVersion]:
        yield Progress(0, 1, f"checking {self.zip_path.name}")
        return import_zip(self.registry, self.zip_path)


@dataclass(frozen=True, eq=False)
class RegisterRequest:
    """Register a training run's bundle as version N+1."""

    registry: ModelRegistry
    bundle: Path
    base_version: int | None
    data_size: int | None
    validation_cases: list[Path] | None

    def run(self, cancel: CancelToken) -> Generator[Progress, None, ModelVersion]:
        yield Progress(0, 1, "registering the new model version")
        return self.registry.register(
            self.bundle,
            base_version=self.base_version,
            data_size=self.data_size,
            validation_cases=self.validation_cases,
        )


@dataclass(frozen=True, eq=False)
class EvaluateRequest:
    """Evaluate every version not yet scored on the validation set; returns the versions evaluated."""

    registry: ModelRegistry
    device: str = "cpu"

    def run(self, cancel: CancelToken) -> Generator[Progress, None, list[int]]:
        from segmentation_core.registry import evaluate_missing

        return (yield from yield_progress(evaluate_missing, cancel, self.registry, device=self.device))
