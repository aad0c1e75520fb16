"""Defaults with a reason, in one place.

The limits on what dubkit reads from outside (sizes, depths, rows, deadlines) are defaults:
each can be set for a run with an environment variable, DUBKIT_ and its name here (for
example DUBKIT_MAX_GLOSSARY_BYTES=4194304), as docs/reliability.md lists. A value that is not
a positive number stops every command with one line (LIMIT_PROBLEMS).
"""

from __future__ import annotations

import math
import os
from typing import TypeVar

LIMIT_PROBLEMS: list[str] = []
_N = TypeVar("_N", int, float)


def _limit(name: str, default: _N) -> _N:
    """`default`, or the positive number in DUBKIT_<name> (an int limit takes whole numbers)."""
    raw = os.environ.get(f"DUBKIT_{name}")
    if raw is None:
        return default
    try:
        value = type(default)(raw.strip().replace("_", ""))
        if not math.isfinite(value) or value <= 0:
            raise ValueError(raw)
    except ValueError:
        LIMIT_PROBLEMS.append(
            f"DUBKIT_{name}={raw[:40]!r} is not a positive "
            f"{'whole number' if isinstance(default, int) else 'number'}; unset it or give "
            f"one (the default is {default})"
        )
        return default
    return value


DEFAULT_MODEL = "whisper:base"  # offline-installable here; larger sizes via `models pull`
DEFAULT_LANGUAGE = "zh"
DEFAULT_BEAM_SIZE = 5  # faster-whisper's default; the batched pipeline keeps it
# Windows decoded together when --batch-size is not given. On CPU 4: beam search holds about
# 125 MB a window, so 8 (faster-whisper's BatchedInferencePipeline default) peaked at 1.45 GB
# on a 10-minute programme and 4 at 0.83 GB, and 4 was not slower (2 cores: 41.8 s against
# 43.9 s; plain faster-whisper 35.4 s against 37.0 s; bench/README.md). On a GPU, 8 as before.
BATCH_SIZE_CPU = 4
BATCH_SIZE_GPU = 8
# Batched decodes (the first pass, and the glossary-biased pass, which decodes as it does) hear
# each window once and cannot continue one the model stopped early: with patience 1, beam search
# ends once beam_size hypotheses have ended, and hypotheses that end after a window's first
# sentence (a song follows) won whole windows (one of 30 s kept 9 characters; 85 with patience 2).
# Patience 2 waits for twice as many. Measured on 2 cores (bench/README.md, bench/recordings.py,
# three orders of the referenced recordings, one run each): the first pass's CER 0.635 -> 0.622 on
# average (better in two orders), fewer stretches left for recovery in all three, the default's
# CER 0.003-0.004 apart per order in both directions (0.496 -> 0.494); the first pass costs 3-6%
# more CPU on a speech programme, 0-17% with songs (two sweeps); bench/quality.py's clips and
# dense clip, with and without a glossary: the same text. A small gain, kept for the recovery it
# saves.
BATCHED_PATIENCE = 2.0

# What glossary biasing writes for the same audio, model, options and glossary; a batch
# manifest keys the transcriptions it biased by it (beside the glossaries' Chinese forms), so a
# change of the biasing rules that changes the text transcribes those episodes again on resume,
# and only those (no glossary, or --no-glossary-bias: no biased pass, nothing to redo). Raise it
# with each such change:
# 1: until a biased pass refused for a few characters outside its terms could still confirm
#    the terms it gained (written into the first pass's text where it heard them).
# 2: since then.
BIASING_REVISION = 2

# What recognition writes for the same audio, model and options (biasing aside: that is
# BIASING_REVISION); part of a batch manifest's transcribe key wherever speech is recognised,
# so a change of the recogniser's decisions that changes the text transcribes the episodes
# again on resume, as a fresh run would write them. Raise it with each such change:
# 1: first pass, guard, glossary biasing and recovery (keys without a revision).
# 2: written by two commits of the morning of 2026-12-07 (01dc6f4, bde71a7) for a change of
#    the biasing rules, which BIASING_REVISION now covers: never to be used again.
# 3: since the refill of a window a batched first pass jumped over, and sampling seeded per
#    programme (a song's text no longer depends on what the process decoded before).
RECOGNITION_REVISION = 3


def default_batch_size(device: str) -> int:
    """The batch size for a recogniser running on `device` ("cpu" or "cuda")."""
    return BATCH_SIZE_GPU if device == "cuda" else BATCH_SIZE_CPU


SAMPLE_RATE = 16_000  # Whisper's input rate

# Chinese subtitle profile (zh-broadcast). 16 characters per line is the usual ceiling for
# Simplified Chinese TV subtitles (Netflix's Simplified Chinese guide also says 16).
ZH_MAX_CHARS_PER_LINE = 16
ZH_MAX_LINES = 2
MIN_DURATION_MS = 833  # 5/6 s: the shortest event viewers can read (Netflix timed-text style)
MAX_DURATION_MS = 7_000  # 7 s: longer cues are re-read; split them
MIN_GAP_FRAMES = 2  # 2 frames between cues lets the eye register a new event
DEFAULT_FPS = 25.0  # PAL, which PTV and CCTV broadcast in
PAUSE_SPLIT_MS = 700  # a pause this long inside a cue always ends it

# A cue whose language probability is this high for another language triggers a warning.
FOREIGN_LANGUAGE_WARN_PROBABILITY = 0.5

# Translation: argostranslate's decoding settings, so a package translates the same in both.
MT_BEAM_SIZE = 4
MT_LENGTH_PENALTY = 0.2
MT_MAX_DECODING_LENGTH = 256  # CTranslate2's default, which argostranslate keeps
# Lines per CTranslate2 batch, counted in tokens. argostranslate sends one sentence at a time
# (its 32-token batches rarely hold two); a programme's lines go in one call, cut into batches
# of at most 1,024 tokens (CTranslate2 sorts by length inside the call, so little padding),
# and never below 64 tokens so that batches stay worth a worker's time.
MT_MAX_BATCH_TOKENS = 1024
MT_MIN_BATCH_TOKENS = 64
MT_PIVOT = "en"  # every Argos language has an English package, few have direct pairs

# The flag the fusion of burned subtitles with speech (dubkit.burned.fuse) puts on a subtitle
# with no speech under it (a caption, a sign, or speech the recogniser missed). Like the
# recogniser's own flags it travels with the cue to qa.json and `dubkit qa`: a person looks.
NO_SPEECH_UNDER_SUBTITLE = "no-speech"

# Urdu subtitles (ur-broadcast): 42 characters per line and 2 lines, as Netflix's Arabic-script
# guides; 17 characters per second is Netflix's adult reading speed (Arabic-script guides allow
# 20, set max_cps in a profile to use that).
UR_MAX_CHARS_PER_LINE = 42
UR_MAX_LINES = 2
UR_MAX_CPS = 17.0
URDU_FONT = "Noto Nastaliq Urdu"  # Debian fonts-noto-core; Noto Naskh Arabic is the Naskh choice

# Whisper's context holds 448 tokens; faster-whisper gives hotwords and the previous text up
# to 223 each, so both together leave nothing to decode ("maximum decoding length must be >
# 0"). dubkit decodes each window without the previous text and keeps a window's prompt
# within 223 tokens, so at least 221 remain for its own text; the user's --hotword list gets
# at most half of that, the rest is for the glossary terms heard in a window.
HOTWORD_TOKEN_BUDGET = 223
USER_HOTWORD_TOKEN_BUDGET = 111

# Glossary biasing by sound (dubkit.asr.pinyin): a term of 2 syllables must sound exactly
# like what was heard (after folding zh/z, ch/c, sh/s, n/l, in/ing, en/eng); longer terms may
# differ by a quarter of their syllables (a wrong initial or final costs half a syllable).
# Single characters are never matched by sound: too many homophones.
BIAS_MIN_SYLLABLES = 2
BIAS_MIN_SCORE = 0.75
BIAS_TONE_COST = 0.25  # the same syllable in another tone: Whisper keeps tones more often than not

# Recognition guard (dubkit.asr.guard). A loop is a unit of 2-8 characters said 4 or more
# times in a row, a single character 6 times (对对对对 and 哈哈哈哈 are speech), or 9-30
# characters 3 times (a sentence said again); 2.4 is Whisper's compression-ratio threshold.
LOOP_MAX_UNIT = 8
LOOP_MIN_REPEATS = 4
LOOP_MIN_REPEATS_ONE_CHAR = 6
LOOP_LONG_UNIT = 30
LOOP_LONG_MIN_REPEATS = 3
# A repetition that outlives a second decode is kept (and flagged) when it could be speech:
# at most 8 sayings, at a speaking pace (ASR_MAX_CPS), where the VAD hears speech.
LOOP_PLAUSIBLE_REPEATS = 8
# Digits repeat in numbers (820,000): a run of one repeated digit unit is a loop only from
# 12 characters on.
LOOP_MIN_DIGITS = 12
ASR_MAX_COMPRESSION_RATIO = 2.4
# Mandarin is spoken at 3-8 characters a second (tongue twisters reach about 10): a window
# holding more than 12 a second of its speech is invented text; so is a segment squeezing 12
# or more characters into less than 1/25 s each.
ASR_MAX_CPS = 12.0
ASR_FAST_SEGMENT_CHARS = 12
ASR_MAX_SEGMENT_CPS = 25.0
# Text under which the VAD's mean speech probability stays below 0.15 for half a second or
# more was not heard; Whisper's own silence rule (no-speech > 0.6 and log-probability < -1)
# drops a segment, as faster-whisper's sequential decoder does.
ASR_NO_SPEECH_MIN_MS = 500
ASR_SILENT_VAD_PROBABILITY = 0.15
ASR_NO_SPEECH_PROBABILITY = 0.6
ASR_LOGPROB_THRESHOLD = -1.0
# A clean re-decode of a looping window must keep 80% of what the first pass said outside
# its loops (where the VAD heard speech); else the first pass is kept, collapsed and flagged.
GUARD_MIN_KEPT = 0.8
# Whisper's temperature fallback, for windows decoded again after the guard objected.
ASR_FALLBACK_TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
# The fallback samples at temperatures above 0: CTranslate2's sampler is seeded with this
# (it otherwise draws a new seed each run), so the same programme gives the same subtitles
# in every run of the same dubkit on the same machine.
ASR_SAMPLING_SEED = 20_261_207

# Speech chunks (dubkit.asr.windows.speech_chunks) from Silero VAD's probability per 32 ms
# frame, with faster-whisper's default VadOptions: speech starts at p >= 0.5, ends after
# 2 s below 0.35 (0.5 less 0.15), and each chunk is padded with 400 ms of its silence.
VAD_FRAME_SAMPLES = 512
VAD_THRESHOLD = 0.5
VAD_NEG_THRESHOLD = 0.35
VAD_MIN_SILENCE_MS = 2_000
VAD_PAD_MS = 400

# Windows (dubkit.asr.windows): Whisper hears 30 s at a time. Speech is laid end to end as
# faster-whisper's sequential decoder does (VAD chunks, silences of 2 s or more removed), then
# cut into windows of at most 30 s at the quietest points, balanced so no window is a scrap.
WINDOW_MAX_MS = 30_000
WINDOW_MIN_MS = 5_000
WINDOW_CUT_SLACK_MS = 5_000  # how far from the balanced cut point a quieter one may be
# Speech the VAD still holds for speech (p >= 0.35, where Silero ends a speech run) for 1 s
# or more with no recognised word within 0.4 s was skipped by the decoder (dense speech, a
# jump to the window's end): decoded again alone, kept only where Whisper is sure of it.
UNCOVERED_MIN_MS = 1_000
UNCOVERED_NEAR_MS = 400
UNCOVERED_PROBABILITY = 0.35  # Silero's own end-of-speech threshold (0.5 less 0.15)
UNCOVERED_BRIDGE_MS = 400  # pauses between words inside a skipped stretch do not split it
# A batched first pass that leaves at least half of its window's speech without a word (the
# decoder jumped over most of a song's verse) is no base for recovery's small repairs: the
# window is decoded again alone, with temperature fallback, as faster-whisper's sequential
# decoder would, and that is kept if it is clean and leaves at most half as much speech
# without a word.
REFILL_MISSING_SHARE = 0.5
REFILL_MAX_LEFT = 0.5
# A term heard with exactly its syllables and tones, as whole words, is written in directly
# from 3 characters up (2-character homophones are too often other words: 计分/积分). A biased
# second pass may change, outside the terms it gains, at most 2 characters or 5% of the text,
# by replacement only (an added or dropped 不 changes the meaning).
BIAS_SUBSTITUTE_MIN_CHARS = 3
BIAS_MAX_OTHER_CHANGES = 2
BIAS_MAX_OTHER_SHARE = 0.05
# Recovery decodes start 300 ms before the skipped speech and end 500 ms after it (context
# for the first word, room for the last).
RECOVER_PAD_BEFORE_MS = 300
RECOVER_PAD_AFTER_MS = 500
ASR_REPORT_TEXT_CHARS = 200  # text quoted in asr.json's window decisions
# The VAD pads each speech chunk with 400 ms of silence: a window ending at a chunk's end may
# run up to 300 ms past 30 s (Whisper hears 30 s, the padding after it gives the last frames
# their context) rather than leave a scrap of padding for a window of its own.
WINDOW_TRIM_MS = 300

# dubkit's own JSON artefacts read back (asr.json, qa.json) are ignored beyond this size:
# reading never stops a command, nor takes its memory (an hour of asr.json is about 5 MB).
MAX_ARTEFACT_BYTES = _limit("MAX_ARTEFACT_BYTES", 256 * 2**20)

# Glossaries (dubkit.glossary.files) come from outside translators too. A file is refused
# before it is read when it is not a regular file (a FIFO would hang the read, /dev/zero fill
# memory) or larger than 2 MiB: about 7,000 entries, more than any real glossary holds (the
# shipped cpec-media has 48); checking costs about 0.5 ms and 5 KB a term, so the largest
# takes seconds, not minutes (8 MiB of flow-style YAML ran past 120 s and 780 MB).
MAX_GLOSSARY_BYTES = _limit("MAX_GLOSSARY_BYTES", 2 * 2**20)
# A glossary nests 5 levels (file, terms, entry, field, list item); YAML nested deeper than
# this is refused before it can exhaust Python's recursion limit.
GLOSSARY_MAX_DEPTH = _limit("GLOSSARY_MAX_DEPTH", 50)
# Messages quote at most this many characters of a glossary's content: enough to find the
# spot, never a whole line of a file included by mistake (a key, a password file).
GLOSSARY_EXCERPT_CHARS = 40

# dubkit.toml is a few dozen lines; anything past 1 MiB is not one (and is never read whole).
MAX_CONFIG_BYTES = _limit("MAX_CONFIG_BYTES", 2**20)

# Translation packages and their index come from the internet (dubkit.models.packages) and are
# treated as hostile. A package's metadata.json, dubkit's own manifests and Argos's
# settings.json hold a few hundred bytes: anything over 1 MiB is refused unread (a FIFO or a
# device too). JSON nested too deep for Python's parser is refused like any invalid JSON.
MAX_PACKAGE_JSON_BYTES = _limit("MAX_PACKAGE_JSON_BYTES", 2**20)
# The package index: argospm's lists about 100 packages in about 100 KB; 8 MiB leaves room for
# a mirror's index 80 times larger, and is read within 5 minutes whatever the server does.
MAX_INDEX_BYTES = _limit("MAX_INDEX_BYTES", 8 * 2**20)
INDEX_DEADLINE_S = _limit("INDEX_DEADLINE_S", 300.0)
# Real Argos packages are 100-300 MB, unpacked or not (an int8 model.bin barely deflates).
# 2 GiB, several times the largest, is the most a package may download or unpack to; and a
# member over 1 MiB unpacked, or the whole archive, may unpack to at most 100 times its
# compressed size (model files deflate by 1.1-3 times; a zip bomb of zeros by 1,000).
MAX_PACKAGE_BYTES = _limit("MAX_PACKAGE_BYTES", 2 * 2**30)
PACKAGE_MAX_RATIO = _limit("PACKAGE_MAX_RATIO", 100)
PACKAGE_RATIO_FLOOR = 2**20  # smaller members may deflate better (text, JSON, padding)
PACKAGE_MAX_MEMBERS = _limit(
    "PACKAGE_MAX_MEMBERS", 10_000
)  # a package holds about 10 files; more is an inode bomb
# One package download must end within an hour, whatever the server does (a server trickling
# a byte every 20 s resets every read's timeout): 300 MB at 1 Mbit/s takes 40 minutes. Each
# read waits at most DOWNLOAD_READ_TIMEOUT_S for a byte.
PACKAGE_DEADLINE_S = _limit("PACKAGE_DEADLINE_S", 3600.0)
DOWNLOAD_READ_TIMEOUT_S = _limit("DOWNLOAD_READ_TIMEOUT_S", 30.0)

# --threads: CPU workers or threads. More than any machine's cores (two 192-core EPYCs have
# 768 threads) only costs memory; CTranslate2 dies (std::bad_alloc) on absurd values.
MAX_THREADS = 1024

# The longest programme dubkit handles: every stage that writes subtitles writes ASS too, and
# ASS times are H:MM:SS.cc, one hour digit, so 9:59:59.99 is the last time it can hold (a
# 10-hour programme is no broadcast material). SubRip and WebVTT hold up to 99:59:59.999 and
# their parsers read that; `read_srt` (through which every stage reads a programme), `run`
# (before recognition, by the audio's length), translation (before any work) and `dubscript
# import` (by cell) refuse what ends later, in one line naming the cue.
MAX_PROGRAMME_MS = 35_999_990

# Frame rates a timecode is counted at, as --fps takes them: below 1 fps nothing is a
# programme, above 300 fps no camera or format writes one (an About sheet saying 1e308 or inf
# is refused with these, before any arithmetic).
MIN_FPS = 1.0
MAX_FPS = 300.0

# Edited dubbing scripts (`dubkit dubscript import`) come back from studios and may be damaged
# or hostile. An .xlsx over 32 MiB, or whose zip directory says it unpacks to more than 256 MiB
# (a zip bomb: 600 MiB of zeros packs into 600 KB), is refused before it is opened. dubkit
# writes a full line in about 1 KB of sheet XML, 60 bytes zipped: a 10-hour programme with a
# line every 0.72 s (50,000 rows) is about 55 MB unpacked and 3 MB zipped, well inside both.
# Sheets are read row by row (openpyxl read-only, never the whole grid in memory) and refused
# when their <dimension> or their rows reach past 50,000 rows or 256 columns (a stray cell at
# XFD1048576 made openpyxl build 17 billion cells and take over 12 GB).
MAX_SCRIPT_XLSX_BYTES = _limit("MAX_SCRIPT_XLSX_BYTES", 32 * 2**20)
MAX_SCRIPT_UNPACKED_BYTES = _limit("MAX_SCRIPT_UNPACKED_BYTES", 256 * 2**20)
MAX_SCRIPT_ROWS = _limit("MAX_SCRIPT_ROWS", 50_000)
MAX_SCRIPT_COLUMNS = _limit("MAX_SCRIPT_COLUMNS", 256)
# Line numbers (the No column) are whole numbers from 1 to this: six digits, as the column is
# wide; a larger one is a typing slip (or 1e308), never a line.
MAX_SCRIPT_LINE_NUMBER = 999_999
# Messages quote at most this many characters of a spreadsheet cell or of text given as a
# timecode: enough to find it, never a page (a cell holds up to 32,767 characters).
CELL_EXCERPT_CHARS = 40

# A TMX imported into the translation memory: 64 MiB holds about 200,000 subtitle lines with
# their markup; a larger file (or a FIFO, a device) is refused unread.
MAX_TMX_BYTES = _limit("MAX_TMX_BYTES", 64 * 2**20)

# A subtitle file or typed script read by any command: ten hours of dense SubRip is about 4 MB;
# 64 MiB is refused unread (so are FIFOs and devices: a read that never ends).
MAX_SUBTITLE_BYTES = _limit("MAX_SUBTITLE_BYTES", 64 * 2**20)

# `glossary import`: a glossary CSV of 100,000 terms is about 10 MiB; read no further than 16.
MAX_CSV_BYTES = _limit("MAX_CSV_BYTES", 16 * 2**20)

# `dubkit review`: what the page may send the local server. A save carries the whole draft:
# an hour's programme is about 1,000 cues of at most a few hundred bytes (300 KB); 8 MiB is
# refused unread. A cue's Urdu is two lines of 42 characters; 2,000 is a page pasted by
# mistake, never a subtitle; 100,000 cues would be a 10-hour programme with a cue every 0.36 s.
MAX_REVIEW_BODY_BYTES = _limit("MAX_REVIEW_BODY_BYTES", 8 * 2**20)
MAX_REVIEW_CUE_CHARS = 2_000
MAX_REVIEW_CUES = 100_000
# The waveform strip under the player: one level per 100 ms (36,000 numbers for an hour).
REVIEW_WAVEFORM_STEP_MS = 100
