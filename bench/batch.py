"""`dubkit batch` throughput: six short episodes with --jobs 1 and --jobs 2 in the same run.

Prints wall time of each, the throughput ratio and the model loads the report counted (one
per worker). Needs whisper:base in DUBKIT_HOME and ../shared/assets; builds tiny Argos
packages (random weights) like the tests, so MT time is not representative.

    python bench/batch.py
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEECH = ROOT.parent / "shared" / "assets" / "zh-speech"


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from dubkit.adapters.modelfiles import MODEL_FILES
    from dubkit.models.packages import install_archive
    from tests.argos_factory import build_package

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        packages = work / "packages"
        packages.mkdir()
        for a, b, seed in (("zh", "en", 1), ("en", "ur", 2)):
            install_archive(build_package(work, a, b, seed=seed), into=packages, checks=MODEL_FILES)
        episodes = work / "episodes"
        episodes.mkdir()
        wavs = sorted(p for p in SPEECH.glob("*.wav"))[:6]
        for wav in wavs:
            shutil.copy(wav, episodes / wav.name)
        rows = {}
        for jobs in (1, 2):
            out = work / f"out-{jobs}"
            cmd = [sys.executable, "-m", "dubkit", "batch", str(episodes), "-o", str(out),
                   "--packages", str(packages), "--device", "cpu", "--jobs", str(jobs)]  # fmt: skip
            started = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            seconds = time.perf_counter() - started
            report = json.loads((out / "batch-report.json").read_text(encoding="utf-8"))
            rows[jobs] = (seconds, report["model_loads"], report["done"])
            print(f"--jobs {jobs}: {report['done']} episodes in {seconds:.1f} s, "
                  f"{report['model_loads']} model load(s)")  # fmt: skip
        ratio = rows[1][0] / rows[2][0]
        print(f"throughput --jobs 2 / --jobs 1: {ratio:.2f}x ({len(wavs)} episodes)")


if __name__ == "__main__":
    main()
