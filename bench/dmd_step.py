"""Where one DMD trainer step spends its time (issue 9): the student's rollout, the critic's loss, the generator's
loss (teacher with CFG and critic forwards), backward and the optimizer, for critic-only and generator steps apart.

DMD is the cost of the `small` leases (a DMD-type run took ~780 s of a 25-minute lease, 3.5x a Reward-Forcing run,
BENCHMARKS.md): this says which part of its step a lever should go after.

    python bench/dmd_step.py --preset small --steps 25 --out $OUT/dmd_step.json                  # one GPU
    python bench/dmd_step.py --preset tiny --steps 40 --warmup 5 --out dmd_step_tiny_cpu.json          # the CPU
    python bench/dmd_step.py --preset tiny --steps 40 --warmup 5 --critic-rollouts per_cycle --out ... # batched

One process, the models of `bench/gpu_share.py`'s `dmd_setup` (the DMD stage's student, critic and teacher, random
weights, bf16 autocast on CUDA, AdamW). The phases are timed by wrapping `rf_nb.objectives`' `student_latents`,
`dmd_critic_loss` and `dmd_generator_loss` (the functions `DistributionMatching` calls) with a device
synchronisation on each side, so the library's own code runs; what is left of the objective's time (text encoding)
is `other`. Means over the timed steps of each kind, after `--warmup` steps (means, not medians: under
`--critic-rollouts per_cycle` only the first critic-only step of a cycle rolls out). The synchronisations cost a
little overlap, so the phases add up to slightly more than an unwrapped step (`bench/gpu_share.py` times those).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gpu_share import dmd_setup  # noqa: E402

from rf_nb.config import atomic_path  # noqa: E402

WRAPPED = ("student_latents", "dmd_critic_loss", "dmd_generator_loss")
PHASE = {"student_latents": "rollout", "dmd_critic_loss": "critic_loss", "dmd_generator_loss": "generator_loss"}


class PhaseClock:
    "Seconds per phase of the current step; `sync` waits for the device so that each phase owns its kernels."

    def __init__(self, device: torch.device):
        self.device, self.times, self.last = device, {}, 0.0

    def sync(self) -> float:
        if self.device.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter()

    def start(self) -> None:
        self.times, self.last = {}, self.sync()

    def add(self, phase: str, seconds: float) -> None:
        self.times[phase] = self.times.get(phase, 0.0) + seconds

    def mark(self, phase: str) -> None:
        "Everything since the last mark that no wrapped function claimed: `other` inside the losses, else `phase`."
        now = self.sync()
        claimed = sum(v for k, v in self.times.items() if k in PHASE.values()) if phase == "losses" else 0.0
        self.add("other" if phase == "losses" else phase, now - self.last - claimed)
        self.last = now

    def wrap(self, fn, phase: str):
        def timed(*args, **kwargs):
            t0 = self.sync()
            out = fn(*args, **kwargs)
            self.add(phase, self.sync() - t0)
            return out
        return timed


def profile(preset: str, steps: int, warmup: int, seed: int = 0, compiled: bool = False,
            critic_rollouts: str = "per_step") -> dict:
    "Mean seconds per phase for critic-only and generator steps (`steps` timed trainer steps after `warmup`)."
    import rf_nb.objectives as objectives
    device, every, step = dmd_setup(preset, seed, compiled, critic_rollouts=critic_rollouts)
    clock = PhaseClock(device)
    originals = {name: getattr(objectives, name) for name in WRAPPED}
    for name, fn in originals.items():
        setattr(objectives, name, clock.wrap(fn, PHASE[name]))
    try:
        for i in range(warmup):
            step(i)
        runs = {"critic_only": [], "generator": []}
        for i in range(warmup, warmup + steps):
            clock.start()
            step(i, clock.mark)
            runs["generator" if i % every == 0 else "critic_only"].append(dict(clock.times))
    finally:
        for name, fn in originals.items():
            setattr(objectives, name, fn)
    out = {}
    for kind, rows in runs.items():
        if not rows:
            continue
        phases = sorted({k for r in rows for k in r})
        mean = {k: round(statistics.fmean(r.get(k, 0.0) for r in rows), 4) for k in phases}
        out[kind] = {"steps": len(rows), "mean_s": mean, "total_s": round(sum(mean.values()), 4)}
    if all(k in out for k in runs):       # one generator cycle: (every - 1) critic-only steps and one generator step
        cycle = (every - 1) * out["critic_only"]["total_s"] + out["generator"]["total_s"]
        out["per_cycle"] = {"generator_every": every, "seconds": round(cycle, 4),
                            "share": {k: round(((every - 1) * out["critic_only"]["mean_s"].get(k, 0.0)
                                                + out["generator"]["mean_s"].get(k, 0.0)) / cycle, 3)
                                      for k in out["generator"]["mean_s"]}}
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--preset", default="small")
    p.add_argument("--steps", type=int, default=25, help="timed trainer steps (a multiple of dmd.generator_every)")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--compiled", action="store_true", help="compile the block step, critic and teacher first")
    p.add_argument("--critic-rollouts", default="per_step", choices=["per_step", "per_cycle"],
                   help="dmd.critic_rollouts: one rollout per critic-only step, or one batched per cycle")
    p.add_argument("--out", default="dmd_step.json")
    args = p.parse_args(argv)
    record = {"command": " ".join(sys.argv), "date": time.strftime("%Y-%m-%d"), "preset": args.preset,
              "torch": torch.__version__, "threads": torch.get_num_threads(),
              "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
              "critic_rollouts": args.critic_rollouts,
              **profile(args.preset, args.steps, args.warmup, args.seed, args.compiled, args.critic_rollouts)}
    with atomic_path(Path(args.out)) as tmp:
        Path(tmp).write_text(json.dumps(record, indent=1))
    print(json.dumps({k: record[k] for k in record if k in ("critic_only", "generator", "per_cycle")}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
