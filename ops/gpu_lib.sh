# Shared by the ops/*_gpu.sh runners (source it): packing what a person reads, and running (stage, seed) pairs.

# pack_results TGZ FIGURES DIR... : the whole FIGURES folder and, under each DIR, every metrics/history/stage file,
# executed notebook, log, text note and asset sidecar (.json under an assets folder) into TGZ. Paths are absolute.
# A device call brings back files of <= 16 MiB: when TGZ is larger, the figures go into TGZ's name + _figures.tgz.
pack_results() {
  local tgz=$1 figures=${2#/}; shift 2
  local dirs=("${@#/}") found
  found=$(cd / && find "${dirs[@]}" -name metrics.json -o -name history.jsonl -o -name '*.ipynb' -o -name stage.json \
      -o -name '*.log' -o -name '*.txt' -o -name log.jsonl -o -name '*.json' -path '*assets*' 2>/dev/null)
  tar czf "$tgz" -C / "$figures" $found >/dev/null 2>&1
  if [ "$(stat -c %s "$tgz")" -gt 16000000 ]; then
    tar czf "$tgz" -C / $found >/dev/null 2>&1
    tar czf "${tgz%.tgz}_figures.tgz" -C / "$figures" >/dev/null 2>&1
  fi
  echo "packed $(du -h "${tgz%.tgz}"*.tgz | cut -f1 | tr '\n' ' ')"
}

# ensure_wheels [WHEELS] : the repository and SITE (default /tmp/site) on PYTHONPATH, and rf_nb, papermill and
# diffusers importable there; when they are not, the carried wheels (WHEELS, default .whl-small, made here by
# ops/device_wheels.sh) are installed into SITE first. Returns 1 with a one-line error naming the fix when they
# still do not import. On 2026-12-06 a lease call that forgot the install line lost 420 s of device time: three
# assets trained (python3 -m found rf_nb in the working folder), then the teacher and every queued stage failed.
ensure_wheels() {
  local wheels=${1:-${WHEELS:-.whl-small}} site=${SITE:-/tmp/site} root check='import rf_nb, papermill, diffusers'
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  case ":${PYTHONPATH:-}:" in *":$site:"*) ;; *) export PYTHONPATH=$site:$root${PYTHONPATH:+:$PYTHONPATH};; esac
  (cd / && python3 -c "$check") > /dev/null 2>&1 && return 0
  ls "$wheels"/*.whl > /dev/null 2>&1 &&
    python3 -m pip install -q --no-index --no-deps --no-compile --upgrade --target "$site" "$wheels"/*.whl \
      > /dev/null 2>&1
  (cd / && python3 -c "$check") > /dev/null 2>&1 && return 0
  echo "error: rf_nb, papermill or diffusers does not import, and $wheels/ has no wheels for them: run" \
    "'bash ops/device_wheels.sh' on the project machine and pass carry [\"$wheels\"] to the device call" >&2
  return 1
}

# missing_assets "TRAIN" : the assets of TRAIN (teacher perception reward reward_video) with no
# $RF_NB_ASSETS/<name>_small.safetensors, one per line; `all` stops before its queue when one failed to train.
missing_assets() {
  local a
  for a in $1; do [ -f "$RF_NB_ASSETS/${a}_small.safetensors" ] || echo "$a"; done
}

# followed CMD... : run CMD with its whole output in a file under $RF_NB_RUNS/logs (or /tmp), then print the lines a
# person follows ([run ]/[done] lines and errors); returns CMD's status. Not `CMD | grep`: on 2026-12-05 a stage
# whose notebook had finished never returned that way (a child process it left behind most likely kept the pipe
# open, so grep never saw the end of its input).
followed() {
  local out rc
  out=$(mktemp "${RF_NB_RUNS:-/tmp}/logs/run.XXXXXX" 2>/dev/null || mktemp)
  "$@" > "$out" 2>&1 < /dev/null
  rc=$?
  grep -E "^\[|reproduce|Error|error" "$out"
  return $rc
}
export -f followed

# wait_for_inputs STAGE SEED : a queued stage waits for what it reads while the stage that makes it is still queued or
# running: the ODE stages wait for the trajectories ($RF_NB_RUNS/<preset>/main/0/trajectories/metrics.json), a stage-2
# run that starts from the ODE student waits for that seed's finished ODE training (ode/train/config.json, written
# after the weights, before the ODE stage's own evaluation). "Still queued or running" is a marker file
# $RF_NB_RUNS/logs/queue/<stage>-<seed> that run_stage_seeds (or the caller, for the trajectories) makes before
# anything starts and removes when the stage ends; with no marker the stage starts at once (its input was made by
# an earlier call, or is missing and the stage reports that).
wait_for_inputs() {
  local runs=$RF_NB_RUNS/${PRESET:-small}/main q=$RF_NB_RUNS/logs/queue
  case $1 in
    reward_noinit|reward_bidir) return;;
    ode|ode_traj*) wait_for_file "$runs/0/trajectories/metrics.json" "$q/trajectories-0";;
    *) wait_for_file "$runs/$2/ode/train/config.json" "$q/ode-$2";;
  esac
}
wait_for_file() { while [ ! -f "$1" ] && [ -f "$2" ] && [ ! -f "$RF_NB_RUNS/logs/queue/.closed" ]; do sleep 3; done; }
export -f wait_for_inputs wait_for_file

# expected_stage_s STAGE : seconds one `small` run of STAGE takes while ~10 share an H100 (2026-12-06, BENCHMARKS.md:
# DMD and reward + DMD 698-787 s time-sliced; ODE-type 175-195 s beside 3-6 other processes, 205-280 s beside 9 under
# MPS; reward runs 178-225 s, Q1 280 s); DMD_S, ODE_S, STAGE_S override them.
expected_stage_s() {
  case $1 in
    dmd*) echo "${DMD_S:-700}";;
    ode*) echo "${ODE_S:-240}";;
    *) echo "${STAGE_S:-220}";;
  esac
}
# fits_before_deadline STAGE : true when STAGE, started now, should end before the queue stops at
# $(cat $DEADLINE_FILE) - RESULTS_S (always true without DEADLINE_FILE). On 2026-12-06 (GROUP=dmd) four DMD-type runs
# started 550-640 s before the stop, each needing ~750 s, and were killed there: GPU time the others could have had.
fits_before_deadline() {
  [ -n "${DEADLINE_FILE:-}" ] || return 0
  [ $(( $(date +%s) + $(expected_stage_s "$1") )) -le $(( $(cat "$DEADLINE_FILE") - ${RESULTS_S:-150} )) ]
}                                                   # (run_stage_seeds exports DEADLINE_FILE and RESULTS_S to its queue)
export -f expected_stage_s fits_before_deadline

# assets_for_queue "QUEUE" "TRAIN" : the assets that `all` trains before QUEUE: TRAIN without the video reward when
# no queued stage reads it (only reward_video, open question Q2, does). On 2026-12-06 (GROUP=main, one H100) the video
# reward was the last asset to finish (434 s; the teacher 357 s) while nothing in the queue used it.
assets_for_queue() {
  case " $1 " in
    *" reward_video "*) echo "$2";;
    *) local t=" $2 "; t=${t// reward_video / }; echo $t;;
  esac
}
export -f assets_for_queue

# lease_copies GROUP DIR : copies of the `small` tables and figures in DIR named for a row-group lease
# (main_table_small.md -> main_table_small-dmd.md, dmd_small_history.png -> dmd_small-dmd_history.png, ...), the
# names `rf-nb readme`'s claims overview reads (one column per lease, 13_reproduce). GROUP main or all: nothing.
lease_copies() {
  case $1 in main|all) return;; esac
  local f
  for f in "$2"/main_table_small.md "$2"/main_table_small.csv "$2"/claims_small.md "$2"/reward_table_small.md \
           "$2"/strips_small.png "$2"/main_bars_small.png "$2"/*_small_history.png; do
    [ -f "$f" ] && cp "$f" "$(dirname "$f")/$(basename "$f" | sed "s/_small\([_.]\)/_small-$1\1/")"
  done
  return 0
}

# mps_start DIR : an NVIDIA MPS control daemon (pipe and log folders under DIR) for the processes started after it,
# so that kernels of different processes run at once instead of time-sliced (`small` kernels are tiny; 10 stage
# processes share one GPU). A client probe (MPS_PROBE, default: a CUDA op in torch) must pass through the daemon,
# else it is quit again. Exports the client variables; returns 1, with a line saying so, when it cannot start.
# mps_stop : quits the daemon mps_start started. `bench/gpu_share.py --mps` measures what it changes.
mps_start() {
  command -v nvidia-cuda-mps-control > /dev/null ||
    { echo "MPS: nvidia-cuda-mps-control not found; time-sliced"; return 1; }
  mkdir -p "$1/pipe" "$1/log"
  CUDA_MPS_PIPE_DIRECTORY=$1/pipe CUDA_MPS_LOG_DIRECTORY=$1/log nvidia-cuda-mps-control -d ||
    { echo "MPS: the daemon did not start; time-sliced"; return 1; }
  export CUDA_MPS_PIPE_DIRECTORY=$1/pipe CUDA_MPS_LOG_DIRECTORY=$1/log
  if ! timeout 120 bash -c "${MPS_PROBE:-python3 -c 'import torch; torch.ones(1, device=\"cuda\").sum().item()'}"; then
    mps_stop; unset CUDA_MPS_PIPE_DIRECTORY CUDA_MPS_LOG_DIRECTORY
    echo "MPS: a CUDA client failed through the daemon; quit it, time-sliced"; return 1
  fi
  echo "MPS: daemon started ($1)"
}
mps_stop() { [ -z "${CUDA_MPS_PIPE_DIRECTORY:-}" ] || echo quit | nvidia-cuda-mps-control; }

# run_stage_seeds BUDGET PARALLEL "STAGES" SEEDS : every (stage, seed) pair, stages in the given order, through the
# exported function `rp` (one process each, PARALLEL at a time, each waiting for its inputs: wait_for_inputs); all
# are stopped after BUDGET seconds, or earlier once the clock passes $(cat $DEADLINE_FILE) - RESULTS_S when
# DEADLINE_FILE is set (re-read every few seconds, so another call may move it). CLOSE_S (default 120) seconds
# before that stop the queue closes: no stage starts any more (one that starts then could not finish and would only
# slow the running ones down), and the queue ends early once the running ones are done. Nor does a stage start that
# would not end before the stop by its expected length (fits_before_deadline). Logs go to
# $RF_NB_RUNS/logs/<stage>-<seed>.log, start and end times to $RF_NB_RUNS/logs/timeline.txt, and the finished ones
# are listed.
run_stage_seeds() {
  local budget=$1 parallel=$2 stages=$3 seeds=$4 s k qpid q=$RF_NB_RUNS/logs/queue
  export DEADLINE_FILE=${DEADLINE_FILE:-} RESULTS_S=${RESULTS_S:-150}
  mkdir -p "$q"
  for s in $stages; do for k in $(seq 0 $(( seeds - 1 ))); do touch "$q/$s-$k"; done; done
  for s in $stages; do for k in $(seq 0 $(( seeds - 1 ))); do echo "$s $k"; done; done \
    | timeout "$budget" xargs -P "$parallel" -L 1 bash -c 'wait_for_inputs $0 $1; t=$(date +%s);
        if [ -f "$RF_NB_RUNS/logs/queue/.closed" ]; then rm -f "$RF_NB_RUNS/logs/queue/$0-$1";
          echo "$0 seed $1: not started, the queue was closed" >> "$RF_NB_RUNS/logs/timeline.txt"; exit 0; fi
        if ! fits_before_deadline $0; then rm -f "$RF_NB_RUNS/logs/queue/$0-$1";
          echo "$0 seed $1: not started, needs ~$(expected_stage_s $0) s, the queue stops sooner" \
            >> "$RF_NB_RUNS/logs/timeline.txt"; exit 0; fi
        rp --stages $0 --seeds $1, > "$RF_NB_RUNS/logs/$0-$1.log" 2>&1;
        rm -f "$RF_NB_RUNS/logs/queue/$0-$1";
        echo "$0 seed $1: $t -> $(date +%s) ($(( $(date +%s) - t )) s)" >> "$RF_NB_RUNS/logs/timeline.txt"' &
  qpid=$!                                             # `timeout`: a TERM to it stops every process of the queue
  while [ -n "${DEADLINE_FILE:-}" ] && kill -0 "$qpid" 2>/dev/null; do
    if [ ! -f "$q/.closed" ] && [ "$(date +%s)" -ge $(( $(cat "$DEADLINE_FILE") - ${RESULTS_S:-150} - ${CLOSE_S:-120} )) ]; then
      echo "queue closed to new stages ($(date -u +%T))" >> "$RF_NB_RUNS/logs/timeline.txt"
      touch "$q/.closed"
    fi
    if [ "$(date +%s)" -ge $(( $(cat "$DEADLINE_FILE") - ${RESULTS_S:-150} )) ]; then
      echo "queue stopped at the deadline ($(date -u +%T))" >> "$RF_NB_RUNS/logs/timeline.txt"
      kill -TERM "$qpid"; break
    fi
    sleep 3
  done
  wait "$qpid"
  rm -rf "$q"
  grep -h "\[done\]\|Error" "$RF_NB_RUNS"/logs/*-[0-9].log 2>/dev/null | sort
}
