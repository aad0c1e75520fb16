"""For bench A/Bs only: with BENCH_PATIENCE set, every batched faster-whisper decode in this
process uses that beam patience instead of the one it is asked for (dubkit's
BATCHED_PATIENCE). Put this folder on PYTHONPATH:

    BENCH_PATIENCE=1 PYTHONPATH=bench/patience_ab .venv/bin/python bench/recordings.py
"""

import os

if os.environ.get("BENCH_PATIENCE"):
    from typing import Any

    from faster_whisper import BatchedInferencePipeline

    _PATIENCE = float(os.environ["BENCH_PATIENCE"])
    _transcribe = BatchedInferencePipeline.transcribe

    def _with_patience(self: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs["patience"] = _PATIENCE
        return _transcribe(self, *args, **kwargs)

    BatchedInferencePipeline.transcribe = _with_patience  # type: ignore[method-assign]
