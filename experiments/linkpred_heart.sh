#!/bin/bash
# Issue 15: HeaRT's existing and hard-negative protocols on one dataset (resumable: a partial JSON is continued,
# a finished one is skipped). Usage: experiments/linkpred_heart.sh <dataset> [epochs] [seeds] [protocols] [models]
set -u
ds=$1; epochs=${2:-20}; seeds=${3:-10}; protocols=${4:-"heart-existing heart"}; models=${5:-"gcn:dot gcn:mlp sage:dot sage:mlp"}
out=experiments/results/linkpred/heart
py=${PYTHON:-python}
mkdir -p $out
for proto in $protocols; do
  for h in cn aa ra; do   # deterministic: one seed gives the numbers of all ten
    f=$out/$ds-$proto-$h.json
    [ -f $f ] && grep -q '"complete": true' $f && continue
    $py -m graphite linkpred --dataset $ds --heuristic $h --protocol $proto --seeds 1 --no-progress --out $f
  done
  for m in $models; do
    enc=${m%%:*}; dec=${m##*:}
    f=$out/$ds-$proto-$enc-$dec.json   # skipped only when complete with all the seeds asked for
    [ -f $f ] && grep -q '"complete": true' $f && grep -q "\"seeds_done\": $seeds," $f && continue
    $py -m graphite linkpred --dataset $ds --encoder $enc --decoder $dec --protocol $proto --seeds $seeds \
        --threads 1 --no-progress --set epochs=$epochs --set eval_every=5 --set patience=1000 \
        --set hidden_channels=128 --set lr=0.01 --set dropout=0.0 --out $f
  done
done
