"""Transcription speed and accuracy: dubkit against plain faster-whisper, in the same run.

    .venv/bin/python bench/asr.py [--repeat 3] [--device cpu|cuda]

Each variant runs in a fresh subprocess (imports, model load, decoding and writing included),
alternating, so both sides see the same machine state. Prints a Markdown report for
bench/README.md: wall times and their ratio, batched against sequential, peak RSS, and the
character error rate of each mode on ../shared/assets/zh-speech.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT.parent / "shared" / "assets"
LONG = ASSETS / "zh-long" / "funasr_vad_example_70s.wav"
SCORED = {"gold", "gold-unchecked", "semigold"}
BEAM, BATCH = 5, 8
DEVICE = os.environ.get("DUBKIT_BENCH_DEVICE", "cpu")
COMPUTE = "int8" if DEVICE == "cpu" else "float16"


def plain(media: list[Path], batched: bool, out: Path) -> list[str]:
    """What a user would write with faster-whisper alone: same model, same settings."""
    from faster_whisper import BatchedInferencePipeline, WhisperModel

    from dubkit.models.store import resolve_model

    model = WhisperModel(
        str(resolve_model("whisper:base")[1]), device=DEVICE, compute_type=COMPUTE,
        local_files_only=True,
    )  # fmt: skip
    texts = []
    for path in media:
        if batched:
            segments, _ = BatchedInferencePipeline(model).transcribe(
                str(path), language="zh", beam_size=BEAM, batch_size=BATCH,
                word_timestamps=True, without_timestamps=False,
            )  # fmt: skip
        else:
            segments, _ = model.transcribe(
                str(path), language="zh", beam_size=BEAM, word_timestamps=True, vad_filter=True
            )
        texts.append("".join(s.text for s in segments))
    return texts


def dubkit(media: list[Path], batched: bool, out: Path) -> list[str]:
    """dubkit's own path: decode, recognise, t2s, cues, SRT and asr.json written."""
    import pysrt

    from dubkit.adapters.whisper import WhisperTranscriber
    from dubkit.episode.pipeline import transcribe_file
    from dubkit.models.store import resolve_model
    from dubkit.ports import TranscribeOptions
    from dubkit.profiles import BUILTIN_PROFILES

    name, path = resolve_model("whisper:base")
    transcriber = WhisperTranscriber.load(name, path, device=DEVICE, compute_type=COMPUTE)
    options = TranscribeOptions(beam_size=BEAM, batch_size=BATCH if batched else 0)
    texts = []
    for item in media:
        result = transcribe_file(
            item, out, transcriber, options, BUILTIN_PROFILES["zh-broadcast"], {}
        )
        texts.append("".join(s.text for s in pysrt.open(str(result.srt), encoding="utf-8")))
    return texts


def child(variant: str, media: list[str]) -> None:
    tool, mode = variant.split("-")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        fn = plain if tool == "plain" else dubkit
        texts = fn([Path(m) for m in media], mode == "batched", Path(tmp))
    wall = time.perf_counter() - started
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"wall": wall, "rss_mb": rss_mb, "texts": texts}, ensure_ascii=False))


def run_child(variant: str, media: list[Path]) -> dict[str, object]:
    cmd = [sys.executable, __file__, "--child", variant, *map(str, media)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def cer(pairs: list[tuple[str, str]], simplify: bool) -> float:
    import jiwer
    import opencc

    t2s = opencc.OpenCC("t2s")
    drop = re.compile(r"[\s\W_]+")
    errors = total = 0
    for ref, hyp in pairs:
        hyp = t2s.convert(hyp) if simplify else hyp
        r, h = drop.sub("", ref), drop.sub("", hyp)
        o = jiwer.process_characters(r, h)
        errors += o.substitutions + o.deletions + o.insertions
        total += len(r)
    return errors / total


def cpu_name() -> str:
    """The processor's model name, from /proc/cpuinfo."""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


def machine() -> str:
    cpu = cpu_name()
    import ctranslate2
    import faster_whisper

    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"faster-whisper {faster_whisper.__version__}, ctranslate2 {ctranslate2.__version__}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--child")
    parser.add_argument("media", nargs="*")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.media)
        return
    os.environ["DUBKIT_BENCH_DEVICE"] = args.device  # children inherit it
    if not LONG.is_file():
        sys.exit(f"bench: {LONG} not found; the shared assets are needed")
    variants = ["plain-batched", "dubkit-batched", "plain-sequential", "dubkit-sequential"]
    walls: dict[str, list[float]] = {v: [] for v in variants}
    rss: dict[str, float] = {}
    for _ in range(args.repeat):
        for v in variants:
            r = run_child(v, [LONG])
            walls[v].append(float(r["wall"]))  # type: ignore[arg-type]
            rss[v] = max(rss.get(v, 0.0), float(r["rss_mb"]))  # type: ignore[arg-type]
    med = {v: statistics.median(w) for v, w in walls.items()}
    audio_s = 70.47

    with (ASSETS / "zh-speech" / "references.tsv").open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle, delimiter="\t") if r["grade"] in SCORED]
    files = [ASSETS / "zh-speech" / r["file"] for r in rows]
    refs = [r["reference_zh"] for r in rows]
    scores = {}
    for v in variants:
        texts = run_child(v, files)["texts"]
        pairs = list(zip(refs, texts, strict=True))  # type: ignore[call-overload]
        scores[v] = (cer(pairs, simplify=False), cer(pairs, simplify=True))

    print(f"Machine: {machine()}\n")
    print(
        f"70.5 s recording, whisper:base int8 on CPU, beam {BEAM}, batch {BATCH}, "
        f"median of {args.repeat} runs, each a fresh process (import + load + decode + write)\n"
    )
    print("| variant | wall s (median) | x real time | peak RSS MB | CER as output | CER t2s |")
    print("| --- | --- | --- | --- | --- | --- |")
    for v in variants:
        raw, simp = scores[v]
        print(
            f"| {v} | {med[v]:.2f} | {audio_s / med[v]:.1f} | {rss[v]:.0f} | "
            f"{raw:.3f} | {simp:.3f} |"
        )
    print()
    print(f"- dubkit / plain, batched: {med['dubkit-batched'] / med['plain-batched']:.3f}")
    print(f"- dubkit / plain, sequential: {med['dubkit-sequential'] / med['plain-sequential']:.3f}")
    print(
        f"- batched speed-up over sequential (dubkit): "
        f"{med['dubkit-sequential'] / med['dubkit-batched']:.2f}x"
    )
    print(
        "- all runs (s): " + json.dumps({v: [round(w, 2) for w in ws] for v, ws in walls.items()})
    )


if __name__ == "__main__":
    main()
