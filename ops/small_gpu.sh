#!/usr/bin/env bash
# The `small` preset (64x64, 21 frames, a 17M-parameter teacher) end to end on one GPU, in phases that each fit one
# device call (<= 10 min). State lives under /tmp/rf_small (kept while the machine stays warm between calls); every
# phase packs what a person reads (figures, metrics, histories, executed notebooks, logs) into $OUT/small.tgz.
# On the GPU machine (carry .whl-small: each phase but `wait` installs it when needed, ensure_wheels):
#   bash ops/small_gpu.sh assets            # perception model, image + video world rewards, teacher, side by side
#   bash ops/small_gpu.sh stage1            # world + teacher checks, 1,400 trajectories, ODE students (SEEDS)
#   bash ops/small_gpu.sh stage2 [BUDGET] [PARALLEL]   # per-seed stage-2 runs, most important first
#   bash ops/small_gpu.sh results           # reward summary, main table, claims, figures
#   bash ops/small_gpu.sh all               # every phase in order, overlapped, inside a deadline (see below)
#   bash ops/small_gpu.sh start             # `all` in the background, in its own session (it outlives the call)
#   bash ops/small_gpu.sh wait [SECONDS]    # follow `all` for a while, then pack
# One lease, several calls: the first call runs `start` and follows it with `wait`;
# each later call (back to back, so the machine stays warm) runs `wait` again. `all` stops its queue at
# $ROOT/deadline (epoch seconds, default start + TOTAL, TOTAL default 1500) minus RESULTS_S (default 180), starts no
# stage in the CLOSE_S (default 120) seconds before that, nor one whose expected length (expected_stage_s in
# gpu_lib.sh) ends after it, then writes the tables; a later call may move the deadline (DEADLINE_IN) when it knows how
# much device time is left, but a run skipped for its length stays skipped: give TOTAL the whole lease's time.
# Environment: SEEDS (default 3), TEACHER_BUDGET (s, default 420; compiled and alone on an H100 that is ~3,300 steps
# of batch 64), TEACHER_STEPS (a fixed schedule instead of one fitted to the budget, which then only caps it: the
# same recipe in every lease, e.g. 767, the 2026-12-06 teacher's fitted length), TRAIN (assets to train when
# missing, default "teacher perception reward reward_video"; `all` leaves the video reward out of the default when
# its queue has no reward_video stage), VIDEO_WORKERS (render processes of the video reward, default 5),
# EVAL_PROMPTS (held-out prompts per evaluation, default 32), ABS_POS (model.abs_pos of every model: grid |
# factorised), STAGE2 (stage names of the stage2 phase), GROUP (`all`'s rows: main = C1-C3, dmd = C4, ablations = C5
# and Q1-Q3, variants = C2 and C3 at lr 5e-6, Q2 and all frames, lambdas = reward + DMD at lambda 0.01 and 1, all =
# every row, more than one lease holds on an H100), QUEUE and PARALLEL (the stages of `all`'s queue, default from
# GROUP, and how many run at once, default 10), MPS (1, the default: `all` runs its processes under an NVIDIA MPS
# daemon, mps_start in gpu_lib.sh, 1.6x the DMD steps/s of 10 time-sliced processes on an H100, BENCHMARKS.md; 0:
# time-sliced). Trained weights found in .assets-small/ (a carried folder) are used instead of training them again.
set -u
PHASE=${1:?phase: assets | stage1 | stage2 | results | all | start | wait}
SEEDS=${SEEDS:-3}
ROOT=/tmp/rf_small
export RF_NB_RUNS=$ROOT/runs RF_NB_FIGURES=$ROOT/figures RF_NB_ASSETS=$ROOT/assets OMP_NUM_THREADS=2
mkdir -p "$RF_NB_RUNS/logs" "$RF_NB_FIGURES" "$RF_NB_ASSETS"
OUT=${OUT:-$ROOT/out}; mkdir -p "$OUT"
[ -d .assets-small ] && cp -n .assets-small/* "$RF_NB_ASSETS"/ 2>/dev/null
TRAIN_GIVEN=${TRAIN+yes}                 # `all` trims the default list to its queue (assets_for_queue), never a given one
TRAIN=${TRAIN:-"teacher perception reward reward_video"}
missing() { case " $TRAIN " in *" $1 "*) [ ! -f "$RF_NB_ASSETS/$1_small.safetensors" ];; *) false;; esac; }
source "$(dirname "$0")/gpu_lib.sh"
case $PHASE in wait) ;; *) ensure_wheels || exit 2;; esac     # the wheels of .whl-small (WHEELS), once per machine
pack() { pack_results "$OUT/small.tgz" "$RF_NB_FIGURES" "$RF_NB_RUNS" "$RF_NB_ASSETS"; }
trap pack EXIT
trap 'pack; exit 143' TERM
# ABS_POS=grid|factorised: every model of the run gets learned absolute positions (model.abs_pos; issue 3)
ABS_SET=${ABS_POS:+--set model.abs_pos=$ABS_POS}
# DMD_COMPILE=inductor: the reproduction's dmd.compile (the DMD-type runs compile their three models);
# DMD_ROLLOUTS=per_cycle: dmd.critic_rollouts (one rollout per cycle for the critic-only steps). BENCHMARKS.md, the
# `small` DMD step: ten processes under MPS on an H100 ran 2.07x the steps/s compiled, 2.45x with both (1.04x with
# per_cycle alone); ~210 s of compiling when ten compile at once. Neither used in a lease yet.
DMD_SET="${DMD_COMPILE:+--set dmd.compile=$DMD_COMPILE} ${DMD_ROLLOUTS:+--set dmd.critic_rollouts=$DMD_ROLLOUTS}"
export ABS_SET DMD_SET
rp() {
  followed python3 -m rf_nb.reproduce reproduce --preset small --figures-dir "$RF_NB_FIGURES" \
    --set eval.num_prompts="${EVAL_PROMPTS:-32}" $ABS_SET $DMD_SET "$@"
}
export -f rp
t0=$(date +%s)
log=$RF_NB_RUNS/logs
# timed NAME CMD... : CMD, with "NAME: +start -> +end s (rc N)" (seconds since this phase began) in the timeline
timed() {
  local name=$1 s rc; s=$(date +%s); shift
  "$@"; rc=$?
  echo "$PHASE $name: +$(( s - t0 )) -> +$(( $(date +%s) - t0 )) s (rc $rc)" >> "$log/timeline.txt"
  return $rc
}
case $PHASE in
assets)
  # rendering is CPU work (64x64x21 clips, ~60/s per process): the four trainings share 16 cores. The video reward
  # was the last asset (381-434 s; 2026-12-06: ~240 s before its 142 s of training, mostly rendering its 10,600
  # pairs in 2 processes) while the teacher's 6 render processes end after ~100 s: VIDEO_WORKERS (default 5, was 2)
  # render the pairs, predicted ~100 s of rendering and ~270 s in all (not measured yet)
  missing teacher && timed teacher python3 ops/train_teacher_gpu.py --preset small --time-budget "${TEACHER_BUDGET:-420}" --out "$RF_NB_ASSETS" \
    --workers "${TEACHER_WORKERS:-6}" --n-clips 20000 --n-eval 64 ${TEACHER_STEPS:+--set train.teacher.steps=$TEACHER_STEPS} \
    ${TEACHER_SET:-} $ABS_SET > "$log/teacher_train.log" 2>&1 &
  missing perception && timed perception python3 -m rf_nb.perception --preset small --steps 1000 --batch 64 --workers 5 --device cuda \
    > "$log/perception.log" 2>&1 &
  missing reward && timed reward python3 -m rf_nb.rewards --preset small --pairs 10000 --steps 3000 --batch 128 --workers 2 --device cuda \
    > "$log/reward_image.log" 2>&1 &
  missing reward_video && timed reward_video python3 -m rf_nb.rewards --preset small --video --pairs 10000 --steps 2000 --batch 64 \
    --workers "${VIDEO_WORKERS:-5}" --device cuda \
    > "$log/reward_video.log" 2>&1 &
  wait
  ls -la "$RF_NB_ASSETS"; tail -n 3 "$log"/*.log 2>/dev/null; tail -n 30 "$log/teacher_train.log" 2>/dev/null
  ;;
stage1)
  OMP_NUM_THREADS=8 rp --stages world,teacher,trajectories
  for k in $(seq 0 $(( SEEDS - 1 ))); do OMP_NUM_THREADS=4 rp --stages ode --seeds "$k," & done; wait
  ;;
stage2)
  BUDGET=${2:-540}; PARALLEL=${3:-8}
  STAGES=${STAGE2:-"reward reward_random dmd reward_lr5e-06 reward_random_lr5e-06 reward_all reward_video reward_noinit \
reward_bidir dmd_reward_0.1 dmd_reward_0.01 dmd_reward_1 ode_traj100 ode_traj500"}
  run_stage_seeds "$BUDGET" "$PARALLEL" "$STAGES" "$SEEDS"
  ;;
results)
  OMP_NUM_THREADS=8 rp --stages reward_summary,results --seeds "$SEEDS"
  cat "$RF_NB_FIGURES/main_table_small.md" "$RF_NB_FIGURES/claims_small.md"
  lease_copies "${GROUP:-all}" "$RF_NB_FIGURES"      # e.g. claims_small-dmd.md: this lease's column in the overview
  ;;
all)
  # the same work as assets, stage1, stage2 and results, overlapped: once the assets exist, the world and teacher
  # checks and the trajectories run beside one queue of PARALLEL processes (ODE students, their trajectory-count
  # ablations, every stage-2 run), each queued stage waiting for what it reads (wait_for_inputs in gpu_lib.sh), the
  # longest runs (DMD) first among those that can start early; the tables at the deadline
  # the rows one 30-minute lease holds on an H100 (2026-12-05 timings): the stage registry's groups, in queue order
  # (`rf-nb stages --group NAME`; each group has its own Reward-Forcing row: two leases' rows differ by more than
  # their seeds)
  default=$(python3 -m rf_nb.reproduce stages --group "${GROUP:-all}") || exit 2
  default=$(echo $default)                          # one line
  [ -f "$ROOT/deadline" ] || echo $(( t0 + ${TOTAL:-1500} )) > "$ROOT/deadline"
  echo "all: started $(date -u +%T), deadline $(date -u -d @"$(cat "$ROOT/deadline")" +%T)" | tee -a "$log/timeline.txt"
  # what bounds the run: GPU utilisation and memory, CPU load average, processes, every 20 s (logs/usage.txt)
  ( while [ ! -f "$ROOT/all.done" ]; do echo "+$(( $(date +%s) - t0 )) s gpu $(nvidia-smi --query-gpu=utilization.gpu,memory.used \
      --format=csv,noheader 2>/dev/null | tr -d '\n') load $(cut -d' ' -f1 /proc/loadavg) procs $(pgrep -c -f rf_nb.reproduce)" \
      >> "$log/usage.txt"; sleep 20; done ) &
  QUEUE=${QUEUE:-$default}
  [ "${MPS:-1}" = 1 ] && mps_start "$ROOT/mps" >> "$log/timeline.txt"
  [ -z "$TRAIN_GIVEN" ] && TRAIN=$(assets_for_queue "$QUEUE" "$TRAIN")
  echo "assets to train when missing: $TRAIN" >> "$log/timeline.txt"
  TRAIN=$TRAIN bash "$0" assets
  echo "assets done at +$(( $(date +%s) - t0 )) s" | tee -a "$log/timeline.txt"
  failed=$(missing_assets "$TRAIN" | tr '\n' ' ')
  if [ -n "$failed" ]; then
    echo "all: stopped before the queue: no trained $failed(logs: $log/teacher_train.log, perception.log," \
      "reward_image.log, reward_video.log)" | tee -a "$log/timeline.txt"
    mps_stop; touch "$ROOT/all.done"; exit 1
  fi
  mkdir -p "$log/queue"; touch "$log/queue/trajectories-0"
  OMP_NUM_THREADS=2 rp --stages world > "$log/world.log" 2>&1 & checks=$!
  OMP_NUM_THREADS=2 rp --stages teacher > "$log/teacher.log" 2>&1 & checks="$checks $!"
  ( OMP_NUM_THREADS=4 rp --stages trajectories > "$log/trajectories.log" 2>&1; rm -f "$log/queue/trajectories-0"
    echo "trajectories done at +$(( $(date +%s) - t0 )) s" >> "$log/timeline.txt" ) & checks="$checks $!"
  echo "queue ($(echo $QUEUE | wc -w) stages x $SEEDS seeds, ${PARALLEL:-10} at a time): $QUEUE" >> "$log/timeline.txt"
  DEADLINE_FILE=$ROOT/deadline RESULTS_S=${RESULTS_S:-180} run_stage_seeds 100000 "${PARALLEL:-10}" "$QUEUE" "$SEEDS"
  wait $checks                                      # not `wait`: the usage sampler runs until all.done
  echo "queue done at +$(( $(date +%s) - t0 )) s" | tee -a "$log/timeline.txt"
  OMP_NUM_THREADS=8 rp --stages reward_summary,results --seeds "$SEEDS"
  cat "$RF_NB_FIGURES/main_table_small.md" "$RF_NB_FIGURES/claims_small.md"
  lease_copies "${GROUP:-all}" "$RF_NB_FIGURES"      # e.g. claims_small-dmd.md: this lease's column in the overview
  echo "all done at +$(( $(date +%s) - t0 )) s" | tee -a "$log/timeline.txt"
  mps_stop
  touch "$ROOT/all.done"
  ;;
start)
  # `all` in a session of its own: a process that a device call leaves behind in the call's session is killed when
  # the call ends (2026-12-05: `( nohup ... all & )` died with the first call and the second call found nothing
  # running; `setsid nohup ...` lived on through the next call)
  rm -f "$ROOT/all.done"
  OUT=$ROOT/out setsid nohup bash "$0" all > "$ROOT/all.log" 2>&1 < /dev/null &
  echo "all started in the background (log $ROOT/all.log); follow it with: bash $0 wait [SECONDS]"
  ;;
wait)
  # follow `all` for up to SECONDS (default 540), printing each finished stage, then pack what exists;
  # DEADLINE_IN=S moves `all`'s deadline to S seconds from now (its queue stops RESULTS_S before it)
  [ -n "${DEADLINE_IN:-}" ] && echo $(( t0 + DEADLINE_IN )) > "$ROOT/deadline"
  end=$(( t0 + ${2:-540} )); seen=0
  while [ "$(date +%s)" -lt "$end" ] && [ ! -f "$ROOT/all.done" ]; do
    sleep 10
    n=$(cat "$log"/timeline.txt "$log"/*.log 2>/dev/null | grep -c "\[done\]\|done at")
    [ "$n" != "$seen" ] && { seen=$n; echo "--- +$(( $(date +%s) - t0 )) s"; cat "$log/timeline.txt" 2>/dev/null | tail -n 3;
      grep -h "\[done\]\|Error" "$log"/*.log 2>/dev/null | sort | uniq | tail -n 40; }
  done
  nvidia-smi --query-gpu=memory.used,utilization.gpu --format=csv,noheader 2>/dev/null
  [ -f "$ROOT/all.done" ] && cat "$RF_NB_FIGURES/main_table_small.md" "$RF_NB_FIGURES/claims_small.md" 2>/dev/null
  ;;
*) echo "unknown phase $PHASE"; exit 2;;
esac
echo "$PHASE done after $(( $(date +%s) - t0 )) s"
nvidia-smi --query-gpu=memory.used,utilization.gpu --format=csv,noheader 2>/dev/null
