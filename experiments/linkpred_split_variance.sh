#!/bin/bash
# Issue 15: how much the heuristics' heart-existing MRR moves with the fixed split itself. The heuristics are
# deterministic given the split, so the spread over split seeds is the spread a reader should expect between our
# split (seed 0) and HeaRT's (its own split files, not downloadable here). Resumable (finished files are skipped).
# Usage: experiments/linkpred_split_variance.sh <dataset> [first_seed] [last_seed] [heuristics]
set -u
ds=$1; first=${2:-1}; last=${3:-9}; hs=${4:-"cn aa ra"}
out=experiments/results/linkpred/heart/split-seeds
py=${PYTHON:-python}
mkdir -p $out
for s in $(seq $first $last); do
  for h in $hs; do
    f=$out/$ds-heart-existing-$h-split$s.json
    [ -f $f ] && grep -q '"complete": true' $f && continue
    $py -m graphite linkpred --dataset $ds --heuristic $h --protocol heart-existing --split-seed $s --seeds 1 \
        --no-progress --threads 1 --out $f
  done
done
