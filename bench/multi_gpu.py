"""Multi-GPU scaling at paper scale (issue 10): Wan2.1-1.3B-size models with random weights, rf_nb's own trainer and
trajectory sampler, one process per GPU under `accelerate launch` (DDP or FSDP from the config file).

    # the same figure on 1, 2, 4 GPUs, data parallel and sharded (NCCL_NVLS_ENABLE=0 as the device README asks):
    NCCL_NVLS_ENABLE=0 accelerate launch --config_file configs/accelerate/fsdp.yaml --num_processes 4 \\
        bench/multi_gpu.py all --out $OUT/multi_gpu_fsdp_4.json
    NCCL_NVLS_ENABLE=0 accelerate launch --config_file configs/accelerate/ddp.yaml --num_processes 4 \\
        bench/multi_gpu.py all --out $OUT/multi_gpu_ddp_4.json
    # a test of the script: tiny models of the same classes, 2 CPU processes (seconds)
    python bench/multi_gpu.py all --dry --launch-cpu 2 --parallel fsdp --out /tmp/mg.json

Figures (each per process; the JSON is written by process 0):
  ode_step      one ODE-regression trainer step per process (batch 1 each): seconds, samples/s in all and per GPU,
                peak memory of every process
  reward_step   one reward fine-tuning step (rollout, last-frame decode, ImageReward-size reward), the same numbers
  trajectories  `rf_nb.trajectories.sample_trajectories` over P prompts split by rank (no duplicate, no gap),
                with --traj-steps Euler steps instead of 48: wall seconds from the first process's start to the
                last one's end, trajectories per hour at that step count and extrapolated to 48 steps
Scaling = (samples/s on N GPUs) / (samples/s on 1 GPU), from two runs of this script with the same flags."""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import wan_scale as ws                                         # noqa: E402  (the single-GPU figures' pieces)
from rf_nb.config import load_preset, parse_cli_overrides, pick_dtype  # noqa: E402
from rf_nb.train import end_processes  # noqa: E402
from rf_nb.trajectories import process_device, process_rank, sample_trajectories  # noqa: E402

FIGURES = ("ode_step", "reward_step", "trajectories")


class RankBench(ws.Bench):
    "A `wan_scale.Bench` of which only process 0 writes the results file."

    def save(self) -> None:
        if process_rank()[0] == 0:
            super().save()


def gathered_memory(device: torch.device) -> dict:
    "Peak allocated / reserved GiB of every process (CUDA), gathered to every process; a note on CPU."
    from accelerate.utils import gather_object
    mine = ws.memory(device)
    every = gather_object([mine]) if process_rank()[1] > 1 else [mine]
    if device.type != "cuda":
        return {"note": mine["note"], "processes": len(every)}
    return {"per_process": every, "max_peak_allocated_gib": max(m["peak_allocated_gib"] for m in every),
            "max_peak_reserved_gib": max(m["peak_reserved_gib"] for m in every)}


def per_process(figure):
    """A `wan_scale` training-step figure run in every process (batch 1 each), with every process's peak memory and
    the samples/s of all processes and per process."""
    def run(b: ws.Bench) -> dict:
        record = figure(b)
        record["memory"] = gathered_memory(b.device)
        world, s = process_rank()[1], record["derived"]["seconds_per_step"]
        record["derived"].update(processes=world, samples_per_s_total=world / s, samples_per_s_per_gpu=1.0 / s)
        return record
    return run


def fig_trajectories(b: ws.Bench) -> dict:
    "P prompts split by rank through the real sampler (shards written), with K Euler steps instead of 48."
    from accelerate import PartialState
    from accelerate.utils import gather_object
    from unittest import mock
    import rf_nb.codecs
    import rf_nb.teacher
    cfg = load_preset(b.cfg.preset, {**b.overrides, "flow.teacher_steps": b.args.traj_steps,
                                     "flow.keep_indices": [0, -1]})
    rank, world = process_rank()
    teacher = ws.build_teacher_module(b, b.dtype).eval().requires_grad_(False)
    prompts = [f"{ws.PROMPT} ({i})" for i in range(b.args.traj_prompts)]
    record = {"status": "running", "settings": ws.settings(b, prompts=len(prompts), euler_steps=b.args.traj_steps,
                                                            trajectory_batch=cfg.trajectories.batch_size)}
    stand_in = ws.SimpleNamespace(spatial_scale=8)              # no VAE files: `sample` only reads the scale
    state = PartialState()
    with tempfile.TemporaryDirectory() as tmp, torch.no_grad(), \
            mock.patch.object(rf_nb.teacher, "build_codec", lambda *a, **kw: stand_in), \
            mock.patch.object(rf_nb.codecs, "build_codec", lambda *a, **kw: stand_in):
        root = Path(tmp) / "store" if world == 1 else Path(b.args.traj_dir or tmp) / f"store_{os.getpid()}"
        if world > 1:                                            # one folder for all processes: process 0's name
            root = Path(gather_object([str(root)])[0])
        state.wait_for_everyone()
        t0 = time.time()
        store = sample_trajectories(teacher, prompts, cfg, root, batch_size=cfg.trajectories.batch_size,
                                    rank=rank, world_size=world, shard_size=cfg.trajectories.shard_size,
                                    progress=False, teacher_id="random-weights")
        ws.sync(b.device)
        mine = {"rank": rank, "start": t0, "end": time.time(), **store.sampling_stats}
        every = gather_object([mine]) if world > 1 else [mine]
        state.wait_for_everyone()
    wall = max(e["end"] for e in every) - min(e["start"] for e in every)
    per_traj = wall / len(prompts)
    record.update(status="done", memory=gathered_memory(b.device), processes=every)
    record["derived"] = {"processes": world, "wall_s": wall, "trajectories": len(prompts),
                         f"trajectories_per_hour_at_{b.args.traj_steps}_steps": 3600.0 / per_traj,
                         "trajectories_per_hour_at_48_steps_extrapolated":
                             3600.0 / per_traj * b.args.traj_steps / 48}
    record["includes"] = ("rf_nb.trajectories.sample_trajectories per process (its share i % N == rank): teacher "
                          "ODE solve with batched CFG, kept states to the CPU, shards and manifests written")
    record["excludes"] = "text encoding (random embedding), model building; 48 steps are extrapolated linearly"
    return record


RUNNERS = {"ode_step": per_process(ws.fig_ode_step), "reward_step": per_process(ws.fig_reward_step),
           "trajectories": fig_trajectories}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("figure", choices=(*FIGURES, "all"))
    ap.add_argument("--preset", default="wan")
    ap.add_argument("--dry", action="store_true", help="tiny same-class models (CPU, seconds)")
    ap.add_argument("--out", default=None, help="results JSON (process 0 writes it)")
    ap.add_argument("--reps", type=int, default=None)
    ap.add_argument("--warmup", type=int, default=None)
    ap.add_argument("--budget-s", type=float, default=None)
    ap.add_argument("--grad-ckpt", default="auto",
                    help="checkpointed blocks: auto (the preset's train.<stage>.checkpoint_blocks), on, off or a number")
    ap.add_argument("--precision", default="autocast", choices=("autocast", "bf16"))
    ap.add_argument("--grad-step", default="random")
    ap.add_argument("--traj-steps", type=int, default=3, help="Euler steps per trajectory (48 extrapolated)")
    ap.add_argument("--traj-prompts", type=int, default=8, help="trajectories in all, split over the processes")
    ap.add_argument("--traj-dir", default=None, help="shared folder for the store (default: a temporary one)")
    ap.add_argument("--parallel", default="auto", choices=("auto", "ddp", "fsdp"), help="TrainConfig.parallel")
    ap.add_argument("--launch-cpu", type=int, default=0,
                    help="start N CPU processes through rf_nb.train.launch (tests of the script)")
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    args = ap.parse_args(argv)
    # the flags wan_scale's figures read
    args.compile, args.compile_mode, args.cudnn_benchmark, args.compile_vae = False, "default", False, False
    args.vae_channels_last, args.profile = False, False
    args.guidance_interval = None
    args.attn, args.device = "default", "auto"
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.launch_cpu:                                          # re-run this script in N CPU processes
        from rf_nb.train import launch
        rest = [a for a in (argv if argv is not None else sys.argv[1:]) if not a.startswith("--launch-cpu=")]
        if "--launch-cpu" in rest:                               # drop the flag and its value
            i = rest.index("--launch-cpu")
            del rest[i:i + 2]
        print(launch(Path(__file__), *rest, num_processes=args.launch_cpu, cpu=True, timeout=1800)[-4000:])
        return 0
    overrides = {**(ws.DRY_OVERRIDES if args.dry else {}), **parse_cli_overrides(args.overrides)}
    for stage in ("ode", "reward"):
        overrides[f"train.{stage}.parallel"] = args.parallel
    cfg = load_preset(args.preset, overrides)
    device = process_device("auto")
    if device.type == "cuda" and device.index is not None:   # one process: plain "cuda", nothing to pin
        torch.cuda.set_device(device)
    results = ws.load_results(args.out if process_rank()[0] == 0 else None)
    results["environment"] = {**ws.environment(device), "processes": process_rank()[1],
                              "nccl_nvls_enable": os.environ.get("NCCL_NVLS_ENABLE"),
                              "accelerate_use_fsdp": os.environ.get("ACCELERATE_USE_FSDP", "false")}
    b = RankBench(cfg, device, pick_dtype(device, "auto"), args, results)
    b.overrides = overrides
    names = FIGURES if args.figure == "all" else (args.figure,)
    ws.RUNNERS.update(RUNNERS)                                   # ws.run_figure dispatches through this table
    for name in names:
        ws.run_figure(b, name)
    b.save()
    failed = [n for n in names if results["figures"][n].get("status") != "done"]
    if process_rank()[0] == 0:
        print("figures:", {n: results["figures"][n].get("derived", {}) for n in names}, flush=True)
    end_processes()                                              # no process exits while a peer's group is open
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
