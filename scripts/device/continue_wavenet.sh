#!/bin/bash
# GPU driver (repo root, CUDA machine, $OUT set): continue the shipped wavenet-grid on the GPU for $STEPS steps
# (batch 32, lr 5e-4 cosine, no warm-up, bf16) and ship the result to $OUT/wave (+ metrics.jsonl, log.txt).
# Expects .gpu/whl (soundfile, cffi, pycparser wheels for the machine's Python, or SKIP_PIP=1) and .gpu/data/grid-s1
# written by scripts/device/pack_grid.py. Cut off at $LIM seconds, it ships the newest saved checkpoint.
# INIT=none trains from scratch instead; SETS adds overrides, e.g. SETS="--set model.pre_emphasis=0.9".
set -u
T0=$(date +%s)
[ -n "${SKIP_PIP:-}" ] || python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .gpu/whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD/src PYTHONUNBUFFERED=1 TQDM_DISABLE=1 SIGHTSOUND_CACHE=/tmp/sscache OMP_NUM_THREADS=4
STEPS=${STEPS:-6000}; LIM=${LIM:-400}; LOG=$OUT/log.txt
INIT=${INIT:-src/sightsound/pretrained/checkpoints/wavenet-grid}
[ "$INIT" = none ] && INIT_SET="" || INIT_SET="--set train.init_from=$INIT"
timeout $LIM python3 -m sightsound train recipes/wavenet_grid.py --preset cpu --data .gpu/data --device ${DEV:-cuda} \
  --no-progress --out /tmp/wave --set data.val_every=200 --set train.batch_size=32 --set train.max_steps=$STEPS \
  --set train.lr=5e-4 --set train.warmup_steps=0 $INIT_SET ${SETS:-} \
  --set train.save_every=1000 --set train.eval_every=$((STEPS/4)) --set train.log_every=500 >>$LOG 2>&1
echo "training ended at $(( $(date +%s) - T0 )) s" >>$LOG
w=""; [ -f /tmp/wave/model.safetensors ] || w="--weights $(cd /tmp/wave && ls -d checkpoints/step_*/model.safetensors | tail -1)"
python3 scripts/ship_checkpoint.py /tmp/wave $OUT/wave $w >>$LOG 2>&1
cp /tmp/wave/metrics.jsonl $OUT/wave/
echo "all done at $(( $(date +%s) - T0 )) s" >>$LOG
