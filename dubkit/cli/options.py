"""Options shared by several commands, each declared once (typer `Annotated` aliases)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dubkit import constants as C
from dubkit.errors import ConfigError

OutDir = Annotated[Path, typer.Option("-o", "--outdir", help="Output folder.")]
ConfigOpt = Annotated[
    Path | None, typer.Option(help="Config file (default ./dubkit.toml if present).")
]
ModelOpt = Annotated[
    str | None, typer.Option(help="Whisper model name (whisper:base) or CTranslate2 folder.")
]
DeviceOpt = Annotated[str | None, typer.Option(help="auto, cpu or cuda.")]
ComputeOpt = Annotated[str | None, typer.Option(help="int8, int8_float16, float16, float32...")]
BeamOpt = Annotated[int | None, typer.Option(min=1, max=20)]
BatchOpt = Annotated[
    int | None, typer.Option(min=0, max=256, help="Batched inference size; 0 = sequential.")
]
VadOpt = Annotated[
    bool | None, typer.Option("--vad/--no-vad", help="Skip non-speech with Silero VAD.")
]
LanguageOpt = Annotated[
    str | None, typer.Option(help="Spoken language code, or 'auto' (default zh).")
]
HotwordOpt = Annotated[
    list[str] | None,
    typer.Option(
        help="Term to bias recognition towards in every window (repeatable; keep it to a few: "
        "a long list makes Whisper invent them). Glossary terms need none of this."
    ),
]
GuardOpt = Annotated[
    bool | None,
    typer.Option(
        "--guard/--no-guard",
        help="Decode again, then collapse and flag, windows that loop or invent text.",
    ),
]
RecoverOpt = Annotated[
    bool | None,
    typer.Option("--recover/--no-recover", help="Decode again speech the recogniser skipped."),
]
BiasOpt = Annotated[
    bool | None,
    typer.Option(
        "--glossary-bias/--no-glossary-bias",
        help="Decode again, with those terms as hotwords, windows that sound like glossary "
        "terms they do not write.",
    ),
]
ProfileOpt = Annotated[str | None, typer.Option(help="Subtitle profile name.")]


def _threads(value: int) -> int:
    """--threads within 0..MAX_THREADS, else a one-line error (exit 1): CTranslate2 dies on
    values it cannot take (std::bad_alloc), and a negative count means nothing."""
    if not 0 <= value <= C.MAX_THREADS:
        raise ConfigError(
            f"--threads {value}: give 0 (CTranslate2's default) up to {C.MAX_THREADS} CPU threads"
        )
    return value


ThreadsOpt = Annotated[
    int, typer.Option(help="CPU threads (0: CTranslate2's default).", callback=_threads)
]
JobThreadsOpt = Annotated[
    int,
    typer.Option(
        "--threads",
        help="CPU threads per job (0: the cores shared among the jobs).",
        callback=_threads,
    ),
]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print a machine-readable summary on stdout.")
]
MtDeviceOpt = Annotated[str | None, typer.Option("--mt-device", help="Translation device.")]
MtComputeOpt = Annotated[
    str | None, typer.Option("--mt-compute-type", help="Translation compute type.")
]
MtBeamOpt = Annotated[
    int | None, typer.Option("--mt-beam-size", min=1, max=20, help="Translation beam (4).")
]
BatchTokensOpt = Annotated[
    int | None, typer.Option(min=1, help="Tokens per translation batch (1024).")
]
RouteOpt = Annotated[
    str | None, typer.Option(help="auto (direct if installed, else pivot), direct or pivot.")
]
PivotOpt = Annotated[str | None, typer.Option(help="Pivot language (en).")]
PackagesOpt = Annotated[
    list[Path] | None, typer.Option("--packages", help="Extra folder of Argos packages.")
]
CacheOpt = Annotated[
    bool | None, typer.Option("--cache/--no-cache", help="Use the translation memory.")
]
MemoryOpt = Annotated[Path | None, typer.Option(help="Translation memory file.")]
BomOpt = Annotated[bool | None, typer.Option("--bom/--no-bom", help="UTF-8 BOM in SRTs.")]
BidiOpt = Annotated[
    bool | None,
    typer.Option("--bidi/--no-bidi", help="Bidi marks around Latin and digits in Urdu."),
]
DigitsOpt = Annotated[str | None, typer.Option(help="Digits in Urdu text: latin or urdu.")]
LayoutOpt = Annotated[
    str | None,
    typer.Option(help="sentence (translate whole sentences, re-time) or cue (same timing)."),
]
UrProfileOpt = Annotated[
    str | None, typer.Option("--ur-profile", help="Urdu subtitle profile (ur-broadcast).")
]
GlossaryOpt = Annotated[
    list[Path] | None,
    typer.Option("--glossary", "-g", help="Glossary YAML (repeatable; narrowest scope wins)."),
]


PivotSrtOpt = Annotated[
    bool, typer.Option("--pivot-srt", help="Also write the pivot (STEM.en.srt).")
]
DubscriptOpt = Annotated[
    bool, typer.Option("--dubscript/--no-dubscript", help="Dubbing script (xlsx, csv, html).")
]
ClipsOpt = Annotated[
    bool, typer.Option("--clips/--no-clips", help="Reference clips, one per script line.")
]
HandlesOpt = Annotated[int, typer.Option(min=0, max=5000, help="Clip handles, ms.")]
ClipFormatOpt = Annotated[str, typer.Option(help="wav or mp3.")]
GuideTrackOpt = Annotated[
    bool, typer.Option("--guide-track", help="STEM.guide.wav: ducked original, -23 LUFS.")
]
ScratchVoiceOpt = Annotated[
    bool, typer.Option("--scratch-voice", help="espeak-ng Urdu voice in the guide track.")
]
FpsOpt = Annotated[
    float | None,
    typer.Option(
        min=1, max=300, help="Frame rate cues snap to (default: the media's own; 25 for sound)."
    ),
]
