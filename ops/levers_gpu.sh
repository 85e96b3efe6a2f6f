#!/usr/bin/env bash
# Issue 9 levers on one GPU, one call (see BENCHMARKS.md "Levers of 2026-12-01"): the attention kernels alone, then
# the ODE step with every / no / half of the blocks checkpointed, each run writing its own JSON + log under $OUT;
# also the `small` DMD step's phases (bench/dmd_step.py: eager, compiled, batched critic rollouts) and 10 compiled
# DMD processes (bench/gpu_share.py).
#   bash ops/levers_gpu.sh [RUNS...]      (default: the ODE-step runs; the names are in the case below)
# Everything is also packed into $OUT/levers.tgz (the device tool returns at most 8 files per call).
# BUDGET_S (default 560): the whole call's limit; each run is stopped at it and later runs are skipped, so the
# packing at the end always happens inside the device tool's limit.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${OUT:=/tmp/levers}"
mkdir -p "$OUT"
START=$SECONDS
remaining() { echo $(( ${BUDGET_S:-560} - (SECONDS - START) )); }
python3 -m pip install -q --no-index --no-deps --no-compile --upgrade --target /tmp/site ${WHEELS:-.whl-bench}/*.whl >/dev/null 2>&1
export PYTHONPATH=/tmp/site:$PWD
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$OUT/gpu.txt" 2>&1
bench() {   # bench NAME ARGS... : one wan_scale.py run into $OUT/NAME.json and $OUT/NAME.log
  local name=$1; shift
  local left; left=$(remaining)
  if (( left < 30 )); then echo "== $name skipped: ${left} s left of BUDGET_S"; return; fi
  echo "== $name: $* (at most ${left} s)"
  timeout "$left" python3 bench/wan_scale.py "$@" --out "$OUT/$name.json" > "$OUT/$name.log" 2>&1 \
    || echo "   $name failed or was stopped at the budget (see log)"
  tail -1 "$OUT/$name.log"
}
script() {  # script NAME ARGS... : python3 ARGS (another bench/ script) with --out $OUT/NAME.json, log $OUT/NAME.log
  local name=$1; shift
  local left; left=$(remaining)
  if (( left < 30 )); then echo "== $name skipped: ${left} s left of BUDGET_S"; return; fi
  echo "== $name: $* (at most ${left} s)"
  timeout "$left" python3 "$@" --out "$OUT/$name.json" > "$OUT/$name.log" 2>&1 \
    || echo "   $name failed or was stopped at the budget (see log)"
  tail -3 "$OUT/$name.log"
}
for run in "${@:-attention ode_on ode_off ode_half}"; do for r in $run; do
  case $r in
    attention) bench attention attention ;;
    ode_on)    bench ode_on ode_step --compile --grad-ckpt on --reps 3 --budget-s 40 ;;
    ode_off)   bench ode_off ode_step --compile --grad-ckpt off --reps 3 --budget-s 40 ;;
    ode_half)  bench ode_half ode_step --compile --grad-ckpt 15 --reps 3 --budget-s 40 ;;
    # the first N of 30 blocks checkpointed, e.g. ode_ckpt_12 (fewer: faster, more memory; ~2.3 GiB per block)
    ode_ckpt_*) bench "$r" ode_step --compile --grad-ckpt "${r#ode_ckpt_}" --reps 3 --budget-s 40 ;;
    teacher)   bench teacher teacher_forward --compile --reps 5 --budget-s 30 ;;
    teacher_profile) bench teacher_profile teacher_forward --compile --reps 5 --budget-s 30 --profile ;;
    teacher_cudnn) bench teacher_cudnn teacher_forward --compile --attn cudnn --reps 5 --budget-s 30 ;;
    gen)       bench gen generate --compile --cudnn-benchmark --reps 3 --budget-s 40 ;;
    gen_vae)   bench gen_vae generate --compile --compile-vae --cudnn-benchmark --reps 3 --budget-s 40 ;;
    # with one more transformer-only generation under the profiler: kernel time by kind (bench/kernel_time.py)
    gen_vae_cl) bench gen_vae_cl generate --compile --compile-vae --vae-channels-last --cudnn-benchmark --reps 3 \
      --budget-s 40 --profile ;;
    gen_cudnn) bench gen_cudnn generate --compile --cudnn-benchmark --attn cudnn --reps 3 --budget-s 40 ;;
    traj)      bench traj trajectories --compile --reps 2 --budget-s 40 ;;
    traj_cudnn) bench traj_cudnn trajectories --compile --attn cudnn --reps 2 --budget-s 40 ;;
    # guidance only at sigma <= 0.92 (20 of 48 steps unguided; its quality cost: archive/bench/guidance_interval.py)
    traj_interval) bench traj_interval trajectories --compile --reps 2 --budget-s 60 --guidance-interval 0 0.92 ;;
    # the `small` DMD step (the cost of the small leases): its phases, eager and compiled, and 10 processes compiled
    dmd_step)  script dmd_step bench/dmd_step.py --preset small --steps 25 ;;
    dmd_step_compiled) script dmd_step_compiled bench/dmd_step.py --preset small --steps 25 --warmup 10 --compiled ;;
    dmd_step_cycle) script dmd_step_cycle bench/dmd_step.py --preset small --steps 25 --critic-rollouts per_cycle ;;
    share_compiled) script share_compiled bench/gpu_share.py --procs 1,10 --seconds 30 --mps --models compiled ;;
    # 10 processes under MPS, the same-call eager baseline first, then each DMD lever (issue 9; a lease runs 10)
    share_levers) script share_levers bench/gpu_share.py --procs 10 --seconds 25 --mps-only \
      --models eager,per_cycle,compiled_per_cycle,compiled ;;
    # the Wan VAE decode of 81 frames: FLOPs, kernel kinds, eager / channels_last / compiled / both
    # (bench/vae_decode.py)
    vae_decode) script vae_decode bench/vae_decode.py --cudnn-benchmark ;;
    *) echo "unknown run $r" ;;
  esac
done; done
tar czf "$OUT/levers.tgz" -C "$OUT" $(cd "$OUT" && ls *.json *.log gpu.txt 2>/dev/null)
