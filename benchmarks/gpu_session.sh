#!/usr/bin/env bash
# One GPU session of graphite (issue 17): everything a researcher with one GPU for a few minutes wants checked
# first, in about 8 minutes on one modern GPU. Usage: benchmarks/gpu_session.sh OUTDIR
#
# Prepared and rehearsed on a CPU (GRAPHITE_GPU_SESSION_DEVICE=cpu runs every step there with small sizes). The
# GPU machine has torch (CUDA), torch-geometric, Triton, numpy, scipy, scikit-learn, matplotlib, pytest and PyYAML
# but cannot download: Optuna, OGB and their dependencies travel as wheels in .whl/ (see benchmarks/README.md) and
# graphite itself is used from this checkout (PYTHONPATH). Raw dataset files: $GRAPHITE_DATA (Actor at least).
#
# Steps (each bounded by `timeout`, so one failure never eats the others' time; each writes into OUTDIR):
#   1. CUDA tests: tests/test_cuda.py (every graphite.ops backend and every model on the device against the CPU)
#      plus the ops, model and runner tests (CPU tensors, this machine's torch);
#   2. benchmarks/gpu_check.py: Triton vs torch numerics (float32, bfloat16, against float64 on the CPU) and
#      gated SpMM timing against PyG-style gather/scatter and torch.sparse on transformed Actor and a 1M-node graph;
#   3. GRAPHITE on Actor in the paper-size configuration (8 x 512, 1000 steps) on all 10 splits;
#   4. with the time left, an Optuna study of that configuration's edge-type weights and gate temperature
#      (objective: mean validation accuracy over splits 0-2; test metrics never read).
set -u
OUT=${1:?usage: benchmarks/gpu_session.sh OUTDIR}
mkdir -p "$OUT"
cd "$(dirname "$0")/.."
DEV=${GRAPHITE_GPU_SESSION_DEVICE:-cuda}
BUDGET=${GRAPHITE_GPU_SESSION_SECONDS:-470}
PY=${PYTHON:-python3}
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
START=$SECONDS
left() { echo $(( BUDGET - (SECONDS - START) )); }
log() { echo "[gpu_session $(( SECONDS - START ))s] $*" | tee -a "$OUT/session.log" >&2; }
status=0

if [ "$DEV" = cuda ]; then
  NODES=1000000; PAPER_SPLITS=0-9; STUDY_SPLITS="0 1 2"; REPEAT=20
else  # CPU rehearsal: same steps, small sizes
  NODES=20000; PAPER_SPLITS=0; STUDY_SPLITS="0"; REPEAT=2
fi
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null || true
  $PY -c "import torch, torch_geometric; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'pyg', torch_geometric.__version__)"
  git rev-parse HEAD 2>/dev/null || true; } > "$OUT/environment.txt" 2>&1

log "1. tests on $DEV"
GRAPHITE_TEST_DEVICE=$DEV timeout 150 $PY -m pytest -q -p no:cacheprovider -m "not slow" \
  tests/test_cuda.py tests/test_ops.py tests/test_nn.py tests/test_runner.py > "$OUT/pytest.txt" 2>&1 \
  || { status=1; log "tests failed (see pytest.txt)"; }
tail -n 3 "$OUT/pytest.txt" >&2

log "2. kernels: numerics and speed"
timeout 210 $PY benchmarks/gpu_check.py --device "$DEV" --nodes "$NODES" --repeat "$REPEAT" --train \
  --out "$OUT/gpu_check.json" > /dev/null 2> "$OUT/gpu_check.log" || { status=1; log "gpu_check reported a problem"; }
tail -n 12 "$OUT/gpu_check.log" >&2

log "3. GRAPHITE paper-size on Actor, splits $PAPER_SPLITS"
if [ "$(left)" -gt 60 ]; then
  set -- run --dataset actor --model graphite --config experiments/configs/actor/graphite-paper.yaml \
    --device "$DEV" --splits "$PAPER_SPLITS" --no-progress --out "$OUT/actor-graphite-paper.json"
  [ "$DEV" = cuda ] || set -- "$@" --set epochs=20
  timeout $(( $(left) - 30 )) $PY -m graphite "$@" > "$OUT/actor-graphite-paper.txt" 2>&1 \
    || { status=1; log "paper-size run stopped early (finished splits are in the JSON)"; }
  tail -n 14 "$OUT/actor-graphite-paper.txt" >&2
fi

log "4. Optuna study with the time left ($(left) s)"
if [ "$(left)" -gt 45 ]; then
  timeout $(( $(left) - 10 )) $PY -m graphite tune --dataset actor --model graphite \
    --config experiments/configs/actor/graphite-paper.yaml --splits $STUDY_SPLITS --trials 40 --workers 4 \
    --threads 2 --timeout $(( $(left) - 40 )) --device "$DEV" --storage "$OUT/study-journal.log" \
    --study actor-graphite-paper-gpu --export "$OUT/actor-graphite-paper-tuned.yaml" --no-plots --quiet \
    $([ "$DEV" = cuda ] || echo --set epochs=10) > "$OUT/study.txt" 2>&1 || log "study ended early (journal kept)"
  tail -n 8 "$OUT/study.txt" >&2
fi
log "done, status $status"
exit $status
