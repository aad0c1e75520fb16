"""`dubkit batch`: discovery, lock, resume manifest, failure isolation, kill-and-resume, Dask.

Real whisper:base, short recordings from ../shared/assets and tiny Argos packages installed
into a folder passed with --packages (child processes cannot see a monkeypatched store)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dubkit.cli import app
from dubkit.episode import batch as B
from dubkit.errors import OutputError
from tests.canned import HEARD, silent_wav
from tests.conftest import CPEC

runner = CliRunner()
SHORT = ["aishell1_BAC009S0724W0121.wav", "aishell1_BAC009S0764W0121.wav"]


def test_batch_help() -> None:
    result = runner.invoke(app, ["batch", "--help"])
    assert result.exit_code == 0
    assert "--jobs" in result.output and "--resume" in result.output


def test_discover_files_and_episode_folders(tmp_path: Path) -> None:
    (tmp_path / "ep 1 新闻.wav").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("not media")
    ep2 = tmp_path / "第二集"
    ep2.mkdir()
    (ep2 / "programme.mp4").write_bytes(b"x")
    (ep2 / "programme.zh.srt").write_text("")
    (ep2 / "terms.yaml").write_text("")
    episodes, problems = B.discover([tmp_path, tmp_path / "missing"])
    assert [e.name for e in episodes] == ["ep 1 新闻", "第二集"]
    assert episodes[1].srt == ep2 / "programme.zh.srt"
    assert episodes[1].glossary == ep2 / "terms.yaml"
    assert len(problems) == 1 and "no such file" in problems[0][1]


def test_lock_refuses_a_live_holder_and_clears_a_dead_one(tmp_path: Path) -> None:
    with B.BatchLock(tmp_path), pytest.raises(OutputError, match=f"pid {os.getpid()}"):
        B.BatchLock(tmp_path).acquire()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock = tmp_path / B.LOCK_NAME
    import socket

    lock.write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname(), "started": "x"}))
    with B.BatchLock(tmp_path) as taken:
        assert json.loads(lock.read_text())["pid"] == os.getpid()
        assert taken.held
    assert not lock.exists()


def test_manifest_detects_changed_output(tmp_path: Path) -> None:
    out = tmp_path / "a.srt"
    out.write_text("one")
    m = B.Manifest(tmp_path)
    m.record("transcribe", "k1", tmp_path, [out])
    again = B.Manifest(tmp_path)
    assert again.fresh("transcribe", "k1", tmp_path)
    assert not again.fresh("transcribe", "k2", tmp_path)
    out.write_text("edited")
    assert not again.fresh("transcribe", "k1", tmp_path)


# ----------------------------------------------------------------------- with real models


@pytest.fixture
def package_dir(argos_files: dict[str, Path], tmp_path: Path) -> Path:
    from dubkit.adapters.modelfiles import MODEL_FILES
    from dubkit.models.packages import install_archive

    folder = tmp_path / "packages"
    folder.mkdir()
    for pair in ("zh-en", "en-ur"):
        install_archive(argos_files[pair], into=folder, checks=MODEL_FILES)
    return folder


@pytest.fixture
def episodes(assets: Path, tmp_path: Path, base_model_dir: Path) -> Path:
    """Two media files (one with spaces and Chinese in its name), one episode folder with
    its own glossary, and a corrupt file."""
    folder = tmp_path / "episodes"
    folder.mkdir()
    speech = assets / "zh-speech"
    shutil.copy(speech / SHORT[0], folder / "第一集 news.wav")
    shutil.copy(speech / SHORT[1], folder / SHORT[1])
    ep3 = folder / "ep3"
    ep3.mkdir()
    shutil.copy(speech / "funasr_asr_example.wav", ep3 / "programme.wav")
    shutil.copy(CPEC, ep3 / "terms.yaml")
    (folder / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(4096))
    return folder


def _args(episodes: Path, out: Path, packages: Path, *more: str) -> list[str]:
    return [
        "batch", str(episodes), "-o", str(out), "--packages", str(packages),
        "--device", "cpu", "--no-clips", "--memory", str(out.parent / "memory.sqlite"), *more,
    ]  # fmt: skip


def _report(out: Path) -> dict[str, object]:
    return json.loads((out / B.REPORT_NAME).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.mark.model
@pytest.mark.assets
@pytest.mark.slow
def test_batch_isolates_failures_resumes_and_reruns_only_what_changed(
    episodes: Path, package_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    first = runner.invoke(app, _args(episodes, out, package_dir))
    assert first.exit_code == 1, first.output
    report = _report(out)
    states = {e["name"]: e["status"] for e in report["episodes"]}  # type: ignore[attr-defined]
    assert states == {
        "第一集 news": "done",
        SHORT[1][:-4]: "done",
        "ep3": "done",
        "broken": "failed",
    }
    broken = next(e for e in report["episodes"] if e["name"] == "broken")  # type: ignore[attr-defined]
    assert "cannot read as media" in broken["error"]
    assert report["model_loads"] == 1
    assert (out / "第一集 news" / "第一集 news.ur.srt").stat().st_size > 0
    assert (out / "ep3" / ".dubkit" / "batch.log").is_file()
    assert "dubkit batch" in first.output and "broken" in first.output
    before = (out / "ep3" / ".dubkit" / "manifest.json").read_text(encoding="utf-8")

    # unchanged: every stage of the good episodes is skipped
    second = runner.invoke(app, _args(episodes, out, package_dir))
    assert second.exit_code == 1
    assert len(_report(out)["skipped"]) == 9  # type: ignore[arg-type]

    # edit the episode glossary: only translation and dubbing of that episode rerun
    glossary = episodes / "ep3" / "terms.yaml"
    glossary.write_text(glossary.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    third = runner.invoke(app, _args(episodes, out, package_dir))
    assert third.exit_code == 1
    ep3 = next(e for e in _report(out)["episodes"] if e["name"] == "ep3")  # type: ignore[attr-defined]
    assert ep3["stages"] == {"transcribe": "skipped", "translate": "ran", "dub": "ran"}
    after = json.loads((out / "ep3" / ".dubkit" / "manifest.json").read_text(encoding="utf-8"))
    assert after["stages"]["transcribe"] == json.loads(before)["stages"]["transcribe"]

    # as in `run`, the glossary biases recognition (that a new Chinese form in it then
    # transcribes again is tested without the model in test_batch_as_run, and that --force
    # reruns every stage in test_force_from_the_command_line_runs_every_stage_again)
    asr = json.loads((out / "ep3" / "programme.asr.json").read_text(encoding="utf-8"))
    assert asr["glossary"]["terms"].startswith("cpec-media ")


@pytest.mark.model
@pytest.mark.assets
@pytest.mark.slow
def test_killed_batch_resumes_without_redoing_finished_stages(
    episodes: Path, package_dir: Path, tmp_path: Path
) -> None:
    (episodes / "broken.mp4").unlink()
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "dubkit", *_args(episodes, out, package_dir)]
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    name = SHORT[1][:-4]  # the first episode in name order
    first = out / name / ".dubkit" / "manifest.json"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if first.is_file() and "dub" in json.loads(first.read_text(encoding="utf-8"))["stages"]:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert (out / B.LOCK_NAME).is_file()  # left behind by the killed process: stale
    finished = json.loads(first.read_text(encoding="utf-8"))["stages"]
    again = runner.invoke(app, _args(episodes, out, package_dir))
    assert again.exit_code == 0, again.output
    report = _report(out)
    assert {f"{name}/transcribe", f"{name}/translate", f"{name}/dub"} <= set(
        report["skipped"]  # type: ignore[arg-type]
    )
    assert json.loads(first.read_text(encoding="utf-8"))["stages"] == finished
    assert report["done"] == 3
    assert "第一集 news/transcribe" not in report["skipped"]  # not reached before the kill
    assert list(out.rglob("*.tmp")) == []


@pytest.mark.model
@pytest.mark.assets
@pytest.mark.slow
def test_two_jobs_and_dask_cluster_give_the_same_outputs(
    episodes: Path, package_dir: Path, tmp_path: Path
) -> None:
    pytest.importorskip("distributed")
    from distributed import LocalCluster

    (episodes / "broken.mp4").unlink()
    shutil.rmtree(episodes / "ep3")
    local = tmp_path / "local"
    result = runner.invoke(app, [*_args(episodes, local, package_dir), "--jobs", "2"])
    assert result.exit_code == 0, result.output
    assert _report(local)["model_loads"] == 2
    # the two local workers shared one translation memory: each episode's lines are in it
    from dubkit.translate.memory import SqliteMemory

    with SqliteMemory(tmp_path / "memory.sqlite") as memory:
        sources = [s for s, _, origin, _ in memory.pairs("zh", "ur") if origin == "mt"]
    for zh in sorted(local.glob("*/*.zh.srt")):
        text = "".join(zh.read_text(encoding="utf-8").split())
        assert any(s.replace(" ", "") in text for s in sources), zh
    remote = tmp_path / "dask"
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:  # fmt: skip
        result = runner.invoke(
            app,
            [*_args(episodes, remote, package_dir), "--executor", "dask",
             "--scheduler", cluster.scheduler_address],
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = _report(remote)
    assert report["done"] == 2 and report["executor"] == "dask"
    for srt in sorted(local.rglob("*.srt")):
        twin = remote / srt.relative_to(local)
        assert twin.read_bytes() == srt.read_bytes(), srt


# ------------------------------------------------------------------ reliability matrix


def _listing(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        p.relative_to(folder).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
    }


def _by_name(out: Path) -> dict[str, dict[str, object]]:
    return {e["name"]: e for e in _report(out)["episodes"]}  # type: ignore[attr-defined]


@pytest.mark.model
@pytest.mark.assets
@pytest.mark.slow
def test_bad_inputs_fail_alone_and_the_input_folder_is_never_written(
    assets: Path, package_dir: Path, tmp_path: Path, ffmpeg: str, video_only: Path
) -> None:
    from tests.conftest import run_ffmpeg

    folder = tmp_path / "in"
    folder.mkdir()
    good = assets / "zh-speech" / SHORT[1]
    shutil.copy(good, folder / "good.wav")
    data = (assets / "zh-speech" / SHORT[0]).read_bytes()
    (folder / "truncated.wav").write_bytes(data[: len(data) // 2])
    (folder / "zero.wav").write_bytes(b"")
    shutil.copy(video_only, folder / "picture only.mp4")
    silence = folder / "silence.wav"
    run_ffmpeg(ffmpeg, "-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "60", str(silence))
    badgloss = folder / "badgloss"
    badgloss.mkdir()
    shutil.copy(good, badgloss / "programme.wav")
    (badgloss / "terms.yaml").write_text("terms:\n  - zh: [unclosed\n", encoding="utf-8")
    before = _listing(folder)
    modes = {p: p.stat().st_mode for p in [folder, badgloss]}
    for p in modes:
        p.chmod(0o555)
    out = tmp_path / "out"
    try:
        result = runner.invoke(app, _args(folder, out, package_dir))
    finally:
        for p, mode in modes.items():
            p.chmod(mode)
    assert result.exit_code == 1, result.output
    assert _listing(folder) == before  # nothing written into (or beside) the inputs
    eps = _by_name(out)
    assert eps["good"]["status"] == "done"
    assert (out / "good" / "good.ur.srt").stat().st_size > 0
    for name, why in [
        ("zero", "zero"),
        ("picture only", "no audio stream"),
        ("badgloss", "terms.yaml:3:1: invalid YAML"),
    ]:
        assert eps[name]["status"] == "failed", eps[name]
        error = str(eps[name]["error"])
        assert why in error and "\n" not in error, error
    # silence: done, empty subtitles, the warning in the report; truncated: done, warned
    assert eps["silence"]["status"] == "done"
    assert (out / "silence" / "silence.ur.srt").read_bytes() == b""
    assert "no speech found" in str(eps["silence"]["warnings"])
    assert eps["truncated"]["status"] == "done"
    assert "looks truncated" in str(eps["truncated"]["warnings"])
    assert (out / "truncated" / "truncated.ur.srt").stat().st_size > 0
    assert list(out.rglob("*.tmp")) == []


@pytest.mark.usefixtures("pivot_route")
def test_force_from_the_command_line_runs_every_stage_again(
    canned: Callable[[tuple[Any, ...]], None], tmp_path: Path
) -> None:
    """`batch --force` reaches the engine (the recogniser is canned: the rules of what is
    skipped are tested in test_batch_resume, here only the command's wiring)."""
    canned(HEARD)
    (tmp_path / "in").mkdir()
    silent_wav(tmp_path / "in" / "ep.wav")
    out = tmp_path / "out"
    args = ["batch", str(tmp_path / "in"), "-o", str(out), "--device", "cpu", "--no-clips"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert runner.invoke(app, args).exit_code == 0
    assert _report(out)["skipped"] == ["ep/transcribe", "ep/translate", "ep/dub"]
    forced = runner.invoke(app, [*args, "--force"])
    assert forced.exit_code == 0, forced.output
    assert _report(out)["skipped"] == []
    assert _report(out)["done"] == 1


def test_broken_shared_glossary_refuses_the_batch_before_anything_runs(tmp_path: Path) -> None:
    bad = tmp_path / "shared.yaml"
    bad.write_text("terms:\n  - zh: [unclosed\n", encoding="utf-8")
    (tmp_path / "a.wav").write_bytes(b"x")
    out = tmp_path / "out"
    result = runner.invoke(app, ["batch", str(tmp_path / "a.wav"), "-o", str(out), "-g", str(bad)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "shared.yaml:3:1: invalid YAML" in lines[0], result.output
    assert not out.exists()  # refused before the lock, the models or any output


@pytest.mark.parametrize(
    ("cores", "jobs", "threads", "expected"),
    [(2, 8, 0, (2, 1)), (2, 1, 0, (1, 2)), (4, 3, 0, (3, 1)), (2, 2, 3, (2, 3))],
)
def test_batch_caps_jobs_at_the_cores_and_shares_them_out(
    cores: int,
    jobs: int,
    threads: int,
    expected: tuple[int, int],
    package_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dataclasses import replace

    from dubkit.config import Config
    from dubkit.episode.setup import RunFlags
    from dubkit.episode.stages import plan_batch

    monkeypatch.setattr("dubkit.adapters.argos.cpu_cores", lambda: cores)
    flags = RunFlags(
        packages=[package_dir], source="ocr", threads=threads, memory=tmp_path / "tm.sqlite"
    )
    loader, capped = plan_batch(Config(), None, flags, jobs)
    assert (capped, loader.spec.recognition.threads) == expected
    assert loader.spec.translation is not None  # the route was found and checked
    assert loader.key == B.key_of(repr(replace(loader, key="")))  # a key of the whole recipe
    other = replace(flags, threads=expected[1] + 1)
    assert plan_batch(Config(), None, other, jobs)[0].key != loader.key


@pytest.mark.model
@pytest.mark.assets
@pytest.mark.slow
def test_disk_full_while_translating_fails_the_episode_and_resume_keeps_transcription(
    assets: Path, package_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from dubkit import fsutil
    from dubkit.episode import pipeline

    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(assets / "zh-speech" / SHORT[1], folder / "ep.wav")
    real = fsutil.atomic_write_all

    def full_disk_for_translation(files: dict[Path, bytes]) -> None:
        if not any(p.name.endswith(".ur.srt") for p in files):
            return real(files)

        def no_space(fd: int) -> None:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        with monkeypatch.context() as m:  # the temp files are written, then fsync fails
            m.setattr(fsutil.os, "fsync", no_space)
            return real(files)

    monkeypatch.setattr(pipeline, "atomic_write_all", full_disk_for_translation)
    out = tmp_path / "out"
    result = runner.invoke(app, _args(folder, out, package_dir))  # --jobs 1: in this process
    assert result.exit_code == 1, result.output
    ep = _by_name(out)["ep"]
    error = str(ep["error"])
    assert ep["status"] == "failed" and "No space left" in error and "free some space" in error
    assert "\n" not in error
    assert sorted(p.name for p in (out / "ep").iterdir()) == [
        ".dubkit", "ep.asr.json", "ep.zh.srt",
    ]  # fmt: skip
    assert list(out.rglob("*.tmp")) == [] and list(out.rglob(".*.tmp")) == []
    manifest = json.loads((out / "ep" / ".dubkit" / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["stages"]) == {"transcribe"}

    monkeypatch.setattr(pipeline, "atomic_write_all", real)
    again = runner.invoke(app, _args(folder, out, package_dir))
    assert again.exit_code == 0, again.output
    assert _by_name(out)["ep"]["stages"] == {
        "transcribe": "skipped", "translate": "ran", "dub": "ran",
    }  # fmt: skip
    assert (out / "ep" / "ep.ur.srt").stat().st_size > 0


@pytest.mark.model
@pytest.mark.assets
@pytest.mark.slow
def test_fail_fast_stops_after_the_first_failure(
    assets: Path, package_dir: Path, tmp_path: Path, corrupt_file: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(corrupt_file, folder / "a broken.mp4")  # first in name order
    for name in SHORT:
        shutil.copy(assets / "zh-speech" / name, folder / name)
    out = tmp_path / "out"
    result = runner.invoke(app, [*_args(folder, out, package_dir), "--fail-fast"])
    assert result.exit_code == 1, result.output
    report = _report(out)
    assert [e["name"] for e in report["episodes"]] == ["a broken"]  # type: ignore[attr-defined]
    assert "cannot read as media" in report["episodes"][0]["error"]  # type: ignore[index]
    assert report["not_run"] == [n[:-4] for n in SHORT]
    assert "not run" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["a broken", B.REPORT_NAME]


@pytest.mark.model
@pytest.mark.assets
@pytest.mark.slow
def test_second_live_batch_refused_then_sigterm_stops_cleanly_and_resumes(
    assets: Path, package_dir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in SHORT:
        shutil.copy(assets / "zh-speech" / name, folder / name)
    shutil.copy(assets / "zh-speech" / SHORT[0], folder / "z last.wav")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "dubkit", *_args(folder, out, package_dir)]
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        _second_batch_refused_then_sigterm(proc, folder, out, package_dir)
    finally:  # (a process left running fails the worker's next test with a ResourceWarning)
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def _holds_lock(lock: Path, pid: int) -> bool:
    """The lock file names `pid`: written after flock(2) succeeded. The file itself appears
    before (open, then flock): a batch frozen between the two holds no lock, and a second
    batch then ran every episode itself (seen under load)."""
    try:
        return f'"pid": {pid},' in lock.read_text(encoding="utf-8")
    except FileNotFoundError:
        return False


def _second_batch_refused_then_sigterm(
    proc: subprocess.Popen[bytes], folder: Path, out: Path, package_dir: Path
) -> None:
    lock = out / B.LOCK_NAME
    deadline = time.monotonic() + 60
    while not _holds_lock(lock, proc.pid) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    # frozen while the second batch asks: on a loaded machine the in-process invoke took long
    # enough for the first batch to finish all three episodes before the SIGTERM (CI, stop 20)
    proc.send_signal(signal.SIGSTOP)
    try:
        second = runner.invoke(app, _args(folder, out, package_dir))
    finally:
        proc.send_signal(signal.SIGCONT)
    assert second.exit_code == 1
    lines = second.output.strip().splitlines()
    assert len(lines) == 1 and f"pid {proc.pid}" in lines[0], second.output
    assert "another batch" in lines[0]

    second_started = out / SHORT[1][:-4]  # made once the first episode is recorded as done
    while not second_started.is_dir() and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 143, output.decode()
    report = _report(out)
    assert report["status"] == "interrupted" and report["interrupted"] == "SIGTERM"
    done = [e["name"] for e in report["episodes"] if e["status"] == "done"]  # type: ignore[attr-defined]
    assert SHORT[0][:-4] in done
    assert all(e["status"] == "done" for e in report["episodes"])  # type: ignore[attr-defined]
    assert "z last" in report["not_run"]  # type: ignore[operator]
    assert sorted([*done, *report["not_run"]]) == sorted([n[:-4] for n in SHORT] + ["z last"])  # type: ignore[misc]
    assert list(out.rglob("*.tmp")) == [] and not lock.exists()

    again = runner.invoke(app, _args(folder, out, package_dir))
    assert again.exit_code == 0, again.output
    assert _report(out)["done"] == 3
    assert {f"{SHORT[0][:-4]}/{s}" for s in B.STAGES} <= set(_report(out)["skipped"])  # type: ignore[arg-type]


@pytest.mark.model
@pytest.mark.assets
@pytest.mark.slow
def test_ctrl_c_with_worker_processes_stops_cleanly_and_resumes(
    assets: Path, package_dir: Path, tmp_path: Path
) -> None:
    """Ctrl-C (SIGINT) on a two-worker run: workers ignore it and finish their episode, the
    parent stops submitting, writes the report and exits 130; a re-run completes the rest."""
    folder = tmp_path / "in"
    folder.mkdir()
    for n in range(4):
        shutil.copy(assets / "zh-speech" / SHORT[n % len(SHORT)], folder / f"ep{n}.wav")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "dubkit", *_args(folder, out, package_dir, "--jobs", "2")]
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        # as from a terminal: a suite started in the background (`&`) inherits Ctrl-C ignored,
        # and a batch rightly leaves an ignored SIGINT ignored
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    deadline = time.monotonic() + 90
    while not list(out.glob("*/.dubkit/manifest.json")) and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=90)
    assert proc.returncode == 130, output.decode()
    report = _report(out)
    assert report["status"] == "interrupted"
    episodes = report["episodes"]
    assert all(e["status"] == "done" for e in episodes)  # type: ignore[attr-defined]
    assert list(out.rglob("*.tmp")) == [] and not (out / B.LOCK_NAME).exists()
    again = runner.invoke(app, _args(folder, out, package_dir, "--jobs", "2"))
    assert again.exit_code == 0, again.output
    assert _report(out)["done"] == 4


# ------------------------------------------------------------- one engine for run and batch


def _outputs(folder: Path) -> dict[str, bytes]:
    """Every file a stage wrote, by relative path (batch's state aside), with the creation
    stamps of JSON and workbook files taken out; in STEM.run.json also what differs between
    any two runs: how long each stage took, and the output folder the paths are in (run and
    batch were given different ones)."""
    from dubkit.fsutil import display_path

    found: dict[str, bytes] = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if not path.is_file() or rel.startswith(".dubkit/"):
            continue
        data = path.read_bytes()
        if rel.endswith(".run.json"):
            where = json.dumps(display_path(folder))[1:-1]  # as JSON writes it
            data = data.replace(where.encode(), b"OUT")
        if path.suffix == ".json":
            doc = json.loads(data)
            doc.pop("created", None)
            if rel.endswith(".run.json"):
                doc.pop("seconds")
                translated = doc["stages"]["translate"]
                for timed in (doc["stages"]["transcribe"], translated, *translated["steps"]):
                    timed.pop("seconds")
            data = json.dumps(doc, ensure_ascii=False, sort_keys=True).encode()
        elif path.suffix == ".xlsx":
            from openpyxl import load_workbook

            book = load_workbook(path)
            cells = [[c.value for c in row] for sheet in book for row in sheet.iter_rows()]
            data = json.dumps(cells, ensure_ascii=False, default=str).encode()
        found[rel] = data
    return found


@pytest.mark.model
@pytest.mark.assets
@pytest.mark.slow
def test_run_and_batch_write_the_same_files_and_both_honour_approved_lines(
    assets: Path, package_dir: Path, tmp_path: Path, base_model_dir: Path
) -> None:
    from dubkit.translate.memory import SqliteMemory

    clip = tmp_path / "in" / "ep.wav"
    clip.parent.mkdir()
    shutil.copy(assets / "zh-speech" / "funasr_asr_example.wav", clip)
    common = [
        "--packages", str(package_dir), "--device", "cpu", "-g", str(CPEC),
        "--beam-size", "2", "--digits", "urdu", "--handles", "100", "--threads", "1",
    ]  # fmt: skip
    # learn the texts the route translates, then approve one of them in a fresh memory
    probe = tmp_path / "probe.sqlite"
    first = runner.invoke(
        app, ["run", str(clip), "-o", str(tmp_path / "probe"), "--memory", str(probe), *common]
    )
    assert first.exit_code == 0, first.output
    with SqliteMemory(probe) as m:
        sources = [s for s, _, origin, _ in m.pairs("zh", "ur") if origin == "mt"]
    assert sources
    approved = "منظور شدہ سطر"
    # one memory each, alike: run's lines, cached, would be batch's memory hits
    memory, memory_batch = tmp_path / "memory.sqlite", tmp_path / "memory-batch.sqlite"
    for path in (memory, memory_batch):
        with SqliteMemory(path) as m:
            m.approve("zh", "ur", {sources[0]: approved}, note="test")

    ran = tmp_path / "run"
    result = runner.invoke(
        app, ["run", str(clip), "-o", str(ran), "--memory", str(memory), *common]
    )
    assert result.exit_code == 0, result.output
    batched = tmp_path / "batch"
    result = runner.invoke(
        app, ["batch", str(clip), "-o", str(batched), "--memory", str(memory_batch), *common]
    )
    assert result.exit_code == 0, result.output

    from_run, from_batch = _outputs(ran), _outputs(batched / "ep")
    assert sorted(from_run) == sorted(from_batch)
    assert {
        "ep.zh.srt", "ep.asr.json", "ep.ur.srt", "ep.qa.json", "ep.dubscript.xlsx", "ep.run.json"
    } <= set(from_run)  # fmt: skip
    assert any(name.startswith("clips/ep/") for name in from_run)
    for name, data in from_run.items():
        assert from_batch[name] == data, name
    assert approved in (ran / "ep.ur.srt").read_text(encoding="utf-8")
    asr = json.loads((batched / "ep" / "ep.asr.json").read_text(encoding="utf-8"))
    assert asr["glossary"]["terms"].startswith("cpec-media ")  # recognition saw the glossary
    assert asr["options"]["beam_size"] == 2  # and run's options

    # a line approved after the batch ran translates the episode again on resume
    again_line = "دوسری منظور شدہ سطر"
    with SqliteMemory(memory_batch) as m:
        m.approve("zh", "ur", {sources[-1]: again_line}, note="test")
    result = runner.invoke(
        app, ["batch", str(clip), "-o", str(batched), "--memory", str(memory_batch), *common]
    )
    assert result.exit_code == 0, result.output
    stages = _by_name(batched)["ep"]["stages"]
    assert stages == {"transcribe": "skipped", "translate": "ran", "dub": "ran"}
    assert again_line in (batched / "ep" / "ep.ur.srt").read_text(encoding="utf-8")
