"""A programme of every shared recording that has a reference, scored recording by recording.

    .venv/bin/python bench/recordings.py [--rounds 3] [--seed 7]
        [--variants dubkit,dubkit-first-pass,plain]

An A/B of the batched decodes' beam patience: BENCH_PATIENCE=1 PYTHONPATH=bench/ab
(see bench/ab/sitecustomize.py).

The zh-speech and zh-dev recordings with a scored reference (tests/scoring.clips: speech,
terms and song; silver references, a model's output, are left out) are laid end to end,
shuffled (`--seed`, 7) in each of `--rounds` rounds, with 0.3-1.2 s of silence after each: about
9 minutes for 3 rounds, windows that mix speech and song as a programme does. Each variant
transcribes it in a fresh process; each word goes to the recording whose span (the silences
split at their middles) holds the word's middle; CER with substitutions, deletions and
insertions pooled over all recordings, and the characters written right (the reference's,
less substitutions and deletions); CPU is the child's user + system seconds.

- dubkit: `dubkit transcribe` (defaults: batch 4 on CPU, guard, recovery);
- dubkit-first-pass: `dubkit transcribe --no-recover`;
- plain: faster-whisper's `BatchedInferencePipeline` (batch 4, beam 5, VAD, word timestamps,
  faster-whisper's own patience 1), words converted to Simplified as dubkit's are.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import wave
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.long import decode_pcm  # noqa: E402
from tests.scoring import clips, plain, pooled  # noqa: E402

ASSETS = ROOT.parent / "shared" / "assets"
VARIANTS = ("dubkit", "dubkit-first-pass", "plain")
PURPOSES = ("speech", "terms", "singing")  # tests/scoring.Clip.purpose
Word = tuple[int, int, str]


class Recording(NamedTuple):
    start_ms: int
    end_ms: int
    reference: str
    purpose: str


def build(dest: Path, rounds: int, seed: int) -> list[Recording]:
    """Write the programme (16 kHz mono WAV); each recording's place, reference and purpose."""
    rng = random.Random(seed)
    scored = [(decode_pcm(c.path(ASSETS), 16000, 1), c.reference, c.purpose) for c in clips(ASSETS)]
    spans, pcm = [], bytearray()
    for _ in range(rounds):
        order = scored[:]
        rng.shuffle(order)
        for data, reference, purpose in order:
            start = len(pcm) // 32
            pcm += data
            spans.append(Recording(start, len(pcm) // 32, reference, purpose))
            pcm += b"\0\0" * int(16000 * rng.uniform(0.3, 1.2))
    with wave.open(str(dest), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(bytes(pcm))
    return spans


def child_plain(media: Path, out: Path) -> None:
    """faster-whisper alone (its own patience 1), batched; its words written to `out`."""
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


def run(variant: str, media: Path, work: Path) -> tuple[list[Word], dict[str, Any], float]:
    """The variant's words, its recognition summary ({} for plain) and CPU seconds."""
    out = work / variant
    if variant == "plain":
        cmd = [sys.executable, __file__, "--child", str(media), "--child-out", str(out)]
    else:
        flag = "--no-recover" if variant == "dubkit-first-pass" else "--recover"
        cmd = [sys.executable, "-m", "dubkit", "transcribe", str(media), "-o", str(out),
               "--device", "cpu", flag]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"bench: {variant} failed (exit {done.returncode}): {done.stderr[-2000:]}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    if variant == "plain":
        return [tuple(w) for w in json.loads(out.read_text(encoding="utf-8"))], {}, cpu
    doc = json.loads((out / f"{media.stem}.asr.json").read_text(encoding="utf-8"))
    words = [(w["start_ms"], w["end_ms"], w["text"]) for s in doc["segments"] for w in s["words"]]
    return words, doc["recognition"]["summary"], cpu


def heard(words: list[Word], spans: list[Recording]) -> list[str]:
    """Each recording's hypothesis: the words whose middle falls in its span, the silence
    before and after it split at the middle (so no word counts twice)."""
    bounds = [0] + [(a.end_ms + b.start_ms) / 2 for a, b in itertools.pairwise(spans)]
    out = [""] * len(spans)
    for start, end, text in words:
        out[max(0, bisect.bisect_right(bounds, (start + end) / 2) - 1)] += text
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7, help="the order of the recordings")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_plain(args.child, args.child_out)
        return
    variants = [v for v in args.variants.split(",") if v.strip()]
    if not variants or any(v not in VARIANTS for v in variants):
        sys.exit(f"bench: --variants {args.variants!r}: give one or more of {', '.join(VARIANTS)}")
    if args.rounds < 1:
        sys.exit("bench: --rounds must be at least 1")
    if not ASSETS.is_dir() or shutil.which("ffmpeg") is None:
        sys.exit(f"bench: needs {ASSETS} (the shared assets) and ffmpeg on PATH")
    with tempfile.TemporaryDirectory() as tmp:
        media = Path(tmp) / "recordings.wav"
        spans = build(media, args.rounds, args.seed)
        print(f"{len(spans)} recordings, {spans[-1].end_ms / 1000:.0f} s, "
              f"{sum(len(plain(r.reference)) for r in spans)} reference characters\n")  # fmt: skip
        print("| variant | CER | substitutions / deletions / insertions | characters right | "
              + " | ".join(f"CER {p}" for p in PURPOSES)
              + " | windows refilled | stretches recovered | CPU s |")  # fmt: skip
        print("| --- " * (7 + len(PURPOSES)) + "|")
        for variant in variants:
            words, summary, cpu = run(variant, media, Path(tmp))
            pairs = [
                (r, plain(r.reference), plain(h))
                for r, h in zip(spans, heard(words, spans), strict=True)
            ]
            e = pooled((ref, hyp) for _, ref, hyp in pairs)
            parts = [
                pooled((ref, hyp) for r, ref, hyp in pairs if r.purpose == p) for p in PURPOSES
            ]
            print(
                f"| {variant} | {e.cer:.3f} | {e.substitutions} / {e.deletions} / "
                f"{e.insertions} | {e.correct} | "
                + " | ".join(f"{p.cer:.3f}" for p in parts)
                + f" | {summary.get('refilled_windows', '-')}"
                + f" | {summary.get('recovered_stretches', '-')} | {cpu:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
