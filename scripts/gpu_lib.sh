# Shared by the scripts/*_gpu.sh runners (source it): packing what a person reads, and running (stage, seed) pairs.

# pack_results TGZ FIGURES DIR... : the whole FIGURES folder and, under each DIR, every metrics/history/stage file,
# executed notebook, log and asset sidecar (.json under an assets folder) into TGZ. Paths are absolute.
pack_results() {
  local tgz=$1 figures=${2#/}; shift 2
  local dirs=("${@#/}")
  tar czf "$tgz" -C / "$figures" $(cd / && find "${dirs[@]}" -name metrics.json -o -name history.jsonl \
      -o -name '*.ipynb' -o -name stage.json -o -name '*.log' -o -name log.jsonl -o -name '*.json' -path '*assets*' \
      2>/dev/null) >/dev/null 2>&1
  echo "packed $(du -h "$tgz" | cut -f1)"
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

# wait_for_ode STAGE SEED : a stage that starts from the ODE student waits while that seed's ODE stage is still
# running (in the same queue); it returns at once when the ODE metrics exist or no ODE process of the seed is alive.
wait_for_ode() {
  case $1 in ode|ode_traj*|reward_noinit|reward_bidir) return;; esac
  while [ ! -f "$RF_NB_RUNS/small/main/$2/ode/metrics.json" ] && pgrep -f -- "--stages ode --seeds $2," >/dev/null; do
    sleep 5; done
}
export -f wait_for_ode

# run_stage_seeds BUDGET PARALLEL "STAGES" SEEDS : every (stage, seed) pair, stages in the given order, through the
# exported function `rp` (one process each, PARALLEL at a time, all stopped after BUDGET seconds); logs go to
# $RF_NB_RUNS/logs/<stage>-<seed>.log, start and end times to $RF_NB_RUNS/logs/timeline.txt, and the finished ones
# are listed.
run_stage_seeds() {
  local budget=$1 parallel=$2 stages=$3 seeds=$4 s k
  for s in $stages; do for k in $(seq 0 $(( seeds - 1 ))); do echo "$s $k"; done; done \
    | timeout "$budget" xargs -P "$parallel" -L 1 bash -c 'wait_for_ode $0 $1; t=$(date +%s);
        rp --stages $0 --seeds $1, > "$RF_NB_RUNS/logs/$0-$1.log" 2>&1;
        echo "$0 seed $1: $t -> $(date +%s) ($(( $(date +%s) - t )) s)" >> "$RF_NB_RUNS/logs/timeline.txt"'
  grep -h "\[done\]\|Error" "$RF_NB_RUNS"/logs/*-[0-9].log 2>/dev/null | sort
}
