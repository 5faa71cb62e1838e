#!/usr/bin/env bash
# The `paper` presets on a GPU: does `--device cuda` train, checkpoint, resume and evaluate,
# and how long does an iteration take? Writes its logs under $OUT (default: runs/gpu_check).
#
#     bash scripts/gpu_check.sh                 # on a CUDA machine with pearl_lite importable
#     PRESET=smoke DEVICE=cpu bash scripts/gpu_check.sh   # a dry run of the same steps on a CPU
#     STEPS="2 3" bash scripts/gpu_check.sh     # only some of the steps below
#
# Steps (each under a time limit, so one slow step cannot eat the rest):
#   1. benchmarks/pearl_step.py on the device: gradient steps/s at the paper's cheetah-vel shapes;
#   2. cheetah-vel, PRESET, 2 iterations: seconds per iteration split into collect/train/eval;
#   3. sparse-point-robot, PRESET: 2 iterations, then --resume to 3 (checkpoint round trip on
#      the device), then pearl_lite.evaluate of the result on the CPU (a GPU-trained agent must
#      load anywhere).
set -uo pipefail
PRESET=${PRESET:-paper}
DEVICE=${DEVICE:-cuda}
OUT=${OUT:-runs/gpu_check}
RUNS=$(mktemp -d)
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
PY=${PY:-python3}
STEPS=${STEPS:-1 2 3}
want() { [[ " $STEPS " == *" $1 "* ]]; }

echo "== device"
if [ "$DEVICE" = cuda ]; then nvidia-smi --query-gpu=name,memory.total --format=csv; fi
$PY -c "import torch, gymnasium, mujoco; print('torch', torch.__version__, 'gymnasium', \
gymnasium.__version__, 'mujoco', mujoco.__version__, 'cuda', torch.cuda.is_available())"

if want 1; then
echo "== 1. gradient step"
timeout 90 $PY benchmarks/pearl_step.py --device "$DEVICE" --steps 100 \
    | tee "$OUT/pearl_step_$DEVICE.txt"
fi

summary() {  # seconds per iteration from a run's progress.csv
    $PY - "$1" <<'EOF'
import sys
from pearl_lite.utils import read_csv
log = read_csv(sys.argv[1] + "/progress.csv")
for i in range(len(log["iteration"])):
    print(f"  iteration {int(log['iteration'][i])}: collect {log['time_collect'][i]:.1f} s, "
          f"train {log['time_train'][i]:.1f} s, eval {log['time_eval'][i]:.1f} s, "
          f"env steps {int(log['env_steps'][i])}, grad steps {int(log['grad_steps'][i])}, "
          f"test return {log['test_return'][i]}")
EOF
}

if want 2; then
echo "== 2. cheetah-vel, $PRESET, 2 iterations on $DEVICE"
timeout 180 $PY -m pearl_lite.train cheetah-vel --preset "$PRESET" --seed 0 --device "$DEVICE" \
    --out "$RUNS/cv" --iterations 2 --no-progress
summary "$RUNS/cv" | tee "$OUT/cheetah_vel_$PRESET.txt"
fi

if want 3; then
echo "== 3. sparse-point-robot, $PRESET: 2 iterations, resume to 3, evaluate on the CPU"
timeout 120 $PY -m pearl_lite.train sparse-point-robot --preset "$PRESET" --seed 0 \
    --device "$DEVICE" --out "$RUNS/spr" --iterations 2 --no-progress \
&& timeout 80 $PY -m pearl_lite.train sparse-point-robot --preset "$PRESET" --seed 0 \
    --device "$DEVICE" --out "$RUNS/spr" --iterations 3 --resume --no-progress
summary "$RUNS/spr" | tee "$OUT/sparse_point_robot_$PRESET.txt"
timeout 60 $PY -m pearl_lite.evaluate "$RUNS/spr" --num-evals 1 --out "$OUT/spr_eval.json" \
    | tail -5
fi
rm -rf "$RUNS"
