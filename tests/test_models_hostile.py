"""Translation packages and their index treated as hostile input (issue 13): JSON nested to
exhaust the recursion limit or too large, index entries of the wrong shape, zip bombs, endless
or trickling downloads, and --threads values CTranslate2 cannot take.

Each must end in exit code 1 and one line (or be handled: a broken package is a row of
`models list`, a malformed index entry a notice), within seconds, writing nothing outside the
store. Limits are lowered with monkeypatch so that the tests take a second or two.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import socket
import threading
import time
import zipfile
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dubkit import constants as C
from dubkit.adapters.modelfiles import MODEL_FILES
from dubkit.cli import app
from dubkit.errors import ModelUnavailable
from dubkit.models import packages
from dubkit.models.packages import install_archive, installed_packages, read_package
from tests.conftest import PackageServer, capped_dubkit

runner = CliRunner()
DEEP = "[" * 100_000


def _one_line(result: Any) -> str:
    """The single line a failed command printed (no traceback)."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    return str(lines[0])


def _top(archive: Path) -> str:
    with zipfile.ZipFile(archive) as zf:
        return zf.namelist()[0].split("/")[0]


def _unpack(archive: Path, into: Path) -> Path:
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(into)
    return into / _top(archive)


def _store_is_clean(store: Path) -> bool:
    return not store.exists() or not any(store.iterdir())


# ------------------------------------------------------------- 1. hostile JSON in dubkit/models


def test_deep_metadata_is_a_broken_row_of_models_list(
    argos_files: dict[str, Path], tmp_path: Path
) -> None:
    argos_dir = tmp_path / "argos-packages"
    _unpack(argos_files["zh-en"], argos_dir)
    deep = _unpack(argos_files["en-ur"], argos_dir)
    (deep / "metadata.json").write_text(DEEP, encoding="utf-8")
    with pytest.raises(ModelUnavailable, match=r"metadata\.json is not valid JSON") as err:
        read_package(deep)
    assert "\n" not in str(err.value)
    assert [p.pair for p in installed_packages()] == ["zh-en"]
    listing = runner.invoke(app, ["models", "list", "--json"])
    assert listing.exit_code == 0, listing.output
    doc = json.loads(listing.stdout)
    assert [p["pair"] for p in doc["translation_packages"]] == ["zh-en"]
    ((path, why),) = doc["broken_packages"]
    assert path == str(deep) and "nested too deeply" in why
    table = runner.invoke(app, ["models", "list"])
    assert table.exit_code == 0, table.output
    assert "broken" in table.stdout and "Traceback" not in table.output


def test_deep_metadata_does_not_stop_translate(
    pivot_route: Path, tmp_path: Path, argos_files: dict[str, Path]
) -> None:
    deep = _unpack(argos_files["zh-ur"], tmp_path / "argos-packages")
    (deep / "metadata.json").write_text(DEEP, encoding="utf-8")
    srt = tmp_path / "a.srt"
    srt.write_text("1\n00:00:01,000 --> 00:00:02,000\n你好世界\n", encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(app, ["translate", str(srt), "-o", str(out), "--no-cache"])
    assert result.exit_code == 0, result.output
    assert (out / "a.ur.srt").is_file()


def test_oversized_metadata_is_refused_unread(
    argos_files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(C, "MAX_PACKAGE_JSON_BYTES", 4096)
    big = _unpack(argos_files["zh-en"], tmp_path / "argos-packages")
    meta = json.loads((big / "metadata.json").read_text(encoding="utf-8"))
    (big / "metadata.json").write_text(json.dumps(meta) + " " * 8192, encoding="utf-8")
    with pytest.raises(ModelUnavailable, match=r"too large .*at most 4,096") as err:
        read_package(big)
    assert "\n" not in str(err.value)


def test_metadata_that_is_a_fifo_does_not_hang_models_list(
    argos_files: dict[str, Path], tmp_path: Path
) -> None:
    """Reading a FIFO blocks for ever: `models list` runs in a child with a timeout (forked
    by capped_dubkit, which fails the test when the child outlives it)."""
    argos_dir = tmp_path / "argos-packages"
    folder = _unpack(argos_files["zh-en"], argos_dir)
    (folder / "metadata.json").unlink()
    os.mkfifo(folder / "metadata.json")
    env = {**os.environ, "ARGOS_PACKAGES_DIR": str(argos_dir), "DUBKIT_HOME": str(tmp_path)}
    done = capped_dubkit("models", "list", "--json", cwd=tmp_path, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    ((path, why),) = json.loads(done.stdout)["broken_packages"]
    assert path == str(folder) and "a FIFO" in why


def test_deep_manifest_falls_back_to_hashing(argos_files: dict[str, Path]) -> None:
    package = install_archive(argos_files["zh-en"], checks=MODEL_FILES)
    expected = package.fingerprint()
    packages._FINGERPRINTS.clear()
    (package.path / packages.MANIFEST).write_text(DEEP, encoding="utf-8")
    assert package.fingerprint() == expected


def test_deep_argos_settings_fall_back_to_the_default_folder(
    argos_files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ARGOS_PACKAGES_DIR")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    settings = tmp_path / "config" / "argos-translate" / "settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_text(DEEP, encoding="utf-8")
    _unpack(argos_files["zh-en"], tmp_path / "data" / "argos-translate" / "packages")
    assert [p.pair for p in installed_packages()] == ["zh-en"]


def test_deep_whisper_manifest_is_a_broken_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DUBKIT_HOME", str(tmp_path / "home"))
    folder = tmp_path / "home" / "models" / "whisper" / "odd"
    folder.mkdir(parents=True)
    for name in ("model.bin", "config.json"):
        (folder / name).write_bytes(b"x")
    (folder / "dubkit-model.json").write_text(DEEP, encoding="utf-8")
    listing = runner.invoke(app, ["models", "list", "--json"])
    assert listing.exit_code == 0, listing.output
    rows = {row["name"]: row for row in json.loads(listing.stdout)["models"]}
    assert rows["whisper:odd"]["status"] == "broken: no manifest"


def _downloads_are_clean(store: Path) -> bool:
    downloads = store.parent / "dubkit-cache" / "downloads"
    return not downloads.exists() or not any(downloads.iterdir())


def test_deep_index_is_one_line(server: PackageServer) -> None:
    url = server.data("/index.json", DEEP.encode())
    line = _one_line(runner.invoke(app, ["models", "pull", "argos:zh-en", "--index", url]))
    assert "package index is not valid JSON" in line and "nested too deeply" in line


def test_oversized_index_is_refused(server: PackageServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(C, "MAX_INDEX_BYTES", 1000)
    url = server.data("/index.json", b"[" + b" " * 5000 + b"]")
    line = _one_line(runner.invoke(app, ["models", "pull", "argos:zh-en", "--index", url]))
    assert "larger than the limit of 1,000 bytes" in line


# ----------------------------------------------------------- 2. index entries of the wrong shape

MALFORMED = [
    ("links-null", {"links": None}, "links"),
    ("links-number", {"links": 7}, "links"),
    ("links-string", {"links": "http://example.invalid/a.argosmodel"}, "links"),
    ("links-dict", {"links": {"http://example.invalid/a": 1}}, "links"),
    ("links-of-null", {"links": [None]}, "links"),
    ("code-null", {"code": None}, "code"),
    ("code-list", {"code": ["a"]}, "code"),
    ("version-null", {"package_version": None}, "package_version"),
    ("version-list", {"package_version": ["1", "9"]}, "package_version"),
    ("checksum-list", {"sha256": ["00"]}, "sha256"),
    ("size-text", {"size": "big"}, "size"),
]


@pytest.mark.parametrize(("case", "change", "field"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_index_entry_is_skipped_with_a_notice(
    case: str,
    change: dict[str, object],
    field: str,
    server: PackageServer,
    argos_files: dict[str, Path],
) -> None:
    bad = {**server.entry("zh-en", argos_files["zh-en"]), "package_version": "2.0", **change}
    url = server.index([bad, server.entry("zh-en", argos_files["zh-en"])])
    result = runner.invoke(app, ["models", "pull", "argos:zh-en", "--index", url])
    assert result.exit_code == 0, result.output
    (notice,) = [line for line in result.output.splitlines() if line.startswith("notice:")]
    assert "entry 1" in notice and field in notice and "skipped" in notice
    assert [(p.pair, p.version) for p in installed_packages()] == [("zh-en", "1.9")]


@pytest.mark.parametrize(("case", "change", "field"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_index_of_malformed_entries_only_is_one_line(
    case: str, change: dict[str, object], field: str, server: PackageServer
) -> None:
    entry = {"package_version": "1.9", "from_code": "zh", "to_code": "en", "links": []}
    url = server.index([{**entry, **change}])
    line = _one_line(runner.invoke(app, ["models", "pull", "argos:zh-en", "--index", url]))
    assert "no zh→en route" in line and "entry 1" in line and field in line


def test_malformed_entry_names_are_escaped(server: PackageServer) -> None:
    entry = {"from_code": "zh", "to_code": "en", "links": None, "code": "evil\x1b[31m\nname"}
    url = server.index(["not an entry", entry])
    line = _one_line(runner.invoke(app, ["models", "pull", "argos:zh-en", "--index", url]))
    assert "\x1b" not in line
    assert "entry 2" in line and r"evil\x1b[31m\nname" in line
    assert "2 malformed" in line


def test_link_that_is_not_a_url_is_dropped(
    server: PackageServer, argos_files: dict[str, Path]
) -> None:
    entry = server.entry("zh-en", argos_files["zh-en"])
    entry["links"] = ["http://[::1", *entry["links"]]  # type: ignore[misc]
    url = server.index([entry])
    result = runner.invoke(app, ["models", "pull", "argos:zh-en", "--index", url])
    assert result.exit_code == 0, result.output
    assert [p.pair for p in installed_packages()] == ["zh-en"]


# -------------------------------------------------------------------------------- 3. zip bombs


def _with_members(good: Path, dest: Path, members: dict[str, bytes], method: int) -> Path:
    shutil.copyfile(good, dest)
    with zipfile.ZipFile(dest, "a") as zf:
        for name, data in members.items():
            zf.writestr(f"{_top(good)}/{name}", data, compress_type=method, compresslevel=9)
    return dest


def test_member_of_zeros_is_refused_as_a_zip_bomb(
    argos_files: dict[str, Path], isolated_packages: Path, tmp_path: Path
) -> None:
    bomb = _with_members(
        argos_files["zh-en"],
        tmp_path / "bomb.argosmodel",
        {"model/padding.bin": bytes(8 * 2**20)},
        zipfile.ZIP_DEFLATED,
    )
    assert bomb.stat().st_size < 2 * 2**20
    line = _one_line(runner.invoke(app, ["models", "install", str(bomb)]))
    assert "model/padding.bin" in line and "zip bomb" in line
    assert _store_is_clean(isolated_packages)


def test_many_small_members_of_zeros_are_refused(
    argos_files: dict[str, Path], isolated_packages: Path, tmp_path: Path
) -> None:
    """Each member under the per-member floor; the archive as a whole a bomb."""
    small = {f"pad/{n}.bin": bytes(2**19) for n in range(256)}  # 128 MiB in about 200 KB
    bomb = _with_members(
        argos_files["zh-en"], tmp_path / "bombs.argosmodel", small, zipfile.ZIP_DEFLATED
    )
    with pytest.raises(ModelUnavailable, match="times its") as err:
        install_archive(bomb, checks=MODEL_FILES)
    assert "zip bomb" in str(err.value)
    assert _store_is_clean(isolated_packages)


def test_unpacked_size_cap(
    argos_files: dict[str, Path], isolated_packages: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(C, "MAX_PACKAGE_BYTES", 2**19)
    with pytest.raises(ModelUnavailable, match=r"unpack to 1,045,188 bytes, more than the 524,288"):
        install_archive(argos_files["zh-en"], checks=MODEL_FILES)
    assert _store_is_clean(isolated_packages)


def test_too_many_members(
    argos_files: dict[str, Path],
    isolated_packages: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(C, "PACKAGE_MAX_MEMBERS", 20)
    many = {f"junk/{n}.txt": b"x" for n in range(30)}
    crowded = _with_members(
        argos_files["zh-en"], tmp_path / "many.argosmodel", many, zipfile.ZIP_STORED
    )
    with pytest.raises(ModelUnavailable, match="36 members, more than the 20"):
        install_archive(crowded, checks=MODEL_FILES)
    assert _store_is_clean(isolated_packages)


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_bzip2_and_lzma_are_refused_before_reading(
    method: int, argos_files: dict[str, Path], isolated_packages: Path, tmp_path: Path
) -> None:
    """zipfile decompresses bzip2 and LZMA without a bound: 785 bytes of bzip2 are 1 GiB."""
    odd = _with_members(
        argos_files["zh-en"], tmp_path / "odd.argosmodel", {"extra.txt": b"hello"}, method
    )
    line = _one_line(runner.invoke(app, ["models", "install", str(odd)]))
    assert f"compression method {method}" in line and "deflate" in line
    assert _store_is_clean(isolated_packages)


def _lie_about_size(archive: Path, member: str, claimed: int) -> None:
    """Patch the central directory: `member` claims `claimed` bytes unpacked."""
    data = bytearray(archive.read_bytes())
    central = data.rfind(f"{_top(archive)}/{member}".encode()) - 46
    assert data[central : central + 4] == b"PK\x01\x02"
    data[central + 24 : central + 28] = claimed.to_bytes(4, "little")  # uncompressed size
    archive.write_bytes(bytes(data))


def test_lying_size_header_is_refused(
    argos_files: dict[str, Path], isolated_packages: Path, tmp_path: Path
) -> None:
    """A member whose central directory claims 1,000 bytes holds 4 MiB of zeros."""
    liar = _with_members(
        argos_files["zh-en"],
        tmp_path / "liar.argosmodel",
        {"model/liar.bin": bytes(4 * 2**20)},
        zipfile.ZIP_DEFLATED,
    )
    _lie_about_size(liar, "model/liar.bin", 1000)
    line = _one_line(runner.invoke(app, ["models", "install", str(liar)]))
    assert "damaged or unsupported archive" in line and "model/liar.bin" in line
    assert _store_is_clean(isolated_packages)


def test_extraction_counts_the_bytes_it_writes(
    argos_files: dict[str, Path],
    isolated_packages: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Should the zip reader ever give more than a member's header says (zipfile truncates
    today), extraction stops one byte past the claim."""
    liar = _with_members(
        argos_files["zh-en"], tmp_path / "liar.argosmodel", {"model/liar.bin": b"x"}, 0
    )
    given: list[int] = []

    class Endless(io.RawIOBase):
        """Zeros, 8 MiB at most (so that a broken build fails rather than fills the disk)."""

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            n = min(len(buffer), 8 * 2**20 - sum(given))
            given.append(n)
            buffer[:n] = bytes(n)
            return n

    real_open = zipfile.ZipFile.open

    def generous(self: zipfile.ZipFile, name: Any, *args: Any, **kwargs: Any) -> Any:
        if str(getattr(name, "filename", name)).endswith("liar.bin"):
            return Endless()
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", generous)
    with pytest.raises(ModelUnavailable, match="more than the 1 byte its header claims"):
        install_archive(liar, checks=MODEL_FILES)
    assert sum(given) <= 2
    assert _store_is_clean(isolated_packages)


# --------------------------------------------------------------------- 4. downloads without end


def _endless(h: BaseHTTPRequestHandler) -> None:
    """No Content-Length and zeros until the client hangs up (64 MiB at most, so that a
    broken build fails rather than fills the disk)."""
    h.send_response(200)
    h.end_headers()
    chunk = bytes(2**16)
    for _ in range(1024):
        h.wfile.write(chunk)


def _claims_a_terabyte(h: BaseHTTPRequestHandler) -> None:
    h.send_response(200)
    h.send_header("Content-Length", str(10**12))
    h.end_headers()
    h.wfile.write(b"PK")


def _trickle(h: BaseHTTPRequestHandler) -> None:
    """A byte every 0.05 s, for 10 s at most (a broken build then fails on a cut download)."""
    h.send_response(200)
    h.send_header("Content-Length", "1000")
    h.end_headers()
    for _ in range(200):
        h.wfile.write(b"P")
        h.wfile.flush()
        time.sleep(0.05)


def _trickled_headers(h: BaseHTTPRequestHandler) -> None:
    for byte in b"HTTP/1.0 200 OK\r\nX-Slow: " + b"a" * 100:
        h.wfile.write(bytes([byte]))
        h.wfile.flush()
        time.sleep(0.05)


def _pull_with(server: PackageServer, handler: Callable[[BaseHTTPRequestHandler], None]) -> Any:
    server.routes["/v1/package.argosmodel"] = handler
    entry = {"package_version": "1.9", "from_code": "zh", "to_code": "en"}
    url = server.index([{**entry, "links": [server.url + "/v1/package.argosmodel"]}])
    return runner.invoke(app, ["models", "pull", "argos:zh-en", "--index", url])


def test_endless_download_stops_at_the_size_cap(
    server: PackageServer, isolated_packages: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(C, "MAX_PACKAGE_BYTES", 2 * 2**20)
    line = _one_line(_pull_with(server, _endless))
    assert "past the limit of 2,097,152 bytes" in line and "nothing was installed" in line
    assert _downloads_are_clean(isolated_packages) and _store_is_clean(isolated_packages)


def test_content_length_over_the_cap_is_refused_before_reading(
    server: PackageServer, isolated_packages: Path
) -> None:
    line = _one_line(_pull_with(server, _claims_a_terabyte))
    assert "1,000,000,000,000 bytes, larger than the limit" in line
    assert _downloads_are_clean(isolated_packages)


@pytest.mark.parametrize("handler", [_trickle, _trickled_headers], ids=["body", "headers"])
def test_trickling_download_ends_at_the_deadline(
    handler: Callable[[BaseHTTPRequestHandler], None],
    server: PackageServer,
    isolated_packages: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(C, "PACKAGE_DEADLINE_S", 0.3)
    start = time.monotonic()
    line = _one_line(_pull_with(server, handler))
    assert time.monotonic() - start < 5
    assert "did not finish within 0.3 s" in line and "nothing was installed" in line
    assert _downloads_are_clean(isolated_packages)


def test_trickling_index_ends_at_the_deadline(
    server: PackageServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(C, "INDEX_DEADLINE_S", 0.3)
    server.routes["/index.json"] = _trickle
    start = time.monotonic()
    line = _one_line(runner.invoke(app, ["models", "pull", "argos:zh-en", "--index",
                                         server.url + "/index.json"]))  # fmt: skip
    assert time.monotonic() - start < 5
    assert "did not finish within 0.3 s" in line


def test_trickled_tls_handshake_ends_at_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """A TLS server that starts a handshake record and sends a byte of it every 0.05 s (10 s
    at most): the watchdog must hold the socket from before the handshake."""
    monkeypatch.setattr(C, "INDEX_DEADLINE_S", 0.3)
    listener = socket.create_server(("127.0.0.1", 0))

    def trickle() -> None:
        conn, _ = listener.accept()
        with conn, contextlib.suppress(OSError):
            conn.sendall(b"\x16\x03\x03\x40\x00")  # a handshake record of 16 KiB follows
            for _ in range(200):
                conn.sendall(b"\x00")
                time.sleep(0.05)

    threading.Thread(target=trickle, daemon=True).start()
    url = f"https://127.0.0.1:{listener.getsockname()[1]}/index.json"
    start = time.monotonic()
    try:
        with pytest.raises(ModelUnavailable, match=r"did not finish within 0\.3 s"):
            packages.load_index(url, refresh=True)
    finally:
        listener.close()
    assert time.monotonic() - start < 5


# ------------------------------------------------------------------------------ 5. --threads


@pytest.mark.parametrize("value", ["-1", "99999999999"])
@pytest.mark.parametrize("command", ["translate", "transcribe", "run", "align"])
def test_threads_out_of_range_is_one_line(command: str, value: str, tmp_path: Path) -> None:
    args = [command, str(tmp_path / "missing.srt"), "--threads", value]
    if command == "align":
        args.insert(2, str(tmp_path / "missing.wav"))
    line = _one_line(runner.invoke(app, args))
    assert line.startswith("error: --threads") and f"{C.MAX_THREADS}" in line


def test_huge_threads_never_reach_ctranslate2(pivot_route: Path, tmp_path: Path) -> None:
    srt = tmp_path / "a.srt"
    srt.write_text("1\n00:00:01,000 --> 00:00:02,000\n你好世界\n", encoding="utf-8")
    out = tmp_path / "out"
    args = ["translate", str(srt), "-o", str(out), "--no-cache", "--threads", "99999999999"]
    line = _one_line(runner.invoke(app, args))
    assert "--threads" in line
    assert not out.exists()
