"""For bench A/Bs only: with BENCH_WHISPER_REPLICAS=1, Whisper loads as before 2026-12-07 in
this process: one CTranslate2 replica with all the threads asked for (0: CTranslate2's
default, OMP_NUM_THREADS or up to 4), instead of the threads shared out among replicas. Put this
folder on PYTHONPATH:

    BENCH_WHISPER_REPLICAS=1 PYTHONPATH=bench/replicas_ab .venv/bin/python bench/recordings.py
"""

import os

if os.environ.get("BENCH_WHISPER_REPLICAS") == "1":
    from dubkit.adapters import whisper

    def _one_replica(device: str, threads: int) -> tuple[int, int]:
        return 1, threads

    whisper._replicas = _one_replica
