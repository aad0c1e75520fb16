"""Recognition quality on classes of broadcast input: dubkit against plain faster-whisper, in
the same run.

    .venv/bin/python bench/classes.py [--classes original,phone,...] [--long] [--json OUT.json]

Clips: the 6 graded "speech" clips of ../shared/assets/zh-speech (gold, gold-unchecked,
semigold; 154 reference characters; 3.5 to 15.6 s, each a single recognition window). Every
class is built from every clip with ffmpeg at run time in a temporary folder (the shared
files are read where they are, never copied):

- original: the files themselves (16, 24 and 48 kHz mono WAV).
- phone: resampled to 8 kHz mono, 16-bit (the telephone rate: nothing above 4 kHz; no 300 Hz
  high-pass).
- quiet: -30 dB (gain in float), 16-bit.
- hot: +18 dB in float, then hard-clipped at full scale (`asoftclip=type=hard:threshold=1`),
  16-bit. Four clips clip; the two quietest (peaks -25.7 and -23.1 dBFS) stay below full
  scale.
- silence: 45 s of digital silence before the speech.
- stereo-right: the speech in the right channel only; pink noise in the left (ffmpeg's
  `anoisesrc` at amplitude 1, then -40 dB: peaks near -42.6 dBFS, RMS near -54 dBFS).
- 5.1-centre: six channels, the speech in the centre (FC) only, the rest digital silence.
- music: the speech over a music bed of two sines, 220 and 330 Hz, each peaking at -25 dBFS
  (lavfi `sine` comes out at amplitude 1/8, -18.1 dBFS, so each is scaled by 0.450, -6.9 dB),
  mixed without normalisation at the clip's own rate, 16-bit.
- flac: 48 kHz, 24-bit FLAC.

With --long, every class is also built from the 70 s seminar ../shared/assets/zh-long/
funasr_vad_example_70s.wav (16 kHz mono, three recognition windows, no reference text), which
goes into the same calls as the clips, so that window cutting runs, and the guard, the refill
and recovery wherever a window calls for them; the original class is then always run (it is the
seminar's pseudo-reference).

Each class is then transcribed by both tools, one thread each (OMP_NUM_THREADS=1, set here
before CTranslate2 loads; Whisper's text depends on the thread count):

- dubkit: one `dubkit transcribe FILES... --device cpu --threads 1 --json` process per class
  (all its files in one call, the defaults otherwise), the SRT text; its per-file warnings
  come from the JSON summary, its window decisions from the asr.json beside the SRT.
- plain: one `WhisperModel(model_dir, device="cpu", compute_type="int8", cpu_threads=1)` for
  the whole run, `transcribe(path, language="zh", beam_size=5, vad_filter=True)` on each file,
  the segments' text through OpenCC t2s (`dubkit.adapters.chinese.to_simplified`), as
  bench/quality.py's plain-seq (which builds its model without a thread count, so it is not
  called here).

Scored with tests/scoring.py (punctuation and spaces removed, characters pooled over the 6
clips): CER with substitutions / deletions / insertions, characters right (reference
characters neither substituted nor deleted), loops (`dubkit.asr.guard.find_loops`), and each
tool's change from its own original row. The seminar has no reference, so with --long each
tool's seminar text in a class is scored against the same tool's seminar text in the original
class (how much the class changes what the tool writes): CER against it, characters written
(punctuation and spaces removed) and their ratio to the original's, loops; for dubkit also the
seminar's windows in asr.json's `recognition` block and how many of them carry a "guard",
"refilled" or "recovered" decision. Prints Markdown tables for bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from asr import LONG, machine  # noqa: E402  (bench/asr.py: the same machine line and seminar)
from quality import ASSETS, BEAM  # noqa: E402  (bench/quality.py: the same assets and beam)

from tests.scoring import Clip, Errors, char_errors, clips, loop_count, plain, pooled  # noqa: E402

CLASSES = [
    "original", "phone", "quiet", "hot", "silence", "stereo-right", "5.1-centre", "music",
    "flac",
]  # fmt: skip
FFMPEG = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y"]
SINE_AMPLITUDE = 1 / 8  # lavfi sine's fixed amplitude, -18.1 dBFS
MUSIC_PEAK_DB = -25.0  # each sine of the music bed
NOISE_DB = -40.0  # the pink noise of stereo-right, on anoisesrc's amplitude 1
TOOLS = ("dubkit", "plain")
DECISIONS = ("guard", "refilled", "recovered")  # keys of asr.json's window reports


def speech_clips() -> list[Clip]:
    return [c for c in clips(ASSETS, ("zh-speech",)) if c.purpose == "speech"]


def probe(path: Path) -> tuple[int, float]:
    """(sample rate, duration in seconds) of a file's first audio stream."""
    done = subprocess.run(
        [
            "ffprobe", "-v", "error", "-select_streams", "a:0",
            "-show_entries", "stream=sample_rate:format=duration", "-of", "json", str(path),
        ],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    info = json.loads(done.stdout)
    return int(info["streams"][0]["sample_rate"]), float(info["format"]["duration"])


def ffmpeg_args(name: str, source: Path) -> list[str]:
    """The ffmpeg arguments that turn `source` into class `name`: inputs, filters and codec,
    without the output file."""
    rate, seconds = probe(source)
    src = ["-i", str(source)]
    s16 = ["-c:a", "pcm_s16le"]
    if name == "phone":
        return [*src, "-ar", "8000", "-ac", "1", *s16]
    if name == "quiet":
        return [*src, "-af", "volume=-30dB:precision=float", *s16]
    if name == "hot":
        chain = "aformat=sample_fmts=flt,volume=18dB:precision=float,"
        return [*src, "-af", chain + "asoftclip=type=hard:threshold=1", *s16]
    if name == "silence":
        return [*src, "-af", "adelay=45000:all=1", *s16]
    if name == "stereo-right":
        noise = f"anoisesrc=color=pink:amplitude=1:sample_rate={rate}:duration={seconds}:seed=7"
        graph = (
            f"[1:a]volume={NOISE_DB}dB[n];[0:a]aformat=channel_layouts=mono[s];"
            "[n][s]join=inputs=2:channel_layout=stereo:map=0.0-FL|1.0-FR[o]"
        )
        return [*src, "-f", "lavfi", "-i", noise, "-filter_complex", graph, "-map", "[o]", *s16]
    if name == "5.1-centre":
        return [*src, "-af", "pan=5.1|FC=c0", *s16]
    if name == "music":
        gain = 10 ** (MUSIC_PEAK_DB / 20) / SINE_AMPLITUDE
        sines = [
            ["-f", "lavfi", "-i", f"sine=frequency={f}:sample_rate={rate}"] for f in (220, 330)
        ]
        graph = (
            "[0:a]aformat=sample_fmts=flt:channel_layouts=mono[s];"
            f"[1:a]volume={gain:.6f},aformat=sample_fmts=flt[x];"
            f"[2:a]volume={gain:.6f},aformat=sample_fmts=flt[y];"
            "[s][x][y]amix=inputs=3:duration=first:normalize=0[o]"
        )
        return [*src, *sines[0], *sines[1], "-filter_complex", graph, "-map", "[o]", *s16]
    if name == "flac":
        flac = ["-c:a", "flac", "-sample_fmt", "s32", "-bits_per_raw_sample", "24"]
        return [*src, "-ar", "48000", *flac]
    raise ValueError(f"unknown class {name!r}")


def build(name: str, sources: list[Path], folder: Path) -> list[Path]:
    """Class `name` of every source, in `folder` (the original: the sources themselves)."""
    if name == "original":
        return sources
    folder.mkdir(parents=True)
    out = []
    for source in sources:
        target = folder / (source.stem + (".flac" if name == "flac" else ".wav"))
        subprocess.run([*FFMPEG, *ffmpeg_args(name, source), str(target)], check=True)
        out.append(target)
    return out


def run_dubkit(files: list[Path], outdir: Path) -> dict[str, Any]:
    """One `dubkit transcribe` call over all of a class's files: text, warnings and asr.json's
    `recognition` block by stem."""
    import pysrt

    cmd = [
        sys.executable, "-m", "dubkit", "transcribe", *map(str, files), "-o", str(outdir),
        "--device", "cpu", "--threads", "1", "--json",
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)  # OMP_NUM_THREADS=1
    try:
        summary = json.loads(done.stdout)
    except json.JSONDecodeError:
        sys.exit(f"bench: dubkit transcribe failed ({done.returncode}):\n{done.stderr[-3000:]}")
    texts, warnings, errors, recognition = {}, {}, {}, {}
    for item in summary["files"]:
        stem = Path(item["media"]).stem
        if "error" in item:
            errors[stem] = item["error"]
            continue
        warnings[stem] = list(item["warnings"])
        srt = outdir / f"{stem}.zh.srt"
        texts[stem] = "".join(cue.text for cue in pysrt.open(str(srt), encoding="utf-8"))
        asr = json.loads((outdir / f"{stem}.asr.json").read_text(encoding="utf-8"))
        recognition[stem] = asr["recognition"]
    return {"texts": texts, "warnings": warnings, "errors": errors, "recognition": recognition}


def load_plain() -> Any:
    from faster_whisper import WhisperModel

    from dubkit.models.store import resolve_model

    model_dir = resolve_model("whisper:base")[1]
    return WhisperModel(str(model_dir), device="cpu", compute_type="int8", cpu_threads=1)


def run_plain(model: Any, files: list[Path]) -> dict[str, Any]:
    """Plain faster-whisper, as bench/quality.py's plain-seq: text by stem."""
    from dubkit.adapters.chinese import to_simplified

    texts = {}
    for path in files:
        segments, _ = model.transcribe(str(path), language="zh", beam_size=BEAM, vad_filter=True)
        texts[path.stem] = to_simplified("".join(s.text for s in segments))
    return {"texts": texts, "warnings": {}, "errors": {}, "recognition": {}}


def counts(e: Errors) -> dict[str, Any]:
    """An error count as the tables and the JSON name it: CER, S/D/I, reference characters
    (N) and characters right."""
    return {
        "cer": e.cer, "S": e.substitutions, "D": e.deletions, "I": e.insertions,
        "N": e.reference_chars, "correct": e.correct,
    }  # fmt: skip


def score(scored: list[Clip], result: dict[str, Any]) -> dict[str, Any]:
    """Pooled and per-clip errors of one tool on one class (a missing text scores as empty),
    with the clips' warnings and errors (not the seminar's)."""
    stems = {Path(clip.file).stem for clip in scored}
    pairs, per_clip = [], {}
    for clip in scored:
        stem = Path(clip.file).stem
        hyp = result["texts"].get(stem, "")
        pairs.append((clip.reference, hyp))
        errors = counts(char_errors(clip.reference, hyp))
        per_clip[stem] = {**errors, "loops": loop_count(hyp), "text": hyp}
    return {
        **counts(pooled(pairs)),
        "loops": sum(c["loops"] for c in per_clip.values()),
        "warnings": {k: v for k, v in result["warnings"].items() if k in stems},
        "errors": {k: v for k, v in result["errors"].items() if k in stems},
        "seconds": result["seconds"],  # the whole call, the seminar's share too with --long
        "clips": per_clip,
    }


def score_long(stem: str, result: dict[str, Any], original: str) -> dict[str, Any]:
    """One tool's seminar text in one class against its own seminar text in the original class
    (a pseudo-reference); for dubkit, its window decisions (a missing text scores as empty)."""
    text = result["texts"].get(stem, "")
    errors = counts(char_errors(original, text))
    written = len(plain(text))
    row: dict[str, Any] = {
        **errors, "chars": written,
        "ratio": written / errors["N"] if errors["N"] else None,
        "loops": loop_count(text), "warnings": result["warnings"].get(stem, []),
        "error": result["errors"].get(stem), "text": text,
    }  # fmt: skip
    recognition = result["recognition"].get(stem)
    if recognition is not None:
        reports = recognition["windows"]
        row["windows"] = len(reports)
        row["decisions"] = {key: sum(1 for r in reports if key in r) for key in DECISIONS}
        row["recognition"] = recognition
    return row


def report(table: dict[str, dict[str, Any]], machine_line: str) -> str:
    first = next(iter(table.values()))["dubkit"]
    lines = [
        f"Machine: {machine_line}, whisper:base int8 on CPU, one thread (OMP_NUM_THREADS=1)",
        "",
        f"{len(first['clips'])} speech clips of zh-speech, {first['N']} reference characters. "
        "Change: from the tool's own original row, CER (characters right).",
        "",
        "| class | dubkit: CER (S/D/I) | dubkit: right | plain: CER (S/D/I) | plain: right | "
        "loops dubkit / plain | dubkit warnings | change, dubkit | change, plain |",
        "| --- " * 9 + "|",
    ]
    base = table.get("original")
    for name, row in table.items():
        d, p = row["dubkit"], row["plain"]
        cells = [name]
        for r in (d, p):
            cells += [f"{r['cer']:.3f} ({r['S']}/{r['D']}/{r['I']})", str(r["correct"])]
        cells.append(f"{d['loops']} / {p['loops']}")
        cells.append(str(sum(len(w) for w in d["warnings"].values()) + len(d["errors"])))
        for tool in TOOLS:
            if base is None or name == "original":
                cells.append("-")
            else:
                r, o = row[tool], base[tool]
                cells.append(f"{r['cer'] - o['cer']:+.3f} ({r['correct'] - o['correct']:+d})")
        lines.append("| " + " | ".join(cells) + " |")
    differ = []
    for name, row in table.items():
        for stem, d in row["dubkit"]["clips"].items():
            p = row["plain"]["clips"][stem]
            if (d["S"], d["D"], d["I"], d["correct"]) != (p["S"], p["D"], p["I"], p["correct"]):
                differ.append(
                    f"| {name} | {stem} | {d['S']}/{d['D']}/{d['I']} ({d['correct']}) | "
                    f"{p['S']}/{p['D']}/{p['I']} ({p['correct']}) |"
                )
    lines += ["", "Clips where the two score differently, S/D/I (characters right):", ""]
    if differ:
        lines += ["| class | clip | dubkit | plain |", "| --- " * 4 + "|", *differ]
    else:
        lines.append("none")
    notes = []
    for name, row in table.items():
        for stem, messages in row["dubkit"]["warnings"].items():
            notes += [f"- {name}, {stem}: {message}" for message in messages]
        for stem, error in row["dubkit"]["errors"].items():
            notes.append(f"- {name}, {stem}: error: {error}")
    lines += ["", "dubkit's warnings and errors:", "", *(notes or ["none"])]
    return "\n".join(lines)


def report_long(table: dict[str, dict[str, Any]]) -> str:
    """The seminar's table: each tool against its own text in the original class."""
    base = table["original"]
    lines = [
        f"Seminar ({LONG.parent.name}/{LONG.name}, no reference): each tool against its own "
        f"text in the original class ({base['dubkit']['N']} characters dubkit, "
        f"{base['plain']['N']} plain). Characters: written, punctuation and spaces removed "
        "(ratio to the original's). Decisions: windows of dubkit's asr.json with a guard / "
        "refilled / recovered report.",
        "",
        "| class | dubkit: CER (S/D/I) | dubkit: characters | plain: CER (S/D/I) | "
        "plain: characters | loops dubkit / plain | dubkit windows | dubkit decisions | "
        "dubkit warnings |",
        "| --- " * 9 + "|",
    ]
    notes = []
    for name, row in table.items():
        d, p = row["dubkit"], row["plain"]
        cells = [name]
        for r in (d, p):
            ratio = "-" if r["ratio"] is None else f"{r['ratio']:.3f}"
            cells += [f"{r['cer']:.3f} ({r['S']}/{r['D']}/{r['I']})", f"{r['chars']} ({ratio})"]
        cells.append(f"{d['loops']} / {p['loops']}")
        if "windows" in d:
            cells += [str(d["windows"]), " / ".join(str(d["decisions"][k]) for k in DECISIONS)]
        else:
            cells += ["-", "-"]
        cells.append(str(len(d["warnings"]) + (d["error"] is not None)))
        lines.append("| " + " | ".join(cells) + " |")
        notes += [f"- {name}: {message}" for message in d["warnings"]]
        if d["error"] is not None:
            notes.append(f"- {name}: error: {d['error']}")
    lines += ["", "dubkit's warnings and errors on the seminar:", "", *(notes or ["none"])]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--classes", default=",".join(CLASSES), help="comma-separated")
    parser.add_argument(
        "--long", action="store_true", help="also every class of the 70 s seminar (zh-long)"
    )
    parser.add_argument("--json", type=Path, help="write every text and count here")
    args = parser.parse_args()
    names = args.classes.split(",")
    unknown = [n for n in names if n not in CLASSES]
    if unknown:
        parser.error(f"unknown classes: {', '.join(unknown)} (known: {', '.join(CLASSES)})")
    if args.long and "original" not in names:
        names.insert(0, "original")  # the seminar's pseudo-reference
    if not ASSETS.is_dir():
        sys.exit(f"bench: {ASSETS} not found; the shared assets are needed")
    if args.long and not LONG.is_file():
        sys.exit(f"bench: {LONG} not found; the shared assets are needed")
    # Before CTranslate2 loads, here and in the dubkit processes, which inherit it.
    os.environ["OMP_NUM_THREADS"] = "1"
    scored = speech_clips()
    sources = [c.path(ASSETS) for c in scored] + ([LONG] if args.long else [])
    model = load_plain()
    table: dict[str, dict[str, Any]] = {}
    seminar: dict[str, dict[str, dict[str, Any]]] = {}  # class, tool: the tool's results
    with tempfile.TemporaryDirectory(prefix="dubkit-classes-") as tmp:
        for name in names:
            print(f"bench: {name}…", file=sys.stderr, flush=True)
            files = build(name, sources, Path(tmp) / "media" / name)
            outdir = Path(tmp) / "out" / name
            outdir.mkdir(parents=True)
            row = {}
            for tool in TOOLS:
                started = time.perf_counter()
                result = run_dubkit(files, outdir) if tool == "dubkit" else run_plain(model, files)
                result["seconds"] = time.perf_counter() - started
                row[tool] = score(scored, result)
                seminar.setdefault(name, {})[tool] = result
            table[name] = row
    long_table: dict[str, dict[str, Any]] = {}
    if args.long:
        original = {tool: seminar["original"][tool]["texts"].get(LONG.stem, "") for tool in TOOLS}
        for name, results in seminar.items():
            long_table[name] = {
                tool: score_long(LONG.stem, results[tool], original[tool]) for tool in TOOLS
            }
    machine_line = machine()
    if args.json:
        doc: dict[str, Any] = {"machine": machine_line, "classes": table}
        if args.long:
            doc["long"] = long_table
        args.json.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    print(report(table, machine_line))
    if args.long:
        print("\n" + report_long(long_table))


if __name__ == "__main__":
    main()
