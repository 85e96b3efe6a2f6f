"""Where does a teacher training step spend its time? Times trainer steps of a world teacher at several batch
sizes (one process, the GPU's clip sampler) and prints the profiler's top operations for the largest.
    python3 archive/bench/profile_teacher_step.py --preset tiny --batches 64 256 1024 [--set key=value ...]"""
import argparse
import tempfile
import time

import torch

from rf_nb.config import load_preset, parse_cli_overrides
from rf_nb.teacher import ClipBank, FlowMatchingObjective, build_teacher
from rf_nb.train import Trainer


def time_steps(cfg, bank, batch: int, steps: int, out: str, profile: bool = False) -> float:
    tc = cfg.train["teacher"]
    tc.batch_size, tc.steps, tc.log_every, tc.ckpt_every = batch, 10**6, 10**6, 10**6
    trainer = Trainer(models={"teacher": build_teacher(cfg)}, trainable=["teacher"], objective=FlowMatchingObjective(cfg),
                      data=bank.sampler(batch, cfg.device), cfg=tc, out_dir=out, seed=0, disable_progress=True)
    trainer.fit(stop_after=10)                                   # warm-up
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    if profile:
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU,
                                                torch.profiler.ProfilerActivity.CUDA]) as prof:
            trainer.fit(stop_after=10 + steps)
    else:
        trainer.fit(stop_after=10 + steps)
    torch.cuda.synchronize()
    dt = (time.perf_counter() - t0) / steps
    if profile:
        print(prof.key_averages().table(sort_by="cpu_time_total", row_limit=25))
        print(prof.key_averages().table(sort_by="cuda_time_total", row_limit=12))
    return dt


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="tiny")
    ap.add_argument("--batches", type=int, nargs="+", default=[64, 256, 1024])
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    args = ap.parse_args()
    cfg = load_preset(args.preset, {"device": "cuda", "train.teacher.mixed_precision": "bf16"}
                      | parse_cli_overrides(args.overrides))
    bank = ClipBank.render(cfg, 2048, 0, "train", workers=8, progress=False)
    for b in args.batches:
        with tempfile.TemporaryDirectory() as d:
            dt = time_steps(cfg, bank, b, args.steps, d, profile=b == args.batches[-1])
        print(f"batch {b}: {dt * 1e3:.1f} ms/step, {b / dt:.0f} clips/s", flush=True)


if __name__ == "__main__":
    main()
