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
