#!/usr/bin/env bash
# Create bench/.venv-argos, a virtual environment with argostranslate 1.11.0 (and its full
# dependency set: torch, stanza, spacy, minisbd, ...) plus psutil, for bench/mt.py only.
# dubkit's own .venv never gets argostranslate. Idempotent: does nothing when it is installed.
#
# ctranslate2 and sentencepiece are pinned to the versions in dubkit's .venv (when there is
# one), so both sides of the benchmark run the same engine; argostranslate allows both.
# The environment is built from the same Python as .venv (override with PYTHON=...).
set -euo pipefail
cd "$(dirname "$0")/.."

venv=bench/.venv-argos
version=1.11.0
check="import argostranslate.translate, psutil
from importlib.metadata import version
assert version('argostranslate') == '$version', version('argostranslate')"

if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "$check" 2>/dev/null; then
  echo "setup-argos: argostranslate $version already in $venv" >&2
  exit 0
fi

python=${PYTHON:-}
if [ -z "$python" ] && [ -x .venv/bin/python ]; then
  python=$(.venv/bin/python -c 'import sys; print(sys._base_executable)')
fi
python=${python:-python3}

pins=()
if [ -x .venv/bin/python ]; then
  while read -r pin; do
    pins+=("$pin")
  done < <(.venv/bin/python - <<'EOF'
from importlib.metadata import PackageNotFoundError, version
for name in ("ctranslate2", "sentencepiece"):
    try:
        print(f"{name}=={version(name)}")
    except PackageNotFoundError:
        pass
EOF
  )
fi

if [ ! -x "$venv/bin/python" ]; then
  echo "setup-argos: creating $venv with $python" >&2
  "$python" -m venv "$venv"
fi
echo "setup-argos: installing argostranslate==$version psutil ${pins[*]} (about 6 GB)" >&2
"$venv/bin/python" -m pip install -q --disable-pip-version-check \
  "argostranslate==$version" psutil "${pins[@]}"
"$venv/bin/python" -c "$check"
echo "setup-argos: ready: $venv/bin/python" >&2
