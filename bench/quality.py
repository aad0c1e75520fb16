"""Recognition quality on real recordings: dubkit against plain faster-whisper, with and
without each feature, with and without a glossary, in the same run.

    .venv/bin/python bench/quality.py [--variants a,b,...] [--json OUT.json]

Clips: the scored files of ../shared/assets/zh-speech and all of zh-dev (terminology and sung
clips), plus zh-long's 70 s seminar (no reference: loops and length only), plus "dense": the
twelve spoken clips' speech (VAD-trimmed) laid end to end with 150 ms gaps, 74 s of fast,
dense speech with speaker changes, built at run time, its reference the clips' references
joined (scored apart from the real clips). Each variant runs in a fresh subprocess over every
clip (imports, model load, decoding included) so wall time and peak RSS are its own. Prints
Markdown tables for bench/README.md.

Variants (``+g`` = with the glossaries cpec-media.yaml and tests/data/zh-dev-terms.yaml):

- plain-seq: `WhisperModel.transcribe(language="zh", beam_size=5, vad_filter=True)`, then
  OpenCC t2s: what a user of faster-whisper alone would run.
- plain-seq+g: the same with every glossary form that fits faster-whisper's 223-token prompt
  as `hotwords` (what dubkit did before targeted biasing).
- plain-batched: `BatchedInferencePipeline.transcribe(batch_size=8)`, same settings.
- dubkit, dubkit+g: `dubkit transcribe` batched (batch 8, faster-whisper's default, as
  plain-batched; dubkit's own on CPU is 4 since issue 16), the SRT text.
- dubkit-seq, dubkit-seq+g: `--batch-size 0`.
- dubkit-noguard, dubkit-norecover: one feature off (--no-recover: neither refill nor
  recovery); dubkit-norefill: recovery without the refill of windows a batch jumped over
  (bench/ab's BENCH_REFILL=0).
- dubkit+hw, dubkit-noguard+hw: the glossaries' Chinese forms given as `--hotword`s, in
  every window's prompt (as far as 111 tokens go), with and without the guard: the loops a
  long hotword list causes, and what the guard makes of them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from asr import machine  # noqa: E402  (bench/asr.py: the same machine line)

from tests.scoring import Errors, char_errors, clips, loop_count, plain, term_recall  # noqa: E402

ASSETS = ROOT.parent / "shared" / "assets"
LONG = ("zh-long", "funasr_vad_example_70s.wav")
GLOSSARIES = [
    ROOT / "glossaries" / "cpec-media.yaml",
    ROOT / "tests" / "data" / "zh-dev-terms.yaml",
]
TERMS = ROOT / "tests" / "data" / "zh-dev-terms.yaml"
VARIANTS = [
    "plain-seq", "plain-seq+g", "plain-batched", "dubkit", "dubkit+g",
    "dubkit-seq", "dubkit-seq+g", "dubkit-noguard", "dubkit-norecover", "dubkit-norefill",
]  # fmt: skip
BEAM, BATCH = 5, 8


DENSE = "dense (built)"


def build_dense(folder: Path) -> tuple[Path, str]:
    """The spoken clips' speech end to end, 150 ms apart: a WAV and its reference."""
    import wave

    import numpy as np
    from faster_whisper import decode_audio
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    pieces, reference = [], ""
    for clip in clips(ASSETS):
        if clip.purpose == "singing":
            continue
        audio = decode_audio(str(clip.path(ASSETS)))
        for span in get_speech_timestamps(audio, VadOptions(speech_pad_ms=100)):
            pieces.append(audio[span["start"] : span["end"]])
        pieces.append(np.zeros(int(0.15 * 16000), dtype=np.float32))
        reference += clip.reference
    samples = (np.clip(np.concatenate(pieces), -1, 1) * 32767).astype("<i2")
    path = folder / "dense.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(samples.tobytes())
    return path, reference


def media(dense: Path | None) -> list[tuple[str, Path]]:
    found = [(c.file, c.path(ASSETS)) for c in clips(ASSETS)]
    found.append((LONG[1], ASSETS / LONG[0] / LONG[1]))
    if dense is not None:
        found.append((DENSE, dense))
    return found


def _terms() -> Any:
    from dubkit.adapters.chinese import to_simplified
    from dubkit.glossary.files import load_terms

    return load_terms(GLOSSARIES, to_simplified)


def run_plain(variant: str, files: list[tuple[str, Path]]) -> dict[str, str]:
    from faster_whisper import BatchedInferencePipeline, WhisperModel

    from dubkit.adapters.chinese import to_simplified
    from dubkit.models.store import resolve_model

    model = WhisperModel(
        str(resolve_model("whisper:base")[1]), device="cpu", compute_type="int8",
        local_files_only=True,
    )  # fmt: skip
    hotwords = None
    if variant.endswith("+g"):
        from dubkit.constants import HOTWORD_TOKEN_BUDGET

        tokens = model.hf_tokenizer
        terms = _terms()
        words: list[str] = []
        for t in terms.terms:
            for form in (t.zh, *t.variants):
                if form.isascii() or form in words:
                    continue
                trial = " ".join([*words, form])
                if len(tokens.encode(" " + trial, add_special_tokens=False).ids) <= (
                    HOTWORD_TOKEN_BUDGET
                ):
                    words.append(form)
        hotwords = " ".join(words)
    out = {}
    for name, path in files:
        if variant == "plain-batched":
            segments, _ = BatchedInferencePipeline(model).transcribe(
                str(path), language="zh", beam_size=BEAM, batch_size=BATCH
            )
        else:
            segments, _ = model.transcribe(
                str(path), language="zh", beam_size=BEAM, vad_filter=True, hotwords=hotwords
            )
        out[name] = to_simplified("".join(s.text for s in segments))
    return out


def run_dubkit(variant: str, files: list[tuple[str, Path]], tmp: Path) -> dict[str, Any]:
    import pysrt

    from dubkit.adapters.whisper import WhisperTranscriber
    from dubkit.episode.pipeline import transcribe_file
    from dubkit.models.store import resolve_model
    from dubkit.ports import TranscribeOptions
    from dubkit.profiles import BUILTIN_PROFILES

    name, path = resolve_model("whisper:base")
    transcriber = WhisperTranscriber.load(name, path, device="cpu", compute_type="int8")
    base = variant.removesuffix("+g").removesuffix("+hw")
    hotwords: tuple[str, ...] = ()
    if variant.endswith("+hw"):  # the glossary typed as --hotword: in every window's prompt
        hotwords = tuple(f for t in _terms().terms for f in (t.zh, *t.variants) if not f.isascii())
    options = TranscribeOptions(
        beam_size=BEAM,
        batch_size=0 if base == "dubkit-seq" else BATCH,
        hotwords=hotwords,
        guard=base != "dubkit-noguard",
        recover=base != "dubkit-norecover",
    )
    terms = _terms() if variant.endswith("+g") else None
    out: dict[str, Any] = {}
    summaries = {}
    lines = {}
    for clip, media_path in files:
        result = transcribe_file(
            media_path, tmp, transcriber, options, BUILTIN_PROFILES["zh-broadcast"], {},
            terms=terms,
        )  # fmt: skip
        items = pysrt.open(str(result.srt), encoding="utf-8")
        out[clip] = "".join(item.text for item in items)
        lines[clip] = [line for item in items for line in item.text.split("\n")]
        doc = json.loads(result.asr_json.read_text(encoding="utf-8"))
        summaries[clip] = doc["recognition"]["summary"]
    return {"texts": out, "summaries": summaries, "lines": lines}


def child(variant: str, dense: Path | None) -> None:
    started = time.perf_counter()
    files = media(dense)
    with tempfile.TemporaryDirectory() as tmp:
        if variant.startswith("plain"):
            result: dict[str, Any] = {"texts": run_plain(variant, files)}
        else:
            result = run_dubkit(variant, files, Path(tmp))
    result["wall"] = time.perf_counter() - started
    result["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result, ensure_ascii=False))


def run_child(variant: str, dense: Path | None) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", variant]
    if dense is not None:
        cmd += ["--dense", str(dense)]
    env = dict(os.environ)
    if variant.startswith("dubkit-norefill"):
        env.update(BENCH_REFILL="0", PYTHONPATH=str(ROOT / "bench" / "ab"))
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
    if done.returncode:
        sys.exit(f"bench: {variant} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def breaks_inside_words(lines: list[str]) -> tuple[int, int, list[str]]:
    """(line and cue breaks inside a word, breaks, each such break in context): words as
    jieba cuts the whole text."""
    from dubkit.adapters.chinese import split_words

    text = "".join(line.replace(" ", "") for line in lines)
    ends, at = set(), 0
    for word in split_words(text):
        at += len(word)
        ends.add(at)
    breaks, at = [], 0
    for line in lines[:-1]:
        at += len(line.replace(" ", ""))
        breaks.append(at)
    inside = [f"{text[max(0, b - 4) : b]}|{text[b : b + 4]}" for b in breaks if b not in ends]
    return len(inside), len(breaks), inside


def score(results: dict[str, dict[str, Any]], dense_reference: str | None) -> dict[str, Any]:
    from dubkit.glossary.files import load_terms

    scored = clips(ASSETS)
    glossary = [t.zh for t in load_terms([TERMS]).terms]
    table: dict[str, Any] = {}
    for variant, result in results.items():
        texts = result["texts"]
        per_clip = {}
        pooled = Errors()
        found = wanted = 0
        for clip in scored:
            hyp = texts[clip.file]
            errors = char_errors(clip.reference, hyp)
            pooled = pooled + errors
            f, w = term_recall(plain(clip.reference), plain(hyp), glossary)
            if clip.purpose == "terms":
                found, wanted = found + f, wanted + w
            per_clip[clip.file] = {
                "cer": errors.cer, "S": errors.substitutions, "D": errors.deletions,
                "I": errors.insertions, "N": errors.reference_chars, "loops": loop_count(hyp),
                "terms": [f, w], "text": hyp,
            }  # fmt: skip
        long_text = texts[LONG[1]]
        inside = total_breaks = 0
        where: list[str] = []
        for clip_lines in result.get("lines", {}).values():
            a, b, examples = breaks_inside_words(clip_lines)
            inside, total_breaks, where = inside + a, total_breaks + b, where + examples
        dense = char_errors(dense_reference, texts[DENSE]) if dense_reference else None
        table[variant] = {
            "breaks_inside_words": [inside, total_breaks] if total_breaks else None,
            "breaks_inside_words_at": where,
            "dense": None
            if dense is None
            else {
                "cer": dense.cer,
                "deletion_rate": dense.deletion_rate,
                "insertion_rate": dense.insertion_rate,
                "loops": loop_count(texts[DENSE]),
            },
            "cer": pooled.cer,
            "deletion_rate": pooled.deletion_rate,
            "insertion_rate": pooled.insertion_rate,
            "errors": [pooled.substitutions, pooled.deletions, pooled.insertions],
            "reference_chars": pooled.reference_chars,
            "correct": pooled.correct,
            "loops": sum(c["loops"] for c in per_clip.values()),
            "term_recall": [found, wanted],
            "long_chars": len(plain(long_text)),
            "long_loops": loop_count(long_text),
            "long_text": long_text,
            "wall": result["wall"],
            "rss_mb": result["rss_mb"],
            "clips": per_clip,
            "summaries": result.get("summaries", {}),
        }
    return table


def report(table: dict[str, Any]) -> str:
    audio = 0.0
    lines = [f"Machine: {machine()}, whisper:base int8 on CPU", ""]
    lines += [
        "| variant | CER | deletions | insertions | characters right | loops | term recall | "
        "70 s: chars | 70 s: loops | dense: CER (del/ins) | breaks inside words | wall s | "
        "peak RSS MB |",
        "| --- " * 13 + "|",
    ]
    for variant, row in table.items():
        f, w = row["term_recall"]
        dense = row["dense"]
        dense_cell = (
            f"{dense['cer']:.3f} ({dense['deletion_rate']:.3f}/{dense['insertion_rate']:.3f})"
            if dense
            else "-"
        )
        inside = row["breaks_inside_words"]
        inside_cell = f"{inside[0]}/{inside[1]}" if inside else "-"
        lines.append(
            f"| {variant} | {row['cer']:.3f} | {row['deletion_rate']:.3f} | "
            f"{row['insertion_rate']:.3f} | {row['correct']} | {row['loops']} | {f}/{w} | "
            f"{row['long_chars']} | "
            f"{row['long_loops']} | {dense_cell} | {inside_cell} | {row['wall']:.1f} | "
            f"{row['rss_mb']:.0f} |"
        )
    del audio
    variants = list(table)
    lines += ["", "Per clip, CER (S/D/I):", ""]
    lines.append("| clip | " + " | ".join(variants) + " |")
    lines.append("| --- " * (len(variants) + 1) + "|")
    first = table[variants[0]]["clips"]
    for clip in first:
        cells = []
        for v in variants:
            c = table[v]["clips"][clip]
            loops = f" L{c['loops']}" if c["loops"] else ""
            cells.append(f"{c['cer']:.2f} ({c['S']}/{c['D']}/{c['I']}){loops}")
        lines.append(f"| {clip} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--json", type=Path)
    parser.add_argument("--dense", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--no-dense", action="store_true", help="skip the built dense clip")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.dense)
        return
    if not ASSETS.is_dir():
        sys.exit(f"bench: {ASSETS} not found; the shared assets are needed")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        dense, reference = (None, None) if args.no_dense else build_dense(Path(tmp))
        for variant in args.variants.split(","):
            print(f"bench: {variant}…", file=sys.stderr, flush=True)
            results[variant] = run_child(variant, dense)
    table = score(results, reference)
    if args.json:
        args.json.write_text(json.dumps(table, ensure_ascii=False, indent=1), encoding="utf-8")
    print(report(table))


if __name__ == "__main__":
    main()
