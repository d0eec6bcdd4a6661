#!/usr/bin/env bash
# Reproduces models/toy/ from a clean clone: synthetic clips (TypeScript) → VAE → UNet + image encoder (PyTorch).
# About 80 minutes on 2 CPU cores (budgets in minutes: 34 for the VAE, 40 for the UNet, plus data and encoding).
# The budgets are wall-clock: on a loaded machine fewer steps fit (see training/logs).
# Needs `npm ci` (tsx) and the Python venv of tests/oracle (torch CPU, diffusers, transformers): `bash
# tests/oracle/run.sh` creates it, or any venv with tests/oracle/requirements.txt installed.
# Environment: PYTHON (default tests/oracle/.venv/bin/python), DATA (default /tmp/videoshop-toy-data),
# OUT (default models/toy), THREADS (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-tests/oracle/.venv/bin/python}"
DATA="${DATA:-/tmp/videoshop-toy-data}"
OUT="${OUT:-models/toy}"
THREADS="${THREADS:-2}"
if [ ! -f "$DATA/clips.npy" ]; then
  node --import tsx scripts/write-scenes.ts "$DATA" 2400 0 8 64
fi
mkdir -p training/logs
OMP_NUM_THREADS="$THREADS" "$PYTHON" training/train.py --data "$DATA/clips.npy" --out "$OUT" --logs training/logs \
  --threads "$THREADS" --seed 0 --vae-steps 12000 --vae-minutes 34 --vae-channels 96,64,64 --vae-batch 4 --unet-steps 20000 --unet-minutes 40 \
  --unet-clips 2400 --unet-channels 64,128 --batch 4 --lr 3e-4 --bf16 2>&1 | tee training/logs/train.log
