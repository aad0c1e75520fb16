"""Argos packages: safe installation, discovery where argospm puts them, route choice."""

from __future__ import annotations

import json
import shutil
import stat
import zipfile
from pathlib import Path

import pytest

from dubkit.adapters.modelfiles import MODEL_FILES
from dubkit.errors import ModelUnavailable
from dubkit.models.packages import (
    find_route,
    install_archive,
    installed_packages,
    no_route_message,
    parse_route_name,
    read_package,
)


def _rezip(source: Path, dest: Path, rename: dict[str, str] | None = None, **extra: bytes) -> Path:
    """Copy an archive member by member (renaming some), adding `extra` name → data."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(dest, "w") as out:
        for info in src.infolist():
            name = (rename or {}).get(info.filename, info.filename)
            if name:
                out.writestr(name, src.read(info))
        for name, data in extra.items():
            out.writestr(name, data)
    return dest


def _top(archive: Path) -> str:
    with zipfile.ZipFile(archive) as zf:
        return zf.namelist()[0].split("/")[0]


def _store_is_clean(store: Path) -> bool:
    return not store.exists() or not any(store.iterdir())


def test_install_and_read_back(argos_files: dict[str, Path], isolated_packages: Path) -> None:
    package = install_archive(argos_files["zh-en"], checks=MODEL_FILES)
    assert (package.from_code, package.to_code, package.origin) == ("zh", "en", "dubkit")
    assert package.path.parent == isolated_packages
    assert package.path.name == _top(argos_files["zh-en"])
    manifest = json.loads((package.path / "dubkit-package.json").read_text())
    assert manifest["pair"] == "zh-en"
    assert len(manifest["fingerprint"]) == 64
    assert package.fingerprint() == manifest["fingerprint"]
    assert [p.pair for p in installed_packages()] == ["zh-en"]
    # reinstalling replaces the folder in place
    again = install_archive(argos_files["zh-en"], checks=MODEL_FILES)
    assert again.path == package.path
    assert [p.name for p in isolated_packages.iterdir()] == [package.path.name]


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("traversal", "climbs out of the folder"),
        ("absolute", "absolute path"),
        ("symlink", "symbolic link"),
        ("two-tops", "exactly one top-level folder, this one has 2"),
        ("loose-file", "outside the package's top-level folder"),
        ("no-metadata", "no metadata.json"),
        ("bad-metadata", "needs from_code"),
        ("broken-model", "CTranslate2 cannot load"),
        ("no-tokenizer", "no sentencepiece.model or bpe.model"),
        ("broken-tokenizer", "its sentencepiece.model cannot be loaded"),
        ("not-zip", "not a zip archive"),
    ],
)
def test_bad_packages_are_refused_and_leave_nothing(
    case: str, message: str, argos_files: dict[str, Path], isolated_packages: Path, tmp_path: Path
) -> None:
    good = argos_files["zh-en"]
    top = _top(good)
    bad = tmp_path / f"{case}.argosmodel"
    if case == "traversal":
        _rezip(good, bad, **{f"{top}/../../evil.txt": b"x"})
    elif case == "absolute":
        _rezip(good, bad, **{"/tmp/evil.txt": b"x"})
    elif case == "symlink":
        _rezip(good, bad)
        with zipfile.ZipFile(bad, "a") as zf:
            info = zipfile.ZipInfo(f"{top}/link")
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    elif case == "two-tops":
        _rezip(good, bad, **{"other/readme.txt": b"x"})
    elif case == "loose-file":
        _rezip(good, bad, **{"evil.txt": b"x"})
    elif case == "no-metadata":
        _rezip(good, bad, rename={f"{top}/metadata.json": ""})
    elif case == "bad-metadata":
        _rezip(good, bad, rename={f"{top}/metadata.json": ""}, **{
            f"{top}/metadata.json": json.dumps({"to_code": "en"}).encode()
        })  # fmt: skip
    elif case == "broken-model":
        _rezip(good, bad, rename={f"{top}/model/model.bin": ""}, **{
            f"{top}/model/model.bin": b"\x00" * 64
        })  # fmt: skip
    elif case == "no-tokenizer":
        _rezip(good, bad, rename={f"{top}/sentencepiece.model": ""})
    elif case == "broken-tokenizer":
        _rezip(good, bad, rename={f"{top}/sentencepiece.model": ""}, **{
            f"{top}/sentencepiece.model": b"not a sentencepiece model"
        })  # fmt: skip
    else:
        bad.write_bytes(b"PK not really a zip")
    with pytest.raises(ModelUnavailable, match=message) as err:
        install_archive(bad, checks=MODEL_FILES)
    assert "\n" not in str(err.value)
    assert _store_is_clean(isolated_packages), list(isolated_packages.iterdir())
    assert not (tmp_path.parent / "evil.txt").exists()


def test_failed_reinstall_keeps_the_working_copy(
    argos_files: dict[str, Path], isolated_packages: Path, tmp_path: Path
) -> None:
    good = install_archive(argos_files["zh-en"], checks=MODEL_FILES)
    top = _top(argos_files["zh-en"])
    bad = _rezip(argos_files["zh-en"], tmp_path / "bad.argosmodel",
                 rename={f"{top}/model/model.bin": ""},
                 **{f"{top}/model/model.bin": b"junk"})  # fmt: skip
    with pytest.raises(ModelUnavailable):
        install_archive(bad, checks=MODEL_FILES)
    assert read_package(good.path).pair == "zh-en"
    assert [p.name for p in isolated_packages.iterdir()] == [top]


def test_packages_installed_by_argospm_are_found(
    argos_files: dict[str, Path], tmp_path: Path
) -> None:
    """argospm unzips packages into ARGOS_PACKAGES_DIR (or the XDG folder); no manifest."""
    argos_dir = Path(tmp_path / "argos-packages")
    for pair in ("zh-en", "en-ur"):
        with zipfile.ZipFile(argos_files[pair]) as zf:
            zf.extractall(argos_dir)
    found = installed_packages()
    assert sorted((p.pair, p.origin) for p in found) == [("en-ur", "argos"), ("zh-en", "argos")]
    route = find_route("zh", "ur", found)
    assert route is not None and route.description == "zh→en→ur"
    assert len(found[0].fingerprint()) == 64  # hashed on first use without a manifest


def test_xdg_default_folder(
    argos_files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ARGOS_PACKAGES_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    with zipfile.ZipFile(argos_files["zh-en"]) as zf:
        zf.extractall(tmp_path / "xdg" / "argos-translate" / "packages")
    assert [p.pair for p in installed_packages()] == ["zh-en"]


def test_route_prefers_direct_then_pivot(argos_files: dict[str, Path]) -> None:
    for pair in ("zh-en", "en-ur", "zh-ur"):
        install_archive(argos_files[pair], checks=MODEL_FILES)
    found = installed_packages()
    direct = find_route("zh", "ur", found)
    assert direct is not None and (direct.kind, direct.description) == ("direct", "zh→ur")
    pivot = find_route("zh", "ur", found, mode="pivot")
    assert pivot is not None and pivot.description == "zh→en→ur"
    without_direct = [p for p in found if p.pair != "zh-ur"]
    assert find_route("zh", "ur", without_direct, mode="direct") is None
    assert find_route("zh", "ur", [p for p in found if p.pair == "zh-en"]) is None
    assert "dubkit models pull argos:zh-ur" in no_route_message("zh", "ur")


def test_highest_version_wins(argos_files: dict[str, Path], tmp_path: Path) -> None:
    from tests.argos_factory import build_package

    newer = build_package(tmp_path, "zh", "en", seed=9, package_version="2.0")
    install_archive(argos_files["zh-en"], checks=MODEL_FILES)
    install_archive(newer, checks=MODEL_FILES)
    route = find_route("zh", "en", installed_packages())
    assert route is not None and route.stages[0].version == "2.0"


def test_extra_package_folder(argos_files: dict[str, Path], tmp_path: Path) -> None:
    extra = tmp_path / "shared-packages"
    package = install_archive(argos_files["en-ur"], into=extra, checks=MODEL_FILES)
    assert package.origin == "extra" and package.path.parent == extra
    assert [p.pair for p in installed_packages([extra])] == ["en-ur"]
    assert installed_packages() == []


def test_route_names() -> None:
    assert parse_route_name("argos:zh-ur") == ("zh", "ur")
    assert parse_route_name("zh-ur") == ("zh", "ur")
    for bad in ("argos:zh", "whisper:zh-ur", "argos:zh-ur-en", "argos:../x-y"):
        with pytest.raises(ModelUnavailable, match="argos:FROM-TO"):
            parse_route_name(bad)


def test_broken_folder_is_skipped_and_reported(tmp_path: Path) -> None:
    from dubkit.models.packages import broken_packages

    folder = tmp_path / "argos-packages" / "translate-xx"
    folder.mkdir(parents=True)
    (folder / "metadata.json").write_text("{not json")
    assert installed_packages() == []
    assert [p for p, _ in broken_packages()] == [folder]
    shutil.rmtree(folder)


def test_folder_is_named_from_metadata_never_from_the_archive(
    argos_files: dict[str, Path], isolated_packages: Path, tmp_path: Path
) -> None:
    """A zh→en archive whose folder is called like the en→ur package must not replace it."""
    en_ur = install_archive(argos_files["en-ur"], checks=MODEL_FILES)
    top = _top(argos_files["zh-en"])
    names = {}
    with zipfile.ZipFile(argos_files["zh-en"]) as zf:
        names = {n: n.replace(top, en_ur.path.name, 1) for n in zf.namelist()}
    disguised = _rezip(argos_files["zh-en"], tmp_path / "disguised.argosmodel", rename=names)
    package = install_archive(disguised, checks=MODEL_FILES)
    assert package.path.name == "translate-zh_en-1_9"
    assert read_package(en_ur.path).pair == "en-ur"
    assert find_route("zh", "ur", installed_packages()) is not None


def test_install_never_replaces_a_folder_that_is_not_the_same_package(
    argos_files: dict[str, Path], tmp_path: Path
) -> None:
    into = tmp_path / "user"
    precious = into / "translate-zh_en-1_9"
    precious.mkdir(parents=True)
    (precious / "thesis.txt").write_text("precious")
    with pytest.raises(ModelUnavailable, match="is not a zh-en package, so it was left alone"):
        install_archive(argos_files["zh-en"], into=into, checks=MODEL_FILES)
    assert (precious / "thesis.txt").read_text() == "precious"
    assert sorted(p.name for p in into.iterdir()) == ["translate-zh_en-1_9"]


UNSUPPORTED = [("deflate64", "compression method 9"), ("encrypted", "encrypted")]


@pytest.mark.parametrize(("case", "message"), UNSUPPORTED)
def test_unsupported_archives_fail_in_one_line(
    case: str, message: str, argos_files: dict[str, Path], isolated_packages: Path, tmp_path: Path
) -> None:
    data = bytearray(argos_files["zh-en"].read_bytes())
    # patch every local and central header of the archive (method at +8/+10, flags at +6/+8)
    for signature, flags_at, method_at in ((b"PK\x03\x04", 6, 8), (b"PK\x01\x02", 8, 10)):
        at = data.find(signature)
        while at != -1:
            if case == "deflate64":
                data[at + method_at : at + method_at + 2] = (9).to_bytes(2, "little")
            else:
                data[at + flags_at] |= 0x1
            at = data.find(signature, at + 4)
    bad = tmp_path / f"{case}.argosmodel"
    bad.write_bytes(bytes(data))
    with pytest.raises(ModelUnavailable, match=message) as err:
        install_archive(bad, checks=MODEL_FILES)
    assert "\n" not in str(err.value)
    assert _store_is_clean(isolated_packages)


def test_leftover_from_a_crashed_swap_does_not_block_reinstall(
    argos_files: dict[str, Path], isolated_packages: Path
) -> None:
    import os

    package = install_archive(argos_files["zh-en"], checks=MODEL_FILES)
    leftover = isolated_packages / f".{package.path.name}.old-{os.getpid()}"
    (leftover / "junk").mkdir(parents=True)
    again = install_archive(argos_files["zh-en"], checks=MODEL_FILES)
    assert again.path == package.path and read_package(again.path).pair == "zh-en"
