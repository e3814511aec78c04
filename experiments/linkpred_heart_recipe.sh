#!/bin/bash
# Issue 15: GCN and SAGE with HeaRT's own hyperparameters for its existing setting
# (github.com/Juanhui28/HeaRT at 054fd3d, scripts/hyperparameters/existing_setting_small/{cora,citeseer}.sh:
# num_layers 1, MLP predictor, epochs 9999 with early stop after 10 evaluations every 5 epochs, batch 1024), 10
# seeds on the fixed split. Differences: our MLP decoder has 3 layers (HeaRT's citeseer SAGE uses 2) and the run is
# capped at 2000 epochs. Resumable like linkpred_heart.sh.
# With SPLIT_SEEDS="1 2 ... 9" it instead trains one seed on each of those fixed splits (--split-seed s --seeds 1,
# into heart/split-seeds/), the GNN counterpart of linkpred_split_variance.sh: how much the result moves with the
# split itself.
# Usage: [SPLIT_SEEDS="1 ... 9"] experiments/linkpred_heart_recipe.sh <dataset> [seeds] [protocol] [models]
set -u
ds=$1; seeds=${2:-10}; proto=${3:-heart-existing}; models=${4:-"gcn sage"}
out=experiments/results/linkpred/heart
py=${PYTHON:-python}
mkdir -p $out $out/split-seeds
for enc in $models; do
  case $ds-$enc in   # lr dropout l2 hidden, as HeaRT's scripts give them
    cora-gcn|citeseer-gcn) hp="0.01 0.3 1e-4 128";;
    cora-sage) hp="0.01 0.5 1e-7 128";;
    citeseer-sage) hp="0.001 0.1 1e-7 256";;
    *) echo "no HeaRT recipe for $ds / $enc" >&2; exit 2;;
  esac
  set -- $hp
  for s in ${SPLIT_SEEDS:-fixed}; do
    if [ "$s" = fixed ]; then
      f=$out/$ds-$proto-$enc-mlp-heartrecipe.json; n=$seeds; split=()
    else
      f=$out/split-seeds/$ds-$proto-$enc-mlp-heartrecipe-split$s.json; n=1; split=(--split-seed $s)
    fi
    [ -f $f ] && grep -q '"complete": true' $f && grep -q "\"seeds_done\": $n," $f && continue
    $py -m graphite linkpred --dataset $ds --encoder $enc --decoder mlp --protocol $proto --seeds $n "${split[@]}" \
        --threads 1 --no-progress --set num_layers=1 --set lr=$1 --set dropout=$2 --set decoder_dropout=$2 \
        --set weight_decay=$3 --set hidden_channels=$4 --set epochs=2000 --set eval_every=5 --set patience=50 \
        --set batch_size=1024 --out $f
  done
done
