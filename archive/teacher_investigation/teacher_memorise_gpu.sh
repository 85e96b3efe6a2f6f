#!/usr/bin/env bash
# Issue 3, one device call: archive/teacher_investigation/teacher_memorise.py with 256 random-start renders per direction, trained with the
# recipe under which four fixed clips were learned (6,000 steps of batch 64, README "The same check with 16x the clips
# per step"; the CPU runs had 1,200 of batch 32), for the `slowly` and the `quickly` template side by side on one GPU
# (evaluations on the machine's CPUs). Question: given that training, does the tiny architecture learn what the
# direction word does when the object starts anywhere, or do its samples stay at chance? Each arm keeps its JSON
# after every evaluation, so a run cut by LIMIT (s, default 460) keeps its curve; everything is packed into
# $OUT/teacher_memorise_gpu.tgz. BATCH (default 64) is the clips per step; SPEEDS (default "slowly quickly") the
# templates; ABS_POS=grid|factorised gives every arm learned absolute positions (--abs-pos; file names get the suffix).
# Usage (wheels installed, see README "GPU"): bash archive/teacher_investigation/teacher_memorise_gpu.sh [STEPS] [EVERY]
# The follow-up that 2026-12-06 had no device time for (plain twin: README, 4,000 steps):
#   SPEEDS=quickly ABS_POS=factorised LIMIT=215 bash archive/teacher_investigation/teacher_memorise_gpu.sh 4000 4000
set -u
STEPS=${1:-6000}; EVERY=${2:-2000}; BATCH=${BATCH:-64}; LIMIT=${LIMIT:-460}
OUT=${OUT:-/tmp/teacher_memorise_gpu}; W=${WORK:-/tmp/teacher_memorise_gpu_work}; mkdir -p "$OUT" "$W"
pack() { tar czf "$OUT/teacher_memorise_gpu.tgz" -C "$W" . 2>/dev/null; }
trap pack EXIT
for speed in ${SPEEDS:-slowly quickly}; do
  OMP_NUM_THREADS=7 timeout "$LIMIT" python3 archive/teacher_investigation/teacher_memorise.py --preset tiny --device cuda \
    --steps "$STEPS" --every "$EVERY" --renders 256 --batch "$BATCH" ${ABS_POS:+--abs-pos "$ABS_POS"} \
    --object "a red striped square moves $speed {d} over a gray grid" \
    --out "$W/teacher_memorise_tiny_gpu_${STEPS}_$speed${ABS_POS:+_$ABS_POS}.json" > "$W/$speed.log" 2>&1 &
done
wait
tail -n 5 "$W"/*.log
