"""Shared fixtures: real assets, the real whisper:base model, generated media."""

from __future__ import annotations

import functools
import importlib.abc
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT.parent / "shared" / "assets"
CPEC = ROOT / "glossaries" / "cpec-media.yaml"  # the shipped glossary
DEV_TERMS = ROOT / "tests" / "data" / "zh-dev-terms.yaml"  # the zh-dev clips' terms
IN_CI = bool(os.environ.get("CI"))


def _missing(reason: str) -> None:
    """Skip locally, fail in CI: CI must never silently skip the real-data tests."""
    if IN_CI:
        pytest.fail(f"{reason} (required when CI is set)")
    pytest.skip(reason)


# Markers follow the fixtures a test uses, so `-m "not model"` leaves out exactly the tests
# that load Whisper, and `-m "not assets"` those that read ../shared/assets.
_MARK_BY_FIXTURE = {
    "base_model_dir": "model",
    "transcriber": "model",
    "assets": "assets",
    "speech_wav": "assets",
}


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # before pytest-xdist starts its workers
        _cache_bytecode()
    _build_each_cli_once()
    _after_import("dubkit.adapters.render", _convert_each_text_once)
    if hasattr(config, "workerinput"):  # a pytest-xdist worker: one core of its own
        _after_import("onnxruntime", _one_onnxruntime_thread)
        config.pluginmanager.register(_HeaviestModulesFirst(), "dubkit-heaviest-modules-first")
    if hasattr(config, "workerinput") or not (
        getattr(config.option, "numprocesses", None) or getattr(config.option, "tx", None)
    ):  # a worker, or a run without workers (not the controller: its workers decide)
        _one_openmp_thread()


def _one_openmp_thread() -> None:
    """CTranslate2 (Whisper, the Argos models) and numpy's BLAS run OpenMP threads, a thread
    a core where they are asked for none in particular. Every test process, and every
    process it starts, runs one instead (a user's own OMP_NUM_THREADS is kept):
    - Whisper's text depends on the thread count, and the recognition bounds were measured
      on one thread. On two, run without workers, the terminology clips kept all their terms
      in 4 of 6 against the bound of 5, even with CTranslate2 itself told one thread (AMD
      EPYC, 2026-12-07; docs/recognition.md). With `-n auto`, pytest-xdist starts a worker
      per physical core: on a machine with two threads a core each worker used to get two.
    - With a worker on each core, the workers' threads spun against each other (libgomp
      busy-waits between operations). Measured on the 70 s seminar alone: 9.4 s of CPU on
      one thread against 11-13 s on two, for 0.3-0.6 s more wall time."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def _cache_bytecode() -> None:
    """Where PYTHONDONTWRITEBYTECODE is set (this project's machines set it), every Python
    process the suite starts (each xdist worker, about 60 `python -m dubkit` children, the
    zygote, the measured children) compiled dubkit's modules again, 0.15 s each, and each
    worker rewrote every test module's asserts again. The suite lets Python keep bytecode
    as it does by default: in `__pycache__` beside dubkit's and the tests' sources (ignored
    by git); the virtual environment's own bytecode, written when it was installed, is
    read as it is. (A PYTHONPYCACHEPREFIX would compile the standard library and every
    dependency again into a second tree, 105 MB, and put it where the user's setting
    said nothing should go.)"""
    if os.environ.pop("PYTHONDONTWRITEBYTECODE", None) is not None:
        sys.dont_write_bytecode = False


class _AfterImport(importlib.abc.MetaPathFinder):
    """Calls `then(module)` once `name` has been imported, where it is first imported (a
    test that needs it): importing it up front would cost every worker its import time."""

    def __init__(self, name: str, then: Callable[[ModuleType], None]) -> None:
        self.name, self.then = name, then

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != self.name:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            load, then = spec.loader.exec_module, self.then

            def exec_module(module: ModuleType) -> None:
                load(module)
                then(module)

            spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def _after_import(name: str, then: Callable[[ModuleType], None]) -> None:
    """`then(module)` now if `name` is imported already (a plugin did), else when it is."""
    if name in sys.modules:
        then(sys.modules[name])
    else:
        sys.meta_path.insert(0, _AfterImport(name, then))


def _one_onnxruntime_thread(onnxruntime: ModuleType) -> None:
    """onnxruntime sessions (RapidOCR's, in `dubkit ocr` and the tests that read frames) get
    one intra-op thread, where they ask for none in particular: by default a session takes
    a thread per core, so with a worker on each core the workers' threads spun against each
    other. The text read is the same; it costs a quarter less CPU, and setting a session up
    0.1 s instead of 1 s."""
    session = onnxruntime.InferenceSession
    init = session.__init__

    def one_thread(
        self: Any, path_or_bytes: Any, sess_options: Any = None, *a: Any, **k: Any
    ) -> None:
        if sess_options is None:
            sess_options = onnxruntime.SessionOptions()
        if sess_options.intra_op_num_threads == 0:  # 0: onnxruntime's default, a thread a core
            sess_options.intra_op_num_threads = 1
        init(self, path_or_bytes, sess_options, *a, **k)

    session.__init__ = one_thread


def _build_each_cli_once() -> None:
    """typer's CliRunner rebuilds the click command from every command's signature on each
    invoke: 55 ms for dubkit's app, about a quarter of the `-m "not model"` tier. Click
    commands are reusable (each invoke makes its own context), so each app is built once."""
    import typer.main
    import typer.testing

    assert hasattr(typer.testing, "_get_command"), "typer changed: update _build_each_cli_once"
    typer.testing._get_command = functools.cache(typer.main.get_command)  # type: ignore[attr-defined]


def _convert_each_text_once(render: ModuleType) -> None:
    """`dubkit preview` and `burn` have ffmpeg read an SRT or WebVTT as ASS: 0.15 s of CPU to
    start it, and the tests converted 7 texts 45 times (a command converts its file once,
    so dubkit itself keeps nothing). A test process keeps each conversion that succeeded,
    by ffmpeg's path, kind and text; a failure is not kept, so it is met again."""
    convert = render._to_ass
    kept: dict[tuple[str, str, str], str] = {}

    def once(path: Path, text: str, kind: str) -> str:
        key = (render.ffmpeg_path(), kind, text)
        if key not in kept:
            kept[key] = convert(path, text, kind)
        return kept[key]

    render._to_ass = once


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        for fixture, mark in _MARK_BY_FIXTURE.items():
            if fixture in used and mark not in {m.name for m in item.iter_markers()}:
                item.add_marker(getattr(pytest.mark, mark))


class _HeaviestModulesFirst:
    """With `--dist loadscope` each module runs whole on one worker (its module fixtures are
    built once), handed out in collection order: the modules with the most heavy tests go
    first, so that a long one does not start last and leave the other worker idle. A test
    is heavy when it is marked `slow` or `model` (each of those decodes real audio with
    whisper:base: seconds, where most tests take a fraction of one). Counting `slow` alone
    sent test_transcribe's 21 model tests (85 s) out last: 667 s for the whole suite here
    against 590 s for the other worker; this order simulates to 626 s on the same timings.
    It runs last, after `-m` and `-k` have left out what will not run (and after the markers
    above were added), and groups by module as loadscope does, by the node id's file."""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        heavy: dict[str, int] = {}
        for item in items:
            module = item.nodeid.split("::")[0]
            marked = any(item.get_closest_marker(mark) is not None for mark in ("slow", "model"))
            heavy[module] = heavy.get(module, 0) + marked
        rank = {module: n for n, module in enumerate(sorted(heavy, key=lambda m: -heavy[m]))}
        items.sort(key=lambda item: rank[item.nodeid.split("::")[0]])


@pytest.fixture(scope="session")
def assets() -> Path:
    if not ASSETS.is_dir():
        _missing(f"shared assets not found at {ASSETS}")
    return ASSETS


@pytest.fixture(scope="session")
def base_model_dir() -> Path:
    from dubkit.errors import ModelUnavailable
    from dubkit.models.store import resolve_model

    try:
        return resolve_model("whisper:base")[1]
    except ModelUnavailable as exc:
        _missing(f"{exc}")
        raise


@pytest.fixture(scope="session")
def transcriber(base_model_dir: Path):  # type: ignore[no-untyped-def]
    from dubkit.adapters.whisper import WhisperTranscriber

    return WhisperTranscriber.load("whisper:base", base_model_dir, device="cpu")


@pytest.fixture(scope="session")
def ffmpeg() -> str:
    path = shutil.which("ffmpeg")
    if path is None:
        _missing("ffmpeg not installed (scripts/bootstrap.sh installs it)")
    assert path is not None
    return path


def run_ffmpeg(ffmpeg: str, *args: str) -> None:
    subprocess.run(
        [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", *args],
        check=True,
        capture_output=True,
    )


def looped_flac(ffmpeg: str, folder: Path, minutes: int, source: str) -> Path:
    """`minutes` of FLAC made quickly: one minute of the lavfi `source` encoded in blocks of
    32,768 samples (decoded in a seventh of the pieces of the default 4,608), its packets
    copied `minutes` times (encoding an hour took 4.5 s)."""
    minute, programme = folder / "minute.flac", folder / f"{minutes}-minutes.mka"
    run_ffmpeg(ffmpeg, "-f", "lavfi", "-i", source, "-t", "60", "-c:a", "flac",
               "-frame_size", "32768", minute.as_posix())  # fmt: skip
    run_ffmpeg(ffmpeg, "-stream_loop", str(minutes - 1), "-i", minute.as_posix(), "-c", "copy",
               programme.as_posix())  # fmt: skip
    return programme


_PEAK = (
    "def peak():\n"  # VmHWM: ru_maxrss keeps the forking pytest worker's peak across exec
    "    status = open('/proc/self/status').read().split('VmHWM:')[1]\n"
    "    return int(status.split()[0]) // 1024\n"
)


def measured_child(script: str, *args: str) -> list[str]:
    """The words `script` prints, run in a fresh Python with `args`; it may call `peak()`,
    its own peak resident memory in MB so far."""
    done = subprocess.run(
        [sys.executable, "-c", _PEAK + script, *args],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    return done.stdout.split()


def one_error_line(result: Any) -> str:
    """The one `error: ` line of a CliRunner result that failed with exit 1 and printed
    nothing on stdout."""
    assert result.exit_code == 1, result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert result.stdout == ""
    return lines[0]


def probe_av(ffmpeg: str, path: Path) -> tuple[int, float, str]:
    """(frames counted by decoding, duration in seconds, MD5 of the sound's packets)."""
    ffprobe = str(Path(ffmpeg).with_name("ffprobe"))
    frames, duration = subprocess.run(
        [ffprobe, "-v", "error", "-count_frames", "-select_streams", "v:0",
         "-show_entries", "stream=nb_read_frames:format=duration", "-of", "csv=p=0", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    sound = subprocess.run(
        [ffmpeg, "-hide_banner", "-loglevel", "error", "-i", str(path), "-map", "0:a",
         "-c", "copy", "-f", "md5", "-"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    return int(frames), float(duration), sound


def frame_rgb(path: Path, at: float | None = None) -> Any:
    """The frame of a PNG, or of a video at `at` seconds, as an int array (H, W, 3)."""
    import av

    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if at is None or frame.time >= at:
                return frame.to_ndarray(format="rgb24").astype(int)
    raise AssertionError(f"{path}: no frame at {at}")


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture
def canned(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[[tuple[Any, ...]], None]:
    """`dubkit run`, `transcribe` and in-process `batch` with a recogniser that hears what
    the test says (tests/canned.py): `canned(segments)`; no model is looked up or loaded."""
    from dubkit.adapters.whisper import WhisperTranscriber
    from dubkit.models import store
    from tests.canned import CannedTranscriber

    monkeypatch.setattr(store, "resolve_model", lambda name: ("whisper:canned", tmp_path))

    def hear(segments: tuple[Any, ...]) -> None:
        def load(cls: type, *args: Any, **kwargs: Any) -> CannedTranscriber:
            return CannedTranscriber(segments)

        monkeypatch.setattr(WhisperTranscriber, "load", classmethod(load))

    return hear


@pytest.fixture(scope="session")
def speech_wav(assets: Path) -> Path:
    """A short real Mandarin recording (gold reference)."""
    return assets / "zh-speech" / "funasr_asr_example.wav"


@pytest.fixture(scope="session")
def silence_wav(ffmpeg: str, media_dir: Path) -> Path:
    out = media_dir / "silence.wav"
    run_ffmpeg(ffmpeg, "-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "8", out.as_posix())
    return out


@pytest.fixture(scope="session")
def video_only(ffmpeg: str, media_dir: Path) -> Path:
    out = media_dir / "picture only.mp4"
    run_ffmpeg(
        ffmpeg, "-f", "lavfi", "-i", "testsrc=size=160x120:rate=25", "-t", "2",
        "-c:v", "libx264", "-pix_fmt", "yuv420p", out.as_posix(),
    )  # fmt: skip
    return out


@pytest.fixture(scope="session")
def zero_length_wav(ffmpeg: str, media_dir: Path) -> Path:
    """A valid WAV header with no samples."""
    out = media_dir / "zero.wav"
    run_ffmpeg(ffmpeg, "-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "0", out.as_posix())
    return out


@pytest.fixture(scope="session")
def corrupt_file(media_dir: Path) -> Path:
    out = media_dir / "corrupt.mp4"
    out.write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(4096))
    return out


@pytest.fixture(scope="session")
def english_wav(media_dir: Path) -> Path:
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        _missing("espeak-ng not installed (scripts/bootstrap.sh installs it)")
    assert espeak is not None
    out = media_dir / "english.wav"
    text = (
        "Good evening. This is the news. The weather will be sunny tomorrow across the "
        "country, with light winds in the north and rain in the south later in the week."
    )
    subprocess.run([espeak, "-v", "en-us", "-s", "150", "-w", out.as_posix(), text], check=True)
    return out


# ------------------------------------------------------------------ translation packages


@pytest.fixture(scope="session")
def argos_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny valid .argosmodel files (random weights: they translate babble), built once per
    run: under xdist the first worker to ask builds them (3 s) and the others wait and read
    them (tests must not change these files)."""
    import fcntl

    from tests.argos_factory import build_package

    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the run's folder, above each worker's own
    out, built = base / "argos-files", base / "argos-files.json"
    with (base / "argos-files.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not built.exists():
            out.mkdir(exist_ok=True)
            files = {
                "zh-en": build_package(out, "zh", "en", seed=1),
                "en-ur": build_package(out, "en", "ur", seed=2),
                "zh-ur": build_package(out, "zh", "ur", seed=3),
            }
            built.write_text(json.dumps({k: str(v) for k, v in files.items()}))
    return {k: Path(v) for k, v in json.loads(built.read_text()).items()}


@pytest.fixture(autouse=True)
def isolated_packages(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Every test sees an empty dubkit package store, an empty Argos folder and an empty
    translation memory, never the machine's own; DUBKIT_HOME stays (it holds the Whisper
    model)."""
    return isolate_packages(monkeypatch, tmp_path)


def isolate_packages(monkeypatch: pytest.MonkeyPatch, root: Path) -> Path:
    """What `isolated_packages` does, under `root`: for a fixture wider than one test."""
    from dubkit.models import packages
    from dubkit.translate import memory

    store = root / "dubkit-packages"
    monkeypatch.setattr(packages, "store_dir", lambda: store)
    monkeypatch.setattr(packages, "cache_dir", lambda: root / "dubkit-cache")
    monkeypatch.setenv("ARGOS_PACKAGES_DIR", str(root / "argos-packages"))
    monkeypatch.delenv("DUBKIT_PACKAGES", raising=False)
    monkeypatch.delenv("DUBKIT_ARGOS_INDEX", raising=False)
    monkeypatch.delenv("ARGOS_PACKAGE_INDEX", raising=False)
    # nor the machine's translation memory: a test without --memory gets its own
    monkeypatch.setattr(memory, "default_path", lambda: root / "memory.sqlite")
    return store


@pytest.fixture
def pivot_route(argos_files: dict[str, Path], isolated_packages: Path) -> Path:
    """zh→en and en→ur installed in the (isolated) dubkit store."""
    install_pivot(argos_files)
    return isolated_packages


def install_pivot(argos_files: dict[str, Path]) -> None:
    """The test packages zh→en and en→ur, into the dubkit store in use."""
    from dubkit.adapters.modelfiles import MODEL_FILES
    from dubkit.models.packages import install_archive

    for pair in ("zh-en", "en-ur"):
        install_archive(argos_files[pair], checks=MODEL_FILES)


_NETWORK_BLOCKED: list[str] = []


def _audit(event: str, args: tuple[object, ...]) -> None:
    if _NETWORK_BLOCKED and event in ("socket.connect", "socket.getaddrinfo", "socket.bind"):
        raise ConnectionRefusedError(f"network use in a test that must stay offline: {args}")


sys.addaudithook(_audit)


@pytest.fixture
def no_network() -> Iterator[None]:
    """Any socket connect, bind or name lookup fails while this fixture is active."""
    _NETWORK_BLOCKED.append("on")
    try:
        yield
    finally:
        _NETWORK_BLOCKED.clear()


def capped_dubkit(
    *args: str,
    cwd: Path,
    memory: int = 2**30,
    timeout: float = 20,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`python -m dubkit ARGS` in a child process whose address space is capped at `memory`
    bytes and which must end within `timeout` s (TimeoutExpired fails the test): a hostile
    input that makes a command hang or grow without bound fails the test instead of taking
    the machine. `env` (default: this process's) gets this checkout on PYTHONPATH.

    The child is forked from tests/zygote.py, which has the libraries dubkit starts with
    already imported (0.5 s a command otherwise); `python -m dubkit` started from nothing is
    tested where that is the point (stdout on a closed pipe or a full device, --help)."""
    env = {**(os.environ if env is None else env), "PYTHONPATH": str(ROOT)}
    return _ZYGOTE.run(list(args), cwd, memory, timeout, env)


class _Zygote:
    """This test process's tests/zygote.py, started on first use, ended with the session."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None

    def run(
        self, args: list[str], cwd: Path, memory: int, timeout: float, env: dict[str, str]
    ) -> subprocess.CompletedProcess[str]:
        import signal
        import tempfile

        if self.proc is None or self.proc.poll() is not None:
            self.proc = subprocess.Popen(
                [sys.executable, str(ROOT / "tests" / "zygote.py")],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )  # fmt: skip
        assert self.proc.stdin is not None and self.proc.stdout is not None
        cmd = [sys.executable, "-m", "dubkit", *args]
        with tempfile.TemporaryDirectory(prefix="dubkit-capped-") as tmp:
            out, err = Path(tmp, "stdout"), Path(tmp, "stderr")
            out.touch()
            err.touch()
            job = {"args": args, "cwd": str(cwd), "env": env, "memory": memory,
                   "pythonpath": str(ROOT), "stdout": str(out), "stderr": str(err)}  # fmt: skip
            self.proc.stdin.write(json.dumps(job).encode() + b"\n")
            pid = int(self._line(None))
            try:
                code = int(self._line(timeout))
            except TimeoutError:
                os.killpg(pid, signal.SIGKILL)
                self._line(None)
                raise subprocess.TimeoutExpired(cmd, timeout) from None
            return subprocess.CompletedProcess(cmd, code, _text(out), _text(err))

    def _line(self, timeout: float | None) -> bytes:
        """One line from the zygote, read a byte at a time (a buffered read could take the
        next line too, and select would then wait for data already read)."""
        import select
        import time

        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = None if timeout is None else time.monotonic() + timeout
        line = b""
        while not line.endswith(b"\n"):
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not select.select([fd], [], [], left)[0]:
                raise TimeoutError
            byte = os.read(fd, 1)
            if not byte:
                raise RuntimeError("tests/zygote.py ended; its error is above")
            line += byte
        return line

    def close(self) -> None:
        if self.proc is not None:
            self.proc.communicate(timeout=10)  # EOF on its stdin ends it


def _text(path: Path) -> str:
    """A file's bytes as subprocess.run(text=True) gives a child's output."""
    import locale

    data = path.read_bytes().decode(locale.getpreferredencoding(False))
    return data.replace("\r\n", "\n").replace("\r", "\n")


_ZYGOTE = _Zygote()


def pytest_unconfigure(config: pytest.Config) -> None:
    _ZYGOTE.close()


# ------------------------------------------------------------------ a package index server


class PackageServer:
    """An HTTP server on 127.0.0.1 for package indexes and downloads. `routes` maps a path to
    a handler function; `data` serves bytes at a path; a path in `truncate` sends its headers
    and half its body, then hangs up; `hits` lists the paths asked for."""

    def __init__(self) -> None:
        import contextlib
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.routes: dict[str, Any] = {}
        self.truncate: set[str] = set()
        self.hits: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits.append(self.path)
                route = server.routes.get(self.path.split("?")[0])
                if route is None:
                    self.send_error(404)
                    return
                with contextlib.suppress(OSError):  # the client hung up: what limits are for
                    route(self)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        ).start()

    def data(self, path: str, body: bytes) -> str:
        """Serve `body` at `path`; its URL."""

        def send(h: Any) -> None:
            h.send_response(200)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            if path in self.truncate:
                h.wfile.write(body[: len(body) // 2])
                h.wfile.flush()
                h.close_connection = True
                return
            h.wfile.write(body)

        self.routes[path] = send
        return self.url + path

    def index(self, entries: list[Any]) -> str:
        return self.data("/index.json", json.dumps(entries).encode())

    def entry(self, pair: str, archive: Path, **extra: object) -> dict[str, object]:
        """An Argos index entry for `pair` ("zh-en") whose first link serves `archive`."""
        source, target = pair.split("-")
        return {
            "package_version": "1.9",
            "argos_version": "1.9.0",
            "from_code": source,
            "from_name": source,
            "to_code": target,
            "to_name": target,
            "links": [
                self.data(f"/v1/{archive.name}", archive.read_bytes()),
                "ipfs://QmNotFetched",
            ],
            "code": f"translate-{source}_{target}",
            **extra,
        }

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[PackageServer]:
    s = PackageServer()
    try:
        yield s
    finally:
        s.close()
