"""Long programmes (issue 16): time and peak memory of dubkit on 10, 30 and 60 minutes of speech.

    .venv/bin/python bench/long.py [--minutes 10 30 60] [--repeat 1] [--audio 48k-stereo]
                                   [--mt-size opus] [--batch-size 4] [--plot bench/long-memory.png]

Builds each programme from ../shared/assets (never copied into the repository): rounds of the
70.5 s seminar (`zh-long`) followed by the seven `zh-speech` clips in a new order each round,
0.4-2.0 s of silence after every recording, cut at the length asked. It is a 16-bit WAV, 48 kHz
stereo by default as broadcast sound is (the mono recordings on both channels; `--audio
16k-mono` for Whisper's own rate), written into a temporary folder outside the repository and
reused by every variant. Then, for each programme, in fresh processes, alternating:

- dubkit-transcribe: `dubkit transcribe PROGRAMME -o OUT --device cpu` (its defaults: zh, beam
  5, batch 4, Silero VAD, word timestamps; no glossary, because none is given and the children
  run in an empty folder, so no ./dubkit.toml names one);
- dubkit-first-pass: the same with `--no-recover`: the loop guard on, but no speech the first
  pass skipped decoded again (the comparison with plain when there is nothing to re-decode;
  the table's last column says what each dubkit run decoded a second time);
- dubkit-run: `dubkit run PROGRAMME -o OUT --device cpu --packages PKG --memory NEW.sqlite`:
  transcription, translation zh→en→ur through two random-weight Argos packages built by
  tests/argos_factory.py (OPUS-MT-sized by default, as real Argos packages are, so the
  translation time stands for theirs; the Urdu is babble), a fresh translation memory each
  run, the dubbing script and reference clips (both on by default);
- plain: faster-whisper alone with dubkit's first-pass settings, for what dubkit adds to its
  cost: `BatchedInferencePipeline(WhisperModel(whisper:base folder, device="cpu",
  compute_type="int8")).transcribe(...)` with the same settings (and
  `without_timestamps=False`, as dubkit and bench/asr.py use; beam patience 2, dubkit's
  `BATCHED_PATIENCE` since 2026-12-07, where a user left to faster-whisper would have 1),
  every segment written to an SRT.

Each child's wall time runs from its start to its exit (imports, model loads, decoding,
writing), CPU seconds are user + system from `os.wait4` (the child and the processes it
waited for, such as pydub's ffmpeg), and peak RSS is the larger of psutil polling every 0.1 s
(the child and all its descendants, summed) and the child's own `ru_maxrss`. Prints a
Markdown report for bench/README.md and writes a PNG of peak RSS against programme length.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dubkit.constants import BATCHED_PATIENCE

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT.parent / "shared" / "assets"
LONG = ASSETS / "zh-long" / "funasr_vad_example_70s.wav"
SPEECH = ASSETS / "zh-speech"
NTREX = ASSETS / "ntrex128"
BEAM, BATCH = 5, 4  # batch: dubkit's default on CPU (constants.BATCH_SIZE_CPU)
VARIANTS = ("dubkit-transcribe", "dubkit-first-pass", "dubkit-run", "plain")
AUDIO = {"48k-stereo": (48000, 2), "16k-mono": (16000, 1)}
HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
POLL_S = 0.1
# what dubkit decoded a second time (asr.json's recognition summary): windows, stretches
REDECODES = (
    "windows", "guard_redecoded", "refills_decoded", "biased_windows", "recovered_stretches",
)  # fmt: skip
TAIL_LINES = 25


# --------------------------------------------------------------------------- the plain child


def _clock(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def child_plain(media: Path, out: Path, model_dir: Path, batch: int) -> None:
    """faster-whisper alone, batched, the same settings as dubkit's; SRT written."""
    from faster_whisper import BatchedInferencePipeline, WhisperModel

    model = WhisperModel(str(model_dir), device="cpu", compute_type="int8")
    segments, _ = BatchedInferencePipeline(model).transcribe(
        str(media), language="zh", beam_size=BEAM, batch_size=batch, vad_filter=True,
        word_timestamps=True, without_timestamps=False, patience=BATCHED_PATIENCE,
    )  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    with (out / f"{media.stem}.plain.srt").open("w", encoding="utf-8") as handle:
        for n, seg in enumerate(segments, 1):
            handle.write(f"{n}\n{_clock(seg.start)} --> {_clock(seg.end)}\n{seg.text.strip()}\n\n")


# --------------------------------------------------------------------------- the programmes


def decode_pcm(path: Path, rate: int, channels: int) -> bytes:
    """The recording as 16-bit little-endian PCM at `rate` Hz, `channels` channels."""
    cmd = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", str(path), "-f", "s16le",
           "-acodec", "pcm_s16le", "-ar", str(rate), "-ac", str(channels), "-"]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, check=True).stdout


def build_programme(dest: Path, minutes: float, rate: int, channels: int) -> dict[str, Any]:
    """Write `dest`: rounds of the seminar then the zh-speech clips (shuffled, seeded), each
    followed by 0.4-2.0 s of silence, cut at `minutes`. Streams: a few MB in memory."""
    clips = sorted(SPEECH.glob("*.wav"))
    pcm = {p: decode_pcm(p, rate, channels) for p in [LONG, *clips]}
    frame = 2 * channels
    left = round(minutes * 60 * rate)
    rng = random.Random(16)
    rounds = 0
    with wave.open(str(dest), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        while left > 0:
            rounds += 1
            order = [LONG, *rng.sample(clips, len(clips))]
            for path in order:
                gap = bytes(frame * round(rng.uniform(0.4, 2.0) * rate))
                for chunk in (pcm[path], gap):
                    n = min(len(chunk) // frame, left)
                    out.writeframes(chunk[: n * frame])
                    left -= n
                if left == 0:
                    break
    return {"rounds": rounds, "recordings": len(pcm), "mb": dest.stat().st_size / 2**20}


# --------------------------------------------------------------------------- measuring


@dataclass
class Run:
    variant: str
    minutes: float
    ok: bool
    wall_s: float
    cpu_s: float = 0.0
    rss_mb: float = 0.0
    rss_poll_mb: float = 0.0
    rss_wait4_mb: float = 0.0
    zh_chars: int = 0
    clips: int = 0
    out_mb: float = 0.0
    error: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _tail(path: Path) -> str:
    text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
    return "\n".join(text.splitlines()[-TAIL_LINES:])


def measure(cmd: list[str], cwd: Path, timeout_s: float, logs: Path) -> dict[str, Any]:
    """Run `cmd` in its own session; wall, CPU (wait4), peak RSS (polled tree, wait4)."""
    import psutil

    err, out = logs / "stderr.txt", logs / "stdout.txt"
    with out.open("wb") as so, err.open("wb") as se:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=so, stderr=se, start_new_session=True)
    peak = 0
    stop = threading.Event()
    timed_out = threading.Event()

    def poll() -> None:
        nonlocal peak
        try:
            watched = psutil.Process(proc.pid)
        except psutil.Error:
            return
        while not stop.is_set():
            try:
                rss = watched.memory_info().rss
                for kid in watched.children(recursive=True):
                    with contextlib.suppress(psutil.Error):
                        rss += kid.memory_info().rss
            except psutil.Error:
                break
            peak = max(peak, rss)
            stop.wait(POLL_S)

    def kill() -> None:
        timed_out.set()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    timer = threading.Timer(timeout_s, kill)
    timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    except BaseException:  # Ctrl-C: the child is in its own session and would outlive us
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        stop.set()
        raise
    finally:
        timer.cancel()
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait
    stop.set()
    poller.join()
    # anything the child left behind in its session (its pid is the group's id)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    code = proc.returncode
    error = ""
    if timed_out.is_set():
        error = f"killed after {timeout_s:.0f} s (--timeout)"
    elif code < 0:
        error = f"killed by {signal.Signals(-code).name}"
    elif code != 0:
        error = f"exit code {code}"
    return {
        "ok": not error,
        "error": error,
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "rss_poll_mb": peak / 2**20,
        "rss_wait4_mb": usage.ru_maxrss / 1024,
        "stderr_tail": _tail(err) if error else "",
    }


def _zh_chars(srt: Path) -> int:
    if not srt.is_file():
        return 0
    return len(HAN.findall(srt.read_text(encoding="utf-8-sig", errors="replace")))


def _size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


def run_variant(
    variant: str, programme: Path, minutes: float, work: Path, packages: Path,
    model_dir: Path, timeout_s: float, batch: int = BATCH,
) -> Run:  # fmt: skip
    """One fresh process of `variant` on `programme`; its outputs removed afterwards."""
    run_dir = Path(tempfile.mkdtemp(prefix=f"{variant}-", dir=work))
    out, cwd = run_dir / "out", run_dir / "cwd"
    cwd.mkdir()  # empty: no ./dubkit.toml applies
    dubkit = Path(sys.executable).with_name("dubkit")
    dubkit_cmd = [str(dubkit)] if dubkit.is_file() else [sys.executable, "-m", "dubkit"]
    batched = ["--batch-size", str(batch)]
    if variant == "dubkit-transcribe":
        cmd = [*dubkit_cmd, "transcribe", str(programme), "-o", str(out), "--device", "cpu",
               *batched]  # fmt: skip
    elif variant == "dubkit-first-pass":  # the guard on, recovery's re-decodes off
        cmd = [*dubkit_cmd, "transcribe", str(programme), "-o", str(out), "--device", "cpu",
               "--no-recover", *batched]  # fmt: skip
    elif variant == "dubkit-run":
        cmd = [*dubkit_cmd, "run", str(programme), "-o", str(out), "--device", "cpu",
               "--packages", str(packages), "--memory", str(run_dir / "memory.sqlite"),
               *batched]  # fmt: skip
    else:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "plain",
               "--child-media", str(programme), "--child-out", str(out),
               "--child-model", str(model_dir), "--child-batch", str(batch)]  # fmt: skip
    try:
        m = measure(cmd, cwd, timeout_s, run_dir)
        stem = programme.stem
        srt = out / (f"{stem}.plain.srt" if variant == "plain" else f"{stem}.zh.srt")
        chars = _zh_chars(srt)
        if m["ok"] and chars == 0:
            m["ok"], m["error"] = False, f"no Chinese in {srt.name}"
            m["stderr_tail"] = _tail(run_dir / "stderr.txt")
        clips = out / "clips"
        summary: dict[str, Any] = {}
        asr = out / f"{stem}.asr.json"
        if asr.is_file():
            summary = json.loads(asr.read_text(encoding="utf-8"))["recognition"]["summary"]
        return Run(
            variant=variant,
            minutes=minutes,
            ok=m["ok"],
            wall_s=m["wall_s"],
            cpu_s=m["cpu_s"],
            rss_mb=max(m["rss_poll_mb"], m["rss_wait4_mb"]),
            rss_poll_mb=m["rss_poll_mb"],
            rss_wait4_mb=m["rss_wait4_mb"],
            zh_chars=chars,
            clips=sum(1 for p in clips.rglob("*") if p.is_file()) if clips.is_dir() else 0,
            out_mb=_size_mb(out) if out.is_dir() else 0.0,
            error=m["error"] + (f"\n{m['stderr_tail']}" if m["stderr_tail"] else ""),
            extra={k: summary[k] for k in REDECODES if k in summary},
        )
    except Exception as exc:  # the bench goes on; the report names what failed
        return Run(variant=variant, minutes=minutes, ok=False, wall_s=0.0, error=repr(exc))
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


# --------------------------------------------------------------------------- report


def machine() -> str:
    from importlib.metadata import version

    from asr import cpu_name  # bench/asr.py, beside this script

    cpu = cpu_name()

    libs = ", ".join(
        f"{name} {version(name)}" for name in ("dubkit", "faster-whisper", "ctranslate2", "av")
    )
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {libs}"


def _load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def plot(path: Path, runs: list[Run], title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    for v in VARIANTS:
        by_len: dict[float, float] = {}
        for r in runs:
            if r.variant == v and r.ok:
                by_len[r.minutes] = max(by_len.get(r.minutes, 0.0), r.rss_mb)
        if by_len:
            xs = sorted(by_len)
            ax.plot(xs, [by_len[x] for x in xs], marker="o", label=v)
    ax.set_xlabel("programme length (minutes)")
    ax.set_ylabel("peak RSS (MB)")
    ax.set_title("Peak memory against programme length", fontsize=11)
    fig.text(0.01, 0.01, title, fontsize=7, color="0.4")
    ax.set_ylim(bottom=0)
    ax.set_xlim(left=0)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def report(
    runs: list[Run], lengths: list[float], args: argparse.Namespace, notes: dict[str, Any]
) -> None:
    rate, channels = AUDIO[args.audio]
    print(f"Machine: {machine()}\n")
    print(
        f"Load average (1/5/15 min) at the start {notes['load_start']}, at the end "
        f"{_load()}; the whole bench took {notes['bench_s'] / 60:.1f} min "
        f"(packages built in {notes['packages_s']:.1f} s).\n"
    )
    layout = "stereo" if channels == 2 else "mono"
    print(
        f"Programmes: 16-bit WAV, {rate / 1000:g} kHz {layout}, built from "
        f"../shared/assets (the 70.5 s seminar then the 7 zh-speech clips, shuffled, 0.4-2.0 s "
        f"of silence after each, repeated to length). whisper:base int8 on CPU, beam {BEAM} "
        f"(patience {BATCHED_PATIENCE:g}), batch {args.batch_size}, VAD, word timestamps, no "
        f"glossary; `dubkit run` with random "
        f"{'OPUS-MT-sized' if args.mt_size == 'opus' else 'tiny'} zh→en→ur Argos packages, a "
        f"fresh translation memory, dubbing script and reference clips. "
        + (f"Median of {args.repeat} runs" if args.repeat > 1 else "One run")
        + " of each variant, each a fresh process, alternating. Peak RSS: psutil polling "
        f"every {POLL_S} s of the child and its descendants (summed), or the child's "
        "`ru_maxrss` where larger.\n"
    )
    for minutes in lengths:
        info = notes["programmes"].get(minutes)
        if info:
            print(
                f"- {minutes:g} min: {info['mb']:.0f} MB, {info['rounds']} round(s), "
                f"built in {info['build_s']:.1f} s"
            )
    print()

    def pick(minutes: float, v: str) -> list[Run]:
        return [r for r in runs if r.minutes == minutes and r.variant == v and r.ok]

    med: dict[tuple[float, str], dict[str, float]] = {}
    print(
        "| programme | variant | wall s | x real time | CPU s | peak RSS MB | zh chars "
        "| windows: guard / refill / biased / recovered stretches |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for minutes in lengths:
        for v in args.variants:
            ok = pick(minutes, v)
            failed = sum(1 for r in runs if r.minutes == minutes and r.variant == v and not r.ok)
            if not ok:
                print(f"| {minutes:g} min | {v} | failed ({failed}) | - | - | - | - | - |")
                continue
            m = {
                "wall": statistics.median(r.wall_s for r in ok),
                "cpu": statistics.median(r.cpu_s for r in ok),
                "rss": max(r.rss_mb for r in ok),
                "chars": statistics.median(r.zh_chars for r in ok),
            }
            med[(minutes, v)] = m
            note = f" ({failed} failed)" if failed else ""
            x = ok[0].extra
            again = (
                f"{x['windows']}: {x['guard_redecoded']} / {x['refills_decoded']} / "
                f"{x['biased_windows']} / {x['recovered_stretches']}"
                if len(x) == len(REDECODES)
                else "-"
            )
            print(
                f"| {minutes:g} min | {v}{note} | {m['wall']:.1f} | "
                f"{minutes * 60 / m['wall']:.1f} | {m['cpu']:.1f} | {m['rss']:.0f} | "
                f"{m['chars']:.0f} | {again} |"
            )
    print()
    for minutes in lengths:
        d, f, r, p = (med.get((minutes, v)) for v in VARIANTS)  # transcribe, first, run, plain
        parts = []
        if d and p:
            parts.append(
                f"dubkit transcribe / plain: wall **{d['wall'] / p['wall']:.2f}**, CPU "
                f"{d['cpu'] / p['cpu']:.2f}, peak RSS {d['rss'] / p['rss']:.2f}"
            )
        if f and p:
            parts.append(
                f"without recovery's re-decodes / plain: wall **{f['wall'] / p['wall']:.2f}**, "
                f"CPU {f['cpu'] / p['cpu']:.2f}"
            )
        if d and r:
            parts.append(f"run / transcribe: wall {r['wall'] / d['wall']:.2f}")
        if parts:
            print(f"- {minutes:g} min: " + "; ".join(parts))
    if len(lengths) > 1:
        lo, hi = min(lengths), max(lengths)
        slopes = []
        for v in args.variants:
            a, b = med.get((lo, v)), med.get((hi, v))
            if a and b:
                slopes.append(f"{v} {(b['rss'] - a['rss']) / (hi - lo) * 60:+.0f}")
        if slopes:
            print(
                f"- peak RSS growth from {lo:g} to {hi:g} min, MB per hour of programme: "
                + ", ".join(slopes)
            )
    for v in ("dubkit-run",):
        done = [r for r in runs if r.variant == v and r.ok]
        if done:
            print(
                "- dubkit run outputs (clips, MB on disk): "
                + ", ".join(f"{r.minutes:g} min {r.clips}, {r.out_mb:.0f}" for r in done)
            )
    print(
        "- all runs, wall s / CPU s / peak RSS MB (polled, ru_maxrss): "
        + json.dumps(
            {
                f"{m:g} min {v}": [
                    f"{r.wall_s:.1f} / {r.cpu_s:.1f} / {r.rss_poll_mb:.0f}, {r.rss_wait4_mb:.0f}"
                    if r.ok
                    else "failed"
                    for r in runs
                    if r.minutes == m and r.variant == v
                ]
                for m in lengths
                for v in args.variants
            },
            ensure_ascii=False,
        )
    )
    failures = [r for r in runs if not r.ok]
    if failures:
        why = [f"{r.minutes:g} min {r.variant}: {r.error.splitlines()[0]}" for r in failures]
        print(f"- failed runs (their stderr's tail went to stderr): {'; '.join(why)}")


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--minutes", type=float, nargs="+", default=[10.0, 30.0, 60.0])
    parser.add_argument("--repeat", type=int, default=1, help="runs of each variant")
    parser.add_argument("--audio", choices=sorted(AUDIO), default="48k-stereo")
    parser.add_argument("--mt-size", choices=["opus", "tiny"], default="opus",
                        help="random Argos packages for `run`: OPUS-MT-sized or tiny")  # fmt: skip
    parser.add_argument("--plot", type=Path, default=ROOT / "bench" / "long-memory.png")
    parser.add_argument("--timeout", type=float, default=0.0,
                        help="seconds per child (0: 2x the programme, at least 900)")  # fmt: skip
    parser.add_argument("--batch-size", type=int, default=BATCH,
                        help="windows decoded together, dubkit's and plain's alike")  # fmt: skip
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument("--child", choices=["plain"], help=argparse.SUPPRESS)
    parser.add_argument("--child-media", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-model", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-batch", type=int, default=BATCH, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_plain(args.child_media, args.child_out, args.child_model, args.child_batch)
        return

    missing = [p for p in (LONG, SPEECH, NTREX) if not p.exists()]
    if missing:
        sys.exit(f"bench: {missing[0]} not found; the shared assets are needed")
    if shutil.which("ffmpeg") is None:
        sys.exit("bench: ffmpeg not found (scripts/bootstrap.sh installs it)")
    sys.path.insert(0, str(ROOT))
    from dubkit.models.store import resolve_model

    model_dir = resolve_model("whisper:base")[1]
    rate, channels = AUDIO[args.audio]
    lengths = sorted(set(args.minutes))
    variants = args.variants = [v for v in VARIANTS if v in args.variants]
    notes: dict[str, Any] = {"load_start": _load(), "programmes": {}}
    bench_started = time.perf_counter()
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="dubkit-bench-long-") as tmp_name:
        work = Path(tmp_name)
        packages = work / "packages"
        from mt import build_packages  # bench/mt.py, beside this script

        notes["packages_s"] = build_packages(packages, args.mt_size)
        for minutes in lengths:
            programme = work / f"programme-{minutes:g}min.wav"
            started = time.perf_counter()
            info = build_programme(programme, minutes, rate, channels)
            info["build_s"] = time.perf_counter() - started
            notes["programmes"][minutes] = info
            timeout = args.timeout or max(900.0, 2 * minutes * 60)
            for n in range(args.repeat):
                order = variants[n % len(variants) :] + variants[: n % len(variants)]
                for v in order:
                    r = run_variant(
                        v, programme, minutes, work, packages, model_dir, timeout, args.batch_size
                    )
                    runs.append(r)
                    if r.ok:
                        print(
                            f"bench: {minutes:g} min {v}: {r.wall_s:.1f} s, CPU {r.cpu_s:.1f} s, "
                            f"{r.rss_mb:.0f} MB, {r.zh_chars} zh chars (load {_load()})",
                            file=sys.stderr,
                        )
                    else:
                        print(f"bench: {minutes:g} min {v}: FAILED: {r.error}", file=sys.stderr)
            programme.unlink()
    notes["bench_s"] = time.perf_counter() - bench_started
    report(runs, lengths, args, notes)
    title = f"{machine()}; {args.audio} WAV"
    if not any(r.ok for r in runs):
        print("bench: no run succeeded; no plot", file=sys.stderr)
        return
    try:
        plot(args.plot, runs, title)
        print(f"\nPlot: {args.plot}", file=sys.stderr)
    except Exception as exc:  # a missing matplotlib must not lose the table above
        print(f"bench: no plot ({exc!r}); pip install matplotlib", file=sys.stderr)


if __name__ == "__main__":
    main()
