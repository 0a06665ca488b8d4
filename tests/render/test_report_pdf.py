"""The report command: PDF (first page rendered to PNG is not blank), HTML, JSON; key images; refusals."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from app.headless import main as headless_main
from app.render.key_images import LONG_COLOUR, SHORT_COLOUR, key_image
from app.state.edit_stats import EditTracker
from app.state.label_layer import LabelLayer
from segmentation_core.io import load_case
from segmentation_core.io.label_io import read_label_file
from segmentation_core.review.schema import REPORT_SCHEMA
from tests.core.io_fixtures import make_case, oblique_affine, write_brats_case, write_nifti

AFFINE = oblique_affine(15.0, (1.0, 1.2, 1.5))


@pytest.fixture()
def case_dir(tmp_path):
    return write_brats_case(tmp_path / "Case_001", (40, 40, 32), AFFINE)


def first_page_rgb(pdf, tmp_path) -> np.ndarray:
    """The PDF's first page rendered by poppler (pdftoppm, 50 dpi) as an RGB array."""
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed; scripts/install_xvfb.sh installs it")
    subprocess.run(
        ["pdftoppm", "-r", "50", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True
    )
    data = next(tmp_path.glob("page*.ppm")).read_bytes()  # binary PPM: "P6 width height 255" + RGB bytes
    magic, width, height, depth, pixels = data.split(maxsplit=4)
    assert (magic, depth) == (b"P6", b"255")
    return np.frombuffer(pixels, np.uint8).reshape(int(height), int(width), 3)


def test_report_command_writes_a_one_page_pdf_html_and_json(case_dir, tmp_path) -> None:
    seg = case_dir / "Case_001_seg.nii.gz"
    out = tmp_path / "out" / "report.pdf"
    out.parent.mkdir()
    assert headless_main(["report", str(case_dir), str(seg), "-o", str(out)]) == 0
    pdf, html, data = out, out.with_suffix(".html"), json.loads(out.with_suffix(".json").read_text())
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.read_bytes().count(b"/Type /Page\n") == 1
    page = first_page_rgb(pdf, tmp_path)
    ink = (page < 128).any(axis=2).mean()
    colour = (np.ptp(page.astype(int), axis=2) > 80).mean()  # key images and the red disclaimer
    assert ink > 0.01 and colour > 0.001, (ink, colour)
    jsonschema.validate(data, REPORT_SCHEMA)
    case = load_case(case_dir)  # the viewer's Volumes panel: the labels' layer on the loaded case's spacing
    assert (
        data["volumes_cm3"] == EditTracker(LabelLayer(read_label_file(seg).array, case.spacing)).volumes_cm3
    )
    assert [k["name"] for k in data["key_images"]] == ["lesion-1.png"]
    text = html.read_text()
    assert "data:image/png;base64," in text and "Research use only" in text
    assert oct(pdf.stat().st_mode & 0o777) != oct(0o600)  # not left private like a temporary file


def test_report_command_refuses_to_overwrite_and_labels_off_the_grid(case_dir, tmp_path, capsys) -> None:
    seg = case_dir / "Case_001_seg.nii.gz"
    out = tmp_path / "r.json"
    out.write_text("mine")
    assert headless_main(["report", str(case_dir), str(seg), "-o", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err and out.read_text() == "mine"
    assert not out.with_suffix(".pdf").exists()  # a report's files are written together or not at all
    other = write_nifti(tmp_path / "other.nii.gz", np.zeros((20, 20, 20), np.uint8), AFFINE)
    assert headless_main(["report", str(case_dir), str(other), "-o", str(tmp_path / "x.pdf")]) == 2
    err = capsys.readouterr().err
    assert "other.nii.gz" in err and "does not match the case grid" in err and err.count("\n") == 1
    assert not (tmp_path / "x.pdf").exists()
    assert headless_main(["report", str(case_dir), str(seg), "-o", str(tmp_path / "x.txt")]) == 2


def test_key_image_draws_the_outline_and_both_measurement_lines() -> None:
    case = make_case((40, 40, 24), np.diag([1.0, 1.0, 2.0, 1.0]))
    labels = np.zeros(case.shape, np.uint8)
    labels[10:30, 15:25, 12] = 3
    focus = labels > 0
    long, short = ((10.0, 20.0, 12.0), (29.0, 20.0, 12.0)), ((20.0, 15.0, 12.0), (20.0, 24.0, 12.0))
    picture = key_image(case, labels, 12, focus, (long, short), size=120)
    assert picture.dtype == np.uint8 and picture.shape[2] == 4 and min(picture.shape[:2]) >= 120
    colours = {tuple(int(v) for v in p) for p in picture[..., :3].reshape(-1, 3)}
    assert LONG_COLOUR in colours and SHORT_COLOUR in colours and (255, 230, 0) in colours  # ET outline
    long_pixels = np.argwhere((picture[..., :3] == LONG_COLOUR).all(axis=2))
    short_pixels = np.argwhere((picture[..., :3] == SHORT_COLOUR).all(axis=2))
    # axial view of a RAS grid: array axis 0 runs along the screen's columns (the long line is
    # horizontal, 19 voxels at 3 pixels each), axis 1 along its rows (the short line is vertical)
    assert np.ptp(long_pixels[:, 0]) <= 3 and np.ptp(long_pixels[:, 1]) >= 19 * 3 - 3
    assert np.ptp(short_pixels[:, 1]) <= 3 and np.ptp(short_pixels[:, 0]) >= 9 * 3 - 3


def test_brats_seg_lists_the_report_command(capsys) -> None:
    with pytest.raises(SystemExit):
        headless_main(["--help"])
    assert "report" in capsys.readouterr().out


def test_without_qt_the_headless_commands_work_and_report_says_why_it_cannot(case_dir, tmp_path) -> None:
    import sys

    code = (
        "import sys, tests.block_qt\n"
        "from app.headless import main\n"
        "assert main(['info', sys.argv[1]]) == 0\n"
        "sys.exit(main(['report', sys.argv[1], sys.argv[2], '-o', sys.argv[3]]))\n"
    )
    seg = case_dir / "Case_001_seg.nii.gz"
    result = subprocess.run(
        [sys.executable, "-c", code, str(case_dir), str(seg), str(tmp_path / "r.pdf")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 2, result.stderr
    assert (
        result.stderr.startswith("error: the report needs Qt (PySide6)") and "Traceback" not in result.stderr
    )


def test_probabilities_give_the_report_its_review_coverage(case_dir, tmp_path, capsys) -> None:
    from segmentation_core.io.export import probabilities_path, write_label_map

    case = load_case(case_dir)
    seg = case_dir / "Case_001_seg.nii.gz"
    probabilities = np.zeros((3, *case.shape), np.float32)
    probabilities[0, 2:6, 2:6, 2:6] = 0.5  # 64 uncertain voxels, inside one 20 mm cell of the queue
    predicted = write_label_map(
        case.labels.array, case, tmp_path / "pred.nii.gz", probabilities=probabilities
    )
    written = probabilities_path(predicted)
    out = tmp_path / "r.json"
    assert (
        headless_main(["report", str(case_dir), str(seg), "-o", str(out), "--probabilities", str(written)])
        == 0
    )
    review = json.loads(out.read_text())["review"]
    voxel_mm3 = float(np.prod(case.spacing))
    assert review["clusters"] == 1 and review["coverage"] == 0.0
    assert review["low_confidence_cm3"] == pytest.approx(64 * voxel_mm3 / 1000)
    bad = write_nifti(tmp_path / "bad.nii.gz", np.zeros((40, 40, 32), np.float32), AFFINE)
    code = headless_main(
        ["report", str(case_dir), str(seg), "-o", str(tmp_path / "b.pdf"), "--probabilities", str(bad)]
    )
    err = capsys.readouterr().err
    assert (
        code == 2
        and "bad.nii.gz: expected WT/TC/ET probabilities" in err
        and not (tmp_path / "b.pdf").exists()
    )


def test_report_never_writes_over_the_labels_sidecar_even_with_force(case_dir, tmp_path, capsys) -> None:
    seg = case_dir / "Case_001_seg.nii.gz"
    sidecar = case_dir / "Case_001_seg.json"
    sidecar.write_text('{"model_version": "7"}')
    code = headless_main(
        ["report", str(case_dir), str(seg), "-o", str(case_dir / "Case_001_seg.pdf"), "--force"]
    )
    assert code == 2 and "never written over" in capsys.readouterr().err
    assert sidecar.read_text() == '{"model_version": "7"}' and not (case_dir / "Case_001_seg.pdf").exists()
    out = tmp_path / "r.json"
    assert headless_main(["report", str(case_dir), str(seg), "-o", str(out)]) == 0
    assert json.loads(out.read_text())["model"] == {"version": "7"}  # read from the export sidecar
