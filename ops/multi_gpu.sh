#!/usr/bin/env bash
# Issue 10 on a machine with N GPUs, one call: bench/multi_gpu.py on 1 GPU (one plain process), then on N GPUs
# under DDP and under FSDP (configs/accelerate/*.yaml), each run writing $OUT/mg_<name>.json + .log; the GPU link
# topology goes to $OUT/topo.txt. Everything is also packed into $OUT/multi_gpu.tgz (the device tool returns at most
# 8 files per call).  NCCL_NVLS_ENABLE=0 (and the other multicast switches) as the device README asks.
#   bash ops/multi_gpu.sh [RUNS...]     RUNS from: one ddp fsdp  (default: all three)
# Environment: N (default: every GPU), RUN_TIMEOUT seconds per run (default 200), FIGURE (default all),
#              EXTRA (more bench/multi_gpu.py flags, e.g. "--traj-prompts 16").
set -uo pipefail
cd "$(dirname "$0")/.."
: "${OUT:=/tmp/multi_gpu}" "${RUN_TIMEOUT:=200}" "${FIGURE:=all}" "${EXTRA:=--traj-prompts 16}"
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --upgrade --target /tmp/site ${WHEELS:-.whl-bench}/*.whl >/dev/null 2>&1
export PYTHONPATH=/tmp/site:$PWD
: "${N:=$(python3 -c 'import torch; print(torch.cuda.device_count())')}"
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv; nvidia-smi topo -m; nvidia-smi nvlink -s; } \
  > "$OUT/topo.txt" 2>&1
launch() {   # launch CONFIG NPROC NAME : one bench/multi_gpu.py run under accelerate launch
  local config=$1 nproc=$2 name=$3
  echo "== $name ($nproc processes, $config)"
  timeout "$RUN_TIMEOUT" python3 -m accelerate.commands.launch --config_file "configs/accelerate/$config.yaml" \
    --num_processes "$nproc" bench/multi_gpu.py "$FIGURE" $EXTRA --out "$OUT/mg_$name.json" \
    > "$OUT/mg_$name.log" 2>&1 || echo "   $name failed or timed out (see mg_$name.log)"
  grep "^figures:" "$OUT/mg_$name.log" | tail -1
}
for r in ${@:-one ddp fsdp}; do
  case $r in
    one)  echo "== one (1 process)"
          timeout "$RUN_TIMEOUT" python3 bench/multi_gpu.py "$FIGURE" $EXTRA --out "$OUT/mg_one.json" \
            > "$OUT/mg_one.log" 2>&1 || echo "   one failed or timed out (see mg_one.log)"
          grep "^figures:" "$OUT/mg_one.log" | tail -1 ;;
    ddp)  launch ddp "$N" "ddp_$N" ;;
    fsdp) launch fsdp "$N" "fsdp_$N" ;;
    *) echo "unknown run $r" ;;
  esac
done
tar czf "$OUT/multi_gpu.tgz" -C "$OUT" $(cd "$OUT" && ls *.json *.log topo.txt 2>/dev/null)
