"""Issue 3 experiment: do learned absolute positions (`model.abs_pos`) let a world teacher learn motion direction?

Trains one teacher per arm (`--arms none grid factorised`) on the same rendered clips, with the same seed, steps
and recipe, differing only in `model.abs_pos`, then measures each on held-out prompts three ways:
- prompt fidelity of its samples (48 Euler steps + CFG, judged by the world perception model), as the README's
  teacher rows;
- the held-out flow-matching loss at fixed sigmas and noise (the quantity training lowers);
- the diffusion-classifier test of `archive/teacher_investigation/teacher_text_sensitivity.py` (does the denoiser's loss rise when the
  direction word is wrong?), which needs no sampler.
Sized for the 2-core CPU (a short run of the tiny preset); on a GPU pass `--device cuda` and the preset's steps.

    python archive/teacher_investigation/teacher_abs_pos.py --preset tiny --steps 1200 --batch 32 --out /tmp/abs_pos
writes `<out>/summary.json` (one row per arm) and each arm's checkpoint, log and sample strip under `<out>/<arm>/`.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import shlex
import sys
import time
from pathlib import Path

import torch

from rf_nb.codecs import build_codec
from rf_nb.config import load_preset, parse_cli_overrides, write_json
from rf_nb.teacher import ClipBank, evaluate_teacher, render_specs, save_teacher, train_teacher
from rf_nb.world import sample_prompts, show_clips

HERE = Path(__file__).resolve().parent


def sensitivity_module():
    "archive/teacher_investigation/teacher_text_sensitivity.py as a module (scripts/ is not a package)."
    spec = importlib.util.spec_from_file_location("teacher_text_sensitivity", HERE / "teacher_text_sensitivity.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default="tiny")
    ap.add_argument("--arms", nargs="+", default=["none", "grid", "factorised"], choices=["none", "grid", "factorised"])
    ap.add_argument("--steps", type=int, default=1200)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--n-clips", type=int, default=20000, help="rendered training clips (shared by the arms)")
    ap.add_argument("--n-eval", type=int, default=64, help="held-out prompts sampled per arm")
    ap.add_argument("--sens-prompts", type=int, default=32, help="clips of the diffusion-classifier test")
    ap.add_argument("--loss-clips", type=int, default=64, help="held-out clips of the flow-loss measurement")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--out", required=True)
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    return ap.parse_args(argv)


@torch.no_grad()
def heldout_flow_loss(teacher, cfg, sens, n: int = 64, sigmas=(0.3, 0.5, 0.7, 0.9), seed: int = 7) -> dict:
    "Mean flow-matching loss on `n` held-out clips under their own prompts, fixed noise per sigma."
    specs = sample_prompts(n, "heldout", seed, cfg.world.heldout_fraction, cfg.world.split_seed)
    x0s = build_codec(cfg).encode(render_specs(specs, cfg, seed)).float()               # [n, C, f, h, w]
    out = {}
    for s in sigmas:
        g = torch.Generator().manual_seed(seed)
        out[str(s)] = round(float(torch.cat([sens.clip_losses(teacher, x0, [sp.text], s, g, cfg)
                                             for sp, x0 in zip(specs, x0s)]).mean()), 5)
    return out


def run_arm(arm: str, args, bank: ClipBank, sens, out: Path) -> dict:
    overrides = {"device": args.device, "model.abs_pos": None if arm == "none" else arm,
                 "train.teacher.steps": args.steps, "train.teacher.batch_size": args.batch,
                 "train.teacher.lr": args.lr, "train.teacher.warmup_steps": max(1, args.steps // 12),
                 "train.teacher.ema_warmup": True, "train.teacher.ckpt_every": args.steps,
                 **parse_cli_overrides(args.overrides)}
    cfg = load_preset(args.preset, overrides)
    torch.manual_seed(cfg.seed)
    t0 = time.time()
    teacher, train_metrics = train_teacher(cfg, out / arm / "train", bank=bank, progress=False, compile=False)
    train_s = time.time() - t0
    teacher = teacher.float().cpu().eval()
    path = save_teacher(teacher, out / arm / "teacher.safetensors", cfg, train_metrics)
    fid, videos, specs = evaluate_teacher(teacher, cfg, args.n_eval, seed=cfg.seed + 1, split="heldout")
    show_clips(videos[:8], [s.text for s in specs[:8]], out / arm / "samples.png")
    loss = heldout_flow_loss(teacher, cfg, sens, n=args.loss_clips)
    abs_pos = [] if arm == "none" else ["--set", f"model.abs_pos={arm}"]
    s = sens.main(["--preset", args.preset, "--prompts", str(args.sens_prompts), "--draws", "2",
                   "--set", f"model.pretrained_path={path}", *abs_pos, "--out", str(out / arm / "sensitivity.json")])
    row = {"arm": arm, "train_seconds": round(train_s, 1), "steps": args.steps, "batch": args.batch,
           "final_train_loss": train_metrics.get("loss"), "heldout_flow_loss": loss,
           "samples": {k: fid["generated"][k] for k in fid["generated"] if k.endswith("_acc")},
           "ground_truth": {k: fid["ground_truth"][k] for k in fid["ground_truth"] if k.endswith("_acc")},
           "diffusion_classifier_accuracy": {a: s["accuracy"][a]["all"] for a in s["accuracy"]},
           "loss_increase_when_word_wrong_sigma_0.9": {a: s["relative_loss_increase"][a]["0.9"]
                                                       for a in s["relative_loss_increase"]},
           "chance": s["chance"]}
    print(json.dumps(row), flush=True)
    return row


def main(argv=None) -> int:
    args = parse_args(argv)
    out = Path(args.out)
    cfg = load_preset(args.preset, {"device": args.device, **parse_cli_overrides(args.overrides)})
    t0 = time.time()
    bank = ClipBank.render(cfg, args.n_clips, cfg.seed, "train", args.workers, out / "cache", progress=False)
    print(f"rendered {len(bank)} clips in {time.time() - t0:.0f} s", flush=True)
    sens = sensitivity_module()
    summary = {"command": shlex.join(["python", "archive/teacher_investigation/teacher_abs_pos.py", *(argv or sys.argv[1:])]),
               "arms": []}
    for arm in args.arms:
        summary["arms"].append(run_arm(arm, args, bank, sens, out))
        write_json(out / "summary.json", summary)                  # after every arm: a crash keeps the finished ones
    return 0


if __name__ == "__main__":
    sys.exit(main())
