"""Device choice logic with the CUDA probe's failure injected (no GPU on CI machines)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dubkit.adapters import ct2, whisper
from dubkit.adapters.whisper import WhisperTranscriber
from dubkit.errors import ConfigError, DeviceError

MISSING = "Library libcublas.so.12 is not found or cannot be loaded"


@pytest.fixture
def broken_cuda(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """One CUDA device visible, but the first encode on it fails as without cuBLAS 12."""
    loads: list[str] = []
    real_load = WhisperTranscriber._load

    def load(path: Path, device: str, compute_type: str, threads: int) -> Any:
        loads.append(device)
        if device == "cuda":
            return object()
        return real_load(path, device, compute_type, threads)

    def probe(model: Any) -> None:
        raise RuntimeError(MISSING)

    monkeypatch.setattr(ct2, "cuda_device_count", lambda: 1)
    monkeypatch.setattr(WhisperTranscriber, "_load", staticmethod(load))
    monkeypatch.setattr(whisper, "_probe_encode", probe)
    return loads


def test_cuda_without_cublas_names_library_and_fix(
    broken_cuda: list[str], base_model_dir: Path
) -> None:
    with pytest.raises(DeviceError) as err:
        WhisperTranscriber.load("whisper:base", base_model_dir, device="cuda")
    message = str(err.value)
    assert "libcublas.so.12" in message
    assert "pip install nvidia-cublas-cu12" in message
    assert "--device cpu" in message
    assert "\n" not in message
    assert broken_cuda == ["cuda"]


def test_auto_falls_back_to_cpu_after_failed_probe(
    broken_cuda: list[str], base_model_dir: Path
) -> None:
    t = WhisperTranscriber.load("whisper:base", base_model_dir, device="auto")
    assert (t.device.device, t.device.compute_type) == ("cpu", "int8")
    assert t.device.notice is not None
    assert t.device.notice.startswith("CUDA found but cannot run (Library libcublas.so.12")
    assert broken_cuda == ["cuda", "cpu"]


def test_bad_device_and_compute_type(base_model_dir: Path) -> None:
    with pytest.raises(ConfigError, match="choose one of auto, cpu, cuda"):
        WhisperTranscriber.load("whisper:base", base_model_dir, device="tpu")
    with pytest.raises(ConfigError, match="--compute-type bogus on cpu"):
        WhisperTranscriber.load("whisper:base", base_model_dir, device="cpu", compute_type="bogus")


@pytest.mark.usefixtures("pivot_route")
def test_translation_device_choice_follows_the_same_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    """The translator's first encode on CUDA fails as without cuBLAS 12: auto falls back to
    the CPU with a notice; cuda fails with the fix."""
    from dubkit.adapters import argos
    from dubkit.models.packages import find_route, installed_packages
    from dubkit.ports import MTOptions

    real_load = argos._load
    loads: list[str] = []

    def load(package: Any, device: str, compute_type: str, threads: int) -> Any:
        loads.append(device)
        return object() if device == "cuda" else real_load(package, device, compute_type, threads)

    def probe(translator: Any, tokenizer: Any) -> None:
        if not hasattr(translator, "translate_batch"):
            raise RuntimeError(MISSING)

    monkeypatch.setattr(ct2, "cuda_device_count", lambda: 1)
    monkeypatch.setattr(argos, "_load", load)
    monkeypatch.setattr(argos, "_probe", probe)
    route = find_route("zh", "ur", installed_packages())
    assert route is not None
    steps = argos.load_route(route.stages, MTOptions(device="auto"))
    assert [s.device.device for s in steps] == ["cpu", "cpu"]
    assert steps[0].device.notice is not None and "libcublas.so.12" in steps[0].device.notice
    assert steps[0].translate(["你好"])[0]
    with pytest.raises(DeviceError, match="pip install nvidia-cublas-cu12"):
        argos.load_route(route.stages, MTOptions(device="cuda"))
    assert loads[:2] == ["cuda", "cpu"]
