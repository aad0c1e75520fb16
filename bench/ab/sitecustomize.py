"""For bench A/Bs only: put this folder on PYTHONPATH and every Python process started with it
(the benches' children, `python -m dubkit`) changes one setting:

- BENCH_PATIENCE=P: every batched faster-whisper decode uses beam patience P instead of the
  one it is asked for (dubkit's BATCHED_PATIENCE);
- BENCH_REFILL=0: no window is refilled (dubkit.asr.recognise's refill step is off; recovery
  still runs).

    BENCH_PATIENCE=1 PYTHONPATH=bench/ab .venv/bin/python bench/recordings.py
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

if os.environ.get("BENCH_REFILL") == "0":
    from dubkit import constants

    constants.REFILL_MISSING_SHARE = float("inf")
