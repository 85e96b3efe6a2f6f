"""Issue 3 diagnostic: does the shipped teacher move the object, and which way?

The perception model reads the teacher's motion direction at chance (README). Three pictures fit that: objects
that jump or jitter (no trajectory to read), straight trajectories in a wrong direction, or the right line with the
arrow of time a coin flip (what the random-start memorisation runs showed once trained long enough). This follows
the prompted object's centroid by its color, with no perception model (`centroids` of teacher_memorise.py), in
teacher samples of held-out single-object moving prompts and in ground-truth renders of the same prompts. Only the
prompts where the tracker reads the ground truth's direction right are kept: a scene's colors can hide an object.

    python archive/teacher_investigation/teacher_motion_track.py --preset tiny --prompts 96 --out archive/figures/teacher_motion_track_tiny.json

The teacher is the preset's (`load_teacher`: the shipped asset, or `$RF_NB_ASSETS` for `small`), sampled in batches
of 32 on the preset's device.
"""
from __future__ import annotations

import argparse
import sys
import time

import torch

from rf_nb.config import load_preset, parse_cli_overrides, write_json
from rf_nb.teacher import generate, load_teacher, render_specs
from rf_nb.world import COLORS, DIRECTIONS
from teacher_memorise import centroids
from teacher_text_sensitivity import single_moving_prompts

COMPASS = [d for d in DIRECTIONS if d != "still"]                      # the 8 prompted directions
UNIT = torch.tensor([DIRECTIONS[d] for d in COMPASS])                   # [8, 2] (dx, dy), y down
OPPOSITE = (-UNIT @ UNIT.T).argmax(-1)                                  # [8]: index of the reverse direction


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default="tiny")
    ap.add_argument("--prompts", type=int, default=96, help="held-out single-object moving prompts")
    ap.add_argument("--split", default="heldout")
    ap.add_argument("--seed", type=int, default=0,
                    help="prompt sampling seed (samples: seed 1 + i for the batch of 32 from prompt i)")
    ap.add_argument("--steps", type=int, default=None, help="Euler steps (default: the preset's teacher_steps)")
    ap.add_argument("--out", required=True, help="JSON with every figure (written atomically)")
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    return ap.parse_args(argv)


def nearest_direction(dx: torch.Tensor, dy: torch.Tensor) -> torch.Tensor:
    "Index into COMPASS of the direction closest to each displacement `[B]` (by angle)."
    d = torch.stack([dx, dy], -1)                                       # [B, 2]
    return (d / d.norm(dim=-1, keepdim=True).clamp_min(1e-6) @ UNIT.T).argmax(-1)


def motion_figures(videos: torch.Tensor, specs, keep: torch.Tensor | None = None) -> tuple[dict, torch.Tensor]:
    """Trajectory figures of clips `[B, 3, F, H, W]` of `specs`, over the clips where `keep` `[B]` holds: the share
    in which the object is seen in every frame (`tracked`), and over those the mean net displacement, path length
    and straightness (net / path) in pixels, and the share whose net displacement points to the prompted direction
    (`direction_acc`, nearest of 8, chance 1/8) or to it or its opposite (`line_acc`, chance 1/4). Also returns
    `[B]`: the clip is tracked and its direction is the prompted one."""
    colors = torch.tensor([COLORS[s.objects[0].color] for s in specs], dtype=torch.float32)
    want = torch.tensor([COMPASS.index(s.objects[0].direction) for s in specs])
    cx, cy, ok = centroids(videos, colors)                              # [B, F], [B, F], [B]
    dx, dy = cx[:, -1] - cx[:, 0], cy[:, -1] - cy[:, 0]
    net, path = torch.hypot(dx, dy), torch.hypot(cx.diff(dim=-1), cy.diff(dim=-1)).sum(-1)
    got = nearest_direction(dx, dy)
    right, line = got == want, (got == want) | (got == OPPOSITE[want])
    keep = torch.ones(len(specs), dtype=torch.bool) if keep is None else keep
    t = ok & keep
    mean = lambda z: round(float(z[t].float().mean()), 4) if t.any() else None
    return {"clips": int(keep.sum()), "tracked": round(float(t.sum()) / max(int(keep.sum()), 1), 4),
            "net_px": mean(net), "path_px": mean(path), "straightness": mean(net / path.clamp_min(1e-6)),
            "direction_acc": mean(right), "line_acc": mean(line)}, ok & right


@torch.no_grad()
def main(argv=None) -> int:
    args = parse_args(argv)
    cfg = load_preset(args.preset, parse_cli_overrides(args.overrides))
    t0 = time.time()
    specs = single_moving_prompts(args.prompts, args.split, args.seed, cfg)
    truth = render_specs(specs, cfg, seed=args.seed)                    # [N, 3, F, H, W]
    gt, readable = motion_figures(truth, specs)
    print(f"{int(readable.sum())} of {len(specs)} prompts: the tracker reads the ground truth's direction", flush=True)
    teacher = load_teacher(cfg).eval()                                 # the preset's device (CUDA when present)
    command = "python archive/teacher_investigation/teacher_motion_track.py " + " ".join(sys.argv[1:] if argv is None else argv)
    out = {"preset": args.preset, "command": command,
           "prompts": len(specs), "readable_prompts": int(readable.sum()), "chance": {"direction_acc": 1 / 8,
           "line_acc": 1 / 4}, "ground_truth": motion_figures(truth, specs, readable)[0]}
    steps = args.steps or cfg.flow.teacher_steps
    for guidance in (cfg.flow.guidance_scale, 1.0):
        videos = torch.cat([generate(teacher, [s.text for s in specs[i:i + 32]], cfg, seed=1 + i, steps=steps,
                                     guidance=guidance).float().cpu() for i in range(0, len(specs), 32)])
        out[f"teacher_guidance_{guidance:g}"] = motion_figures(videos, specs, readable)[0]
        print(f"guidance {guidance:g}:", out[f"teacher_guidance_{guidance:g}"], flush=True)
    out |= {"ground_truth_all_prompts": gt, "steps": steps, "seconds": round(time.time() - t0, 1)}
    write_json(args.out, out)
    print("ground truth:", out["ground_truth"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
