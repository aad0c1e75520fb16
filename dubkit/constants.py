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
MAX_ARTEFACT_BYTES = 256 * 2**20

# Glossaries (dubkit.glossary.files) come from outside translators too. A file is refused
# before it is read when it is not a regular file (a FIFO would hang the read, /dev/zero fill
# memory) or larger than 8 MiB: about 30,000 entries, more than any real glossary holds (ruamel
# parses about 0.2 MiB a second, so the largest takes under a minute and about 0.6 GB).
MAX_GLOSSARY_BYTES = 8 * 2**20
# A glossary nests 5 levels (file, terms, entry, field, list item); YAML nested deeper than
# this is refused before it can exhaust Python's recursion limit.
GLOSSARY_MAX_DEPTH = 50
# Messages quote at most this many characters of a glossary's content: enough to find the
# spot, never a whole line of a file included by mistake (a key, a password file).
GLOSSARY_EXCERPT_CHARS = 40

# dubkit.toml is a few dozen lines; anything past 1 MiB is not one (and is never read whole).
MAX_CONFIG_BYTES = 2**20
