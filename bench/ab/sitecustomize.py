"""For bench A/Bs only: put this folder on PYTHONPATH and every Python process started with it
(the benches' children, `python -m dubkit`) changes one setting:

- BENCH_PATIENCE=P: every batched faster-whisper decode uses beam patience P instead of the
  one it is asked for (dubkit's BATCHED_PATIENCE);
- BENCH_REFILL=0: no window is refilled (dubkit.asr.recognise's refill step is off; recovery
  still runs);
- BENCH_REFILL=after: an experiment, recovery first: a window the refill would decode again
  is first recovered stretch by stretch, and decoded again whole only where that still leaves
  REFILL_MISSING_SHARE of its voiced speech without a word; a refill kept is then biased and
  recovered as dubkit does, one rejected leaves the recovered first pass. Where recovery
  came first, biasing runs after it.

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

if os.environ.get("BENCH_REFILL") == "after":
    from typing import Any

    from dubkit import constants as C
    from dubkit.asr import recognise as R

    def _decided(ctx: Any, window: Any, decoded: Any, report: dict[str, Any]) -> Any:
        kept = R._guarded(ctx, window, decoded, report)
        recovered = False
        if ctx.settings.recover and ctx.settings.batch_size > 1 and "problems" not in report:
            voiced = sum(
                ctx.speech.frame_ms
                for p in ctx.speech.frames(*window)
                if p >= C.UNCOVERED_PROBABILITY
            )
            missing = R._missing_ms(ctx, window, kept)
            if (
                voiced
                and missing >= C.REFILL_MISSING_SHARE * voiced
                and not any(s.flags for s in kept)
            ):
                trial: dict[str, Any] = {}
                tried = R._recovered(ctx, window, kept, trial)
                if R._missing_ms(ctx, window, tried) < C.REFILL_MISSING_SHARE * voiced:
                    kept, recovered = tried, True
                    report.update(trial)
                    report["refill_skipped"] = True
                else:
                    refilled = R._refilled(ctx, window, kept, report)
                    if report["refilled"].get("kept"):
                        kept = refilled  # (recovered again below, as dubkit does)
                        report["recovered_before_refill"] = trial.get("recovered", [])
                    else:  # the stretches already decoded stand
                        kept, recovered = tried, True
                        report.update(trial)
        if ctx.bias is not None and not any(s.flags for s in kept):
            kept = R._biased(ctx, window, kept, report)
        if ctx.settings.recover and not recovered and not any(s.flags for s in kept):
            kept = R._recovered(ctx, window, kept, report)
        if ctx.bias is not None:
            kept = R._substituted(ctx, kept, report)
        return kept

    R._decided = _decided
