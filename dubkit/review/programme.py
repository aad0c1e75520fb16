"""A programme's files as `dubkit review` finds, reads and saves them.

The files are the ones `dubkit run` wrote into an output folder, all named STEM.*: the Urdu
subtitles (STEM.ur.srt is the one read; .ur.vtt, .ur.ass, .zh-ur.srt and .qa.json are made
from it), the Chinese (STEM.zh.srt, with the recogniser's flags in STEM.asr.json), the
English pivot when there is one, and STEM.run.json with the settings the translation was made
with. Saving an edited draft writes the Urdu files through the same function `run` writes
them with, all or none, and approves the changed lines in the translation memory by the rule
`dubkit dubscript import` follows. Only files inside the programme's folder are read or
served: a link that leads out of it is refused."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from dubkit import constants as C
from dubkit.errors import DubkitError, MediaError
from dubkit.escape import display_text
from dubkit.fsutil import display_path, parse_json
from dubkit.glossary.terms import Term, TermSet
from dubkit.profiles import BUILTIN_PROFILES, URDU_PROFILE, Profile
from dubkit.qa.adherence import RECOGNITION_FLAGS
from dubkit.qa.rules import CODES
from dubkit.records import Cue
from dubkit.review.draft import (
    Basis,
    DraftCue,
    check_draft,
    check_order,
    draft_of,
    key_of,
    materialise,
    merge,
    nudge,
    split,
)
from dubkit.text.lines import join_lines
from dubkit.text.urdu import UrduStyle, strip_bidi

# The programme's files the page may fetch (/files/NAME), by what follows "STEM.".
SERVED = (
    "ur.srt", "ur.vtt", "ur.ass", "zh-ur.srt", "zh.srt", "en.srt", "en.pivot.srt", "qa.json",
    "asr.json", "run.json", "dubscript.csv", "dubscript.html", "dubscript.xlsx",
)  # fmt: skip
# What a save reads or writes: a change to any of these on disk after the page loaded means
# the page no longer shows what is there, and the save is refused.
TRACKED = (
    "ur.srt", "ur.vtt", "ur.ass", "zh-ur.srt", "qa.json", "zh.srt", "en.srt", "en.pivot.srt",
    "run.json",
)  # fmt: skip
# The most of one tracked or served file read (the largest a dubkit file of its kind may be).
_MAX_FILE_BYTES = max(C.MAX_SUBTITLE_BYTES, C.MAX_ARTEFACT_BYTES, C.MAX_SCRIPT_XLSX_BYTES)
_OPEN_FLAGS = (
    os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
)  # fmt: skip
_KINDS = sorted({*SERVED, "ocr.json"}, key=len, reverse=True)


class ReviewError(DubkitError):
    """The programme cannot be reviewed or saved as asked; the message says how to go on."""


class Conflict(ReviewError):
    """The programme's files changed on disk since the page loaded them."""


# -------------------------------------------------------------------------------- files


@dataclass(frozen=True, slots=True)
class ProgrammeFiles:
    """The folder a programme's files are in, and the STEM they share."""

    folder: Path
    stem: str

    def path(self, kind: str) -> Path:
        return self.folder / f"{self.stem}.{kind}"

    def own(self, kind: str) -> Path | None:
        """STEM.KIND when it is a regular file inside the folder (after links); None when
        there is none. ReviewError for a link that leads out of the folder."""
        path = self.path(kind)
        if not path.exists():
            return None
        try:
            inside = path.resolve(strict=True).is_relative_to(self.folder.resolve(strict=True))
        except OSError:
            inside = False
        if not inside:
            raise ReviewError(
                f"{display_path(path)}: leads outside {display_path(self.folder)}; dubkit "
                f"review reads only the programme's own files: put the file itself there",
                path=path,
            )
        return path if path.is_file() else None

    def kind_of(self, name: str) -> str | None:
        """The KIND of a name /files/ may send (STEM.KIND, KIND one of SERVED); else None."""
        kind = name[len(self.stem) + 1 :] if name.startswith(f"{self.stem}.") else ""
        if kind not in SERVED or "/" in name or "\\" in name:
            return None
        return kind

    def served(self, name: str) -> Path | None:
        """The file /files/NAME may send: one of the programme's own (SERVED), a regular
        file inside the folder. None for any other name, a missing file, or a link out."""
        kind = self.kind_of(name)
        if kind is None:
            return None
        try:
            return self.own(kind)
        except ReviewError:
            return None

    def open_own(self, kind: str) -> tuple[int, int] | None:
        """STEM.KIND opened for reading, once, as (file descriptor, size): a regular file
        inside the folder (a link is followed only to a file inside it, and the file found is
        opened without following another), never a FIFO or a device; None when there is none.
        ReviewError for a link out of the folder or something that is not a regular file."""
        path = self.path(kind)
        try:
            real = path.resolve(strict=True)
        except FileNotFoundError:
            return None
        except (OSError, RuntimeError) as exc:  # a loop of links
            raise ReviewError(f"{display_path(path)}: cannot be read ({exc}); put the file "
                              f"itself there", path=path) from exc  # fmt: skip
        if not real.is_relative_to(self.folder.resolve(strict=True)):
            self.own(kind)  # raises, saying so
        fd = os.open(real, _OPEN_FLAGS)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_size > _MAX_FILE_BYTES:
                raise ReviewError(
                    f"{display_path(path)}: not a regular file of at most {_MAX_FILE_BYTES} "
                    f"bytes; dubkit review reads only the programme's own files",
                    path=path,
                )
        except BaseException:
            os.close(fd)
            raise
        return fd, info.st_size

    def read_own(self, kind: str) -> bytes | None:
        """The bytes of STEM.KIND as open_own opens it (never past the size limit)."""
        opened = self.open_own(kind)
        if opened is None:
            return None
        fd, size = opened
        with os.fdopen(fd, "rb") as handle:
            data = handle.read(min(size, _MAX_FILE_BYTES) + 1)
        if len(data) > _MAX_FILE_BYTES:
            raise ReviewError(f"{display_path(self.path(kind))}: larger than "
                              f"{_MAX_FILE_BYTES} bytes", path=self.path(kind))  # fmt: skip
        return data

    def fingerprint(self) -> dict[str, str]:
        """SHA-256 of each TRACKED file ("-" for one that is not there), read in blocks up to
        the size limit; a FIFO, a device or a link out of the folder is never read."""
        found = {}
        for kind in TRACKED:
            name = self.path(kind).name
            try:
                opened = self.open_own(kind)
                if opened is None:
                    found[name] = "-"
                    continue
                fd, _ = opened
                digest, total = hashlib.sha256(), 0
                with os.fdopen(fd, "rb") as handle:
                    while total <= _MAX_FILE_BYTES and (chunk := handle.read(1 << 20)):
                        digest.update(chunk)
                        total += len(chunk)
                found[name] = digest.hexdigest()
            except (OSError, ReviewError) as exc:  # a change too, if it differs
                found[name] = f"unreadable: {getattr(exc, 'strerror', None) or exc}"
        return found


def version_of(fingerprint: Mapping[str, str]) -> str:
    return hashlib.sha256(json.dumps(dict(fingerprint), sort_keys=True).encode()).hexdigest()


def find_programme(target: Path) -> ProgrammeFiles:
    """OUTDIR (the one programme in it), OUTDIR/STEM, or any of the programme's files."""
    if target.is_dir():
        found = sorted(p.name[: -len(".ur.srt")] for p in target.glob("*.ur.srt") if p.is_file())
        if not found:
            raise ReviewError(
                f"{display_path(target)}: no STEM.ur.srt here; run `dubkit run MEDIA -o "
                f"{display_path(target)}` first, or name the folder `run` wrote into",
                path=target,
            )
        if len(found) > 1:
            names = ", ".join(display_text(s) for s in found[:5])
            more = f" and {len(found) - 5} more" if len(found) > 5 else ""
            raise ReviewError(
                f"{display_path(target)}: holds {len(found)} programmes ({names}{more}); name "
                f"one as {display_path(target / 'STEM')}",
                path=target,
            )
        files = ProgrammeFiles(target, found[0])
    elif target.is_file():
        name = target.name
        kind = next((k for k in _KINDS if name.endswith(f".{k}")), None)
        stem = name[: -len(kind) - 1] if kind else target.stem
        files = ProgrammeFiles(target.parent, stem)
    else:
        files = ProgrammeFiles(target.parent, target.name)
    if not files.path("ur.srt").exists():
        raise ReviewError(
            f"{display_path(files.path('ur.srt'))}: no such file; give the folder `dubkit run` "
            f"wrote (-o OUTDIR) or OUTDIR/STEM",
            path=files.path("ur.srt"),
        )
    files.own("ur.srt")  # a link out of the folder is refused before anything is served
    return files


def programme_media(files: ProgrammeFiles, given: Path | None) -> tuple[Path | None, str | None]:
    """The media the page plays: --media, else the file STEM.run.json names (as given to
    `run`: relative to where it ran, so tried from here and from the folder); and a notice
    when there is none to be had."""
    from dubkit.adapters.audio import probe_path

    if given is not None:
        if not given.exists():
            probe_path(given)  # MediaError: no such file, with the fix
        why = _not_media(given)
        if why is not None:
            raise ReviewError(f"{display_path(given)}: {why}; give the programme's video or "
                              f"sound file with --media", path=given)  # fmt: skip
        return given, None
    doc = _artefact_of(files, "run.json")
    named = doc.get("media") if doc is not None else None
    if isinstance(named, str) and named:
        refused = None
        for candidate in (Path(named), files.folder / Path(named).name):
            if candidate.exists():
                refused = _not_media(candidate)
                if refused is None:
                    return candidate, None
        said = f"{display_text(named)} (named by {display_path(files.path('run.json'))})"
        if refused is not None:
            return None, f"{said}: {refused}, not played; pass --media FILE to watch the programme"
        return None, f"{said} not found; pass --media FILE to watch the programme"
    return None, "no media to play: pass --media FILE to watch the programme"


# What FFmpeg opens as "video" that is no programme: any text file (as ANSI art), stills.
_NOT_PROGRAMMES = frozenset({"tty", "image2", "bin", "xbin", "adp", "idf"})


def _not_media(path: Path) -> str | None:
    """None when `path` is a regular file that opens as audio or video; else why not."""
    from dubkit.adapters.audio import open_container

    try:
        info = os.stat(path)
    except OSError as exc:
        return f"cannot be opened ({exc.strerror or exc})"
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file (a device, a FIFO or a folder)"
    if info.st_size == 0:
        return "empty (0 bytes)"
    try:
        with open_container(path) as container:
            formats = set(container.format.name.split(","))
            if formats & _NOT_PROGRAMMES or any(f.endswith("_pipe") for f in formats):
                return "not a video or sound file (text or a still picture)"
            if not (container.streams.audio or container.streams.video):
                return "holds no sound or picture"
    except MediaError:
        return "not a video or sound file"
    return None


def _artefact_of(files: ProgrammeFiles, kind: str) -> dict[str, Any] | None:
    """A dubkit JSON file of the programme's read back through read_own (a link out of the
    folder is refused with ReviewError): None when missing, unreadable, too large, not JSON or
    no object."""
    try:
        data = files.read_own(kind)
    except OSError:
        return None
    if data is None or len(data) > C.MAX_ARTEFACT_BYTES:
        return None
    try:
        doc = parse_json(data)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


# ------------------------------------------------------------------------------ loading


class Approver(Protocol):
    """What a save needs of the translation memory (dubkit.translate.memory.SqliteMemory)."""

    def approve(self, source: str, target: str, pairs: Mapping[str, str], note: str) -> int: ...


@dataclass(frozen=True)
class Programme:
    """A programme as read from its files at one moment (its `version`)."""

    files: ProgrammeFiles
    cues: tuple[Cue, ...]  # the Urdu subtitles, with the flags qa.json recorded for them
    basis: Basis
    qa: dict[str, Any] | None  # STEM.qa.json as read
    settings: Any  # the run's dubkit.episode.pipeline.TranslateSettings
    screen: Any  # dubkit.episode.pipeline.OnScreen: the burned subtitles' places
    fingerprint: dict[str, str]
    english_from: str | None
    glossary: str | None  # where the glossary terms came from, for the page
    notes: tuple[str, ...] = ()

    @property
    def version(self) -> str:
        return version_of(self.fingerprint)


def load_programme(
    files: ProgrammeFiles,
    terms: TermSet | None = None,
    english_cache: dict[Any, Any] | None = None,
    project_terms: Callable[[], TermSet | None] | None = None,
) -> Programme:
    """Read the programme's files. `terms`: the glossary given on the command line; without
    it, the glossary files qa.json names (where they are found), else the terms qa.json
    recorded with their approved Urdu; where it names and recorded none, `project_terms()`
    (dubkit.toml's glossary files, read only then)."""
    from dubkit.episode.engine import on_screen
    from dubkit.episode.pipeline import at_rate, cue_rate, run_rate, with_recognition_flags
    from dubkit.subtitles.files import read_srt

    fingerprint = files.fingerprint()
    ur_path = files.own("ur.srt")
    if ur_path is None:
        raise ReviewError(f"{display_path(files.path('ur.srt'))}: not a regular file; give "
                          f"the folder `dubkit run` wrote", path=files.path("ur.srt"))  # fmt: skip
    qa = _artefact_of(files, "qa.json")
    cues = _with_generation_flags(read_srt(ur_path).cues, qa)
    zh_path = files.own("zh.srt")
    # the recogniser's and the picture's records, only the programme's own (none: a name
    # that is not there)
    asr = files.path("asr.json") if files.own("asr.json") else files.folder / ".no-asr.json"
    zh = with_recognition_flags(read_srt(zh_path).cues, asr) if zh_path is not None else ()
    run = _artefact_of(files, "run.json")
    settings = _settings(run, files)
    profile = at_rate(settings.profile, cue_rate(asr) or run_rate(run, zh_path))
    en, english_from = _english(files, english_cache)
    chosen, glossary, notes = _terms(terms, qa, project_terms)
    if zh_path is None:
        notes.append(
            f"no {display_text(files.stem)}.zh.srt: the Chinese column is empty and no line can "
            f"be approved in the translation memory"
        )
    basis = Basis(
        loaded={key_of(c): c for c in cues},
        zh=tuple(zh),
        en=en,
        terms=chosen,
        profile=profile,
        style=settings.style,
        name=display_path(files.path("ur.srt")),
    )
    ocr = files.path("ocr.json")
    screen = on_screen(asr, ocr if files.own("ocr.json") else files.folder / ".no-ocr.json")
    return Programme(
        files, tuple(cues), basis, qa, settings, screen, fingerprint, english_from, glossary,
        tuple(notes),
    )  # fmt: skip


def _with_generation_flags(cues: Sequence[Cue], qa: dict[str, Any] | None) -> list[Cue]:
    """The flags translation recorded for each Urdu cue (qa.json target_cues, by time)."""
    recorded: dict[tuple[int, int], tuple[str, ...]] = {}
    for e in qa.get("target_cues", []) if qa is not None else []:
        if not isinstance(e, dict):
            continue
        a, b, flags = e.get("start_ms"), e.get("end_ms"), e.get("flags")
        if isinstance(a, int) and isinstance(b, int) and isinstance(flags, list):
            recorded[(a, b)] = tuple(f for f in flags if isinstance(f, str))
    return [replace(c, flags=recorded.get((c.start_ms, c.end_ms), ())) for c in cues]


def _settings(run: dict[str, Any] | None, files: ProgrammeFiles) -> Any:
    """The translation settings STEM.run.json recorded (Urdu style, profile, formats, BOM,
    ASS placement); the defaults, with the formats found beside the SRT, when it has none."""
    from dubkit.episode.pipeline import TranslateSettings

    recorded = run.get("translate_settings") if run is not None else None
    if isinstance(recorded, dict):
        try:
            return TranslateSettings(
                bom=bool(recorded.get("bom", False)),
                style=UrduStyle(**recorded["style"]),
                layout=str(recorded.get("layout", "sentence")),
                profile=Profile(**recorded["profile"]),
                formats=tuple(str(f) for f in recorded.get("formats", ())),
                cover_burned=bool(recorded.get("cover_burned", False)),
            )
        except (KeyError, TypeError, ValueError):
            pass  # an older or damaged run.json: the defaults below
    kinds = {"vtt": "ur.vtt", "ass": "ur.ass", "bilingual": "zh-ur.srt"}
    formats = tuple(f for f, kind in kinds.items() if files.path(kind).exists())
    return TranslateSettings(formats=formats, profile=BUILTIN_PROFILES[URDU_PROFILE])


def _english(
    files: ProgrammeFiles, cache: dict[Any, Any] | None
) -> tuple[tuple[Cue, ...] | None, str | None]:
    """The English pivot: the machine pivot's SRT, else STEM.en.srt, else the English column
    of the dubbing script `run` wrote (read once per version of the workbook)."""
    from dubkit.subtitles.files import read_srt

    for kind in ("en.pivot.srt", "en.srt"):
        path = files.own(kind)
        if path is not None:
            return tuple(read_srt(path).cues), display_text(path.name)
    xlsx = files.own("dubscript.xlsx")
    if xlsx is None:
        return None, None
    stat = xlsx.stat()
    key = (str(xlsx), stat.st_mtime_ns, stat.st_size)
    if cache is not None and key in cache:
        return cache[key], display_text(xlsx.name)
    cues = _script_english(xlsx)
    if cache is not None:
        cache.clear()
        cache[key] = cues
    return cues, (display_text(xlsx.name) if cues is not None else None)


def _script_english(xlsx: Path) -> tuple[Cue, ...] | None:
    from dubkit.dubbing.files import read_script
    from dubkit.fsutil import NotReadable, read_limited

    try:
        sheet = read_script(read_limited(xlsx, C.MAX_SCRIPT_XLSX_BYTES), display_path(xlsx))
    except (DubkitError, NotReadable, OSError):
        return None  # the English column only adds to the page; a bad workbook never stops it
    lines = sorted(sheet.lines, key=lambda s: (s.start_ms, s.end_ms, s.number))
    return tuple(
        Cue(n, s.start_ms, s.end_ms, tuple(x for x in s.en.split("\n") if x.strip()))
        for n, s in enumerate(lines, start=1)
        if s.en.strip()
    )


def _terms(
    given: TermSet | None,
    qa: dict[str, Any] | None,
    project: Callable[[], TermSet | None] | None = None,
) -> tuple[TermSet | None, str | None, list[str]]:
    """The glossary: --glossary's terms; else the glossary files qa.json names, where they
    are (from here); else the terms qa.json recorded, each with its approved Urdu; where it
    names and recorded none, `project()` (dubkit.toml's glossary files)."""
    if given is not None:
        return given, given.label, []
    named = qa.get("glossaries") if qa is not None else None
    files = [Path(g["file"]) for g in named or [] if isinstance(g, dict) and g.get("file")]
    if not files and project is not None and _recorded_terms(qa) is None:
        terms = project()
        return terms, terms.label if terms else None, []
    if files and all(f.is_file() for f in files):
        from dubkit.config import Config
        from dubkit.episode.setup import load_glossaries

        try:
            terms = load_glossaries(Config(), files)
        except DubkitError as exc:
            note = f"the glossary the run used cannot be read ({exc}); checking recorded terms"
            return _recorded_terms(qa), "terms recorded in qa.json", [note]
        return terms, terms.label if terms else None, []
    recorded = _recorded_terms(qa)
    if recorded is None:
        return None, None, []
    note = ("the run's glossary files are not found from here: the terms and approved Urdu "
            "qa.json recorded are checked; pass -g GLOSSARY.yaml for every term")  # fmt: skip
    return recorded, "terms recorded in qa.json", [note]


def _recorded_terms(qa: dict[str, Any] | None) -> TermSet | None:
    """A TermSet of the terms qa.json lists per cue (Chinese and approved Urdu)."""
    found: dict[str, Term] = {}
    for entry in qa.get("cues", []) if qa is not None else []:
        for t in entry.get("terms", []) if isinstance(entry, dict) else []:
            if isinstance(t, dict) and isinstance(t.get("zh"), str) and t["zh"]:
                found.setdefault(t["zh"], Term(zh=t["zh"], ur=str(t.get("approved", ""))))
    if not found:
        return None
    return TermSet(tuple(found.values()), dict(found))


# -------------------------------------------------------------------------------- saving


@dataclass(frozen=True, slots=True)
class SaveResult:
    written: tuple[Path, ...]
    cues: int
    changed: int  # cues whose Urdu the operator changed (split and merged ones included)
    approved: int  # Chinese → Urdu pairs approved in the translation memory
    not_approved: int  # changed or approved cues with no Chinese under them to pair with
    notes: tuple[str, ...] = ()


def save_draft(
    programme: Programme, draft: Sequence[DraftCue], memory: Approver | None
) -> SaveResult:
    """Write the draft as STEM.ur.srt (.vtt, .ass), STEM.zh-ur.srt and STEM.qa.json with the
    function `run` writes them with (all or none), then approve in `memory` the Chinese →
    Urdu pair of each cue whose Urdu changed (against the SRT replaced, as `dubscript import`
    decides) or that the operator approved. The caller has checked `programme` is what the
    page loaded (save_checked)."""
    from dubkit.dubbing.script import build_script, ur_plain
    from dubkit.episode.pipeline import _write_translation

    check_order(draft)
    cues = materialise(draft, programme.basis)
    units, old = _units(programme)
    qa = _qa_document(programme, cues, units, old)
    groups = None
    if old.get("units") == "sentences" and units:
        groups = (
            [_unit_of(c, units) for c in programme.basis.zh],
            [_unit_of(c, units) for c in cues],
        )
    files = programme.files
    settings = replace(programme.settings, pivot_srt=False)  # the pivots are not edited here
    paths, written = _write_translation(
        files.stem, files.folder, [], settings, programme.basis.zh, cues, [], qa, groups,
        programme.screen,
    )  # fmt: skip
    lines = build_script(written, programme.basis.zh, None, None)
    changed_spans = _changed_spans(draft, programme)
    approved_spans = {(d.start_ms, d.end_ms) for d in draft if d.approved}
    chosen = [x for x in lines if (x.start_ms, x.end_ms) in changed_spans | approved_spans]
    pairs: dict[str, str] = {}
    missing = 0
    for line in chosen:
        zh, ur = line.zh.strip(), ur_plain(line.ur)
        if zh and ur and _whole_source(line, written, programme.basis.zh):
            pairs[zh] = ur
        elif ur:
            missing += 1
    notes = []
    approved = 0
    if memory is not None and pairs:
        try:
            approved = memory.approve("zh", "ur", pairs, note=f"review:{display_text(files.stem)}")
        except DubkitError as exc:
            notes.append(f"the subtitles are saved, but the translation memory was not: {exc}")
    if files.path("dubscript.xlsx").exists():
        notes.append(
            f"{display_text(files.stem)}.dubscript.xlsx still has the lines as they were; export "
            f"it again with `dubkit dubscript export {display_path(files.path('ur.srt'))}`"
        )
    return SaveResult(
        written=tuple(paths.values()),
        cues=len(written),
        changed=len(changed_spans),
        approved=approved,
        not_approved=missing,
        notes=tuple(notes),
    )


def _changed_spans(draft: Sequence[DraftCue], programme: Programme) -> set[tuple[int, int]]:
    """The spans of the draft's cues whose Urdu text the operator changed (compared as
    `dubscript import` compares it: plain, letters normalised). A cue a split or a merge made
    counts only when its text is not a run of the loaded Urdu's words: a split or a merge
    alone changes no text, so approves nothing."""
    from dubkit.dubbing.script import ur_plain
    from dubkit.text.urdu import normalise_letters

    def plain(text: str) -> str:
        return ur_plain(normalise_letters(strip_bidi(text)))

    loaded = f" {' '.join(plain(c.text) for c in programme.cues)} "
    spans = set()
    for d in draft:
        old = programme.basis.loaded.get(d.key) if d.key else None
        same = plain(d.ur) == plain(old.text) if old is not None else f" {plain(d.ur)} " in loaded
        if not same:
            spans.add((d.start_ms, d.end_ms))
    return spans


def _whole_source(line: Any, written: Sequence[Cue], zh: Sequence[Cue]) -> bool:
    """Whether the line's Chinese is whole source units of its own: every Chinese cue it
    was given overlaps no other Urdu cue (half a split never pairs with the whole sentence),
    and those cues are all the Chinese under it."""
    mine = [c for c in zh if c.start_ms < line.end_ms and line.start_ms < c.end_ms]
    if not mine or join_lines(join_lines(c.lines) for c in mine) != line.zh:
        return False
    for c in mine:
        for cue in written:
            other = (cue.start_ms, cue.end_ms) != (line.start_ms, line.end_ms)
            if other and c.start_ms < cue.end_ms and cue.start_ms < c.end_ms:
                return False
    return True


def _units(programme: Programme) -> tuple[list[Cue], dict[str, Any]]:
    """What qa.json reports glossary adherence over (the run's sentences, or its cues), with
    their Chinese and the recogniser's flags; the Chinese cues when there is no qa.json."""
    old = programme.qa or {}
    units = []
    for n, e in enumerate(old.get("cues", []) if isinstance(old.get("cues"), list) else [], 1):
        if not isinstance(e, dict):
            continue
        a, b, text, flags = e.get("start_ms"), e.get("end_ms"), e.get("source"), e.get("flags")
        if isinstance(a, int) and isinstance(b, int) and 0 <= a <= b and isinstance(text, str):
            shown = tuple(f for f in flags if isinstance(f, str)) if isinstance(flags, list) else ()
            units.append(Cue(int(e.get("index", n)), a, b, (text,), shown))
    if not units:
        units = [replace(c, lines=(join_lines(c.lines),)) for c in programme.basis.zh]
    return units, old


def _qa_document(
    programme: Programme, cues: Sequence[Cue], units: Sequence[Cue], old: dict[str, Any]
) -> dict[str, Any]:
    """STEM.qa.json for the saved cues: the glossary report over the run's units, each with
    the Urdu of the cues now in its time; the run's own keys (units, pivot, the pivot SRTs it
    wrote) kept."""
    from dubkit.qa.adherence import glossary_report

    said: list[list[str]] = [[] for _ in units]
    for cue in cues:
        if units:
            said[_unit_of(cue, units)].append(join_lines(cue.lines, "ur"))
    outputs = [
        Cue(u.index, u.start_ms, u.end_ms, (join_lines(s, "ur"),) if s else (),
            tuple(f for f in u.flags if f not in RECOGNITION_FLAGS))
        for u, s in zip(units, said, strict=True)
    ]  # fmt: skip
    terms = programme.basis.terms
    qa = glossary_report(units, outputs, [u.text for u in units], terms, "ur")
    if terms is not None and not terms.glossaries and "glossaries" in old:
        qa["glossaries"] = old["glossaries"]  # checked against the terms it recorded
    for key in ("units", "pivot", "pivot_srts"):  # the run's; the pivots are not edited here
        if key in old:
            qa[key] = old[key]
    return qa


def _unit_of(cue: Cue, units: Sequence[Cue]) -> int:
    """The unit holding the cue's midpoint, else the one it overlaps most, else the nearest."""
    mid2 = cue.start_ms + cue.end_ms

    def key(i: int) -> tuple[bool, int, float]:
        u = units[i]
        holds = 2 * u.start_ms <= mid2 < 2 * u.end_ms
        overlap = min(u.end_ms, cue.end_ms) - max(u.start_ms, cue.start_ms)
        return (holds, overlap, -abs(u.start_ms + u.end_ms - mid2))

    return max(range(len(units)), key=key)


# ------------------------------------------------------------------------------ session


@dataclass
class Review:
    """One `dubkit review` server's programme: loaded again for each page, checked, edited
    and saved one save at a time. `memory` is the translation memory's path (None: the
    default), `use_memory` False for --no-memory."""

    files: ProgrammeFiles
    media: Path | None = None
    terms: TermSet | None = None
    memory: Path | None = None
    use_memory: bool = True
    notes: tuple[str, ...] = ()
    # dubkit.toml's glossary, read where qa.json names and recorded none
    project_terms: Callable[[], TermSet | None] | None = None
    _current: Programme | None = field(default=None, repr=False)
    _seen: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)
    _english: dict[Any, Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def load(self) -> Programme:
        programme = load_programme(self.files, self.terms, self._english, self.project_terms)
        if len(self._seen) > 100:
            self._seen.clear()
        self._seen[programme.version] = programme.fingerprint
        self._current = programme
        return programme

    @property
    def current(self) -> Programme:
        return self._current if self._current is not None else self.load()

    def page(self) -> dict[str, Any]:
        """What the page shows: the programme, loaded now, every cue checked."""
        programme = self.load()
        checked = check_draft(draft_of(programme.cues), programme.basis)
        present = [p.name for kind in SERVED if (p := self.files.path(kind)).is_file()]
        return {
            "stem": display_text(self.files.stem),
            "version": programme.version,
            "media": None if self.media is None else display_text(self.media.name),
            "fps": programme.basis.profile.fps,
            "profile": {
                "name": programme.basis.profile.name,
                "max_chars_per_line": programme.basis.profile.max_chars_per_line,
                "max_lines": programme.basis.profile.max_lines,
                "max_cps": programme.basis.profile.max_cps,
            },
            "english_from": programme.english_from,
            "glossary": None if programme.glossary is None else display_text(programme.glossary),
            "codes": CODES,
            "notes": [display_text(n) for n in (*self.notes, *programme.notes)],
            "files": [display_text(n) for n in present],
            "memory": self.use_memory,
            **checked,
        }

    def check(self, draft: Sequence[DraftCue]) -> dict[str, Any]:
        return check_draft(draft, self.current.basis)

    def edit(self, draft: Sequence[DraftCue], op: Mapping[str, Any]) -> dict[str, Any]:
        """Apply one edit (op: split, merge or nudge, on cue `index`) and check the result."""
        basis = self.current.basis
        kind, index = op.get("op"), op.get("index")
        if not isinstance(index, int):
            raise ReviewError("an edit needs the index of its cue; reload the page")
        if kind == "split":
            new = split(draft, index, basis.profile, op.get("at_char"), op.get("at_ms"))
        elif kind == "merge":
            new = merge(draft, index, basis.profile)
        elif kind == "nudge":
            new = nudge(draft, index, str(op.get("edge")), int(op.get("frames", 0)),
                        basis.profile.fps)  # fmt: skip
        else:
            raise ReviewError(f"unknown edit {kind!r}: split, merge or nudge")
        return check_draft(new, basis)

    def save(self, version: str, draft: Sequence[DraftCue]) -> SaveResult:
        """save_draft, when the files are still what the page loaded (`version`); Conflict
        naming the changed files otherwise. One save at a time."""
        with self._lock:
            programme = self.load()
            if programme.version != version:
                raise Conflict(self._conflict(version, programme.fingerprint))
            if self.use_memory:
                from dubkit.translate.memory import SqliteMemory

                try:
                    memory = SqliteMemory(self.memory)
                except DubkitError as exc:
                    result = save_draft(programme, draft, None)
                    note = f"the subtitles are saved, but the translation memory was not: {exc}"
                    result = replace(result, notes=(*result.notes, note))
                else:
                    with memory:
                        result = save_draft(programme, draft, memory)
            else:
                result = save_draft(programme, draft, None)
            self.load()
            return result

    def _conflict(self, version: str, now: Mapping[str, str]) -> str:
        loaded = self._seen.get(version)
        changed = [n for n in now if loaded is None or loaded.get(n) != now[n]]
        names = ", ".join(display_text(n) for n in changed) or "the programme's files"
        return (
            f"{names} changed on disk since the page loaded (another save, `dubkit run` or an "
            f"editor); nothing was written: reload the page to review the files as they are "
            f"now, then make your changes again"
        )
