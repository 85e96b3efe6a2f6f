"""Guidance in a limited interval (issue 9's trajectory lever): what skipping CFG outside [lo, hi] costs in quality on
the world, beside what it saves in forward passes.

    python archive/bench/guidance_interval.py --preset tiny --n 64 --batch 32 --out guidance_interval_tiny_cpu.json
    python archive/bench/guidance_interval.py --preset small --n 64 --device cuda --out $OUT/gi_small.json   # trained assets

For each interval (default: every step, then sigma <= 0.97 / 0.92 / 0.85, and sigma >= 0.2) the preset's teacher
solves the same held-out prompts from the same noise (`rf_nb.teacher.sample`: the preset's steps, shift and guidance,
`guidance_interval` changed only); the samples are decoded and evaluated by `rf_nb.pipeline.evaluate_videos`
(SynthBench against ground-truth renders, the world perception model's prompt fidelity, optical-flow dynamic degree;
never a reward model). Per interval: the guided steps, the forward passes of a solve relative to the full one (a
guided step is one batched forward of twice the batch, so it counts 2; the GPU time is `bench/wan_scale.py
trajectories --guidance-interval`'s), the latents' relative distance from the full solve's, mean |x0 - x0_full| /
mean |x0_full|, and the metrics. One noise draw per prompt: a metric's spread over prompts is its standard error.
"""
from __future__ import annotations

import argparse
import platform
import sys
import time
from datetime import datetime, timezone

import torch

from rf_nb.codecs import build_codec
from rf_nb.config import load_preset, parse_cli_overrides, write_json
from rf_nb.flow import guided_steps, teacher_sigmas
from rf_nb.perception import load_perception
from rf_nb.pipeline import evaluate_videos
from rf_nb.teacher import load_teacher, sample
from rf_nb.world import sample_prompts

DEFAULT_INTERVALS = ("0:1", "0:0.97", "0:0.92", "0:0.85", "0.2:1")
SHOWN = ("total", "quality", "semantic")                         # SynthBench scores in the printed table
MEASURES = ("dynamic_degree", "color_acc", "shape_acc", "texture_acc", "sharpness_last")


def parse_interval(text: str) -> tuple[float, float]:
    "'0:0.92' -> (0.0, 0.92); a clear error for anything else."
    try:
        lo, hi = (float(v) for v in text.split(":"))
    except ValueError:
        raise SystemExit(f"--intervals {text!r}: give LO:HI noise levels, e.g. 0:0.92") from None
    if not 0.0 <= lo <= hi:
        raise SystemExit(f"--intervals {text!r}: need 0 <= LO <= HI")
    return lo, hi


@torch.no_grad()
def solve_all(teacher, texts: list[str], cfg, interval: tuple[float, float], batch: int, seed: int) -> torch.Tensor:
    "Final latents [N, C, F, h, w] of the teacher's solve for every prompt; batch k's noise is seeded `seed + k`."
    return torch.cat([sample(teacher, texts[i:i + batch], cfg, seed=seed + i, keep=(-1,), guidance_interval=interval).x0
                      .float().cpu() for i in range(0, len(texts), batch)])


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default="tiny")
    ap.add_argument("--n", type=int, default=64, help="held-out prompts")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seed", type=int, default=1, help="prompt sample and noise seed")
    ap.add_argument("--intervals", nargs="+", default=list(DEFAULT_INTERVALS), metavar="LO:HI",
                    help="noise-level intervals where CFG applies; the first is the reference "
                         "(default: 0:1, every step)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    intervals = [parse_interval(t) for t in args.intervals]
    cfg = load_preset(args.preset, parse_cli_overrides(args.overrides))
    teacher = load_teacher(cfg, device=args.device).eval()
    codec = build_codec(cfg, args.device)
    perception = load_perception(cfg.preset)
    specs = sample_prompts(args.n, "heldout", args.seed, cfg.world.heldout_fraction, cfg.world.split_seed)
    texts = [s.text for s in specs]
    sigmas = teacher_sigmas(cfg.flow.teacher_steps, cfg.flow.teacher_shift)
    steps = cfg.flow.teacher_steps
    record = {"preset": cfg.preset, "n_prompts": args.n, "seed": args.seed, "device": args.device,
              "teacher_steps": steps, "teacher_shift": cfg.flow.teacher_shift, "guidance": cfg.flow.guidance_scale,
              "machine": platform.processor() or platform.machine(), "torch": torch.__version__,
              "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"), "command": " ".join(sys.argv), "rows": []}
    reference = None
    for interval in intervals:
        n_guided = sum(guided_steps(sigmas, interval))
        t0 = time.perf_counter()
        latents = solve_all(teacher, texts, cfg, interval, args.batch, args.seed)      # [N, C, F, h, w]
        solve_s = time.perf_counter() - t0
        videos = codec.decode(latents.to(args.device)).clamp(-1, 1).cpu()              # [N, 3, F, H, W]
        metrics = evaluate_videos(videos, specs, cfg, perception, seed=args.seed)
        if reference is None:
            reference = latents
        distance = float((latents - reference).abs().mean() / reference.abs().mean())
        row = {"interval": list(interval), "guided_steps": n_guided, "steps": steps,
               "relative_forward_passes": (steps + n_guided) / (2 * steps), "solve_s": solve_s,
               "latent_distance_from_reference": distance, "synthbench": metrics["synthbench"],
               "generated": metrics["generated"], "ground_truth": metrics["ground_truth"]}
        record["rows"].append(row)
        write_json(args.out, record)                                # after each interval: a crash keeps the rest
        scores = metrics["synthbench"]["scores"]
        gen = metrics["generated"]
        print(f"interval {interval}: {n_guided}/{steps} guided, {row['relative_forward_passes']:.2f}x passes, "
              f"{solve_s:.1f} s, distance {distance:.3f}; "
              + ", ".join(f"{k} {scores[k]:.2f}" for k in SHOWN if scores.get(k) is not None) + "; "
              + ", ".join(f"{k} {gen[k]:.3f}" for k in MEASURES if gen.get(k) is not None), flush=True)
    return record


if __name__ == "__main__":
    main()
