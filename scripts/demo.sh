#!/usr/bin/env bash
# Set dubkit up, then run the main job (`dubkit run`: transcribe, then translate into Urdu) on a
# sample programme: the 70 s seminar recording in ../shared/assets when that folder exists,
# else the media file you name:
#   bash scripts/demo.sh [MEDIA] [OUTDIR]
# Real zh→ur translation needs Argos packages (`dubkit models pull argos:zh-ur` on a machine
# with internet, or `dubkit models install FILE.argosmodel`). Without them the demo builds
# random-weight TEST packages into OUTDIR and uses those, so the chain runs end to end; their
# Urdu is babble, and they are never installed in your model store.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh

sample="../shared/assets/zh-long/funasr_vad_example_70s.wav"
media="${1:-}"
if [ -z "$media" ]; then
  if [ -f "$sample" ]; then
    media="$sample"
  else
    echo "demo: no sample found at $sample; name a media file: bash scripts/demo.sh EPISODE.mp4" >&2
    exit 1
  fi
fi
outdir="${2:-out/demo}"
mkdir -p "$outdir"
dubkit=.venv/bin/dubkit

extra=()
if ! "$dubkit" models list --json | .venv/bin/python -c \
    'import json, sys; sys.exit(0 if json.load(sys.stdin)["routes"][0]["via"] else 1)'; then
  echo "demo: no zh→ur translation packages installed; building random-weight TEST packages" >&2
  echo "demo: (their Urdu is babble: get real ones with \`dubkit models pull argos:zh-ur\`)" >&2
  rm -rf "$outdir/test-packages" "$outdir/test-archives"
  .venv/bin/python -m tests.argos_factory --build "$outdir/test-archives" >/dev/null
  "$dubkit" models install "$outdir"/test-archives/*.argosmodel --dir "$outdir/test-packages"
  extra=(--packages "$outdir/test-packages" --memory "$outdir/test-memory.sqlite")
fi
"$dubkit" run "$media" -o "$outdir" --glossary glossaries/cpec-media.yaml "${extra[@]}"
echo "demo: outputs in $outdir:" >&2
ls -l "$outdir" >&2
