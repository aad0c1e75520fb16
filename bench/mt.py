"""Translation speed: dubkit's engine against argostranslate, on the same packages, same run.

    bash bench/setup-argos.sh                      # once: argostranslate in bench/.venv-argos
    .venv/bin/python bench/mt.py [--repeat 1] [--lines N]

Builds two OPUS-MT-sized Argos packages with random weights (tests/argos_factory.py: d_model
512, 6+6 layers, int8; zh→en seed 1, en→ur seed 2; SentencePiece trained on NTREX text), then
translates the Chinese lines of ../shared/assets/ntrex128 zh→en→ur:

- dubkit: `load_route` + one `translate_texts` call (no memory), in dubkit's .venv;
- argos: `argostranslate.translate.translate(line, "zh", "ur")` line by line, in
  bench/.venv-argos (argostranslate never enters dubkit's environment), which pivots through
  English by itself. Its sentence splitter (MiniSBD, which downloads a model on first use) is
  replaced by one sentence per line, and the network is blocked in that process.

Each variant runs in a fresh subprocess, alternating; both read the same unzipped package
folders. Prints a Markdown report for bench/README.md: lines per second on the translation
alone and on the whole process, their ratio, peak RSS, and how many outputs agree.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT.parent / "shared" / "assets"
NTREX = ASSETS / "ntrex128"
SOURCE = NTREX / "newstest2019-ref.zho-CN.txt"
ARGOS_PYTHON = ROOT / "bench" / ".venv-argos" / "bin" / "python"
VARIANTS = ("dubkit", "argos")
WARM_UP = "你好。"  # argos: one short line before the clock starts (loads both models)


# --------------------------------------------------------------------------- children


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_dubkit(lines: list[str], packages: Path) -> dict[str, Any]:
    """dubkit's engine: the route from the package folder, all lines in one batched call."""
    import ctranslate2
    import sentencepiece

    from dubkit import __version__
    from dubkit.adapters.argos import _workers, load_route
    from dubkit.models.packages import find_route, installed_packages
    from dubkit.ports import MTOptions
    from dubkit.translate.steps import translate_texts

    route = find_route("zh", "ur", installed_packages([packages]))
    if route is None or [p.path.parent for p in route.stages] != [packages, packages]:
        raise SystemExit(f"bench: no zh→en→ur route from {packages}: {route}")
    options = MTOptions(device="cpu")
    steps = load_route(route.stages, options)
    loaded = time.perf_counter()
    result = translate_texts(lines, steps, memory=None)
    translated = time.perf_counter()
    inter, intra = _workers(steps[0].device.device, options.threads)
    return {
        "load_done": loaded,
        "translate_s": translated - loaded,
        "outputs": list(result.final),
        "steps": {f"{s.source}→{s.target}": round(s.seconds, 2) for s in result.steps},
        "settings": (
            f"{steps[0].device.device} {steps[0].translator.compute_type}, "
            f"inter_threads {inter}, "
            f"intra_threads {intra}, beam {options.beam_size}, batches of at most "
            f"{options.max_batch_tokens} tokens"
        ),
        "versions": {
            "dubkit": __version__,
            "ctranslate2": ctranslate2.__version__,
            "sentencepiece": sentencepiece.__version__,
        },
    }


def _block_network() -> None:
    """Any connection attempt fails loudly instead of hanging on a download."""

    def refuse(*args: object, **kwargs: object) -> Any:
        raise OSError("bench/mt.py: network blocked in the argos process")

    socket.socket.connect = refuse  # type: ignore[method-assign]
    socket.socket.connect_ex = refuse  # type: ignore[method-assign]
    socket.create_connection = refuse
    socket.getaddrinfo = refuse


def run_argos(lines: list[str], packages: Path) -> dict[str, Any]:
    """argostranslate as a user calls it: translate(line, "zh", "ur"), line by line."""
    _block_network()
    if os.environ.get("ARGOS_PACKAGES_DIR") != str(packages):
        raise SystemExit("bench: ARGOS_PACKAGES_DIR must point at the bench packages")
    from importlib.metadata import version

    import argostranslate.sbd
    import argostranslate.translate as at
    from argostranslate import settings

    # MiniSBD would download a model here; NTREX lines are one sentence each.
    def one_sentence(self: object, text: str) -> list[str]:
        return [text]

    argostranslate.sbd.MiniSBDSentencizer.split_sentences = one_sentence  # type: ignore[method-assign]

    translation = at.get_translation_from_codes("zh", "ur")
    pivot = [getattr(translation, t, None) for t in ("t1", "t2")]
    codes = [(t.from_lang.code, t.to_lang.code) for t in pivot if t is not None]
    if not isinstance(translation, at.CompositeTranslation) or codes != [
        ("zh", "en"),
        ("en", "ur"),
    ]:
        raise SystemExit(f"bench: argos did not pivot zh→en→ur: {translation!r}")
    at.translate(WARM_UP, "zh", "ur")  # creates both ctranslate2.Translator objects
    loaded = time.perf_counter()
    outputs = [at.translate(line, "zh", "ur") for line in lines]
    translated = time.perf_counter()
    model = translation.t1.underlying.translator  # type: ignore[attr-defined]
    return {
        "load_done": loaded,
        "translate_s": translated - loaded,
        "outputs": outputs,
        "steps": {},
        "settings": (
            f"{settings.device} {getattr(model, 'compute_type', settings.compute_type)}, "
            f"inter_threads {settings.inter_threads}, intra_threads {settings.intra_threads}, "
            f"beam {settings.beam_size}, batches of at most {settings.batch_size} tokens, "
            f"chunk type {settings.chunk_type.name}"
        ),
        "versions": {
            name: version(name)
            for name in ("argostranslate", "ctranslate2", "sentencepiece", "torch", "stanza")
        },
    }


def child(variant: str, lines_file: Path, packages: Path, out: Path, started: float) -> None:
    lines = lines_file.read_text(encoding="utf-8").splitlines()
    run = run_dubkit if variant == "dubkit" else run_argos
    result = run(lines, packages)
    result["load_s"] = result.pop("load_done") - started
    result["rss_mb"] = _rss_mb()
    out.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")


# ----------------------------------------------------------------------------- parent


def build_packages(dest: Path, size_name: str = "opus") -> float:
    """zh→en and en→ur packages, unzipped, as argospm installs them: OPUS-MT-sized (the
    default) or tiny, random weights, SentencePiece models trained on NTREX text."""
    sys.path.insert(0, str(ROOT))
    from tests.argos_factory import OPUS_MT, TINY, build_package_dir

    size = OPUS_MT if size_name == "opus" else TINY

    def text(name: str) -> list[str]:
        return (NTREX / f"newstest2019-ref.{name}.txt").read_text(encoding="utf-8").splitlines()

    zh, en, ur = text("zho-CN"), text("eng-US"), text("urd")
    started = time.perf_counter()
    build_package_dir(dest, "zh", "en", size=size, seed=1, sp_lines=zh + en)
    build_package_dir(dest, "en", "ur", size=size, seed=2, sp_lines=en + ur)
    return time.perf_counter() - started


def child_env(tmp: Path, packages: Path) -> dict[str, str]:
    """Every user folder in `tmp`: neither tool reads or writes the real ones."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARGOS_", "DUBKIT_"))}
    for name in ("HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "DUBKIT_HOME"):
        folder = tmp / name.lower()
        folder.mkdir(exist_ok=True)
        env[name] = str(folder)
    env["ARGOS_PACKAGES_DIR"] = str(packages)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run_child(
    variant: str, python: Path, lines_file: Path, packages: Path, tmp: Path
) -> dict[str, Any]:
    """Run one variant; wall time of the whole process, peak RSS polled with psutil."""
    import psutil

    out = tmp / f"{variant}.json"
    out.unlink(missing_ok=True)
    cmd = [str(python), __file__, "--child", variant, "--lines-file", str(lines_file)]
    cmd += ["--packages", str(packages), "--out", str(out)]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=child_env(tmp, packages))
    peak = 0
    watched = psutil.Process(proc.pid)
    stop = threading.Event()

    def poll() -> None:
        nonlocal peak
        while not stop.is_set():
            try:
                rss = watched.memory_info().rss
                rss += sum(c.memory_info().rss for c in watched.children(recursive=True))
            except psutil.Error:
                break
            peak = max(peak, rss)
            stop.wait(0.05)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    code = proc.wait()
    wall = time.perf_counter() - started
    stop.set()
    poller.join()
    if code != 0:
        raise SystemExit(f"bench: {variant} child failed with exit code {code}")
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    result["wall_s"] = wall
    # Polling can miss a short peak; the child's own ru_maxrss cannot.
    result["rss_mb"] = max(float(result["rss_mb"]), peak / 2**20)
    return result


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each variant")
    parser.add_argument("--lines", type=int, default=0, help="first N lines only (0: all)")
    parser.add_argument("--argos-python", type=Path, default=ARGOS_PYTHON)
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--lines-file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--packages", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        started = time.perf_counter()  # after interpreter start-up, before any heavy import
        child(args.child, args.lines_file, args.packages, args.out, started)
        return

    if not SOURCE.is_file():
        sys.exit(f"bench: {SOURCE} not found; the shared assets are needed")
    if not args.argos_python.is_file():
        sys.exit(f"bench: {args.argos_python} not found; run `bash bench/setup-argos.sh` first")
    lines = SOURCE.read_text(encoding="utf-8").splitlines()
    lines = lines[: args.lines] if args.lines > 0 else lines
    pythons = {"dubkit": Path(sys.executable), "argos": args.argos_python}

    bench_started = time.perf_counter()
    runs: dict[str, list[dict[str, Any]]] = {v: [] for v in VARIANTS}
    with tempfile.TemporaryDirectory(prefix="dubkit-bench-mt-") as tmp_name:
        tmp = Path(tmp_name)
        packages = tmp / "packages"
        build_s = build_packages(packages)
        lines_file = tmp / "lines.txt"
        lines_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        for _ in range(args.repeat):
            for v in VARIANTS:
                runs[v].append(run_child(v, pythons[v], lines_file, packages, tmp))
                print(
                    f"bench: {v}: {runs[v][-1]['translate_s']:.1f} s translating, "
                    f"{runs[v][-1]['wall_s']:.1f} s in all",
                    file=sys.stderr,
                )
    bench_s = time.perf_counter() - bench_started

    n = len(lines)
    med = {
        v: {
            k: statistics.median(float(r[k]) for r in rs)
            for k in ("wall_s", "load_s", "translate_s")
        }
        for v, rs in runs.items()
    }
    rss = {v: max(float(r["rss_mb"]) for r in rs) for v, rs in runs.items()}
    outputs = {v: rs[-1]["outputs"] for v, rs in runs.items()}
    same = sum(a == b for a, b in zip(outputs["dubkit"], outputs["argos"], strict=True))
    same_ws = sum(
        " ".join(a.split()) == " ".join(b.split())
        for a, b in zip(outputs["dubkit"], outputs["argos"], strict=True)
    )
    stable = {v: all(r["outputs"] == rs[0]["outputs"] for r in rs) for v, rs in runs.items()}

    import ctranslate2
    import sentencepiece

    from dubkit import __version__

    argos_versions = runs["argos"][0]["versions"]
    print(
        f"Machine: {cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"dubkit {__version__}, ctranslate2 {ctranslate2.__version__}, sentencepiece "
        f"{sentencepiece.__version__}; argos venv: "
        + ", ".join(f"{k} {v}" for k, v in argos_versions.items())
        + "\n"
    )
    print(
        f"{n} lines of NTREX-128 zho-CN, zh→en→ur, two random OPUS-MT-sized int8 packages "
        f"(built in {build_s:.1f} s), median of {args.repeat} run(s), each a fresh process\n"
    )
    for v in VARIANTS:
        print(f"- {v}: {runs[v][0]['settings']}")
    print()
    print(
        "| variant | wall s | load s | translate s | lines/s (translate) | lines/s (wall) "
        "| peak RSS MB |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for v in VARIANTS:
        m = med[v]
        print(
            f"| {v} | {m['wall_s']:.1f} | {m['load_s']:.2f} | {m['translate_s']:.1f} | "
            f"{n / m['translate_s']:.1f} | {n / m['wall_s']:.1f} | {rss[v]:.0f} |"
        )
    print()
    d, a = med["dubkit"], med["argos"]
    print(
        f"- dubkit / argos, lines per second, translation: "
        f"**{a['translate_s'] / d['translate_s']:.1f}x** (goal: at least 5x)"
    )
    print(f"- dubkit / argos, lines per second, whole process: {a['wall_s'] / d['wall_s']:.1f}x")
    print(f"- identical outputs: {same} / {n} ({same_ws} / {n} with whitespace normalised)")
    print("- same outputs in every repeat: " + ", ".join(f"{v} {stable[v]}" for v in VARIANTS))
    print(f"- dubkit per step (s): {runs['dubkit'][-1]['steps']}")
    print(
        "- all runs, translate / wall (s): "
        + json.dumps(
            {
                v: [f"{r['translate_s']:.1f} / {r['wall_s']:.1f}" for r in rs]
                for v, rs in runs.items()
            },
            ensure_ascii=False,
        )
    )
    print(f"- whole benchmark, package build included: {bench_s / 60:.1f} min")


if __name__ == "__main__":
    main()
