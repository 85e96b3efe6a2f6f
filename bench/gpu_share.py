"""How much work one GPU does when several `small` stage runs share it (issue 9): DMD trainer steps per second,
summed over P processes, with the GPU time-sliced between processes (the default) and with NVIDIA MPS (kernels of
different processes run at once).

`ops/small_gpu.sh` runs up to 10 stage processes on one GPU. Each `small` kernel is tiny (a 3-frame block of
batch 8 is 1,536 tokens of width 384), so one process leaves the GPU idle between its kernel launches; without MPS
the GPU serves one process's context at a time, so more processes fill the idle gaps but never overlap kernels.

    python bench/gpu_share.py --procs 1,10 --seconds 60 --out $OUT/gpu_share.json          # time-sliced
    python bench/gpu_share.py --procs 1,10 --seconds 60 --mps --out $OUT/gpu_share.json    # adds MPS rows
    python bench/gpu_share.py --procs 1,10 --seconds 45 --mps --models compiled --out ...   # compiled models
    python bench/gpu_share.py --procs 10 --seconds 25 --mps-only --models eager,per_cycle,compiled,compiled_per_cycle

Each worker builds the `small` preset's student, critic and teacher (random weights, the real sizes), runs
`DistributionMatching` steps (`dmd.generator_every` = 5: four critic-only steps, then one generator step) with
AdamW on the critic and the student under bf16 autocast, as the DMD stage does, warms up, then counts steps for
`--seconds`. `--models` names the variants, each a run of its own: `eager` (the library default), `compiled` (the
`dmd.compile` models), `per_cycle` (`dmd.critic_rollouts='per_cycle'`) and `compiled_per_cycle` (both). Random
weights cost what trained ones cost. `--dry` runs the tiny preset on the CPU (a test of the
script, not a figure). The JSON is rewritten atomically after each configuration.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from rf_nb.config import atomic_path, load_preset, pick_device


def wait_for_all(barrier: Path | None, seed: int, procs: int, timeout_s: float = 600.0) -> None:
    "Mark this worker warmed up in `barrier`, then wait until all `procs` are, so that the timed windows overlap."
    if barrier is None:
        return
    (barrier / f"ready_{seed}").touch()
    end = time.monotonic() + timeout_s
    while len(list(barrier.glob("ready_*"))) < procs and time.monotonic() < end:
        time.sleep(0.05)


def dmd_setup(preset: str, seed: int = 0, compiled: bool = False, backend: str = "inductor",
              critic_rollouts: str = "per_step"):
    """The DMD stage's models, optimizers and objective for `preset` (random weights, the real sizes): returns
    (device, generator_every, step), where step(i, mark=None) runs trainer step i (objective under bf16 autocast on
    CUDA, backward, AdamW on student and critic) and calls mark(phase) after its losses, backward and optimizer.
    `compiled`: the student's per-block step (`compile_block_step`) and the critic's and teacher's transformers
    (`torch.compile`, as the teacher's training does) are compiled with `backend` at their first call.
    `critic_rollouts`: `dmd.critic_rollouts` ('per_cycle': one batched rollout per cycle's critic-only steps)."""
    from rf_nb.objectives import DistributionMatching, make_critic, make_student, train_prompts
    from rf_nb.teacher import build_teacher
    torch.manual_seed(seed)
    cfg = load_preset(preset, {"seed": seed, "dmd.critic_rollouts": critic_rollouts})
    device = pick_device(cfg.device)
    teacher = build_teacher(cfg).to(device).requires_grad_(False).eval()
    student, critic = make_student(teacher, cfg), make_critic(teacher)
    if compiled:
        from rf_nb.causal import compile_block_step
        compile_block_step(student, backend=backend)
        critic.transformer.compile(backend=backend)
        teacher.transformer.compile(backend=backend)
    opts = [torch.optim.AdamW(m.transformer.parameters(), lr=1e-6, betas=(0.0, 0.999)) for m in (student, critic)]
    batch_size = cfg.train["dmd"].batch_size
    prompts = train_prompts(cfg, "dmd")
    objective = DistributionMatching(cfg, generator=torch.Generator(device).manual_seed(seed), prompts=prompts)
    models = {"student": student, "critic": critic, "teacher": teacher}
    autocast = torch.autocast(device.type, torch.bfloat16, enabled=device.type == "cuda")

    def step(i: int, mark=None) -> None:
        mark = mark or (lambda phase: None)
        batch = {"prompt": [prompts[(i * batch_size + j) % len(prompts)] for j in range(batch_size)]}
        with autocast:
            losses, _ = objective(batch, models, i)
        mark("losses")
        sum(losses.values()).backward()
        mark("backward")
        for opt in opts:
            opt.step()
            opt.zero_grad(set_to_none=True)
        mark("optimizer")

    return device, cfg.dmd.generator_every, step


MODEL_VARIANTS = {"eager": (False, "per_step"), "compiled": (True, "per_step"), "per_cycle": (False, "per_cycle"),
                  "compiled_per_cycle": (True, "per_cycle")}      # name -> (compiled, dmd.critic_rollouts)


def worker(preset: str, seconds: float, warmup_steps: int, seed: int, barrier: Path | None = None,
           procs: int = 1, compiled: bool = False, backend: str = "inductor",
           critic_rollouts: str = "per_step") -> dict:
    """Steps/s of DMD trainer steps in this process (random-weight models of `preset`, `dmd_setup`), timed after all
    workers warm up; compiling (`compiled`) happens in the warm-up."""
    t_build = time.perf_counter()
    device, every, step = dmd_setup(preset, seed, compiled, backend, critic_rollouts)

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize()

    for i in range(warmup_steps):
        step(i)
    sync()
    warmup_s = time.perf_counter() - t_build
    wait_for_all(barrier, seed, procs)
    start, n = time.perf_counter(), 0
    while time.perf_counter() - start < seconds or n % every:      # whole generator cycles only
        step(warmup_steps + n)
        n += 1
    sync()
    elapsed = time.perf_counter() - start
    return {"steps": n, "seconds": round(elapsed, 2), "steps_per_s": round(n / elapsed, 3),
            "build_and_warmup_s": round(warmup_s, 1),
            "peak_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2) if device.type == "cuda" else None}


GPU_LIB = Path(__file__).resolve().parents[1] / "scripts" / "gpu_lib.sh"


def start_mps(root: Path) -> dict[str, str] | None:
    "`mps_start` of ops/gpu_lib.sh (the one `small_gpu.sh` uses), folders under `root`: its clients' env, or None."
    r = subprocess.run(["bash", "-c", f'source "{GPU_LIB}" && mps_start "$1" > /dev/null && '
                        'echo "$CUDA_MPS_PIPE_DIRECTORY $CUDA_MPS_LOG_DIRECTORY"', "_", str(root)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        return None
    pipe, log = r.stdout.split()
    return {"CUDA_MPS_PIPE_DIRECTORY": pipe, "CUDA_MPS_LOG_DIRECTORY": log}


def stop_mps(env: dict[str, str]) -> None:
    "`mps_stop` of ops/gpu_lib.sh for the daemon `start_mps` started."
    subprocess.run(["bash", "-c", f'source "{GPU_LIB}" && mps_stop'], env=os.environ | env, capture_output=True)


def run_config(args, procs: int, env: dict[str, str], variant: str = "eager") -> dict:
    "P workers of one `MODEL_VARIANTS` entry at once, timed over one window (a barrier after warm-up); steps/s summed."
    compiled, critic_rollouts = MODEL_VARIANTS[variant]
    barrier = Path(tempfile.mkdtemp(prefix="gpu_share_"))
    cmd = [sys.executable, __file__, "worker", "--preset", args.preset, "--seconds", str(args.seconds),
           "--warmup", str(args.warmup), "--barrier", str(barrier), "--procs", str(procs),
           "--compile-backend", args.compile_backend, "--critic-rollouts", critic_rollouts] + ["--compiled"] * compiled
    children = [subprocess.Popen(cmd + ["--seed", str(i)], stdout=subprocess.PIPE, text=True,
                                 env=os.environ | env | {"OMP_NUM_THREADS": "2"}) for i in range(procs)]
    results = []
    for c in children:
        out, _ = c.communicate()
        lines = [line for line in out.splitlines() if line.startswith("{")]
        results.append(json.loads(lines[-1]) if c.returncode == 0 and lines else {"error": f"rc {c.returncode}"})
    shutil.rmtree(barrier, ignore_errors=True)
    ok = [r for r in results if "steps_per_s" in r]
    return {"procs": procs, "models": variant, "compiled": compiled, "critic_rollouts": critic_rollouts,
            "workers": results, "ok": len(ok),
            "total_steps_per_s": round(sum(r["steps_per_s"] for r in ok), 3)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("mode", nargs="?", default="bench", choices=["bench", "worker"])
    p.add_argument("--preset", default="small")
    p.add_argument("--procs", default="1,10", help="process counts to run, comma-separated (worker: how many share)")
    p.add_argument("--barrier", default=None, help=argparse.SUPPRESS)
    p.add_argument("--seconds", type=float, default=60.0, help="timed seconds per worker (after warm-up)")
    p.add_argument("--warmup", type=int, default=5, help="untimed DMD steps per worker first")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--mps", action="store_true", help="also run every process count under an MPS daemon")
    p.add_argument("--mps-only", action="store_true", help="only the MPS runs (no time-sliced ones)")
    p.add_argument("--models", default="eager", help="comma-separated variants, each run in turn: "
                   + ", ".join(MODEL_VARIANTS) + " (compiled: the student's block step, critic, teacher, compiled in "
                   "the warm-up; per_cycle: dmd.critic_rollouts='per_cycle')")
    p.add_argument("--compiled", action="store_true", help=argparse.SUPPRESS)   # worker: compile
    p.add_argument("--critic-rollouts", default="per_step", help=argparse.SUPPRESS)   # worker: dmd.critic_rollouts
    p.add_argument("--compile-backend", default="inductor", help="torch.compile backend (the test uses 'eager')")
    p.add_argument("--dry", action="store_true", help="tiny preset on the CPU, 2 s per worker: a test of the script")
    p.add_argument("--out", default="gpu_share.json")
    args = p.parse_args(argv)
    if args.dry:
        args.preset, args.seconds, args.warmup = "tiny", 2.0, 1
    if args.mode == "worker":
        barrier = Path(args.barrier) if args.barrier else None
        print(json.dumps(worker(args.preset, args.seconds, args.warmup, args.seed, barrier, int(args.procs),
                                args.compiled, args.compile_backend, args.critic_rollouts)))
        return 0
    variants = [m.strip() for m in args.models.split(",")]
    unknown = [v for v in variants if v not in MODEL_VARIANTS]
    if unknown:
        p.error(f"unknown --models {unknown}: choose from {', '.join(MODEL_VARIANTS)}")
    out = Path(args.out)
    record = {"command": " ".join(sys.argv), "date": time.strftime("%Y-%m-%d"), "preset": args.preset,
              "models": args.models, "seconds": args.seconds, "warmup_steps": args.warmup,
              "compile_backend": args.compile_backend, "torch": torch.__version__,
              "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None, "runs": []}

    def save() -> None:
        with atomic_path(out) as tmp:
            Path(tmp).write_text(json.dumps(record, indent=1))

    def run_all(mps_env: dict[str, str] | None) -> None:
        for variant in variants:
            for procs in (int(x) for x in args.procs.split(",")):
                record["runs"].append({"mps": mps_env is not None, **run_config(args, procs, mps_env or {}, variant)})
                r = record["runs"][-1]
                print(procs, "MPS" if r["mps"] else "time-sliced", variant, ":", r["total_steps_per_s"], "steps/s",
                      flush=True)
                save()

    if not args.mps_only:
        run_all(None)
    if args.mps or args.mps_only:
        env = start_mps(Path("/tmp/rf_nb_mps"))
        record["mps"] = "started" if env else "unavailable (no nvidia-cuda-mps-control, or it failed to start)"
        if env:
            try:
                run_all(env)
            finally:
                stop_mps(env)
        save()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
