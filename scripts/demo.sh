#!/usr/bin/env bash
# Set dubkit up, then run the main job on a sample programme: the 70 s seminar recording in
# ../shared/assets when that folder exists, else the media file you name:
#   bash scripts/demo.sh [MEDIA] [OUTDIR]
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
.venv/bin/dubkit transcribe "$media" -o "$outdir"
echo "demo: outputs in $outdir:" >&2
ls -l "$outdir" >&2
