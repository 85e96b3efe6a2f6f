#!/usr/bin/env bash
# Every tiny run after the trajectories (ODE initialisation and its trajectory-count ablation, Reward-Forcing, its
# ablations and learning-rate check, DMD, reward + DMD, the open questions) for SEEDS seeds on one GPU in one call,
# then the summary and results stages (main table, claims, figures). After `trajectories,ode` every (stage, seed)
# pair is independent, so each runs in its own process, PARALLEL at a time (16 CPU cores share the one GPU; the
# evaluator's optical flow and perception are CPU work). Everything a person reads comes back in $OUT/results.tgz
# (figures, metrics, histories, executed notebooks, logs), packed on exit or when the budget runs out.
# Usage on the GPU machine (wheels installed, see README "GPU"):
#   bash ops/stage2_gpu.sh 3 380 24      # seeds, seconds allowed for the parallel part, processes at a time
set -u
SEEDS=${1:-3}
BUDGET=${2:-380}
PARALLEL=${3:-24}
export RF_NB_RUNS=/tmp/rf_runs RF_NB_FIGURES=/tmp/rf_fig OMP_NUM_THREADS=1 PRESET=tiny   # PRESET: where wait_for_inputs looks
mkdir -p "$RF_NB_RUNS" "$RF_NB_FIGURES" "$RF_NB_RUNS/logs"
source "$(dirname "$0")/gpu_lib.sh"
pack() { pack_results "$OUT/results.tgz" /tmp/rf_fig /tmp/rf_runs; }
trap pack EXIT
trap 'pack; exit 143' TERM
rp() {
  followed python3 -m rf_nb.reproduce reproduce --preset tiny --set dtype=float32 --figures-dir "$RF_NB_FIGURES" "$@"
}
export -f rp
t0=$(date +%s)
OMP_NUM_THREADS=8 rp --stages trajectories
for k in $(seq 0 $(( SEEDS - 1 ))); do OMP_NUM_THREADS=4 rp --stages ode --seeds "$k," & done; wait
echo "trajectories + ODE after $(( $(date +%s) - t0 )) s"
STAGES=${STAGE2:-$(python3 -c "from rf_nb.reproduce import STAGES; print(' '.join(s.name for s in STAGES if s.per_seed and s.name != 'ode'))")}
run_stage_seeds "$BUDGET" "$PARALLEL" "$STAGES" "$SEEDS"
echo "parallel part after $(( $(date +%s) - t0 )) s"
OMP_NUM_THREADS=8 rp --stages reward_summary,results
cat "$RF_NB_FIGURES/main_table_tiny.md" "$RF_NB_FIGURES/claims_tiny.md"
echo "all done after $(( $(date +%s) - t0 )) s"
