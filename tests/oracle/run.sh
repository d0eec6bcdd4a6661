#!/usr/bin/env bash
# Builds the oracle's virtual environment if needed, then runs every tests/oracle/*.py whose output is
# missing or older than its script. Each script writes tests/oracle/out/<name>/ and a DONE marker last.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv"
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c "import torch, diffusers, transformers, safetensors, av" 2>/dev/null; then
  echo "oracle: creating $venv (torch CPU, diffusers, transformers)…"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$here/requirements.txt"
fi
mkdir -p "$here/out"
for script in "$here"/*.py; do
  name="$(basename "$script" .py)"
  [[ "$name" == _* || "$name" == bench_* ]] && continue   # bench_*.py belong to bench/, not parity
  out="$here/out/$name"
  if [[ -f "$out/DONE" && "$out/DONE" -nt "$script" && ( ! -f "$here/_common.py" || "$out/DONE" -nt "$here/_common.py" ) ]]; then
    continue
  fi
  echo "oracle: $name"
  rm -rf "$out"
  mkdir -p "$out"
  ( cd "$here" && OMP_NUM_THREADS=2 "$venv/bin/python" "$script" "$out" )
  touch "$out/DONE"
done
