"""Run many episodes: discovery, a per-stage resume manifest, a lock, failure isolation.

Each episode goes through three stages (transcribe, translate, dub) into OUT/EPISODE/. After
each stage OUT/EPISODE/.dubkit/manifest.json records the stage's input key (a sha256 of
everything the stage reads: media content, model, options, glossary and package fingerprints)
and the sha256 of every file it wrote. A re-run skips a stage whose key matches and whose
outputs are all present and unchanged; a stage that runs makes every later stage run.

This module knows nothing about Whisper: the models come from an `EngineLoader`, a picklable
callable the CLI builds, called once per worker process (local pool or Dask worker).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import stat
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from dubkit import constants as C
from dubkit.errors import DubkitError, MediaError, OutputError
from dubkit.escape import one_line
from dubkit.fsutil import atomic_write_all, display_path, json_bytes, read_json, sha256_file

MEDIA_SUFFIXES = frozenset(
    [
        ".wav",
        ".mp3",
        ".mp4",
        ".m4a",
        ".aac",
        ".flac",
        ".ogg",
        ".opus",
        ".mkv",
        ".mov",
        ".avi",
        ".webm",
        ".ts",
        ".mts",
        ".mxf",
        ".mpg",
        ".mpeg",
        ".wma",
        ".wmv",
        ".flv",
    ]
)
GLOSSARY_SUFFIXES = (".yaml", ".yml")
STAGES = ("transcribe", "translate", "dub")
STATE_DIR = ".dubkit"
LOCK_NAME = ".dubkit-batch.lock"
REPORT_NAME = "batch-report.json"

# ------------------------------------------------------------------------------- discovery


@dataclass(frozen=True, slots=True)
class Episode:
    """One programme: its media, and optionally a Chinese SRT and a glossary beside it."""

    name: str
    media: Path
    srt: Path | None = None
    glossary: Path | None = None


def discover(paths: Iterable[Path]) -> tuple[list[Episode], list[tuple[Path, str]]]:
    """Episodes under the given files and folders: a media file is an episode; a sub-folder
    holding one media file is an episode named after the folder (with its .srt and .yaml).
    Returns (episodes, problems)."""
    episodes: list[Episode] = []
    problems: list[tuple[Path, str]] = []
    for path in paths:
        if path.is_file():
            episodes.append(Episode(path.stem, path))
            continue
        if path.name in ("", ".", ".."):  # `dubkit batch ..`: named after the folder itself
            path = Path(os.path.abspath(path))
        if not path.is_dir():
            problems.append((path, f"{display_path(path)}: no such file or folder"))
            continue
        try:
            entries = sorted(path.iterdir())
        except OSError as exc:
            problems.append((path, f"{display_path(path)}: cannot list ({exc.strerror or exc})"))
            continue
        if _folder_episode(path, entries, episodes, problems, strict=True):
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_file() and entry.suffix.lower() in MEDIA_SUFFIXES:
                episodes.append(Episode(entry.stem, entry))
            elif entry.is_dir():
                try:
                    inner = sorted(entry.iterdir())
                except OSError as exc:
                    problems.append(
                        (entry, f"{display_path(entry)}: cannot list ({exc.strerror or exc})")
                    )
                    continue
                _folder_episode(entry, inner, episodes, problems)
    seen: dict[str, Episode] = {}
    unique = []
    for ep in episodes:
        bad = name_problem(ep.name)
        if bad:
            problems.append((ep.media, f"{display_path(ep.media)}: {bad}"))
            continue
        if ep.name in seen:
            problems.append(
                (
                    ep.media,
                    f"{display_path(ep.media)}: same episode name as "
                    f"{display_path(seen[ep.name].media)}; rename one",
                )
            )
            continue
        seen[ep.name] = ep
        unique.append(ep)
    return unique, problems


def name_problem(name: str) -> str | None:
    """Why `name` cannot name an episode's output folder (one entry inside -o), or None."""
    if name in ("", ".", "..", REPORT_NAME, LOCK_NAME) or "/" in name or "\0" in name:
        return (
            f"episode name {one_line(repr(name))} would not be a folder inside -o; "
            f"rename the file or folder"
        )
    return None


def _folder_episode(
    folder: Path,
    entries: list[Path],
    episodes: list[Episode],
    problems: list[tuple[Path, str]],
    strict: bool = False,
) -> bool:
    """A folder with exactly one media file (and, when `strict`, an SRT or glossary beside
    it) is one episode named after the folder."""
    media = [e for e in entries if e.is_file() and e.suffix.lower() in MEDIA_SUFFIXES]
    srts = [e for e in entries if e.is_file() and e.suffix.lower() == ".srt"]
    glossaries = [e for e in entries if e.is_file() and e.suffix.lower() in GLOSSARY_SUFFIXES]
    if len(media) != 1 or (strict and not (srts or glossaries)):
        return False
    if len(srts) > 1 or len(glossaries) > 1:
        problems.append(
            (folder, f"{display_path(folder)}: more than one .srt or glossary; keep one of each")
        )
        return True
    srt = srts[0] if srts else None
    glossary = glossaries[0] if glossaries else None
    for sidecar in (srt, glossary):
        if sidecar is not None and _leaves(sidecar, folder):
            problems.append(
                (sidecar, f"{display_path(sidecar)}: a link to a file outside its episode "
                          f"folder; copy the file in instead")
            )  # fmt: skip
            return True
    episodes.append(Episode(folder.name, media[0], srt, glossary))
    return True


def _leaves(path: Path, folder: Path) -> bool:
    """Whether `path` (an SRT or glossary copied into the outputs) resolves outside `folder`:
    an unpacked archive can hold a link to a private file."""
    try:
        return not path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):
        return True


# -------------------------------------------------------------------------------- hashing


def key_of(*parts: Any) -> str:
    return hashlib.sha256(
        json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False).encode(
            "utf-8",
            "surrogatepass",  # a path that is not UTF-8 still has a key
        )
    ).hexdigest()


# ------------------------------------------------------------------------------- manifest


@dataclass(frozen=True, slots=True)
class StageRun:
    """What a stage that ran said: its record for STEM.run.json, its warnings, its time."""

    result: Any = None
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


class Manifest:
    """OUT/EPISODE/.dubkit/manifest.json: per stage, its input key and output hashes."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / STATE_DIR / "manifest.json"
        self.data: dict[str, Any] = {"stages": {}}
        if os.path.islink(self.path):
            return  # planted: read as no manifest, replaced (not followed) when saved
        with contextlib.suppress(OSError, ValueError):
            loaded = read_json(self.path, C.MAX_ARTEFACT_BYTES)
            if isinstance(loaded, dict) and isinstance(loaded.get("stages"), dict):
                self.data = loaded

    def media_hash(self, media: Path) -> str:
        """The media's sha256 over its whole content, every run: size and modification time
        stay the same when another recording is copied over with its times kept (cp -p,
        rsync -t). Hashing is cheap beside recognition: about 230 MB/s on 2 busy cores,
        10 s for an hour of 5 Mbit/s video that takes minutes to transcribe."""
        return sha256_file(media)

    def fresh(self, stage: str, key: str, base: Path) -> bool:
        entry = self.data["stages"].get(stage)
        if not isinstance(entry, dict) or entry.get("key") != key:
            return False
        if "result" not in entry:  # recorded before batch wrote STEM.run.json from results
            return False
        for rel, digest in entry.get("outputs", {}).items():
            path = base / rel
            if not path.is_file() or sha256_file(path) != digest:
                return False
        return True

    def record(
        self, stage: str, key: str, base: Path, outputs: Iterable[Path], ran: StageRun | None = None
    ) -> None:
        """The stage's key and outputs, and what it said (`ran`), from which STEM.run.json is
        written again when a later stage runs and this one is skipped."""
        files = {p.relative_to(base).as_posix(): sha256_file(p) for p in sorted(set(outputs))}
        ran = ran or StageRun()
        self.data["stages"][stage] = {
            "key": key,
            "finished": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "outputs": files,
            "result": ran.result,
            "warnings": ran.warnings,
            "seconds": round(ran.seconds, 3),
        }
        self.save()

    def forget(self, stage: str) -> None:
        if self.data["stages"].pop(stage, None) is not None:
            self.save()

    def save(self) -> None:
        # the episode folder and its .dubkit are checked again: one swapped for a link while
        # a stage ran is refused here (a narrow window remains: see docs/reliability.md)
        _own_folder(_own_folder(self.path.parent.parent) / STATE_DIR)
        atomic_write_all({self.path: json_bytes(self.data)})


# ----------------------------------------------------------------------------------- lock


class BatchLock:
    """OUT/.dubkit-batch.lock, held with flock(2): the kernel releases it when its holder dies
    (kill -9, a crashed container), so no stale lock ever needs clearing and two batches
    starting at once cannot both take it. The pid, host and start time written in it only
    tell a refused batch who holds it."""

    def __init__(self, outdir: Path) -> None:
        self.path = outdir / LOCK_NAME
        self.held = False
        self._fd: int | None = None

    def acquire(self) -> None:
        import fcntl

        for _ in range(5):
            fd = _open_no_link(self.path, os.O_RDWR)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                holder = _read_small(fd)
                os.close(fd)
                raise OutputError(
                    f"{display_path(self.path.parent)}: another batch ({holder}) is writing "
                    f"here; wait for it or choose another -o",
                    path=self.path,
                ) from None
            if self._same_file(fd):
                self._fd, self.held = fd, True
                self._write_holder(fd)
                return
            os.close(fd)  # its holder removed it as we opened it: take the new one
        raise OutputError(
            f"{display_path(self.path)}: could not take the batch lock; try again", path=self.path
        )

    def _same_file(self, fd: int) -> bool:
        try:
            here = os.lstat(self.path)
        except FileNotFoundError:
            return False
        mine = os.fstat(fd)
        return (here.st_dev, here.st_ino) == (mine.st_dev, mine.st_ino)

    @staticmethod
    def _write_holder(fd: int) -> None:
        doc = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(doc).encode(), 0)

    def release(self) -> None:
        if self._fd is None:
            return
        if self._same_file(self._fd):  # not if someone removed it and another batch took it
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)  # still holding it: a batch waiting on this file retries
        os.close(self._fd)
        self._fd, self.held = None, False

    def __enter__(self) -> BatchLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read_small(fd: int) -> str:
    """Who holds a lock, from what it wrote (at most 1 KiB; shown escaped, for people)."""
    try:
        doc = json.loads(os.pread(fd, 1024, 0).decode("utf-8", "replace"))
    except (OSError, ValueError, RecursionError):
        return "pid ?, just starting"
    if not isinstance(doc, dict):
        return "pid ?"
    fields = (one_line(str(doc.get(k, "?")))[:64] for k in ("pid", "host", "started"))
    return "pid {} on {}, started {}".format(*fields)


# --------------------------------------------------------------------------------- engine


class Engine(Protocol):
    """What a worker holds loaded between episodes (built by the CLI's loader)."""

    def stage_keys(self) -> dict[str, Any]:
        """Model, options and package fingerprints, per stage, for the manifest keys."""

    def transcribe(
        self, media: Path, outdir: Path, progress: Any, glossary: Path | None
    ) -> list[Path]:
        """Write STEM.zh.srt (and asr.json), biased by the glossaries; return the files."""

    def translate(
        self, media: Path, zh_srt: Path, outdir: Path, glossary: Path | None,
        fps: float | None = None,
    ) -> tuple[list[Path], Any]:  # fmt: skip
        """Write the Urdu files, the Chinese timed at `fps` where no asr.json says (an
        episode's own SRT); return (files written, the translation for dub: None when the
        speech is not the route's language and nothing was translated)."""

    def frame_rate(self, media: Path) -> float | None:
        """The rate an episode's own Chinese SRT is timed at, as `run` times what it
        transcribes: --fps, else the media's own (None: the profile's)."""

    def report(
        self, media: Path, outdir: Path, stages: Mapping[str, Any], fps: float | None = None
    ) -> Path:
        """Write STEM.run.json as `run` writes it, from the stages' manifest entries (their
        `result`, `warnings` and `seconds`); return its path."""

    def glossary_fingerprint(self, glossary: Path | None) -> str | None: ...

    def approved_fingerprint(self, stem: str, zh_srt: Path, fps: float | None = None) -> str | None:
        """The memory's approved lines for what the episode's Chinese would translate."""

    def recognition_fingerprint(self, glossary: Path | None) -> str | None:
        """What recognition takes from the glossaries (their Chinese forms)."""

    def pivot_fingerprint(self, stem: str, zh_srt: Path) -> str | None:
        """The English read from the picture that the episode would translate from."""

    def dub(
        self, media: Path, outdir: Path, zh_srt: Path, done: Any, glossary: Path | None
    ) -> list[Path]:
        """Write the dubbing script and clips; return the files written."""

    def dub_reads_media(self) -> bool:
        """Whether dubbing reads the media's sound (reference clips, guide track)."""


EngineLoader = Callable[[], Engine]

_ENGINES: dict[str, Engine] = {}
_LOADS: list[int] = [0]
_PROGRESS: list[Any] = []  # a multiprocessing queue in pool workers


def engine_for(loader: Any) -> Engine:
    """The worker's engine for `loader`, loaded on first use and kept (one load per worker)."""
    key = str(getattr(loader, "key", id(loader)))
    if key not in _ENGINES:
        _ENGINES[key] = loader()
        _LOADS[0] += 1
    return _ENGINES[key]


@contextlib.contextmanager
def engines_for_one_batch() -> Iterator[None]:
    """An inline batch loads its own engine and counts its own loads; the engine is closed and
    dropped at the end (a library caller running batches one after another keeps no models)."""
    _LOADS[0] = 0
    try:
        yield
    finally:
        for engine in _ENGINES.values():
            close = getattr(engine, "close", None)
            if close is not None:
                close()
        _ENGINES.clear()


def init_worker(loader: Any, queue: Any = None) -> None:
    """Pool initializer: ignore Ctrl-C (the parent decides), load the models once."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with_parent(os.getppid())
    if queue is not None:
        _PROGRESS.append(queue)
    engine_for(loader)


def _exit_with_parent(parent: int, every: float = 0.5) -> None:
    """A worker whose batch died (kill -9, a lost session) stops too, within `every` seconds,
    instead of running on unsupervised: its unfinished stage reruns on the next batch."""
    import threading

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(1)

    threading.Thread(target=watch, name="dubkit-exit-with-parent", daemon=True).start()


# ------------------------------------------------------------------------------ episodes


@dataclass(slots=True)
class EpisodeOutcome:
    name: str
    media: str
    status: str  # "done" or "failed"
    error: str | None = None
    stages: dict[str, str] = field(default_factory=dict)  # stage → "ran" | "skipped"
    seconds: float = 0.0
    outdir: str = ""
    worker: str = ""
    model_loads: int = 0  # engines this worker loaded (translation route, and recogniser)
    recogniser_loads: int = 0  # of those, the ones that loaded Whisper (none: --source ocr)
    warnings: list[str] = field(default_factory=list)  # e.g. no speech, truncated media

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "media": self.media, "status": self.status, "error": self.error,
            "stages": self.stages, "seconds": round(self.seconds, 3), "outdir": self.outdir,
            "worker": self.worker, "warnings": self.warnings,
        }  # fmt: skip


class _Log:
    """OUT/EPISODE/.dubkit/batch.log, appended to: never through a link, one line an event
    (control characters in names and errors are escaped)."""

    def __init__(self, path: Path) -> None:
        self.handle = os.fdopen(_open_no_link(path, os.O_WRONLY | os.O_APPEND), "a", 1, "utf-8")

    def __call__(self, text: str) -> None:
        with contextlib.suppress(OSError, ValueError):
            stamp = datetime.now(UTC).isoformat(timespec="milliseconds")
            self.handle.write(f"{stamp} {one_line(text)}\n")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.handle.close()


def _linked(path: Path) -> OutputError:
    return OutputError(
        f"{display_path(path)}: is a symbolic link; dubkit never writes through a link in the "
        f"output folder: remove it",
        path=path,
    )


def _open_no_link(path: Path, flags: int) -> int:
    """A regular file opened (and made if missing) without following a link at `path`."""
    try:
        fd = os.open(path, flags | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, 0o644)
    except OSError as exc:
        if os.path.islink(path):
            raise _linked(path) from exc
        raise OutputError(
            f"{display_path(path)}: cannot open ({exc.strerror or exc}); remove it or choose "
            f"another -o",
            path=path,
        ) from exc
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_nlink > 1:
        os.close(fd)
        what = "a hard link to another file" if info.st_nlink > 1 else "not a regular file"
        raise OutputError(f"{display_path(path)}: is {what}; remove it", path=path)
    return fd


def _own_folder(path: Path) -> Path:
    """`path` as a real folder, made if missing: never a link planted in its place."""
    with contextlib.suppress(FileExistsError):
        os.mkdir(path)
    mode = os.lstat(path).st_mode
    if stat.S_ISLNK(mode):
        raise _linked(path)
    if not stat.S_ISDIR(mode):
        raise OutputError(f"{display_path(path)}: exists and is not a folder; remove it", path=path)
    return path


def episode_folder(out_root: Path, name: str) -> Path:
    """OUT/NAME and OUT/NAME/.dubkit, made as real folders inside OUT, or an OutputError."""
    bad = name_problem(name)
    if bad:
        raise OutputError(f"{display_path(out_root)}: {bad}", path=out_root)
    out_root.mkdir(parents=True, exist_ok=True)  # -o itself: where the user points it
    folder = _own_folder(out_root / name)
    _own_folder(folder / STATE_DIR)
    return folder


def process_episode(
    loader: Any, episode: Episode, out_root: str, force: bool = False
) -> EpisodeOutcome:
    """One episode through the stages, skipping fresh ones; errors become a failed outcome."""
    started = time.perf_counter()
    outdir = Path(out_root) / (episode.name if not name_problem(episode.name) else "")
    outcome = EpisodeOutcome(
        episode.name, display_path(episode.media), "failed", outdir=display_path(outdir),
        worker=f"{socket.gethostname()}:{os.getpid()}",
    )  # fmt: skip
    log: Callable[[str], None] = lambda text: None  # noqa: E731 (until the log is open)
    opened: _Log | None = None
    try:
        outdir = episode_folder(Path(out_root), episode.name)
        log = opened = _Log(outdir / STATE_DIR / "batch.log")
        engine = engine_for(loader)
        log(f"episode {episode.name}: {display_path(episode.media)}")
        _stages(engine, episode, outdir, force, outcome, log)
        outcome.status = "done"
        log("done")
    except DubkitError as exc:
        outcome.error = one_line(str(exc))
        log(f"failed: {exc}")
    except OSError as exc:
        where = display_path(Path(exc.filename)) if exc.filename else display_path(outdir)
        outcome.error = f"{where}: {exc.strerror or exc}"
        log(f"failed: {outcome.error}")
    except Exception as exc:  # isolation boundary: one episode's bug must not stop the batch
        outcome.error = one_line(f"internal error: {type(exc).__name__}: {exc}")
        log(f"failed: {outcome.error}")
    finally:
        if opened is not None:
            opened.close()
    outcome.seconds = time.perf_counter() - started
    outcome.model_loads = _LOADS[0]
    outcome.recogniser_loads = sum(
        bool(getattr(e, "recogniser_loaded", False)) for e in _ENGINES.values()
    )
    return outcome


def _progress_fn(name: str) -> Callable[[int, int], None] | None:
    if not _PROGRESS:
        return None
    queue = _PROGRESS[0]

    def report(done_ms: int, total_ms: int) -> None:
        with contextlib.suppress(Exception):
            queue.put_nowait((name, done_ms, total_ms))

    return report


def _stages(
    engine: Engine,
    episode: Episode,
    outdir: Path,
    force: bool,
    outcome: EpisodeOutcome,
    log: Callable[[str], None],
) -> None:
    manifest = Manifest(outdir)
    keys = engine.stage_keys()
    stem = episode.media.stem
    zh_srt = outdir / f"{stem}.zh.srt"
    glossary_fp = engine.glossary_fingerprint(episode.glossary)  # unreadable: fails here
    rerun = force
    rate: float | None = None  # the frame rate of an episode's own SRT
    # transcribe (or take the episode's own Chinese SRT)
    if episode.srt is not None:
        source = ("srt", sha256_file(episode.srt))
        # timed as `run` times what it transcribes: --fps, else the media's own rate
        rate = engine.frame_rate(episode.media)
    else:
        source = ("media", _media_hash(manifest, episode.media))
    # the glossaries' Chinese forms bias recognition: a new term or variant transcribes again,
    # an edited Urdu rendering only translates again; an episode's own SRT is copied, so only
    # its content and its rate count (a change of recognition settings must not redo its
    # later stages)
    if episode.srt is not None:
        key = key_of("transcribe", source, rate)
    else:
        key = key_of(
            "transcribe",
            source,
            keys["transcribe"],
            engine.recognition_fingerprint(episode.glossary),
        )
    if not rerun and manifest.fresh("transcribe", key, outdir):
        outcome.stages["transcribe"] = "skipped"
        log("transcribe: skipped (inputs unchanged)")
    else:
        rerun = True
        manifest.forget("transcribe")
        log("transcribe: running")
        _own_folder(outdir)  # not swapped for a link since the last stage
        started = time.perf_counter()
        if episode.srt is not None:
            data = episode.srt.read_bytes()
            atomic_write_all({zh_srt: data})
            # an asr.json from an earlier recognition describes other cues (rate, flags)
            with contextlib.suppress(FileNotFoundError):
                (outdir / f"{stem}.asr.json").unlink()
            written, ran = [zh_srt], StageRun(seconds=time.perf_counter() - started)
        else:
            written = engine.transcribe(
                episode.media, outdir, _progress_fn(episode.name), episode.glossary
            )
            ran = _ran(engine, outcome, log, started)
        manifest.record("transcribe", key, outdir, written, ran)
        outcome.stages["transcribe"] = "ran"
        log("transcribe: done")
    zh_hash = manifest.data["stages"]["transcribe"]["outputs"].get(zh_srt.name)
    # a line approved in the memory translates again the episodes that say it, not all; the
    # English of the picture, corrected by a person, translates its episode again
    approved = engine.approved_fingerprint(stem, zh_srt, rate)
    pivot = engine.pivot_fingerprint(stem, zh_srt)
    tkey = key_of(
        "translate", zh_hash, keys["translate"], glossary_fp, approved, *([pivot] if pivot else [])
    )
    # dubbing cuts its clips and guide track from the media: an episode's own SRT over
    # another recording dubs again (and translates again, which dub needs in memory)
    heard_from = source
    if episode.srt is not None and engine.dub_reads_media():
        heard_from = ("media", _media_hash(manifest, episode.media))
    dkey = key_of("dub", tkey, heard_from, keys["dub"])
    # STEM.run.json is one of dub's outputs: edited or deleted, it is written again
    dub_fresh = not rerun and manifest.fresh("dub", dkey, outdir)
    if not rerun and dub_fresh and manifest.fresh("translate", tkey, outdir):
        outcome.stages["translate"] = outcome.stages["dub"] = "skipped"
        log("translate: skipped (inputs unchanged)")
        log("dub: skipped (inputs unchanged)")
        return
    # translate again also when only dub is stale: dub needs the translation in memory
    manifest.forget("translate")
    manifest.forget("dub")
    log("translate: running")
    _own_folder(outdir)  # not swapped for a link since the last stage
    started = time.perf_counter()
    written, done = engine.translate(episode.media, zh_srt, outdir, episode.glossary, rate)
    manifest.record("translate", tkey, outdir, written, _ran(engine, outcome, log, started))
    outcome.stages["translate"] = "ran"
    log("translate: done")
    if done is None:  # not translated (speech in another language): nothing to dub
        written, ran = [], StageRun()
    else:
        log("dub: running")
        _own_folder(outdir)  # not swapped for a link since the last stage
        started = time.perf_counter()
        written = engine.dub(episode.media, outdir, zh_srt, done, episode.glossary)
        ran = _ran(engine, outcome, log, started)
    stages = {**manifest.data["stages"], "dub": asdict(ran)}
    _own_folder(outdir)  # not swapped for a link since the last stage
    run_json = engine.report(episode.media, outdir, stages, rate)
    manifest.record("dub", dkey, outdir, [*written, run_json], ran)
    outcome.stages["dub"] = "ran"
    if done is not None:
        log("dub: done")


def _media_hash(manifest: Manifest, media: Path) -> str:
    try:
        return manifest.media_hash(media)
    except OSError as exc:
        raise MediaError(f"{media}: cannot read ({exc.strerror or exc})", path=media) from exc


def _ran(
    engine: Engine, outcome: EpisodeOutcome, log: Callable[[str], None], started: float
) -> StageRun:
    """What the stage that just ran said: its record for STEM.run.json and its warnings
    (reported and logged, see _warned), with the time it took since `started`."""
    said = _warned(engine, outcome, log)
    result = getattr(engine, "result", None)
    return StageRun(result, said, time.perf_counter() - started)


def _warned(engine: Engine, outcome: EpisodeOutcome, log: Callable[[str], None]) -> list[str]:
    """The warnings of the stage that just ran (what `run` prints: no speech, a truncated
    file, a note of the translation or the dubbing) into the report and the log."""
    said = list(getattr(engine, "warnings", ()))
    outcome.warnings += said
    for warning in said:
        log(f"warning: {warning}")
    return said


# --------------------------------------------------------------------------------- report


@dataclass(slots=True)
class BatchReport:
    outdir: Path
    executor: str
    jobs: int
    started: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    outcomes: list[EpisodeOutcome] = field(default_factory=list)
    not_run: list[str] = field(default_factory=list)
    interrupted: str | None = None
    seconds: float = 0.0

    @property
    def failed(self) -> list[EpisodeOutcome]:
        return [o for o in self.outcomes if o.status != "done"]

    def model_loads(self) -> int:
        """Engines loaded, one per worker process (the translation route, and the
        recogniser when the source needs it)."""
        loads: dict[str, int] = {}
        for o in self.outcomes:
            loads[o.worker] = max(loads.get(o.worker, 0), o.model_loads)
        return sum(loads.values())

    def recogniser_loads(self) -> int:
        """Workers that loaded the Whisper recogniser (none under --source ocr)."""
        loads: dict[str, int] = {}
        for o in self.outcomes:
            loads[o.worker] = max(loads.get(o.worker, 0), o.recogniser_loads)
        return sum(loads.values())

    def to_dict(self) -> dict[str, Any]:
        skipped = [
            f"{o.name}/{stage}" for o in self.outcomes for stage, how in o.stages.items()
            if how == "skipped"
        ]  # fmt: skip
        return {
            "started": self.started,
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "outdir": display_path(self.outdir),
            "executor": self.executor,
            "jobs": self.jobs,
            "status": "interrupted" if self.interrupted else "failed" if self.failed else "ok",
            "interrupted": self.interrupted,
            "episodes": [o.to_dict() for o in self.outcomes],
            "not_run": self.not_run,
            "skipped": skipped,
            "done": sum(o.status == "done" for o in self.outcomes),
            "failed": len(self.failed),
            "workers": sorted({o.worker for o in self.outcomes}),
            "model_loads": self.model_loads(),
            "recogniser_loads": self.recogniser_loads(),
            "seconds": round(self.seconds, 3),
        }

    def write(self) -> Path:
        path = self.outdir / REPORT_NAME
        atomic_write_all({path: json_bytes(self.to_dict())})
        return path


class Interrupted(BaseException):
    """SIGTERM or Ctrl-C reached the batch: stop submitting, finish what runs.

    A BaseException, like KeyboardInterrupt, so that an inline episode's isolation boundary
    (`except Exception`) does not turn it into one failed episode and carry on."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def signals_raise() -> Any:
    """SIGTERM raises Interrupted (Ctrl-C's KeyboardInterrupt is handled alike by run_batch)."""
    import signal

    def handler(signum: int, frame: object) -> None:
        raise Interrupted(signum)

    try:
        old = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


Notify = Callable[[str, Any], None]


def run_batch(
    episodes: Sequence[Episode],
    outdir: Path,
    loader: Any,
    *,
    jobs: int = 1,
    force: bool = False,
    fail_fast: bool = False,
    executor: str = "local",
    scheduler: str | None = None,
    notify: Notify | None = None,
) -> BatchReport:
    """Run the episodes (inline for one job, a process pool for more, or Dask), under the
    lock; the report is written whatever happens, interruption included."""
    report = BatchReport(outdir, executor, jobs)
    started = time.perf_counter()
    tell: Notify = notify or (lambda event, data: None)
    with BatchLock(outdir), signals_raise():
        try:
            if executor == "dask":
                _run_dask(episodes, outdir, loader, scheduler, force, fail_fast, report, tell)
            elif jobs <= 1:
                with engines_for_one_batch():
                    _run_inline(episodes, outdir, loader, force, fail_fast, report, tell)
            else:
                _run_pool(episodes, outdir, loader, jobs, force, fail_fast, report, tell)
        except KeyboardInterrupt:
            report.interrupted = "SIGINT"
        except Interrupted as exc:
            report.interrupted = "SIGTERM" if exc.signum == 15 else f"signal {exc.signum}"
        finally:
            finished = {o.name for o in report.outcomes}
            report.not_run = [e.name for e in episodes if e.name not in finished]
            report.seconds = time.perf_counter() - started
            report.write()
    return report


def _finish(outcome: EpisodeOutcome, report: BatchReport, fail_fast: bool, tell: Notify) -> bool:
    """Record an outcome; True when the batch should stop (fail-fast)."""
    report.outcomes.append(outcome)
    tell("finished", outcome)
    return fail_fast and outcome.status != "done"


def _run_inline(
    episodes: Sequence[Episode], outdir: Path, loader: Any, force: bool, fail_fast: bool,
    report: BatchReport, tell: Notify,
) -> None:  # fmt: skip
    for ep in episodes:
        tell("started", ep)
        if _finish(process_episode(loader, ep, str(outdir), force), report, fail_fast, tell):
            return


def _run_pool(
    episodes: Sequence[Episode], outdir: Path, loader: Any, jobs: int, force: bool,
    fail_fast: bool, report: BatchReport, tell: Notify,
) -> None:  # fmt: skip
    import multiprocessing
    import queue as queue_mod
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    ctx = multiprocessing.get_context("spawn")
    progress = ctx.Queue()
    pool = ProcessPoolExecutor(jobs, ctx, initializer=init_worker, initargs=(loader, progress))
    pending = {pool.submit(process_episode, loader, ep, str(outdir), force): ep for ep in episodes}
    for ep in episodes:
        tell("queued", ep)
    try:
        while pending:
            done, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            with contextlib.suppress(queue_mod.Empty):
                while True:
                    tell("progress", progress.get_nowait())
            for fut in pending:
                if fut.running():
                    tell("started", pending[fut])
            stop = False
            for fut in done:
                ep = pending.pop(fut)
                try:
                    outcome = fut.result()
                except BrokenProcessPool as exc:
                    outcome = EpisodeOutcome(
                        ep.name, display_path(ep.media), "failed",
                        error=f"worker process died ({exc})",
                    )  # fmt: skip
                stop = _finish(outcome, report, fail_fast, tell) or stop
            if stop:
                break
    finally:
        for fut in pending:
            fut.cancel()
        # running episodes finish (workers ignore Ctrl-C); every write is atomic either way
        pool.shutdown(wait=True, cancel_futures=True)
        for fut, ep in pending.items():
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                report.outcomes.append(fut.result())
            del ep
        progress.close()
        progress.join_thread()


def _run_dask(
    episodes: Sequence[Episode], outdir: Path, loader: Any, scheduler: str | None,
    force: bool, fail_fast: bool, report: BatchReport, tell: Notify,
) -> None:  # fmt: skip
    import importlib

    try:
        distributed: Any = importlib.import_module("distributed")
    except ImportError as exc:
        raise DubkitError(
            "--executor dask needs dask.distributed; install it with `pip install 'dubkit[dask]'`"
        ) from exc
    if not scheduler:
        raise DubkitError("--executor dask: give the cluster with --scheduler ADDRESS")
    try:
        client = distributed.Client(scheduler, timeout="10s")
    except (OSError, ValueError, TypeError) as exc:  # refused, timed out, or no address
        raise DubkitError(
            f"--scheduler {one_line(scheduler)}: cannot connect ({one_line(str(exc))[:200]}); "
            f"give the scheduler's address, e.g. tcp://10.0.0.5:8786"
        ) from exc
    try:
        futures = {
            client.submit(
                process_episode, loader, ep, str(outdir), force, pure=False, key=f"dubkit-{i}"
            ): ep
            for i, ep in enumerate(episodes)
        }
        for ep in episodes:
            tell("queued", ep)
        for fut in distributed.as_completed(list(futures)):
            ep = futures[fut]
            tell("started", ep)
            try:
                outcome = fut.result()
            except Exception as exc:  # a worker died or the task could not run
                outcome = EpisodeOutcome(
                    ep.name, display_path(ep.media), "failed",
                    error=f"dask task failed: {type(exc).__name__}: {exc}",
                )  # fmt: skip
            if _finish(outcome, report, fail_fast, tell):
                for other in futures:
                    other.cancel()
                break
    finally:
        client.close()
