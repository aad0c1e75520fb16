"""A programme of every shared recording that has a reference, scored recording by recording.

    .venv/bin/python bench/recordings.py [--rounds 3] [--variants dubkit,dubkit-first-pass,plain]

The zh-speech and zh-dev recordings (speech and song) are laid end to end, shuffled (seed 7)
in each of `--rounds` rounds, with 0.3-1.2 s of silence after each: about 10 minutes for 3
rounds, windows that mix speech and song as a programme does. Each variant transcribes it in
a fresh process; a recording's hypothesis is every word whose middle falls within 200 ms of
its span; CER with substitutions, deletions and insertions pooled over all recordings.

- dubkit: `dubkit transcribe` (defaults: batch 4 on CPU, guard, recovery);
- dubkit-first-pass: `dubkit transcribe --no-recover`;
- plain: faster-whisper's `BatchedInferencePipeline` (batch 4, beam 5, VAD, word timestamps,
  faster-whisper's own patience 1), words converted to Simplified as dubkit's are.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.scoring import plain, pooled  # noqa: E402

ASSETS = ROOT.parent / "shared" / "assets"
VARIANTS = ("dubkit", "dubkit-first-pass", "plain")
Word = tuple[int, int, str]


def build(dest: Path, rounds: int) -> list[tuple[int, int, str]]:
    """Write the programme (16 kHz mono WAV); each recording's (start_ms, end_ms, reference)."""
    if not ASSETS.is_dir():
        sys.exit(f"bench: {ASSETS} not found; the shared assets are needed")
    clips = []
    for folder in ("zh-speech", "zh-dev"):
        with (ASSETS / folder / "references.tsv").open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                clips.append((ASSETS / folder / row["file"], row["reference_zh"]))
    rng = random.Random(7)
    spans, pcm = [], bytearray()
    for _ in range(rounds):
        order = clips[:]
        rng.shuffle(order)
        for path, reference in order:
            data = subprocess.run(
                ["ffmpeg", "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-ar",
                 "16000", "-"],
                capture_output=True, check=True,
            ).stdout  # fmt: skip
            start = len(pcm) // 32
            pcm += data
            spans.append((start, len(pcm) // 32, reference))
            pcm += b"\0\0" * int(16000 * rng.uniform(0.3, 1.2))
    with wave.open(str(dest), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(bytes(pcm))
    return spans


def child_plain(media: Path, out: Path) -> None:
    from faster_whisper import BatchedInferencePipeline, WhisperModel

    from dubkit.adapters.chinese import to_simplified
    from dubkit.models.store import resolve_model

    model = WhisperModel(str(resolve_model("whisper:base")[1]), device="cpu", compute_type="int8")
    segments, _ = BatchedInferencePipeline(model).transcribe(
        str(media), language="zh", beam_size=5, batch_size=4, vad_filter=True,
        word_timestamps=True, without_timestamps=False,
    )  # fmt: skip
    words = [
        (round(w.start * 1000), round(w.end * 1000), to_simplified(w.word))
        for s in segments
        for w in s.words or ()
    ]
    out.write_text(json.dumps(words, ensure_ascii=False), encoding="utf-8")


def run(variant: str, media: Path, work: Path) -> tuple[list[Word], dict[str, object], float]:
    """The variant's words, its recognition summary ({} for plain) and wall seconds."""
    out = work / variant
    started = time.perf_counter()
    if variant == "plain":
        cmd = [sys.executable, __file__, "--child", str(media), "--child-out", str(out)]
    else:
        flag = "--no-recover" if variant == "dubkit-first-pass" else "--recover"
        cmd = [sys.executable, "-m", "dubkit", "transcribe", str(media), "-o", str(out),
               "--device", "cpu", flag]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
    wall = time.perf_counter() - started
    if variant == "plain":
        return [tuple(w) for w in json.loads(out.read_text(encoding="utf-8"))], {}, wall
    doc = json.loads((out / f"{media.stem}.asr.json").read_text(encoding="utf-8"))
    words = [(w["start_ms"], w["end_ms"], w["text"]) for s in doc["segments"] for w in s["words"]]
    return words, doc["recognition"]["summary"], wall


def _heard(words: list[Word], start_ms: int, end_ms: int) -> str:
    """The words whose middle falls within 200 ms of a recording's span."""
    return "".join(t for s, e, t in words if start_ms - 200 <= (s + e) / 2 < end_ms + 200)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_plain(args.child, args.child_out)
        return
    with tempfile.TemporaryDirectory() as tmp:
        media = Path(tmp) / "recordings.wav"
        spans = build(media, args.rounds)
        print(f"{len(spans)} recordings, {spans[-1][1] / 1000:.0f} s\n")
        print("| variant | CER | substitutions / deletions / insertions | stretches recovered "
              "| wall s |")  # fmt: skip
        print("| --- | --- | --- | --- | --- |")
        for variant in args.variants.split(","):
            words, summary, wall = run(variant, media, Path(tmp))
            e = pooled([(plain(ref), plain(_heard(words, a, b))) for a, b, ref in spans])
            print(
                f"| {variant} | {e.cer:.3f} | {e.substitutions} / {e.deletions} / "
                f"{e.insertions} | {summary.get('recovered_stretches', '-')} | {wall:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
