#!/usr/bin/env bash
# Issue 3 on one GPU, in one device call: two `small` teachers trained side by side for the same time on the same
# rendered clips with the same seed and recipe, one plain (Wan's RoPE only) and one with learned absolute positions
# (model.abs_pos=grid); then, for each, held-out prompt fidelity of its samples (train_teacher_gpu.py's evaluation,
# world perception model) and the diffusion-classifier test (archive/teacher_investigation/teacher_text_sensitivity.py: does its denoiser's
# loss rise when the direction word is wrong?).
# Usage (GPU machine, wheels installed, README "GPU"): bash archive/teacher_investigation/teacher_abs_pos_gpu.sh [BUDGET_S, default 280]
# Results (no weights: 69 MB each is over what a call brings back) in $OUT/teacher_abs_pos.tgz, one file (a call
# brings back a limited number of files: on 2026-12-06 five of the loose ones were left out). Environment (for a toy
# run): PRESET (small), DEVICE (cuda), N_CLIPS (20000), N_EVAL (128), SENS_PROMPTS (64), SETUP_S (260: seconds
# a training may take beyond BUDGET for rendering, compiling and evaluating before it is stopped).
set -u
BUDGET=${1:-280}
PRESET=${PRESET:-small}
DEVICE=${DEVICE:-cuda}
ROOT=/tmp/rf_abs
OUT=${OUT:-$ROOT/out}
RES=$ROOT/teacher_abs_pos
ARMS="none grid"
mkdir -p "$ROOT/assets" "$RES" "$OUT"
trap 'tar czf "$OUT/teacher_abs_pos.tgz" -C "$ROOT" teacher_abs_pos' EXIT
export RF_NB_ASSETS=$ROOT/assets PYTHONUNBUFFERED=1
abs_set() { [ "$1" = none ] || echo "--set model.abs_pos=$1"; }
t0=$(date +%s)
# the perception model that scores the samples is not shipped for `small`: it trains beside the teachers
# (~150-190 s on an H100 in earlier runs) and is done before their evaluation needs it
python3 -c "from rf_nb.perception import load_perception; load_perception('$PRESET')" 2>/dev/null || OMP_NUM_THREADS=4 python3 -m rf_nb.perception --preset "$PRESET" \
  --steps 1000 --batch 64 --workers 4 --device "$DEVICE" > "$RES/perception.log" 2>&1 &
for arm in $ARMS; do
  # shellcheck disable=SC2046
  OMP_NUM_THREADS=4 timeout $(( BUDGET + ${SETUP_S:-260} )) python3 ops/train_teacher_gpu.py --preset "$PRESET" \
    --time-budget "$BUDGET" --out "$ROOT/$arm" --workers 6 --n-clips "${N_CLIPS:-20000}" --n-eval "${N_EVAL:-128}" --set device="$DEVICE" $(abs_set $arm) \
    > "$RES/train_$arm.log" 2>&1 &
done
wait
echo "teachers trained and evaluated at +$(( $(date +%s) - t0 )) s"
for arm in $ARMS; do
  cp "$ROOT/$arm/teacher_${PRESET}_metrics.json" "$RES/metrics_$arm.json" 2>/dev/null
  cp "$ROOT/$arm/teacher_${PRESET}_log.jsonl" "$RES/log_$arm.jsonl" 2>/dev/null
  cp "$ROOT/$arm/fig/teacher_samples_$PRESET.png" "$RES/samples_$arm.png" 2>/dev/null
  # shellcheck disable=SC2046
  OMP_NUM_THREADS=4 python3 archive/teacher_investigation/teacher_text_sensitivity.py --preset "$PRESET" \
    --prompts "${SENS_PROMPTS:-64}" --draws 2 --device "$DEVICE" --out "$RES/sensitivity_$arm.json" $(abs_set $arm) \
    --set model.pretrained_path="$ROOT/$arm/teacher_$PRESET.safetensors" > "$RES/sensitivity_$arm.log" 2>&1 &
done
wait
echo "done at +$(( $(date +%s) - t0 )) s"
python3 - "$RES" $ARMS <<'EOF'
import json, sys
from pathlib import Path
res = Path(sys.argv[1])
for arm in sys.argv[2:]:
    try:
        m = json.loads((res / f"metrics_{arm}.json").read_text())
        g, tr = m["heldout"]["generated"], m["training"]
        print(arm, "steps", tr["steps"], "clips", tr["samples"], "loss", round(tr["loss"], 4),
              {k: round(v, 3) for k, v in g.items() if k.endswith("_acc")})
        s = json.loads((res / f"sensitivity_{arm}.json").read_text())
        print("   classifier", {a: v["all"] for a, v in s["accuracy"].items()},
              "loss rise, direction", s["relative_loss_increase"]["direction"])
    except Exception as e:  # a missing file is reported, not fatal: the logs beside it say why
        print(arm, "incomplete:", type(e).__name__, e)
EOF
