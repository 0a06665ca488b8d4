"""How long the first AI run waits for its process: cold (torch imported when Run is pressed) against
warm (the fork server started in the background when the case opened, as the viewer does).

Each mode runs in a fresh interpreter: ``python -m bench.ai_warm_up``. Measures from the start of the
prediction to the child's first message ("loading <model>"), i.e. the "starting the AI process…" time.
"""

from __future__ import annotations

import json
import subprocess
import sys

from bench._common import save_results

ONE_RUN = r"""
import json, os, sys, time
import resources
from segmentation_core.io import load_case
from segmentation_core.inference_process import predict_in_child_process, warm_up

case = load_case(resources.sample_case_dir())
if sys.argv[1] == "warm":
    warm_up(10).join()
    deadline = time.monotonic() + 300  # the user looks at the case meanwhile; wait for torch to load
    while time.monotonic() < deadline:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
        maps = []
        for p in pids:
            try:
                parent = int(open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[1])
                if parent == os.getpid() and "forkserver" in open(f"/proc/{p}/cmdline").read():
                    maps.append(open(f"/proc/{p}/maps").read())
            except OSError:
                pass
        if any("libtorch" in m for m in maps):
            break
        time.sleep(0.2)
start = time.perf_counter()
waited = None
job = predict_in_child_process(case, resources.default_model_dir(), device="cpu", threads=1, nice=10)
for progress in job:
    if progress.message.startswith("loading"):
        waited = time.perf_counter() - start
        job.close()
        break
print(json.dumps({"mode": sys.argv[1], "first_message_s": round(waited, 2)}))
"""


def main() -> None:
    results = {}
    for mode in ("cold", "warm"):
        done = subprocess.run(
            [sys.executable, "-c", ONE_RUN, mode], capture_output=True, text=True, timeout=900, check=True
        )
        line = json.loads(done.stdout.strip().splitlines()[-1])
        results[f"{mode}_first_message_s"] = line["first_message_s"]
        print(f"{mode}: the AI process answered after {line['first_message_s']} s")
    save_results("ai_warm_up", results)


if __name__ == "__main__":
    main()
