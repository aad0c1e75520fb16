"""The README's worked episode, run as it is written: every line of the bash blocks of its
section "A worked episode" (`run`, then qa, preview, dubscript import and batch, then the
burned-subtitles block: `run --source auto --cover-burned` and `burn`), taken from the README
text itself and run in order, in-process with CliRunner, in a folder where the names they use
exist: `episode-012.mp4` (4 s of real Mandarin speech under a small test card with its
Chinese and an English line burned in by libass, then silence to 62 s: the README looks at
the frame `--at 60`), `season-3/` with one such episode and `glossaries/cpec-media.yaml`
(this repository's). Nothing in a command is changed. The Argos packages are the tests'
random-weight ones (their Urdu is babble), so what is checked is that each command succeeds
and writes what the README says it does: the files of its table of `run`'s outputs (read
from the table, for the run's STEM, and for each episode of the batch), the files a line's
comment names, and what each command is for (qa's HTML report, preview's frames, an unedited
dubscript imported back changing nothing, batch-report.json, burn's programme with every
frame and the sound kept). A command this test has no check for fails it.

Then the commands the section writes in its prose (translate from the picture's English, the
SRT burned with --cover-burned, ocr), checked the same way. Not run: `dubkit review
out/ep012`, a server that runs until stopped (tests/test_review*.py drive it). Besides the
episode: the README's `dubkit models install` line (in its prose), as written."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dubkit.cli import app
from tests.conftest import CPEC, _missing, probe_av, run_ffmpeg
from tests.test_readme import prose_examples

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
runner = CliRunner()

SPEECH = "aishell1_BAC009S0764W0121.wav"  # 4.2 s: 甚至出现交易几乎停滞的情况
SECONDS = 62  # the README looks at the frame at 60 s
SIZE = (320, 180)
FPS = 5  # few frames: OCR scans, and burn encodes, every one


# --------------------------------------------------------------------- the README, read


def worked_episode(readme: str) -> str:
    """The README's section "A worked episode", to the next heading of its level."""
    found = re.search(r"^## A worked episode\n(.*?)(?=^## |\Z)", readme, flags=re.S | re.M)
    assert found is not None, "README.md has no section '## A worked episode'"
    return found.group(1)


def commands(section: str) -> list[tuple[str, list[str], str]]:
    """(line, its words after `dubkit`, its comment) for each line of the section's bash
    blocks, in order; every line must be a dubkit command (a line this test cannot run would
    go untested)."""
    found = []
    for block in re.findall(r"```(?:bash|sh)\n(.*?)```", section, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if not words:
                continue
            assert words[0] == "dubkit", f"README.md, a worked episode: not a dubkit line: {line}"
            comment = re.search(r"\s#\s*(.*)$", line)
            found.append((line.strip(), words[1:], comment.group(1) if comment else ""))
    return found


def prose_commands(section: str) -> list[tuple[str, list[str], str]]:
    """The same for each command the section writes in its prose, in order, after its bash
    blocks (tests/test_readme.py's prose_examples)."""
    return [(span, shlex.split(span)[1:], "") for span in prose_examples(section)]


def table_outputs(section: str) -> list[tuple[str, tuple[str, ...]]]:
    """(name, the options it is written with) for each file or folder (ending in /) that the
    section's table of `run`'s outputs names: `name` (`.vtt`, `.ass`) names the same file with
    those extensions too, and a row whose use begins "with `--source ocr` or `auto`" is
    written with --source."""
    rows = [line for line in section.splitlines() if line.startswith("|")]
    assert len(rows) > 2, "README.md, a worked episode: no table of run's outputs"
    found = []
    for row in rows[2:]:  # after the header and its rule
        files, what = (cell.strip() for cell in row.strip().strip("|").split("|")[:2])
        needs = tuple(re.findall(r"^with `(--[\w-]+)", what))
        names: list[str] = []
        for name, others in re.findall(r"`([^`]+)`|\(([^)]*)\)", files):
            if name:
                names.append(name)
            else:
                names += [
                    str(Path(names[-1]).with_suffix(ext))
                    for ext in re.findall(r"`(\.\w+)`", others)
                ]
        found += [(name, needs) for name in names]
    return found


def _option(words: list[str], *names: str) -> str | None:
    for n, word in enumerate(words):
        if word in names:
            return words[n + 1]
    return None


def _arguments(words: list[str]) -> list[str]:
    """The words after the command that are not options nor their values (every option here
    takes a value but --cover-burned)."""
    found, n = [], 0
    while n < len(words):
        if words[n] in ("--cover-burned",):
            n += 1
        elif words[n].startswith("-"):
            n += 2
        else:
            found.append(words[n])
            n += 1
    return found


# ----------------------------------------------------------------------- the folder


def _episode(ffmpeg: str, speech: Path, folder: Path) -> Path:
    """episode-012.mp4: a moving test card with the speech's subtitle burned in by libass,
    Chinese and English (one is enough to find the band: a subtitle costs `--source auto`
    about six OCR readings), the speech then silence as its sound."""
    from dubkit.adapters.render import FontMissing, font_file
    from tests.test_ocr import _HEADER, Burned, _in

    for font in ("Noto Nastaliq Urdu", "Noto Sans CJK SC"):
        try:
            font_file(font)
        except FontMissing:
            _missing(f"{font} not installed (Debian fonts-noto-core and fonts-noto-cjk)")
    burned = (
        Burned(0.3, 4.2, "Outline", "甚至出现交易几乎停滞的情况", "Trading almost came to a halt"),
    )
    (folder / "subs.ass").write_text(
        _HEADER.format(w=SIZE[0], h=SIZE[1], fs=14, bord=1, mv=8)
        + "".join(e.line() for e in burned),
        encoding="utf-8",
    )
    _in(folder, lambda: run_ffmpeg(
        ffmpeg, "-f", "lavfi", "-i", f"testsrc2=size={SIZE[0]}x{SIZE[1]}:rate={FPS}",
        "-i", str(speech), "-t", str(SECONDS), "-vf", "ass=subs.ass", "-af", "apad",
        "-c:v", "libx264", "-preset", "ultrafast", "-crf", "20", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "episode-012.mp4",
    ))  # fmt: skip
    (folder / "subs.ass").unlink()
    return folder / "episode-012.mp4"


# ------------------------------------------------------------------------------ the test


@pytest.mark.model
@pytest.mark.assets
@pytest.mark.slow
@pytest.mark.usefixtures("pivot_route", "no_network")
def test_the_worked_episode_runs_as_the_readme_writes_it(
    ffmpeg: str,
    assets: Path,
    base_model_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    section = worked_episode(README.read_text(encoding="utf-8"))
    lines = commands(section)
    table = table_outputs(section)
    assert len(lines) >= 7 and len(table) >= 10
    in_prose = prose_commands(section)
    assert len(in_prose) >= 3, in_prose
    lines += in_prose

    work = tmp_path / "work"
    (work / "glossaries").mkdir(parents=True)
    shutil.copy(CPEC, work / "glossaries")
    episode = _episode(ffmpeg, assets / "zh-speech" / SPEECH, work)
    (work / "season-3").mkdir()
    shutil.copy(episode, work / "season-3" / "episode-013.mp4")
    # batch --jobs 2 runs its episodes in worker processes, which see none of this process's
    # monkeypatching: a DUBKIT_HOME of the test's own keeps the machine's translation memory
    # out of reach, the Whisper model linked into it (the route's packages travel as paths)
    home = tmp_path / "home"
    (home / "models" / "whisper").mkdir(parents=True)
    (home / "models" / "whisper" / base_model_dir.name).symlink_to(base_model_dir)
    monkeypatch.setenv("DUBKIT_HOME", str(home))
    monkeypatch.chdir(work)

    stem = Path(_arguments(lines[0][1][1:])[0]).stem  # the table names the first run's outputs
    assert all(stem in name for name, _ in table), table

    def written(line: str, words: list[str], folder: Path, media: str) -> None:
        """The table's files (and folders: a final /) for `media` and the options in `words`
        are in `folder`."""
        for name, needs in table:
            path = folder / name.replace(stem, Path(media).stem)
            if all(option in words for option in needs):
                assert path.is_dir() if name.endswith("/") else path.is_file(), f"{line}: no {path}"

    took = []
    for line, words, comment in lines:
        if words[0] == "review":  # a server: tests/test_review*.py
            continue
        command = " ".join(words[:2]) if words[0] == "dubscript" else words[0]
        args, out = _arguments(words[len(command.split()) :]), _option(words, "-o", "--outdir")
        folder = Path(out) if out else Path(args[-1]).parent
        before = {p: p.read_bytes() for p in folder.glob("*.ur.*") if p.is_file()}
        started, started_wall = time.perf_counter(), time.time() - 1  # (coarse file times)
        result = runner.invoke(app, words)
        took.append(f"{time.perf_counter() - started:5.1f} s  {line}")
        assert result.exit_code == 0, f"{line}\n{result.output}"
        named = re.findall(r"[\w.-]*\.[a-z]+\b", comment)  # `+ .en.srt`, `STEM.ur.qa.html`
        media_stem = Path(args[0]).stem.split(".")[0]
        for name in named:
            path = folder / (media_stem + name if name.startswith(".") else name)
            assert path.is_file(), f"{line}: no {path}"
        if command == "run":
            written(line, words, folder, args[0])
            doc = json.loads((folder / f"{media_stem}.run.json").read_text("utf-8"))
            assert doc["status"] == "complete", doc["status"]
            if "--cover-burned" in words:
                qa = json.loads((folder / f"{media_stem}.qa.json").read_text("utf-8"))
                assert qa["placement"]["ass"] == "cover" and qa["placement"]["covered"] > 0
        elif command == "qa":
            assert (folder / f"{Path(args[0]).stem}.qa.html").is_file()
        elif command == "preview":
            stills = sorted(folder.glob(f"{media_stem}.preview.*.png"))
            assert len(stills) == words.count("--at") >= 1, stills
        elif command == "dubscript import":
            assert (folder / f"{media_stem}.dubscript.json").is_file()
            assert "0 changed line(s) approved" in result.output  # nobody edited it
            after = {p: p.read_bytes() for p in before}
            assert after == before, "an unedited dubscript changed the Urdu subtitles"
        elif command == "batch":
            season = sorted(p for p in Path(args[0]).iterdir() if p.suffix == ".mp4")
            report = json.loads((folder / "batch-report.json").read_text("utf-8"))
            assert report["done"] == len(season) >= 1 and report["status"] == "ok", report
            for media in season:
                written(line, words, folder / media.stem, media.name)
        elif command == "burn":
            frames, _, sound = probe_av(ffmpeg, Path(out or ""))
            assert (frames, sound) == probe_av(ffmpeg, Path(args[0]))[::2]
        elif command == "translate":  # from the English read from the picture
            assert (folder / f"{media_stem}.ur.srt").stat().st_mtime >= started_wall
            qa = json.loads((folder / f"{media_stem}.qa.json").read_text("utf-8"))
            assert [e.get("pivot") for e in qa["cues"]].count("burned") >= 1, qa.get("pivot")
        elif command == "ocr":
            for suffix in (".zh.srt", ".en.srt", ".ocr.json"):
                assert (folder / f"{media_stem}{suffix}").stat().st_mtime >= started_wall
        else:
            pytest.fail(f"README.md: `dubkit {command}` has no check here; add one")
    print("\n".join(took))


def test_the_readmes_package_install_line_installs_the_route(
    argos_files: dict[str, Path], isolated_packages: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """The README's `dubkit models install ZH_EN.argosmodel EN_UR.argosmodel` (in its prose),
    on the tests' packages under the names it gives: both installed, the zh→ur route found."""
    from dubkit.models.packages import find_route, installed_packages

    readme = " ".join(README.read_text(encoding="utf-8").split())
    line = re.search(r"`dubkit (models install [^`]+)`", readme)
    assert line is not None, "README.md: no `dubkit models install ...` line"
    words = shlex.split(line.group(1))
    files = [w for w in words if w.endswith(".argosmodel")]
    assert [f.split("-")[1] for f in files] == ["zh_en", "en_ur"], files
    for name, pair in zip(files, ("zh-en", "en-ur"), strict=True):
        shutil.copy(argos_files[pair], tmp_path / name)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, words)
    assert result.exit_code == 0, result.output
    assert result.output.count("installed in") == 2
    route = find_route("zh", "ur", installed_packages())
    assert route is not None and route.description == "zh→en→ur"
    assert {p.path.parent for p in installed_packages()} == {isolated_packages}
