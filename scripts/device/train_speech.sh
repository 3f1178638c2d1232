#!/bin/bash
# GPU driver (run from the repo root on a CUDA machine with $OUT set): CUDA smoke tests, then Tacotron 2 and WaveNet (cpu-preset models) trained side by side
# on the GPU for a fixed wall-clock budget (steps sized by a short probe so the cosine schedule completes).
# Expects .gpu/whl (soundfile, cffi, pycparser wheels for the machine's Python, or SKIP_PIP=1) and .gpu/data/grid-s1
# written by scripts/device/pack_grid.py. This is what trained the shipped wavenet-grid (README).
set -u
T0=$(date +%s)
[ -n "${SKIP_PIP:-}" ] || python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .gpu/whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD/src PYTHONUNBUFFERED=1 SIGHTSOUND_CACHE=/tmp/sscache OMP_NUM_THREADS=4 TQDM_DISABLE=1
LOG=$OUT/log.txt
{
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
python3 -c "import torch, sightsound, soundfile; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
timeout 45 python3 -m pytest tests/audio/test_functional_properties.py -q -k cuda -p no:cacheprovider 2>&1 | tail -3
} >>$LOG 2>&1
TRAIN_S=${TRAIN_S:-360}
TB=${TB:-48}; WB=${WB:-32}
TACO="recipes/tacotron2_grid.py --preset cpu --data .gpu/data --device ${DEV:-cuda} --no-progress --set data.val_every=200 --set train.batch_size=$TB"
WAVE="recipes/wavenet_grid.py --preset cpu --data .gpu/data --device ${DEV:-cuda} --no-progress --set data.val_every=200 --set train.batch_size=$WB"
# probe: 40 steps each, concurrently (the rate we will see when both train)
python3 -m sightsound train $TACO --out /tmp/p-taco --set train.max_steps=40 --set train.log_every=10 --set train.eval_every=1000 --set train.save_every=1000 >>$LOG 2>&1 &
python3 -m sightsound train $WAVE --out /tmp/p-wave --set train.max_steps=150 --set train.log_every=50 --set train.eval_every=1000 --set train.save_every=1000 >>$LOG 2>&1 &
wait
steps() { python3 - "$1" "$2" "$3" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if '"examples_per_s"' in l]
rate = rows[-1]["examples_per_s"] / int(sys.argv[2])
print(max(100, int(rate * float(sys.argv[3]) * 0.92)))
PY
}
steps_or() { steps "$@" 2>>$LOG || echo 2000; }
NT=$(steps_or /tmp/p-taco/metrics.jsonl $TB $TRAIN_S); NW=$(steps_or /tmp/p-wave/metrics.jsonl $WB $TRAIN_S)
echo "probe done at $(( $(date +%s) - T0 )) s: tacotron $NT steps, wavenet $NW steps" >>$LOG
timeout $((TRAIN_S+80)) python3 -m sightsound train $TACO --out /tmp/taco --set train.max_steps=$NT --set train.eval_every=$((NT/6)) --set train.save_every=$((NT/3)) >>$LOG 2>&1 &
timeout $((TRAIN_S+80)) python3 -m sightsound train $WAVE --out /tmp/wave --set train.max_steps=$NW --set train.eval_every=$((NW/6)) --set train.save_every=$((NW/3)) --set train.log_every=500 >>$LOG 2>&1 &
wait
echo "training done at $(( $(date +%s) - T0 )) s" >>$LOG
ship() {  # the final weights, or the newest saved checkpoint when training was cut off
  w=""; [ -f $1/model.safetensors ] || w="--weights $(cd $1 && ls -d checkpoints/*/model.safetensors | tail -1)"
  python3 scripts/ship_checkpoint.py $1 $2 ${3:-} $w >>$LOG 2>&1
}
ship /tmp/taco $OUT/taco --half; ship /tmp/wave $OUT/wave
cp /tmp/taco/metrics.jsonl $OUT/taco/; cp /tmp/wave/metrics.jsonl $OUT/wave/
echo "all done at $(( $(date +%s) - T0 )) s" >>$LOG
