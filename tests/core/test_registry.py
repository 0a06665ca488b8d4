"""The model registry: versions, activation, roll back, delete, zip export/import, validation set."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from segmentation_core.registry import (
    DATA_DIR_ENV,
    ModelRegistry,
    RegistryError,
    active_bundle_path,
    data_dir,
    export_zip,
    import_zip,
)
from tests.core.model_fixtures import make_tiny_bundle


def make_bundle(folder: Path, seed: int) -> Path:
    """A tiny loadable bundle whose weights depend on ``seed``."""
    return make_tiny_bundle(folder, seed=seed)


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModelRegistry:
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))
    return ModelRegistry(default_bundle=make_bundle(tmp_path / "default", seed=1))


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden staging folders included) with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_data_dir_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "x"))
    assert data_dir() == tmp_path / "x"
    monkeypatch.delenv(DATA_DIR_ENV)
    assert data_dir().name == "brats-viewer"


def test_fresh_registry_has_only_the_bundled_default(registry: ModelRegistry) -> None:
    versions = registry.versions()
    assert [v.number for v in versions] == [1]
    assert versions[0].read_only and versions[0].source == "bundled"
    assert registry.active_version == 1
    assert registry.active_bundle_path() == registry.default_bundle
    assert not registry.dir.exists()  # nothing written until something changes


def test_active_bundle_path_uses_the_user_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))
    from resources import default_model_dir

    assert active_bundle_path() == default_model_dir()


def test_register_activate_roll_back(registry: ModelRegistry, tmp_path: Path) -> None:
    run = make_bundle(tmp_path / "run1", seed=2)
    bundle_files = snapshot(run)
    (run / "MODEL_CARD.md").write_text("# card")
    (run / "last.pt").write_bytes(b"checkpoint")  # a run folder also holds checkpoints and caches
    (run / "cache").mkdir()
    (run / "cache" / "c.npy").write_bytes(b"x")
    v2 = registry.register(
        run, base_version=1, data_size=3, validation_cases=[tmp_path / "a", tmp_path / "b"]
    )
    assert v2.number == 2 and v2.base_version == 1 and v2.data_size == 3 and v2.source == "trained"
    assert v2.path == registry.dir / "versions" / "2"
    # copied as is, except that model.json now says which registry version it is (the status bar shows it)
    card = {**json.loads((run / "model.json").read_text()), "version": "2"}
    copied = snapshot(v2.path)
    assert json.loads(copied.pop("model.json")) == card
    assert copied == {
        **{k: v for k, v in bundle_files.items() if k != "model.json"},
        "MODEL_CARD.md": b"# card",
    }
    assert v2.card == card
    assert registry.active_version == 1  # registering does not activate
    assert registry.validation_cases() == [tmp_path / "a", tmp_path / "b"]
    v3 = registry.register(
        make_bundle(tmp_path / "run2", seed=3), base_version=2, validation_cases=[tmp_path / "c"]
    )
    assert v3.number == 3
    assert registry.validation_cases() == [tmp_path / "a", tmp_path / "b"]  # the first set stays fixed

    registry.activate(2)
    registry.activate(3)
    assert registry.active_bundle_path() == registry.dir / "versions" / "3"
    assert registry.history() == [1, 2, 3]
    assert registry.roll_back() == 2
    assert registry.active_version == 2
    assert registry.roll_back() == 1
    assert registry.active_bundle_path() == registry.default_bundle
    with pytest.raises(RegistryError, match="nothing to roll back to"):
        registry.roll_back()
    # A new registry object reads the same persisted state.
    again = ModelRegistry(default_bundle=registry.default_bundle)
    assert again.active_version == 1 and [v.number for v in again.versions()] == [1, 2, 3]


def test_version_one_is_read_only(registry: ModelRegistry) -> None:
    default_files = snapshot(registry.default_bundle)
    with pytest.raises(RegistryError, match="read-only"):
        registry.delete(1)
    assert snapshot(registry.default_bundle) == default_files


def test_delete_refuses_the_active_version_unless_switching(registry: ModelRegistry, tmp_path: Path) -> None:
    registry.register(make_bundle(tmp_path / "r2", seed=2), base_version=1)
    registry.register(make_bundle(tmp_path / "r3", seed=3), base_version=1)
    registry.activate(3)
    with pytest.raises(RegistryError, match="version 3 is the active model"):
        registry.delete(3)
    assert (registry.dir / "versions" / "3").is_dir()
    registry.delete(3, switch_to=2)
    assert registry.active_version == 2
    assert [v.number for v in registry.versions()] == [1, 2]
    assert not (registry.dir / "versions" / "3").exists()
    assert registry.history() == [1, 2]
    # Numbers are never reused: the next version is 4.
    assert registry.register(make_bundle(tmp_path / "r4", seed=4), base_version=2).number == 4
    with pytest.raises(RegistryError, match=r"model version 9 does not exist \(known versions: 1, 2, 4\)"):
        registry.activate(9)


def test_register_refuses_a_broken_bundle_and_changes_nothing(
    registry: ModelRegistry, tmp_path: Path
) -> None:
    registry.register(make_bundle(tmp_path / "r2", seed=2), base_version=1)
    before = snapshot(registry.dir)
    broken = make_bundle(tmp_path / "broken", seed=5)
    (broken / "model.json").write_text("{not json")
    with pytest.raises(RegistryError, match="broken.*cannot be loaded"):
        registry.register(broken, base_version=1)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(RegistryError, match="no model.json"):
        registry.register(empty, base_version=1)
    fine = make_tiny_bundle(tmp_path / "fine", coarse_inputs=("WT", "TC", "ET"))
    with pytest.raises(RegistryError, match=r"fine: this model is the fine stage of a cascade .*WT/TC/ET"):
        registry.register(fine, base_version=1)
    assert snapshot(registry.dir) == before


def test_export_then_import_round_trip(registry: ModelRegistry, tmp_path: Path) -> None:
    registry.register(make_bundle(tmp_path / "r2", seed=2), base_version=1)
    archive = export_zip(registry, 2, tmp_path / "out" / "v2.zip")
    names = sorted(zipfile.ZipFile(archive).namelist())
    assert names == sorted(f"brats-model-v2/{p}" for p in snapshot(registry.bundle_path(2)))
    imported = import_zip(registry, archive)
    assert imported.number == 3 and imported.source == "imported" and imported.note == "from v2.zip"
    imported_files, original = snapshot(imported.path), snapshot(registry.bundle_path(2))
    assert json.loads(imported_files.pop("model.json")) == {
        **json.loads(original.pop("model.json")),
        "version": "3",
    }
    assert imported_files == original
    assert registry.active_version == 1
    leftovers = [p for p in registry.dir.iterdir() if p.name.startswith(".") and p.name != ".registry.lock"]
    assert not leftovers  # staging cleaned up
    with pytest.raises(RegistryError, match="use a name ending in .zip"):
        export_zip(registry, 2, tmp_path / "v2.tar")


def _zip(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


def test_import_refuses_bad_zips_and_changes_nothing(registry: ModelRegistry, tmp_path: Path) -> None:
    registry.register(make_bundle(tmp_path / "r2", seed=2), base_version=1)
    good = snapshot(make_bundle(tmp_path / "r9", seed=9))
    before = snapshot(registry.dir)
    not_zip = tmp_path / "not.zip"
    not_zip.write_bytes(b"PK\x03\x04 truncated")
    cases = [
        (not_zip, "not a readable zip file"),
        (_zip(tmp_path / "foreign.zip", {"readme.txt": b"hello"}), "not a brats-viewer model"),
        (_zip(tmp_path / "slip.zip", {"../evil/model.json": b"{}"}), "unsafe path '../evil/model.json'"),
        (_zip(tmp_path / "broken.zip", {**good, "model.json": b"{}"}), "cannot be loaded.*missing keys"),
        (
            _zip(tmp_path / "weights.zip", {**good, "weights.pt": good["weights.pt"][:100]}),
            "cannot read weights",
        ),
        (tmp_path / "missing.zip", "no such file"),
    ]
    for path, message in cases:
        with pytest.raises(RegistryError, match=message) as info:
            import_zip(registry, path)
        assert str(path) in str(info.value)
        assert snapshot(registry.dir) == before
    assert not (tmp_path / "evil").exists()


def test_validation_set_choice_drops_old_evaluations(registry: ModelRegistry, tmp_path: Path) -> None:
    registry.register(make_bundle(tmp_path / "r2", seed=2), base_version=1)
    evaluation = {"validation_set": "x", "mean": {"WT": {"dice": 0.5, "hd95": 3.0}}, "cases": {}}
    registry.record_evaluation(2, evaluation)
    assert registry.version(2).mean_metric("WT", "dice") == 0.5
    assert registry.version(2).mean_metric("TC", "dice") is None
    registry.set_validation_cases([tmp_path / "v1"])
    assert registry.validation_cases() == [tmp_path / "v1"]
    assert registry.version(2).evaluation is None
    with pytest.raises(RegistryError, match="at least one case"):
        registry.set_validation_cases([])


def test_damaged_registry_file_is_reported(registry: ModelRegistry) -> None:
    registry.dir.mkdir(parents=True)
    (registry.dir / "registry.json").write_text("{oops")
    with pytest.raises(RegistryError, match=r"registry.json: the model registry file is damaged"):
        registry.versions()


def test_a_change_waits_for_another_programs_change(registry: ModelRegistry, tmp_path: Path) -> None:
    import threading

    from filelock import FileLock

    bundle = make_tiny_bundle(tmp_path / "b")
    registry.dir.mkdir(parents=True, exist_ok=True)
    other_program = FileLock(
        registry.dir / ".registry.lock"
    )  # a separate lock object, as another process has
    other_program.acquire()
    done = threading.Event()
    worker = threading.Thread(target=lambda: (registry.register(bundle, base_version=1), done.set()))
    worker.start()
    try:
        assert not done.wait(0.5)  # blocked while the other program holds the lock
        assert [v.number for v in registry.versions()] == [1]
    finally:
        other_program.release()
    assert done.wait(30)
    worker.join()
    assert [v.number for v in registry.versions()] == [1, 2]


def test_a_change_that_cannot_get_the_lock_says_so(
    registry: ModelRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from filelock import FileLock

    from segmentation_core.registry import store

    monkeypatch.setattr(store, "LOCK_TIMEOUT_S", 0.2)
    impatient = ModelRegistry(registry.dir.parent, registry.default_bundle)
    registry.dir.mkdir(parents=True, exist_ok=True)
    with FileLock(registry.dir / ".registry.lock"):
        with pytest.raises(RegistryError, match="another program has been changing the model registry"):
            impatient.activate(1)
