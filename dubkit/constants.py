"""Defaults with a reason, in one place."""

from __future__ import annotations

DEFAULT_MODEL = "whisper:base"  # offline-installable here; larger sizes via `models pull`
DEFAULT_LANGUAGE = "zh"
DEFAULT_BEAM_SIZE = 5  # faster-whisper's default; the batched pipeline keeps it
DEFAULT_BATCH_SIZE = 8  # faster-whisper's BatchedInferencePipeline default
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

# Urdu subtitles (ur-broadcast): 42 characters per line and 2 lines, as Netflix's Arabic-script
# guides; 17 characters per second is Netflix's adult reading speed (Arabic-script guides allow
# 20, set max_cps in a profile to use that).
UR_MAX_CHARS_PER_LINE = 42
UR_MAX_LINES = 2
UR_MAX_CPS = 17.0
URDU_FONT = "Noto Nastaliq Urdu"  # Debian fonts-noto-core; Noto Naskh Arabic is the Naskh choice

# faster-whisper keeps hotwords to max_length // 2 - 1 = 223 prompt tokens and cuts the rest
# mid-word; dubkit fits whole terms into that budget instead.
HOTWORD_TOKEN_BUDGET = 223
