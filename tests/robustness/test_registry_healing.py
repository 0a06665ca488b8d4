"""Issue 16 items 9 and 17: the registry heals what a killed change left; a damaged file is one clear error."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from segmentation_core.registry import DATA_DIR_ENV, ModelRegistry, RegistryError
from tests.core.model_fixtures import make_tiny_bundle


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModelRegistry:
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))
    return ModelRegistry(default_bundle=make_tiny_bundle(tmp_path / "default", seed=1))


def test_a_version_folder_left_by_a_killed_registration_is_adopted(registry, tmp_path: Path) -> None:
    registry.register(make_tiny_bundle(tmp_path / "b2", seed=2), base_version=1)
    # killed between moving versions/3 into place and saving registry.json:
    shutil.copytree(make_tiny_bundle(tmp_path / "b3", seed=3), registry.dir / "versions" / "3")
    version = registry.register(make_tiny_bundle(tmp_path / "b4", seed=4), base_version=1)
    assert version.number == 4
    assert [v.number for v in registry.versions()] == [1, 2, 3, 4]
    adopted = registry.version(3)
    assert adopted.source == "recovered" and "interrupted" in adopted.note
    registry.activate(3)
    assert registry.active_version == 3


def test_an_unloadable_orphan_folder_is_set_aside(registry, tmp_path: Path) -> None:
    orphan = registry.dir / "versions" / "2"
    orphan.mkdir(parents=True)
    (orphan / "model.json").write_text("{broken")
    version = registry.register(make_tiny_bundle(tmp_path / "b", seed=2), base_version=1)
    assert version.number == 2
    aside = list(registry.dir.glob(".orphan-2-*"))
    assert len(aside) == 1 and (aside[0] / "model.json").read_text() == "{broken"


def test_an_interrupted_delete_is_undone(registry, tmp_path: Path) -> None:
    registry.register(make_tiny_bundle(tmp_path / "b2", seed=2), base_version=1)
    folder = registry.dir / "versions" / "2"
    folder.rename(registry.dir / ".deleted-2")  # killed after moving the folder, before saving
    registry.activate(2)  # the next change restores it
    assert folder.is_dir() and registry.active_version == 2


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("[]", "registry format 'list' is not supported"),
        ('{"format": 1}', "'versions' is not a non-empty object"),
        (
            '{"format": 1, "versions": {"1": {}}, "active": "1", "last_version": 1, "history": [1]}',
            "'active'",
        ),
        (
            '{"format": 1, "versions": {"1": {}}, "active": 2, "last_version": 2, "history": [1]}',
            "active version 2",
        ),
        (
            '{"format": 1, "versions": {"1": []}, "active": 1, "last_version": 1, "history": [1]}',
            "map version",
        ),
        ('{"format": 1, "versions": {"1": {}}, "active": 1, "last_version": 1, "history": 5}', "'history'"),
    ],
)
def test_a_registry_file_of_the_wrong_shape_is_one_clear_error(registry, content: str, problem: str) -> None:
    registry.dir.mkdir(parents=True, exist_ok=True)
    (registry.dir / "registry.json").write_text(content)
    for call in (registry.versions, lambda: registry.active_version, lambda: registry.activate(1)):
        with pytest.raises(RegistryError, match="registry.json: ") as info:
            call()
        assert problem in str(info.value) and "\n" not in str(info.value)
    json.loads((registry.dir / "registry.json").read_text())  # left as it was, for the user to inspect
