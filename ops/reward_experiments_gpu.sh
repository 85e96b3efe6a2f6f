#!/usr/bin/env bash
# The tiny reward experiments on one GPU, in one call: train the shipped world rewards (image and video) with more
# pairs than a CPU affords, then `rf-nb reproduce` from the trajectories to the reward summary for SEEDS seeds.
# Everything a person reads comes back in $OUT/results.tgz (figures, metrics, histories, executed notebooks,
# the two reward assets). Usage on the GPU machine (wheels installed, see README "GPU"):
#   bash ops/reward_experiments_gpu.sh 2
set -u
SEEDS=${1:-2}
export RF_NB_RUNS=/tmp/rf_runs RF_NB_FIGURES=/tmp/rf_fig
mkdir -p "$RF_NB_RUNS/logs" "$RF_NB_FIGURES" /tmp/rf_assets
source "$(dirname "$0")/gpu_lib.sh"
pack() {
  tar czf "$OUT/results.tgz" -C / tmp/rf_fig tmp/rf_assets \
    $(cd / && find tmp/rf_runs -name metrics.json -o -name history.jsonl -o -name '*.ipynb' -o -name stage.json) \
    >/dev/null 2>&1
  echo "packed $(du -h "$OUT/results.tgz" | cut -f1)"
}
trap pack EXIT
t0=$(date +%s)
OMP_NUM_THREADS=4 timeout 300 python3 -m rf_nb.rewards --preset tiny --pairs 20000 --steps 3000 --batch 128 --workers 6 --device cuda \
  --out /tmp/rf_assets/reward_tiny.safetensors > /tmp/rf_assets/reward_image.log 2>&1 &
OMP_NUM_THREADS=4 timeout 300 python3 -m rf_nb.rewards --preset tiny --video --pairs 20000 --steps 2000 --batch 64 --workers 6 --device cuda \
  --out /tmp/rf_assets/reward_video_tiny.safetensors > /tmp/rf_assets/reward_video.log 2>&1 &
followed python3 -m rf_nb.reproduce reproduce --preset tiny --seeds "$SEEDS" --stages trajectories,ode \
  --set dtype=float32 --figures-dir "$RF_NB_FIGURES"
wait
echo "rewards trained after $(( $(date +%s) - t0 )) s"; for f in /tmp/rf_assets/reward_*.log; do tail -n 3 "$f"; done
cp /tmp/rf_assets/reward_*tiny.* rf_nb/assets/     # a reward that failed to train: the shipped one stays
STAGES=reward,reward_random,reward_all,reward_noinit
[ -f rf_nb/assets/reward_video_tiny.safetensors ] && STAGES=$STAGES,reward_video
followed python3 -m rf_nb.reproduce reproduce --preset tiny --seeds "$SEEDS" --stages $STAGES,reward_summary \
  --set dtype=float32 --figures-dir "$RF_NB_FIGURES"
echo "all done after $(( $(date +%s) - t0 )) s"
cat "$RF_NB_FIGURES/reward_table_tiny.md"
