#!/usr/bin/env bash
# The whole GPU measurement of issue 20 in one call, on a machine without network: everything comes from this
# working tree (node_modules installed, configs/, bench/models.ts' weight writer). It writes random fp16 weights for
# SVD's real configs (~4 GB, reused on a second run), then runs bench:full at full size (14×1024×576, --steps 2) on
# the GPU in float16, then the same at float32 compute, and keeps the JSON lines and the GPU's description in
# bench/results/.
#
#   bash bench/gpu-full.sh                 # cuda when its provider is installed, else webgpu
#   DEVICE=webgpu bash bench/gpu-full.sh --frames 4 --width 512 --height 320   # extra flags go to bench:full
#
# CUDA needs onnxruntime-node's CUDA provider, which its install script downloads: run
# `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node` while the machine still has network (plus CUDA 12 and
# cuDNN 9 on LD_LIBRARY_PATH). WebGPU is bundled and needs only a Vulkan driver.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -d node_modules/onnxruntime-node ]] || { echo "gpu-full: node_modules is missing: run npm ci on a machine with network and copy the tree" >&2; exit 2; }
provider=node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so
device="${DEVICE:-}"
if [[ -z "$device" ]]; then
  if [[ -f "$provider" ]]; then device=cuda; else device=webgpu; fi
fi
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p bench/results
out="bench/results/gpu-full-$device-$stamp"
{ echo "date: $stamp"; echo "device: $device"; nvidia-smi --query-gpu=name,driver_version,memory.total,memory.free --format=csv 2>/dev/null || echo "nvidia-smi: not available"; } > "$out.machine.txt"
echo "gpu-full: $device; results in $out.*" >&2
status=0
for dtype in float16 float32; do
  timeout 3600 npm run -s bench:full -- --json --device "$device" --dtype "$dtype" --results bench/results "$@" \
    > "$out.$dtype.jsonl" 2> "$out.$dtype.log" || { status=$?; echo "gpu-full: $dtype failed (exit $status), see $out.$dtype.log" >&2; }
  tail -n 1 "$out.$dtype.jsonl" >&2 || true
done
exit "$status"
