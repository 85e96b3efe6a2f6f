"""Experiment: why do the world teachers draw weak samples? Compares, at equal steps and data,
  - the teacher's output parameterisation: velocity (Wan's) vs clean-sample (x0) prediction converted to velocity,
  - its EMA weights vs its raw weights (an EMA of 0.999 over ~1,000 steps still holds ~37% of the random init).
On the GPU machine (wheels installed, see README "GPU"):
    python3 archive/teacher_investigation/teacher_param_gpu.py --preset tiny --steps 2000 --batch 256 --out "$OUT/tiny" --variants v x
Each variant trains in its own process (they share the GPU), then both are evaluated with the world perception
model on held-out prompts. Writes <out>/<variant>.json and a summary table to stdout.
Measured (one H100, 2026-11-24, tiny, 2,000 steps x 256, 128 held-out prompts, raw weights): x vs v color 0.65 vs
0.62, shape 0.20 vs 0.19, direction 0.16 vs 0.10, final loss 0.070 for both; the teacher keeps the velocity."""
import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import torch

DEV = "cuda" if torch.cuda.is_available() else "cpu"

from rf_nb.config import load_preset, parse_cli_overrides, write_json
from rf_nb.flow import add_noise, sample_training_t, velocity_target
from rf_nb.teacher import ClipBank, FlowMatchingObjective, Teacher, build_teacher, evaluate_teacher
from rf_nb.perception import load_perception


class X0Teacher(Teacher):
    "The transformer predicts the clean sample x0; forward returns the velocity (x_t - x0) / sigma like Wan's."
    min_sigma = 0.05

    def forward(self, x_t, t, text):
        x0 = super().forward(x_t, t, text).float()
        sigma = (t.float() / 1000).clamp_min(self.min_sigma).view(-1, *[1] * (x_t.dim() - 1))
        return ((x_t.float() - x0) / sigma).to(x_t.dtype)


def train_variant(args, variant: str) -> None:
    cfg = load_preset(args.preset, {"device": DEV, "train.teacher.mixed_precision": "bf16" if DEV == "cuda" else "no",
                                    "train.teacher.steps": args.steps, "train.teacher.batch_size": args.batch,
                                    "train.teacher.lr": args.lr, "train.teacher.warmup_steps": 200,
                                    "train.teacher.lr_schedule": "cosine", "train.teacher.ema_decay": 0.999,
                                    "train.teacher.ema_start": args.steps // 2, "train.teacher.ckpt_every": 100000,
                                    "train.teacher.log_every": 100} | parse_cli_overrides(args.overrides))
    from rf_nb.train import Trainer
    bank = ClipBank.render(cfg, args.n_clips, 0, "train", 0, args.cache, progress=False)
    teacher = build_teacher(cfg)
    if variant == "x":
        teacher.__class__ = X0Teacher
    out = Path(args.out) / variant
    trainer = Trainer(models={"teacher": teacher}, trainable=["teacher"], objective=FlowMatchingObjective(cfg),
                      data=bank.sampler(args.batch, DEV) if DEV == "cuda" else bank, cfg=cfg.train["teacher"], out_dir=out / "train",
                      seed=0, disable_progress=True, resume=False)
    t0 = time.time()
    m = trainer.fit()
    res = {"variant": variant, "train_seconds": time.time() - t0, "loss": m.get("loss"), "steps": m.get("steps")}
    perception = load_perception(args.preset, device=DEV)
    raw = trainer.modules["teacher"].eval()
    for name, model in (("raw", raw), ("ema", trainer.ema_model("teacher").eval())):
        model.__class__ = X0Teacher if variant == "x" else Teacher
        for split in ("heldout", "train"):
            mm, videos, specs = evaluate_teacher(model.float(), cfg, args.n_eval, seed=1, split=split, perception=perception)
            res[f"{name}_{split}"] = mm["generated"]
            if split == "heldout" and name == "ema":
                from rf_nb.world import show_clips
                show_clips(videos[:8], [s.text for s in specs[:8]], out / f"samples_{variant}.png")
    write_json(Path(args.out) / f"{variant}.json", res)
    print(json.dumps(res), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="tiny")
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--n-clips", type=int, default=60000)
    ap.add_argument("--n-eval", type=int, default=128)
    ap.add_argument("--workers", type=int, default=14)
    ap.add_argument("--variants", nargs="+", default=["v", "x"])
    ap.add_argument("--only", default=None, help="internal: train this one variant")
    ap.add_argument("--out", required=True)
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    args = ap.parse_args()
    args.cache = str(Path(args.out) / "cache")
    if args.only:
        return train_variant(args, args.only)
    cfg = load_preset(args.preset, parse_cli_overrides(args.overrides))
    t0 = time.time()
    ClipBank.render(cfg, args.n_clips, 0, "train", args.workers, args.cache, progress=False)
    print(f"bank of {args.n_clips} clips: {time.time() - t0:.0f} s", flush=True)
    base = [sys.executable, __file__] + [a for a in sys.argv[1:]]
    procs = [subprocess.Popen(base + ["--only", v]) for v in args.variants]
    rc = [p.wait() for p in procs]
    print("exit codes", rc)
    for v in args.variants:
        f = Path(args.out) / f"{v}.json"
        if f.exists():
            r = json.loads(f.read_text())
            for k in ("raw_heldout", "ema_heldout", "raw_train", "ema_train"):
                g = r[k]
                print(f"{v} {k:12s} shape {g['shape_acc']:.2f} color {g['color_acc']:.2f} texture {g['texture_acc']:.2f}"
                      f" direction {g['direction_acc']:.2f} scene {g['scene_acc']:.2f}  loss {r['loss']}  {r['train_seconds']:.0f} s")


if __name__ == "__main__":
    main()
