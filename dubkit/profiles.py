"""Named subtitle profiles: the limits cues are built to."""

from __future__ import annotations

from dataclasses import dataclass

from dubkit import constants as C


@dataclass(frozen=True, slots=True)
class Profile:
    """Limits for one kind of subtitle. Durations in ms, gaps in frames."""

    name: str
    max_chars_per_line: int = C.ZH_MAX_CHARS_PER_LINE
    max_lines: int = C.ZH_MAX_LINES
    min_duration_ms: int = C.MIN_DURATION_MS
    max_duration_ms: int = C.MAX_DURATION_MS
    min_gap_frames: int = C.MIN_GAP_FRAMES
    fps: float = C.DEFAULT_FPS
    pause_split_ms: int = C.PAUSE_SPLIT_MS
    max_cps: float | None = None  # reading speed, characters per second (None: unchecked)
    language: str = "zh"

    def __post_init__(self) -> None:
        problems = []
        if self.max_chars_per_line < 1:
            problems.append("max_chars_per_line must be at least 1")
        if self.max_lines < 1:
            problems.append("max_lines must be at least 1")
        if self.min_duration_ms < 0:
            problems.append("min_duration_ms must not be negative")
        if self.max_duration_ms < self.min_duration_ms + 1000 / max(self.fps, 1e-9):
            problems.append("max_duration_ms must exceed min_duration_ms by at least a frame")
        if self.min_gap_frames < 0:
            problems.append("min_gap_frames must not be negative")
        if not 1 <= self.fps <= 300:
            problems.append("fps must be between 1 and 300")
        if self.pause_split_ms < 0:
            problems.append("pause_split_ms must not be negative")
        if self.max_cps is not None and not 1 <= self.max_cps <= 100:
            problems.append("max_cps must be between 1 and 100")
        if problems:
            raise ValueError(f"profile {self.name!r}: " + "; ".join(problems))


BUILTIN_PROFILES: dict[str, Profile] = {
    # PTV/CCTV broadcast at 25 fps.
    "zh-broadcast": Profile(name="zh-broadcast"),
    # Streaming deliveries at 24000/1001 fps, single-line preferred by most platforms.
    "zh-web": Profile(name="zh-web", max_lines=1, fps=23.976),
    # Urdu subtitles for PTV at 25 fps: 42 characters x 2 lines, 17 characters per second.
    "ur-broadcast": Profile(
        name="ur-broadcast",
        max_chars_per_line=C.UR_MAX_CHARS_PER_LINE,
        max_lines=C.UR_MAX_LINES,
        max_cps=C.UR_MAX_CPS,
        language="ur",
    ),
}
URDU_PROFILE = "ur-broadcast"
DEFAULT_PROFILE = "zh-broadcast"
