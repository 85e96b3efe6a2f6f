"""Issue 3 diagnostic: can the teacher's architecture and training path learn motion direction at all?

The shipped tiny teacher draws color and scene but motion direction at chance (README). Either it lacks capacity
or training (the world is too large for it), or something in the path loses the direction (text encoding, time
axis, RoPE over frames, sampling). This trains a fresh teacher of the preset's architecture on a handful of clips
that differ only in their motion direction, with the project's own trainer, objective and sampler, and measures
direction accuracy (world perception model) of its samples as training goes on. Learning them means the path
carries direction and the full-world teacher is limited by capacity or training; failing means a bug.
With `--renders N` each direction gets N renders from different seeds (the object starts elsewhere each time):
the model must learn what the direction word does, not memorise four clips; samples are then scored on several
draws per prompt, and the one-step checks use renders it never saw. Every evaluation also tracks the object
(`object_track`: net displacement, path length, straightness) to tell a travelling object from one that jumps.

    python archive/teacher_investigation/teacher_memorise.py --preset tiny --steps 1200 --out archive/figures/teacher_memorise_tiny.json
"""
from __future__ import annotations

import argparse
import copy
import json
import shlex
import sys
import tempfile
import time
from pathlib import Path

import torch

from rf_nb.config import load_preset, parse_cli_overrides, write_json
from rf_nb.perception import load_perception
from rf_nb.teacher import ClipBank, FlowMatchingObjective, build_teacher, generate, prompt_fidelity, render_specs
from rf_nb.train import Trainer
from rf_nb.world import COLORS, DIRECTIONS as UNIT_VECTORS, parse_prompt, quantize_video, show_clips

DIRECTIONS = ("to the left", "to the right", "upward", "downward")


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default="tiny")
    ap.add_argument("--steps", type=int, default=1200)
    ap.add_argument("--every", type=int, default=300, help="steps between evaluations")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--object", default="a red striped square moves slowly {d} over a gray grid",
                    help="prompt template; {d} is the direction")
    ap.add_argument("--renders", type=int, default=1,
                    help="training renders per direction, each from its own seed (1: the four fixed clips)")
    ap.add_argument("--draws", type=int, default=None,
                    help="samples per prompt in each evaluation (default 1 with --renders 1, else 8)")
    ap.add_argument("--sample-steps", type=int, default=48)
    ap.add_argument("--batch", type=int, default=len(DIRECTIONS),
                    help="clips per step (the four clips repeated, each at its own noise level)")
    ap.add_argument("--device", default="cpu", help="where the teacher trains (cpu | cuda); evaluation runs on CPU")
    ap.add_argument("--out", default=None, help="JSON of the evaluations (and a PNG strip beside it)")
    ap.add_argument("--abs-pos", choices=("grid", "factorised"), default=None,
                    help="the library's model.abs_pos: learned absolute positions added to the patch embedding, a vector "
                         "per token position (grid) or per frame + row + column (factorised); Wan's transformer "
                         "knows positions only relatively (RoPE)")
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    return ap.parse_args(argv)


@torch.no_grad()
def final_checks(model, cfg, specs, truth, perception, steps: int, draws: int = 1) -> dict:
    """Where direction is lost: samples without CFG (guidance 1) vs the preset's guidance, and one-step x0
    predictions from the true clips noised to sigma (no sampler involved): error to the truth, and the direction
    the perception model reads in them."""
    from rf_nb.flow import add_noise, sigma_from_t, t_from_sigma, x0_from_velocity
    from rf_nb.codecs import build_codec
    out = {}
    color, want = COLORS[specs[0].objects[0].color], prompted_directions(specs)   # tracked object's RGB, [4, 2]
    for g in (1.0, cfg.flow.guidance_scale):
        v = sample_videos(model, specs, cfg, draws, steps, guidance=g)
        out[f"samples_guidance_{g:g}"] = {"direction_acc": prompt_fidelity(perception, v, specs * draws)["direction_acc"],
                                          "mse_to_truth": float((v - truth.repeat(draws, 1, 1, 1, 1)).pow(2).mean()),
                                          "track": object_track(v, color, want.repeat(draws, 1))}
    codec = build_codec(cfg)
    x0 = codec.encode(truth)                                                    # [4, C, f, h, w]
    g = torch.Generator().manual_seed(2)
    for sig in (0.2, 0.5, 0.8):
        s = torch.full((len(x0),), sig)
        xt = add_noise(x0, torch.randn(x0.shape, generator=g), s)
        pred = x0_from_velocity(xt, model(xt, t_from_sigma(s, cfg.flow.num_train_timesteps), [p.text for p in specs]), s)
        vid = codec.decode(pred).clamp(-1, 1)
        out[f"one_step_sigma_{sig}"] = {"direction_acc": prompt_fidelity(perception, vid, specs)["direction_acc"],
                                        "mse_to_truth": float((vid - truth).pow(2).mean())}
    return out


def centroids(videos: torch.Tensor, colors, tol: float = 80.0, min_pixels: int = 4):
    """The object's centroid per frame in clips `[B, 3, F, H, W]` in [-1, 1]: the mean position of the pixels within
    `tol` of its RGB color (`colors`: one (r, g, b) for every clip, or `[B, 3]`, one per clip). Returns x and y
    `[B, F]` (pixels, y down) and `ok` `[B]`: every frame shows >= `min_pixels` such pixels."""
    pix = (videos.float().clamp(-1, 1) + 1) * 127.5                                  # [B, 3, F, H, W] in 0..255
    rgb = torch.as_tensor(colors, dtype=torch.float32).reshape(-1, 3, 1, 1, 1)        # [1 or B, 3, 1, 1, 1]
    mask = ((pix - rgb).norm(dim=1) < tol).float()                                  # [B, F, H, W]
    ys, xs = torch.meshgrid(torch.arange(mask.shape[-2]), torch.arange(mask.shape[-1]), indexing="ij")
    n = mask.sum((-2, -1))                                                           # [B, F]
    cx, cy = (mask * xs).sum((-2, -1)) / n.clamp_min(1), (mask * ys).sum((-2, -1)) / n.clamp_min(1)
    return cx, cy, (n >= min_pixels).all(-1)


def object_track(videos: torch.Tensor, color: tuple[int, int, int], want: torch.Tensor | None = None,
                 tol: float = 80.0, min_pixels: int = 4) -> dict:
    """Does the object travel or jump, and which way? Its centroid per frame (pixels within `tol` of its RGB color)
    in clips `[B, 3, F, H, W]` in [-1, 1]; per clip the net displacement (first to last frame, px), the path length
    (sum of frame-to-frame steps, px) and their ratio (straightness: 1 for one straight trajectory, near 0 for
    jitter), averaged over the clips in which every frame shows >= `min_pixels` object pixels (`tracked` of
    `clips`). With `want` `[B, 2]` (the prompted unit vectors, image coordinates, y down) also the share of tracked
    clips whose net displacement lies on the prompted axis (`axis_acc`) and on it in the prompted sense
    (`sense_acc`): a model that knows the axis but not the arrow of time scores ~1 and ~0.5."""
    cx, cy, ok = centroids(videos, color, tol, min_pixels)
    path = torch.hypot(cx.diff(dim=-1), cy.diff(dim=-1)).sum(-1)[ok]
    net = torch.hypot(cx[:, -1] - cx[:, 0], cy[:, -1] - cy[:, 0])[ok]
    mean = lambda z: float(z.mean()) if len(z) else float("nan")
    out = {"net_px": mean(net), "path_px": mean(path), "straightness": mean(net / path.clamp_min(1e-6)),
           "tracked": int(ok.sum()), "clips": len(ok)}
    if want is not None:
        d = torch.stack([cx[:, -1] - cx[:, 0], cy[:, -1] - cy[:, 0]], -1)[ok]      # [tracked, 2] net displacement
        u = want.float()[ok]
        axis = d.abs().argmax(-1) == u.abs().argmax(-1)
        out |= {"axis_acc": mean(axis.float()), "sense_acc": mean((axis & ((d * u).sum(-1) > 0)).float())}
    return out


def prompted_directions(specs) -> torch.Tensor:
    "Unit motion vectors `[len(specs), 2]` (dx, dy; y down) of each prompt's first object."
    return torch.tensor([UNIT_VECTORS[s.objects[0].direction] for s in specs], dtype=torch.float32)


def sample_videos(model, specs, cfg, draws: int, steps: int, **kwargs) -> torch.Tensor:
    "`draws` samples of every prompt, [draws * len(specs), 3, F, H, W] in the order of `specs * draws`."
    prompts = [s.text for s in specs] * draws
    return generate(model, prompts, cfg, seed=1, steps=steps, **kwargs).float()


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.manual_seed(0)
    overrides = {"train.teacher.steps": args.steps, "train.teacher.batch_size": args.batch,
                 "train.teacher.lr": args.lr, "train.teacher.lr_schedule": "constant",
                 "train.teacher.warmup_steps": 20, "train.teacher.ema_decay": None, "device": args.device,
                 "model.abs_pos": args.abs_pos,
                 **parse_cli_overrides(args.overrides)}
    cfg = load_preset(args.preset, overrides)
    specs = [parse_prompt(args.object.format(d=d)) for d in DIRECTIONS]
    draws = args.draws or (1 if args.renders == 1 else 8)
    color, want = COLORS[specs[0].objects[0].color], prompted_directions(specs)   # tracked object's RGB, [4, 2]
    train = render_specs(specs * args.renders, cfg, seed=0)                    # [4 * renders, 3, F, H, W]
    bank = ClipBank(torch.stack([quantize_video(v) for v in train]), [s.text for s in specs] * args.renders)
    truth = train[:len(specs)] if args.renders == 1 else render_specs(specs, cfg, seed=10**6)   # [4, 3, F, H, W]
    perception = load_perception(cfg.preset)
    teacher = build_teacher(cfg)
    record = {"preset": cfg.preset, "prompts": [s.text for s in specs], "lr": args.lr, "batch": args.batch,
              "renders_per_direction": args.renders, "draws": draws,
              "abs_pos": args.abs_pos,
              "device": args.device, "evaluations": [],
              "ground_truth": prompt_fidelity(perception, truth, specs) | {"track": object_track(truth, color, want)},
              "command": shlex.join(["python", "archive/teacher_investigation/teacher_memorise.py", *(argv or sys.argv[1:])])}
    t0 = time.time()
    with tempfile.TemporaryDirectory() as d:
        tr = Trainer({"teacher": teacher}, ["teacher"], FlowMatchingObjective(cfg), bank, cfg.train["teacher"], d,
                     seed=0, disable_progress=True, cpu=args.device == "cpu")
        while tr.step < args.steps:
            tr.fit(stop_after=min(args.steps, tr.step + args.every))
            model = copy.deepcopy(tr.unwrap("teacher")).cpu().eval()                 # evaluated on the CPU
            with torch.no_grad():
                videos = sample_videos(model, specs, cfg, draws, args.sample_steps)   # [4 * draws, 3, F, H, W]
            fid = prompt_fidelity(perception, videos, specs * draws)
            ev = {"step": tr.step, "loss": tr.last_loss.get("loss"), "seconds": round(time.time() - t0, 1),
                  "direction_acc": fid["direction_acc"], "color_acc": fid["color_acc"],
                  "shape_acc": fid["shape_acc"],
                  "mse_to_truth": float((videos - truth.repeat(draws, 1, 1, 1, 1)).pow(2).mean()),
                  "track": object_track(videos, color, want.repeat(draws, 1))}
            record["evaluations"].append(ev)
            print(json.dumps(ev), flush=True)
            if args.out:                                   # kept after every evaluation: a killed run keeps its curve
                write_json(args.out, record)
        model = copy.deepcopy(tr.unwrap("teacher")).cpu().eval()
        record["final"] = final_checks(model, cfg, specs, truth, perception, args.sample_steps, draws)
        print(json.dumps(record["final"]), flush=True)
    if args.out:
        write_json(args.out, record)
        names = [s.text for s in specs]
        show_clips(torch.cat([truth, videos[:len(specs)]]), [f"truth: {p}" for p in names] +
                   [f"teacher, step {tr.step}: {p}" for p in names], Path(args.out).with_suffix(".png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
