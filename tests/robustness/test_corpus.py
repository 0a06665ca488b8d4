"""Every input of the robustness corpus ends in a clean one-line error or a correct result (issue 16).

``info`` and ``predict`` (tiny model; ``--brats-like``: the 16-voxel cases are far too small for the raw-study
detector to call them skull-stripped) run in-process on each entry. A refusal is exactly one stderr
line ``error: ...`` naming the culprit file, exit status 2; never a traceback, never a hang (an alarm
stops a hanging entry). Garbage in never gives a label map out.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from segmentation_core.cli import main
from tests.core.model_fixtures import make_tiny_bundle
from tests.robustness.corpus import BUILDERS, Entry, build_corpus

LIMIT_S = 30


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Entry]:
    return {e.name: e for e in build_corpus(tmp_path_factory.mktemp("corpus"))}


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_bundle(tmp_path_factory.mktemp("model"))


@pytest.fixture(autouse=True)
def no_hang() -> Iterator[None]:
    def stop(signum, frame):  # noqa: ANN001, ANN202
        raise TimeoutError(f"hung for {LIMIT_S} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(LIMIT_S)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _assert_clean_refusal(entry: Entry, code: int, err: str) -> None:
    lines = [line for line in err.splitlines() if not line.startswith("[")]  # progress bars start with [
    assert code == 2, f"{entry.name}: exit {code}, stderr {err!r}"
    assert len(lines) == 1 and lines[0].startswith("error: "), f"{entry.name}: {err!r}"
    assert "Traceback" not in err and "unexpected" not in err, f"{entry.name}: {err!r}"
    assert entry.culprit in lines[0], f"{entry.name}: the message does not name {entry.culprit!r}: {err!r}"
    assert entry.expect.lower() in lines[0].lower(), f"{entry.name}: {err!r}"


@pytest.mark.parametrize("name", list(BUILDERS))
def test_info_gives_a_result_or_one_clear_line(corpus, name: str, capsys) -> None:
    entry = corpus[name]
    code, out, err = _run(["info", str(entry.path)], capsys)
    if entry.outcome == "refuse":
        _assert_clean_refusal(entry, code, err)
    else:
        assert code == 0 and err == "", f"{name}: exit {code}, stderr {err!r}"
        assert out.startswith("case ")
        assert entry.expect in out, f"{name}: {out!r}"
        if entry.outcome == "warn":
            assert "warning:" in out and entry.culprit.split("_")[-1].split(".")[0] in out


@pytest.mark.parametrize("name", list(BUILDERS))
def test_predict_gives_a_result_or_one_clear_line(corpus, model, tmp_path, name: str, capsys) -> None:
    entry = corpus[name]
    out = tmp_path / "out"
    code, stdout, err = _run(
        [
            "predict",
            str(entry.path),
            "-o",
            str(out),
            "--model",
            str(model),
            "--device",
            "cpu",
            "--brats-like",
        ],
        capsys,
    )
    written = sorted(p.name for p in out.glob("*")) if out.is_dir() else []
    if entry.outcome == "ok":
        assert code == 0, f"{name}: {err!r}"
        assert len(written) == 2 and any(n.endswith("_pred.nii.gz") for n in written)
    else:
        # "warn" entries load (with a warning) but garbage in must not give a tumour out
        _assert_clean_refusal(entry, code, err)
        assert written == [], f"{name}: garbage in gave {written}"
