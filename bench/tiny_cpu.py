"""CPU costs the tiny preset is sized by: world rendering (clips/s) and one forward+backward of the tiny
Wan transformer at batch 32 (s/step). Prints medians over repeats as JSON.
    python bench/tiny_cpu.py [--repeats 5] [--threads 2]"""
import argparse
import json
import platform
import statistics
import time

import torch
from diffusers import WanTransformer3DModel

from rf_nb.config import load_preset
from rf_nb.world import render, sample_prompts


def median_time(fn, repeats: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg = load_preset("tiny")
    w = cfg.world
    specs = sample_prompts(64, "train", 0)
    render_s = median_time(lambda: [render(s, w.height, w.width, w.num_frames, w.fps, seed=i)
                                    for i, s in enumerate(specs)], args.repeats)
    model = WanTransformer3DModel(**cfg.model.wan_kwargs())
    x = torch.randn(32, 3, w.num_frames, w.height, w.width)        # [B, C, F, H, W]
    t = torch.rand(32) * 1000
    emb = torch.randn(32, cfg.text.max_length, cfg.text.dim)
    def step():
        model.zero_grad(set_to_none=True)
        model(x, t, emb, return_dict=False)[0].pow(2).mean().backward()
    step_s = median_time(step, args.repeats)
    print(json.dumps({"render_clips_per_s": round(64 / render_s, 1),
                      "tiny_fwd_bwd_batch32_s": round(step_s, 3),
                      "tiny_params": sum(p.numel() for p in model.parameters()),
                      "tokens_per_clip": w.num_frames * (w.height // 8) * (w.width // 8),
                      "threads": args.threads, "repeats": args.repeats, "torch": torch.__version__,
                      "cpu": platform.processor() or platform.machine()}))


if __name__ == "__main__":
    main()
