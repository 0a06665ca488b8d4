"""Cheap checks of the PyInstaller packaging (the build itself is tests/test_packaging_build.py)."""

from __future__ import annotations

import importlib.util
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace

import nibabel as nib
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGING = REPO / "packaging"
HOOKS = PACKAGING / "hooks"


def load_module(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def smoke() -> ModuleType:
    return load_module(PACKAGING / "smoke_test.py", "packaging_smoke_test")


class Recorder:
    """Stands in for PyInstaller's Analysis/PYZ/EXE/COLLECT: remembers its arguments."""

    made: list[Recorder] = []

    def __init__(self, *args: object, **kwargs: object) -> None:
        self.args, self.kwargs = args, kwargs
        self.pure, self.scripts = [], []
        self.datas = [
            ("torch/include/ATen/ATen.h", "/src/ATen.h", "DATA"),
            ("torch/test/test_api", "/src/test_api", "DATA"),
            ("torch/bin/test_jit", "/src/test_jit", "DATA"),
            ("torch/bin/torch_shm_manager", "/src/torch_shm_manager", "DATA"),
            ("torch/_C/__init__.py", "/src/__init__.py", "DATA"),
            ("resources/sample/Case/Case_flair.nii.gz", "/src/Case_flair.nii.gz", "DATA"),
        ]
        self.binaries = [
            ("torch/lib/libtorch_cpu.so", "/src/libtorch_cpu.so", "BINARY"),
            ("torch/lib/libtorchbind_test.so", "/src/libtorchbind_test.so", "BINARY"),
            ("vtkmodules/libvtkCommonCore.so", "/src/libvtkCommonCore.so", "BINARY"),
        ]
        Recorder.made.append(self)


@pytest.fixture(scope="module")
def spec() -> SimpleNamespace:
    """Execute the spec with recorders in place of PyInstaller's build steps."""
    Recorder.made = []
    names = {"SPECPATH": str(PACKAGING), "__file__": str(PACKAGING / "brats_viewer.spec")}
    names |= dict.fromkeys(("Analysis", "PYZ", "EXE", "COLLECT"), Recorder)
    exec(compile((PACKAGING / "brats_viewer.spec").read_text(), "brats_viewer.spec", "exec"), names)
    analysis, _pyz, exe, collect = Recorder.made
    return SimpleNamespace(analysis=analysis, exe=exe, collect=collect)


def test_spec_builds_one_folder_app_from_the_entry_script(spec: SimpleNamespace) -> None:
    (scripts,) = spec.analysis.args
    assert scripts == [str(PACKAGING / "entry.py")]
    assert spec.analysis.kwargs["pathex"] == [str(REPO)]
    assert spec.analysis.kwargs["hookspath"] == [str(HOOKS)]
    assert spec.exe.kwargs["exclude_binaries"] is True  # one folder, not one file
    assert spec.exe.kwargs["name"] == spec.collect.kwargs["name"] == "brats-viewer"
    assert spec.exe.kwargs["console"] is True


def test_spec_excludes_unused_qt_and_all_of_vtk_but_keeps_what_the_app_uses(spec: SimpleNamespace) -> None:
    excludes = set(spec.analysis.kwargs["excludes"])
    for unused in ("QtWebEngineCore", "QtQml", "QtQuick", "Qt3DCore", "QtMultimedia", "QtCharts", "QtPdf"):
        assert f"PySide6.{unused}" in excludes
    for used in ("QtCore", "QtGui", "QtWidgets", "QtOpenGL", "QtOpenGLWidgets", "QtSvg", "QtNetwork"):
        assert f"PySide6.{used}" not in excludes
    assert {"vtk", "vtkmodules.all", "pytest", "monai"} <= excludes
    assert not {"torch", "pyvista", "pyvistaqt", "vtkmodules", "SimpleITK", "nibabel"} & excludes


def test_spec_drops_torch_headers_tests_and_test_libraries(spec: SimpleNamespace) -> None:
    assert [dest for dest, _, _ in spec.analysis.datas] == [
        "torch/bin/torch_shm_manager",
        "torch/_C/__init__.py",
        "resources/sample/Case/Case_flair.nii.gz",
    ]
    assert [dest for dest, _, _ in spec.analysis.binaries] == [
        "torch/lib/libtorch_cpu.so",
        "vtkmodules/libvtkCommonCore.so",
    ]


def test_entry_script_starts_app_main() -> None:
    text = (PACKAGING / "entry.py").read_text()
    assert "from app.main import main" in text
    assert "multiprocessing.freeze_support()" in text


def test_segmentation_core_hook_collects_every_cli_command() -> None:
    pytest.importorskip("PyInstaller", reason="PyInstaller is not installed (pip install pyinstaller)")
    import segmentation_core.cli as cli

    hook = load_module(HOOKS / "hook-segmentation_core.py", "hook_segmentation_core")
    commands = {f"segmentation_core.cli.{m.name}" for m in pkgutil.iter_modules(cli.__path__)}
    assert {"segmentation_core.cli.train", "segmentation_core.cli.info"} <= commands
    assert commands <= set(hook.hiddenimports)
    assert "segmentation_core.training.trainer" in hook.hiddenimports


def test_app_hook_collects_the_lazily_imported_retrain_job() -> None:
    pytest.importorskip("PyInstaller", reason="PyInstaller is not installed (pip install pyinstaller)")
    hook = load_module(HOOKS / "hook-app.py", "hook_app")
    assert {"app.main", "app.jobs.retrain", "app.qt.main_window", "app.qt.about"} <= set(hook.hiddenimports)


def test_resources_hook_collects_every_data_file_and_no_code() -> None:
    pytest.importorskip("PyInstaller", reason="PyInstaller is not installed (pip install pyinstaller)")
    hook = load_module(HOOKS / "hook-resources.py", "hook_resources")
    root = REPO / "resources"
    expected = {
        (str(path), str(path.parent.relative_to(REPO)))
        for path in root.rglob("*")
        if path.is_file() and path.suffix not in {".py", ".pyc"} and "__pycache__" not in path.parts
    }
    assert any(dest == "resources/sample/Brats18_CBICA_AME_1" for _, dest in expected)
    assert {(str(Path(src)), dest) for src, dest in hook.datas} == expected


def test_pyvista_hook_names_the_rendering_modules_and_not_all_of_vtk() -> None:
    pytest.importorskip("PyInstaller", reason="PyInstaller is not installed (pip install pyinstaller)")
    hook = load_module(HOOKS / "hook-pyvista._vtk.py", "hook_pyvista_vtk")
    modules = set(hook.hiddenimports)
    assert {"vtkmodules.vtkRenderingOpenGL2", "vtkmodules.vtkRenderingVolumeOpenGL2"} <= modules
    assert {"vtkmodules.vtkCommonCore", "vtkmodules.vtkInteractionStyle"} <= modules
    assert "vtkmodules.all" not in modules
    factories = load_module(HOOKS / "hook-pyvista.plotting._rendering_imports.py", "hook_pyvista_rendering")
    assert "vtkmodules.vtkRenderingContextOpenGL2" in factories.hiddenimports


def test_resources_are_found_through_importlib_resources_wherever_the_package_lies(tmp_path: Path) -> None:
    """A relocated ``resources`` package (as in the app folder) finds its data next to itself."""
    package = tmp_path / "_internal" / "resources"
    (package / "sample" / "Brats18_CBICA_AME_1").mkdir(parents=True)
    (package / "models" / "default").mkdir(parents=True)
    shutil.copy(REPO / "resources" / "__init__.py", package / "__init__.py")
    code = "import resources; print(resources.sample_case_dir()); print(resources.default_model_dir())"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={"PYTHONPATH": str(package.parent)},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        str(package / "sample" / "Brats18_CBICA_AME_1"),
        str(package / "models" / "default"),
    ]


def test_smoke_test_fails_with_exit_2_and_names_a_missing_build(tmp_path: Path) -> None:
    missing = tmp_path / "dist" / "brats-viewer" / "brats-viewer"
    done = subprocess.run(
        [sys.executable, str(PACKAGING / "smoke_test.py"), "--app", str(missing)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert f"no built app at {missing}" in done.stderr
    assert "packaging/build.sh" in done.stderr


def test_smoke_test_fails_with_exit_1_when_the_app_fails(tmp_path: Path) -> None:
    """A stand-in 'app' that exits 3 on every call makes the first check, the self-test, fail."""
    fake = tmp_path / "brats-viewer"
    fake.write_text("#!/bin/sh\necho 'broken build' >&2\nexit 3\n")
    fake.chmod(0o755)
    done = subprocess.run(
        [sys.executable, str(PACKAGING / "smoke_test.py"), "--app", str(fake)],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "DISPLAY": ":99"},  # a display is set, so no xvfb-run is needed
    )
    assert done.returncode == 1
    assert "FAILED: --self-test exited with 3" in done.stderr
    assert "broken build" in done.stderr


def test_build_script_is_valid_bash_and_rejects_unknown_options() -> None:
    assert subprocess.run(["bash", "-n", str(PACKAGING / "build.sh")]).returncode == 0
    done = subprocess.run(["bash", str(PACKAGING / "build.sh"), "--bogus"], capture_output=True, text=True)
    assert done.returncode == 2
    assert "usage:" in done.stderr


def test_crop_window_centres_on_the_labels_and_stays_inside(smoke: ModuleType) -> None:
    seg = np.zeros((100, 100, 80), np.uint8)
    seg[40:50, 60:70, 10:20] = 2
    assert smoke.crop_window(seg, (64, 64, 48)) == (slice(12, 76), slice(32, 96), slice(0, 48))
    assert smoke.crop_window(np.zeros((50, 100, 80)), (64, 64, 48)) == (
        slice(0, 50),
        slice(18, 82),
        slice(16, 64),
    )


def write_sample(folder: Path, affine: np.ndarray) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    arrays = {role: rng.random((90, 80, 70)).astype(np.float32) for role in ("t1", "t1ce", "t2", "flair")}
    seg = np.zeros((90, 80, 70), np.uint8)
    seg[50:60, 30:40, 40:50] = 4
    arrays["seg"] = seg
    folder.mkdir(parents=True)
    for role, array in arrays.items():
        nib.save(nib.Nifti1Image(array, affine), folder / f"{folder.name}_{role}.nii.gz")
    return arrays


def test_cropped_case_keeps_voxels_and_world_positions(smoke: ModuleType, tmp_path: Path) -> None:
    affine = np.array([[0, 1.2, 0, -20], [0, 0, -3.0, 40], [0.9, 0, 0, -10], [0, 0, 0, 1]])
    arrays = write_sample(tmp_path / "sample" / "Case_1", affine)
    case = smoke.write_cropped_case(tmp_path / "sample" / "Case_1", tmp_path / "cases")
    assert case == tmp_path / "cases" / "SmokeCase"
    start = np.array([22, 2, 20])  # round((54.5, 34.5, 44.5) - (32, 32, 24)), halves to even
    window = tuple(slice(s, s + n) for s, n in zip(start, (64, 64, 48)))
    for role, array in arrays.items():
        image = nib.load(case / f"SmokeCase_{role}.nii.gz")
        np.testing.assert_array_equal(np.asarray(image.dataobj), array[window])
        np.testing.assert_allclose(image.affine[:3, 3], affine[:3, :3] @ start + affine[:3, 3])
        np.testing.assert_allclose(image.affine[:3, :3], affine[:3, :3])


def test_synthetic_case_has_four_sequences_and_all_three_labels(smoke: ModuleType, tmp_path: Path) -> None:
    case = smoke.write_synthetic_case(tmp_path)
    names = sorted(p.name for p in case.iterdir())
    assert names == [f"SmokeCase_{r}.nii.gz" for r in ("flair", "seg", "t1", "t1ce", "t2")]
    seg = np.asarray(nib.load(case / "SmokeCase_seg.nii.gz").dataobj)
    assert seg.shape == (64, 64, 48)
    assert set(np.unique(seg).tolist()) == {0, 1, 2, 4}


def test_check_prediction_accepts_a_matching_label_map_and_names_each_defect(
    smoke: ModuleType, tmp_path: Path
) -> None:
    affine = np.diag([-1.0, -1.0, 1.5, 1.0])
    reference = tmp_path / "ref.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros((8, 8, 6), np.float32), affine), reference)
    labels = np.zeros((8, 8, 6), np.uint8)
    labels[2:4, 2:4, 2:4] = 4

    def prediction(name: str, array: np.ndarray, image_affine: np.ndarray) -> Path:
        path = tmp_path / name
        nib.save(nib.Nifti1Image(array, image_affine), path)
        return path

    smoke.check_prediction(prediction("good.nii.gz", labels, affine), reference)
    with pytest.raises(smoke.SmokeFailure, match=r"shape \(8, 8, 5\), expected the source's \(8, 8, 6\)"):
        smoke.check_prediction(prediction("short.nii.gz", labels[:, :, :5], affine), reference)
    with pytest.raises(smoke.SmokeFailure, match="affine differs"):
        smoke.check_prediction(prediction("moved.nii.gz", labels, np.diag([1.0, -1.0, 1.5, 1.0])), reference)
    internal = np.where(labels == 4, 3, 0).astype(np.uint8)
    with pytest.raises(smoke.SmokeFailure, match=r"label values \[0, 3\]"):
        smoke.check_prediction(prediction("internal.nii.gz", internal, affine), reference)
    with pytest.raises(smoke.SmokeFailure, match="predict wrote no"):
        smoke.check_prediction(tmp_path / "absent.nii.gz", reference)


def test_bundle_is_read_from_the_train_report(smoke: ModuleType, tmp_path: Path) -> None:
    bundle = tmp_path / "out" / "best"
    bundle.mkdir(parents=True)
    (bundle / "model.json").write_text("{}")
    stderr = f"epoch 1\nmodel bundle written to {bundle}\n"
    assert smoke.bundle_from_stderr(stderr) == bundle
    with pytest.raises(smoke.SmokeFailure, match="did not say where"):
        smoke.bundle_from_stderr("epoch 1\n")
    with pytest.raises(smoke.SmokeFailure, match="holds no model.json"):
        smoke.bundle_from_stderr(f"model bundle written to {tmp_path}\n")


def test_retrain_child_is_the_frozen_executable_itself(smoke: ModuleType, tmp_path: Path) -> None:
    app = tmp_path / "dist" / "brats-viewer" / "brats-viewer"
    argv = smoke.retrain_command(app, tmp_path / "cases", tmp_path / "tiny", tmp_path / "retrain")
    assert argv[:3] == [str(app), "--no-gui", "train"]
    assert argv[argv.index("--init") + 1] == str(tmp_path / "tiny")
    assert argv[argv.index("--out") + 1] == str(tmp_path / "retrain")
    assert "--json-progress" in argv
    assert "python" not in " ".join(argv)


def test_mirrored_case_is_a_second_case_with_flipped_voxels(smoke: ModuleType, tmp_path: Path) -> None:
    case = smoke.write_synthetic_case(tmp_path)
    twin = smoke.write_mirrored_case(case)
    assert twin == tmp_path / "SmokeCaseMirrored"
    for role in ("t1", "t1ce", "t2", "flair", "seg"):
        original = nib.load(case / f"SmokeCase_{role}.nii.gz")
        mirrored = nib.load(twin / f"SmokeCaseMirrored_{role}.nii.gz")
        np.testing.assert_array_equal(np.asarray(mirrored.dataobj), np.asarray(original.dataobj)[::-1])
        np.testing.assert_array_equal(mirrored.affine, original.affine)
