#!/usr/bin/env bash
# Set-up on a fresh machine: the system ffmpeg (video I/O), the npm packages (onnxruntime-node's CUDA download is
# skipped: CPU and WebGPU need none; see the README for CUDA), then the TypeScript build.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v ffmpeg >/dev/null || ! command -v ffprobe >/dev/null; then
  if command -v apt-get >/dev/null && [[ $(id -u) == 0 ]]; then
    echo "setup: installing ffmpeg (apt-get)…"
    (apt-get update -qq && apt-get install -y -qq ffmpeg) >/dev/null
  else
    echo "setup: ffmpeg is missing. Install it (Debian/Ubuntu: sudo apt-get install ffmpeg; macOS: brew install ffmpeg) and run again." >&2
    exit 1
  fi
fi
# better-sqlite3 (the web app's job table) compiles from source where its prebuilt binary cannot be downloaded.
if ! command -v g++ >/dev/null || ! command -v make >/dev/null; then
  if command -v apt-get >/dev/null && [[ $(id -u) == 0 ]]; then
    echo "setup: installing g++ and make (apt-get), to build better-sqlite3…"
    (apt-get update -qq && apt-get install -y -qq --no-install-recommends g++ make) >/dev/null
  else
    echo "setup: note: no g++/make; if better-sqlite3's prebuilt binary cannot be downloaded, install them (build-essential / Xcode tools)." >&2
  fi
fi
ONNXRUNTIME_NODE_INSTALL="${ONNXRUNTIME_NODE_INSTALL:-skip}" npm ci --no-audit --no-fund
npm run build
npm run build:web
