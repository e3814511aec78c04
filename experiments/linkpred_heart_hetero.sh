#!/bin/bash
# Issue 15: heterophilic graphs under HeaRT's hard negatives (resumable: a partial JSON is continued by the same
# command, a finished one is skipped). Usage: experiments/linkpred_heart_hetero.sh <dataset> [seeds] [models]
# models: enc:dec[:sep][:graphite] (sep = ego/neighbour separation, graphite = --transform graphite).
# Budget per model: $EPOCHS epochs (default 10; another value adds -e$EPOCHS to the file name), validation every 10,
# hidden 64, batch 8192, lr 0.01, no dropout, selection on validation MRR.
set -u
ds=$1; seeds=${2:-10}
models=${3:-"gcn:dot gcn:mlp gcn:mlp:sep sage:mlp gcn:mlp:sep:graphite sage:mlp:graphite"}
out=experiments/results/linkpred/heart
py=${PYTHON:-python}
epochs=${EPOCHS:-10}; suffix=; [ "$epochs" != 10 ] && suffix=-e$epochs
mkdir -p $out
for m in $models; do
  IFS=: read -r enc dec rest <<< "$m"
  name=$ds-heart-$enc-$dec; extra=()
  case ":$rest:" in *:sep:*) name=$name-sep; extra+=(--separate-ego);; esac
  case ":$rest:" in *:graphite:*) name=$name-graphite; extra+=(--transform graphite);; esac
  f=$out/$name$suffix.json
  [ -f $f ] && grep -q '"complete": true' $f && grep -q "\"seeds_done\": $seeds," $f && continue
  $py -m graphite linkpred --dataset $ds --protocol heart --seeds $seeds --threads 1 --no-progress \
      --set epochs=$epochs --set eval_every=10 --set patience=1000 --set hidden_channels=64 --set lr=0.01 \
      --set dropout=0.0 --set batch_size=8192 --encoder $enc --decoder $dec "${extra[@]}" --out $f
done
