"""Issue 3 diagnostic: what a world teacher draws instead of the prompt's motion direction and shape.

Samples the teacher (the preset's sampler: 48 Euler steps, CFG) on held-out prompts, reads every object with the
world perception model, and counts (prompt value -> perceived value) for direction and shape, next to the same count
on ground-truth renders of the same prompts (the evaluator's own confusion).

    python archive/teacher_investigation/teacher_confusion.py --preset tiny --prompts 64 --out archive/figures/teacher_confusion_tiny.json
"""
from __future__ import annotations

import argparse
import collections
import sys

import torch

from rf_nb.config import load_preset, write_json
from rf_nb.perception import load_perception, perceive
from rf_nb.teacher import generate, load_teacher, render_specs
from rf_nb.world import sample_prompts


def confusion(specs, read: dict, key: str) -> dict[str, dict[str, int]]:
    "{prompt value: {perceived value: count}} over every object of `specs`."
    out: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for b, spec in enumerate(specs):
        for slot, obj in enumerate(spec.objects):
            out[getattr(obj, key)][read[key][b][slot]] += 1
    return {k: dict(sorted(v.items())) for k, v in sorted(out.items())}


def marginal(conf: dict[str, dict[str, int]]) -> dict[str, int]:
    "Perceived value -> count, over all prompt values."
    total: collections.Counter = collections.Counter()
    for row in conf.values():
        total.update(row)
    return dict(total.most_common())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default="tiny")
    ap.add_argument("--prompts", type=int, default=64)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    cfg = load_preset(args.preset)
    teacher = load_teacher(cfg, device="cpu", dtype=torch.float32)
    perception = load_perception(cfg.preset)
    specs = sample_prompts(args.prompts, "heldout", args.seed, cfg.world.heldout_fraction, cfg.world.split_seed)
    with torch.no_grad():
        videos = generate(teacher, [s.text for s in specs], cfg, seed=args.seed).float()   # [N, 3, F, H, W]
    read = {"teacher": perceive(perception, videos, specs),
            "ground_truth": perceive(perception, render_specs(specs, cfg, args.seed), specs)}
    record = {"preset": cfg.preset, "prompts": args.prompts, "seed": args.seed,
              "command": " ".join(["python", "archive/teacher_investigation/teacher_confusion.py", *(argv or sys.argv[1:])])}
    for who, r in read.items():
        for key in ("direction", "shape"):
            conf = confusion(specs, r, key)
            hits = sum(row.get(k, 0) for k, row in conf.items())
            n = sum(sum(row.values()) for row in conf.values())
            record[f"{who}_{key}"] = {"accuracy": hits / n, "objects": n, "perceived": marginal(conf), "confusion": conf}
            print(f"{who:12s} {key:9s} accuracy {hits / n:.2f} of {n}; perceived {marginal(conf)}")
    if args.out:
        write_json(args.out, record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
