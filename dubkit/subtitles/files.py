"""Subtitle files on disk: read and decoded (UTF-8, UTF-16 sniffed, or a named encoding),
parsed with the file's name in every error."""

from __future__ import annotations

from pathlib import Path

from dubkit import constants as C
from dubkit.errors import SubtitleParseError
from dubkit.fsutil import NotReadable, display_path, read_limited
from dubkit.subtitles.parse import ParsedSubtitles, decode_subtitle_bytes, parse_srt


def subtitle_stem(path: Path, language: str = "zh") -> str:
    """'ep1.zh.srt' → 'ep1'; 'ep1.srt' → 'ep1'."""
    stem = path.stem
    return stem[: -len(language) - 1] if stem.endswith(f".{language}") else stem


def read_subtitle_text(path: Path, encoding: str | None = None) -> str:
    """The text of a subtitle file or script (UTF-8 or UTF-16 sniffed, else `encoding`);
    SubtitleParseError names the file when it is missing, unreadable or undecodable."""
    name = display_path(path)
    try:
        data = read_limited(path, C.MAX_SUBTITLE_BYTES)
    except FileNotFoundError as exc:
        raise SubtitleParseError(f"{name}: no such file", path=path) from exc
    except NotReadable as exc:
        what = exc.kind or f"{exc.size:,} bytes, more than {C.MAX_SUBTITLE_BYTES:,}"
        raise SubtitleParseError(f"{name}: is {what}; give a subtitle file", path=path) from exc
    except OSError as exc:
        raise SubtitleParseError(f"{name}: cannot read ({exc.strerror or exc})", path=path) from exc
    return decode_subtitle_bytes(data, name, encoding)


def read_srt(path: Path, encoding: str | None = None) -> ParsedSubtitles:
    """Parse an SRT file; SubtitleParseError names the file and line.

    Every stage reads a programme's SRT through here, and every stage's outputs include ASS,
    whose times stop at 9:59:59.99: a cue ending later is refused here, before any model
    loads or any work is done, rather than after the translation (C.MAX_PROGRAMME_MS). The
    format-level `parse_srt` still reads all that SubRip holds, for tools that only look."""
    return parse_srt(
        read_subtitle_text(path, encoding), display_path(path), max_ms=C.MAX_PROGRAMME_MS
    )
