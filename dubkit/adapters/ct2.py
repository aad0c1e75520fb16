"""Choosing a CTranslate2 device, shared by recognition and translation.

`auto` tries CUDA and falls back to the CPU with a notice; `cuda` fails with the fix. A missing
CUDA library only shows at the first encode, so every load is followed by a probe.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from dubkit.errors import ConfigError, DeviceError

DEVICES = ("auto", "cpu", "cuda")
_CUBLAS_FIX = (
    "ctranslate2 {version} needs CUDA 12's cuBLAS (libcublas.so.12): "
    "`pip install nvidia-cublas-cu12` and put its lib folder first on LD_LIBRARY_PATH "
    "(on a CUDA 13 machine a symlink libcublas.so.12 -> libcublas.so.13 there also works), "
    "or use --device cpu"
)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class DeviceChoice:
    device: str
    compute_type: str
    notice: str | None = None


def default_compute_type(device: str) -> str:
    """int8 on CPU (fastest there), float16 on GPU."""
    return "float16" if device == "cuda" else "int8"


def cuda_device_count() -> int:
    import ctranslate2

    try:
        return int(ctranslate2.get_cuda_device_count())
    except RuntimeError:
        return 0


def load_on_device(
    device: str,
    compute_type: str | None,
    load: Callable[[str, str], T],
    probe: Callable[[T], None],
) -> tuple[T, DeviceChoice]:
    """Load with `load(device, compute_type)` on the device asked for, verified by `probe`.

    A ValueError from `load` (a compute type the device lacks) becomes ConfigError, a
    RuntimeError is a CUDA failure; on `auto` either means: run on the CPU and say why.
    """
    if device not in DEVICES:
        raise ConfigError(f"--device {device}: choose one of {', '.join(DEVICES)}")
    notice = None
    if device in ("auto", "cuda"):
        if cuda_device_count() == 0:
            if device == "cuda":
                raise DeviceError(
                    "--device cuda: ctranslate2 sees no CUDA device (no GPU, or no NVIDIA "
                    "driver); run on a GPU machine or use --device cpu"
                )
            notice = "no CUDA device visible to ctranslate2; running on CPU"
        else:
            try:
                model = _attempt(load, "cuda", compute_type or "float16")
                probe(model)
            except ConfigError as exc:
                if device == "cuda" or compute_type is not None:
                    raise
                notice = f"CUDA found but float16 is not supported there ({exc}); running on CPU"
            except RuntimeError as exc:
                reason = cuda_reason(exc)
                if device == "cuda":
                    raise DeviceError(f"--device cuda cannot run: {reason}") from exc
                notice = f"CUDA found but cannot run ({reason.split(':')[0]}); running on CPU"
            else:
                return model, DeviceChoice("cuda", compute_type or "float16")
    ctype = compute_type or default_compute_type("cpu")
    return _attempt(load, "cpu", ctype), DeviceChoice("cpu", ctype, notice)


def _attempt(load: Callable[[str, str], T], device: str, compute_type: str) -> T:
    """`load`, with CTranslate2's ValueError for a compute type the device lacks as the
    ConfigError that says what to use instead."""
    try:
        return load(device, compute_type)
    except ValueError as exc:
        raise ConfigError(
            f"--compute-type {compute_type} on {device}: {exc}; try int8 (CPU) or float16 (GPU)"
        ) from exc


def cuda_reason(exc: BaseException) -> str:
    import ctranslate2

    text = " ".join(str(exc).split())
    if "cublas" in text.lower() or "cudnn" in text.lower() or "library" in text.lower():
        return f"{text}; " + _CUBLAS_FIX.format(version=ctranslate2.__version__)
    return text
