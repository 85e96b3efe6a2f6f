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

# run_stage_seeds BUDGET PARALLEL "STAGES" SEEDS : every (stage, seed) pair, stages in the given order, through the
# exported function `rp` (one process each, PARALLEL at a time, all stopped after BUDGET seconds); logs go to
# $RF_NB_RUNS/logs/<stage>-<seed>.log, and the finished ones are listed.
run_stage_seeds() {
  local budget=$1 parallel=$2 stages=$3 seeds=$4 s k
  for s in $stages; do for k in $(seq 0 $(( seeds - 1 ))); do echo "$s $k"; done; done \
    | timeout "$budget" xargs -P "$parallel" -L 1 bash -c 'rp --stages $0 --seeds $1, > "$RF_NB_RUNS/logs/$0-$1.log" 2>&1'
  grep -h "\[done\]\|Error" "$RF_NB_RUNS"/logs/*-[0-9].log 2>/dev/null | sort
}
