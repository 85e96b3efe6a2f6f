#!/usr/bin/env bash
# Train several tiny-teacher variants at once on one GPU (the tiny model is launch-bound, so they share it well)
# and keep each one's weights, log, metrics and samples under $OUT/<variant>. Used to choose the shipped teacher;
# the figures are in BENCHMARKS.md. Usage (GPU machine, wheels installed): bash archive/teacher_investigation/teacher_sweep_gpu.sh 400
set -u
BUDGET=${1:-400}
COMMON=(--preset tiny --time-budget "$BUDGET" --workers 4 --n-eval 128
        --set train.teacher.steps=30000 --set train.teacher.batch_size=256 --set train.teacher.lr=5e-4)
declare -A VARIANTS=(
  [p8]=""
  [p8_deep]="--set model.num_layers=6 --set model.ffn_dim=1024"
  [p4]="--set model.patch_size=[1,4,4]"
)
for name in "${!VARIANTS[@]}"; do
  mkdir -p "$OUT/$name"
  # shellcheck disable=SC2086
  OMP_NUM_THREADS=4 timeout $((BUDGET + 120)) python3 ops/train_teacher_gpu.py "${COMMON[@]}" --out "$OUT/$name" ${VARIANTS[$name]} > "$OUT/$name/stdout.txt" 2>&1 &
done
wait
for name in "${!VARIANTS[@]}"; do echo "== $name"; tail -5 "$OUT/$name/stdout.txt"; done
