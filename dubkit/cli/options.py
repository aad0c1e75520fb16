"""Options shared by several commands, each declared once (typer `Annotated` aliases)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

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
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the results as JSON on stdout.")]
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
    bool | None,
    typer.Option(
        "--cache/--no-cache",
        help="Add to the translation memory (--no-cache: nothing is added to it; a "
        "translation still takes the lines it approved).",
    ),
]
# `dubscript import` and `review` spelled --no-cache so before it was shared: kept, hidden.
NoMemoryOpt = Annotated[
    bool, typer.Option("--no-memory", hidden=True, help="The old spelling of --no-cache.")
]
MemoryOpt = Annotated[
    Path | None,
    typer.Option(
        "--memory",
        help="Translation memory file (default: translate.memory of dubkit.toml, else "
        "DUBKIT_HOME/memory.sqlite).",
    ),
]
BomOpt = Annotated[bool | None, typer.Option("--bom/--no-bom", help="UTF-8 BOM in SRTs.")]
# A CSV is for Excel, which reads UTF-8 only after a BOM: on unless --no-bom (SRTs: BomOpt).
CsvBomOpt = Annotated[
    bool, typer.Option("--bom/--no-bom", help="UTF-8 BOM in the CSV (for Excel).")
]
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
    typer.Option(
        "--glossary",
        "-g",
        help="Glossary YAML (repeatable, added to glossary.files of dubkit.toml; narrowest "
        "scope wins).",
    ),
]
EncodingOpt = Annotated[
    str | None, typer.Option(help="Input encoding (default: UTF-8, BOM sniffed).")
]
# Commands that work on one file write beside it unless told (OutDir: the current folder).
OutDirBeside = Annotated[
    Path | None, typer.Option("-o", "--outdir", help="Output folder (default: beside the input).")
]
FontOpt = Annotated[
    str | None,
    typer.Option(help=f"Font family ({C.URDU_FONT}; an .ass keeps its own unless given)."),
]
OcrOpt = Annotated[
    Path | None,
    typer.Option(
        "--ocr",
        help="The burned subtitles' places (default: STEM.ocr.json beside the subtitles; "
        "when found, the Urdu sits above the burned band).",
    ),
]

# One flag, another meaning: each its own alias, named for what it means where it is used.

# --fps of the dubbing script: the rate its SMPTE timecodes count (FpsOpt: cues snap to it).
TimecodeFpsOpt = Annotated[
    float | None,
    typer.Option(
        "--fps",
        min=1,
        max=300,
        help="Frame rate of the timecodes (default: import: the rate the script was written "
        "at; export: the programme's; else 25; 29.97 and 59.94 count drop-frame).",
    ),
]
# --fps of `ocr`: how often the picture is sampled, not a frame rate cues snap to.
SampleFpsOpt = Annotated[
    float,
    typer.Option(
        "--fps",
        min=0.5,
        max=30,
        help="Frames sampled per second to spot changes (cue times are then found to the frame).",
    ),
]
# --profile of `qa`: the profile finished subtitles are checked against, Urdu or Chinese.
CheckProfileOpt = Annotated[
    str | None,
    typer.Option(
        "--profile",
        help="Profile to check against (default: ur-broadcast for Urdu text; for Chinese, "
        "the config's transcribe.profile or zh-broadcast).",
    ),
]
# --source of `qa`: the Chinese SRT (SourceOpt: where run's Chinese comes from).
SourceSrtOpt = Annotated[
    Path | None,
    typer.Option(
        "--source", help="The Chinese SRT the subtitles were translated from (same cues)."
    ),
]
# --source/--target of `memory export|import`: the language pair of the TMX.
SourceLangOpt = Annotated[str, typer.Option("--source", help="Source language.")]
TargetLangOpt = Annotated[str, typer.Option("--target", help="Target language.")]
# --source of `glossary add`: where a term's rendering comes from (a field of the entry).
RenderingSourceOpt = Annotated[
    str | None, typer.Option("--source", help="Where the rendering comes from.")
]


PivotSrtOpt = Annotated[
    bool,
    typer.Option(
        "--pivot-srt",
        help="Also write the pivot: STEM.en.srt, or STEM.en.pivot.srt where STEM.en.srt is "
        "the English of the picture (or any file translation did not write).",
    ),
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
SourceOpt = Annotated[
    str,
    typer.Option(
        help="Where the Chinese comes from: asr (the speech), ocr (subtitles burned into the "
        "picture, no speech recognition) or auto (burned subtitles where confident, the speech "
        "elsewhere).",
    ),
]
PivotFromOpt = Annotated[
    str,
    typer.Option(
        "--pivot-from",
        help="The English of a zh→en→ur route: mt (machine translation) or burned (the English "
        "line burned into the picture, where there is one: STEM.en.srt as --source ocr|auto "
        "or `dubkit ocr` read it, or as a person corrected it).",
    ),
]
CoverBurnedOpt = Annotated[
    bool,
    typer.Option(
        "--cover-burned",
        help="Hide the subtitles burned into the picture under an opaque box while each is on "
        "screen, with the Urdu centred in it. burn, preview: needs STEM.ocr.json (`dubkit ocr`) "
        "beside the subtitles unless the ASS is placed already; run, batch: with --source ocr "
        "or auto; translate: from STEM.ocr.json beside the Chinese SRT; STEM.ur.ass carries "
        "the boxes.",
    ),
]


# --------------------------------------------------------------------------- option groups
# Each group is the options several commands share, each named once here: (parameter,
# type with its typer.Option, default). `with_options` puts a command's groups in place of
# its `**options` parameter, so `transcribe`, `run` and `batch` cannot drift apart.

Group = tuple[tuple[str, Any, Any], ...]

RECOGNITION: Group = (
    ("model", ModelOpt, None),
    ("device", DeviceOpt, None),
    ("compute_type", ComputeOpt, None),
    ("beam_size", BeamOpt, None),
    ("batch_size", BatchOpt, None),
    ("vad", VadOpt, None),
    ("language", LanguageOpt, None),
    ("hotword", HotwordOpt, None),
    ("guard", GuardOpt, None),
    ("recover", RecoverOpt, None),
    ("glossary_bias", BiasOpt, None),
    ("profile", ProfileOpt, None),
    ("fps", FpsOpt, None),
    ("source", SourceOpt, "asr"),
)
TRANSLATION: Group = (
    ("mt_device", MtDeviceOpt, None),
    ("mt_compute_type", MtComputeOpt, None),
    ("mt_beam_size", MtBeamOpt, None),
    ("batch_tokens", BatchTokensOpt, None),
    ("route", RouteOpt, None),
    ("pivot", PivotOpt, None),
    ("packages", PackagesOpt, None),
    ("pivot_srt", PivotSrtOpt, False),
    ("cache", CacheOpt, None),
    ("memory", MemoryOpt, None),
    ("bom", BomOpt, None),
    ("bidi", BidiOpt, None),
    ("digits", DigitsOpt, None),
    ("layout", LayoutOpt, None),
    ("ur_profile", UrProfileOpt, None),
)
# What translation takes from the picture (run, batch, translate).
PICTURE: Group = (
    ("pivot_from", PivotFromOpt, "mt"),
    ("cover_burned", CoverBurnedOpt, False),
)
DUBBING: Group = (
    ("dubscript", DubscriptOpt, True),
    ("clips", ClipsOpt, True),
    ("handles", HandlesOpt, 250),
    ("clip_format", ClipFormatOpt, "wav"),
    ("guide_track", GuideTrackOpt, False),
    ("scratch_voice", ScratchVoiceOpt, False),
)


def with_options(*groups: Group) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """The command with `groups`' options in place of its `**options` parameter (its last):
    typer reads the signature and annotations this sets; the command gets them as keywords."""

    def wrap(command: Callable[..., None]) -> Callable[..., None]:
        own = list(inspect.signature(command, eval_str=True).parameters.values())
        if not own or own[-1].kind is not inspect.Parameter.VAR_KEYWORD:
            raise TypeError(f"{command.__name__} needs a last **options parameter")
        shared = [
            inspect.Parameter(
                name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=kind
            )
            for group in groups
            for name, kind, default in group
        ]
        params = [*own[:-1], *shared]

        @functools.wraps(command)
        def call(**values: Any) -> None:
            command(**values)

        call.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        call.__annotations__ = {p.name: p.annotation for p in params}
        return call

    return wrap
