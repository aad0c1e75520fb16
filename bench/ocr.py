"""`dubkit ocr` speed: a generated programme with burned Chinese (and some English)
subtitles read by `dubkit ocr`, against the naive loop a user would otherwise write (RapidOCR
with its defaults on every sampled frame, at the same rate, whole frames, no change skipping),
in the same run. Prints the real-time factor of each and their ratio, and the machine.

    python bench/ocr.py [--minutes 10] [--size 1280x720] [--naive-seconds 60]

`--naive-seconds` times the naive loop on the programme's first N seconds only and scales
its time to the whole length (it is linear in frames); 0 runs it over everything.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINES = [
    ("中巴经济走廊建设稳步推进", "The economic corridor moves ahead"),
    ("瓜达尔港迎来新的发展机遇", ""),
    ("两国人民友谊源远流长", "A long friendship between two peoples"),
    ("新时代中国特色社会主义", ""),
    ("共建一带一路合作倡议", "Building the Belt and Road together"),
]


def _ass(path: Path, seconds: int, width: int, height: int) -> int:
    scale = height / 360
    fs, bord, mv = round(26 * scale), round(2 * scale), round(16 * scale)
    head = (
        "[Script Info]\nScriptType: v4.00+\n"
        f"PlayResX: {width}\nPlayResY: {height}\nScaledBorderAndShadow: yes\n\n"
        "[V4+ Styles]\nFormat: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, "
        "OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, "
        "Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\n"
        f"Style: D,Noto Sans CJK SC,{fs},&H00FFFFFF,&H00FFFFFF,&H00000000,&H80000000,0,0,0,0,"
        f"100,100,0,0,1,{bord},0,2,10,10,{mv},1\n\n"
        "[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, "
        "Text\n"
    )
    events = []
    for start, end, zh, en in _burned(seconds):
        text = zh + (rf"\N{en}" if en else "")
        events.append(f"Dialogue: 0,{_clock(start)},{_clock(end)},D,,0,0,0,,{text}\n")
    path.write_text(head + "".join(events), encoding="utf-8")
    return len(events)


def _burned(seconds: int) -> list[tuple[float, float, str, str]]:
    """The burned cues: (start s, end s, Chinese, English), 2.4 s on and 0.6 s off."""
    out, t, n = [], 0.5, 0
    while t + 3 < seconds:
        zh, en = LINES[n % len(LINES)]
        out.append((t, t + 2.4, zh, en))
        t, n = t + 3.0, n + 1
    return out


def _clock(s: float) -> str:
    cs = round(s * 100)
    return f"0:{cs // 6000:02d}:{cs % 6000 // 100:02d}.{cs % 100:02d}"


def _naive(media: Path, fps: float, seconds: float) -> tuple[float, int]:
    """RapidOCR's defaults on every sampled frame of the first `seconds`: time and frames."""
    import av
    from rapidocr import RapidOCR

    engine = RapidOCR(params={"Global.log_level": "error"})
    started = time.perf_counter()
    frames = 0
    with av.open(str(media)) as container:
        stream = container.streams.video[0]
        step = max(1, round(float(stream.average_rate) / fps))
        for n, frame in enumerate(container.decode(stream)):
            if frame.time is not None and frame.time >= seconds:
                break
            if n % step == 0:
                engine(frame.to_ndarray(format="bgr24"))
                frames += 1
    return time.perf_counter() - started, frames


def _accuracy(srt: Path, seconds: int) -> str:
    """What dubkit read against what was burned: each burned cue paired with the read cue
    overlapping it most; the CER of the paired Chinese, and the burned cues with no pair."""
    import jiwer
    import pysrt

    read = [
        (c.start.ordinal, c.end.ordinal, c.text.replace("\n", ""))
        for c in pysrt.open(str(srt), encoding="utf-8")
    ]
    truth, found, missing = [], [], []
    for start, end, zh, _en in _burned(seconds):
        s_ms, e_ms = round(start * 1000), round(end * 1000)
        best = max(read, key=lambda r: min(e_ms, r[1]) - max(s_ms, r[0]), default=None)
        if best is None or min(e_ms, best[1]) - max(s_ms, best[0]) < (e_ms - s_ms) / 2:
            missing.append(f"{start:.1f}s {zh}")
            continue
        truth.append(zh)
        found.append(best[2])
    cer = jiwer.cer("".join(truth), "".join(found)) if truth else 1.0
    said = f"; not read: {', '.join(missing)}" if missing else ""
    return (
        f"{len(read)} cues read, {len(truth)} of {len(truth) + len(missing)} burned cues "
        f"paired, Chinese CER {cer:.4f}{said}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--fps", type=float, default=4.0)
    parser.add_argument("--naive-seconds", type=float, default=60)
    args = parser.parse_args()
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        sys.exit("ffmpeg not found (scripts/bootstrap.sh installs it)")
    width, height = (int(v) for v in args.size.split("x"))
    seconds = round(args.minutes * 60)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cues = _ass(work / "subs.ass", seconds, width, height)
        media = work / "programme.mp4"
        subprocess.run(
            [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
             f"testsrc2=size={width}x{height}:rate=25", "-t", str(seconds), "-vf", "ass=subs.ass",
             "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", media.name],
            check=True, cwd=work,
        )  # fmt: skip
        print(f"programme: {seconds} s at {width}x{height}, 25 fps, {cues} burned cues")
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "dubkit", "ocr", str(media), "-o", str(work / "out"),
             "--fps", str(args.fps)],
            check=True, cwd=ROOT,
        )  # fmt: skip
        ours = time.perf_counter() - started
        print(_accuracy(work / "out" / "programme.zh.srt", seconds))
        span = seconds if args.naive_seconds <= 0 else min(seconds, args.naive_seconds)
        naive, frames = _naive(media, args.fps, span)
        naive_total = naive * seconds / span
        scaled = "" if span == seconds else f" (timed on the first {span:.0f} s, scaled)"
        print(f"dubkit ocr: {ours:.1f} s, real-time factor {ours / seconds:.3f}")
        print(
            f"naive (every sampled frame, whole frame, {args.fps:g} fps): {naive_total:.1f} s"
            f"{scaled}, real-time factor {naive_total / seconds:.3f} ({frames} frames read)"
        )
        print(f"speed-up: {naive_total / ours:.1f}x")


if __name__ == "__main__":
    main()
